"""Streamlit chat UI: a thin shell over qa.assistant.Assistant (run: `make run`).

Every piece of article text, title, file name and question is HTML-escaped before it is
placed in markup; highlights are cut at the engine's exact character offsets.
"""

from __future__ import annotations

import html
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import date

import streamlit as st

from qa.assistant import Assistant
from qa.config import RETRIEVAL_MODES, Config, default_index_dir
from qa.embed import ModelLoadError
from qa.index import ArticleIndex, IndexBusyError, IndexOpenError
from qa.schema import Citation, Reply
from qa.store import StoreError
from qa.uploads import MAX_UPLOAD_FILES, MAX_UPLOAD_MB, UPLOAD_TYPES, UploadResult, add_uploads

log = logging.getLogger(__name__)
USER_ERRORS = (ValueError, IndexOpenError, IndexBusyError, ModelLoadError, StoreError, OSError)
NOT_FOUND = "I couldn't find this in the loaded articles."
WARM_UP_QUESTION = "Who said what, and when?"  # a who/when question also loads the entity tagger
USER_AVATAR, ASSISTANT_AVATAR = ":material/person:", ":material/auto_stories:"

# Questions whose answers are right on the sample articles (samples/), with the article each needs.
EXAMPLES = (
    ("How much did it cost to restore the Kestrel crossing in Port Avalon?", "harbour-bridge-reopens"),
    ("Who is the head of Stonebridge Academy?", "stonebridge-school-results"),
    ("Which venture firm led the Series B investment in Marlow Robotics?", "marlow-robotics-funding"),
    ("In which city was the painter José Núñez born?", "web/museum-reopens-retrospective"),
)

CSS = """<style>
[data-testid="stMainBlockContainer"] { padding-top: 2.5rem; }
.qa-subtitle { opacity: .7; margin: -.6rem 0 .6rem 0; }
.qa-question, .qa-answer, .qa-context, .qa-passage, .qa-article { overflow-wrap: anywhere; }  /* a long address wraps on a phone */
.qa-question { font-size: 1.02rem; white-space: pre-wrap; }
[class*="st-key-example-"] button p { white-space: normal; text-align: left; }  /* an example question is read whole, not cut with "…" */
.qa-answer { font-size: 1.45rem; font-weight: 650; line-height: 1.35; padding: .55rem 1rem;
  border-left: 4px solid #2563eb; background: rgba(37, 99, 235, .07); border-radius: 0 .6rem .6rem 0; }
.qa-answer .qa-quote { color: #2563eb; }
.qa-context { margin: .55rem 0 0 0; padding-left: 1.25rem; font-style: italic; opacity: .8; line-height: 1.5; }
.qa-ref { display: inline-block; font-size: .72rem; font-weight: 700; font-style: normal; color: #1d4ed8;
  background: rgba(37, 99, 235, .13); border-radius: .35rem; padding: .05rem .38rem; margin-left: .3rem;
  vertical-align: .35em; line-height: 1.2; }
.qa-also { font-size: .85rem; opacity: .75; margin-top: .45rem; }
.qa-also .qa-ref { vertical-align: baseline; }
.qa-notfound { font-size: 1.08rem; font-weight: 600; padding: .5rem 1rem; border-left: 4px solid #9ca3af;
  background: rgba(156, 163, 175, .12); border-radius: 0 .6rem .6rem 0; }
.qa-heading { font-size: .78rem; font-weight: 700; letter-spacing: .06em; text-transform: uppercase;
  opacity: .6; margin: .2rem 0 -.2rem 0; }
.qa-card-title { font-weight: 650; font-size: 1.0rem; line-height: 1.35; }
.qa-card-title .qa-ref { vertical-align: .1em; margin: 0 .45rem 0 0; }
.qa-meta { font-size: .82rem; opacity: .65; margin: .15rem 0 .45rem 0; }
.qa-meta a { color: inherit; }
.qa-passage { white-space: pre-wrap; line-height: 1.55; font-size: .93rem; }
.qa-muted .qa-passage { opacity: .85; }
mark.qa-hit { background: #fde68a; color: #1f2937; padding: .05rem .2rem; border-radius: .25rem; font-weight: 600; }
.qa-in-article { background: rgba(37, 99, 235, .10); border-radius: .2rem; }
.qa-jump { display: inline-block; margin: .2rem 0 .6rem; font-size: .85rem; }
#qa-cited { scroll-margin-top: 2rem; }
.qa-article { white-space: pre-wrap; line-height: 1.6; font-size: .95rem; }
.qa-uploads { width: 100%; border-collapse: collapse; font-size: .8rem; }
.qa-uploads th { text-align: left; font-weight: 600; opacity: .6; padding: .2rem .3rem; border-bottom: 1px solid rgba(128, 128, 128, .3); }
.qa-uploads td { vertical-align: top; padding: .3rem; border-bottom: 1px solid rgba(128, 128, 128, .15); word-break: break-word; }
.qa-uploads .qa-file { width: 42%; }
.qa-status { font-weight: 650; }
.qa-added, .qa-updated { color: #15803d; }
.qa-rejected { color: #b91c1c; }
.qa-partial { color: #b45309; }
.qa-detail { opacity: .75; }
.qa-timing { font-size: .75rem; color: #5f6672; margin-top: .3rem; }  /* readable: 5.8:1 on white */
</style>"""


