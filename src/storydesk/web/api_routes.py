"""The REST API under ``/api/v1``: each endpoint is one call of :class:`storydesk.api.Storydesk`.

Reads go to the calling thread's desk (:meth:`State.desk`); ingest requests become jobs
(:mod:`storydesk.web.jobs`) that the one writer runs. Request and response shapes are the
models of :mod:`storydesk.web.schemas`, from which FastAPI builds the OpenAPI document.
"""

from __future__ import annotations

import hmac
import json
import re
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.security import HTTPBearer
from starlette.datastructures import UploadFile

from storydesk import __version__
from storydesk.api import MAX_PAGE, ORDERS, parse_json
from storydesk.errors import InputError, NotFoundError
from storydesk.web import schemas as S
from storydesk.web.state import State, get_state

API = "/api/v1"
#: Most articles one JSON ingest request may carry.
MAX_ARTICLES_PER_REQUEST = 10_000
#: Most files one upload may carry.
MAX_FILES_PER_REQUEST = 1_000
#: Largest offset and page number accepted (a bigger one cannot be a real page, and overflows SQL integers).
MAX_OFFSET = 1_000_000_000

StateDep = Annotated[State, Depends(get_state)]
Q = Annotated[str | None, Query(description="Full-text search over article titles and texts (all words must match)")]
SINCE = Annotated[str | None, Query(description="Only what happened on or after this date (YYYY-MM-DD)")]
UNTIL = Annotated[str | None, Query(description="Only what happened on or before this date (YYYY-MM-DD)")]
OUTLET = Annotated[str | None, Query(description="Only events with an article from this outlet")]
ORDER = Annotated[str, Query(description=f"One of: {', '.join(ORDERS)}")]
LIMIT = Annotated[int, Query(ge=1, le=MAX_PAGE, description="Page size")]
OFFSET = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Rows to skip")]

#: Documents the bearer token in the OpenAPI document; :func:`require_token` does the checking.
bearer = HTTPBearer(scheme_name="bearer", auto_error=False, description="The server's --token")


def require_token(request: Request, state: StateDep, _doc: Annotated[Any, Depends(bearer)]) -> None:
    """Let a write request through only with the server's token (``Authorization: Bearer`` or ``X-Storydesk-Token``)."""
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


router = APIRouter(prefix=API, responses=S.errors(500, 503))
writer = [Depends(require_token)]


def _not_found(kind: str, key: str) -> HTTPException:
    return HTTPException(404, f"no {kind} with id {key!r}")


def _json(body: str, **headers: str) -> Response:
    """A JSON response from text already serialised.

    Documents are cached as text, and listings of hundreds of rows are sent as the API made
    them: the route's ``response_model`` describes them in the OpenAPI document without
    validating every row on every request (``tests/test_web_api.py`` checks they fit it).
    """
    return Response(body, media_type="application/json", headers=headers or None)


# --------------------------------------------------------------------------- meta


@router.get("/health", tags=["meta"], summary="Liveness and store size", response_model=S.Health)
def health(state: StateDep) -> dict[str, Any]:
    counts = state.desk().counts()
    return {"status": "ok", "version": __version__, **counts.as_dict(), "writable": bool(state.settings.token)}


@router.get(
    "/changes",
    tags=["meta"],
    summary="Change token (changes whenever stored data changes)",
    response_model=S.Changes,
)
def changes(state: StateDep) -> dict[str, Any]:
    return {"token": state.watcher.token(), "jobs": state.jobs.counts()}


# --------------------------------------------------------------------------- reading


@router.get(
    "/stories",
    tags=["read"],
    summary="List or search stories (storylines)",
    response_model=S.StoryPage,
    responses=S.errors(400, 422),
)
def list_stories(
    state: StateDep,
    q: Q = None,
    since: SINCE = None,
    until: UNTIL = None,
    outlet: OUTLET = None,
    order: ORDER = "newest",
    limit: LIMIT = 20,
    offset: OFFSET = 0,
) -> Response:
    result = state.desk().list_stories(q, since, until, outlet, order, limit, offset)
    return _json(json.dumps(result, ensure_ascii=False))


@router.get(
    "/stories/{story_id}",
    tags=["read"],
    summary="One story: its events and articles (story JSON)",
    response_model=S.StoryDocument,
    responses=S.errors(404, 422),
)
def get_story(state: StateDep, story_id: str) -> Response:
    try:
        return _json(json.dumps(state.desk().storyline_document(story_id), ensure_ascii=False))
    except NotFoundError:
        raise _not_found("story", story_id) from None


@router.get(
    "/events",
    tags=["read"],
    summary="List or search events",
    response_model=S.EventPage,
    responses=S.errors(400, 422),
)
def list_events(
    state: StateDep,
    q: Q = None,
    since: SINCE = None,
    until: UNTIL = None,
    outlet: OUTLET = None,
    story: Annotated[str | None, Query(description="Only the events of this story")] = None,
    order: ORDER = "newest",
    limit: LIMIT = 20,
    offset: OFFSET = 0,
) -> Response:
    result = state.desk().list_events(q, since, until, outlet, story, order, limit, offset)
    return _json(json.dumps(result, ensure_ascii=False))


@router.get(
    "/events/{event_id}",
    tags=["read"],
    summary="One event with everything in the story JSON (articles, summary, timeline, quotes, claims, conflicts)",
    response_model=S.StoryDocument,
    responses=S.errors(404, 422),
)
def get_event(state: StateDep, event_id: str) -> Response:
    def make() -> str:
        return json.dumps(state.desk().event_document(event_id), ensure_ascii=False)

    try:
        return _json(state.cache.get_or_make(f"api:event:{event_id}", state.watcher.token(), make))
    except NotFoundError:
        raise _not_found("event", event_id) from None


