"""REST API and server-rendered pages, over real HTTP on loopback (uvicorn in a thread).

The corpus is hand-written and fictional: a tram line vote in "Lorven" reported by three
outlets, and a bridge fire in "Skarn" reported by two. Builds use the hashing embedder.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import jsonschema
import pytest
import uvicorn

from storydesk.api import Storydesk
from storydesk.embed import HashingEmbedder
from storydesk.export import schema
from storydesk.store import open_store
from storydesk.web import create_app, views

TOKEN = "s3cret-test-token"

TRAM = [
    {
        "id": "lp-1",
        "outlet": "Lorven Post",
        "title": "Lorven council approves new tram line after long debate",
        "published": "2025-02-04",
        "text": "LORVEN - The city council of Lorven approved the new Harbour tram line on Tuesday after a nine-hour "
        "debate, Mayor Edda Brun said.\n\nThe line will cost 212 million crowns and link the harbour to the "
        'university, the council said.\n\n"This tram line will change how Lorven moves," Brun told reporters after '
        "the vote.\n\nOpposition members walked out before the vote on the tram line. Construction is due to start "
        "in the spring.",
    },
    {
        "id": "hl-1",
        "outlet": "Harbor Ledger",
        "title": "Tram line wins council vote in Lorven",
        "published": "2025-02-04",
        "text": "The Lorven city council approved the Harbour tram line on Tuesday after a long debate, the mayor said."
        "\n\nThe tram line will cost 240 million crowns, according to the transport office, and link the harbour "
        'with the university.\n\n"This tram line will change how our city moves," Mayor Edda Brun said after the '
        "vote.\n\nConstruction of the tram line is due to start in the spring.",
    },
    {
        "id": "nw-1",
        "outlet": "Northfold Wire",
        "title": "Lorven votes for Harbour tram line",
        "published": "2025-02-05",
        "text": "The council of Lorven voted on Tuesday to build the Harbour tram line, ending a nine-hour debate.\n\n"
        "Mayor Edda Brun said the tram line would link the harbour and the university and cost 212 million crowns."
        "\n\nOpposition members walked out before the vote. Construction of the tram line starts in the spring.",
    },
]
FIRE = [
    {
        "id": "lp-2",
        "outlet": "Lorven Post",
        "title": "Fire closes Skarn bridge for a week",
        "published": "2025-03-10",
        "text": "SKARN - A fire broke out under the old Skarn bridge on Sunday night and closed it to traffic, "
        "firefighters said.\n\nFire chief Tomas Vell said the bridge would stay closed for at least a week while "
        "engineers inspect the steel beams.\n\nNobody was hurt in the fire, which started in a storage shed under "
        "the bridge.",
    },
    {
        "id": "hl-2",
        "outlet": "Harbor Ledger",
        "title": "Skarn bridge shut after night fire",
        "published": "2025-03-11",
        "text": "The old Skarn bridge was closed on Monday after a fire under its steel beams on Sunday night, fire "
        "chief Tomas Vell said.\n\nEngineers will inspect the bridge, which will stay closed for at least a week."
        "\n\nThe fire started in a storage shed under the bridge and nobody was hurt.",
    },
]
#: Sent over the API during the tests: a fourth report of the tram vote.
LATE_TRAM = {
    "id": "gp-1",
    "outlet": "Greyport Gazette",
    "title": "Greyport Gazette: Lorven council backs Harbour tram line",
    "published": "2025-02-05",
    "text": "The Lorven city council approved the Harbour tram line on Tuesday after a nine-hour debate, Mayor Edda "
    "Brun said.\n\nThe tram line will link the harbour and the university. Opposition members walked out before "
    "the vote.\n\nConstruction of the tram line is due to start in the spring.",
}


# --------------------------------------------------------------------------- a real server on loopback


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    """Runs an ASGI app with uvicorn on a loopback port in a background thread."""

    def __init__(self, app: Any) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(30)


def wait_for_job(client: httpx.Client, job: dict[str, Any], timeout: float = 180) -> dict[str, Any]:
    """Poll a job until it is done or failed."""
    deadline = time.monotonic() + timeout
    while True:
        st = client.get(job["url"]).json()
        if st["status"] in ("done", "failed"):
            return st
        if time.monotonic() > deadline:
            raise AssertionError(f"job did not finish: {st}")
        time.sleep(0.1)


def build_db(path: Path, articles: list[dict[str, Any]]) -> None:
    """Ingest and build a corpus with the hashing embedder."""
    src = path.parent / "corpus.json"
    src.write_text(json.dumps(articles), encoding="utf-8")
    with Storydesk(path, embedder=HashingEmbedder(256)) as sd:
        assert sd.ingest([src]).ok
        sd.build()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server over the tram + fire corpus, with a write token."""
    db = tmp_path_factory.mktemp("web") / "web.db"
    build_db(db, TRAM + FIRE)
    with LiveServer(create_app(db, token=TOKEN, poll_seconds=0.5)) as srv:
        yield srv


@pytest.fixture(scope="module")
def client(site: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=site.url, timeout=60) as c:
        yield c


def event_ids(client: httpx.Client) -> dict[str, str]:
    """'tram' / 'fire' -> event id."""
    items = client.get("/api/v1/events").json()["items"]
    return {("tram" if "tram" in e["title"].lower() else "fire"): e["id"] for e in items}


# --------------------------------------------------------------------------- reading


def test_health_and_openapi_are_published(client):
    h = client.get("/api/v1/health").json()
    assert h["status"] == "ok" and h["articles"] == 5 and h["writable"] is True
    spec = client.get("/openapi.json").json()
    for path in [
        "/api/v1/events",
        "/api/v1/events/{event_id}",
        "/api/v1/stories",
        "/api/v1/ingest",
        "/api/v1/jobs/{job_id}",
    ]:
        assert path in spec["paths"], path
    assert spec["paths"]["/api/v1/ingest"]["post"]["security"] == [{"bearer": []}]
    assert "ArticleIn" in spec["components"]["schemas"]
    ref = client.get("/api").text  # the offline API reference page, rendered from the same document
    assert "<code>/api/v1/ingest/files</code>" in ref and ref.count('class="card api-op"') == sum(
        len(ops) for ops in spec["paths"].values()
    )


