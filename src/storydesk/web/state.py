"""What every request shares: settings, read connections, the change token, caches and the job queue.

Everything here reaches the data through :class:`storydesk.api.Storydesk` only. Reads use
one desk (one store connection) per server thread, so SQLite in WAL mode serves them while
the job worker writes; writes go through :class:`~storydesk.web.jobs.JobRunner`, one job at
a time. A :class:`ChangeWatcher` turns commits by anyone (the job worker, or a ``storydesk
ingest``/``build`` in another process) into a new change token: pages poll it to update
themselves, and it keys the cache of rendered pages and of listing rows.
"""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import jinja2
from fastapi import Request

from storydesk import __version__
from storydesk.api import MAX_FILE_BYTES, Embedder, Storydesk
from storydesk.config import Config
from storydesk.web import views
from storydesk.web.jobs import JobRunner
from storydesk.web.security import normalize_hosts

#: Largest request body accepted (one upload of files at the ingest limit, plus form overhead).
MAX_REQUEST_BYTES = MAX_FILE_BYTES + 1024 * 1024
#: Rendered pages kept (keyed by page and change token, so a change never serves a stale page).
PAGE_CACHE_SIZE = 512
#: Cache misses rendered at the same time (the others wait; see PageCache).
RENDERS_AT_ONCE = 2


@dataclass
class Settings:
    """How one server instance is set up.

    Attributes:
        db: SQLite database file, or a ``postgresql://`` URL.
        token: Token required by write endpoints; ``None`` disables them.
        max_request_bytes: Largest accepted request body.
        poll_seconds: How often open pages check for new data (0 turns live updates off).
        embedder: Embedder for builds run by ingest jobs; by default the one the store was built with.
        config: Pipeline settings for those builds.
        page_size: Stories per page in the web UI.
        allowed_hosts: Host names requests may be addressed to (``*``: any).
    """

    db: str
    token: str | None = None
    max_request_bytes: int = MAX_REQUEST_BYTES
    poll_seconds: float = 3.0
    embedder: Embedder | None = None
    config: Config = field(default_factory=Config)
    page_size: int = 20
    allowed_hosts: frozenset[str] = field(default_factory=lambda: normalize_hosts(None))


class ListingCache:
    """The filter-independent inputs of every listing (event rows, storyline titles), per change token.

    Reading them is a scan of every event (about a second at 10,000 articles), and every
    search, filter and page of the story list needs them; between two commits they cannot change.
    """

    def __init__(self, token: Callable[[], str]) -> None:
        self._token = token
        self._lock = threading.RLock()  # one cached value may be derived from another
        self._data: dict[str, tuple[str, Any]] = {}

    def get(self, name: str, read: Callable[[], Any]) -> Any:
        """The cached value of ``name`` at the current token, reading it (once, under a lock) on a miss."""
        token = self._token()  # taken before reading: the data is at least as new as its token
        with self._lock:
            hit = self._data.get(name)
            if hit is None or hit[0] != token:
                hit = (token, read())
                self._data[name] = hit
            return hit[1]


class ListingDesk(Storydesk):
    """A read :class:`Storydesk` whose listings reuse rows from a :class:`ListingCache`."""

    def __init__(self, db: str, cache: ListingCache) -> None:
        super().__init__(db)
        self._listing = cache

    def _rows(self) -> list[dict[str, Any]]:
        """The cached event rows themselves (never handed out: callers get copies)."""
        rows: list[dict[str, Any]] = self._listing.get("event_rows", super().event_rows)
        return rows

    def event_rows(self) -> list[dict[str, Any]]:
        """Cached event rows, copied (listings add keys to the rows they return)."""
        return [dict(r) for r in self._rows()]

    def event_rows_for(self, ids: Iterable[str]) -> list[dict[str, Any]]:
        """Cached rows of some events, copied; only those are copied (an event page needs a few of thousands)."""
        by_id: dict[str, dict[str, Any]] = self._listing.get(
            "event_rows_by_id", lambda: {r["id"]: r for r in self._rows()}
        )
        return [dict(by_id[i]) for i in ids if i in by_id]

    def storyline_titles(self) -> dict[str, str]:
        """Cached storyline titles."""
        titles: dict[str, str] = self._listing.get("storyline_titles", super().storyline_titles)
        return titles


class DeskPool:
    """One read :class:`Storydesk` per server thread (an SQLite connection must not be shared mid-query)."""

    def __init__(self, db: str, listing: ListingCache) -> None:
        self.db = db
        self.listing = listing
        self._local = threading.local()
        self._lock = threading.Lock()
        self._all: list[Storydesk] = []

    def get(self) -> Storydesk:
        """This thread's desk, opened on first use."""
        desk: Storydesk | None = getattr(self._local, "desk", None)
        if desk is None:
            desk = ListingDesk(self.db, self.listing)
            self._local.desk = desk
            with self._lock:
                self._all.append(desk)
        return desk

    def close(self) -> None:
        """Close every connection (at shutdown)."""
        with self._lock:
            for d in self._all:
                d.close()
            self._all.clear()