# --- engine, once per process ---------------------------------------------------------------
@st.cache_resource(show_spinner=False)
def get_assistant(index_dir: str) -> Assistant:
    """One Assistant per index folder for the whole process: its index and models load once."""
    return Assistant(index_dir)


@st.cache_resource(show_spinner=False)
def warm_up(index_dir: str) -> threading.Thread:
    """Open the index and load the models in the background, once, while the page is read;
    a question joins this thread first, so that nothing else runs alongside it."""
    thread = threading.Thread(target=_warm_up, args=(get_assistant(index_dir),), daemon=True, name="qa-warm-up")
    thread.start()
    return thread


def _warm_up(assistant: Assistant) -> None:
    try:
        if ArticleIndex(assistant.index_dir).exists:
            assistant.ask(WARM_UP_QUESTION)
        else:
            assistant.embedder.encode(["warm up"])
    except Exception:  # noqa: BLE001 - the same error shows, with its message, on first real use
        pass


# --- uploads ------------------------------------------------------------------------------
def shielded(update: Callable[[int, int], None]) -> tuple[Callable[[int, int], None], list[BaseException]]:
    """A progress callback that lets the work it reports on finish: Streamlit stops a run with an
    exception raised from its next call (a question sent meanwhile, a click: by default it starts
    a new run at once), which would cut an ingest short. The exception is kept, for the caller to
    raise when the work is done."""
    interrupted: list[BaseException] = []

    def progress(done: int, total: int) -> None:
        if interrupted:
            return
        try:
            update(done, total)
        except Exception:
            raise
        except BaseException as stop:  # Streamlit's rerun or stop, not an error
            interrupted.append(stop)

    return progress, interrupted


# --- HTML pieces (every text piece escaped) -------------------------------------------------
def esc(text: str) -> str:
    return html.escape(text, quote=True)


def escape_markdown(text: str) -> str:
    """For the few places that take Markdown (labels, alerts): show the text literally."""
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|<>~$:])", r"\\\1", text)


def highlight(text: str, start: int | None, end: int | None) -> str:
    """text with text[start:end] marked, cut at exactly those offsets; every piece escaped."""
    if start is None or end is None or not 0 <= start < end <= len(text):
        return esc(text)
    return f'{esc(text[:start])}<mark class="qa-hit">{esc(text[start:end])}</mark>{esc(text[end:])}'


def article_html(text: str, citation: Citation) -> str:
    """The full article with the cited passage shaded and the answer marked inside it (left
    plain when the article has changed since the reply, so that the offsets no longer fit)."""
    p_start, p_end = citation.passage_start, citation.passage_end
    if text[p_start:p_end] != citation.passage:
        return esc(text)
    inner = highlight(citation.passage, citation.answer_start, citation.answer_end)
    return f'{esc(text[:p_start])}<span class="qa-in-article" id="qa-cited">{inner}</span>{esc(text[p_end:])}'


def ref(n: int, title: str | None = None) -> str:
    """A citation number; with a title, hovering over it names the article."""
    tip = f' title="{esc(title)}"' if title else ""
    return f'<span class="qa-ref"{tip}>[{n}]</span>'


def safe_url(url: str | None) -> str | None:
    return url if url and re.match(r"^https?://", url, re.I) else None


def nice_date(published: str | None) -> str | None:
    if not published:
        return None
    try:
        day = date.fromisoformat(published[:10])
    except ValueError:
        month = re.fullmatch(r"(\d{4})-(\d{2})", published)  # a month without a day: "Mar 2005"
        return f"{date(int(month[1]), int(month[2]), 1):%b %Y}" if month and 1 <= int(month[2]) <= 12 else published
    return f"{day.day} {day:%b %Y}"


