"""The FastAPI application: REST API under ``/api/v1`` and server-rendered pages.

Every handler is a thin call into :class:`storydesk.api.Storydesk`. Reads use one
store connection per server thread (SQLite in WAL mode lets them run while the
job worker writes); writes go through :class:`~storydesk.web.jobs.JobRunner`, one
job at a time. A change watcher turns commits by anyone (the job worker, or a
``storydesk ingest``/``build`` in another process) into a new change token: pages
poll it to update themselves, and it keys the cache of rendered pages.
"""

from __future__ import annotations

import hmac
import json
import logging
import re
import tempfile
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

import jinja2
from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from storydesk import __version__
from storydesk.api import MAX_PAGE, ORDERS, Storydesk
from storydesk.config import Config
from storydesk.embed import Embedder, HashingEmbedder
from storydesk.errors import ConfigError, InputError, NotFoundError, StoreError, StorydeskError
from storydesk.ingest import MAX_FILE_BYTES, MAX_JSON_DEPTH, json_too_deep
from storydesk.store import open_store
from storydesk.web import views
from storydesk.web.jobs import JobRunner
from storydesk.web.security import HostAllowList, RequestSanity, SecurityHeaders, normalize_hosts, security_headers

log = logging.getLogger("storydesk.web")

API = "/api/v1"
#: Largest request body accepted (one upload of files at the ingest limit, plus form overhead).
MAX_REQUEST_BYTES = MAX_FILE_BYTES + 1024 * 1024
#: Most articles one JSON ingest request may carry.
MAX_ARTICLES_PER_REQUEST = 10_000
#: Most files one upload may carry.
MAX_FILES_PER_REQUEST = 1_000
#: Rendered pages kept (keyed by page and change token, so a change never serves a stale page).
PAGE_CACHE_SIZE = 512
#: Latest events of each story shown in the story list.
STORY_LIST_EVENTS = 6
#: Events of the same story linked from an event page, on each side of it (a story can hold thousands).
STORY_NAV_AROUND = 5


# --------------------------------------------------------------------------- settings and shared state


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


def embedder_for(store_embedder: str | None, config: Config) -> tuple[Embedder | None, Config]:
    """The embedder a store was built with, so the server's builds extend it consistently."""
    if store_embedder and (m := re.fullmatch(r"hashing-(?:v2-)?(\d+)", store_embedder)):
        return HashingEmbedder(int(m.group(1))), config
    from storydesk.embed import MODEL_IDS

    for name, model_id in MODEL_IDS.items():
        if store_embedder == model_id:
            return None, config.with_overrides(embedder=name)
    return None, config


