"""The server-rendered web UI: each page is one call of :class:`storydesk.api.Storydesk`, laid out by a template.

Pages are cached per change token (:class:`~storydesk.web.state.PageCache`): a commit by
anyone makes a new token, so a page is never stale, and an unchanged store serves from memory.
"""

from __future__ import annotations

import json
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from storydesk.errors import InputError, NotFoundError
from storydesk.web import views
from storydesk.web.api_routes import MAX_OFFSET, StateDep

#: Latest events of each story shown in the story list.
STORY_LIST_EVENTS = 6
#: Events of the same story linked from an event page, on each side of it (a story can hold thousands).
STORY_NAV_AROUND = 5

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def index(
    request: Request,
    state: StateDep,
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

    def render(result: dict[str, Any], articles: int, error: str | None = None) -> str:
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
            articles=articles,
            link=lambda **kw: _link(form, page_no, **kw),
        )

    def make() -> str:
        desk = state.desk()
        result = desk.list_stories(q, since, until, outlet, order, size, (page_no - 1) * size)
        return render(result, desk.counts().articles)

    try:
        return HTMLResponse(state.cache.get_or_make(f"index:{request.url.query}", token, make))
    except InputError as e:  # a bad filter: the page again, with the message (never cached)
        empty = {"total": 0, "items": [], "limit": size, "offset": 0, "outlets": []}
        return HTMLResponse(render(empty, state.desk().counts().articles, str(e)), status_code=400)


@router.get("/event/{event_id}", response_class=HTMLResponse)
def event_page(request: Request, state: StateDep, event_id: str) -> HTMLResponse:
    token = state.watcher.token()

    def make() -> str:
        desk = state.desk()
        doc = desk.event_document(event_id)
        v = views.event_view(doc, event_id)
        sl = doc["storylines"][0]["events"] if doc["storylines"] else []
        v["others"] = desk.nearest_events(event_id, sl, around=STORY_NAV_AROUND)
        return state.render("event.html", request, token, v=v)

    try:
        return HTMLResponse(state.cache.get_or_make(f"event:{event_id}", token, make))
    except NotFoundError:
        raise HTTPException(
            404,
            f"no event with id {event_id!r}: it may have been merged into another event since this link was made",
        ) from None


@router.get("/story/{story_id}", response_class=HTMLResponse)
def story_page(request: Request, state: StateDep, story_id: str) -> HTMLResponse:
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


@router.get("/article/{article_id}", response_class=HTMLResponse)
def article_page(request: Request, state: StateDep, article_id: str) -> HTMLResponse:
    token = state.watcher.token()
    try:
        a = state.desk().article_document(article_id)
    except NotFoundError:
        raise HTTPException(404, f"no article with id {article_id!r}") from None
    doc = {"articles": [a], "events": [], "storylines": []}
    label = views.source_labels([a])[a["id"]]
    html = state.render(
        "article.html",
        request,
        token,
        a={**a, "label": label, "chain": views.chain(a, label), "paragraphs": views.paragraphs(a)},
        cites=views.Citations(doc, {a["id"]}),
    )
    return HTMLResponse(html)


@router.get("/api", response_class=HTMLResponse)
def api_reference(request: Request, state: StateDep) -> HTMLResponse:
    spec = request.app.openapi()
    return HTMLResponse(state.render("api.html", request, state.watcher.token(), spec=spec, ops=operations(spec)))


@router.get("/favicon.ico")
def favicon() -> RedirectResponse:
    return RedirectResponse("/static/favicon.svg")


def operations(spec: dict[str, Any]) -> list[dict[str, Any]]:
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
    params = {**form, "page": str(page_no), **{k: str(v) for k, v in changes.items()}}
    if "page" not in changes and any(k != "page" for k in changes):
        params["page"] = "1"
    kept = {
        k: v for k, v in params.items() if v and not (k == "page" and v == "1") and not (k == "order" and v == "newest")
    }
    return "/" + ("?" + urlencode(kept) if kept else "")
