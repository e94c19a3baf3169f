"""The Streamlit UI (app.py) through Streamlit's AppTest, against an index of samples/ built
with the real bundled model once per session; upload handling also directly with the fake embedder."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import app
from qa.assistant import Assistant
from qa.index import ArticleIndex
from qa.schema import Citation, Reply
from qa.uploads import add_uploads
from conftest import ROOT, SAMPLES

APP = str(ROOT / "app.py")
COST_Q = "How much did it cost to restore the Kestrel crossing in Port Avalon?"
BRIDGE = "Harbour Bridge Reopens After 14-Month Restoration"
UNRELATED_Q = "How do I reset my home Wi-Fi router?"
FERRY = (
    "Ferry <script>alert(1)</script> service returns\n"
    "By Sam Roe - Tidewater Times - April 2, 2026\n\n"
    "The Gullhaven ferry service returned on Friday after a three-month pause, carrying 412 passengers "
    "on its first day. <script>alert(1)</script> <img src=x onerror=alert(2)> **not bold** [link](javascript:alert(3))\n\n"
    "Harbour master Olga Brandt said the new vessel cost $9.1 million.\n"
)
FERRY_Q = "How many passengers did the Gullhaven ferry carry on its first day?"


# --- fixtures -------------------------------------------------------------------------------
@pytest.fixture
def own_index(sample_index, tmp_path) -> Path:
    return Path(shutil.copytree(sample_index, tmp_path / "index"))


def start(monkeypatch, index: Path) -> AppTest:
    monkeypatch.setenv("QA_INDEX", str(index))
    return AppTest.from_file(APP, default_timeout=120).run()


def ask(at: AppTest, question: str) -> AppTest:
    at.chat_input[0].set_value(question)
    return at.run()


def html(at: AppTest) -> str:
    """Everything the app rendered with st.html, its style sheet left out."""
    return "\n".join(e.value for e in at.get("html") if not e.value.startswith("<style>"))


def button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


# --- the chat ---------------------------------------------------------------------------------
def test_answer_is_quoted_with_its_citation_highlighted(monkeypatch, sample_index):
    at = ask(start(monkeypatch, sample_index), COST_Q)
    assert not at.exception
    page = html(at)
    assert '“</span>$38.6 million<span class="qa-quote">”' in page  # the answer, as a quote
    assert '<mark class="qa-hit">$38.6 million</mark>' in page  # highlighted inside its passage
    assert BRIDGE in page and "Riverside Courier" in page and "3 Mar 2026" in page
    assert "[1]" in page and "The project cost $38.6 million" in page  # marker and the whole sentence
    assert len(at.chat_message) == 2


def test_full_article_opens_with_the_passage_in_place(monkeypatch, sample_index):
    at = ask(start(monkeypatch, sample_index), COST_Q)
    button(at, "Read the full article").click()
    at.run()
    page = html(at)
    assert '<span class="qa-in-article" id="qa-cited">The Kestrel Harbour Bridge in Port Avalon reopened' in page
    assert '<mark class="qa-hit">$38.6 million</mark>' in page.split('class="qa-article"')[1]
    assert "Halvorsen &amp; Pike" in page  # the rest of the article is there too


def test_unrelated_question_is_not_dressed_up_as_an_answer(monkeypatch, sample_index):
    at = ask(start(monkeypatch, sample_index), UNRELATED_Q)
    page = html(at)
    assert app.NOT_FOUND.replace("'", "&#x27;") in page
    assert "Closest passages" in page
    assert "qa-answer" not in page and "<mark" not in page


def test_follow_up_goes_with_the_history_and_clear_chat_starts_over(monkeypatch, sample_index):
    at = ask(start(monkeypatch, sample_index), "Which venture firm led the Series B investment in Marlow Robotics?")
    at = ask(at, "Where is it opening a second office?")
    assert len(at.session_state.history) == 2
    assert at.session_state.history[1]["reply"].query != "Where is it opening a second office?"
    page = html(at)
    assert "read with the earlier question “Which venture firm led the Series B investment in Marlow Robotics?”" in page
    assert 'title="searched as “' in page  # the search string itself, on hover
    button(at, "Clear chat").click()
    at.run()
    assert at.session_state.history == [] and not at.chat_message


def test_a_question_read_alone_in_a_conversation_says_so(monkeypatch, sample_index):
    at = ask(ask(start(monkeypatch, sample_index), COST_Q), "how much was raised by marlow robotics?")
    assert at.session_state.history[1]["reply"].query == "how much was raised by marlow robotics?"  # a new subject
    assert "read as a new question, without the earlier ones" in html(at)


def test_example_question_button_asks_it(monkeypatch, sample_index):
    at = start(monkeypatch, sample_index)
    at.button(key="example-main-1").click()
    at.run()
    assert at.session_state.history[0]["question"] == "Who is the head of Stonebridge Academy?"
    assert '<mark class="qa-hit">Rebecca Thornton</mark>' in html(at)


def test_the_example_questions_are_answered_right(sample_index, real_embedder):
    assistant = Assistant(sample_index, embedder=real_embedder)
    expected = ["$38.6 million", "Rebecca Thornton", "Cobalt Ridge Ventures", "Seville"]
    for (question, article_id), answer in zip(app.EXAMPLES, expected, strict=True):
        reply = assistant.ask(question)
        assert reply.found and answer in reply.answer, (question, reply.answer)
        assert reply.citations[0].article_id == article_id


def test_settings_reach_the_engine(monkeypatch, sample_index):
    at = start(monkeypatch, sample_index)
    at.slider(key="top_k").set_value(2)
    at.radio(key="retrieval").set_value("bm25")
    at = ask(at, COST_Q)
    reply = at.session_state.history[0]["reply"]
    assert len(reply.citations) == 2
    assert "bm25 retrieval · up to 2 passages" in html(at)


def test_sidebar_shows_what_is_loaded(monkeypatch, sample_index):
    at = start(monkeypatch, sample_index)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics == {"Articles": "15", "Passages": metrics["Passages"]} and int(metrics["Passages"]) > 15
    assert any(c.value.startswith("Model: all") and "MiniLM" in c.value for c in at.caption)


def test_first_start_without_an_index_says_how_to_add_articles(monkeypatch, tmp_path):
    at = start(monkeypatch, tmp_path / "empty")
    assert "python -m qa ingest" in at.info[0].value
    assert at.chat_input[0].proto.disabled


def test_an_index_whose_articles_were_all_removed_is_no_library_to_ask(monkeypatch, own_index):
    from qa.ingest import remove_articles
    from qa.index import ArticleIndex

    remove_articles(ArticleIndex(own_index), [row[0] for row in Assistant(own_index).articles()])
    at = start(monkeypatch, own_index)
    assert "No articles are loaded yet" in at.info[0].value and at.chat_input[0].proto.disabled


# --- adding and removing articles ---------------------------------------------------------------
def test_upload_good_and_bad_files_through_the_sidebar(monkeypatch, own_index):
    at = start(monkeypatch, own_index)
    at.file_uploader[0].set_value([
        ("../../etc/ferry news.txt", FERRY.encode(), "text/plain"),
        ("broken.json", b'{"title": "x", "text": ', "application/json"),
        ("empty.txt", b"", "text/plain"),
    ])
    at.run()
    button(at, "Add to library").click()
    at.run()
    assert not at.exception
    table = next(e.value for e in at.get("html") if e.value.startswith('<table class="qa-uploads">'))
    rows = re.findall(r'<td class="qa-file">(.*?)</td><td><span class="qa-status qa-\w+">(\w+)</span><div class="qa-detail">(.*?)</div>', table)
    assert [(name, status) for name, status, _ in rows] == [  # in upload order, as uploaded names
        ("../../etc/ferry news.txt", "added"), ("broken.json", "rejected"), ("empty.txt", "rejected")]
    assert rows[0][2] == "as ferry-news" and rows[1][2] and rows[2][2]  # each rejection says why
    assert any("2 rejected" in w.value for w in at.warning)
    assert sorted(p.name for p in (own_index / "uploads").iterdir()) == ["ferry-news.txt"]
    assert {m.label: m.value for m in at.metric}["Articles"] == "16"

    at = ask(at, FERRY_Q)
    page = html(at)
    assert '<mark class="qa-hit">412</mark>' in page
    # the article's markup shows as text: escaped, never live
    assert "Ferry &lt;script&gt;alert(1)&lt;/script&gt; service returns" in page
    assert "&lt;img src=x onerror=alert(2)&gt; **not bold** [link](javascript:alert(3))" in page
    assert "<script" not in page and "<img" not in page and 'href="javascript' not in page


def test_remove_an_article(monkeypatch, own_index):
    at = start(monkeypatch, own_index)
    at.selectbox(key="remove_choice").set_value("harbour-bridge-reopens")
    at.run()
    button(at, "Remove").click()
    at.run()
    assert {m.label: m.value for m in at.metric}["Articles"] == "14"
    assert any("Removed" in s.value for s in at.success)
    at = ask(at, COST_Q)
    assert BRIDGE not in html(at)


# --- upload handling, directly (fake embedder: fast) ---------------------------------------------
def test_a_partly_read_file_says_what_it_added_and_which_lines_it_left(fake_assistant):
    feed = b'{"id": "a", "title": "A", "text": "The first story."}\n{"id": "b", "title": "B", "text": "The second story."}\n{"id": \n{"id": "d", "title": "D", "text": ""}\n'
    [result] = add_uploads(fake_assistant, [("feed.jsonl", feed)])
    assert (result.status, result.articles) == ("partial", "a, b")
    assert result.problems.startswith("line 3: ") and "; line 4: " in result.problems
    assert '<div class="qa-detail">as a, b; line 3: ' in app.upload_table([result])
    feed = "".join(f'{{"id": "n{i}", "title": "T{i}", "text": "Story {i}."}}\n' for i in range(300)).encode()
    [result] = add_uploads(fake_assistant, [("big.jsonl", feed)])
    assert '<div class="qa-detail">as n0, n1, n2, n3, n4 and 295 more</div>' in app.upload_table([result])


def test_a_rerun_asked_for_during_an_upload_waits_for_it_to_finish(fake_assistant):
    class Rerun(BaseException):  # as Streamlit stops a run: raised from its next call
        pass

    calls = []

    def update(done, total):
        calls.append(done)
        if done == 1:
            raise Rerun()

    progress, interrupted = app.shielded(update)
    files = [(f"s{i}.txt", f"Story {i}\n\nThe story number {i} is about ferries.".encode()) for i in range(3)]
    results = add_uploads(fake_assistant, files, progress)
    assert [r.status for r in results] == ["added"] * 3 and len(interrupted) == 1 and calls == [1]
    assert sorted(p.name for p in (fake_assistant.index_dir / "uploads").iterdir()) == ["s0.txt", "s1.txt", "s2.txt"]
    assert len(fake_assistant.articles()) == 3


def test_highlight_cuts_at_the_exact_offsets_and_escapes_every_piece():
    text = "<b>cost</b> was $5 & <i>$5</i>"
    start = text.index("$5 &")  # the first "$5": a later identical phrase must stay unmarked
    marked = app.highlight(text, start, start + 2)
    assert marked == '&lt;b&gt;cost&lt;/b&gt; was <mark class="qa-hit">$5</mark> &amp; &lt;i&gt;$5&lt;/i&gt;'
    assert app.highlight(text, None, None) == app.esc(text)
    assert app.highlight(text, 5, 999) == app.esc(text)  # offsets that do not fit: nothing marked


def test_full_article_of_a_changed_story_shows_its_headline_now(monkeypatch, own_index, tmp_path):
    at = ask(start(monkeypatch, own_index), COST_Q)
    changed = tmp_path / "harbour-bridge-reopens.txt"
    changed.write_text((SAMPLES / "harbour-bridge-reopens.txt").read_text().replace("Harbour Bridge Reopens", "Kestrel Bridge Open Again"))
    Assistant(own_index).ingest([changed])  # the same id, another version
    button(at, "Read the full article").click()
    at.run()
    dialog = html(at).split('class="qa-card-title"')[-1]
    assert "Kestrel Bridge Open Again" in dialog and BRIDGE not in dialog  # the headline of the text shown


def test_full_article_of_a_removed_story_shows_its_copy(monkeypatch, own_index, tmp_path):
    copy = tmp_path / "bridge-copy.txt"
    copy.write_text((SAMPLES / "harbour-bridge-reopens.txt").read_text())
    Assistant(own_index).ingest([copy])
    at = ask(start(monkeypatch, own_index), COST_Q)
    Assistant(own_index).remove(["harbour-bridge-reopens"])
    button(at, "Read the full article").click()
    at.run()
    assert any("this is its copy, bridge-copy" in c.value for c in at.caption)
    assert '<mark class="qa-hit">$38.6 million</mark>' in html(at).split('class="qa-article"')[1]


def test_full_article_marks_the_passage_at_its_offsets_not_where_its_words_first_appear():
    text = "Intro <b>.\n\nSame words.\n\nSame words."
    start = len(text) - len("Same words.")  # the second copy is the cited one
    citation = Citation(n=1, article_id="a", title="t", source=None, url=None, published=None, passage="Same words.",
                        answer_start=0, answer_end=4, score=1.0, passage_start=start, passage_end=len(text))
    assert app.article_html(text, citation) == (
        'Intro &lt;b&gt;.\n\nSame words.\n\n<span class="qa-in-article" id="qa-cited"><mark class="qa-hit">Same</mark> words.</span>')
    assert app.article_html("An article that has changed since.", citation) == "An article that has changed since."


@pytest.mark.parametrize("published, shown", [("2026-03-03", "3 Mar 2026"), ("2005-03", "Mar 2005"), ("2005", "2005"),
                                               ("2004-2005", "2004-2005"), (None, None)])
def test_publication_dates_are_shown_as_far_as_they_are_known(published, shown):
    assert app.nice_date(published) == shown


def test_only_web_links_are_linked():
    def head(url):
        return app.citation_head(Citation(n=2, article_id="a", title="<i>T</i>", source="S & Co", url=url, published="2026-03-03",
                                          passage="p", answer_start=None, answer_end=None, score=1.0, passage_start=0, passage_end=1))
    assert '<a href="https://example.org/a?b=1&amp;c=&quot;2&quot;"' in head('https://example.org/a?b=1&c="2"')
    assert "<a" not in head("javascript:alert(1)") and "alert" not in head("javascript:alert(1)")
    assert "&lt;i&gt;T&lt;/i&gt;" in head(None) and "S &amp; Co · 3 Mar 2026" in head(None)


def test_date_filter_limits_the_articles_searched(monkeypatch, sample_index):
    from datetime import date

    at = start(monkeypatch, sample_index)
    at.date_input(key="dates").set_value((date(2020, 1, 1), date(2020, 12, 31))).run()
    at = ask(at, COST_Q)
    assert not at.exception
    page = html(at)
    assert "I couldn&#x27;t find this" in page or "I couldn't find this" in page
    assert "$38.6 million</mark>" not in page and "published 2020-01-01 to 2020-12-31" in page
    assert any("widen or clear it" in c.value for c in at.caption)  # says why nothing came back


def test_the_date_range_reaches_old_archives(monkeypatch, sample_index):
    from datetime import date

    dates = start(monkeypatch, sample_index).date_input(key="dates")
    assert dates.min <= date(1990, 1, 1) and dates.max >= date(2030, 12, 31)  # Streamlit's own: the last ten years only


def test_a_start_date_alone_searches_from_then_on(monkeypatch, sample_index):
    from datetime import date

    at = start(monkeypatch, sample_index)
    at.date_input(key="dates").set_value((date(2026, 3, 1),)).run()  # the bridge story is of 3 March 2026
    at = ask(at, COST_Q)
    assert not at.exception
    page = html(at)
    assert "$38.6 million</mark>" in page and "published 2026-03-01 to …" in page


def test_spaces_alone_ask_nothing_and_a_long_question_is_refused_with_the_limit(monkeypatch, sample_index):
    at = ask(start(monkeypatch, sample_index), "   ")
    assert not at.exception and not at.error and not at.session_state.history and "qa-question" not in html(at)
    at = ask(at, "Why? " * 300)  # 1,500 characters: said, not silently dropped
    assert [e.value for e in at.error] == ["question is 1,499 characters; the limit is 1,000"]
    at = ask(at, COST_Q)  # the refused question stays in the chat with its reason, and is no conversation to follow
    assert [e.value for e in at.error] == ["question is 1,499 characters; the limit is 1,000"]
    assert at.session_state.history[0]["question"].startswith("Why? Why?") and at.session_state.history[1]["reply"].query == COST_Q


def test_a_fault_answering_one_question_is_said_once_and_the_chat_goes_on(monkeypatch, sample_index):
    from qa.assistant import Assistant

    real = Assistant.ask

    def faulty(self, question, **options):
        if question == "Which question breaks it?":
            raise KeyError("a bug")
        return real(self, question, **options)

    monkeypatch.setattr(Assistant, "ask", faulty)
    at = ask(start(monkeypatch, sample_index), "Which question breaks it?")
    assert not at.exception and len(at.error) == 1 and "Something went wrong answering this question" in at.error[0].value
    assert "KeyError" in at.error[0].value
    at = ask(at, COST_Q)  # not asked again on this run: the chat goes on
    assert not at.exception and len(at.error) == 1 and "$38.6 million</mark>" in html(at)
    assert [t.get("error", "") for t in at.session_state.history][0].startswith("Something went wrong")


def test_one_passage_is_one(monkeypatch, sample_index):
    at = start(monkeypatch, sample_index)
    at.slider(key="top_k").set_value(1)
    assert "· 1 passage" in html(ask(at, COST_Q)) and "1 passages" not in html(at)


def test_example_questions_are_shown_once_before_and_in_the_sidebar_after(monkeypatch, sample_index):
    at = start(monkeypatch, sample_index)
    keys = lambda: {b.key for b in at.button if b.key and b.key.startswith("example-")}  # noqa: E731
    assert keys() == {f"example-main-{n}" for n in range(len(app.EXAMPLES))}
    at = ask(at, COST_Q)
    assert keys() == {f"example-side-{n}" for n in range(len(app.EXAMPLES))}
    at.button(key="example-side-1").click()
    at.run()
    assert at.session_state.history[-1]["question"] == app.EXAMPLES[1][0]


def test_citation_numbers_in_the_answer_name_their_articles_on_hover():
    def cite(n, title):
        return Citation(n=n, article_id=f"a{n}", title=title, source=None, url=None, published=None, passage="p",
                        answer_start=None, answer_end=None, score=1.0, passage_start=0, passage_end=1)
    reply = Reply("q", True, "$5", 0.9, (cite(1, "Bridge"), cite(2, 'The "Quay" <b>')), {}, sentence="It cost $5.")
    page = app.answer_html(reply)
    assert '<span class="qa-ref" title="Bridge">[1]</span>' in page
    assert 'See also <span class="qa-ref" title="The &quot;Quay&quot; &lt;b&gt;">[2]</span> under Related passages' in page


def test_a_question_sent_while_another_is_answered_waits_its_turn(monkeypatch, sample_index):
    at = start(monkeypatch, sample_index)
    # The run answering the first was stopped by the second's arrival: both wait in the session.
    at.session_state.waiting = ["When did the Kestrel Harbour Bridge reopen?"]
    at = ask(at, "Which contractor did the work?")
    history = at.session_state.history
    assert [t["question"] for t in history] == ["When did the Kestrel Harbour Bridge reopen?", "Which contractor did the work?"]
    assert history[1]["reply"].query.startswith("When did the Kestrel Harbour Bridge reopen?")  # a follow-up of the first
    assert at.session_state.waiting == []