class ListingCache:
    """The filter-independent inputs of every listing (event rows, storyline titles), per change token.

    Reading them is a scan of every event (about a second at 10,000 articles), and every
    search, filter and page of the story list needs them; between two commits they cannot change.
    """

    def __init__(self, token: Callable[[], str]) -> None:
        self._token = token
        self._lock = threading.Lock()
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

    def __init__(self, store: Any, cache: ListingCache) -> None:
        super().__init__(store)
        self._listing = cache

    def event_rows(self) -> list[dict[str, Any]]:
        """Cached event rows, copied (listings add keys to the rows they return)."""
        rows = self._listing.get("event_rows", super().event_rows)
        return [dict(r) for r in rows]

    def event_rows_for(self, ids: Iterable[str]) -> list[dict[str, Any]]:
        """Cached rows of some events, copied; only those are copied (an event page needs a few of thousands)."""
        by_id: dict[str, dict[str, Any]] = self._listing.get(
            "event_rows_by_id", lambda: {r["id"]: r for r in Storydesk.event_rows(self)}
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
            desk = ListingDesk(open_store(self.db), self.listing)
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

    On SQLite, ``PRAGMA data_version`` changes on a connection whenever another connection
    commits, so one idle connection sees every writer, in this process or another. Other
    backends get a fingerprint of what every write leaves behind: the article and rejection
    counts and the log of stage runs (each run records its own timing).
    """

    def __init__(self, db: str) -> None:
        self._lock = threading.Lock()
        self._boot = uuid.uuid4().hex[:6]  # a restarted server never repeats an old token
        self._last: object = None
        self._gen = 0
        self._store = open_store(db)

    def _state(self) -> object:
        """Something that differs after every commit (by this process or another)."""
        return self._store.change_token()

    def token(self) -> str:
        """The current change token."""
        with self._lock:
            v = self._state()
            if v != self._last:
                self._last = v
                self._gen += 1
            return f"{self._boot}-{self._gen}"

    def close(self) -> None:
        """Close the watcher's connection."""
        with self._lock:
            self._store.close()


class PageCache:
    """A small LRU of rendered responses keyed by ``(page, change token)``."""

    def __init__(self, size: int = PAGE_CACHE_SIZE) -> None:
        self.size = size
        self._data: OrderedDict[tuple[str, str], str] = OrderedDict()
        self._lock = threading.Lock()
        self._making: dict[tuple[str, str], threading.Lock] = {}
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
        # Open once read-write up front: creates or migrates the file, and fails fast on a bad path.
        first = open_store(settings.db)
        store_embedder = first.get_meta("embedder")
        first.close()
        if settings.embedder is None:
            settings.embedder, settings.config = embedder_for(store_embedder, settings.config)
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
        return Storydesk(open_store(s.db), config=s.config, embedder=s.embedder)

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


# --------------------------------------------------------------------------- errors


def error_body(status: int, message: str, code: str | None = None, **extra: Any) -> dict[str, Any]:
    """The JSON shape of every API error."""
    codes = {
        400: "bad_request",
        401: "unauthorized",
        403: "forbidden",
        404: "not_found",
        405: "method_not_allowed",
        413: "too_large",
        415: "unsupported_media_type",
        422: "invalid",
        500: "internal",
        503: "unavailable",
    }
    return {"error": {"status": status, "code": code or codes.get(status, "error"), "message": message, **extra}}


class BodyLimit:
    """ASGI middleware refusing request bodies over a size limit with 413 (declared or streamed)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_bytes
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            body = json.dumps(
                error_body(413, f"request body is {int(declared):,} bytes; the limit is {limit:,} bytes")
            ).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > limit:
                    raise HTTPException(413, f"request body is over the limit of {limit:,} bytes")
            return msg

        await self.app(scope, counted, send)


def _is_api(request: Request) -> bool:
    """True for REST API paths (which get JSON errors; pages get HTML)."""
    return request.url.path.startswith("/api/") or request.url.path == "/openapi.json"


# --------------------------------------------------------------------------- the app


def create_app(
    db: str | Path,
    token: str | None = None,
    *,
    embedder: Embedder | None = None,
    config: Config | None = None,
    poll_seconds: float = 3.0,
    max_request_bytes: int = MAX_REQUEST_BYTES,
    allowed_hosts: Iterable[str] | None = None,
) -> FastAPI:
    """Build the web application over one SQLite database.

    Args:
        db: SQLite file (created if missing), ``sqlite:///path``, or a ``postgresql://`` URL.
        token: Token the write endpoints require (``Authorization: Bearer …``); None disables writes.
        embedder: Embedder for the builds that ingest jobs run (default: the store's own).
        config: Pipeline settings for those builds.
        poll_seconds: How often open pages check for new data; 0 turns live updates off.
        max_request_bytes: Largest request body accepted.
        allowed_hosts: Host names (``Host`` header, port ignored) the server answers; others get 400.
            Default: the loopback names (``localhost``, ``127.0.0.1``, ``::1``); ``*`` allows any,
            ``*.example.org`` any subdomain.

    Returns:
        The FastAPI app; serve it with uvicorn (see :func:`serve`).

    Raises:
        ConfigError: ``db`` is an in-memory database (each connection would see its own).
    """
    url = str(db)
    if url in (":memory:", "sqlite:///:memory:", ""):
        raise ConfigError(f"the web server needs a database file or server that other connections can open, got {db!r}")
    settings = Settings(
        db=url,
        token=token or None,
        max_request_bytes=max_request_bytes,
        poll_seconds=poll_seconds,
        embedder=embedder,
        config=config or Config(),
        allowed_hosts=normalize_hosts(allowed_hosts),
    )
    state = State(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> Any:
        state.jobs.start()
        yield
        state.close()

    app = FastAPI(
        title="storydesk",
        version=__version__,
        description=(
            "REST API of storydesk: stories (storylines), events with their cited summaries, timelines, "
            "quotes, sources and conflicts, as in the story JSON (docs/story-json.md). "
            "Write endpoints need `Authorization: Bearer <token>` (the server's --token)."
        ),
        lifespan=lifespan,
    )
    app.state.storydesk = state
    # the last added runs first: security headers on everything, then the Host and NUL checks
    app.add_middleware(CatchAll, handler=_install_error_handlers(app, state))
    app.add_middleware(BodyLimit, max_bytes=settings.max_request_bytes)
    app.add_middleware(RequestSanity)
    app.add_middleware(HostAllowList, allowed=settings.allowed_hosts)
    app.add_middleware(SecurityHeaders)
    static = resources.files("storydesk").joinpath("web/static")
    app.mount("/static", StaticFiles(directory=str(static)), name="static")
    _api_routes(app, state)
    _page_routes(app, state)
    return app


def _install_error_handlers(app: FastAPI, state: State) -> Callable[[Request, Exception], Response]:
    """JSON errors for the API, HTML error pages for the UI; returns the handler of unexpected errors."""

    def respond(request: Request, status: int, message: str, **extra: Any) -> Response:
        # 500s are answered by Starlette outside the middleware stack: the headers are set here too
        headers = security_headers(request.url.path)
        if status == 401:
            headers["WWW-Authenticate"] = "Bearer"
        if "request_id" in extra:
            headers["X-Request-Id"] = extra["request_id"]
        if _is_api(request):
            return JSONResponse(error_body(status, message, **extra), status_code=status, headers=headers)
        html = state.templates.get_template("error.html").render(
            request=request, status=status, message=message, token="", poll=0, writable=False
        )
        return HTMLResponse(html, status_code=status, headers=headers)

    def server_error(request: Request, exc: Exception, status: int = 500) -> Response:
        """A 500 (or 503) that says nothing internal; the details go to the server log under a request id."""
        rid = uuid.uuid4().hex[:12]
        log.error("request %s: error serving %s %s", rid, request.method, request.url.path, exc_info=exc)
        if status == 503:
            message = f"the database is busy or unavailable; try again (request id {rid})"
        else:
            message = f"internal error (request id {rid}); the details are in the server log"
        return respond(request, status, message, request_id=rid)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        message = exc.detail if isinstance(exc.detail, str) else json.dumps(exc.detail)
        if exc.status_code == 404 and message == "Not Found":
            message = f"nothing at {request.url.path}"
        if exc.status_code == 405:
            message = f"{request.method} is not allowed on {request.url.path}"
        return respond(request, exc.status_code, message)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        problems = []
        for e in exc.errors():
            where = ".".join(str(x) for x in e.get("loc", ()) if x not in ("query", "body", "path"))
            problems.append({"field": where, "problem": e.get("msg", "invalid")})
        text = "; ".join(f"{p['field']}: {p['problem']}" if p["field"] else p["problem"] for p in problems)
        return respond(request, 422, f"invalid request: {text}", details=problems)

    @app.exception_handler(InputError)
    async def bad_input(request: Request, exc: InputError) -> Response:
        return respond(request, 400, str(exc))

    @app.exception_handler(StoreError)
    async def store_error(request: Request, exc: StoreError) -> Response:
        return server_error(request, exc, 503)

    @app.exception_handler(StorydeskError)
    async def storydesk_error(request: Request, exc: StorydeskError) -> Response:
        return server_error(request, exc)

    return server_error


class CatchAll:
    """ASGI middleware turning an unexpected exception into a generic 500 (see ``server_error``).

    Starlette's own last-resort handler re-raises after answering, and uvicorn then drops the
    connection; this one answers and is done.
    """

    def __init__(self, app: ASGIApp, handler: Callable[[Request, Exception], Response]) -> None:
        self.app = app
        self.handler = handler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracked(msg: Message) -> None:
            nonlocal started
            if msg["type"] == "http.response.start":
                started = True
            await send(msg)

        try:
            await self.app(scope, receive, tracked)
        except Exception as exc:
            if started:  # too late to answer: the client sees a cut response
                log.error(
                    "error after the response started: %s %s", scope.get("method"), scope.get("path"), exc_info=exc
                )
                raise
            response = self.handler(Request(scope), exc)
            await response(scope, receive, send)


# --------------------------------------------------------------------------- REST API


def _require_token(state: State) -> Callable[[Request], None]:
    """A dependency checking the write token."""

    def check(request: Request) -> None:
        expected = state.settings.token
        if expected is None:
            raise HTTPException(
                403, "write endpoints are disabled: start `storydesk serve` with --token or STORYDESK_TOKEN"
            )
        auth = request.headers.get("authorization", "")
        given = auth[7:].strip() if auth.lower().startswith("bearer ") else request.headers.get("x-storydesk-token")
        if not given:
            raise HTTPException(401, "this endpoint needs a token: send 'Authorization: Bearer <token>'")
        if not hmac.compare_digest(given.encode(), expected.encode()):
            raise HTTPException(403, "the token is not valid")

    return check


Q = Annotated[str | None, Query(description="Full-text search over article titles and texts (all words must match)")]
SINCE = Annotated[str | None, Query(description="Only what happened on or after this date (YYYY-MM-DD)")]
UNTIL = Annotated[str | None, Query(description="Only what happened on or before this date (YYYY-MM-DD)")]
OUTLET = Annotated[str | None, Query(description="Only events with an article from this outlet")]
ORDER = Annotated[str, Query(description=f"One of: {', '.join(ORDERS)}")]
LIMIT = Annotated[int, Query(ge=1, le=MAX_PAGE, description="Page size")]
#: Largest offset and page number accepted (a bigger one cannot be a real page, and overflows SQL integers).
MAX_OFFSET = 1_000_000_000
OFFSET = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Rows to skip")]

_INGEST_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "oneOf": [
                        {"$ref": "#/components/schemas/ArticleIn"},
                        {"type": "array", "items": {"$ref": "#/components/schemas/ArticleIn"}},
                        {
                            "type": "object",
                            "required": ["articles"],
                            "properties": {
                                "articles": {"type": "array", "items": {"$ref": "#/components/schemas/ArticleIn"}}
                            },
                        },
                    ]
                },
                "example": {
                    "articles": [
                        {
                            "id": "wire-0001",
                            "outlet": "Example Wire",
                            "title": "Council approves tram line",
                            "published": "2025-02-04",
                            "url": "https://example.invalid/tram",
                            "text": "The council approved the tram line on Tuesday.\n\nWork starts in spring.",
                        }
                    ]
                },
            }
        },
    }
}
_UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["files"],
                    "properties": {"files": {"type": "array", "items": {"type": "string", "format": "binary"}}},
                }
            }
        },
    }
}
_ARTICLE_IN = {
    "type": "object",
    "description": "One article (the JSON Lines input format). `text` or `title` is required.",
    "properties": {
        "id": {"type": "string", "description": "Your id; the same id is never stored twice"},
        "outlet": {"type": "string"},
        "title": {"type": "string"},
        "published": {"type": "string", "description": "YYYY-MM-DD or an RFC 2822 / ISO date-time"},
        "url": {"type": "string"},
        "text": {"type": "string", "description": "Body; paragraphs separated by a blank line"},
    },
}


def _api_routes(app: FastAPI, state: State) -> None:
    """Register the REST API."""
    writer = [Depends(_require_token(state))]

    def not_found(kind: str, key: str) -> HTTPException:
        return HTTPException(404, f"no {kind} with id {key!r}")

    @app.get(f"{API}/health", tags=["meta"], summary="Liveness and store size")
    def health() -> dict[str, Any]:
        s = state.desk().store
        return {
            "status": "ok",
            "version": __version__,
            "articles": s.article_count(),
            "writable": bool(state.settings.token),
        }

    @app.get(f"{API}/changes", tags=["meta"], summary="Change token (changes whenever stored data changes)")
    def changes() -> dict[str, Any]:
        return {"token": state.watcher.token(), "jobs": state.jobs.counts()}

    @app.get(f"{API}/stories", tags=["read"], summary="List or search stories (storylines)")
    def list_stories(
        q: Q = None,
        since: SINCE = None,
        until: UNTIL = None,
        outlet: OUTLET = None,
        order: ORDER = "newest",
        limit: LIMIT = 20,
        offset: OFFSET = 0,
    ) -> dict[str, Any]:
        return state.desk().list_stories(q, since, until, outlet, order, limit, offset)

    @app.get(f"{API}/stories/{{story_id}}", tags=["read"], summary="One story: its events and articles (story JSON)")
    def get_story(story_id: str) -> dict[str, Any]:
        try:
            return state.desk().storyline_document(story_id)
        except NotFoundError:
            raise not_found("story", story_id) from None

    @app.get(f"{API}/events", tags=["read"], summary="List or search events")
    def list_events(
        q: Q = None,
        since: SINCE = None,
        until: UNTIL = None,
        outlet: OUTLET = None,
        story: Annotated[str | None, Query(description="Only the events of this story")] = None,
        order: ORDER = "newest",
        limit: LIMIT = 20,
        offset: OFFSET = 0,
    ) -> dict[str, Any]:
        return state.desk().list_events(q, since, until, outlet, story, order, limit, offset)

    @app.get(
        f"{API}/events/{{event_id}}",
        tags=["read"],
        summary="One event with everything in the story JSON (articles, summary, timeline, quotes, claims, conflicts)",
    )
    def get_event(event_id: str) -> Response:
        def make() -> str:
            return json.dumps(state.desk().event_document(event_id), ensure_ascii=False)

        try:
            body = state.cache.get_or_make(f"api:event:{event_id}", state.watcher.token(), make)
        except NotFoundError:
            raise not_found("event", event_id) from None
        return Response(body, media_type="application/json")

    @app.get(
        f"{API}/articles/{{article_id}}", tags=["read"], summary="One article (cleaned text, sentences, provenance)"
    )
    def get_article(article_id: str) -> dict[str, Any]:
        try:
            return state.desk().article_document(article_id)
        except NotFoundError:
            raise not_found("article", article_id) from None

    @app.get(f"{API}/rejections", tags=["read"], summary="Inputs that were refused, with reasons")
    def rejections(limit: LIMIT = 100, offset: OFFSET = 0) -> dict[str, Any]:
        total, page = state.desk().rejections(limit, offset)
        return {
            "total": total,
            "limit": limit,
            "offset": offset,
            "items": [{"source": r.source, "code": r.code, "reason": r.reason, "at": r.at} for r in page],
        }

    @app.get(f"{API}/export", tags=["read"], summary="Export the story JSON (all events or some) or the HTML report")
    def export(
        event: Annotated[list[str] | None, Query(description="Only these events (repeatable)")] = None,
        format: Annotated[str, Query(description="json or html")] = "json",
    ) -> Response:
        if format not in ("json", "html"):
            raise InputError(f"'format' must be json or html, got {format!r}")
        desk = state.desk()
        if event:
            known = {e.id for e in desk.store.events()}
            missing = [e for e in event if e not in known]
            if missing:
                raise not_found("event", missing[0])
        doc = desk.story(list(event) if event else None)
        if format == "html":
            from storydesk.report import render_report

            return HTMLResponse(
                render_report(doc), headers={"Content-Disposition": 'attachment; filename="storydesk-report.html"'}
            )
        return Response(
            json.dumps(doc, ensure_ascii=False),
            media_type="application/json",
            headers={"Content-Disposition": 'attachment; filename="storydesk-story.json"'},
        )

    @app.post(
        f"{API}/ingest",
        tags=["write"],
        status_code=202,
        dependencies=writer,
        summary="Ingest articles sent as JSON; returns a job to poll",
        openapi_extra=_INGEST_BODY,
    )
    async def ingest_json(request: Request) -> JSONResponse:
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype != "application/json":
            raise HTTPException(
                415,
                f"send the articles as application/json (got {ctype or 'no content type'}); "
                f"upload files to {API}/ingest/files",
            )
        raw = await request.body()
        body = _parse_body(raw)
        items = body.get("articles") if isinstance(body, dict) and "articles" in body else body
        if isinstance(items, dict):
            items = [items]
        if not isinstance(items, list) or not items:
            raise HTTPException(422, 'send an article object, a non-empty list of them, or {"articles": [...]}')
        if len(items) > MAX_ARTICLES_PER_REQUEST:
            raise HTTPException(413, f"{len(items)} articles in one request; the limit is {MAX_ARTICLES_PER_REQUEST}")
        # An item that is not an article (not an object, a bad date, no text) is rejected alone by
        # the job, with its reason in the job's report, as a bad line of a file would be.
        try:
            data = json.dumps(items)
        except (RecursionError, ValueError):
            raise HTTPException(400, "the request body is nested too deeply") from None
        folder = Path(tempfile.mkdtemp(prefix="storydesk-job-"))
        # A constant file name keeps ids stable: re-sending the same articles adds nothing.
        (folder / "api.json").write_text(data, encoding="utf-8")
        job = state.jobs.submit(folder, [f"{len(items)} article(s) as JSON"])
        return _accepted(job.as_dict())

    @app.post(
        f"{API}/ingest/files",
        tags=["write"],
        status_code=202,
        dependencies=writer,
        summary="Ingest uploaded files (text, JSON Lines, JSON, HTML, RSS/Atom); returns a job to poll",
        openapi_extra=_UPLOAD_BODY,
    )
    async def ingest_files(request: Request) -> JSONResponse:
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype != "multipart/form-data":
            raise HTTPException(415, f"upload files as multipart/form-data (got {ctype or 'no content type'})")
        form = await request.form(max_files=MAX_FILES_PER_REQUEST)
        uploads = [v for _k, v in form.multi_items() if isinstance(v, UploadFile)]
        if not uploads:
            raise HTTPException(422, "no files in the upload: send them as multipart form fields named 'files'")
        folder = Path(tempfile.mkdtemp(prefix="storydesk-job-"))
        names = []
        try:
            for n, up in enumerate(uploads):
                name = _safe_name(up.filename or f"upload-{n}")
                target = folder / name
                if target.exists():
                    target = folder / str(n) / name
                    target.parent.mkdir()
                with target.open("wb") as fh:
                    while chunk := await up.read(1 << 20):
                        fh.write(chunk)
                names.append(str(target.relative_to(folder)))
        finally:
            await form.close()
        job = state.jobs.submit(folder, names)
        return _accepted(job.as_dict())

    @app.get(f"{API}/jobs", tags=["write"], summary="Recent ingest jobs, newest first")
    def list_jobs(limit: LIMIT = 50) -> dict[str, Any]:
        return {"items": [j.as_dict() for j in state.jobs.jobs()[:limit]]}

    @app.get(f"{API}/jobs/{{job_id}}", tags=["write"], summary="Status of one ingest job")
    def get_job(job_id: str) -> dict[str, Any]:
        try:
            return state.jobs.get(job_id).as_dict()
        except NotFoundError:
            raise not_found("job", job_id) from None

    original_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = original_openapi()
            schema.setdefault("components", {}).setdefault("schemas", {})["ArticleIn"] = _ARTICLE_IN
            schema["components"]["securitySchemes"] = {"bearer": {"type": "http", "scheme": "bearer"}}
            for path, ops in schema["paths"].items():
                for op in ops.values():
                    if path.startswith(f"{API}/ingest"):
                        op["security"] = [{"bearer": []}]
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _parse_body(raw: bytes) -> Any:
    """A JSON request body, or 400 saying why it cannot be read (never a 500)."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise HTTPException(400, f"the request body is not UTF-8 (byte {e.start})") from None
    if json_too_deep(text):
        raise HTTPException(400, f"the request body is nested too deeply (over {MAX_JSON_DEPTH} levels)")
    try:
        return json.loads(text)
    except UnicodeDecodeError as e:
        raise HTTPException(400, f"the request body is not UTF-8 (byte {e.start})") from None
    except json.JSONDecodeError as e:
        raise HTTPException(400, f"the request body is not valid JSON: {e}") from None
    except RecursionError:
        raise HTTPException(400, "the request body is nested too deeply") from None
    except ValueError as e:  # e.g. an integer of more than 4,300 digits
        raise HTTPException(400, f"the request body holds an unreadable value: {str(e).split(';')[0]}") from None


def _accepted(job: dict[str, Any]) -> JSONResponse:
    """202 with the job and where to poll it."""
    url = f"{API}/jobs/{job['id']}"
    return JSONResponse({**job, "url": url}, status_code=202, headers={"Location": url})


def _safe_name(name: str) -> str:
    """An uploaded file's base name, safe to write (no folders, not hidden)."""
    base = re.split(r"[\\/]", name)[-1]
    base = re.sub(r"[^\w.\- ]", "_", base).lstrip(". ") or "upload"
    return base[:200]


# --------------------------------------------------------------------------- pages


def _page_routes(app: FastAPI, state: State) -> None:
    """Register the server-rendered web UI."""

    def page(name: str, request: Request, token: str, status: int = 200, **ctx: Any) -> HTMLResponse:
        return HTMLResponse(state.render(name, request, token, **ctx), status_code=status)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def index(
        request: Request,
        q: str | None = None,
        since: str | None = None,
        until: str | None = None,
        outlet: str | None = None,
        order: str = "newest",
        page_no: Annotated[int, Query(alias="page", ge=1, le=MAX_OFFSET // 100)] = 1,
    ) -> HTMLResponse:
        token = state.watcher.token()
        size = state.settings.page_size
        form = {"q": q or "", "since": since or "", "until": until or "", "outlet": outlet or "", "order": order}

        def render(result: dict[str, Any], error: str | None = None) -> str:
            for s in result["items"]:
                s["when"] = views.date_range(s["start"], s["end"])
                # a story can hold thousands of events: the list shows its latest, its page shows all
                s["n_events"] = len(s["events"])
                s["earlier_events"] = max(0, len(s["events"]) - STORY_LIST_EVENTS)
                s["events"] = s["events"][-STORY_LIST_EVENTS:]
                for row in s["events"]:
                    row["when"] = views.date_range(row["start"] or row["first_published"], row["end"])
            return state.render(
                "stories.html",
                request,
                token,
                result=result,
                form=form,
                error=error,
                page_no=page_no,
                pages=max(1, -(-result["total"] // size)),
                outlets=result["outlets"],
                articles=state.desk().store.article_count(),
                link=lambda **kw: _link(form, page_no, **kw),
            )

        def make() -> str:
            return render(state.desk().list_stories(q, since, until, outlet, order, size, (page_no - 1) * size))

        try:
            return HTMLResponse(state.cache.get_or_make(f"index:{request.url.query}", token, make))
        except InputError as e:  # a bad filter: the page again, with the message (never cached)
            empty = {"total": 0, "items": [], "limit": size, "offset": 0, "outlets": []}
            return HTMLResponse(render(empty, str(e)), status_code=400)

    @app.get("/event/{event_id}", response_class=HTMLResponse, include_in_schema=False)
    def event_page(request: Request, event_id: str) -> HTMLResponse:
        token = state.watcher.token()

        def make() -> str:
            desk = state.desk()
            doc = desk.event_document(event_id)
            v = views.event_view(doc, event_id)
            sl = doc["storylines"][0]["events"] if doc["storylines"] else []
            v["others"] = _storyline_events(desk, sl, event_id)
            return state.render("event.html", request, token, v=v)

        try:
            return HTMLResponse(state.cache.get_or_make(f"event:{event_id}", token, make))
        except NotFoundError:
            raise HTTPException(
                404,
                f"no event with id {event_id!r}: it may have been merged into another event since this link was made",
            ) from None

    @app.get("/story/{story_id}", response_class=HTMLResponse, include_in_schema=False)
    def story_page(request: Request, story_id: str) -> HTMLResponse:
        token = state.watcher.token()

        def make() -> str:
            doc = state.desk().storyline_document(story_id)
            return state.render("storyline.html", request, token, v=views.storyline_view(doc, story_id))

        try:
            return HTMLResponse(state.cache.get_or_make(f"story:{story_id}", token, make))
        except NotFoundError:
            raise HTTPException(
                404,
                f"no story with id {story_id!r}: stories are regrouped as events arrive, so an old link can go stale",
            ) from None

    @app.get("/article/{article_id}", response_class=HTMLResponse, include_in_schema=False)
    def article_page(request: Request, article_id: str) -> Response:
        token = state.watcher.token()
        desk = state.desk()
        try:
            a = desk.article_document(article_id)
        except NotFoundError:
            raise HTTPException(404, f"no article with id {article_id!r}") from None
        doc = {"articles": [a], "events": [], "storylines": []}
        label = views.source_labels([a])[a["id"]]
        return page(
            "article.html",
            request,
            token,
            a={**a, "label": label, "chain": views.chain(a, label), "paragraphs": views._paragraphs(a)},
            cites=views.Citations(doc, {a["id"]}),
        )

    @app.get("/api", response_class=HTMLResponse, include_in_schema=False)
    def api_reference(request: Request) -> HTMLResponse:
        spec = app.openapi()
        return page("api.html", request, state.watcher.token(), spec=spec, ops=_operations(spec))

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> RedirectResponse:
        return RedirectResponse("/static/favicon.svg")


def _storyline_events(
    desk: Storydesk, event_ids: list[str], current: str, around: int = STORY_NAV_AROUND
) -> dict[str, Any]:
    """The events of a storyline nearest in time to ``current``, oldest first.

    Dates come from the listing rows (cached by the server per change token), so a story of
    thousands of events costs one pass over those rows and a headline read for the few shown.

    Returns:
        ``{"total", "rows": [{id, headline, start}], "before", "after"}``: ``before`` and
        ``after`` count the events left out on each side.
    """
    rows = desk.event_rows_for(dict.fromkeys(event_ids))  # ids merged away since are dropped here
    rows.sort(key=lambda r: (r["start"] or r["first_published"] or "9999", r["seq"], r["id"]))
    at = next((n for n, r in enumerate(rows) if r["id"] == current), 0)
    lo, hi = max(0, at - around), min(len(rows), at + around + 1)
    shown = rows[lo:hi]
    heads = desk.headlines([r["id"] for r in shown])
    return {
        "total": len(rows),
        "rows": [
            {"id": r["id"], "headline": heads.get(r["id"]) or r["title"], "start": r["start"] or r["first_published"]}
            for r in shown
        ],
        "before": lo,
        "after": len(rows) - hi,
    }


def _operations(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """The operations of an OpenAPI document, flattened for the API reference page."""
    ops = []
    for path, methods in spec.get("paths", {}).items():
        for method, op in methods.items():
            params = []
            for p in op.get("parameters", []):
                sch = p.get("schema", {})
                alts = [x.get("type", "") for x in sch.get("anyOf", []) if x.get("type") != "null"]
                typ = sch.get("type") or "/".join(alts)
                params.append(
                    {
                        "name": p["name"],
                        "in": p["in"],
                        "required": p.get("required", False),
                        "type": typ,
                        "description": p.get("description", ""),
                    }
                )
            content = op.get("requestBody", {}).get("content", {})
            example = next((c["example"] for c in content.values() if "example" in c), None)
            ops.append(
                {
                    "id": op.get("operationId", f"{method}-{path}"),
                    "method": method.upper(),
                    "path": path,
                    "summary": op.get("summary", ""),
                    "params": params,
                    "body": list(content),
                    "example": json.dumps(example, indent=2, ensure_ascii=False) if example else None,
                    "secured": bool(op.get("security")),
                }
            )
    return ops


def _link(form: dict[str, str], page_no: int, **changes: Any) -> str:
    """The story list URL with some parameters changed (empty ones dropped)."""
    from urllib.parse import urlencode

    params = {**form, "page": str(page_no), **{k: str(v) for k, v in changes.items()}}
    if "page" not in changes and any(k != "page" for k in changes):
        params["page"] = "1"
    kept = {
        k: v for k, v in params.items() if v and not (k == "page" and v == "1") and not (k == "order" and v == "newest")
    }
    return "/" + ("?" + urlencode(kept) if kept else "")


def serve(
    db: str | Path,
    host: str = "127.0.0.1",
    port: int = 8000,
    token: str | None = None,
    allowed_hosts: Iterable[str] | None = None,
) -> None:
    """Serve the web UI and the REST API with uvicorn until interrupted (``storydesk serve``).

    Args:
        db: SQLite database file or ``postgresql://`` URL.
        host: Interface to listen on (loopback by default).
        port: TCP port.
        token: Token for the write endpoints (None: read-only).
        allowed_hosts: Host names the server answers besides the loopback ones (``*``: any).
            The interface address given as ``host`` is allowed too unless it is a wildcard.
    """
    import uvicorn

    from storydesk.web.security import LOOPBACK_HOSTS

    hosts = [*LOOPBACK_HOSTS, *(allowed_hosts or [])]
    if host not in ("0.0.0.0", "::", ""):
        hosts.append(host)
    app = create_app(db, token=token, allowed_hosts=hosts)
    print(
        f"storydesk: serving {_display(str(db))} at http://{host}:{port}  (API: http://{host}:{port}/api)", flush=True
    )
    if token is None:
        print("storydesk: read-only; pass --token (or set STORYDESK_TOKEN) to enable ingest over the API", flush=True)
    if host in ("0.0.0.0", "::") and not allowed_hosts:
        print(
            "storydesk: listening on every interface, but answering only requests addressed to a loopback name; "
            "add the names clients use with --allow-host NAME",
            flush=True,
        )
    uvicorn.run(app, host=host, port=port, log_level="warning")


def _display(db: str) -> str:
    """A database location safe to print (a URL's password masked)."""
    if "://" not in db:
        return db
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(db)
    if parts.password:
        host = parts.hostname or ""
        netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
        return urlunsplit(parts._replace(netloc=netloc))
    return db
