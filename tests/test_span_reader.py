"""qa/span_reader.py with a tiny BERT question-answering model the test builds from a config.

The model's weights are random: these tests check the reader's mechanics — exact character
offsets (unicode, accents, odd whitespace), striding over passages longer than one window,
no-answer handling, the weighting of span and retrieval scores, the enclosing sentence — not
its accuracy. Where a test needs a particular answer, a wrapper replaces the model's logits
with chosen ones (peaks at given token ids), so the expected span is known in advance.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from transformers import BertConfig, BertForQuestionAnswering, BertTokenizerFast
from transformers.modeling_outputs import QuestionAnsweringModelOutput

from conftest import NEWS, FakeEmbedder, write_articles
from qa.assistant import Assistant
from qa.config import Config
from qa.embed import ModelLoadError
from qa.schema import Article, Chunk, Passage
from qa.span_reader import SpanReader, enclosing_sentence

SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
UNICODE_TEXT = "Zoë  Fernández-Ruiz,\u00a0the café’s owner,\n\n  said prices rose   in Kraków last year. Alpha beat omega."
FILLER = "The river ran past the old mill and the green field. " * 14  # about 170 tokens
LONG_TEXT = FILLER + "Then Zoë Fernández-Ruiz arrived at the mill. " + FILLER
EXTRA_WORDS = "what who when where how much did the cost bridge repair owner alpha omega then arrived"
SMALL_WINDOW = {"max_length": 64, "stride": 16}


def _fold(text: str) -> str:
    """What BERT's normaliser does to a word: lower case, accents stripped."""
    return "".join(c for c in unicodedata.normalize("NFD", text.lower()) if unicodedata.category(c) != "Mn")


