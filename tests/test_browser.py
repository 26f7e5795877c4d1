"""The web UI in a real browser: Playwright driving Debian's chromium (no browser downloads).

Screenshots are saved under ``test-artifacts/`` (git-ignored). Chromium comes from
``apt-get install chromium`` (``.ci/run`` installs it); without it these tests skip,
unless ``STORYDESK_REQUIRE_BROWSER=1`` (set by CI) turns the skip into a failure.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import ROOT, SEEDS
from storydesk.web import create_app
from test_web_api import FIRE, LATE_TRAM, TOKEN, TRAM, LiveServer, build_db, wait_for_job

pytestmark = pytest.mark.browser

CHROMIUM = Path(os.environ.get("STORYDESK_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = ROOT / "test-artifacts"
#: Background of a highlighted sentence (``--hl`` in style.css).
HIGHLIGHT = "rgb(255, 243, 176)"
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless chromium for the module."""
    if not CHROMIUM.exists():
        if os.environ.get("STORYDESK_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{CHROMIUM} is missing; install it with: apt-get install -y chromium")
        pytest.skip(f"{CHROMIUM} not found (apt-get install -y chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


def shot(page: Any, name: str, full_page: bool = True) -> None:
    """Save a screenshot (of the whole page, or of what is in view) as a test artefact."""
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full_page)


