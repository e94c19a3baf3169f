"""qa/chunk.py: sentence offsets and token-budgeted chunks, measured with the fake embedder's tokens."""

from __future__ import annotations

import pytest

from conftest import FakeEmbedder
from qa.chunk import Chunker, SentenceSplitter, embedding_text
from qa.schema import Article

STORY = (
    "Mr. Blinken met Mr. Lavrov in Geneva on Friday. The U.S. and Russia disagreed over troop numbers. "
    "Talks will resume next week, officials said.\n\n"
    "The State Department said the meeting lasted 90 minutes. Dr. Ruiz, an analyst, called it a small step. "
    "Markets rose 1.5 percent after the news.\n\n"
    "It rained. It rained. It rained.\n"
    "NATO allies were briefed on Saturday. A joint statement is expected on Monday."
)


@pytest.fixture(scope="module")
def splitter() -> SentenceSplitter:
    return SentenceSplitter()


def make_chunker(max_tokens: int, overlap: int = 1) -> tuple[Chunker, FakeEmbedder]:
    embedder = FakeEmbedder()
    return Chunker(embedder.count_tokens, embedder.token_spans, max_tokens, overlap), embedder


def sentences_of(text: str, spans) -> list[str]:
    return [text[s:e] for s, e in spans]


# --- SentenceSplitter -------------------------------------------------------------------------


def test_offsets_are_exact_and_trimmed(splitter):
    spans = splitter.split(STORY)
    assert spans == sorted(spans)
    for start, end in spans:
        piece = STORY[start:end]
        assert piece and piece == piece.strip()
        assert piece[-1] in ".!?"
    # nothing but whitespace between consecutive sentences
    for (_, end), (start, _) in zip(spans, spans[1:]):
        assert STORY[end:start].strip() == ""


def test_abbreviations_do_not_split(splitter):
    found = sentences_of(STORY, splitter.split(STORY))
    assert found[0] == "Mr. Blinken met Mr. Lavrov in Geneva on Friday."
    assert found[1] == "The U.S. and Russia disagreed over troop numbers."
    assert "Dr. Ruiz, an analyst, called it a small step." in found
    assert "Markets rose 1.5 percent after the news." in found


def test_repeated_sentences_get_distinct_offsets(splitter):
    spans = splitter.split(STORY)
    repeats = [(s, e) for s, e in spans if STORY[s:e] == "It rained."]
    assert len(repeats) == 3
    assert len(set(repeats)) == 3
    first = STORY.index("It rained.")
    assert [s for s, _ in repeats] == [first, first + 11, first + 22]


def test_paragraphs_split_separately(splitter):
    text = "  First para one.  Second sentence here.\n\nPara two starts.   Ends here!  \n Third para? Yes."
    assert sentences_of(text, splitter.split(text)) == [
        "First para one.", "Second sentence here.", "Para two starts.", "Ends here!", "Third para?", "Yes."]


def test_closing_quote_stays_with_the_sentence_it_closes(splitter):
    # A quote left open in the sentence before confuses pysbd into opening the next one with it.
    text = '"It is like a bigger canvas. We get more tools. "For the consumer, things get more filmic." Gerhard Florin said so.'
    found = sentences_of(text, splitter.split(text))
    assert found[-2].endswith('filmic."')
    assert found[-1] == "Gerhard Florin said so."


def test_opening_quote_stays_with_its_sentence(splitter):
    text = 'He said no. "We will win," he said. "It is ours." Next.'
    assert sentences_of(text, splitter.split(text)) == ["He said no.", '"We will win," he said.', '"It is ours."', "Next."]


def test_sentences_inside_a_quotation_left_open_are_split(splitter):
    # News copy opens a quote per sentence and closes only the last: pysbd keeps the run whole.
    text = 'He said: "We were losing 13-6 at the break. "They could so easily have won." Dublin waits.'
    assert sentences_of(text, splitter.split(text)) == [
        'He said: "We were losing 13-6 at the break.', '"They could so easily have won."', "Dublin waits."]


def test_abbreviations_and_ellipses_inside_a_quotation_do_not_split(splitter):
    text = '"Mr. Smith met Maj. Gen. Jones and J. K. Rowling in the U.S. on Friday. It went well... Ten of us," she said.'
    assert sentences_of(text, splitter.split(text)) == [
        '"Mr. Smith met Maj. Gen. Jones and J. K. Rowling in the U.S. on Friday.', 'It went well... Ten of us," she said.']


def test_a_quoted_sentence_may_start_with_a_figure(splitter):
    text = '"We won in 1998. 2004 was better," he said.'
    assert sentences_of(text, splitter.split(text)) == ['"We won in 1998.', '2004 was better," he said.']


def test_text_without_a_quotation_keeps_pysbd_cuts(splitter):
    text = "Yahoo! Japan said Brig. Gen. Smith agreed."
    assert sentences_of(text, splitter.split(text)) == [text]


