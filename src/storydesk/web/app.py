"""The FastAPI application: the REST API under ``/api/v1`` and the server-rendered pages.

The app is wired here (middleware, error handlers, the routers of
:mod:`storydesk.web.api_routes` and :mod:`storydesk.web.pages`); every route is one call of
:class:`storydesk.api.Storydesk` through the shared :class:`~storydesk.web.state.State`.
Errors are JSON for the API (``{"error": {"status", "code", "message"}}``) and HTML pages for
the UI; nothing internal is ever shown (500s carry a request id, the details go to the log).
"""

from __future__ import annotations

import gc
import json
import logging
import uuid
from collections.abc import Callable, Iterable
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from storydesk import __version__
from storydesk.api import Embedder
from storydesk.config import Config
from storydesk.errors import ConfigError, InputError, NotFoundError, StoreError, StorydeskError
from storydesk.web import api_routes, pages, schemas
from storydesk.web.security import HostAllowList, RequestSanity, SecurityHeaders, normalize_hosts, security_headers
from storydesk.web.state import MAX_REQUEST_BYTES, Settings, State

log = logging.getLogger("storydesk.web")


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

    @app.exception_handler(NotFoundError)
    async def not_found(request: Request, exc: NotFoundError) -> Response:
        # only storydesk's own "no such id" is a 404: a KeyError (a bug) stays a 500
        return respond(request, 404, str(exc))

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
    """Build the web application over one database.

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
    if url in (":memory:", "sqlite:///:memory:", "sqlite://", ""):
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
        # What is loaded by now (modules, models, the app) lives as long as the process: kept
        # out of the collector's full passes, which otherwise stall every request for 100-150 ms
        # a few times a minute under load (measured: the cold event page's p99).
        gc.collect()
        gc.freeze()
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
    app.include_router(api_routes.router)
    app.include_router(pages.router)
    _with_body_schemas(app)
    return app


def _with_body_schemas(app: FastAPI) -> None:
    """Add the request-body models (read by the handlers themselves) to the generated OpenAPI document."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            spec = generate()
            spec.setdefault("components", {}).setdefault("schemas", {}).update(schemas.body_schemas())
            app.openapi_schema = spec
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


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
    where = app.state.storydesk.location  # a server URL's password is never printed
    print(f"storydesk: serving {where} at http://{host}:{port}  (API: http://{host}:{port}/api)", flush=True)
    if token is None:
        print("storydesk: read-only; pass --token (or set STORYDESK_TOKEN) to enable ingest over the API", flush=True)
    if host in ("0.0.0.0", "::") and not allowed_hosts:
        print(
            "storydesk: listening on every interface, but answering only requests addressed to a loopback name; "
            "add the names clients use with --allow-host NAME",
            flush=True,
        )
    uvicorn.run(app, host=host, port=port, log_level="warning")
