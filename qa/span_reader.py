"""Span reader: a transformers extractive question-answering model (SQuAD style) picks the
answer span inside the retrieved passages. Used when `Config.qa_model` names one.

Each of the top `read_passages` passages is read in overlapping windows of model tokens
(question + a slice of the passage). In a window the best span is the valid (start, end)
pair with the highest start + end logit; its probability is a softmax over every valid span
of the window plus the no-answer ("null", the CLS token) score. A passage's span score is
that probability in its best window, and the answer's score weighs it against retrieval:

    score = qa_weight * span probability + (1 - qa_weight) * passage.score / max passage.score

No answer: a window whose null score beats its best span offers no answer; when no window of
any passage offers one, `read` returns None and the assistant replies "not found". Otherwise
the caller compares the score with `answer_threshold` as it does for the default reader. Note
that the retrieval part alone gives an answer from the top passage (1 - qa_weight), 0.3 with
the defaults, above the default threshold 0.2 (calibrated for the default reader): with the
defaults, "not found" comes from the null score. Calibrate the threshold for a given QA model
on labelled questions (`python -m qa eval FILE --qa-model MODEL`).
Offsets come from the tokenizer's offset mapping, so `Answer.text` is always
`passage.chunk.text[start:end]`.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass

import numpy as np

from qa.config import Config
from qa.embed import ModelLoadError
from qa.schema import Answer, Passage

MAX_LENGTH = 384  # window length in model tokens (capped by the model's own limit)
STRIDE = 128  # tokens two neighbouring windows share
MAX_ANSWER_TOKENS = 30
TOP_SPANS = 20  # spans kept per window, so that an avoided answer can give way to the next


@dataclass(frozen=True)
class Span:
    start: int  # offsets into the passage text
    end: int
    probability: float


class SpanReader:
    """Cheap to construct; the tokenizer and model load on first use, once, thread-safely."""

    def __init__(self, config: Config, max_length: int = MAX_LENGTH, stride: int = STRIDE, max_answer_tokens: int = MAX_ANSWER_TOKENS):
        if not config.qa_model:
            raise ValueError("SpanReader needs Config.qa_model: a question-answering model name or local folder")
        if not 0.0 <= config.qa_weight <= 1.0:
            raise ValueError(f"qa_weight must be between 0 and 1, got {config.qa_weight}")
        if max_length < 16 or not 0 <= stride < max_length or max_answer_tokens < 1:
            raise ValueError(f"need max_length >= 16, 0 <= stride < max_length and max_answer_tokens >= 1; "
                             f"got {max_length}, {stride}, {max_answer_tokens}")
        self.config = config
        self.max_length, self.stride, self.max_answer_tokens = max_length, stride, max_answer_tokens
        self._tokenizer = None
        self._model = None
        self._window = max_length  # the window in tokens, capped by the model's limit once it loads
        self._lock = threading.Lock()
        self._tokenizer_lock = threading.Lock()

    # --- model, loaded lazily ------------------------------------------------------------
    def warm_up(self) -> "SpanReader":
        if self._model is None:
            with self._lock:
                if self._model is None:
                    tokenizer, model = self._load()
                    limits = (self.max_length, getattr(model.config, "max_position_embeddings", None), tokenizer.model_max_length)
                    self._window = min(int(x) for x in limits if isinstance(x, (int, float)) and x > 0)
                    self._tokenizer, self._model = tokenizer, model
        return self

    @property
    def tokenizer(self):
        return self.warm_up()._tokenizer

    @property
    def model(self):
        return self.warm_up()._model

    def _load(self):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        from transformers import AutoModelForQuestionAnswering, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()
        name = self.config.qa_model
        path = os.path.expanduser(name)
        fix = ("Give the path of a transformers extractive-QA model folder (e.g. a saved "
               "distilbert-base-cased-distilled-squad), or unset qa_model to use the default reader.")
        if not os.path.exists(path) and (os.path.isabs(path) or name.startswith((".", "~"))):
            raise ModelLoadError(f"Question-answering model {name!r}: no such folder. {fix}")
        try:
            tokenizer = AutoTokenizer.from_pretrained(path)
            model = AutoModelForQuestionAnswering.from_pretrained(path)
        except Exception as error:
            where = "folder" if os.path.exists(path) else "name (offline: only local folders and cached models load)"
            raise ModelLoadError(f"Could not load question-answering model {name!r} from that {where} ({error}). {fix}") from None
        if not getattr(tokenizer, "is_fast", False):
            raise ModelLoadError(f"{name!r} has no fast tokenizer (tokenizer.json); the span reader needs its offset mapping")
        model.to("cpu").eval()
        return tokenizer, model

    # --- reading ------------------------------------------------------------------------
    def read(
        self, question: str, query_vector, passages: list[Passage], context: str | None = None, avoid: frozenset[str] = frozenset()
    ) -> Answer | None:
        """Same contract as ExtractiveReader.read. `query_vector` and `context` are not needed: the
        model reads the question itself; `avoid` holds answers already given ("who else")."""
        passages = list(passages)[: self.config.read_passages]
        if not passages:
            return None
        spans = self.spans(question, [p.chunk.text for p in passages], avoid)
        top = max(p.score for p in passages)
        best = None
        for passage, span in zip(passages, spans):
            if span is None:
                continue
            retrieval = passage.score / top if top > 0 else 1.0
            score = self.config.qa_weight * span.probability + (1 - self.config.qa_weight) * retrieval
            if best is None or score > best[0]:
                best = (score, passage, span)
        if best is None:
            return None
        score, passage, span = best
        sentence_start, sentence_end = enclosing_sentence(passage, span.start, span.end)
        return Answer(
            text=passage.chunk.text[span.start : span.end], start=span.start, end=span.end, score=float(score),
            passage=passage, sentence_start=sentence_start, sentence_end=sentence_end,
        )

    def spans(self, question: str, texts: list[str], avoid: frozenset[str] = frozenset()) -> list[Span | None]:
        """The best answer span of each text (None where the model finds none), batched."""
        import torch

        tokenizer, model = self.tokenizer, self.model
        question_first = tokenizer.padding_side == "right"
        with self._tokenizer_lock:  # a fast tokenizer changes its truncation state per call: one caller at a time
            question = self._fit_question(question)
            pairs = ([question] * len(texts), texts) if question_first else (texts, [question] * len(texts))
            encoded = tokenizer(
                *pairs, truncation="only_second" if question_first else "only_first", max_length=self._window,
                stride=self._stride(question, self._window), return_overflowing_tokens=True, return_offsets_mapping=True,
                padding="longest", return_tensors="pt",
            )
        names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in encoded]
        starts, ends = [], []
        with torch.inference_mode():
            for low in range(0, encoded["input_ids"].shape[0], self.config.batch_size):
                output = model(**{n: encoded[n][low : low + self.config.batch_size] for n in names})
                starts.append(output.start_logits.float().numpy())
                ends.append(output.end_logits.float().numpy())
        start_logits, end_logits = np.concatenate(starts), np.concatenate(ends)
        offsets = encoded["offset_mapping"].numpy()
        input_ids = encoded["input_ids"].numpy()
        context_id = 1 if question_first else 0
        best: list[Span | None] = [None] * len(texts)
        for window, sample in enumerate(encoded["overflow_to_sample_mapping"].tolist()):
            in_context = np.array([s == context_id for s in encoded.sequence_ids(window)])
            cls = np.flatnonzero(input_ids[window] == tokenizer.cls_token_id) if tokenizer.cls_token_id is not None else []
            span = self._best_span(
                start_logits[window], end_logits[window], in_context, offsets[window], int(cls[0]) if len(cls) else 0,
                texts[sample], avoid,
            )
            if span is not None and (best[sample] is None or span.probability > best[sample].probability):
                best[sample] = span
        return best

    def _best_span(self, start, end, in_context, offsets, cls: int, text: str, avoid: frozenset[str]) -> Span | None:
        """The window's best valid span, if it beats the window's no-answer score."""
        length = len(start)
        scores = start[:, None] + end[None, :]
        i, j = np.indices((length, length))
        valid = in_context[:, None] & in_context[None, :] & (j >= i) & (j - i < self.max_answer_tokens)
        if not valid.any():
            return None
        null = float(start[cls] + end[cls])
        candidates = scores[valid]
        total = np.logaddexp(null, _logsumexp(candidates))
        masked = np.where(valid, scores, -np.inf).ravel()
        keep = min(TOP_SPANS, int(valid.sum()))
        top = np.argpartition(-masked, keep - 1)[:keep]
        order = top[np.argsort(-masked[top], kind="stable")]
        for flat in order:
            if masked[flat] <= null:
                return None
            first, last = divmod(int(flat), length)
            char_start, char_end = _trim(text, int(offsets[first][0]), int(offsets[last][1]))
            if char_end <= char_start or text[char_start:char_end] in avoid:
                continue
            return Span(char_start, char_end, float(np.exp(masked[flat] - total)))
        return None

    def _fit_question(self, question: str) -> str:
        """Cut a question longer than half a window at a token boundary."""
        spans = self.tokenizer(question, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]
        keep = self._window // 2
        return question if len(spans) <= keep else question[: spans[keep - 1][1]]

    def _stride(self, question: str, max_length: int) -> int:
        """The stride must leave room for new passage tokens in every window."""
        question_tokens = len(self.tokenizer(question, add_special_tokens=False)["input_ids"])
        room = max_length - question_tokens - self.tokenizer.num_special_tokens_to_add(pair=True)
        return max(0, min(self.stride, room // 2))


def enclosing_sentence(passage: Passage, start: int, end: int) -> tuple[int, int]:
    """Offsets in the passage of the sentence(s) covering [start, end); the whole passage when
    the chunk carries no sentence spans."""
    chunk = passage.chunk
    covering = [
        (max(0, s - chunk.start), min(len(chunk.text), e - chunk.start))
        for s, e in chunk.sentences
        if s - chunk.start < end and e - chunk.start > start
    ]
    if not covering:
        return 0, len(chunk.text)
    return min(s for s, _ in covering), max(e for _, e in covering)


def _logsumexp(values: np.ndarray) -> float:
    peak = float(values.max())
    return peak + float(np.log(np.exp(values - peak).sum()))


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end
