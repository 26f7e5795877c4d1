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
import logging
import os
import re
import stat
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from storydesk import clean as clean_mod
from storydesk.errors import InputError, RejectedInput, StoreError
from storydesk.models import Article, Rejection, Sentence
from storydesk.pipeline import Progress, no_progress
from storydesk.store.base import Store
from storydesk.textutil import content_id, normalize_text, own_id, sha256_bytes, split_sentences

log = logging.getLogger("storydesk.ingest")


#: Largest input file read whole (JSON Lines files are streamed and limited per line).
MAX_FILE_BYTES = 25 * 1024 * 1024
MAX_RECORD_BYTES = 5 * 1024 * 1024
#: Longest URL kept as an article's link, and longest own id of an input.
MAX_URL_CHARS = 4096
MAX_ID_CHARS = 1024
#: Rejections of one file's items (lines, entries) recorded one by one; past this, the rest
#: are recorded as one rejection per reason code, and a file that gave no article at all
#: gets one rejection per code (a feed of 3,000 empty items is one rejection, not 3,000).
MAX_ITEM_REJECTIONS = 20
#: Dates further in the future than this are refused as impossible publication dates.
FUTURE_SLACK = dt.timedelta(days=2)
EARLIEST = dt.date(1800, 1, 1)

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
    #: The input's own id (JSON ``id``, a feed entry's guid): the article id derives from it
    #: (with the outlet), so an edited copy sent again is the same article.
    own_id: str | None = None
    #: Where the item sits in its input (``file.jsonl:7``), for rejections; defaults to ``source``.
    where: str = ""


@dataclass
class IngestReport:
    """What one ingest call did."""

    added: list[str] = field(default_factory=list)
    #: Articles stored before under the same id with other content: their text was replaced.
    updated: list[str] = field(default_factory=list)
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
            "updated": len(self.updated),
            "already_stored": len(self.skipped),
            "rejected": [{"source": r.source, "code": r.code, "reason": r.reason} for r in self.rejected],
        }


# --------------------------------------------------------------------------- discovery


def display_path(name: str) -> str:
    """A file name as text that can be stored and encoded anywhere.

    Names that are not valid UTF-8 reach Python with "surrogate escapes"; those bytes
    are shown as ``\\xNN`` instead (the file itself is still read by its real name).
    Control characters are kept here and escaped wherever a name is printed.
    """
    try:
        name.encode("utf-8")
        return name
    except UnicodeEncodeError:
        return os.fsencode(name).decode("utf-8", "backslashreplace")


def _inside(target: str, roots: list[str]) -> bool:
    """True when the real path ``target`` lies in one of the (real) input ``roots``."""
    for root in roots:
        try:
            if os.path.commonpath([target, root]) == root:
                return True
        except ValueError:
            continue
    return False


def _link_problem(err: OSError) -> str:
    """Why a symbolic link cannot be followed."""
    import errno

    if err.errno == errno.ELOOP:
        return "symbolic link loop: the link leads back to itself"
    if err.errno == errno.ENOENT:
        return "broken symbolic link: its target does not exist"
    return f"cannot follow symbolic link: {err.strerror or err}"


_FILE_KINDS = {
    stat.S_IFIFO: "a named pipe (FIFO)",
    stat.S_IFSOCK: "a socket",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
}


def discover(paths: Iterable[str | Path]) -> Iterator[tuple[Path, str] | RejectedInput]:
    """Yield ``(file, display_path)`` for every file under the given paths, sorted, or a rejection.

    ``display_path`` is relative to the folder given on the command line, so the same
    corpus gets the same ids wherever it lives. Hidden files and folders are skipped.

    Symbolic links are followed only inside the input tree (the folders given): a link
    to a file elsewhere (``/etc/passwd``) is rejected, not read. Loops, dangling links,
    unreadable folders and things that are not regular files (pipes, sockets, devices)
    come out as rejections. A file reached twice (through a link) is read once.

    Raises:
        InputError: A path given here does not exist.
    """
    given = [Path(p) for p in paths]
    for path in given:
        if not path.exists():
            raise InputError(f"{path}: no such file or folder")
    roots = [os.path.realpath(p) for p in given if p.is_dir()]
    seen: set[tuple[int, int]] = set()
    for path in given:
        if path.is_dir():
            yield from _walk(str(path), display_path(str(path)), roots, seen)
        else:
            # a file named on the command line is read even through a link: that is the user's choice
            yield from _found(str(path), display_path(path.name), seen)


