"""Pydantic models of the REST API: what each endpoint takes and returns, and the error shape.

FastAPI builds the OpenAPI document (``/openapi.json``, the ``/api`` reference page and
``/docs``) from these models. The story documents (one event, one story, the export) are
large and cached as text, so their endpoints return them as they are and the model
only describes them; the full JSON Schema is ``schema/story.schema.json`` (docs/story-json.md).

Request bodies are read by the handlers themselves (so that a wrong content type is a 415,
and JSON that is too deep or not UTF-8 a 400 with the reason); :func:`request_body`
describes them in the OpenAPI document with the models below.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel

# --------------------------------------------------------------------------- errors


class ErrorDetail(BaseModel):
    """One invalid parameter (422 only)."""

    field: str = Field(description="The parameter, e.g. `limit`")
    problem: str = Field(description="What is wrong with it")


class ErrorInfo(BaseModel):
    """What went wrong."""

    status: int = Field(description="The HTTP status code")
    code: str = Field(
        description="`bad_request`, `bad_host`, `unauthorized`, `forbidden`, `not_found`, `method_not_allowed`, "
        "`too_large`, `unsupported_media_type`, `invalid`, `internal` or `unavailable`"
    )
    message: str = Field(description="A sentence for people")
    details: list[ErrorDetail] | None = Field(None, description="Each invalid parameter (422 only)")
    request_id: str | None = Field(None, description="Where to look in the server log (500 and 503 only)")


class ErrorBody(BaseModel):
    """Every API error: ``{"error": {"status", "code", "message"}}``."""

    error: ErrorInfo


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses`` of a route that can answer these error statuses (all with :class:`ErrorBody`)."""
    what = {
        400: "Bad parameter values or request body",
        401: "No token (`WWW-Authenticate: Bearer`)",
        403: "Wrong token, or writes are disabled",
        404: "No such item",
        413: "The request is too large",
        415: "Wrong content type",
        422: "Invalid parameters or body",
        500: "A bug: a generic message with a `request_id`; the details are in the server log",
        503: "The store cannot be read right now (busy or down); try again",
    }
    return {s: {"model": ErrorBody, "description": what.get(s, "Error")} for s in statuses}


# --------------------------------------------------------------------------- meta


class Health(BaseModel):
    """Liveness and what the store holds."""

    status: Literal["ok"]
    version: str
    articles: int
    events: int
    storylines: int
    rejections: int
    writable: bool = Field(description="Whether the write endpoints are enabled (the server has a token)")


class Changes(BaseModel):
    """The change token and the job queue."""

    token: str = Field(description="Changes whenever anyone commits to the store; pages poll it")
    jobs: dict[str, int] = Field(description="How many jobs are in each status")


# --------------------------------------------------------------------------- listings


class EventRow(BaseModel):
    """One event in a listing."""

    model_config = ConfigDict(extra="allow")

    id: str
    title: str
    headline: str = Field(description="Its summary headline (the title until it is summarised)")
    lead: str | None = Field(description="The first sentence of its summary")
    storyline: str | None
    date: str | None = Field(description="The date it sorts by: the last day of its span")
    start: str | None = Field(description="When it happened (first day), from its articles' texts")
    end: str | None
    first_published: str | None
    last_published: str | None
    articles: int
    outlets: list[str]
    seq: int = Field(description="Arrival order")
    matches: int | None = Field(None, description="Articles matching the search (only with `q`)")


class EventPage(BaseModel):
    """A page of events."""

    total: int
    limit: int
    offset: int
    items: list[EventRow]
    outlets: list[str] = Field(description="Every outlet in the store (for filter menus)")


class StoryRow(BaseModel):
    """One story (storyline) in a listing, with its matching events, oldest first."""

    id: str
    title: str
    date: str | None
    start: str | None
    end: str | None
    articles: int
    outlets: list[str]
    seq: int
    events: list[EventRow]


class StoryPage(BaseModel):
    """A page of stories."""

    total: int
    limit: int
    offset: int
    items: list[StoryRow]
    outlets: list[str] = Field(description="Every outlet in the store (for filter menus)")


class RejectionOut(BaseModel):
    """An input that was refused, with the reason."""

    source: str = Field(description="File (and line or item) or the JSON request item, e.g. `api.json[3]`")
    code: str = Field(description="Reason code: `binary`, `empty`, `encoding`, `json`, `fields`, `date`, ...")
    reason: str
    at: str = Field(description="When it was refused (UTC)")


