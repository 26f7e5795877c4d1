import re

from storydesk.report import article_label, format_when, render_report


def doc():
    art = {
        "id": "a" * 16,
        "path": "lorven_post_tram.txt",
        "outlet": None,
        "title": "Tram <vote>",
        "published": "2025-02-04",
        "duplicate_of": None,
        "primary": None,
        "relays": [],
        "text": "The council voted.",
        "sentences": [{"index": 0, "text": "The council voted.", "start": 0, "end": 18}],
    }
    ev = {
        "id": "ev-1",
        "storyline": "sl-1",
        "title": "Tram vote",
        "headline": "Tram vote",
        "articles": [art["id"]],
        "start": "2025-02-04",
        "end": None,
        "summary": [{"text": "The council voted.", "citations": [{"article": art["id"], "sentence": 0}]}],
        "timeline": [
            {
                "date": "2025-01-01",
                "end": None,
                "precision": "month",
                "text": "Plan drafted.",
                "citations": [{"article": art["id"], "sentence": 0}],
            }
        ],
        "entities": [],
        "quotes": [],
        "claims": [],
        "conflicts": [],
    }
    return {
        "storydesk": {"version": "x", "schema": "1.0", "generated": "now"},
        "articles": [art],
        "events": [ev],
        "storylines": [{"id": "sl-1", "title": "Tram", "events": ["ev-1"], "timeline": []}],
        "rejections": [{"source": "bad.bin", "code": "binary", "reason": "binary file"}],
    }


def test_citations_link_to_existing_sentence_anchors_and_text_is_escaped():
    html = render_report(doc())
    targets = set(re.findall(r'href="#(s-[^"]+)"', html))
    anchors = set(re.findall(r'id="(s-[^"]+)"', html))
    assert targets and targets <= anchors
    assert "Tram &lt;vote&gt;" in html and "<vote>" not in html
    assert "[lorven]" in html  # short label from the file name
    assert "bad.bin: [binary]" in html


def test_date_formats_follow_precision():
    assert format_when({"date": "2019-01-01", "precision": "year"}) == "2019"
    assert format_when({"date": "2023-07-01", "precision": "month"}) == "2023-07"
    assert format_when({"date": "2023-08-07", "precision": "week"}) == "week of 2023-08-07"
    assert format_when({"date": "2023-08-21", "end": "2023-08-31", "precision": "day"}) == "2023-08-21 – 2023-08-31"
    assert article_label({"outlet": "Harbor Ledger", "path": "x.txt"}) == "Harbor Ledger"


def test_claims_say_who_they_come_from_in_each_article():
    d = doc()
    aid = d["articles"][0]["id"]
    d["events"][0]["claims"] = [
        {
            "text": "The council voted.",
            "articles": [aid],
            "citations": [{"article": aid, "sentence": 0}],
            "independent_sources": 1,
            "sources": ["Mayor Ilse Varn"],
            "single_source": True,
            "attributions": [
                {
                    "article": aid,
                    "sentence": 0,
                    "source": "Mayor Ilse Varn",
                    "origin": "Mayor Ilse Varn",
                    "via": ["Lorven Radio"],
                    "kind": "quoted",
                },
                {
                    "article": aid,
                    "sentence": 0,
                    "source": f"own:{aid}",
                    "origin": f"own:{aid}",
                    "via": [],
                    "kind": "own",
                },
            ],
        }
    ]
    html = render_report(d)
    assert "1 independent source" in html
    row = f'<a class="cite" href="#s-{aid}-0">[lorven]</a> '
    assert row + "Mayor Ilse Varn via Lorven Radio (quoted); lorven (own reporting)" in html
