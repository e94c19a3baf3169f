"""Uploads from the UI: saved under <index>/uploads/ with safe names that never replace another
story, then ingested; a rejected file leaves the folder and the index as they were."""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from qa.assistant import Assistant
from qa.config import UPLOADS_DIR
from qa.index import ArticleIndex
from qa.load import JSON_EXTENSIONS, LoadError, decode, load_file, own_id, record_to_article
from qa.store import Store

UPLOAD_TYPES = ("txt", "md", "html", "htm", "json", "jsonl")
MAX_UPLOAD_MB = 5
MAX_UPLOAD_FILES = 20


@dataclass(frozen=True)
class UploadResult:
    file: str  # the name as uploaded (shown as text)
    status: str  # added | updated | unchanged | duplicate | partial | rejected
    articles: str
    problems: str


def upload_name(name: str) -> str:
    """A safe base name: no directory parts, no '..', only word characters, '.', '-'."""
    base = re.split(r"[\\/]", name)[-1]
    base = re.sub(r"[^\w.-]+", "-", base)
    base = re.sub(r"\.{2,}", ".", base).strip(".-_ ")
    stem, dot, ext = base.rpartition(".")
    if not dot:
        stem, ext = base, ""
    stem = stem.strip(".-_")[:100] or "upload"
    return f"{stem}.{ext.lower()}" if ext else stem


def add_uploads(assistant: Assistant, files: list[tuple[str, bytes]], progress=None) -> list[UploadResult]:
    """Save uploads under <index>/uploads/ with safe names and ingest them; one result per file,
    in upload order. A rejected file is deleted again (an earlier good file of the same name is
    put back), so a bad upload leaves the index and the folder as they were."""
    folder = Path(assistant.index_dir) / UPLOADS_DIR
    results: list[UploadResult | None] = []
    saved: dict[Path, int] = {}  # file written → its position in results
    backups: dict[Path, Path] = {}
    claimed: set[str] = set()  # article ids this batch gives: text files' stems, JSON records' own ids
    for position, (name, data) in enumerate(files):
        reason = upload_problem(position, upload_name(name), data)
        if reason is None:
            folder.mkdir(parents=True, exist_ok=True)
            path = _free_path(assistant, folder, upload_name(name), data, claimed)
            if path.suffix.lower() in JSON_EXTENSIONS:
                data = _own_ids_apart(assistant, path, data, claimed)
            else:
                claimed.add(path.stem)
            if path.resolve().parent != folder.resolve():  # belt and braces: never outside uploads/
                reason = "unsafe file name"
        results.append(UploadResult(name, "rejected", "", reason) if reason else None)
        if reason:
            continue
        if path.exists():
            backups[path] = path.with_name(f".{path.name}.previous")
            os.replace(path, backups[path])
        path.write_bytes(data)
        saved[path] = position
    if saved:
        read = 0

        def step(_path: str) -> None:
            nonlocal read
            read += 1
            if progress:
                progress(read, len(saved))

        try:
            report = assistant.ingest(list(saved), progress=step)
        except BaseException:
            for path in saved:
                _restore(path, backups.get(path))
            raise
        for result in report.files:
            path = Path(result.path)
            if result.status == "rejected":
                _restore(path, backups.get(path))
            elif path in backups:
                backups[path].unlink(missing_ok=True)
            if path in saved:
                name = files[saved[path]][0]
                results[saved[path]] = UploadResult(name, result.status, ", ".join(result.article_ids), "; ".join(result.errors))
    return [r or UploadResult(files[i][0], "rejected", "", "not read") for i, r in enumerate(results)]


def upload_problem(position: int, safe_name: str, data: bytes) -> str | None:
    """Why an upload is refused before it is read, or None."""
    ext = safe_name.rpartition(".")[2] if "." in safe_name else ""
    if position >= MAX_UPLOAD_FILES:
        return f"more than {MAX_UPLOAD_FILES} files at once; add this one in another batch"
    if ext not in UPLOAD_TYPES:
        return f"unsupported file type {'.' + ext if ext else '(none)'}; allowed: {', '.join(UPLOAD_TYPES)}"
    if len(data) > MAX_UPLOAD_MB * 1024 * 1024:
        return f"{len(data) / 1024 / 1024:.1f} MB; the limit is {MAX_UPLOAD_MB} MB a file"
    return None