def _found(path: str, display: str, seen: set[tuple[int, int]]) -> Iterator[tuple[Path, str] | RejectedInput]:
    """A regular file to read (once), or why it is not one."""
    try:
        st = os.stat(path)
    except OSError as e:
        yield RejectedInput(display, "unreadable", f"cannot read: {e.strerror or e}")
        return
    kind = _FILE_KINDS.get(stat.S_IFMT(st.st_mode))
    if kind is not None or not stat.S_ISREG(st.st_mode):
        yield RejectedInput(display, "not_a_file", f"not a regular file: {kind or 'an unknown kind of file'}")
        return
    key = (st.st_dev, st.st_ino)
    if key in seen:
        return  # the same file through a link (or a hard link): already read
    seen.add(key)
    yield Path(path), display


def _walk(
    top: str, shown: str, roots: list[str], seen: set[tuple[int, int]]
) -> Iterator[tuple[Path, str] | RejectedInput]:
    """Depth-first walk of one input folder in name order (as sorted paths compare), at any depth.

    Iterative, with a stack of open listings: a tree thousands of folders deep is no recursion limit.
    """
    stack: list[tuple[str, Iterator[os.DirEntry[str]]]] = []

    def listing(folder: str, rel: str) -> RejectedInput | None:
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as e:
            return RejectedInput(display_path(rel) or shown, "unreadable", f"cannot read folder: {e.strerror or e}")
        stack.append((rel, iter(entries)))
        return None

    if (problem := listing(top, "")) is not None:
        yield problem
    while stack:
        rel, entries = stack[-1]
        entry = next(entries, None)
        if entry is None:
            stack.pop()
            continue
        if entry.name.startswith("."):
            continue
        sub = f"{rel}/{entry.name}" if rel else entry.name
        display = display_path(sub)
        try:
            if entry.is_symlink():
                try:
                    target = os.path.realpath(entry.path, strict=True)
                except OSError as e:
                    yield RejectedInput(display, "symlink", _link_problem(e))
                    continue
                if not _inside(target, roots):
                    yield RejectedInput(
                        display, "symlink", "symbolic link pointing outside the input folder: not followed"
                    )
                    continue
                if os.path.isdir(target):
                    continue  # a folder inside the tree: its files are read where they are
                yield from _found(target, display, seen)
            elif entry.is_dir(follow_symlinks=False):
                if (problem := listing(entry.path, sub)) is not None:
                    yield problem
            else:
                yield from _found(entry.path, display, seen)
        except OSError as e:
            yield RejectedInput(display, "unreadable", f"cannot read: {e.strerror or e}")


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
    _check_binary_head(head, source)


def _check_binary_head(head: bytes, source: str) -> None:
    """Reject a file whose first bytes are a known binary format or mostly control bytes."""
    for magic, what in _MAGIC.items():
        if head.startswith(magic):
            raise RejectedInput(source, "binary", f"binary file: looks like {what}, not an article")
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


_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ].*)?$")
#: RFC 2822 dates (mail, RSS): optional weekday, day, month name, year.
_RFC_DATE = re.compile(r"^(?:[A-Za-z]{2,9}\.?,?\s*)?(\d{1,2})\s+([A-Za-z]{3,9})\.?,?\s+(\d+)(?=\s|$)")
_OTHER_FORMATS = ("%B %d, %Y", "%b %d, %Y", "%d %B %Y", "%d %b %Y", "%Y/%m/%d")


