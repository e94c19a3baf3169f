"""Text normalisation, boilerplate removal and header (byline/dateline) parsing.

The rules describe kinds of lines that news sites wrap around a story (calls to action,
copyright notices, contact lines, comment prompts), not the sentences of any one site.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime

from dateutil import parser as dateparser

_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
# C0 and C1 control characters (ESC and CSI start terminal escape sequences), tab and newline aside
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_LINE_SEPARATORS = re.compile("[\u2028\u2029]")
_ENTITY = re.compile(r"&(?:#\d{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z]{2,8});")  # left in text copied from web pages: "fianc&#233;e"
_SURROGATE = re.compile("[\ud800-\udfff]")  # lone halves (from JSON escapes) cannot be stored as UTF-8
MAX_MARKDOWN_CHARS = 200_000  # a long news story is some 30,000; parsing costs about 10 µs a mark or line

_MONTHS = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
    r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
_DATE = re.compile(
    rf"\b(?:{_MONTHS}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTHS},?\s+\d{{4}}"
    r"|\d{4}-\d{2}-\d{2})\b"
)
_WEEKDAY = re.compile(r"\b(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day\b,?\s*")
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+\.[\w.-]+\b")
_URL_ONLY = re.compile(r"^\s*(?:https?://|www\.)\S+\s*$")
_SEPARATORS = re.compile(r"\s+[-–—|·•]\s+|^\s*[-–—|·•]\s+")

# Kinds of boilerplate lines, each with the longest line (in words) it may remove: calls to
# action and notices are short, story paragraphs that merely mention such words are not.
_BOILERPLATE: list[tuple[re.Pattern, int]] = [
    (re.compile(r"©|\(c\)\s*\d{4}|\bcopyright\s*(?:©|\(c\)|\d{4})|\ball rights reserved\b", re.I), 30),
    (re.compile(
        r"^\W*(?:click|tap|subscribe|sign (?:up|in)\b|log ?in\b|follow us|share (?:this|on|via)\b|"
        r"read (?:more|next|also)\b|see (?:more|also)\b|view (?:all )?comments|show comments|"
        r"advertisement\b|sponsored\b|related(?: articles| stories| content)?\s*:|recommended (?:for you|articles|stories)|"
        r"most (?:read|popular)\b|download (?:our|the) app|listen to (?:this|the) (?:article|story)|print (?:this|article|page)\b|"
        r"email this|photo:|image:|video:|watch:|(?:leave|post|add) a comment|comments?\s*\(\d+\))",
        re.I,
    ), 15),
    (re.compile(
        r"\b(?:comment policy|comments? (?:are|is) (?:closed|moderated)|click (?:here|to)\b|reprint permission|"
        r"terms of (?:use|service)|privacy policy|cookie (?:policy|settings)|(?:sign up|subscribe) (?:for|to) (?:our|the) \w+ ?newsletter|"
        r"can be (?:reached|contacted) at|follow (?:him|her|them) on)\b",
        re.I,
    ), 20),
]


def normalize_text(text: str) -> str:
    """Unicode NFC, one newline style, character references decoded, no invisible or control
    characters, tidy blank lines."""
    text = _ENTITY.sub(_decoded, text)
    text = _LINE_SEPARATORS.sub("\n", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = unicodedata.normalize("NFC", clean_string(text))
    text = _CONTROL.sub("", _INVISIBLE.sub("", text)).replace("\t", " ")
    lines = [re.sub(r" {2,}", " ", line).strip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _decoded(reference: re.Match) -> str:
    character = html.unescape(reference.group(0))
    return reference.group(0) if character == "\ufffd" else character  # "&#0;" names no character


def markdown_text(markdown: str) -> str:
    """Markdown as the words a reader sees: a line for each of its lines, emphasis and code marks
    and links' addresses gone ("[the council](https://…)" → "the council"), an image its alt text;
    list numbers and bullets stay. A text longer than any article (its parse takes seconds) is
    left as it is."""
    if len(markdown) > MAX_MARKDOWN_CHARS:
        return markdown
    from markdown_it import MarkdownIt  # only when a Markdown file comes along

    blocks = []
    # Lists, indented code and HTML are read as text: "1. Usher" of a chart, "<Reuters>", an indented paragraph
    for token in MarkdownIt("commonmark").disable(["list", "code", "html_block", "html_inline"]).parse(markdown):
        if token.type == "inline":
            blocks.append("".join(_inline_text(child) for child in token.children or ()))
        elif token.type == "fence":
            blocks.append(token.content)
    return "\n\n".join(block.strip() for block in blocks if block.strip())


def _inline_text(token) -> str:
    if token.type in ("text", "code_inline"):
        return token.content
    if token.type in ("softbreak", "hardbreak"):
        return "\n"  # a line of its own in the file stays one: a title, a byline
    if token.type == "image":
        return "".join(_inline_text(child) for child in token.children or ())
    return ""  # marks (emphasis, links' ends) and inline HTML


def clean_string(value: str) -> str:
    """A string that can be stored and printed: lone surrogates become U+FFFD."""
    return _SURROGATE.sub("\ufffd", value)


def is_boilerplate(line: str) -> bool:
    words = line.split()
    if not words:
        return False
    if _URL_ONLY.match(line):
        return True
    if _EMAIL.search(line) and len(words) <= 20:
        return True  # contact lines ("X can be reached at x@site.com")
    return any(len(words) <= limit and rule.search(line) for rule, limit in _BOILERPLATE)


def drop_boilerplate(text: str) -> str:
    """Remove boilerplate lines, keeping paragraph breaks between the lines that stay."""
    kept = [line for line in text.split("\n") if not is_boilerplate(line)]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip()


def parse_date(text: str | None) -> str | None:
    """An ISO date from a date string: yyyy-mm-dd, or as much of it as the text gives ("March
    2005" → 2005-03, "2005"); None when it gives no year ("Monday") or is no date."""
    if not text:
        return None
    text = text.strip()
    match = _DATE.search(text)
    candidate = match.group(0) if match else text
    if not match and len(text) > 40:
        return None
    try:  # parsed twice with other defaults: a part the text lacks ("2005", "March 2005", "Monday") would come from them
        parsed = [dateparser.parse(candidate, default=default) for default in (datetime(2000, 1, 1), datetime(2001, 2, 2))]
    except (ValueError, OverflowError, TypeError):
        return None
    first, second = parsed
    if first.year != second.year or not (1900 <= first.year <= date.today().year + 1):
        return None
    if first.month != second.month:
        return f"{first.year}"  # "2005"
    return f"{first.year}-{first.month:02d}" if first.day != second.day else first.date().isoformat()  # "March 2005": 2005-03


@dataclass(frozen=True)
class Header:
    source: str | None = None
    author: str | None = None
    published: str | None = None


def parse_header(line: str) -> Header | None:
    """Read a byline/dateline such as '- The Daily Post - Tuesday, February 1, 2022'
    or 'By Jane Doe | Riverside Courier | March 3, 2026'. None when the line is not one."""
    if len(line.split()) > 20 or line.rstrip().endswith((".", "?", "!", '"', "”")):
        return None
    match = _DATE.search(line)
    # "By" + capitalised name words, so a headline such as "By land and sea, …" is no byline
    is_byline = re.match(r"^\W*[Bb][Yy]\s+(?:[A-Z][\w.'’-]*\s*){1,4}(?:$|[-–—|·•,])", line) is not None
    if not match and not is_byline:
        return None
    if match and not is_byline and not _SEPARATORS.search(line) and _WEEKDAY.sub("", line).strip(" ,") != match.group(0):
        return None  # a headline that mentions a date ("Storm hits coast on 12 May 2025")
    published = parse_date(match.group(0)) if match else None
    rest = _WEEKDAY.sub("", line[: match.start()] + line[match.end() :]) if match else line
    author = source = None
    for part in (p.strip(" ,-–—|·•") for p in _SEPARATORS.split(rest)):
        if not part:
            continue
        by = re.match(r"^by\s+(.+)$", part, re.I)
        if by and author is None:
            author = by.group(1).strip()
        elif source is None and part[0].isupper():
            source = part
    return Header(source=source, author=author, published=published)


def title_from_text(text: str, limit: int = 90) -> str:
    """A headline stand-in for an article that has none: its first sentence, shortened."""
    first = re.split(r"(?<=[.!?])\s", text.strip(), maxsplit=1)[0]
    if len(first) <= limit:
        return first.rstrip(".")
    return first[:limit].rsplit(" ", 1)[0] + "…"