def citation_head(citation: Citation) -> str:
    """[n] title, then source · date · link to the original."""
    meta = " · ".join(esc(x) for x in (citation.source, nice_date(citation.published)) if x)
    url = safe_url(citation.url)
    if url:
        link = f'<a href="{esc(url)}" target="_blank" rel="noopener noreferrer">open original ↗</a>'
        meta = f"{meta} · {link}" if meta else link
    also = f" · also published as {esc(', '.join(citation.also_in))}" if citation.also_in else ""
    return f'<div class="qa-card-title">{ref(citation.n)}{esc(citation.title)}</div><div class="qa-meta">{meta or "&nbsp;"}{also}</div>'


def citation_html(citation: Citation) -> str:
    passage = highlight(citation.passage, citation.answer_start, citation.answer_end)
    return f'{citation_head(citation)}<div class="qa-passage">{passage}</div>'


def answer_html(reply: Reply) -> str:
    source = reply.citations[0].title if reply.citations else None
    body = f'<div class="qa-answer"><span class="qa-quote">“</span>{esc(reply.answer)}<span class="qa-quote">”</span>{ref(1, source)}</div>'
    if reply.sentence and reply.sentence.strip() != (reply.answer or "").strip():
        body += f'<div class="qa-context">{esc(reply.sentence)}</div>'
    others = reply.citations[1:]
    if others:  # they fold away under "Related passages"
        body += f'<div class="qa-also">See also {"".join(ref(c.n, c.title) for c in others)} under Related passages</div>'
    return body


def upload_table(results: list[UploadResult]) -> str:
    """One row a file: its name as uploaded, what happened, and why (every cell escaped)."""
    rows = []
    for r in results:
        detail = "; ".join(x for x in (f"as {_few(r.articles)}" if r.articles else "", r.problems) if x)  # a partial file: what it added, and why not all
        rows.append(
            f'<tr><td class="qa-file">{esc(r.file)}</td><td><span class="qa-status qa-{esc(r.status)}">{esc(r.status)}</span>'
            f'<div class="qa-detail">{esc(detail)}</div></td></tr>'
        )
    return f'<table class="qa-uploads"><tr><th>File</th><th>Result</th></tr>{"".join(rows)}</table>'


def _few(ids: str, shown: int = 5) -> str:
    """A feed's ids, the first few: "a, b, c, d, e and 295 more"."""
    listed = ids.split(", ")
    return ids if len(listed) <= shown + 1 else f"{', '.join(listed[:shown])} and {len(listed) - shown:,} more"


# --- rendering ------------------------------------------------------------------------------
def render_reply(assistant: Assistant, reply: Reply, key: str, settings: str = "", previous: str | None = None, dated: bool = False) -> None:
    """The answer (or a plain not-found), then its source; the other passages fold away.
    `dated`: a publication range limited the search, which a not-found says."""
    if reply.found:
        st.html(answer_html(reply))
        heading, shown, rest = "Source", reply.citations[:1], reply.citations[1:]
    else:
        st.html(f'<div class="qa-notfound">{esc(NOT_FOUND)}</div>')
        if dated:
            st.caption("Only articles published in the range set under **Published between** were searched: widen or clear it."
                       if reply.citations else "No article was published in the range set under **Published between**: widen or clear it.")
        heading, shown, rest = "Closest passages", reply.citations[:3], reply.citations[3:]
    if shown:
        st.html(f'<div class="qa-heading">{heading}</div>')
    for citation in shown:
        citation_card(assistant, citation, key)
    if rest:
        label = "Related passages" if reply.found else "More passages"
        with st.expander(f"{label} {rest[0].n}–{rest[-1].n}" if len(rest) > 1 else f"{label} {rest[0].n}"):
            for citation in rest:
                citation_card(assistant, citation, key)
    total = reply.timings_ms.get("total", 0.0) / 1000
    searched = ""
    if reply.query and reply.query != reply.question:  # the search string itself, whole chain, on hover
        searched = f' · <span title="searched as “{esc(reply.query)}”">read with the earlier question “{esc(previous or reply.query)}”</span>'
    elif previous:  # in a conversation, but read alone: it seemed to start a new subject
        searched = " · read as a new question, without the earlier ones"
    st.html(f'<div class="qa-timing">Answered in {total:.1f} s{esc(settings)}{searched}</div>')