class ChangeWatcher:
    """A token that changes whenever anyone commits to the database.

    It reads :meth:`Storydesk.change_token` (a counter every committed write bumps, in this
    process or another) on its own connection, and numbers the values it sees after a
    per-server prefix, so a restarted server never repeats an old token.
    """

    def __init__(self, db: str) -> None:
        self._lock = threading.Lock()
        self._boot = uuid.uuid4().hex[:6]
        self._last: object = None
        self._gen = 0
        self._desk = Storydesk(db)

    def token(self) -> str:
        """The current change token."""
        with self._lock:
            v = self._desk.change_token()
            if v != self._last:
                self._last = v
                self._gen += 1
            return f"{self._boot}-{self._gen}"

    def close(self) -> None:
        """Close the watcher's connection."""
        with self._lock:
            self._desk.close()


class FifoSemaphore:
    """A semaphore that admits waiters in arrival order.

    ``threading.Semaphore`` lets a newly arriving thread take a freed slot before the
    thread that was woken for it, which then queues again at the back: under steady
    load a few requests wait many renders long (the cold event page's p99).
    """

    def __init__(self, value: int) -> None:
        self._lock = threading.Lock()
        self._free = value
        self._waiting: deque[threading.Lock] = deque()

    def __enter__(self) -> None:
        with self._lock:
            if self._free > 0 and not self._waiting:
                self._free -= 1
                return
            gate = threading.Lock()
            gate.acquire()
            self._waiting.append(gate)
        gate.acquire()  # released by the holder that hands this thread its slot

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            if self._waiting:
                self._waiting.popleft().release()  # the slot passes straight to the oldest waiter
            else:
                self._free += 1


class PageCache:
    """A small LRU of rendered responses keyed by ``(page, change token)``."""

    def __init__(self, size: int = PAGE_CACHE_SIZE) -> None:
        self.size = size
        self._data: OrderedDict[tuple[str, str], str] = OrderedDict()
        self._lock = threading.Lock()
        self._making: dict[tuple[str, str], threading.Lock] = {}
        # Renders are CPU-bound Python: more than two at once only trade the GIL back and
        # forth between threads (measured: 8 concurrent event documents 310/s, at most 2 at once 479/s)
        self._rendering = FifoSemaphore(RENDERS_AT_ONCE)
        self.hits = 0
        self.misses = 0

    def get(self, key: str, token: str) -> str | None:
        """The cached body for ``key`` at ``token``, or None."""
        k = (key, token)
        with self._lock:
            if k in self._data:
                self._data.move_to_end(k)
                self.hits += 1
                return self._data[k]
            self.misses += 1
            return None

    def put(self, key: str, token: str, body: str) -> None:
        """Remember a rendered body."""
        with self._lock:
            self._data[(key, token)] = body
            while len(self._data) > self.size:
                self._data.popitem(last=False)

    def get_or_make(self, key: str, token: str, make: Callable[[], str]) -> str:
        """The cached body for ``key`` at ``token``, rendering it on a miss.

        Concurrent misses of one page render it once: the others wait for that render
        (a popular page after a commit would otherwise be rendered by every waiting request).
        """
        body = self.get(key, token)
        if body is not None:
            return body
        with self._lock:
            making = self._making.setdefault((key, token), threading.Lock())
        try:
            with making:
                body = self.peek(key, token)
                if body is None:
                    with self._rendering:
                        body = make()
                    self.put(key, token, body)
                return body
        finally:
            with self._lock:
                self._making.pop((key, token), None)

    def peek(self, key: str, token: str) -> str | None:
        """The cached body without counting a hit or a miss."""
        with self._lock:
            return self._data.get((key, token))


class State:
    """Everything the handlers share: settings, connections, jobs, templates, cache."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        # Opened once read-write up front: creates or migrates the database, and fails fast on a bad path.
        with Storydesk(settings.db) as first:
            if settings.embedder is None:
                # the job worker extends the store with the model that embedded what it holds
                settings.embedder, settings.config = first.built_with(settings.config)
            #: Where the database is, safe to print (a URL's password removed).
            self.location = first.location
        self.watcher = ChangeWatcher(settings.db)
        self.pool = DeskPool(settings.db, ListingCache(self.watcher.token))
        self.cache = PageCache()
        self.jobs = JobRunner(self._writer)
        self.templates = jinja2.Environment(
            loader=jinja2.PackageLoader("storydesk", "web/templates"),
            autoescape=jinja2.select_autoescape(["html"]),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.templates.filters["date"] = views.fmt_date
        self.templates.filters["web_link"] = views.web_link
        self.templates.globals["version"] = __version__

    def _writer(self) -> Storydesk:
        """The job worker's own desk (the only writer)."""
        s = self.settings
        return Storydesk(s.db, config=s.config, embedder=s.embedder)

    def desk(self) -> Storydesk:
        """This thread's read desk."""
        return self.pool.get()

    def render(self, name: str, request: Request, token: str, **ctx: Any) -> str:
        """Render a page template with the values every page needs.

        ``token`` must be the change token taken *before* the page's data was read, so a
        page never claims to be newer than its data (live updates would then miss a change).
        """
        return self.templates.get_template(name).render(
            request=request,
            token=token,
            poll=self.settings.poll_seconds,
            writable=self.settings.token is not None,
            **ctx,
        )

    def close(self) -> None:
        """Stop the worker and close connections."""
        self.jobs.stop()
        self.pool.close()
        self.watcher.close()


async def get_state(request: Request) -> State:
    """The app's shared :class:`State` (a FastAPI dependency; async, so it costs no trip to the thread pool)."""
    state: State = request.app.state.storydesk
    return state