def no_horizontal_scroll(page: Any) -> bool:
    """True when nothing sticks out sideways (the layout fits a narrow screen)."""
    return bool(page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth"))


@pytest.mark.model
def test_seeds_citation_click_highlights_the_source_sentence(browser, tmp_path):
    if not SEEDS.is_dir():
        pytest.skip("../shared/fixtures/seeds not found")
    db = tmp_path / "seeds.db"
    app = create_app(db, token=TOKEN, poll_seconds=0)
    with LiveServer(app) as srv, httpx.Client(base_url=srv.url, timeout=60) as c:
        files = [("files", (p.name, p.read_bytes(), "text/plain")) for p in sorted(SEEDS.glob("*.txt"))]
        r = c.post("/api/v1/ingest/files", files=files, headers={"Authorization": f"Bearer {TOKEN}"})
        job = wait_for_job(c, r.json(), timeout=600)
        assert job["status"] == "done" and job["report"]["added"] == len(files), job

        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(srv.url + "/?order=biggest")
        shot(page, "seeds-story-list")
        page.locator("a.event-link").first.click()
        page.wait_for_url(re.compile(r"/event/ev-"))
        event_id = page.url.rsplit("/", 1)[-1].split("#")[0]
        doc = c.get(f"/api/v1/events/{event_id}").json()
        first = doc["events"][0]["summary"][0]["citations"][0]
        art = next(a for a in doc["articles"] if a["id"] == first["article"])
        expected = art["sentences"][first["sentence"]]["text"]

        cite = page.locator("#summary a.cite").first
        assert cite.get_attribute("href") == f"#s-{first['article']}-{first['sentence']}"
        cite.click()
        target = page.locator(":target")
        assert target.get_attribute("id") == f"s-{first['article']}-{first['sentence']}"
        assert " ".join(target.inner_text().split()) == " ".join(expected.split())
        assert target.evaluate("el => getComputedStyle(el).backgroundColor") == HIGHLIGHT
        assert target.is_visible() and in_view_below_header(target)
        shot(page, "seeds-event-citation", full_page=False)  # what the reader sees after the click

        # A conflict badge and a quote variant are citations too; the independence panel counts origins.
        assert page.locator("#sources .indep .group").count() >= 1
        page.close()

        # The same click on a phone: one column, nothing sticking out, the sentence in view below the header.
        phone = browser.new_page(viewport=PHONE)
        phone.goto(f"{srv.url}/event/{event_id}")
        assert no_horizontal_scroll(phone)
        shot(phone, "seeds-event-phone")
        phone.locator("#summary a.cite").first.click()
        target = phone.locator(":target")
        assert target.get_attribute("id") == f"s-{first['article']}-{first['sentence']}"
        assert in_view_below_header(target)
        shot(phone, "seeds-event-citation-phone", full_page=False)
        phone.close()


def in_view_below_header(el: Any) -> bool:
    """True when an element is scrolled into view and not hidden under the sticky page header."""
    return bool(
        el.evaluate(
            """el => { const r = el.getBoundingClientRect();
                       const top = document.querySelector('header.top').getBoundingClientRect().bottom;
                       return r.top >= top && r.bottom <= innerHeight; }"""
        )
    )


@pytest.fixture
def tram_site(tmp_path) -> Iterator[LiveServer]:
    db = tmp_path / "tram.db"
    build_db(db, TRAM + FIRE)
    with LiveServer(create_app(db, token=TOKEN, poll_seconds=0.3)) as srv:
        yield srv


def test_new_article_appears_on_the_open_event_page_without_reload(browser, tram_site):
    c = httpx.Client(base_url=tram_site.url, timeout=60)
    tram = next(e for e in c.get("/api/v1/events").json()["items"] if "tram" in e["title"].lower())
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{tram_site.url}/event/{tram['id']}")
    assert page.locator("#n-articles").inner_text() == "3 articles"
    page.evaluate("window.__stillHere = true")  # a reload would clear this
    r = c.post("/api/v1/ingest", json=[LATE_TRAM], headers={"Authorization": f"Bearer {TOKEN}"})
    assert wait_for_job(c, r.json())["status"] == "done"
    page.locator("#sources .source h3", has_text=LATE_TRAM["title"]).wait_for(timeout=15_000)
    assert page.locator("#n-articles").inner_text() == "4 articles"
    assert page.evaluate("window.__stillHere === true")
    assert page.locator("#toast").inner_text() == "Updated with newly ingested articles"
    shot(page, "live-update-event")
    # The story list updates the same way.
    page.goto(tram_site.url + "/")
    page.evaluate("window.__stillHere = true")
    late = {**LATE_TRAM, "id": "gp-2", "title": "Skarn bridge inspection finds damage", "published": "2025-03-12"}
    late["text"] = FIRE[0]["text"].replace("Sunday", "Tuesday")
    r = c.post("/api/v1/ingest", json=[late], headers={"Authorization": f"Bearer {TOKEN}"})
    assert wait_for_job(c, r.json())["status"] == "done"
    page.locator("#count", has_text="7 articles stored").wait_for(timeout=15_000)
    assert page.evaluate("window.__stillHere === true")
    page.close()
    c.close()


def test_story_list_search_date_filter_and_phone_layout(browser, tram_site):
    page = browser.new_page(viewport=PHONE)
    page.goto(tram_site.url + "/")
    assert no_horizontal_scroll(page)
    assert page.locator("article.story").count() == 2
    shot(page, "story-list-phone")
    page.fill("form.filters input[name=q]", "firefighters")
    page.press("form.filters input[name=q]", "Enter")
    page.wait_for_url(re.compile(r"q=firefighters"))
    assert page.locator("article.story").count() == 1
    assert "Skarn" in page.locator("article.story h2").inner_text()
    page.goto(tram_site.url + "/")
    page.fill("form.filters input[name=since]", "2025-02-01")
    page.fill("form.filters input[name=until]", "2025-02-28")
    page.click("form.filters button[type=submit]")
    page.wait_for_url(re.compile(r"until=2025-02-28"))
    titles = page.locator("article.story h2").all_inner_texts()
    assert len(titles) == 1 and "tram" in titles[0].lower()
    # The storyline page links back to its events; the event page fits a phone too.
    page.locator("article.story h2 a").first.click()
    page.wait_for_url(re.compile(r"/story/"))
    page.locator("a.event-link").first.click()
    page.wait_for_url(re.compile(r"/event/"))
    assert no_horizontal_scroll(page)
    shot(page, "event-phone")
    page.close()


def test_pages_work_without_javascript(browser, tram_site):
    ctx = browser.new_context(java_script_enabled=False)
    page = ctx.new_page()
    page.goto(tram_site.url + "/?order=biggest")
    page.locator("a.event-link").first.click()
    page.wait_for_url(re.compile(r"/event/"))
    cite = page.locator("#summary a.cite").first
    href = cite.get_attribute("href")
    cite.click()
    assert page.locator(":target").get_attribute("id") == href.lstrip("#")
    assert page.locator(":target").evaluate("el => getComputedStyle(el).backgroundColor") == HIGHLIGHT
    ctx.close()


# --------------------------------------------------------------------------- safe by default (issue 15)


@pytest.fixture
def hostile_site(tmp_path) -> Iterator[LiveServer]:
    """A store holding what an attacker could have sent: script in a headline, javascript: links."""
    from storydesk.api import Storydesk
    from storydesk.embed import HashingEmbedder
    from storydesk.models import Article, Sentence

    db = tmp_path / "hostile.db"
    fire = [
        {**FIRE[0], "title": "Fire <img src=x onerror=alert(1)><script>alert(2)</script>", "url": "javascript:alert(3)"}
    ]
    build_db(db, [*fire, FIRE[1]])
    with Storydesk(db, embedder=HashingEmbedder(256)) as sd:
        text = "Fire chief Tomas Vell said the Skarn bridge would stay closed after the fire on Sunday night."
        old = Article(
            id="0ld0ld0ld0ld0ld0",
            source="old.json",
            text=text,
            title="Skarn bridge fire",
            outlet="Old Gazette",
            url="javascript:alert(4)",
            format="json",
        )  # written by an older ingest that kept such links
        sd.store.add_article(old, [Sentence(old.id, 0, text, 0, len(text))])
        sd.build()
    with LiveServer(create_app(db, poll_seconds=0.3)) as srv:
        yield srv


def test_hostile_content_runs_no_script(browser, hostile_site):
    page = browser.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    events = httpx.get(hostile_site.url + "/api/v1/events").json()["items"]
    for path in ["/", *(f"/event/{e['id']}" for e in events), "/article/0ld0ld0ld0ld0ld0"]:
        resp = page.goto(hostile_site.url + path)
        assert resp is not None and resp.status == 200
        assert "script-src 'self'" in resp.headers["content-security-policy"]
        hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))")
        assert not [h for h in hrefs if not h.startswith(("/", "#", "http://", "https://"))], hrefs
        for a in page.locator("a", has_text="original").all():
            a.click(modifiers=["Control"])  # even a click on every "original" link runs nothing
    # the policy itself stops an inline script that got into a page some other way
    page.evaluate(
        "() => { const s = document.createElement('script'); s.textContent = 'window.__ran = 1'; "
        "document.body.appendChild(s); }"
    )
    assert page.evaluate("() => window.__ran === undefined")
    assert dialogs == []
    # ... while the page's own script still runs: live updates are on
    assert page.locator("#live").is_visible()
    page.close()


def test_a_rebound_host_name_gets_nothing(browser, hostile_site):
    """DNS rebinding: an attacker's name resolving to 127.0.0.1 is answered 400, not with the stories."""
    rules = "--host-resolver-rules=MAP attacker.example 127.0.0.1"
    b = browser.browser_type.launch(executable_path=str(CHROMIUM), args=[*CHROMIUM_ARGS, rules])
    try:
        page = b.new_page()
        resp = page.goto(f"http://attacker.example:{hostile_site.port}/api/v1/events")
        assert resp is not None and resp.status == 400 and "not allowed" in page.content()
        resp = page.goto(f"http://localhost:{hostile_site.port}/")
        assert resp is not None and resp.status == 200
    finally:
        b.close()