def parse_published(value: Any, source: str) -> dt.date | None:
    """Parse a publication date field; None for null/empty, rejection when impossible.

    One policy for every input format (JSON, JSON Lines, feeds, text headers): a date
    that cannot exist (2023-02-30, year 0, a 20-digit year) is rejected, never "fixed";
    a year is taken as written (``0001`` is the year 1, not 2001). The only exception is
    the obsolete two-digit year of RFC 2822 (``Mon, 14 Aug 23``), read as that standard
    says: 00-49 are 2000-2049, 50-99 are 1950-1999.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise RejectedInput(source, "date", f"published date must be a string, got {type(value).__name__}")
    s = value.strip() if isinstance(value, str) else str(value)
    shown = repr(s if len(s) <= 60 else s[:60] + "...")
    d: dt.date | None = None
    try:
        if m := _ISO_DATE.match(s):
            d = _make_date(int(m.group(1)), int(m.group(2)), int(m.group(3)), shown, source)
        elif (m := _RFC_DATE.match(s)) and (parts := email.utils.parsedate_tz(s)) is not None:
            token = m.group(3)
            if len(token) == 4:
                year = int(token)
            elif len(token) == 2:
                year = int(token) + (2000 if int(token) < 50 else 1900)
            else:
                raise RejectedInput(
                    source, "date", f"published date {shown} is impossible: the year must have 4 digits"
                )
            d = _make_date(year, parts[1], parts[2], shown, source)
        else:
            for fmt in _OTHER_FORMATS:
                try:
                    d = dt.datetime.strptime(s, fmt).date()
                    break
                except ValueError:
                    continue
    except (ValueError, OverflowError, TypeError, IndexError) as e:
        raise RejectedInput(source, "date", f"published date {shown} is not a date: {e}") from e
    if d is None:
        raise RejectedInput(source, "date", f"published date {shown} is not a date (use YYYY-MM-DD)")
    check_date(d, source)
    return d


def _make_date(year: int, month: int, day: int, shown: str, source: str) -> dt.date:
    """A calendar date, or a rejection saying why it cannot exist."""
    try:
        return dt.date(year, month, day)
    except (ValueError, OverflowError) as e:
        raise RejectedInput(source, "date", f"published date {shown} is impossible: {e}") from e


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
    """Read one file into raw items (or rejections).

    Never raises for a bad input: every problem comes out as a :class:`RejectedInput`,
    an unexpected one with the code ``internal`` and the exception's type.
    """
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            head = fh.read(8192)
    except OSError as e:
        yield RejectedInput(display, "unreadable", f"cannot read: {e.strerror or e}")
        return
    fmt = _format_of(path, head)
    if fmt == "jsonl":
        yield from _guarded(_read_jsonl(path, display, encoding), display)
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
    if len(data) > max_bytes:  # grew since it was measured
        yield RejectedInput(display, "too_large", f"file is over the {max_bytes / 1e6:.0f} MB limit")
        return
    yield from _guarded(_read_data(data, fmt, display, encoding), display)


def _read_data(data: bytes, fmt: str, display: str, encoding: str | None) -> Iterator[RawItem | RejectedInput]:
    """Items of a file read whole."""
    _check_bytes(data, display)
    if fmt == "json":
        yield from _read_json(data, display, encoding)
    elif fmt == "html":
        yield _read_html(data, display, encoding)
    elif fmt == "feed":
        yield from _read_feed(data, display)
    else:
        yield _read_text(data, display, encoding)


def internal_rejection(source: str, e: BaseException, doing: str = "reading") -> RejectedInput:
    """A rejection for an unexpected error on one input (a bug to report, never a stopped run)."""
    log.debug("unexpected error while %s %s", doing, source, exc_info=e)
    msg = str(e).replace("\n", " ")
    msg = f": {msg[:160]}" if msg else ""
    return RejectedInput(source, "internal", f"unexpected {type(e).__name__} while {doing} this input{msg}")


def _guarded(items: Iterator[RawItem | RejectedInput], source: str) -> Iterator[RawItem | RejectedInput]:
    """Pass items through; turn an error that escapes a reader into a rejection of the file.

    Readers catch per-item problems themselves (one bad line is rejected alone); this is
    the net under them, so that nothing but a :class:`RejectedInput` ever leaves a reader.
    """
    try:
        yield from items
    except RejectedInput as r:
        yield r
    except (RecursionError, MemoryError) as e:
        yield RejectedInput(
            source, "too_complex", f"input too deeply nested or too large to parse ({type(e).__name__})"
        )
    except Exception as e:
        yield internal_rejection(source, e)


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


def safe_url(value: Any) -> str | None:
    """``value`` when it is an absolute http(s) URL, else None.

    Only web links are kept: ``javascript:``, ``data:``, ``file:`` and relative URLs
    would become clickable "original" links in the web UI and the reports.
    """
    if not isinstance(value, str):
        return None
    url = value.strip()
    if not url or len(url) > MAX_URL_CHARS or re.search(r"[\x00-\x20\x7f-\x9f]", url):
        return None
    m = re.match(r"(?i)(https?)://([^/?#@]*@)?([^/?#:]+)", url)
    if not m:
        return None
    try:
        url.encode("utf-8")
    except UnicodeEncodeError:
        return None
    return url


def _text_field(obj: dict[str, Any], name: str, source: str) -> str | None:
    """A field that must be a string when present."""
    v = _field(obj, name)
    if v is not None and not isinstance(v, str):
        raise RejectedInput(source, "fields", f"'{name}' must be a string, got {type(v).__name__}")
    return v


def _check_unicode(obj: dict[str, Any], source: str) -> None:
    """Reject strings holding lone surrogates (valid JSON escapes, but not text)."""
    for k, v in obj.items():
        if isinstance(v, str):
            try:
                v.encode("utf-8")
            except UnicodeEncodeError as e:
                name = k if isinstance(k, str) and k.isprintable() and len(k) < 40 else "a field"
                raise RejectedInput(
                    source, "encoding", f"{name!r} holds an invalid character ({e.reason}) at {e.start}"
                ) from e


def _record_item(obj: Any, source: str, raw: bytes, fmt: str) -> RawItem:
    """Validate one JSON object and turn it into a raw item."""
    if not isinstance(obj, dict):
        raise RejectedInput(source, "fields", f"expected a JSON object, got {type(obj).__name__}")
    text = _text_field(obj, "text", source)
    title = _text_field(obj, "title", source)
    if not (text or "").strip() and not (title or "").strip():
        raise RejectedInput(source, "no_text", "record has neither 'text' nor 'title'")
    if len(raw) > MAX_RECORD_BYTES:
        raise RejectedInput(source, "too_large", f"record is {len(raw) / 1e6:.1f} MB, over the limit")
    _check_unicode(obj, source)
    outlet = _field(obj, "outlet")
    if outlet is not None and (isinstance(outlet, bool) or not isinstance(outlet, str | int | float)):
        raise RejectedInput(source, "fields", f"'outlet' must be a string, got {type(outlet).__name__}")
    rid = _field(obj, "id")
    if rid is not None and (isinstance(rid, bool) or not isinstance(rid, str | int)):
        raise RejectedInput(source, "fields", f"'id' must be a string or an integer, got {type(rid).__name__}")
    rid = str(rid).strip() if rid is not None else ""
    if len(rid) > MAX_ID_CHARS:
        raise RejectedInput(source, "fields", f"'id' is {len(rid):,} characters long; the limit is {MAX_ID_CHARS}")
    published = parse_published(_field(obj, "published"), source)
    outlet_name = normalize_text(str(outlet)) if outlet is not None else ""
    return RawItem(
        source=rid or source,
        key=rid or source,
        format=fmt,
        raw_sha256=sha256_bytes(raw),
        text=text or "",
        title=title.strip() if isinstance(title, str) and title.strip() else None,
        outlet=outlet_name or None,
        published=published,
        published_source="metadata" if published else "unknown",
        url=safe_url(_field(obj, "url")),
        detect_title=False,
        own_id=rid or None,
        where=source,
    )


#: Deepest nesting of a JSON input read (an article needs 3 or 4 levels). Checked before parsing,
#: so the answer never depends on the interpreter's recursion limit (nor risks the C stack).
MAX_JSON_DEPTH = 100
_JSON_TOKENS = re.compile(r'"(?:\\.|[^"\\])*"|[\[\]{}]')


def json_too_deep(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """True when brackets in ``text`` (outside strings) nest deeper than ``limit``."""
    if text.count("[") + text.count("{") <= limit:
        return False
    depth = 0
    for m in _JSON_TOKENS.finditer(text):
        c = m.group()
        if c in "[{":
            depth += 1
            if depth > limit:
                return True
        elif c in "]}":
            depth -= 1
    return False


def _parse_json(text: str, source: str, where: str = "line") -> Any:
    """``json.loads`` with every way it can fail turned into a ``json`` rejection."""
    if json_too_deep(text):
        raise RejectedInput(source, "json", f"malformed JSON: nested deeper than {MAX_JSON_DEPTH} levels")
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        at = f"column {e.colno}" if where == "line" else f"line {e.lineno}, column {e.colno}"
        raise RejectedInput(source, "json", f"malformed JSON: {e.msg} ({at})") from e
    except RecursionError as e:
        raise RejectedInput(source, "json", "malformed JSON: nested too deeply to read") from e
    except ValueError as e:  # e.g. an integer of more than 4,300 digits
        raise RejectedInput(source, "json", f"unreadable JSON value: {str(e).split(';')[0]}") from e


def _read_jsonl(path: Path, display: str, encoding: str | None) -> Iterator[RawItem | RejectedInput]:
    """Stream a JSON Lines file; a bad line is rejected alone, the rest still load.

    A file that is binary, or UTF-16 (whose lines cannot be split on bytes), is one rejection.
    """
    with path.open("rb") as fh:
        first = fh.read(8192)
        if not first.strip():
            yield RejectedInput(display, "empty", "empty file (no records)")
            return
        if first.startswith((b"\xff\xfe", b"\xfe\xff")) and not encoding:
            yield RejectedInput(
                display, "encoding", "UTF-16 JSON Lines cannot be read line by line; re-encode as UTF-8"
            )
            return
        _check_binary_head(first, display)
        fh.seek(0)
        for n, raw in enumerate(fh, start=1):
            src = f"{display}:{n}"
            if not raw.strip():
                continue
            try:
                if len(raw) > MAX_RECORD_BYTES:
                    raise RejectedInput(src, "too_large", f"line is {len(raw) / 1e6:.1f} MB, over the limit")
                if b"\x00" in raw:
                    raise RejectedInput(src, "binary", "line contains NUL bytes")
                line = decode(raw, src, encoding)
                item: RawItem | RejectedInput = _record_item(_parse_json(line, src), src, raw, "jsonl")
            except RejectedInput as r:
                item = r
            except Exception as e:  # one line, however broken, never stops the file
                item = internal_rejection(src, e)
            yield item


def _read_json(data: bytes, source: str, encoding: str | None) -> Iterator[RawItem | RejectedInput]:
    """A JSON file holding one article object, a list of them, or ``{"articles": [...]}``."""
    text = decode(data, source, encoding)
    obj = _parse_json(text, source, where="file")
    items = obj.get("articles") if isinstance(obj, dict) and isinstance(obj.get("articles"), list) else obj
    if isinstance(items, dict):
        items = [items]
    if not isinstance(items, list):
        raise RejectedInput(source, "fields", "expected an article object or a list of them")
    yield from read_records(items, source)


def read_records(records: Iterable[Any], source: str) -> Iterator[RawItem | RejectedInput]:
    """Raw items of parsed JSON records (the objects of a JSON file, or of a JSON request to the API).

    The one validation of a JSON article: fields, ids, URLs, dates and sizes are checked
    exactly as for a line of a JSON Lines file, and a bad record is rejected alone, as
    ``{source}[{index}]``, while the others still load.

    Args:
        records: Parsed JSON values, one per article (anything else is rejected with its reason).
        source: The name the records are reported under (a file name, or ``api.json`` for the REST API).
    """
    for i, it in enumerate(records):
        src = f"{source}[{i}]"
        try:
            raw = json.dumps(it).encode()
            item: RawItem | RejectedInput = _record_item(it, src, raw, "json")
        except RejectedInput as r:
            item = r
        except RecursionError:
            item = RejectedInput(src, "json", "malformed JSON: nested too deeply to read")
        except Exception as e:
            item = internal_rejection(src, e)
        yield item


def parse_json_bytes(raw: bytes, what: str = "the request body") -> Any:
    """Parse a JSON document held in memory (a request body), or raise :class:`InputError` saying why not.

    The same limits as a JSON input file: UTF-8 (a BOM is allowed), at most
    :data:`MAX_JSON_DEPTH` levels of nesting (checked before parsing, so the answer never
    depends on the recursion limit), no number of more than 4,300 digits.
    """
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InputError(f"{what} is not UTF-8 (byte {e.start})") from None
    if json_too_deep(text):
        raise InputError(f"{what} is nested too deeply (over {MAX_JSON_DEPTH} levels)")
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise InputError(f"{what} is not valid JSON: {e}") from None
    except RecursionError:
        raise InputError(f"{what} is nested too deeply") from None
    except ValueError as e:  # e.g. an integer of more than 4,300 digits
        raise InputError(f"{what} holds an unreadable value: {str(e).split(';')[0]}") from None


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
            html,
            with_metadata=True,
            include_comments=False,
            include_tables=False,
            deduplicate=False,
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
        url=safe_url(meta.get("url")),
        detect_title=False,
        where=source,
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
    """One raw item per RSS/Atom entry.

    Entry dates go through :func:`parse_published` like every other format (feedparser's
    own parsed dates roll impossible days over and read year 1 as 2001).
    """
    import feedparser

    try:
        parsed = feedparser.parse(data)
    except RecursionError as e:
        raise RejectedInput(source, "feed", "feed nested too deeply to read") from e
    except Exception as e:  # feedparser is lenient, but the XML and HTML parsers under it are not
        raise RejectedInput(source, "feed", f"cannot parse the feed: {type(e).__name__}") from e
    if not parsed.entries:
        why = getattr(parsed, "bozo_exception", None)
        why_s = str(why)[:200] if why else ""
        raise RejectedInput(source, "feed", f"no entries in the feed{f' ({why_s})' if why_s else ''}")
    outlet = _plain(parsed.feed.get("title")) or None
    for i, entry in enumerate(parsed.entries):
        entry_id = _plain(entry.get("id")) or _plain(entry.get("link"))
        src = f"{source}#{entry_id[:200] if entry_id else i}"
        try:
            item: RawItem | RejectedInput = _feed_item(entry, src, outlet, entry_id)
        except RejectedInput as r:
            item = r
        except Exception as err:  # one entry, however broken, never stops the feed
            item = internal_rejection(src, err)
        yield item


def _plain(value: Any) -> str:
    """A feed field as a plain string ('' when absent or not text)."""
    return value.strip() if isinstance(value, str) else ""


def _feed_item(e: Any, src: str, outlet: str | None, entry_id: str) -> RawItem:
    """One feed entry as a raw item."""
    body = ""
    if e.get("content"):
        body = e.content[0].get("value", "") or ""
    body = body or _plain(e.get("summary"))
    text = html_fragment_to_text(body)
    title = _plain(e.get("title")) or None
    if not re.search(r"[^\W\d_]{2}", text + (title or "")):
        raise RejectedInput(src, "no_text", "feed entry has no text")
    raw_date = _plain(e.get("published")) or _plain(e.get("updated"))
    published = parse_published(raw_date, src)
    link = _plain(e.get("link"))
    raw = json.dumps({"t": title, "b": body, "l": e.get("link")}).encode()
    if len(raw) > MAX_RECORD_BYTES:
        raise RejectedInput(src, "too_large", f"feed entry is {len(raw) / 1e6:.1f} MB, over the limit")
    return RawItem(
        source=safe_url(link) or src,
        key=entry_id or src,
        format="feed",
        raw_sha256=sha256_bytes(raw),
        text=text,
        title=title,
        outlet=outlet,
        published=published,
        published_source="metadata" if published else "unknown",
        url=safe_url(link),
        detect_title=False,
        own_id=entry_id[:MAX_ID_CHARS] or None,
        where=src,
    )


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
        raise RejectedInput(item.where or item.source, "no_text", "nothing left after removing boilerplate")
    if res.published is not None and item.published is None:
        try:
            check_date(res.published, item.source)
        except RejectedInput:
            res.published, res.published_source = None, "unknown"
    if item.own_id:
        # the input names the article: an edited version sent again is the same article
        aid = own_id(item.outlet, item.own_id)
    else:
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
    Bad input never stops the run: whatever goes wrong with one file, line or entry
    (including an unexpected error, recorded with the code ``internal``) becomes a
    recorded rejection with its reason, and the next input is read.

    Args:
        store: Where to put the articles.
        paths: Files and folders (folders are read recursively, hidden files skipped).
        encoding: Force a text encoding instead of UTF-8.
        max_bytes: Largest file read whole.
        progress: Progress hook wrapping the list of files (the CLI draws a bar).

    Returns:
        What was added, what was already stored and what was rejected (with reasons).

    Raises:
        InputError: A path given does not exist.
        StoreError: The store cannot be written (what was committed before stays).
    """
    report = IngestReport()
    found = list(discover(paths))
    for entry in progress(found, total=len(found), desc="ingest"):
        if isinstance(entry, RejectedInput):
            _reject(store, report, entry)
            continue
        path, display = entry
        rejected = _ingest_file(store, report, path, display, encoding, max_bytes)
        for r in rejected:
            _reject(store, report, r)
    return report


