"""Sentence-aware chunking measured in the embedding model's own tokens.

Every chunk is a run of whole sentences (a sentence longer than the budget is cut at token
boundaries), so `chunk.text == article.text[start:end]` and nothing is silently truncated.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from qa.schema import Article, Chunk

Span = tuple[int, int]
TITLE_TOKENS = 24  # the title is prepended to each chunk for embedding, cut to this many tokens
_LONG_PARAGRAPH = 20_000  # pysbd is slow on huge blocks; cut those on punctuation instead
_FALLBACK_SPLIT = re.compile(r"(?<=[.!?])\s+")
_QUOTES = "\"”’'"
_STRAY_CLOSE = re.compile(rf"[{_QUOTES}]\s+")  # a quote that closes the sentence before, not opens this one
# A sentence end inside a quotation: its full stop (not an ellipsis's) and a quote closing it,
# space, then a capital, a figure or a quote opening the next sentence. pysbd keeps a quotation
# whole, and news copy leaves a quote open across sentences and paragraphs, so whole runs of
# sentences come back as one.
_QUOTED_END = re.compile(r"(?<![.…][.!?])(?<=[.!?])[\"”’']?(?=\s+[\"“‘']?[A-Z\d£$€À-Þ])")
_DOUBLE_QUOTES = re.compile(r"[\"“”]")
# Words a full stop ends without ending the sentence: titles, initials, "U.S.", "No. 1"
_ABBREVIATION = re.compile(
    r"(?:\b(?:Mr|Mrs|Ms|Dr|St|Prof|Rev|Gen|Col|Lt|Maj|Brig|Adm|Cpl|Pte|Sgt|Capt|Cmdr|Det|Supt|Insp|Gov|Sen|Rep|Jr|Sr|Mt|Messrs"
    r"|No|Nos|Vol|Fig|Co|Corp|Inc|Ltd|vs|approx|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)|\b[A-Z]|\.[A-Za-z])\.$"
)
_ABBREVIATION_CHARS = 12  # the longest word _ABBREVIATION knows, with its full stop and some


class SentenceSplitter:
    """pysbd sentence boundaries with exact character offsets (a cursor walk, no search)."""

    def __init__(self) -> None:
        self._segmenter = None

    def split(self, text: str) -> list[Span]:
        spans: list[Span] = []
        offset = 0
        for paragraph in text.split("\n"):
            if paragraph.strip():
                spans.extend((offset + s, offset + e) for s, e in self._split_paragraph(paragraph))
            offset += len(paragraph) + 1
        return spans

    def _split_paragraph(self, paragraph: str) -> list[Span]:
        if len(paragraph) > _LONG_PARAGRAPH:
            segments = _FALLBACK_SPLIT.split(paragraph)
        else:
            segments = self._pysbd().segment(paragraph)
        spans, cursor = [], 0
        for segment in segments:
            piece = segment.strip()
            if not piece:
                continue
            start = _skip_space(paragraph, cursor)
            if not paragraph.startswith(piece, start):
                break  # the segmenter changed the text; keep the rest as one sentence
            spans.append((start, start + len(piece)))
            cursor = start + len(piece)
            _give_back_quote(paragraph, spans)
        rest = paragraph[cursor:]
        if rest.strip():
            start = _skip_space(paragraph, cursor)
            spans.append((start, len(paragraph.rstrip())))
        return [cut for span in spans for cut in _quoted_sentences(paragraph, *span)]

    def _pysbd(self):
        if self._segmenter is None:
            import pysbd

            self._segmenter = pysbd.Segmenter(language="en", clean=False)
        return self._segmenter


def _quoted_sentences(paragraph: str, start: int, end: int) -> list[Span]:
    """A segment with a quotation in it, cut at the sentence ends pysbd let pass:
    `"I came on as a replacement. "They could so easily…` is two sentences."""
    if not _DOUBLE_QUOTES.search(paragraph, start, end):
        return [(start, end)]  # pysbd's own cuts stand: "Maj. Gen. John Smith", "Yahoo! Japan"
    spans = []
    for found in _QUOTED_END.finditer(paragraph, start, end):
        if found.start() > start and not _ABBREVIATION.search(paragraph, max(start, found.start() - _ABBREVIATION_CHARS), found.start()):
            spans.append((start, found.end()))
            start = _skip_space(paragraph, found.end())
    return [*spans, (start, end)]


def _skip_space(text: str, i: int) -> int:
    return len(text) - len(text[i:].lstrip())


def _give_back_quote(paragraph: str, spans: list[Span]) -> None:
    """pysbd, confused by quotes left open across sentences (common in news copy), can start a
    sentence with the quote that closes the one before (`… quality.|" Gerhard Florin said …`):
    the quote goes back to the sentence it closes."""
    if len(spans) < 2:
        return
    (before_start, before_end), (start, end) = spans[-2], spans[-1]
    if before_end != start or paragraph[start - 1] not in ".!?,":
        return
    if end == start + 1 and paragraph[start] in _QUOTES:  # the quote alone, closing the paragraph's last sentence
        spans[-2:] = [(before_start, end)]
    elif (stray := _STRAY_CLOSE.match(paragraph, start)) and stray.end() < end:
        spans[-2:] = [(before_start, start + 1), (stray.end(), end)]


class Chunker:
    """Packs sentences into chunks of at most `max_tokens` model tokens, with sentence overlap.

    count_tokens: texts → token counts (no special tokens); token_spans: text → character span of
    each token. Both come from the embedding model's tokenizer.
    """

    def __init__(
        self,
        count_tokens: Callable[[list[str]], list[int]],
        token_spans: Callable[[str], list[Span]],
        max_tokens: int,
        overlap_sentences: int = 1,
    ):
        if max_tokens < 8:
            raise ValueError(f"max_tokens must be at least 8, got {max_tokens}")
        self.count_tokens, self.token_spans = count_tokens, token_spans
        self.max_tokens, self.overlap = max_tokens, overlap_sentences
        self.splitter = SentenceSplitter()

    def chunk(self, article: Article) -> list[Chunk]:
        sentences = self._fit(article.text, self.splitter.split(article.text))
        counts = self.count_tokens([article.text[s:e] for s, e in sentences]) if sentences else []
        chunks: list[Chunk] = []
        for first, last in self._pack(counts):
            members = tuple(sentences[first : last + 1])
            start, end = members[0][0], members[-1][1]
            chunks.append(Chunk(article.id, article.text[start:end], start, end, members))
        return chunks

    def _fit(self, text: str, sentences: list[Span]) -> list[Span]:
        """Cut any sentence longer than the budget into token windows."""
        counts = self.count_tokens([text[s:e] for s, e in sentences]) if sentences else []
        fitted: list[Span] = []
        for (start, end), count in zip(sentences, counts):
            if count <= self.max_tokens:
                fitted.append((start, end))
                continue
            tokens = self.token_spans(text[start:end])
            for i in range(0, len(tokens), self.max_tokens):
                window = tokens[i : i + self.max_tokens]
                fitted.append((start + window[0][0], start + window[-1][1]))
        return fitted

    def _pack(self, counts: Sequence[int]) -> list[tuple[int, int]]:
        """Greedy packing into (first, last) sentence index ranges, overlapping by whole sentences."""
        ranges: list[tuple[int, int]] = []
        first = 0
        while first < len(counts):
            last, total = first, counts[first]
            while last + 1 < len(counts) and total + counts[last + 1] <= self.max_tokens:
                last += 1
                total += counts[last]
            ranges.append((first, last))
            if last + 1 >= len(counts):
                break
            back = min(self.overlap, last - first)
            # overlap only while it leaves room for new text: half the budget, and the next sentence
            while back and (
                sum(counts[last - back + 1 : last + 1]) > self.max_tokens // 2
                or sum(counts[last - back + 1 : last + 2]) > self.max_tokens
            ):
                back -= 1
            first = last + 1 - back
        return ranges


def embedding_text(title: str, chunk_text: str, title_spans: list[Span]) -> str:
    """What gets embedded for a chunk: its article's title (cut to TITLE_TOKENS) then the chunk."""
    if not title:
        return chunk_text
    if len(title_spans) > TITLE_TOKENS:
        title = title[: title_spans[TITLE_TOKENS - 1][1]]
    return f"{title}\n{chunk_text}"