def test_responses_fit_the_models_that_document_them(client):
    """The OpenAPI document is generated from web/schemas.py: what the endpoints send must fit it."""
    from pydantic import BaseModel

    from storydesk.web import schemas as S

    def fits(model: type[BaseModel], data: Any) -> None:
        model.model_validate(data)
        if model.model_config.get("extra") != "allow" and isinstance(data, dict):
            assert set(data) <= set(model.model_fields), (model.__name__, set(data) - set(model.model_fields))

    ids = event_ids(client)
    fits(S.Health, client.get("/api/v1/health").json())
    fits(S.Changes, client.get("/api/v1/changes").json())
    for params in ({}, {"q": "tram"}, {"order": "biggest", "limit": 1}):
        events = client.get("/api/v1/events", params=params).json()
        fits(S.EventPage, events)
        for row in events["items"]:
            fits(S.EventRow, row)
        stories = client.get("/api/v1/stories", params=params).json()
        fits(S.StoryPage, stories)
        for story in stories["items"]:
            fits(S.StoryRow, story)
    doc = client.get(f"/api/v1/events/{ids['tram']}").json()
    fits(S.StoryDocument, doc)
    fits(S.StoryDocument, client.get("/api/v1/export").json())
    fits(S.ArticleDocument, client.get(f"/api/v1/articles/{doc['articles'][0]['id']}").json())
    fits(S.RejectionPage, client.get("/api/v1/rejections").json())
    fits(S.JobList, client.get("/api/v1/jobs").json())
    fits(S.ErrorBody, client.get("/api/v1/events", params={"limit": 0}).json())
    fits(S.ErrorBody, client.get("/api/v1/events/ev-nope").json())


def test_list_events_orders_pages_and_filters(client):
    r = client.get("/api/v1/events").json()
    assert r["total"] == 2
    assert [e["articles"] for e in r["items"]] == [2, 3]  # newest first: the March fire, then the tram vote
    assert "fire" in r["items"][0]["title"].lower()
    assert r["items"][1]["outlets"] == ["Harbor Ledger", "Lorven Post", "Northfold Wire"]
    assert r["items"][1]["lead"]  # first summary sentence
    biggest = client.get("/api/v1/events", params={"order": "biggest"}).json()["items"]
    assert [e["articles"] for e in biggest] == [3, 2]
    page2 = client.get("/api/v1/events", params={"limit": 1, "offset": 1}).json()
    assert page2["total"] == 2 and len(page2["items"]) == 1 and page2["items"][0]["id"] == r["items"][1]["id"]
    feb = client.get("/api/v1/events", params={"since": "2025-02-01", "until": "2025-02-28"}).json()["items"]
    assert [e["id"] for e in feb] == [r["items"][1]["id"]]
    wire = client.get("/api/v1/events", params={"outlet": "northfold wire"}).json()["items"]
    assert [e["id"] for e in wire] == [r["items"][1]["id"]]
    found = client.get("/api/v1/events", params={"q": "steel beams"}).json()["items"]
    assert [e["id"] for e in found] == [r["items"][0]["id"]] and found[0]["matches"] == 2


def test_bad_parameters_give_clear_json_errors(client):
    r = client.get("/api/v1/events", params={"since": "March"})
    assert r.status_code == 400
    assert r.json()["error"] == {
        "status": 400,
        "code": "bad_request",
        "message": "'since' must be a date like 2024-03-31, got 'March'",
    }
    r = client.get("/api/v1/events", params={"since": "2025-03-01", "until": "2025-02-01"})
    assert r.status_code == 400 and "after 'until'" in r.json()["error"]["message"]
    r = client.get("/api/v1/events", params={"order": "loudest"})
    assert r.status_code == 400 and "newest, oldest, biggest" in r.json()["error"]["message"]
    r = client.get("/api/v1/events", params={"limit": 0})
    assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "limit"
    r = client.get("/api/v1/events/ev-doesnotexist")
    assert r.status_code == 404 and r.json()["error"]["message"] == "no event with id 'ev-doesnotexist'"
    r = client.delete("/api/v1/events")
    assert r.status_code == 405 and r.json()["error"]["code"] == "method_not_allowed"


def test_event_endpoint_is_story_json_of_that_event(client):
    ids = event_ids(client)
    doc = client.get(f"/api/v1/events/{ids['tram']}").json()
    jsonschema.validate(doc, schema())
    assert [e["id"] for e in doc["events"]] == [ids["tram"]]
    assert sorted(a["outlet"] for a in doc["articles"]) == ["Harbor Ledger", "Lorven Post", "Northfold Wire"]
    sentences = {(a["id"], s["index"]) for a in doc["articles"] for s in a["sentences"]}
    ev = doc["events"][0]
    assert ev["summary"]
    for s in ev["summary"]:
        for c in s["citations"]:
            assert (c["article"], c["sentence"]) in sentences  # every citation points into the document


def test_stories_articles_and_export(client):
    ids = event_ids(client)
    stories = client.get("/api/v1/stories", params={"order": "biggest"}).json()
    assert stories["total"] == 2
    top = stories["items"][0]
    assert top["articles"] == 3 and [e["id"] for e in top["events"]] == [ids["tram"]]
    doc = client.get(f"/api/v1/stories/{top['id']}").json()
    jsonschema.validate(doc, schema())
    assert doc["storylines"][0]["id"] == top["id"] and len(doc["articles"]) == 3
    art = doc["articles"][0]
    one = client.get(f"/api/v1/articles/{art['id']}").json()
    assert one["text"] == art["text"] and one["event"] == ids["tram"]
    assert client.get("/api/v1/stories/sl-nope").status_code == 404
    full = client.get("/api/v1/export")
    assert full.status_code == 200 and "attachment" in full.headers["content-disposition"]
    assert len(full.json()["articles"]) >= 5
    some = client.get("/api/v1/export", params={"event": ids["fire"]}).json()
    assert [e["id"] for e in some["events"]] == [ids["fire"]] and len(some["articles"]) == 2
    html = client.get("/api/v1/export", params={"format": "html"})
    assert html.status_code == 200 and "<html" in html.text
    assert client.get("/api/v1/export", params={"event": "ev-nope"}).status_code == 404
    assert client.get("/api/v1/export", params={"format": "pdf"}).status_code == 400


def test_stories_filter_search_and_page_like_events(client):
    ids = event_ids(client)
    feb = client.get("/api/v1/stories", params={"since": "2025-02-01", "until": "2025-02-28"}).json()
    assert feb["total"] == 1 and [e["id"] for e in feb["items"][0]["events"]] == [ids["tram"]]
    wire = client.get("/api/v1/stories", params={"outlet": "Northfold Wire"}).json()
    assert [e["id"] for s in wire["items"] for e in s["events"]] == [ids["tram"]]
    assert "Northfold Wire" in wire["outlets"] and "Lorven Post" in wire["outlets"]  # the filter menu lists all
    assert client.get("/api/v1/stories", params={"outlet": "Nobody Times"}).json()["total"] == 0
    hits = client.get("/api/v1/stories", params={"q": "firefighters"}).json()
    assert [e["id"] for s in hits["items"] for e in s["events"]] == [ids["fire"]]
    newest = client.get("/api/v1/stories").json()["items"]
    second = client.get("/api/v1/stories", params={"limit": 1, "offset": 1}).json()
    assert second["total"] == 2 and [s["id"] for s in second["items"]] == [newest[1]["id"]]
    assert client.get("/api/v1/stories", params={"offset": 5}).json()["items"] == []
    story = newest[0]["id"]
    in_story = client.get("/api/v1/events", params={"story": story}).json()
    assert {e["storyline"] for e in in_story["items"]} == {story} and in_story["total"] == len(newest[0]["events"])
    r = client.get("/api/v1/stories", params={"limit": 501})
    assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "limit"
    r = client.get("/api/v1/stories", params={"offset": -1})
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid"


