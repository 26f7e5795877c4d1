"""Safe defaults of the web server: security headers, a Host allow-list, request sanity checks.

* Every response carries a Content-Security-Policy (scripts only from the server itself, no
  framing, no plugins), ``X-Content-Type-Options: nosniff``, ``X-Frame-Options: DENY`` and
  ``Referrer-Policy: no-referrer``.
* Requests whose ``Host`` is not on the allow-list are answered 400: a page on another site
  cannot reach a server on loopback by pointing its own name at 127.0.0.1 (DNS rebinding).
  By default only loopback names are allowed; ``storydesk serve --allow-host`` (or
  ``STORYDESK_ALLOWED_HOSTS``) adds names, ``*`` allows any.
* A NUL character in the path or the query string is answered 400 (no store can take it).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from urllib.parse import unquote_to_bytes

from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: Host names allowed when none are configured: the loopback names.
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")

#: The policy of every page and API response: nothing but the server's own files runs.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
#: The interactive API explorers (/docs, /redoc) load Swagger UI / ReDoc from a CDN and start them
#: with an inline script; they show no stored data, so this looser policy is confined to them.
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com; "
    "img-src 'self' data: https://fastapi.tiangolo.com https://cdn.jsdelivr.net; "
    "font-src 'self' https://fonts.gstatic.com; worker-src 'self' blob:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
DOCS_PATHS = ("/docs", "/docs/oauth2-redirect", "/redoc")


def security_headers(path: str) -> dict[str, str]:
    """The security headers of a response to ``path``."""
    return {
        "Content-Security-Policy": DOCS_CSP if path in DOCS_PATHS else CSP,
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
        "Cross-Origin-Opener-Policy": "same-origin",
    }


class SecurityHeaders:
    """ASGI middleware adding :func:`security_headers` to every HTTP response (unless already set)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = [(k.lower().encode(), v.encode()) for k, v in security_headers(scope.get("path", "")).items()]

        async def send_with_headers(msg: Message) -> None:
            if msg["type"] == "http.response.start":
                have = {k.lower() for k, _v in msg.get("headers", [])}
                msg["headers"] = [*msg.get("headers", []), *((k, v) for k, v in extra if k not in have)]
            await send(msg)

        await self.app(scope, receive, send_with_headers)


def normalize_hosts(hosts: Iterable[str] | None) -> frozenset[str]:
    """Allowed host names, lower-case, without ports or brackets; None gives the loopback names."""
    if hosts is None:
        return frozenset(LOOPBACK_HOSTS)
    out: set[str] = set()
    for item in hosts:
        for h in str(item).replace(",", " ").split():
            out.add(host_name(h) if h != "*" else "*")
    return frozenset(out)


def host_name(host: str) -> str:
    """The name part of a Host header value: ``[::1]:8000`` → ``::1``, ``Example.org.:80`` → ``example.org``."""
    h = host.strip().lower()
    if h.startswith("["):
        end = h.find("]")
        return h[1:end] if end > 0 else h
    if h.count(":") == 1:
        h = h.split(":", 1)[0]
    return h.rstrip(".")


def host_allowed(host: str | None, allowed: frozenset[str]) -> bool:
    """True when a request's Host header names an allowed host."""
    if "*" in allowed:
        return True
    if not host:
        return False
    name = host_name(host)
    if name in allowed:
        return True
    return any(a.startswith("*.") and name.endswith(a[1:]) for a in allowed)


async def _refuse(send: Send, scope: Scope, status: int, message: str, code: str) -> None:
    """Answer a request before the app sees it: JSON for the API, plain text otherwise."""
    path = scope.get("path", "")
    if path.startswith("/api/") or path == "/openapi.json":
        body = json.dumps({"error": {"status": status, "code": code, "message": message}}).encode()
        ctype = b"application/json"
    else:
        body = f"{status} Bad Request: {message}\n".encode()
        ctype = b"text/plain; charset=utf-8"
    headers = [(b"content-type", ctype), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class HostAllowList:
    """ASGI middleware answering 400 to requests for a host that is not allowed."""

    def __init__(self, app: ASGIApp, allowed: frozenset[str]) -> None:
        self.app = app
        self.allowed = allowed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        host = None
        for k, v in scope.get("headers") or []:
            if k == b"host":
                host = v.decode("latin-1")
                break
        if not host_allowed(host, self.allowed):
            shown = repr(host_name(host))[:80] if host else "none"
            await _refuse(
                send,
                scope,
                400,
                f"host {shown} is not allowed; start `storydesk serve` with --allow-host NAME "
                "(or set STORYDESK_ALLOWED_HOSTS) to serve it",
                "bad_host",
            )
            return
        await self.app(scope, receive, send)


class RequestSanity:
    """ASGI middleware answering 400 to a NUL character in the path or the query string."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            query = scope.get("query_string", b"")
            raw_path = scope.get("raw_path") or scope.get("path", "").encode("utf-8", "surrogateescape")
            if b"\x00" in unquote_to_bytes(query.replace(b"+", b" ")) or b"\x00" in unquote_to_bytes(raw_path):
                await _refuse(send, scope, 400, "the request holds a NUL character", "bad_request")
                return
            if "\x00" in scope.get("path", ""):
                await _refuse(send, scope, 400, "the request holds a NUL character", "bad_request")
                return
        await self.app(scope, receive, send)