class RejectionPage(BaseModel):
    """A page of rejections, newest first."""

    total: int
    limit: int
    offset: int
    items: list[RejectionOut]


# --------------------------------------------------------------------------- documents


class StoryDocument(BaseModel):
    """A story JSON document (docs/story-json.md; JSON Schema: `schema/story.schema.json`)."""

    model_config = ConfigDict(extra="allow")

    storydesk: dict[str, Any] = Field(description="Version, schema version, when it was made, the embedder")
    articles: list[dict[str, Any]] = Field(description="The articles, with sentences and provenance")
    events: list[dict[str, Any]] = Field(
        description="The events: summary, timeline, entities, quotes, claims, conflicts"
    )
    storylines: list[dict[str, Any]]
    rejections: list[dict[str, Any]] = Field(description="Refused inputs (the full export only)")


class ArticleDocument(BaseModel):
    """One article as in the story JSON's ``articles[]``."""

    model_config = ConfigDict(extra="allow")

    id: str
    path: str
    outlet: str | None
    title: str | None
    published: str | None
    url: str | None
    event: str | None
    text: str
    sentences: list[dict[str, Any]]


# --------------------------------------------------------------------------- writing


class ArticleIn(BaseModel):
    """One article (the JSON Lines input format). `text` or `title` is required.

    Each article is checked by the job exactly as a line of a JSON Lines file: one that
    is not an article is rejected alone, with its reason in the job's report.
    """

    model_config = ConfigDict(extra="allow")

    id: str | int | None = Field(None, description="Your id; the same id (and outlet) is never stored twice")
    outlet: str | None = None
    title: str | None = None
    published: str | None = Field(None, description="YYYY-MM-DD or an RFC 2822 / ISO date-time")
    url: str | None = Field(None, description="An http(s) link (others are dropped)")
    text: str | None = Field(None, description="Body; paragraphs separated by a blank line")


class ArticlesIn(BaseModel):
    """Articles wrapped in an object."""

    articles: list[ArticleIn]


class IngestRequest(RootModel[ArticleIn | list[ArticleIn] | ArticlesIn]):
    """One article object, a list of them, or `{"articles": [...]}` (at most 10,000 articles)."""

    model_config = ConfigDict(
        json_schema_extra={
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
            }
        }
    )


class UploadForm(BaseModel):
    """Files to ingest: text, JSON Lines, JSON, HTML or RSS/Atom (at most 1,000)."""

    files: list[bytes] = Field(description="One form field named `files` per file")


class IngestSummary(BaseModel):
    """What a job's ingest did."""

    added: int
    updated: int = Field(description="Articles sent again under their id with other content: text replaced")
    already_stored: int
    rejected: list[dict[str, str]] = Field(description="Each refused input: `source`, `code`, `reason`")


class Job(BaseModel):
    """An ingest job: `queued` → `ingesting` → `building` → `done` (or `failed`)."""

    id: str
    status: Literal["queued", "ingesting", "building", "done", "failed"]
    inputs: list[str]
    created: str
    started: str | None
    finished: str | None
    report: IngestSummary | None
    build: dict[str, dict[str, Any]] | None = Field(description="Per-phase statistics of the build")
    events: list[str] = Field(description="The events the job's articles are in")
    error: str | None
    url: str | None = Field(None, description="Where to poll it (in the 202 answer)")


class JobList(BaseModel):
    """Recent jobs, newest first."""

    items: list[Job]


#: Models of request bodies (read by the handlers, so FastAPI does not list them by itself).
BODY_MODELS: tuple[type[BaseModel], ...] = (IngestRequest, UploadForm)


def request_body(model: type[BaseModel], media_type: str) -> dict[str, Any]:
    """The ``openapi_extra`` declaring a request body described by ``model`` (one of :data:`BODY_MODELS`)."""
    content: dict[str, Any] = {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}
    example = (model.model_config.get("json_schema_extra") or {}).get("example")  # type: ignore[union-attr]
    if example is not None:
        content["example"] = example
    return {"requestBody": {"required": True, "content": {media_type: content}}}


def body_schemas() -> dict[str, Any]:
    """The component schemas of :data:`BODY_MODELS` (and the models they use), for the OpenAPI document."""
    out: dict[str, Any] = {}
    for model in BODY_MODELS:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        out.update(schema.pop("$defs", {}))
        out[model.__name__] = schema
    return out