def test_quote_closing_a_paragraph_stays_with_its_sentence(splitter):
    text = 'The band played on: "It was great. "It was the best night of our lives."\nNext paragraph.'
    assert sentences_of(text, splitter.split(text)) == [
        'The band played on: "It was great.', '"It was the best night of our lives."', "Next paragraph."]


def test_empty_and_blank_text_have_no_sentences(splitter):
    assert splitter.split("") == []
    assert splitter.split(" \n\n  \n") == []


def test_text_without_final_punctuation_is_one_sentence(splitter):
    text = "Breaking: bridge closed to traffic"
    assert splitter.split(text) == [(0, len(text))]


# --- Chunker ----------------------------------------------------------------------------------


def long_article(sentences: int = 40) -> Article:
    paragraphs = []
    for p in range(0, sentences, 4):
        paragraphs.append(" ".join(
            f"Sentence {i} says the council approved item {i} for {i * 3} dollars." for i in range(p, min(p + 4, sentences))))
    return Article("long", "Council approves items", "\n\n".join(paragraphs))


@pytest.mark.parametrize("max_tokens", [8, 20, 40, 101])
def test_chunks_are_exact_slices_within_budget(max_tokens):
    chunker, embedder = make_chunker(max_tokens)
    article = long_article()
    chunks = chunker.chunk(article)
    assert chunks
    for chunk in chunks:
        assert chunk.article_id == "long"
        assert chunk.text == article.text[chunk.start : chunk.end]
        assert embedder.count_tokens([chunk.text])[0] <= max_tokens


def test_chunks_cover_every_sentence():
    chunker, _ = make_chunker(30)
    article = long_article()
    covered = {span for chunk in chunker.chunk(article) for span in chunk.sentences}
    assert covered == set(SentenceSplitter().split(article.text))


def test_sentence_spans_lie_inside_their_chunk():
    chunker, _ = make_chunker(30)
    article = long_article()
    for chunk in chunker.chunk(article):
        assert chunk.sentences[0][0] == chunk.start and chunk.sentences[-1][1] == chunk.end
        for start, end in chunk.sentences:
            assert chunk.start <= start < end <= chunk.end


def test_consecutive_chunks_overlap_by_one_sentence():
    chunker, _ = make_chunker(40)  # each sentence is 13 fake tokens: 3 to a chunk
    chunks = chunker.chunk(long_article(12))
    assert len(chunks) >= 3
    for previous, current in zip(chunks, chunks[1:]):
        assert current.sentences[0] == previous.sentences[-1]
        assert current.end > previous.end


def test_no_overlap_when_disabled():
    chunker, _ = make_chunker(40, overlap=0)
    chunks = chunker.chunk(long_article(12))
    for previous, current in zip(chunks, chunks[1:]):
        assert current.start > previous.end


def test_short_article_is_one_chunk():
    chunker, _ = make_chunker(101)
    article = Article("a", "T", "The bridge reopened on Monday. It cost $38.6 million.")
    (chunk,) = chunker.chunk(article)
    assert (chunk.start, chunk.end, chunk.text) == (0, len(article.text), article.text)
    assert len(chunk.sentences) == 2


def test_overlong_sentence_is_cut_into_windows_that_fit_and_cover_it():
    chunker, embedder = make_chunker(10)
    sentence = " ".join(f"word{i}" for i in range(35)) + "."
    article = Article("a", "T", f"Short opener here. {sentence} Short closer here.")
    chunks = chunker.chunk(article)
    offset = article.text.index(sentence)
    inside = [(s, e) for chunk in chunks for s, e in chunk.sentences if offset <= s and e <= offset + len(sentence)]
    windows = sorted(set(inside))
    assert len(windows) >= 4
    for start, end in windows:
        assert embedder.count_tokens([article.text[start:end]])[0] <= 10
    assert windows[0][0] == offset and windows[-1][1] == offset + len(sentence)
    for (_, end), (start, _) in zip(windows, windows[1:]):
        assert article.text[end:start].strip() == ""  # no token is lost between windows
    for chunk in chunks:
        assert embedder.count_tokens([chunk.text])[0] <= 10


def test_empty_article_has_no_chunks():
    chunker, _ = make_chunker(20)
    assert chunker.chunk(Article("a", "T", "")) == []


def test_budget_below_eight_rejected():
    with pytest.raises(ValueError, match="at least 8"):
        make_chunker(7)


def test_every_chunk_adds_new_text():
    chunker, _ = make_chunker(10)
    article = Article("a", "T", "One two three four. Five six seven eight. Nine ten eleven twelve thirteen fourteen fifteen.")
    chunks = chunker.chunk(article)
    for previous, current in zip(chunks, chunks[1:]):
        assert current.end > previous.end


# --- embedding_text ---------------------------------------------------------------------------


def test_embedding_text_prefixes_title_cut_to_limit():
    embedder = FakeEmbedder()
    title = " ".join(f"t{i}" for i in range(40))
    text = embedding_text(title, "Chunk body.", embedder.token_spans(title))
    head, body = text.split("\n")
    assert body == "Chunk body."
    assert head == " ".join(f"t{i}" for i in range(24))
    assert embedding_text("", "Chunk body.", []) == "Chunk body."