def ingest_records(
    store: Store, records: Sequence[Any], *, source: str = "api.json", progress: Progress = no_progress
) -> IngestReport:
    """Clean and store articles given as parsed JSON records (the REST API's JSON ingest).

    Each record is validated by :func:`read_records`, exactly as an object of a JSON file
    named ``source``, and stored in its own transaction; bad records are rejected alone and
    recorded, and re-sending the same records adds nothing (ids derive from each record's
    ``id`` and outlet, or, without an ``id``, from its content and ``source[index]``).

    Args:
        store: Where to put the articles.
        records: One parsed JSON value per article.
        source: The name rejections and id-less articles are reported under.
        progress: Progress hook wrapping the records.

    Returns:
        What was added, updated, already stored and rejected.

    Raises:
        StoreError: The store cannot be written (what was committed before stays).
    """
    report = IngestReport()
    items = progress(read_records(records, source), total=len(records), desc="ingest")
    for r in _store_items(store, report, items, source):
        _reject(store, report, r)
    return report


def _ingest_file(
    store: Store, report: IngestReport, path: Path, display: str, encoding: str | None, max_bytes: int
) -> list[RejectedInput]:
    """Store the articles of one file; return its rejections (grouped when there are many)."""
    return _store_items(store, report, read_path(path, display, encoding=encoding, max_bytes=max_bytes), display)