def test_unknown_api_paths_are_json_404_and_pages_html_404(client):
    r = client.get("/api/v1/nothing-here")
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/json")
    assert r.json()["error"] == {"status": 404, "code": "not_found", "message": "nothing at /api/v1/nothing-here"}
    for path in ["/api/v1/articles/0000", "/api/v1/stories/sl-nope", "/api/v1/events/ev-nope"]:
        r = client.get(path)
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found", path
    page = client.get("/event/ev-nope")
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert "merged into another event" in unescape(page.text)


# --------------------------------------------------------------------------- pages


def anchors(html: str) -> set[str]:
    return set(re.findall(r'id="([^"]+)"', html))


def test_story_list_page_search_and_date_filter(client):
    page = client.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert page.text.index("Skarn") < page.text.index("tram line")  # newest story first
    biggest = client.get("/", params={"order": "biggest"}).text
    assert biggest.index("tram line") < biggest.index("Skarn")
    hits = client.get("/", params={"q": "firefighters"}).text
    assert "Skarn" in hits and "tram line" not in hits.lower().split('id="count"')[1]
    dated = client.get("/", params={"since": "2025-03-01"}).text
    assert "1 story" in dated
    bad = client.get("/", params={"since": "someday"})
    assert bad.status_code == 400 and "&#39;since&#39; must be a date" in bad.text
    wire = client.get("/", params={"outlet": "Northfold Wire"}).text
    assert "1 story" in wire and "Skarn" not in wire.split('id="count"')[1]
    assert '<option value="Northfold Wire">' in wire  # the outlet box suggests every stored outlet


def test_story_list_pages(tmp_path):
    db = tmp_path / "paged.db"
    build_db(db, TRAM + FIRE)
    app = create_app(db, poll_seconds=0)
    app.state.storydesk.settings.page_size = 1
    with LiveServer(app) as srv, httpx.Client(base_url=srv.url) as c:
        first = c.get("/").text
        assert "page 1 of 2" in first and 'rel="next"' in first and 'rel="prev"' not in first
        assert "Skarn" in first and "Harbour tram" not in first  # newest story only
        nxt = re.search(r'href="([^"]+)" rel="next"', first).group(1)
        second = c.get(unescape(nxt)).text
        assert "page 2 of 2" in second and 'rel="prev"' in second and "tram line" in second
        assert "Skarn" not in second.split('id="count"')[1]
        biggest = c.get("/", params={"order": "biggest", "page": 2}).text
        assert "Skarn" in biggest.split('id="count"')[1]  # paging keeps the order
        assert c.get("/", params={"page": 0}).status_code == 422


def test_event_page_citations_point_at_rendered_source_sentences(client):
    ids = event_ids(client)
    doc = client.get(f"/api/v1/events/{ids['tram']}").json()
    html = client.get(f"/event/{ids['tram']}").text
    ids_on_page = anchors(html)
    cites = re.findall(r'<a class="cite" href="#(s-[0-9a-f]+-\d+)"', html)
    assert cites and all(c in ids_on_page for c in cites)
    first = doc["events"][0]["summary"][0]["citations"][0]
    art = next(a for a in doc["articles"] if a["id"] == first["article"])
    sentence = art["sentences"][first["sentence"]]["text"]
    m = re.search(rf'<span class="s" id="s-{first["article"]}-{first["sentence"]}">(.*?)</span>', html)
    assert m and unescape(m.group(1)) == sentence
    assert 'class="track"' in html and "t-2025-02-0" in html  # the drawn timeline links to its entries
    assert "independent source" in html
    assert client.get("/event/ev-nope").status_code == 404


def test_storyline_and_article_pages(client):
    ids = event_ids(client)
    doc = client.get(f"/api/v1/events/{ids['fire']}").json()
    sl = doc["storylines"][0]["id"]
    page = client.get(f"/story/{sl}").text
    assert f'href="/event/{ids["fire"]}"' in page
    art = doc["articles"][0]
    page = client.get(f"/article/{art['id']}").text
    assert f'id="s-{art["id"]}-0"' in page and f'href="/event/{ids["fire"]}"' in page
    assert client.get("/article/0000").status_code == 404
    assert "Not found" in client.get("/nowhere").text


def test_storyline_neighbours_are_read_by_id_oldest_first(tmp_path):
    db = tmp_path / "n.db"
    build_db(db, TRAM + FIRE)
    with Storydesk(db) as sd:
        rows = {r["id"]: r for r in sd.list_events()["items"]}
        fire = next(i for i, r in rows.items() if "fire" in r["title"].lower())
        tram = next(i for i in rows if i != fire)
        got = sd.nearest_events(fire, [fire, "ev-merged-away", tram])
        alone = sd.nearest_events(fire, [fire, tram], around=0)
    # February before March; a vanished id is skipped
    assert [r["id"] for r in got["rows"]] == [tram, fire] and got["total"] == 2
    assert [r["headline"] for r in got["rows"]] == [rows[tram]["headline"], rows[fire]["headline"]]
    assert got["rows"][0]["start"] == rows[tram]["start"] and (got["before"], got["after"]) == (0, 0)
    # a long story shows the events nearest the current one and counts the rest
    assert [r["id"] for r in alone["rows"]] == [fire] and (alone["before"], alone["after"]) == (1, 0)


# --------------------------------------------------------------------------- writing


def test_write_endpoints_need_the_token(client):
    r = client.post("/api/v1/ingest", json=[LATE_TRAM])
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    r = client.post("/api/v1/ingest", json=[LATE_TRAM], headers={"Authorization": "Bearer wrong"})
    assert r.status_code == 403 and r.json()["error"]["message"] == "the token is not valid"


