"""Load articles from files and folders: .txt/.md, .html/.htm, .json and .jsonl.

Every problem becomes a LoadError naming the file (and line) and the reason; the caller
reports it and goes on with the other files.
"""

from __future__ import annotations

import json
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from qa.clean import clean_string, drop_boilerplate, markdown_text, normalize_text, parse_date, parse_header, title_from_text
from qa.schema import Article

TEXT_EXTENSIONS = (".txt", ".md")
HTML_EXTENSIONS = (".html", ".htm")
JSON_EXTENSIONS = (".json", ".jsonl")
EXTENSIONS = TEXT_EXTENSIONS + HTML_EXTENSIONS + JSON_EXTENSIONS
MAX_JSON_DEPTH = 50
MAX_TITLE_CHARS = 1_000  # a headline; anything longer is not one


class LoadError(Exception):
    def __init__(self, path: str | Path, reason: str, line: int | None = None):
        self.path, self.reason, self.line = str(path), reason, line
        where = f"{self.path}:{line}" if line else self.path
        super().__init__(f"{where}: {reason}")

    def detached(self) -> "LoadError":
        """This error without its traceback and the exception it replaced: a report keeps only
        the message, not the frames (and, through them, the file's text and the caller's index)."""
        self.__traceback__ = self.__context__ = self.__cause__ = None
        return self


@dataclass(frozen=True)
class Loaded:
    """What one file gave: its articles and the problems found in it."""

    path: Path
    articles: tuple[Article, ...]
    errors: tuple[LoadError, ...]


def discover(paths: Iterable[str | Path]) -> Iterator[tuple[Path, Path]]:
    """(file, root) pairs: folders are walked recursively, hidden entries skipped."""
    for given in map(Path, paths):
        if given.is_dir():
            for path in sorted(given.rglob("*")):
                rel = path.relative_to(given)
                if path.is_file() and not any(part.startswith(".") for part in rel.parts):
                    yield path, given
        else:
            yield given, given.parent


def load_file(path: Path, root: Path, max_bytes: int = 20_000_000, max_chars: int = 1_000_000) -> Loaded:
    try:
        articles, errors = _load(path, root, max_bytes)
    except LoadError as error:
        return Loaded(path, (), (error.detached(),))
    kept: list[Article] = []
    for article in articles:
        if len(article.text) > max_chars:
            errors.append(LoadError(path, f"article {article.id!r} is {len(article.text):,} characters; the limit is {max_chars:,}"))
        elif len(article.title) > MAX_TITLE_CHARS:
            errors.append(LoadError(path, f"article {article.id!r} has a title of {len(article.title):,} characters; the limit is {MAX_TITLE_CHARS:,}"))
        else:
            kept.append(article)
    return Loaded(path, tuple(kept), tuple(errors))


def _load(path: Path, root: Path, max_bytes: int) -> tuple[list[Article], list[LoadError]]:
    suffix = path.suffix.lower()
    if suffix not in EXTENSIONS:
        raise LoadError(path, f"unsupported file type {suffix or '(none)'!r}; supported: {', '.join(EXTENSIONS)}")
    text = decode(read_bytes(path, max_bytes), path)
    default_id = path.relative_to(root).with_suffix("").as_posix() if path.is_relative_to(root) else path.stem
    if suffix in TEXT_EXTENSIONS:
        return [parse_text(markdown_text(text) if suffix == ".md" else text, default_id, path)], []
    if suffix in HTML_EXTENSIONS:
        return [parse_html(text, default_id, path)], []
    if suffix == ".json":
        return parse_json(text, default_id, path)
    return parse_jsonl(text, default_id, path)


def read_bytes(path: Path, max_bytes: int) -> bytes:
    try:
        info = path.stat()
        size = info.st_size
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError
        if not stat.S_ISREG(info.st_mode):  # a FIFO or device would block or never end
            raise LoadError(path, "not a regular file (a pipe, socket or device), expected a file")
        if size > max_bytes:
            raise LoadError(path, f"file is {size:,} bytes; the limit is {max_bytes:,}")
        data = path.read_bytes()
    except FileNotFoundError:
        raise LoadError(path, "no such file or folder") from None
    except IsADirectoryError:
        raise LoadError(path, "is a folder, expected a file") from None
    except OSError as error:
        raise LoadError(path, f"cannot be read ({error.strerror or error})") from None
    if not data.strip():
        raise LoadError(path, "file is empty")
    return data