def _free_path(assistant: Assistant, folder: Path, name: str, data: bytes, claimed: set[str]) -> Path:
    """folder/name, numbered when this batch already gave that name's stem as an article id
    ("story.txt" and "story.md"; a JSON record's own id "story") or when saving it there would
    replace another story: a saved page is often just "index.html"."""
    path, stem, dot, ext = folder / name, *name.rpartition(".")
    number = 2
    while path.stem in claimed or _replaces_another(assistant, path, data):
        path = folder / (f"{stem}-{number}.{ext}" if dot else f"{name}-{number}")
        number += 1
    return path


def _replaces_another(assistant: Assistant, path: Path, data: bytes) -> bool:
    """Whether a file saved at `path` would replace an article of another story under an id made
    from the file's name (a text or HTML file's stem; a JSON record's without an id of its own):
    one loaded from elsewhere ("marlow-robotics-funding" of samples/), or an earlier upload of
    that name with another headline. The same headline is a new version of it."""
    if not ArticleIndex(assistant.index_dir).exists:
        return False
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / path.name
        copy.write_bytes(data)
        articles = load_file(copy, copy.parent).articles
    for article in articles:
        if article.id == path.stem or article.id.startswith(f"{path.stem}/"):  # "story", "story/2": named for the file
            stored = assistant.index.store.article(article.id)
            if stored is not None and (not path.exists() or stored.title != article.title):
                return True
    return False


def _own_ids_apart(assistant: Assistant, path: Path, data: bytes, claimed: set[str]) -> bytes:
    """The upload with each JSON record whose own id is taken given a numbered id ("7-2"): taken
    by an article with another headline (feeds number their records alike) or by an earlier file
    of this batch (`claimed`, which gets this file's ids). The same headline is a new version of
    that article; a numbered id is given again only to the same story, unchanged. Records of one
    file that share an id are versions of one article (the later one is kept), as `ingest` has it."""
    try:
        lines = decode(data, path).split("\n") if path.suffix.lower() == ".jsonl" else [decode(data, path)]
    except LoadError:
        return data  # the ingest says why
    parsed = []
    for i, line in enumerate(lines):
        try:
            value = json.loads(line)
        except (ValueError, RecursionError):
            continue
        parsed.append((i, value, [r for r in (value if isinstance(value, list) else [value]) if isinstance(r, dict)]))
    records = [r for _, _, rs in parsed for r in rs]
    own = {own_id(r) for r in records} - {None}
    store = assistant.index.store if ArticleIndex(assistant.index_dir).exists else None
    numbering = _Numbering(store, path, frozenset(claimed), own)
    changed = {i for i, _, rs in parsed for r in rs if numbering.renumber(r)}
    for i, value, _ in parsed:
        if i in changed:
            lines[i] = json.dumps(value)  # ASCII escapes: a lone surrogate stays one, as the loader reads it
    claimed.update(numbering.given.values())  # the ids its records end with
    return "\n".join(lines).encode() if changed else data


@dataclass
class _Numbering:
    """Numbered ids for one upload's records whose own id is taken."""

    store: Store | None  # the index's, when there is one
    path: Path
    claimed: frozenset[str]  # ids earlier files of the batch give
    own: set[str]  # ids this file gives
    given: dict = field(default_factory=dict)  # own id → the id its records get

    def renumber(self, record: dict) -> bool:
        record_id = own_id(record)
        if record_id is None:
            return False
        try:
            article = record_to_article(record, record_id, self.path)
        except LoadError:
            return False  # the ingest says why
        if record_id not in self.given:
            self.given[record_id] = self._free(record_id, article)
        record["id"] = self.given[record_id]
        return record["id"] != record_id

    def _free(self, record_id: str, article) -> str:
        store = self.store
        stored = store.article(record_id) if store else None
        if record_id not in self.claimed and (stored is None or stored.title == article.title):
            return record_id  # new, or a new version
        number = 2
        while True:
            candidate = f"{record_id}-{number}"
            stored = store.article(candidate) if store else None
            unchanged = stored is not None and stored.content_hash == article.content_hash
            if candidate not in self.claimed and candidate not in self.own and (stored is None or unchanged):
                return candidate
            number += 1


def _restore(path: Path, backup: Path | None) -> None:
    path.unlink(missing_ok=True)
    if backup is not None and backup.exists():
        os.replace(backup, path)