def citation_card(assistant: Assistant, citation: Citation, key: str) -> None:
    with st.container(border=True):
        muted = "" if citation.answer_start is not None else " qa-muted"
        st.html(f'<div class="qa-card{muted}">{citation_html(citation)}</div>')
        if st.button("Read the full article", key=f"{key}-article-{citation.n}", icon=":material/article:", type="tertiary"):
            show_article(assistant, citation)


@st.dialog("Full article", width="large")
def show_article(assistant: Assistant, citation: Citation) -> None:
    store = assistant.index.store
    article = store.article(citation.article_id)
    if article is None:  # removed: a copy of it, if one is left, holds the same story
        article = next((a for a in map(store.article, citation.also_in) if a is not None), None)
        if article is None:
            st.caption("This article is no longer in the library.")
            return
        st.caption(f"The cited article is no longer in the library; this is its copy, {article.id}.")
    if article.text[citation.passage_start : citation.passage_end] != citation.passage:
        st.caption("This article has changed since this answer; the passage is no longer marked.")
    current = replace(citation, title=article.title, source=article.source, url=article.url, published=article.published)
    marked = article.text[citation.passage_start : citation.passage_end] == citation.passage
    jump = '<a class="qa-jump" href="#qa-cited">Go to the cited passage</a>' if marked and citation.passage_start else ""
    st.html(f'{citation_head(current)}{jump}<div class="qa-article">{article_html(article.text, citation)}</div>')


def render_question(question: str) -> None:
    st.html(f'<div class="qa-question">{esc(question)}</div>')


def ask(assistant: Assistant, question: str, options: dict) -> None:
    """options: top_k, retrieval, since, until (from the sidebar's answer settings)."""
    history = answered(st.session_state.history)
    with st.chat_message("user", avatar=USER_AVATAR):
        render_question(question)
    with st.chat_message("assistant", avatar=ASSISTANT_AVATAR):
        try:
            warming = warm_up(str(assistant.index_dir))
            with st.spinner("Loading the model (first question only)…" if warming.is_alive() else "Searching the articles…"):
                warming.join()
                reply = assistant.ask(question, history=history, **options)
        except Exception as error:  # the question stays in the chat with its reason, to copy and fix
            if not isinstance(error, USER_ERRORS):  # a fault of ours: logged, and not asked again on every rerun
                log.exception("answering %r failed", question)
                error = RuntimeError(f"Something went wrong answering this question ({type(error).__name__}); the details are in the log.")
            st.error(escape_markdown(str(error)))
            st.session_state.history.append({"question": question, "error": str(error)})
            return
        top_k = options["top_k"]
        settings = f" · {options['retrieval']} retrieval · " + (f"up to {top_k} passages" if top_k > 1 else "1 passage")
        if options["since"] or options["until"]:
            settings += f" · published {options['since'] or '…'} to {options['until'] or '…'}"
        dated = bool(options["since"] or options["until"])
        render_reply(assistant, reply, f"turn-{len(st.session_state.history)}", settings, history[-1][0] if history else None, dated)
    st.session_state.history.append({"question": question, "reply": reply, "settings": settings, "dated": dated})


def answered(turns: list[dict]) -> list[tuple[str, Reply]]:
    """The conversation as the assistant reads it: questions that got a reply (not the refused)."""
    return [(turn["question"], turn["reply"]) for turn in turns if "reply" in turn]


# --- sidebar --------------------------------------------------------------------------------
def queue_question(question: str) -> None:
    st.session_state.setdefault("waiting", []).append(question)


def take_question() -> None:
    """The chat box's question joins the queue in its callback, which runs before anything else
    of the page: a question sent while another is being answered stops that run, and the next
    run answers both, in order; read later in the run, a question sent before it got there would
    stop it first and be lost. Spaces alone ask nothing."""
    question = (st.session_state.get("chat_box") or "").strip()
    if question:
        queue_question(question)