def clean_items(
    items: Iterable[RawItem | RejectedInput],
) -> Iterator[tuple[str, tuple[Article, list[Sentence]] | RejectedInput]]:
    """``(where, (article, sentences))`` per item cleaned, ``(where, rejection)`` per item that was not.

    A failure inside cleaning becomes an ``internal`` rejection of that item, never an exception.
    """
    for item in items:
        if isinstance(item, RejectedInput):
            yield item.source, item
            continue
        where = item.where or item.source
        built: tuple[Article, list[Sentence]] | RejectedInput
        try:
            built = build_article(item)
        except RejectedInput as r:
            built = r
        except Exception as e:
            built = internal_rejection(where, e, "cleaning")
        yield where, built


def _store_items(
    store: Store, report: IngestReport, items: Iterable[RawItem | RejectedInput], display: str
) -> list[RejectedInput]:
    """Clean and store the items of one input; return its rejections (grouped when there are many)."""
    rejected: list[RejectedInput] = []
    stored = 0
    try:
        for where, built in clean_items(items):
            if isinstance(built, RejectedInput):
                rejected.append(built)
                continue
            article, sentences = built
            try:
                status = store.add_article(article, sentences)
            except StoreError:
                raise
            except Exception as e:  # rolled back by the store; a value it could not take
                rejected.append(internal_rejection(where, e, "storing"))
                continue
            {"added": report.added, "updated": report.updated, "unchanged": report.skipped}[status].append(article.id)
            stored += 1
    except StoreError:
        raise
    except Exception as e:  # a failure outside every per-item guard: the file is rejected, the run goes on
        rejected.append(internal_rejection(display, e))
    return group_rejections(rejected, display, stored)