@router.get(
    "/articles/{article_id}",
    tags=["read"],
    summary="One article (cleaned text, sentences, provenance)",
    response_model=S.ArticleDocument,
    responses=S.errors(404, 422),
)
def get_article(state: StateDep, article_id: str) -> Response:
    try:
        return _json(json.dumps(state.desk().article_document(article_id), ensure_ascii=False))
    except NotFoundError:
        raise _not_found("article", article_id) from None


@router.get(
    "/rejections",
    tags=["read"],
    summary="Inputs that were refused, with reasons",
    response_model=S.RejectionPage,
    responses=S.errors(422),
)
def rejections(state: StateDep, limit: LIMIT = 100, offset: OFFSET = 0) -> dict[str, Any]:
    total, page = state.desk().rejections(limit, offset)
    return {
        "total": total,
        "limit": limit,
        "offset": offset,
        "items": [{"source": r.source, "code": r.code, "reason": r.reason, "at": r.at} for r in page],
    }


@router.get(
    "/export",
    tags=["read"],
    summary="Export the story JSON (all events or some) or the HTML report",
    response_model=S.StoryDocument,
    responses={200: {"content": {"text/html": {"schema": {"type": "string"}}}}, **S.errors(400, 404, 422)},
)
def export(
    state: StateDep,
    event: Annotated[list[str] | None, Query(description="Only these events (repeatable)")] = None,
    format: Annotated[str, Query(description="json or html")] = "json",
) -> Response:
    if format not in ("json", "html"):
        raise InputError(f"'format' must be json or html, got {format!r}")
    ids = list(event) if event else None
    try:
        if format == "html":
            return HTMLResponse(
                state.desk().html_report(ids),
                headers={"Content-Disposition": 'attachment; filename="storydesk-report.html"'},
            )
        doc = state.desk().story(ids)
    except NotFoundError as e:
        raise HTTPException(404, str(e)) from None
    return _json(
        json.dumps(doc, ensure_ascii=False), **{"Content-Disposition": 'attachment; filename="storydesk-story.json"'}
    )


# --------------------------------------------------------------------------- writing


def _accepted(job: dict[str, Any]) -> JSONResponse:
    """202 with the job and where to poll it."""
    url = f"{API}/jobs/{job['id']}"
    return JSONResponse({**job, "url": url}, status_code=202, headers={"Location": url})


def _content_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


@router.post(
    "/ingest",
    tags=["write"],
    status_code=202,
    dependencies=writer,
    summary="Ingest articles sent as JSON; returns a job to poll",
    response_model=S.Job,
    responses=S.errors(400, 401, 403, 413, 415, 422),
    openapi_extra=S.request_body(S.IngestRequest, "application/json"),
)
async def ingest_json(request: Request, state: StateDep) -> JSONResponse:
    ctype = _content_type(request)
    if ctype != "application/json":
        raise HTTPException(
            415,
            f"send the articles as application/json (got {ctype or 'no content type'}); "
            f"upload files to {API}/ingest/files",
        )
    body = parse_json(await request.body())  # InputError (a 400) says why it cannot be read
    items = body.get("articles") if isinstance(body, dict) and "articles" in body else body
    if isinstance(items, dict):
        items = [items]
    if not isinstance(items, list) or not items:
        raise HTTPException(422, 'send an article object, a non-empty list of them, or {"articles": [...]}')
    if len(items) > MAX_ARTICLES_PER_REQUEST:
        raise HTTPException(413, f"{len(items)} articles in one request; the limit is {MAX_ARTICLES_PER_REQUEST}")
    # An item that is not an article (not an object, a bad date, no text) is rejected alone by
    # the job, with its reason in the job's report, as a bad line of a file would be.
    job = state.jobs.submit_records(items, [f"{len(items)} article(s) as JSON"])
    return _accepted(job.as_dict())


@router.post(
    "/ingest/files",
    tags=["write"],
    status_code=202,
    dependencies=writer,
    summary="Ingest uploaded files (text, JSON Lines, JSON, HTML, RSS/Atom); returns a job to poll",
    response_model=S.Job,
    responses=S.errors(400, 401, 403, 413, 415, 422),
    openapi_extra=S.request_body(S.UploadForm, "multipart/form-data"),
)
async def ingest_files(request: Request, state: StateDep) -> JSONResponse:
    ctype = _content_type(request)
    if ctype != "multipart/form-data":
        raise HTTPException(415, f"upload files as multipart/form-data (got {ctype or 'no content type'})")
    form = await request.form(max_files=MAX_FILES_PER_REQUEST)
    uploads = [v for _k, v in form.multi_items() if isinstance(v, UploadFile)]
    if not uploads:
        await form.close()
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


def _safe_name(name: str) -> str:
    """An uploaded file's base name, safe to write (no folders, not hidden)."""
    base = re.split(r"[\\/]", name)[-1]
    base = re.sub(r"[^\w.\- ]", "_", base).lstrip(". ") or "upload"
    return base[:200]


@router.get(
    "/jobs",
    tags=["write"],
    summary="Recent ingest jobs, newest first",
    response_model=S.JobList,
    responses=S.errors(422),
)
def list_jobs(state: StateDep, limit: LIMIT = 50) -> dict[str, Any]:
    return {"items": [j.as_dict() for j in state.jobs.jobs()[:limit]]}


@router.get(
    "/jobs/{job_id}",
    tags=["write"],
    summary="Status of one ingest job",
    response_model=S.Job,
    responses=S.errors(404, 422),
)
def get_job(state: StateDep, job_id: str) -> dict[str, Any]:
    try:
        return state.jobs.get(job_id).as_dict()
    except NotFoundError:
        raise _not_found("job", job_id) from None
