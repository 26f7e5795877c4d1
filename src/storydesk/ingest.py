"""Ingest: read articles from files, folders, JSON Lines, HTML pages and feeds.

Every input becomes either an :class:`~storydesk.models.Article` (cleaned and
split into sentences) or a :class:`~storydesk.models.Rejection` with a specific
reason. Bad input never stops the run and never touches what is already stored.

Supported inputs:
    * plain text (``.txt``, ``.text``, no extension): an optional first-line header
      `` date 2023-08-14`` followed by the article; a headline on the first line is
      detected by the cleaner;
    * JSON Lines (``.jsonl``, ``.ndjson``) and JSON arrays (``.json``): objects with
      ``id, outlet, title, published, url, text``;
    * HTML pages (``.html``, ``.htm``): main text and metadata via trafilatura;
    * RSS/Atom feeds (``.xml``, ``.rss``, ``.atom``): one article per entry.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from storydesk import clean as clean_mod
from storydesk.errors import InputError, RejectedInput
from storydesk.models import Article, Rejection, Sentence
from storydesk.pipeline import Progress, no_progress
from storydesk.store.base import Store
from storydesk.textutil import content_id, normalize_text, sha256_bytes, split_sentences

VERSION = "ingest-1"

#: Largest input file read whole (JSON Lines files are streamed and limited per line).
MAX_FILE_BYTES = 25 * 1024 * 1024
MAX_RECORD_BYTES = 5 * 1024 * 1024
#: Dates further in the future than this are refused as impossible publication dates.
FUTURE_SLACK = dt.timedelta(days=2)
EARLIEST = dt.date(1800, 1, 1)

TEXT_EXT = {".txt", ".text", ".md", ""}
JSONL_EXT = {".jsonl", ".ndjson"}
JSON_EXT = {".json"}
HTML_EXT = {".html", ".htm", ".xhtml"}
FEED_EXT = {".xml", ".rss", ".atom"}

_MAGIC = {
    b"\x89PNG": "a PNG image",
    b"%PDF": "a PDF document",
    b"PK\x03\x04": "a ZIP archive (or docx/xlsx)",
    b"\x1f\x8b": "a gzip archive",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"\x7fELF": "an executable",
    b"BZh": "a bzip2 archive",
    b"\xfd7zXZ": "an xz archive",
    b"SQLite format 3": "an SQLite database",
}

_HEADER = re.compile(r"^\s*date\s*[:=]?\s*(\S+)[ \t]*", re.I)


@dataclass
class RawItem:
    """One article as read from an input, before cleaning."""

    source: str
    key: str
    format: str
    raw_sha256: str
    text: str = ""
    title: str | None = None
    outlet: str | None = None
    published: dt.date | None = None
    published_source: str = "unknown"
    url: str | None = None
    detect_title: bool = True


@dataclass
class IngestReport:
    """What one ingest call did."""

    added: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no input was rejected."""
        return not self.rejected

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""
        return {
            "added": len(self.added),
            "already_stored": len(self.skipped),
            "rejected": [{"source": r.source, "code": r.code, "reason": r.reason} for r in self.rejected],
        }


# --------------------------------------------------------------------------- discovery


def discover(paths: Iterable[str | Path]) -> Iterator[tuple[Path, str]]:
    """Yield ``(file, display_path)`` for every file under the given paths, sorted.

    ``display_path`` is relative to the folder given on the command line, so the same
    corpus gets the same ids wherever it lives. Hidden files are skipped.
    """
    for p in paths:
        path = Path(p)
        if not path.exists():
            raise InputError(f"{p}: no such file or folder")
        if path.is_dir():
            for f in sorted(path.rglob("*")):
                rel = f.relative_to(path)
                if f.is_file() and not any(part.startswith(".") for part in rel.parts):
                    yield f, rel.as_posix()
        else:
            yield path, path.name