def group_rejections(rejected: list[RejectedInput], display: str, stored: int) -> list[RejectedInput]:
    """Keep one file's rejections readable: at most :data:`MAX_ITEM_REJECTIONS` one by one.

    Past that, the rest become one rejection of the file per reason code (with the count
    and the first example); a file that gave no article at all and has more than that
    many bad items is reported as one rejection per code.
    """
    if len(rejected) <= MAX_ITEM_REJECTIONS:
        return rejected
    total = stored + len(rejected)
    keep = [] if stored == 0 else rejected[:MAX_ITEM_REJECTIONS]
    rest = rejected[len(keep) :]
    by_code: dict[str, list[RejectedInput]] = {}
    for r in rest:
        by_code.setdefault(r.code, []).append(r)
    out = list(keep)
    for code, group in by_code.items():
        first = group[0]
        where = first.source[len(display) :] if first.source.startswith(display) else first.source
        where = where.lstrip(":") or "the file"
        if keep:
            what = f"{len(group):,} more entries rejected ({code})"
        else:
            what = f"{len(group):,} of {total:,} entries rejected ({code})"
        out.append(RejectedInput(display, code, f"{what}; the first, at {where}: {first.reason}"))
    return out


def _reject(store: Store, report: IngestReport, r: RejectedInput) -> None:
    """Record a rejection in the store and the report."""
    rej = Rejection(source=r.source, code=r.code, reason=r.reason)
    store.add_rejection(rej)
    report.rejected.append(rej)