def sidebar(assistant: Assistant, loaded: bool, chatting: bool) -> dict:
    with st.sidebar:
        if st.button("Clear chat", icon=":material/add_comment:", disabled=not chatting, width="stretch"):
            st.session_state.history, st.session_state.waiting = [], []
            st.rerun()
        st.header("Library")
        if loaded:
            stats = assistant.stats()
            left, right = st.columns(2)
            left.metric("Articles", f"{stats.get('articles', 0):,}")
            right.metric("Passages", f"{stats.get('chunks', 0):,}")
            copies = stats.get("duplicates", 0)
            st.caption(f"Model: {escape_markdown(str(stats.get('model', '?')))}" + (f" · {copies} duplicate {'copy' if copies == 1 else 'copies'}, counted once" if copies else ""))
        else:
            st.caption("No articles loaded yet.")
        if flash := st.session_state.pop("flash", None):
            st.success(flash)

        add_articles_panel(assistant)
        if loaded:
            remove_article_panel(assistant)

        st.subheader("Answer settings")
        defaults = Config()
        top_k = st.slider("Passages to cite", 1, 10, defaults.top_k, key="top_k")
        retrieval = st.radio(
            "Retrieval", RETRIEVAL_MODES, index=RETRIEVAL_MODES.index(defaults.retrieval), horizontal=True, key="retrieval",
            help="hybrid: meaning and keywords together (best); dense: meaning only; bm25: keywords only",
        )
        dates = st.date_input(
            "Published between", value=(), key="dates", format="YYYY-MM-DD", min_value=date(1900, 1, 1), max_value=date(2100, 12, 31),
            help="Only articles published in this range (one dated by year only, such as 2004-2005, when that meets it; "
                 "articles without a date are left out). A start date alone: from then on. Empty: all articles.",
        )
        since = dates[0].isoformat() if len(dates) > 0 else None
        until = dates[1].isoformat() if len(dates) > 1 else None  # a start date alone: from then on
        # Before the chat starts the page itself shows the examples; after, they wait here.
        examples = available_examples(assistant) if loaded and chatting else []
        if examples:
            st.subheader("Try asking")
            for number, question in enumerate(examples):
                st.button(question, key=f"example-side-{number}", on_click=queue_question, args=(question,), width="stretch")
    return {"top_k": top_k, "retrieval": retrieval, "since": since, "until": until}


def add_articles_panel(assistant: Assistant) -> None:
    st.subheader("Add articles")
    job = st.session_state.get("upload_job")
    if job and not job["running"]:  # an upload finished: its results, and a fresh, empty uploader
        del st.session_state["upload_job"]
        st.session_state.upload_results = job.get("results")
        st.session_state.upload_round += "results" in job
        if "error" in job:
            st.error(escape_markdown(job["error"]))
    key = f"uploads-{st.session_state.upload_round}"
    files = st.file_uploader(
        f"News articles as text, Markdown, HTML or JSON(L) files: up to {MAX_UPLOAD_MB} MB each, {MAX_UPLOAD_FILES} at a time",
        type=list(UPLOAD_TYPES), accept_multiple_files=True, key=key, max_upload_size=MAX_UPLOAD_MB, label_visibility="collapsed",
    )
    st.caption(f"Text, Markdown, HTML or JSON(L) news articles, up to {MAX_UPLOAD_FILES} files at a time.")
    if job and job["running"]:  # an earlier run of this page is still adding files
        upload_watch()
    elif st.button("Add to library", disabled=not files, type="primary", width="stretch"):
        add_files(assistant, files)
    results = st.session_state.get("upload_results")
    if results:
        added = sum(r.status in ("added", "updated") for r in results)
        partial = sum(r.status == "partial" for r in results)
        rejected = sum(r.status == "rejected" for r in results)
        summary = f"{added} of {len(results)} files added or updated" + (f", {partial} in part" if partial else "") + (f", {rejected} rejected" if rejected else "")
        (st.warning if rejected or partial else st.success)(summary)
        st.html(upload_table(results))


def add_files(assistant: Assistant, files) -> None:
    """Add the uploaded files; what came of it goes in a plain dict kept in the session first:
    a question sent meanwhile makes Streamlit start a new run and stop this one at its next
    Streamlit call (session state included), so this run tells the new one through the dict,
    and lets the ingest finish before it stops."""
    bar = st.progress(0.0, text="Reading files…")
    progress, interrupted = shielded(
        lambda done, total: bar.progress(0.9 * done / total, text=f"Read {done} of {total} files" + (" · embedding passages…" if done == total else "")))
    job = st.session_state.upload_job = {"running": True}
    try:
        job["results"] = add_uploads(assistant, [(f.name, f.getvalue()) for f in files], progress)
    except USER_ERRORS as error:
        job["error"] = str(error)
    finally:
        job["running"] = False
    if interrupted:
        raise interrupted[0]  # the stop or rerun a question sent meanwhile asked for, now that the upload is done
    st.rerun()