def decode(data: bytes, path: Path) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, else the legacy cp1252 / latin-1."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = _try_decode(data, "utf-16")
    elif b"\x00" in data:
        raise LoadError(path, "binary file (contains NUL bytes), expected text")
    else:
        text = _try_decode(data, "utf-8-sig") or _try_decode(data, "cp1252") or data.decode("latin-1")
    if text is None:
        raise LoadError(path, "cannot be decoded as text")
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\n\r\t\f")
    if controls > max(8, len(text) // 50):
        raise LoadError(path, "binary file (too many control characters), expected text")
    return text


def _try_decode(data: bytes, encoding: str) -> str | None:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        return None


def parse_text(raw: str, article_id: str, path: Path) -> Article:
    """Plain text or Markdown: the first non-empty line is the title. A byline/dateline
    before or after it gives source, author and date instead of being story text."""
    lines = normalize_text(raw).split("\n")
    title, header, i = None, None, 0
    while i < len(lines):
        line = lines[i]
        if line and header is None and (parsed := parse_header(line)):
            header = parsed
        elif line and title is None and _looks_like_title(line):
            title = line.lstrip("#").strip()
        elif line:
            break
        i += 1
    body = drop_boilerplate("\n".join(lines[i:]))
    if not body:
        raise LoadError(path, "no article text after the title")
    return Article(
        id=article_id,
        title=title or title_from_text(body),
        text=body,
        source=header.source if header else None,
        author=header.author if header else None,
        published=header.published if header else None,
        meta={"path": str(path)},
    )


def _looks_like_title(line: str) -> bool:
    return line.startswith("#") or (len(line) <= 200 and not line.endswith("."))


def parse_html(raw: str, article_id: str, path: Path) -> Article:
    import trafilatura  # heavy; only when an HTML file comes along

    try:
        doc = trafilatura.bare_extraction(raw, with_metadata=True, include_comments=False, include_tables=False)
    except Exception as error:  # trafilatura raises assorted parser errors on hostile markup
        raise LoadError(path, f"HTML could not be parsed ({type(error).__name__})") from None
    if doc is None or not (doc.text or "").strip():
        raise LoadError(path, "no article text found in the HTML page")
    text = normalize_text(doc.text)
    title = normalize_text(doc.title or "")
    if title and text.split("\n", 1)[0].strip() == title:
        text = text.split("\n", 1)[1] if "\n" in text else ""
    text = drop_boilerplate(text)
    if not text:
        raise LoadError(path, "no article text found in the HTML page")
    return Article(
        id=article_id,
        title=title or title_from_text(text),
        text=text,
        source=doc.sitename or None,
        url=doc.url or None,
        published=parse_date(doc.date),
        author=doc.author or None,
        meta={"path": str(path)},
    )


def record_to_article(record: object, default_id: str, path: Path, line: int | None = None) -> Article:
    """One JSON object → Article; fields title, text|body|content, id, url, source, published|date, author."""
    if not isinstance(record, dict):
        raise LoadError(path, f"expected a JSON object, got {type(record).__name__}", line)
    body = next((record[k] for k in ("text", "body", "content") if record.get(k) is not None), None)
    if not isinstance(body, str) or not body.strip():
        raise LoadError(path, "record has no text (fields: text, body or content)", line)
    text = drop_boilerplate(normalize_text(body))
    if not text:
        raise LoadError(path, "record text is only boilerplate", line)
    fields = {k: record.get(k) for k in ("title", "url", "source", "author", "id")}
    for key, value in fields.items():
        if value is not None and not isinstance(value, (str, int)):
            raise LoadError(path, f"field {key!r} must be a string, got {type(value).__name__}", line)
    published = record.get("published") or record.get("date")
    if published is not None and not isinstance(published, (str, int, float)):
        raise LoadError(path, f"field 'published' must be a date string, got {type(published).__name__}", line)
    return Article(
        id=own_id(record) or default_id,
        title=normalize_text(str(fields["title"] or "")) or title_from_text(text),
        text=text,
        source=_opt_str(fields["source"]),
        url=_opt_str(fields["url"]),
        published=parse_date(str(published)) or _opt_str(published),
        author=_opt_str(fields["author"]),
        meta={clean_string(k): clean_string(v) if isinstance(v, str) else v
              for k, v in record.items() if k not in ("text", "body", "content") and isinstance(v, (str, int, float))},
    )


def own_id(record: dict) -> str | None:
    """A JSON record's own id, if it gives one (a string or a number)."""
    value = record.get("id")
    return clean_string(str(value)) if isinstance(value, (str, int)) and value != "" else None


def parse_json(raw: str, default_id: str, path: Path) -> tuple[list[Article], list[LoadError]]:
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as error:
        raise LoadError(path, f"malformed JSON ({error.msg}, column {error.colno})", error.lineno) from None
    except RecursionError:
        raise LoadError(path, "JSON nested too deeply") from None
    except ValueError as error:  # e.g. an integer of more than 4,300 digits
        raise LoadError(path, f"malformed JSON ({str(error).split(';')[0]})") from None
    records = data if isinstance(data, list) else [data]
    if not records:
        raise LoadError(path, "JSON list is empty: no articles in the file")
    articles, errors = [], []
    for i, record in enumerate(records):
        record_id = default_id if len(records) == 1 else f"{default_id}/{i + 1}"
        try:
            articles.append(record_to_article(record, record_id, path))
        except LoadError as error:
            errors.append(LoadError(path, f"record {i + 1}: {error.reason}"))
    return articles, errors


def parse_jsonl(raw: str, default_id: str, path: Path) -> tuple[list[Article], list[LoadError]]:
    articles, errors = [], []
    # lines end at "\n" only: U+2028 and friends may sit unescaped inside JSON strings
    for number, line in enumerate(raw.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            errors.append(LoadError(path, f"malformed JSON line ({error.msg}, column {error.colno})", number))
            continue
        except RecursionError:
            errors.append(LoadError(path, "JSON nested too deeply", number))
            continue
        except ValueError as error:  # e.g. an integer of more than 4,300 digits
            errors.append(LoadError(path, f"malformed JSON line ({str(error).split(';')[0]})", number))
            continue
        try:
            articles.append(record_to_article(record, f"{default_id}/{number}", path, number))
        except LoadError as error:
            errors.append(error.detached())
    if not articles and not errors:
        raise LoadError(path, "file is empty")
    return articles, errors


def _opt_str(value: object) -> str | None:
    return clean_string(str(value)).strip() or None if value is not None else None