@pytest.fixture(scope="module")
def qa_model(tmp_path_factory) -> Path:
    texts = [UNICODE_TEXT, LONG_TEXT, EXTRA_WORDS, *NEWS.values()]
    words = sorted({w for t in texts for w in re.findall(r"\w+|[^\w\s]", _fold(t))} - set(SPECIAL))
    vocab = SPECIAL + words
    folder = tmp_path_factory.mktemp("tiny-qa")
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    tokenizer = BertTokenizerFast(vocab={w: i for i, w in enumerate(vocab)}, do_lower_case=True)
    torch.manual_seed(0)
    config = BertConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=512)
    BertForQuestionAnswering(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture
def config(qa_model) -> Config:
    return Config(model="fake-hash", qa_model=str(qa_model))


class Forced(torch.nn.Module):
    """Runs the real model, then replaces its logits: 0 everywhere, `null` on [CLS], and the
    given peaks at the positions of the given token ids."""

    def __init__(self, model, starts: dict[int, float] = {}, ends: dict[int, float] = {}, null: float = -10.0):
        super().__init__()
        self.inner, self.starts, self.ends, self.null = model, starts, ends, null
        self.windows: list[torch.Tensor] = []  # input_ids of every window seen

    def forward(self, input_ids, **inputs):
        self.inner(input_ids=input_ids, **inputs)
        self.windows.extend(input_ids)
        start, end = torch.zeros(input_ids.shape), torch.zeros(input_ids.shape)
        for logits, peaks in ((start, self.starts), (end, self.ends)):
            for token, value in peaks.items():
                logits[input_ids == token] = value
            logits[:, 0] = self.null
        return QuestionAnsweringModelOutput(start_logits=start, end_logits=end)


def force(reader: SpanReader, starts: dict[str, float], ends: dict[str, float], null: float = -10.0) -> Forced:
    ids = reader.tokenizer.convert_tokens_to_ids
    reader.warm_up()._model = Forced(reader._model, {ids(w): v for w, v in starts.items()}, {ids(w): v for w, v in ends.items()}, null)
    return reader._model


def passage(text: str, article_id: str = "a", score: float = 1.0, rank: int = 0, prefix: str = "Headline.\n\n") -> Passage:
    """A passage that is a slice of its article (offsets differ), with sentence spans."""
    article_text = prefix + text + "\n\nThe end."
    base = len(prefix)
    sentences = tuple((base + m.start(), base + m.end()) for m in re.finditer(r"\S.*?(?:[.!?](?=\s|$)|$)", text, re.S))
    chunk = Chunk(article_id, text, base, base + len(text), sentences)
    assert article_text[chunk.start : chunk.end] == chunk.text
    return Passage(chunk, Article(article_id, f"Title {article_id}", article_text), score, rank)


# --- offsets --------------------------------------------------------------------------------


def test_random_model_answer_is_an_exact_slice(config):
    reader = SpanReader(config)
    p = passage(UNICODE_TEXT)
    answer = reader.read("Who owns the café?", None, [p])
    assert answer is not None  # random logits: some span beats [CLS]
    assert answer.text == p.chunk.text[answer.start : answer.end]
    assert answer.text and answer.text == answer.text.strip()
    assert answer.passage is p


@pytest.mark.parametrize(
    "first, last, expected",
    [("fernandez", "ruiz", "Fernández-Ruiz"), ("zoe", "owner", "Zoë  Fernández-Ruiz,\u00a0the café’s owner"), ("krakow", "krakow", "Kraków")],
)
def test_offsets_survive_accents_and_odd_whitespace(config, first, last, expected):
    reader = SpanReader(config)
    force(reader, {first: 5.0}, {last: 5.0})
    p = passage(UNICODE_TEXT)
    answer = reader.read("Who owns the café?", None, [p])
    assert answer.text == expected
    assert p.chunk.text[answer.start : answer.end] == expected
    assert p.article.text[p.chunk.start + answer.start : p.chunk.start + answer.end] == expected


def test_span_in_a_later_window_maps_back_to_the_right_characters(config):
    reader = SpanReader(config, **SMALL_WINDOW)
    question = "Who arrived?"
    windows = reader.tokenizer(question, LONG_TEXT, truncation="only_second", max_length=64, stride=16,
                               return_overflowing_tokens=True)["input_ids"]
    zoe = reader.tokenizer.convert_tokens_to_ids("zoe")
    holding = [n for n, ids in enumerate(windows) if zoe in ids]
    assert len(windows) >= 5 and holding and min(holding) >= 2  # the answer is past the second window
    forced = force(reader, {"zoe": 5.0}, {"ruiz": 5.0})
    p = passage(LONG_TEXT)
    answer = reader.read(question, None, [p])
    assert len(forced.windows) == len(windows)
    assert answer.text == "Zoë Fernández-Ruiz"
    assert answer.start == LONG_TEXT.index("Zoë") and answer.end == answer.start + len("Zoë Fernández-Ruiz")


def test_spans_longer_than_the_limit_are_not_taken(config):
    reader = SpanReader(config, max_answer_tokens=3)
    force(reader, {"zoe": 5.0}, {"owner": 5.0, "fernandez": 2.0})  # zoe … owner is 9 tokens long
    assert reader.read("Who?", None, [passage(UNICODE_TEXT)]).text == "Zoë  Fernández"


# --- no answer, avoided answers -------------------------------------------------------------


def test_no_answer_when_the_null_score_wins_everywhere(config):
    reader = SpanReader(config)
    force(reader, {"zoe": 2.0}, {"ruiz": 2.0}, null=10.0)
    assert reader.read("Who?", None, [passage(UNICODE_TEXT), passage(LONG_TEXT, "b", 0.5, 1)]) is None


def test_no_passages_no_answer(config):
    assert SpanReader(config).read("Who?", None, []) is None


def test_an_avoided_answer_gives_way_to_the_next_span(config):
    reader = SpanReader(config, max_answer_tokens=5)  # no span from one peak to the other
    force(reader, {"fernandez": 6.0, "krakow": 4.0}, {"ruiz": 6.0, "krakow": 4.0})
    assert reader.read("Who?", None, [passage(UNICODE_TEXT)]).text == "Fernández-Ruiz"
    assert reader.read("Who else?", None, [passage(UNICODE_TEXT)], avoid=frozenset({"Fernández-Ruiz"})).text == "Kraków"


# --- scores ---------------------------------------------------------------------------------


def test_qa_weight_trades_span_score_against_retrieval(config):
    top = passage("Alpha won the race.", "top", score=0.04, rank=0)
    second = passage("Omega won the cup.", "second", score=0.02, rank=1)

    def read(weight: float):
        reader = SpanReader(replace(config, qa_weight=weight))
        force(reader, {"alpha": 1.0, "omega": 3.0}, {"alpha": 1.0, "omega": 3.0})
        return reader, reader.read("Who won?", None, [top, second])

    reader, by_span = read(1.0)
    p_top, p_second = (s.probability for s in reader.spans("Who won?", [top.chunk.text, second.chunk.text]))
    assert 0 < p_top < p_second <= 1
    assert by_span.passage is second and by_span.text == "Omega" and by_span.score == pytest.approx(p_second)
    _, by_retrieval = read(0.0)
    assert by_retrieval.passage is top and by_retrieval.text == "Alpha" and by_retrieval.score == pytest.approx(1.0)
    _, mixed = read(0.5)
    assert mixed.score == pytest.approx(max(0.5 * p_top + 0.5 * 1.0, 0.5 * p_second + 0.5 * 0.5))


def test_only_the_top_read_passages_are_read(config):
    reader = SpanReader(replace(config, read_passages=1, qa_weight=1.0))
    force(reader, {"omega": 3.0}, {"omega": 3.0})
    answer = reader.read("Who?", None, [passage("Alpha won.", "top"), passage("Omega won.", "second", 0.5, 1)])
    assert answer.passage.article.id == "top"


# --- sentences ------------------------------------------------------------------------------


def test_sentence_offsets_cover_the_answer(config):
    reader = SpanReader(config)
    force(reader, {"krakow": 5.0}, {"krakow": 5.0})
    p = passage(UNICODE_TEXT)
    answer = reader.read("Where?", None, [p])
    sentence = p.chunk.text[answer.sentence_start : answer.sentence_end]
    assert sentence == "Zoë  Fernández-Ruiz,\u00a0the café’s owner,\n\n  said prices rose   in Kraków last year."
    assert answer.sentence_start <= answer.start < answer.end <= answer.sentence_end


def test_a_span_across_sentences_gets_the_covering_range(config):
    reader = SpanReader(config)
    force(reader, {"year": 5.0}, {"omega": 5.0})  # "year. Alpha beat omega" spans two sentences
    p = passage(UNICODE_TEXT)
    answer = reader.read("What?", None, [p])
    assert answer.text == "year. Alpha beat omega"
    assert (answer.sentence_start, answer.sentence_end) == (0, len(UNICODE_TEXT))


def test_enclosing_sentence_without_sentence_spans_is_the_passage():
    chunk = Chunk("a", "One two. Three.", 5, 20)
    p = Passage(chunk, Article("a", "T", "xxxxxOne two. Three."), 1.0)
    assert enclosing_sentence(p, 0, 3) == (0, 15)


# --- construction and loading ---------------------------------------------------------------


def test_constructor_checks_arguments(config):
    with pytest.raises(ValueError, match="qa_model"):
        SpanReader(Config())
    with pytest.raises(ValueError, match="qa_weight"):
        SpanReader(replace(config, qa_weight=1.5))
    with pytest.raises(ValueError, match="stride"):
        SpanReader(config, max_length=64, stride=64)


def test_missing_model_names_itself_and_the_fix(tmp_path):
    reader = SpanReader(Config(qa_model=str(tmp_path / "no-such-model")))  # constructing loads nothing
    with pytest.raises(ModelLoadError, match="no-such-model.*qa_model"):
        reader.warm_up()


def test_model_loads_once_across_threads(config, monkeypatch):
    reader = SpanReader(config)
    calls, real = [], reader._load
    monkeypatch.setattr(reader, "_load", lambda: calls.append(1) or real())
    threads = [threading.Thread(target=reader.warm_up) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1 and not reader.model.training


def test_concurrent_reads_agree(config):
    reader = SpanReader(config, **SMALL_WINDOW)
    passages = [passage(UNICODE_TEXT), passage(LONG_TEXT, "b", 0.5, 1)]
    expected = reader.read("Who arrived?", None, passages)
    results, threads = [], [threading.Thread(target=lambda: results.append(reader.read("Who arrived?", None, passages))) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 6 and all((a.text, a.start, a.score) == (expected.text, expected.start, expected.score) for a in results)


# --- through the Assistant ------------------------------------------------------------------


@pytest.fixture
def assistant(tmp_path, config) -> Assistant:
    news = write_articles(tmp_path / "news", NEWS)
    assistant = Assistant(tmp_path / "idx", config, embedder=FakeEmbedder())
    assistant.ingest([news])
    return assistant


def test_assistant_uses_the_span_reader(assistant):
    reply = assistant.ask("How much did the bridge repair cost?")
    assert isinstance(assistant.reader, SpanReader)
    assert reply.found == (reply.score >= assistant.config.answer_threshold)
    first = reply.citations[0]
    if reply.found:
        assert first.passage[first.answer_start : first.answer_end] == reply.answer
        assert reply.answer in reply.sentence
    else:
        assert reply.answer is None and all(c.answer_start is None for c in reply.citations)


def test_assistant_answers_from_the_forced_span(assistant):
    force(assistant.reader, {"38": 6.0}, {"million": 6.0})
    reply = assistant.ask("How much did the bridge repair cost?")
    assert reply.found and reply.answer == "38.6 million"
    first = reply.citations[0]
    assert first.article_id == "bridge" and first.passage[first.answer_start : first.answer_end] == "38.6 million"
    assert reply.sentence == "The project cost $38.6 million, more than the first estimate."


def test_assistant_reports_not_found_when_null_wins(assistant):
    force(assistant.reader, {"38": 1.0}, {"million": 1.0}, null=10.0)
    reply = assistant.ask("How much did the bridge repair cost?")
    assert not reply.found and reply.answer is None and reply.score == 0.0
    assert reply.citations and reply.citations[0].answer_start is None