@st.fragment(run_every=2)
def upload_watch() -> None:
    """While an upload started by an earlier run goes on, say so; when it is done, rerun the
    page to show its results."""
    job = st.session_state.get("upload_job")
    if not job or not job["running"]:
        st.rerun()
    st.caption("Adding the files… their results show here when done.")


def remove_article_panel(assistant: Assistant) -> None:
    rows = assistant.articles()
    if not rows:
        return
    copies = sum(1 for r in rows if r[5])
    with st.expander(f"Loaded articles ({len(rows):,}" + (f", {copies:,} of them {'a copy' if copies == 1 else 'copies'})" if copies else ")")):
        st.dataframe(
            [{"title": r[1], "source": r[2] or "", "date": r[3] or "", "passages": r[4], "id": r[0],
              "copy of": r[5] or ""} for r in rows],
            hide_index=True, width="stretch",
        )
        titles = {r[0]: r[1] for r in rows}
        chosen = st.selectbox("Remove an article", list(titles), format_func=lambda i: f"{titles[i]} ({i})", index=None,
                              placeholder="Choose an article…", key="remove_choice")
        if st.button("Remove", disabled=chosen is None, key="remove"):
            try:
                missing = assistant.remove([chosen])
            except USER_ERRORS as error:
                st.error(escape_markdown(str(error)))
                return
            title = escape_markdown(titles[chosen])
            st.session_state.flash = f"Already gone: {title}" if missing else f"Removed: {title}"
            st.rerun()


def available_examples(assistant: Assistant) -> list[str]:
    """The example questions whose sample article is loaded."""
    store = assistant.index.store
    return [question for question, article_id in EXAMPLES if store.hashes(article_id) is not None]


# --- page -----------------------------------------------------------------------------------
def empty_state(loaded: bool, assistant: Assistant) -> None:
    if not loaded:
        st.info(
            "**No articles are loaded yet.** Add news articles with **Add articles** in the sidebar "
            "(.txt, .md, .html, .json, .jsonl), or from a terminal:\n\n"
            f"```\npython -m qa ingest PATH... --index {assistant.index_dir}\n```\n"
            "`make run` loads the sample articles in `samples/` for you."
        )
        return
    examples = available_examples(assistant)
    st.markdown("Type a question below" + (", or try one of these:" if examples else "."))
    if examples:
        columns = st.columns(2)
        for number, question in enumerate(examples):
            columns[number % 2].button(question, key=f"example-main-{number}", on_click=queue_question, args=(question,), width="stretch")


def main() -> None:
    st.set_page_config(page_title="News QA", page_icon="📰", layout="wide")
    for name, value in (("history", []), ("upload_round", 0), ("waiting", [])):
        st.session_state.setdefault(name, value)
    loaded = ArticleIndex(default_index_dir()).holds_articles  # an upload or removal reruns the page
    # No max_chars: the box would drop a longer paste without a word; the assistant says what the limit is.
    st.chat_input("Ask about the loaded articles…" if loaded else "Add articles first…", disabled=not loaded,
                  key="chat_box", on_submit=take_question)
    waiting = st.session_state.waiting
    st.html(CSS)
    assistant = get_assistant(str(default_index_dir()))
    warm_up(str(assistant.index_dir))
    try:
        options = sidebar(assistant, loaded, chatting=bool(waiting or st.session_state.history))
    except USER_ERRORS as error:
        st.error(escape_markdown(str(error)))
        st.stop()

    st.title("Ask the news")
    st.html('<div class="qa-subtitle">Answers quoted word for word from your news articles, with numbered sources to check.</div>')
    if not st.session_state.history and not waiting:
        empty_state(loaded, assistant)
    previous = None
    for number, turn in enumerate(st.session_state.history):
        with st.chat_message("user", avatar=USER_AVATAR):
            render_question(turn["question"])
        with st.chat_message("assistant", avatar=ASSISTANT_AVATAR):
            if "error" in turn:
                st.error(escape_markdown(turn["error"]))
                continue
            render_reply(assistant, turn["reply"], f"turn-{number}", turn["settings"], previous, turn.get("dated", False))
            previous = turn["question"]
    while waiting and loaded:
        ask(assistant, waiting[0], options)
        waiting.pop(0)
    waiting.clear()  # nothing is loaded to ask about


if __name__ == "__main__":
    main()