def _format_of(path: Path, head: bytes) -> str:
    """Pick the reader from the extension, sniffing content for unknown extensions."""
    ext = path.suffix.lower()
    if ext in JSONL_EXT:
        return "jsonl"
    if ext in JSON_EXT:
        return "json"
    if ext in HTML_EXT:
        return "html"
    if ext in FEED_EXT:
        return "feed"
    sniff = head[:2048].lstrip().lower()
    if sniff.startswith((b"<?xml", b"<rss", b"<feed")) and (b"<rss" in sniff or b"<feed" in sniff):
        return "feed"
    if sniff.startswith((b"<!doctype html", b"<html")):
        return "html"
    return "text"


def _check_bytes(data: bytes, source: str) -> None:
    """Reject empty and binary inputs with a specific reason."""
    if not data.strip():
        raise RejectedInput(source, "empty", "empty file (no text)")
    for magic, what in _MAGIC.items():
        if data.startswith(magic):
            raise RejectedInput(source, "binary", f"binary file: looks like {what}, not an article")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return  # UTF-16 text legitimately holds NUL bytes
    head = data[:8192]
    if b"\x00" in head:
        raise RejectedInput(source, "binary", "binary file: contains NUL bytes")
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13))
    if controls > max(8, len(head) // 50):
        raise RejectedInput(source, "binary", f"binary file: {controls} control bytes in the first {len(head)}")


def decode(data: bytes, source: str, encoding: str | None = None) -> str:
    """Decode bytes as UTF-8 (BOM-aware, UTF-16 with BOM) or a forced encoding.

    Other encodings are not guessed: a wrong guess silently corrupts names and
    quotes, so an undecodable file is rejected with the offending byte instead.
    """
    if encoding:
        try:
            return data.decode(encoding)
        except (UnicodeDecodeError, LookupError) as e:
            raise RejectedInput(source, "encoding", f"cannot decode as {encoding}: {e}") from e
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as e:
            raise RejectedInput(source, "encoding", f"invalid UTF-16: {e.reason} at byte {e.start}") from e
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        bad = data[e.start : e.start + 1].hex()
        raise RejectedInput(
            source,
            "encoding",
            f"not valid UTF-8 (byte 0x{bad} at offset {e.start}); re-encode the file as UTF-8 "
            "or pass --encoding (e.g. cp1252)",
        ) from e


# --------------------------------------------------------------------------- dates


def parse_published(value: Any, source: str) -> dt.date | None:
    """Parse a publication date field; None for null/empty, rejection when impossible."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str | int | float):
        raise RejectedInput(source, "date", f"published date must be a string, got {type(value).__name__}")
    s = str(value).strip()
    d: dt.date | None = None
    m = re.match(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ].*)?$", s)
    if m:
        try:
            d = dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError as e:
            raise RejectedInput(source, "date", f"published date {s!r} is impossible: {e}") from e
    else:
        try:
            d = email.utils.parsedate_to_datetime(s).date()
        except (TypeError, ValueError, IndexError):
            for fmt in ("%B %d, %Y", "%b %d, %Y", "%d %B %Y", "%d %b %Y", "%Y/%m/%d"):
                try:
                    d = dt.datetime.strptime(s, fmt).date()
                    break
                except ValueError:
                    continue
    if d is None:
        raise RejectedInput(source, "date", f"published date {s!r} is not a date (use YYYY-MM-DD)")
    check_date(d, source)
    return d


def check_date(d: dt.date, source: str) -> None:
    """Refuse publication dates that cannot be right (far future, before 1800)."""
    if d > dt.date.today() + FUTURE_SLACK:
        raise RejectedInput(source, "date", f"published date {d.isoformat()} is in the future")
    if d < EARLIEST:
        raise RejectedInput(source, "date", f"published date {d.isoformat()} is before {EARLIEST.year}")


# --------------------------------------------------------------------------- readers


def read_path(
    path: Path, display: str, encoding: str | None = None, max_bytes: int = MAX_FILE_BYTES
) -> Iterator[RawItem | RejectedInput]:
    """Read one file into raw items (or rejections)."""
    try:
        size = path.stat().st_size
    except OSError as e:
        yield RejectedInput(display, "unreadable", f"cannot read: {e.strerror or e}")
        return
    with path.open("rb") as fh:
        head = fh.read(8192)
    fmt = _format_of(path, head)
    if fmt == "jsonl":
        yield from _read_jsonl(path, display, encoding)
        return
    if size > max_bytes:
        yield RejectedInput(
            display, "too_large", f"file is {size / 1e6:.1f} MB, over the {max_bytes / 1e6:.0f} MB limit"
        )
        return
    try:
        data = path.read_bytes()
    except OSError as e:
        yield RejectedInput(display, "unreadable", f"cannot read: {e.strerror or e}")
        return
    try:
        _check_bytes(data, display)
        if fmt == "json":
            yield from _read_json(data, display, encoding)
        elif fmt == "html":
            yield _read_html(data, display, encoding)
        elif fmt == "feed":
            yield from _read_feed(data, display)
        else:
            yield _read_text(data, display, encoding)
    except RejectedInput as r:
        yield r


def _read_text(data: bytes, source: str, encoding: str | None) -> RawItem:
    """A plain-text article with an optional `` date YYYY-MM-DD`` first-line header."""
    text = decode(data, source, encoding)
    published = None
    published_source = "unknown"
    m = _HEADER.match(text)
    if m and re.match(r"\d", m.group(1)):
        published = parse_published(m.group(1), source)
        published_source = "header"
        text = text[m.end() :]
    if not re.search(r"[^\W\d_]{2}", text):
        raise RejectedInput(source, "no_text", "no article text (no words found)")
    return RawItem(
        source=source,
        key=source,
        format="text",
        raw_sha256=sha256_bytes(data),
        text=text,
        published=published,
        published_source=published_source,
    )


_FIELD_ALIASES = {
    "text": ("text", "body", "content", "article"),
    "title": ("title", "headline"),
    "outlet": ("outlet", "source", "publisher", "site", "site_name"),
    "published": ("published", "date", "published_at", "pubdate", "publication_date"),
    "url": ("url", "link"),
    "id": ("id", "uid", "guid"),
}


def _field(obj: dict[str, Any], name: str) -> Any:
    """The first present alias of a field."""
    for k in _FIELD_ALIASES[name]:
        if k in obj and obj[k] is not None:
            return obj[k]
    return None


def _record_item(obj: Any, source: str, raw: bytes, fmt: str) -> RawItem:
    """Validate one JSON object and turn it into a raw item."""
    if not isinstance(obj, dict):
        raise RejectedInput(source, "fields", f"expected a JSON object, got {type(obj).__name__}")
    text = _field(obj, "text")
    title = _field(obj, "title")
    if text is not None and not isinstance(text, str):
        raise RejectedInput(source, "fields", f"'text' must be a string, got {type(text).__name__}")
    if title is not None and not isinstance(title, str):
        raise RejectedInput(source, "fields", f"'title' must be a string, got {type(title).__name__}")
    if not (text or "").strip() and not (title or "").strip():
        raise RejectedInput(source, "no_text", "record has neither 'text' nor 'title'")
    if len(raw) > MAX_RECORD_BYTES:
        raise RejectedInput(source, "too_large", f"record is {len(raw) / 1e6:.1f} MB, over the limit")
    outlet = _field(obj, "outlet")
    url = _field(obj, "url")
    published = parse_published(_field(obj, "published"), source)
    rid = _field(obj, "id")
    return RawItem(
        source=str(rid) if rid is not None else source,
        key=str(rid) if rid is not None else source,
        format=fmt,
        raw_sha256=sha256_bytes(raw),
        text=text or "",
        title=title.strip() if isinstance(title, str) and title.strip() else None,
        outlet=str(outlet).strip() if outlet else None,
        published=published,
        published_source="metadata" if published else "unknown",
        url=str(url) if url else None,
        detect_title=False,
    )


def _read_jsonl(path: Path, display: str, encoding: str | None) -> Iterator[RawItem | RejectedInput]:
    """Stream a JSON Lines file; a bad line is rejected alone, the rest still load."""
    with path.open("rb") as fh:
        first = fh.read(8192)
        if not first.strip():
            yield RejectedInput(display, "empty", "empty file (no records)")
            return
        fh.seek(0)
        for n, raw in enumerate(fh, start=1):
            src = f"{display}:{n}"
            if not raw.strip():
                continue
            try:
                if b"\x00" in raw:
                    raise RejectedInput(src, "binary", "line contains NUL bytes")
                line = decode(raw, src, encoding)
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as e:
                    raise RejectedInput(src, "json", f"malformed JSON: {e.msg} (column {e.colno})") from e
                yield _record_item(obj, src, raw, "jsonl")
            except RejectedInput as r:
                yield r


def _read_json(data: bytes, source: str, encoding: str | None) -> Iterator[RawItem | RejectedInput]:
    """A JSON file holding one article object, a list of them, or ``{"articles": [...]}``."""
    text = decode(data, source, encoding)
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as e:
        raise RejectedInput(source, "json", f"malformed JSON: {e.msg} (line {e.lineno}, column {e.colno})") from e
    items = obj.get("articles") if isinstance(obj, dict) and isinstance(obj.get("articles"), list) else obj
    if isinstance(items, dict):
        items = [items]
    if not isinstance(items, list):
        raise RejectedInput(source, "fields", "expected an article object or a list of them")
    for i, it in enumerate(items):
        src = f"{source}[{i}]"
        try:
            yield _record_item(it, src, json.dumps(it).encode(), "json")
        except RejectedInput as r:
            yield r


def _read_html(data: bytes, source: str, encoding: str | None) -> RawItem:
    """Main text and metadata of an HTML page (trafilatura)."""
    import trafilatura

    html = decode(data, source, encoding)
    if not re.search(r"<\s*(html|body|p|div|article)\b", html, re.I):
        raise RejectedInput(source, "html", "not an HTML page (no html/body/p elements)")
    try:
        doc = trafilatura.bare_extraction(
            # no deduplicate: trafilatura keeps its seen-segments cache for the whole process, so a page
            # ingested twice (or a second page sharing its paragraphs) would lose its text
            html, with_metadata=True, include_comments=False, include_tables=False, deduplicate=False
        )
    except Exception as e:  # trafilatura raises assorted lxml errors on broken markup
        raise RejectedInput(source, "html", f"cannot parse HTML: {type(e).__name__}: {e}") from e
    if doc is None:
        raise RejectedInput(source, "html", "no article text found in the HTML page")
    meta = doc if isinstance(doc, dict) else doc.as_dict()
    text = meta.get("text") or ""
    if not re.search(r"[^\W\d_]{2}", text):
        raise RejectedInput(source, "no_text", "no article text found in the HTML page")
    published = None
    if meta.get("date"):
        try:
            published = parse_published(meta["date"], source)
        except RejectedInput:
            published = None  # a page's guessed date is a hint, not a claim worth refusing the page for
    return RawItem(
        source=source,
        key=meta.get("url") or source,
        format="html",
        raw_sha256=sha256_bytes(data),
        text=text.replace("\n", "\n\n"),
        title=meta.get("title") or None,
        outlet=meta.get("sitename") or None,
        published=published,
        published_source="metadata" if published else "unknown",
        url=meta.get("url") or None,
        detect_title=False,
    )


def html_fragment_to_text(fragment: str) -> str:
    """Paragraph text of an HTML fragment (feed entry bodies)."""
    import lxml.html

    if not re.search(r"<[a-zA-Z]", fragment):
        return fragment
    try:
        root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    except Exception:  # broken fragments: fall back to tag stripping
        return re.sub(r"<[^>]+>", " ", fragment)
    for br in root.iter("br"):
        br.tail = "\n" + (br.tail or "")
    blocks = []
    for el in root.iter("p", "h1", "h2", "h3", "h4", "li", "blockquote"):
        t = el.text_content().strip()
        if t:
            blocks.append(t)
    return "\n\n".join(blocks) if blocks else root.text_content()


def _read_feed(data: bytes, source: str) -> Iterator[RawItem | RejectedInput]:
    """One raw item per RSS/Atom entry."""
    import feedparser

    parsed = feedparser.parse(data)
    if not parsed.entries:
        why = getattr(parsed, "bozo_exception", None)
        raise RejectedInput(source, "feed", f"no entries in the feed{f' ({why})' if why else ''}")
    outlet = parsed.feed.get("title") or None
    for i, e in enumerate(parsed.entries):
        src = f"{source}#{e.get('id') or e.get('link') or i}"
        try:
            body = ""
            if e.get("content"):
                body = e.content[0].get("value", "")
            body = body or e.get("summary", "")
            text = html_fragment_to_text(body)
            title = e.get("title") or None
            if not re.search(r"[^\W\d_]{2}", text + (title or "")):
                raise RejectedInput(src, "no_text", "feed entry has no text")
            published = None
            stamp = e.get("published_parsed") or e.get("updated_parsed")
            if stamp:
                published = dt.date(stamp.tm_year, stamp.tm_mon, stamp.tm_mday)
                check_date(published, src)
            raw = json.dumps({"t": title, "b": body, "l": e.get("link")}).encode()
            yield RawItem(
                source=e.get("link") or src,
                key=e.get("id") or e.get("link") or src,
                format="feed",
                raw_sha256=sha256_bytes(raw),
                text=text,
                title=title,
                outlet=outlet,
                published=published,
                published_source="metadata" if published else "unknown",
                url=e.get("link") or None,
                detect_title=False,
            )
        except RejectedInput as r:
            yield r


# --------------------------------------------------------------------------- cleaning + storing


def build_article(item: RawItem) -> tuple[Article, list[Sentence]]:
    """Clean a raw item into an article with its sentence list."""
    res = clean_mod.clean(
        item.text,
        title=item.title,
        published=item.published,
        published_source=item.published_source,
        detect_title=item.detect_title,
    )
    if not res.text.strip() and not (res.title or "").strip():
        raise RejectedInput(item.source, "no_text", "nothing left after removing boilerplate")
    if res.published is not None and item.published is None:
        try:
            check_date(res.published, item.source)
        except RejectedInput:
            res.published, res.published_source = None, "unknown"
    aid = content_id(item.key, item.outlet, res.title, normalize_text(item.text))
    article = Article(
        id=aid,
        source=item.source,
        text=res.text,
        title=res.title,
        outlet=item.outlet,
        published=res.published,
        published_source=res.published_source,
        url=item.url,
        dateline=res.dateline,
        subheadings=tuple(res.subheadings),
        stripped=tuple(res.stripped),
        format=item.format,
        raw_sha256=item.raw_sha256,
    )
    sentences = [
        Sentence(aid, i, res.text[s.start : s.end], s.start, s.end, s.paragraph)
        for i, s in enumerate(split_sentences(res.text))
    ]
    return article, sentences


def ingest(
    store: Store,
    paths: Iterable[str | Path],
    *,
    encoding: str | None = None,
    max_bytes: int = MAX_FILE_BYTES,
    progress: Progress = no_progress,
) -> IngestReport:
    """Read, clean and store every article under ``paths``.

    Each article is stored in its own transaction, so an error on one input
    cannot undo or corrupt the others; re-ingesting the same input adds nothing.

    Args:
        store: Where to put the articles.
        paths: Files and folders (folders are read recursively, hidden files skipped).
        encoding: Force a text encoding instead of UTF-8.
        max_bytes: Largest file read whole.
        progress: Progress hook wrapping the list of files (the CLI draws a bar).

    Returns:
        What was added, what was already stored and what was rejected (with reasons).
    """
    report = IngestReport()
    files = list(discover(paths))
    for path, display in progress(files, total=len(files), desc="ingest"):
        for item in read_path(path, display, encoding=encoding, max_bytes=max_bytes):
            if isinstance(item, RejectedInput):
                _reject(store, report, item)
                continue
            try:
                article, sentences = build_article(item)
            except RejectedInput as r:
                _reject(store, report, r)
                continue
            if store.add_article(article, sentences) != "unchanged":
                report.added.append(article.id)
            else:
                report.skipped.append(article.id)
    return report


def _reject(store: Store, report: IngestReport, r: RejectedInput) -> None:
    """Record a rejection in the store and the report."""
    rej = Rejection(source=r.source, code=r.code, reason=r.reason)
    store.add_rejection(rej)
    report.rejected.append(rej)