def test_upload_endpoint_needs_the_token_too(client):
    files = [("files", ("late.json", json.dumps([LATE_TRAM]).encode(), "application/json"))]
    r = client.post("/api/v1/ingest/files", files=files)
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
    r = client.post("/api/v1/ingest/files", files=files, headers={"X-Storydesk-Token": "nope"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    spec = client.get("/openapi.json").json()
    for path, ops in spec["paths"].items():  # every write operation declares the bearer token
        for method, op in ops.items():
            if method in ("post", "put", "patch", "delete"):
                assert op.get("security") == [{"bearer": []}], (method, path)


def test_ingest_body_errors(client):
    auth = {"Authorization": f"Bearer {TOKEN}"}
    r = client.post("/api/v1/ingest", content=b"{not json", headers={**auth, "Content-Type": "application/json"})
    assert r.status_code == 400 and "not valid JSON" in r.json()["error"]["message"]
    r = client.post("/api/v1/ingest", content=b"hello", headers={**auth, "Content-Type": "text/plain"})
    assert r.status_code == 415
    r = client.post("/api/v1/ingest", json=[], headers=auth)
    assert r.status_code == 422
    # an item that is not an article fails alone, in the job's report, as a bad line of a file does
    r = client.post("/api/v1/ingest", json=["oops", {"id": "x", "text": ""}], headers=auth)
    job = wait_for_job(client, r.json())
    assert job["status"] == "done" and job["report"]["added"] == 0
    assert [(x["source"], x["code"]) for x in job["report"]["rejected"]] == [
        ("api.json[0]", "fields"),
        ("api.json[1]", "no_text"),
    ]
    r = client.post("/api/v1/ingest/files", json=[LATE_TRAM], headers=auth)
    assert r.status_code == 415
    assert client.get("/api/v1/jobs/job-nope").status_code == 404


def test_too_many_articles_or_files_in_one_request(client):
    from storydesk.web.api_routes import MAX_ARTICLES_PER_REQUEST, MAX_FILES_PER_REQUEST

    auth = {"Authorization": f"Bearer {TOKEN}"}
    r = client.post("/api/v1/ingest", json=[{"title": "t"}] * (MAX_ARTICLES_PER_REQUEST + 1), headers=auth)
    assert r.status_code == 413 and f"the limit is {MAX_ARTICLES_PER_REQUEST}" in r.json()["error"]["message"]
    files = [("files", (f"f{i}.txt", b"x", "text/plain")) for i in range(MAX_FILES_PER_REQUEST + 1)]
    r = client.post("/api/v1/ingest/files", files=files, headers=auth)
    assert r.status_code == 400 and r.json()["error"]["code"] == "bad_request"
    assert str(MAX_FILES_PER_REQUEST) in r.json()["error"]["message"]
    r = client.post("/api/v1/ingest/files", files={"note": (None, b"only a text field")}, headers=auth)
    assert r.status_code == 422 and "no files in the upload" in r.json()["error"]["message"]


def test_ingested_article_joins_its_event_live(client):
    ids = event_ids(client)
    before_token = client.get("/api/v1/changes").json()["token"]
    page_before = client.get(f"/event/{ids['tram']}").text
    assert "Greyport Gazette" not in page_before
    r = client.post("/api/v1/ingest", json={"articles": [LATE_TRAM]}, headers={"X-Storydesk-Token": TOKEN})
    assert r.status_code == 202 and r.headers["location"] == r.json()["url"]
    job = wait_for_job(client, r.json())
    assert job["status"] == "done", job
    from storydesk.web.schemas import Job

    Job.model_validate(r.json())  # the 202 answer and the finished job fit the documented model
    Job.model_validate(job)
    assert job["report"] == {"added": 1, "updated": 0, "already_stored": 0, "rejected": []}
    assert job["events"] == [ids["tram"]]
    assert job["build"]["corpus step"]["processed"] == 1
    assert client.get("/api/v1/changes").json()["token"] != before_token
    doc = client.get(f"/api/v1/events/{ids['tram']}").json()
    assert "Greyport Gazette" in {a["outlet"] for a in doc["articles"]}
    page_after = client.get(f"/event/{ids['tram']}").text  # same server process, no restart
    assert "Greyport Gazette" in page_after and "4 articles" in page_after
    listed_tram = next(e for e in client.get("/api/v1/events").json()["items"] if e["id"] == ids["tram"])
    assert listed_tram["articles"] == 4 and "Greyport Gazette" in listed_tram["outlets"]  # listings too
    assert "Greyport Gazette" in client.get("/api/v1/stories").json()["outlets"]
    again = wait_for_job(
        client, client.post("/api/v1/ingest", json=LATE_TRAM, headers={"X-Storydesk-Token": TOKEN}).json()
    )
    assert again["report"] == {"added": 0, "updated": 0, "already_stored": 1, "rejected": []}
    listed = client.get("/api/v1/jobs").json()["items"]
    assert listed[0]["id"] == again["id"]


def test_file_upload_ingests_and_reports_rejections(client):
    text = (
        " date 2025-03-11\nSkarn bridge to reopen next week\n\nThe old Skarn bridge will reopen next week after "
        "engineers found the steel beams undamaged by the fire, fire chief Tomas Vell said on Tuesday.\n\n"
        "The fire started in a storage shed under the bridge on Sunday night."
    )
    files = [
        ("files", ("skarn_reopens.txt", text.encode(), "text/plain")),
        ("files", ("photo.png", b"\x89PNG\r\n\x1a\n" + bytes(200), "image/png")),
    ]
    r = client.post("/api/v1/ingest/files", files=files, headers={"Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 202, r.text
    assert r.json()["inputs"] == ["skarn_reopens.txt", "photo.png"]
    job = wait_for_job(client, r.json())
    assert job["status"] == "done"
    assert job["report"]["added"] == 1
    assert [(x["source"], x["code"]) for x in job["report"]["rejected"]] == [("photo.png", "binary")]
    rej = client.get("/api/v1/rejections").json()["items"]
    assert rej[0]["source"] == "photo.png"


def test_request_size_limit_and_read_only_server(tmp_path):
    db = tmp_path / "small.db"
    build_db(db, FIRE)
    with LiveServer(create_app(db, token=TOKEN, max_request_bytes=2_000)) as srv, httpx.Client(base_url=srv.url) as c:
        auth = {"Authorization": f"Bearer {TOKEN}"}
        big = [{**LATE_TRAM, "text": "word " * 1000}]
        r = c.post("/api/v1/ingest", json=big, headers=auth)
        assert r.status_code == 413 and "limit is 2,000 bytes" in r.json()["error"]["message"]

        def chunks() -> Iterator[bytes]:  # no Content-Length: the limit must hold while streaming
            yield b'[{"title": "x", "text": "'
            for _ in range(10):
                yield b"y" * 500
            yield b'"}]'

        r = c.post("/api/v1/ingest", content=chunks(), headers={**auth, "Content-Type": "application/json"})
        assert r.status_code == 413 and r.json()["error"]["code"] == "too_large"
        # file uploads are held to the same limit, declared or streamed
        upload = [("files", ("big.txt", b"word " * 1000, "text/plain"))]
        r = c.post("/api/v1/ingest/files", files=upload, headers=auth)
        assert r.status_code == 413 and r.json()["error"]["code"] == "too_large"
        boundary = "sdbench"
        form = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="big.txt"\r\n'
            f"Content-Type: text/plain\r\n\r\n{'y' * 5000}\r\n--{boundary}--\r\n"
        ).encode()
        r = c.post(
            "/api/v1/ingest/files",
            content=(form[i : i + 500] for i in range(0, len(form), 500)),
            headers={**auth, "Content-Type": f"multipart/form-data; boundary={boundary}"},
        )
        assert r.status_code == 413 and r.json()["error"]["code"] == "too_large"
        assert c.get("/api/v1/jobs").json()["items"] == []  # nothing refused reached the job queue
    with LiveServer(create_app(db)) as srv, httpx.Client(base_url=srv.url) as c:
        r = c.post("/api/v1/ingest", json=[LATE_TRAM], headers={"Authorization": f"Bearer {TOKEN}"})
        assert r.status_code == 403 and "--token" in r.json()["error"]["message"]
        assert c.get("/api/v1/health").json()["writable"] is False


def test_the_app_refuses_a_non_file_database():
    from storydesk.errors import ConfigError

    with pytest.raises(ConfigError, match="other connections can open"):
        create_app(":memory:")
    from storydesk.store.sql import redact  # the one redactor: the server prints Storydesk.location, made by it

    assert "hunter2" not in redact("postgresql://news:hunter2@db.example:5433/news")
    assert "hunter2" not in redact("postgresql://news@db.example/news?password=hunter2")


def test_page_cache_renders_a_page_once_for_concurrent_misses():
    from storydesk.web.state import PageCache

    cache = PageCache(size=4)
    calls = []

    def make() -> str:
        calls.append(1)
        time.sleep(0.2)
        return "body"

    threads = [threading.Thread(target=cache.get_or_make, args=("event:x", "t1", make)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1 and cache.get_or_make("event:x", "t1", make) == "body"
    cache.get_or_make("event:x", "t2", make)  # a new change token renders again
    assert len(calls) == 2


def test_listing_rows_are_reused_until_the_token_changes(tmp_path):
    from storydesk.web.state import ListingCache, ListingDesk

    db = tmp_path / "l.db"
    build_db(db, FIRE)
    token = ["t1"]
    cache = ListingCache(lambda: token[0])
    with ListingDesk(str(db), cache) as desk:
        first = desk.list_events()
        assert first["items"][0]["articles"] == 2
        src = tmp_path / "late.json"
        late = {**FIRE[1], "id": "gp-9", "outlet": "Greyport Gazette", "title": "Greyport Gazette: Skarn bridge shut"}
        src.write_text(json.dumps([late]), encoding="utf-8")
        with Storydesk(db, embedder=HashingEmbedder(256)) as writer:
            writer.ingest([src])
            writer.build()
        assert desk.list_events()["items"][0]["articles"] == 2  # same token: the cached rows
        assert "date" not in desk.event_rows()[0]  # callers get copies, never the rows listings changed
        token[0] = "t2"
        assert desk.list_events()["items"][0]["articles"] == 3


def test_change_token_follows_commits_from_other_connections(tmp_path):
    from storydesk.web.state import ChangeWatcher

    db = tmp_path / "w.db"
    build_db(db, FIRE)
    sqlite_watch = ChangeWatcher(str(db))
    generic = ChangeWatcher(str(db))
    t1, g1 = sqlite_watch.token(), generic.token()
    assert (sqlite_watch.token(), generic.token()) == (t1, g1)  # nothing changed
    src = tmp_path / "late.json"
    src.write_text(json.dumps([LATE_TRAM]), encoding="utf-8")
    with Storydesk(db, embedder=HashingEmbedder(256)) as sd:
        sd.ingest([src])
        assert sqlite_watch.token() != t1 and generic.token() != g1  # an ingest alone is a change
        t2, g2 = sqlite_watch.token(), generic.token()
        sd.build()
        assert sqlite_watch.token() != t2 and generic.token() != g2  # so is a build
    sqlite_watch.close()
    generic.close()


# --------------------------------------------------------------------------- view models (no server)


def _art(aid: str, outlet: str | None, primary: list[str], relays: list[str], dup: str | None = None) -> dict:
    return {
        "id": aid,
        "outlet": outlet,
        "path": f"in/{aid}.txt",
        "primary_sources": primary,
        "relays": relays,
        "duplicate_of": dup,
        "sentences": [{"index": 0, "text": f"Sentence of {aid}.", "paragraph": 0}],
        "event": "ev-1",
    }


def test_independence_counts_relays_of_one_origin_once():
    arts = [
        _art("a1", "Paper A", ["KCNA"], ["Yonhap"]),
        _art("a2", "Paper B", ["KCNA"], ["AP"]),
        _art("a3", "Paper C", ["KCNA", "Rodong Sinmun"], ["AFP"]),
        _art("a4", "Paper D", [], []),
        _art("a5", None, [], [], dup="a4"),
    ]
    labels = views.source_labels(arts)
    assert labels["a5"] == "a5"
    groups = views.independence(arts, labels)
    assert [(g["title"], [a["id"] for a in g["articles"]]) for g in groups] == [
        ("KCNA", ["a1", "a2", "a3"]),
        ("Own reporting: Paper D", ["a4", "a5"]),
        ("Rodong Sinmun", ["a3"]),
    ]
    assert groups[0]["relays"] == ["AFP", "AP", "Yonhap"]
    assert groups[1]["articles"][1]["is_copy"] is True
    assert views.chain(arts[2], "Paper C") == ["KCNA + Rodong Sinmun", "AFP", "Paper C"]


def test_labels_number_repeated_outlets_and_citations_resolve():
    arts = [_art("a1", "Wire", [], []), _art("a2", "Wire", [], []), _art("b1", "Post", [], [])]
    assert views.source_labels(arts) == {"a1": "Wire 1", "a2": "Wire 2", "b1": "Post"}
    doc = {"articles": arts, "events": [], "storylines": []}
    c = views.Citations(doc, local={"a1", "a2"}, event_of={"b1": "ev-9"})
    assert c.one({"article": "a2", "sentence": 0}) == {
        "article": "a2",
        "sentence": 0,
        "href": "#s-a2-0",
        "label": "Wire 2",
        "text": "Sentence of a2.",
    }
    assert c.href("b1", 0) == "/event/ev-9#s-b1-0"
    assert c.sentence_text("a1", 5) == ""
    assert [x["article"] for x in c.many([{"article": "a1", "sentence": 0}, {"article": "a1", "sentence": 1}])] == [
        "a1"
    ]


def test_timeline_track_places_dates_proportionally():
    entries = [
        {"date": "2024-03-01", "precision": "day"},
        {"date": "2024-03-01", "precision": "day"},
        {"date": "2024-03-05", "end": "2024-03-07", "precision": "day"},
        {"date": "2024-03-11", "precision": "month"},
    ]
    g = views.timeline_track(entries)
    assert [(d["date"], d["left"], d["count"]) for d in g["dots"]] == [
        ("2024-03-01", 0.0, 2),
        ("2024-03-05", 40.0, 1),
        ("2024-03-11", 100.0, 1),
    ]
    assert g["dots"][1]["span"] == 20.0  # 5th to 7th of March
    assert g["dots"][0]["size"] > g["dots"][1]["size"]
    assert [t["label"] for t in g["ticks"]] == ["1 Mar 2024", "5 Mar 2024", "Mar 2024"]
    assert views.timeline_track([]) == {}
    assert views.timeline_track([{"date": "2024-01-02"}])["dots"][0]["left"] == 50.0


def test_timeline_track_keeps_background_facts_off_the_axis():
    entries = [
        {"date": "2022-01-01", "end": "2022-12-31", "precision": "year", "background": True},
        {"date": "2024-03-09", "precision": "day", "background": False},
        {"date": "2024-03-14", "precision": "day", "background": False},
    ]
    g = views.timeline_track(entries)
    # drawn to scale, 2022 would squeeze the two March days into one spot
    assert [(d["date"], d["left"]) for d in g["dots"]] == [("2024-03-09", 0.0), ("2024-03-14", 100.0)]
    assert g["outside"] == [{"date": "2022-01-01", "label": "2022", "href": "#t-2022-01-01", "before": True}]
    only_background = views.timeline_track([{**entries[0], "precision": "year"}])
    assert [d["date"] for d in only_background["dots"]] == ["2022-01-01"] and only_background["outside"] == []


def test_dated_by_reads_as_words():
    assert views.dated_by("text: 3 article(s) date it", 4) == "Date from the text of 3 of 4 articles"
    assert views.dated_by("text: 1 article(s) date it", 1) == "Date from the text of the article"
    assert views.dated_by("publication date (no date of the happening found in the text)", 2).startswith(
        "Dated by publication"
    )
    assert views.dated_by("undated", 2) == "" and views.dated_by(None, 2) == ""


def test_quote_variant_diff_marks_changed_words():
    runs = views.diff_words(
        "this tram line will change how Lorven moves", "this tram line will change how our city moves"
    )
    assert [r for r, changed in runs if changed] == ["our city"]
    assert "".join(r for r, _ in runs) == "this tram line will change how our city moves"


def test_store_browsing_queries_match_what_the_events_say(tmp_path):
    from storydesk.errors import NotFoundError

    db = tmp_path / "q.db"
    build_db(db, TRAM + FIRE)
    with open_store(db) as s:
        rows = s.event_overview()
        events = {e.id: e for e in s.events()}
        arts = {a.id: a for a in s.articles()}
        assert [r["id"] for r in rows] == list(events)
        for r in rows:
            members = [arts[a] for a in events[r["id"]].articles]
            assert r["articles"] == len(members)
            assert r["outlets"] == sorted({a.outlet for a in members if a.outlet})
            days = sorted(a.published.isoformat() for a in members if a.published)
            assert (r["first_published"], r["last_published"]) == (days[0], days[-1])
        assert sorted(r["articles"] for r in rows) == [2, 3]
        ids = s.article_ids()
        assert s.events_of(ids) == {a: e.id for e in events.values() for a in e.articles} and len(s.events_of(ids)) == 5
        sl = s.storylines()[0]
        assert s.get_storyline(sl.id) == sl
        with pytest.raises(NotFoundError):
            s.get_storyline("sl-nope")


def test_serves_a_postgresql_store(request, tmp_path):
    """The same app over the PostgreSQL backend (skips without the [postgres] extra)."""
    url = request.getfixturevalue("pg_url")  # from conftest.py
    src = tmp_path / "fire.json"
    src.write_text(json.dumps(FIRE), encoding="utf-8")
    with Storydesk(url, embedder=HashingEmbedder(256)) as sd:
        assert sd.ingest([src]).ok
        sd.build()
    with LiveServer(create_app(url, token=TOKEN)) as srv, httpx.Client(base_url=srv.url, timeout=60) as c:
        events = c.get("/api/v1/events").json()["items"]
        assert [e["articles"] for e in events] == [2]
        token = c.get("/api/v1/changes").json()["token"]
        assert "Skarn" in c.get(f"/event/{events[0]['id']}").text
        late = {**FIRE[1], "id": "gp-9", "outlet": "Greyport Gazette", "title": "Greyport Gazette: Skarn bridge shut"}
        job = wait_for_job(c, c.post("/api/v1/ingest", json=[late], headers={"X-Storydesk-Token": TOKEN}).json())
        assert job["status"] == "done" and job["events"] == [events[0]["id"]], job
        assert c.get("/api/v1/changes").json()["token"] != token
        assert "Greyport Gazette" in c.get(f"/event/{events[0]['id']}").text


# --------------------------------------------------------------------------- safe by default (issue 15)

SECURITY_HEADERS = ("content-security-policy", "x-content-type-options", "x-frame-options", "referrer-policy")


def assert_secure(r: httpx.Response) -> None:
    """The security headers every response carries."""
    for h in SECURITY_HEADERS:
        assert h in r.headers, (r.request.url, r.status_code, h)
    csp = r.headers["content-security-policy"]
    if r.request.url.path not in ("/docs", "/redoc"):
        assert "script-src 'self';" in csp and "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
    assert "frame-ancestors 'none'" in csp
    assert r.headers["x-content-type-options"] == "nosniff" and r.headers["x-frame-options"] == "DENY"


def test_every_response_carries_the_security_headers(client):
    ids = event_ids(client)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    responses = [
        client.get("/"),
        client.get(f"/event/{ids['tram']}"),
        client.get("/api"),
        client.get("/api/v1/events"),
        client.get("/openapi.json"),
        client.get("/static/style.css"),
        client.get("/static/app.js"),
        client.get("/favicon.ico"),  # a redirect
        client.get("/docs"),
        client.get("/nothing-here"),  # 404
        client.get("/api/v1/events", params={"limit": 0}),  # 422
        client.get("/", params={"q": "a\x00b"}),  # 400 before the app
        client.get("/", headers={"Host": "evil.example"}),  # 400 before the app
        client.post("/api/v1/ingest", json=[LATE_TRAM]),  # 401
        client.post("/api/v1/ingest", content=b"x" * (30 * 1024 * 1024), headers=auth),  # 413 before the app
    ]
    assert [r.status_code for r in responses] == [200] * 7 + [307, 200, 404, 422, 400, 400, 401, 413]
    for r in responses:
        assert_secure(r)


def test_host_allow_list_stops_dns_rebinding(client, site, tmp_path):
    for host in ("evil.example", "127.0.0.1.evil.example", "localhost.evil.example:80", ""):
        r = client.get("/api/v1/health", headers={"Host": host})
        assert r.status_code == 400 and r.json()["error"]["code"] == "bad_host", host
        assert "--allow-host" in r.json()["error"]["message"]
    for host in (f"127.0.0.1:{site.port}", f"localhost:{site.port}", "LOCALHOST", f"[::1]:{site.port}", "localhost."):
        assert client.get("/api/v1/health", headers={"Host": host}).status_code == 200, host
    db = tmp_path / "h.db"
    build_db(db, FIRE)
    app = create_app(db, allowed_hosts=["news.example", "*.desk.example"])
    with LiveServer(app) as srv, httpx.Client(base_url=srv.url) as c:
        assert c.get("/api/v1/health", headers={"Host": "news.example:8000"}).status_code == 200
        assert c.get("/api/v1/health", headers={"Host": "a.desk.example"}).status_code == 200
        assert c.get("/api/v1/health", headers={"Host": "localhost"}).status_code == 400  # replaced, not added
        assert c.get("/", headers={"Host": "other.example"}).text.startswith("400 Bad Request: host")
    with LiveServer(create_app(db, allowed_hosts=["*"])) as srv, httpx.Client(base_url=srv.url) as c:
        assert c.get("/api/v1/health", headers={"Host": "anything.example"}).status_code == 200


def test_serve_allows_loopback_its_own_address_and_the_given_names(monkeypatch, tmp_path):
    import uvicorn
    from click.testing import CliRunner

    from storydesk.cli import main
    from storydesk.web import app as web_app

    seen: dict[str, Any] = {}
    stub = SimpleNamespace(state=SimpleNamespace(storydesk=SimpleNamespace(location="the-db-location")))
    monkeypatch.setattr(web_app, "create_app", lambda db, **kw: seen.update(kw) or stub)
    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: None)
    db = str(tmp_path / "x.db")
    res = CliRunner().invoke(main, ["serve", "--db", db, "--host", "10.0.0.5", "--allow-host", "news.example"])
    assert res.exit_code == 0, res.output
    assert "serving the-db-location at http://10.0.0.5:8000" in res.output
    assert set(seen["allowed_hosts"]) == {"localhost", "127.0.0.1", "::1", "10.0.0.5", "news.example"}
    res = CliRunner().invoke(
        main, ["serve", "--db", db, "--host", "0.0.0.0"], env={"STORYDESK_ALLOWED_HOSTS": "a.example b.example"}
    )
    assert res.exit_code == 0 and {"a.example", "b.example"} <= set(seen["allowed_hosts"])
    assert "0.0.0.0" not in seen["allowed_hosts"]


BAD_QUERIES = [
    ("/", {"q": "tram\x00"}),
    ("/api/v1/stories", {"q": "\x00"}),
    ("/api/v1/events", {"q": "a\x00b"}),
    ("/api/v1/events", {"outlet": "\x00"}),
    ("/api/v1/events", {"q": '"'}),
    ("/api/v1/events", {"q": "NEAR(a"}),
    ("/api/v1/events", {"q": "a OR"}),
    ("/api/v1/events", {"q": "\ud800"}),
    ("/api/v1/events", {"since": "0000-01-01"}),
    ("/api/v1/events", {"since": "2025-02-30"}),
    ("/api/v1/events", {"offset": "9223372036854775808"}),
    ("/api/v1/rejections", {"offset": "99999999999999999999"}),
    ("/", {"page": "99999999999999999999"}),
    ("/event/%00", {}),
    ("/api/v1/articles/%00", {}),
    ("/api/v1/export", {"event": "\x00"}),
    ("/api/v1/export", {"format": "pdf"}),
]


@pytest.mark.parametrize(("path", "params"), BAD_QUERIES)
def test_bad_requests_are_4xx_never_500(client, path, params):
    q = "&".join(f"{k}={v.encode('utf-8', 'surrogatepass').hex()}" for k, v in params.items())  # placeholder
    from urllib.parse import quote

    q = "&".join(f"{k}={quote(v.encode('utf-8', 'surrogatepass'))}" for k, v in params.items())
    r = client.get(path + (f"?{q}" if q else ""))
    assert 400 <= r.status_code < 500 or r.status_code == 200, (path, params, r.status_code, r.text[:200])
    if "\x00" in str(params) or "%00" in path:
        assert r.status_code == 400
    assert "Traceback" not in r.text and "Error:" not in r.text


def test_malformed_json_bodies_are_400(client):
    auth = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    bodies = {
        b"[" * 50_000 + b"]" * 50_000: "nested too deeply",
        b'{"articles": [{"title": "t", "x": ' + b"[" * 101 + b"]" * 101 + b"}]}": "over 100 levels",
        b'{"articles": [{"title": "t", "n": ' + b"9" * 5000 + b"}]}": "4300 digits",
        b'{"title": "caf\xe9"}': "not UTF-8",
        b'{"articles": [' + b"[" * 90 + b"]" * 90 + b"]}": None,  # deep but readable: a job rejects the item
    }
    for body, message in bodies.items():
        r = client.post("/api/v1/ingest", content=body, headers=auth)
        if message is None:
            assert r.status_code == 202, r.text
            job = wait_for_job(client, r.json())
            assert job["status"] == "done" and job["report"]["rejected"][0]["code"] in ("fields", "json")
        else:
            assert r.status_code == 400 and message in r.json()["error"]["message"], r.text


def test_one_bad_article_fails_alone_in_an_api_job(client):
    good = {**LATE_TRAM, "id": "gp-robust", "title": "Lorven tram: a late report on the council vote"}
    bad = [
        {**LATE_TRAM, "id": "y0", "published": "0000-01-01"},
        {**LATE_TRAM, "id": "y20", "published": "Mon, 01 Jan 12345678901234567890 09:00:00 GMT"},
        {**LATE_TRAM, "id": "feb30", "published": "2025-02-30"},
        {**LATE_TRAM, "id": {"not": "an id"}},
        {**LATE_TRAM, "id": "surrogate", "text": "broken \ud800 text"},
    ]
    body = json.dumps({"articles": [bad[0], good, *bad[1:]]})
    r = client.post(
        "/api/v1/ingest", content=body, headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    )
    job = wait_for_job(client, r.json())
    assert job["status"] == "done", job
    assert job["report"]["added"] == 1
    assert [x["code"] for x in job["report"]["rejected"]] == ["date", "date", "date", "fields", "encoding"]


def test_500s_say_nothing_internal(tmp_path, caplog):
    from storydesk.errors import StoreError

    db = tmp_path / "x.db"
    build_db(db, FIRE)
    app = create_app(db)
    state = app.state.storydesk

    def boom() -> Any:
        raise RuntimeError("secret detail /srv/data/x.db")

    with LiveServer(app) as srv, httpx.Client(base_url=srv.url) as c:
        state.desk = boom
        for path in ("/api/v1/events", "/"):
            r = c.get(path)
            assert r.status_code == 500
            assert "secret" not in r.text and "RuntimeError" not in r.text
            rid = r.headers["x-request-id"]
            assert rid in r.text and "server log" in r.text
            assert any(rid in rec.getMessage() for rec in caplog.records)
            assert_secure(r)

        def busy() -> Any:
            raise StoreError("database error: database is locked (sqlite internals)")

        state.desk = busy
        r = c.get("/api/v1/events")
        assert r.status_code == 503 and "sqlite" not in r.text and r.json()["error"]["code"] == "unavailable"

        def bug() -> Any:
            raise KeyError("ev-1")  # a bug while rendering is not "no such event"

        state.desk = bug
        for path in ("/api/v1/events/ev-1", "/event/ev-1", "/api/v1/stories/sl-1", "/article/a1"):
            assert c.get(path).status_code == 500, path


def test_links_other_than_http_are_never_rendered(tmp_path):
    """javascript:/data: links are dropped at ingest, and not rendered even from a store that has them."""
    from storydesk.models import Article, Sentence

    db = tmp_path / "xss.db"
    arts = [
        {**FIRE[0], "url": "javascript:alert(document.domain)"},
        {**FIRE[1], "url": "data:text/html,<script>alert(1)</script>"},
    ]
    build_db(db, arts)
    with Storydesk(db, embedder=HashingEmbedder(256)) as sd:
        assert {a.url for a in sd.store.articles()} == {None}  # dropped at ingest, articles kept
        # an older store may hold such links: write one directly, as an old ingest would have
        text = "Fire chief Tomas Vell said the Skarn bridge would stay closed after the fire on Sunday."
        old = Article(
            id="0ld0ld0ld0ld0ld0",
            source="old.json",
            text=text,
            title="Skarn bridge fire",
            outlet="Old Gazette",
            url="javascript:alert(1)",
            format="json",
        )
        sd.store.add_article(old, [Sentence(old.id, 0, text, 0, len(text))])
        sd.build()
    with LiveServer(create_app(db)) as srv, httpx.Client(base_url=srv.url) as c:
        pages = [c.get("/article/0ld0ld0ld0ld0ld0")]
        pages += [c.get(f"/event/{e['id']}") for e in c.get("/api/v1/events").json()["items"]]
        for r in pages:
            assert r.status_code == 200
            assert "javascript:" not in r.text and "data:text" not in r.text
            hrefs = re.findall(r'href="([^"]*)"', r.text)
            assert all(h.startswith(("/", "#", "http://", "https://")) for h in hrefs), hrefs
            assert_secure(r)


def test_claim_sources_say_who_it_comes_from_in_each_article():
    arts = [_art("a1", "Paper A", ["KCNA"], ["Yonhap"]), _art("a2", "Wire", [], []), _art("a3", None, [], [])]
    labels = views.source_labels(arts)
    cites = views.Citations({"articles": arts, "events": [], "storylines": []}, local={"a1", "a2", "a3"})
    claim = {
        "attributions": [
            {
                "article": "a1",
                "sentence": 0,
                "source": "Kim",
                "origin": "KCNA",
                "via": ["KCNA", "Yonhap"],
                "kind": "quoted",
            },
            {
                "article": "a2",
                "sentence": 0,
                "source": "own:Wire",
                "origin": "KCNA",
                "via": ["KCNA"],
                "kind": "uncredited",
            },
            {"article": "a3", "sentence": 0, "source": "own:a3", "origin": "own:a3", "via": [], "kind": "own"},
            {
                "article": "a3",
                "sentence": 0,
                "source": "The allies",
                "origin": "The allies",
                "via": [],
                "kind": "reported",
            },
        ]
    }
    rows = views.claim_sources(claim, labels, cites)
    assert [(r["label"], r["cite"]["href"]) for r in rows] == [
        ("Paper A", "#s-a1-0"),
        ("Wire", "#s-a2-0"),
        ("a3", "#s-a3-0"),
    ]
    assert rows[0]["who"] == [{"name": "Kim", "via": ["KCNA", "Yonhap"], "kind": "quoted", "origin": "KCNA"}]
    assert rows[1]["who"][0]["name"] == "Wire (own reporting)" and rows[1]["who"][0]["origin"] == "KCNA"
    assert [w["name"] for w in rows[2]["who"]] == ["a3 (own reporting)", "The allies"]
    assert rows[2]["who"][0]["kind"] == "" and rows[2]["who"][1]["origin"] is None


def test_event_page_says_who_each_claim_comes_from(client):
    ids = event_ids(client)
    doc = client.get(f"/api/v1/events/{ids['tram']}").json()
    claims = doc["events"][0]["claims"]
    assert claims and all(
        {x["article"] for x in c["attributions"]} == set(c["articles"]) and c["independent_sources"] >= 1
        for c in claims
    )
    html = client.get(f"/event/{ids['tram']}").text
    block = html.split('id="h-claims"')[1]
    links = re.findall(r'<ul class="claim-sources"[^>]*><li><a class="source-link" href="#(s-[0-9a-f]+-\d+)"', block)
    assert links and all(x in anchors(html) for x in links)


def test_render_slots_are_given_in_arrival_order():
    """A freed render slot goes to the oldest waiter, not to whichever thread asks next (the p99 of cold pages)."""
    import threading
    import time

    from storydesk.web.state import FifoSemaphore

    sem = FifoSemaphore(1)
    order: list[int] = []
    sem.__enter__()  # the slot is taken
    threads = []
    for n in range(4):
        t = threading.Thread(target=lambda n=n: (sem.__enter__(), order.append(n), sem.__exit__()))
        t.start()
        threads.append(t)
        deadline = time.monotonic() + 5
        while len(sem._waiting) < n + 1 and time.monotonic() < deadline:
            time.sleep(0.001)
    assert len(sem._waiting) == 4
    sem.__exit__()
    for t in threads:
        t.join(5)
    assert order == [0, 1, 2, 3]
    with sem:  # all free again
        assert sem._free == 0
    assert sem._free == 1
