import datetime as dt
import json
import os
from pathlib import Path

import pytest

from conftest import write
from storydesk.errors import InputError, StoreError
from storydesk.ingest import ingest
from storydesk.store import open_store

ARTICLE = (
    " date 2025-02-04 LORVEN: The council of Lorven approved the tram plan on Tuesday after a long debate.\n\n"
    "Opposition members walked out before the vote, the city's press office said.\n\n"
    "(With inputs from Greyline Wire)"
)


@pytest.fixture
def store(tmp_path):
    s = open_store(tmp_path / "t.db")
    yield s
    s.close()


def test_text_file_with_header(tmp_path, store):
    write(tmp_path / "in" / "tram.txt", ARTICLE)
    rep = ingest(store, [tmp_path / "in"])
    assert len(rep.added) == 1 and rep.ok
    a = store.get_article(rep.added[0])
    assert a.published == dt.date(2025, 2, 4)
    assert a.published_source == "header"
    assert a.source == "tram.txt"
    assert a.dateline == "LORVEN"
    assert "With inputs" not in a.text
    sents = store.sentences(a.id)
    assert [s.text for s in sents] == [
        "The council of Lorven approved the tram plan on Tuesday after a long debate.",
        "Opposition members walked out before the vote, the city's press office said.",
    ]
    assert all(a.text[s.start : s.end] == s.text for s in sents)


def test_reingest_adds_nothing(tmp_path, store):
    write(tmp_path / "in" / "tram.txt", ARTICLE)
    first = ingest(store, [tmp_path / "in"])
    again = ingest(store, [tmp_path / "in"])
    assert again.added == [] and again.skipped == first.added
    assert store.article_count() == 1


def test_jsonl_json_html_and_feed(tmp_path, store):
    rec = {
        "id": "gw-1",
        "outlet": "Greyline Wire",
        "title": "Tram plan approved",
        "published": "2025-02-04",
        "url": "https://example.org/a",
        "text": "The council approved the plan.\n\nWork starts in spring.",
    }
    write(tmp_path / "in" / "a.jsonl", json.dumps(rec) + "\n")
    write(tmp_path / "in" / "b.json", json.dumps([{**rec, "id": "gw-2", "title": "Second story"}]))
    write(
        tmp_path / "in" / "c.html",
        "<html><head><title>Tram vote</title><meta property='og:site_name' content='Lorven Post'>"
        "<meta property='article:published_time' content='2025-02-05T08:00:00Z'></head><body>"
        "<nav>Home | World</nav><article><h1>Tram vote splits council</h1>"
        + "".join(
            f"<p>Paragraph {i} of the tram story explains the vote in some detail for readers.</p>" for i in range(6)
        )
        + "</article><footer>Cookies</footer></body></html>",
    )
    write(
        tmp_path / "in" / "d.xml",
        "<?xml version='1.0'?><rss version='2.0'><channel><title>Lorven Post</title>"
        "<item><title>Tram works begin</title><link>https://example.org/t</link>"
        "<pubDate>Wed, 05 Feb 2025 09:00:00 GMT</pubDate>"
        "<description>&lt;p&gt;Work on the tram began.&lt;/p&gt;&lt;p&gt;Residents cheered.&lt;/p&gt;</description>"
        "</item></channel></rss>",
    )
    rep = ingest(store, [tmp_path / "in"])
    assert rep.ok, rep.rejected
    by_format = {a.format: a for a in store.articles()}
    assert set(by_format) == {"jsonl", "json", "html", "feed"}
    assert by_format["jsonl"].source == "gw-1" and by_format["jsonl"].outlet == "Greyline Wire"
    assert by_format["html"].title == "Tram vote splits council"
    assert by_format["html"].published == dt.date(2025, 2, 5)
    assert by_format["feed"].outlet == "Lorven Post"
    assert by_format["feed"].text == "Work on the tram began.\n\nResidents cheered."
    assert by_format["feed"].published == dt.date(2025, 2, 5)


def test_bad_inputs_are_rejected_with_reasons_and_nothing_is_lost(tmp_path, store):
    write(tmp_path / "good" / "tram.txt", ARTICLE)
    before = ingest(store, [tmp_path / "good"])
    bad = tmp_path / "bad"
    write(bad / "photo.txt", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    write(bad / "empty.txt", "")
    write(bad / "latin1.txt", "Caf\xe9 owners in Lorven protested on Monday.".encode("latin-1"))
    write(bad / "nul.txt", b"abc\x00def" * 50)
    good = {"id": "ok-1", "title": "Tram", "text": "The council met on Tuesday.", "published": "2025-02-04"}
    lines = [
        json.dumps(good),
        '{"id": "broken", "text": "missing brace"',
        json.dumps({**good, "id": "baddate", "published": "2025-02-30"}),
        json.dumps({**good, "id": "nobody", "text": "", "title": ""}),
        json.dumps(["not", "an", "object"]),
    ]
    write(bad / "feed.jsonl", "\n".join(lines) + "\n")
    write(bad / "page.html", "<html><body><div><<<>>> </div></body></html>")
    write(bad / "huge.txt", "word " * 5000)
    rep = ingest(store, [bad], max_bytes=10_000)
    codes = {r.source: r.code for r in rep.rejected}
    assert codes == {
        "photo.txt": "binary",
        "empty.txt": "empty",
        "latin1.txt": "encoding",
        "nul.txt": "binary",
        "feed.jsonl:2": "json",
        "feed.jsonl:3": "date",
        "feed.jsonl:4": "no_text",
        "feed.jsonl:5": "fields",
        "page.html": "no_text",
        "huge.txt": "too_large",
    }
    reasons = {r.source: r.reason for r in rep.rejected}
    assert "0xe9" in reasons["latin1.txt"]
    assert "2025-02-30" in reasons["feed.jsonl:3"]
    assert len(rep.added) == 1  # the one good JSONL record
    assert store.has_article(before.added[0])
    assert store.article_count() == 2
    assert {r.source for r in store.rejections()} == set(codes)


def test_forced_encoding_reads_legacy_files(tmp_path, store):
    write(tmp_path / "latin1.txt", "Caf\xe9 owners in Lorven protested on Monday.".encode("latin-1"))
    rep = ingest(store, [tmp_path / "latin1.txt"], encoding="latin-1")
    assert rep.ok
    assert "Café" in store.get_article(rep.added[0]).text


def test_missing_path_is_an_input_error(tmp_path, store):
    with pytest.raises(InputError):
        ingest(store, [tmp_path / "nope"])


def test_failed_write_rolls_back_and_keeps_earlier_articles(tmp_path, store, monkeypatch):
    write(tmp_path / "a.txt", ARTICLE)
    ingest(store, [tmp_path / "a.txt"])
    write(tmp_path / "b.txt", ARTICLE.replace("Tuesday", "Wednesday"))
    real = store._x
    calls = []

    def failing(stmt, params=None):
        calls.append(stmt)
        if len(calls) > 2:  # the article row is written, then the disk fills up
            raise StoreError("database error: disk full")
        return real(stmt, params)

    monkeypatch.setattr(store, "_x", failing)
    with pytest.raises(StoreError, match="disk full"):
        ingest(store, [tmp_path / "b.txt"])
    monkeypatch.setattr(store, "_x", real)
    assert store.article_count() == 1
    assert store.sentences(store.article_ids()[0])


# --------------------------------------------------------------------------- bad input never stops a run (issue 15)

GOOD = {
    "id": "ok-1",
    "outlet": "Lorven Post",
    "title": "Tram",
    "text": "The council met on Tuesday.",
    "published": "2025-02-04",
}


def rss(*items: str, title: str = "Lorven Post") -> str:
    return f"<?xml version='1.0'?><rss version='2.0'><channel><title>{title}</title>{''.join(items)}</channel></rss>"


def rss_item(n: int, date: str = "Wed, 05 Feb 2025 09:00:00 GMT", body: str = "Work on the tram began today.") -> str:
    return (
        f"<item><guid>t-{n}</guid><title>Tram {n}</title><link>https://example.org/{n}</link>"
        f"<pubDate>{date}</pubDate><description>{body}</description></item>"
    )


def test_inputs_that_used_to_crash_are_rejections_and_the_run_goes_on(tmp_path, store):
    d = tmp_path / "in"
    write(d / "good.jsonl", json.dumps(GOOD) + "\n")
    write(d / "year0.xml", rss(rss_item(1, "Wed, 05 Feb 0000 09:00:00 GMT")))
    write(d / "year10000.xml", rss(rss_item(2, "Wed, 05 Feb 10000 09:00:00 GMT")))
    write(d / "year20.jsonl", json.dumps({**GOOD, "published": "Mon, 01 Jan 12345678901234567890 09:00:00 GMT"}))
    write(d / "bigint.json", '{"id": "b", "text": "Some words here.", "n": ' + "9" * 5000 + "}")
    write(d / "deep.json", "[" * 50_000 + "]" * 50_000)
    write(d / "deep-item.jsonl", '{"id": "x", "text": "Words here.", "n": ' + "[" * 50_000 + "]" * 50_000 + "}\n")
    write(tmp_path / "in" / "lone.jsonl", '{"id": "s", "text": "Broken \\ud800 surrogate"}\n')
    odd = bytes(d) + b"/caf\xe9.txt"
    with open(odd, "wb") as fh:
        fh.write(b"The cafe owners of Lorven protested on Monday.")
    os.mkfifo(d / "pipe.txt")
    rep = ingest(store, [d])
    codes = {r.source: r.code for r in rep.rejected}
    assert codes == {
        "year0.xml#t-1": "date",
        "year10000.xml#t-2": "date",
        "year20.jsonl:1": "date",
        "bigint.json": "json",
        "deep.json": "json",
        "deep-item.jsonl:1": "json",
        "lone.jsonl:1": "encoding",
        "pipe.txt": "not_a_file",
    }, rep.rejected
    reasons = {r.source: r.reason for r in rep.rejected}
    assert "year 0 is out of range" in reasons["year0.xml#t-1"]
    assert "4300 digits" in reasons["bigint.json"]
    assert "nested deeper than 100 levels" in reasons["deep.json"]
    assert "named pipe" in reasons["pipe.txt"]
    assert {a.source for a in store.articles()} == {"ok-1", "caf\\xe9.txt"}  # the odd name is shown escaped
    assert {r.source for r in store.rejections()} == set(codes)


def test_unreadable_files_and_folders_are_rejected(tmp_path, store, monkeypatch):
    d = tmp_path / "in"
    write(d / "a.txt", ARTICLE)
    write(d / "locked.txt", ARTICLE.replace("Tuesday", "Friday"))
    write(d / "shut" / "b.txt", ARTICLE.replace("Tuesday", "Monday"))
    real_open, real_scandir = Path.open, os.scandir

    def deny_open(self, *a, **k):  # tests run as root, who can read a mode-000 file: deny it here instead
        if self.name == "locked.txt":
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *a, **k)

    def deny_scandir(path):
        if str(path).endswith("shut"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(Path, "open", deny_open)
    monkeypatch.setattr(os, "scandir", deny_scandir)
    rep = ingest(store, [d])
    assert {(r.source, r.code) for r in rep.rejected} == {("locked.txt", "unreadable"), ("shut", "unreadable")}
    assert all("Permission denied" in r.reason for r in rep.rejected)
    assert len(rep.added) == 1


def test_symlinks_stay_inside_the_input_tree(tmp_path, store):
    outside = write(tmp_path / "secret.txt", "The secret plan of the council was revealed on Monday.")
    d = tmp_path / "in"
    write(d / "a.txt", ARTICLE)
    (d / "passwd").symlink_to(outside)
    (d / "etc").symlink_to("/etc")
    (d / "loop1").symlink_to(d / "loop2")
    (d / "loop2").symlink_to(d / "loop1")
    (d / "dangling.txt").symlink_to(d / "nothing")
    (d / "again.txt").symlink_to(d / "a.txt")  # inside the tree: read once, not twice
    (d / "sub").mkdir()
    (d / "sub" / "up").symlink_to(d)  # a folder loop inside the tree is not walked again
    rep = ingest(store, [d])
    codes = {r.source: (r.code, r.reason) for r in rep.rejected}
    assert {k: v[0] for k, v in codes.items()} == {
        "passwd": "symlink",
        "etc": "symlink",
        "loop1": "symlink",
        "loop2": "symlink",
        "dangling.txt": "symlink",
    }
    assert "outside the input folder" in codes["passwd"][1]
    assert "loop" in codes["loop1"][1] and "does not exist" in codes["dangling.txt"][1]
    assert len(rep.added) == 1 and store.article_count() == 1
    assert not any("secret" in a.text for a in store.articles())
    # a link named on the command line is the user's choice and is read
    assert ingest(store, [d / "passwd"]).added


def test_one_date_policy_for_every_format(tmp_path, store):
    atom = (
        "<?xml version='1.0'?><feed xmlns='http://www.w3.org/2005/Atom'><title>A</title>"
        "<entry><id>x1</id><title>Tram</title><updated>2023-02-30T00:00:00Z</updated>"
        "<content>Work on the tram began today.</content></entry>"
        "<entry><id>x2</id><title>Tram</title><updated>2023-02-28T00:00:00Z</updated>"
        "<content>Work on the tram went on today.</content></entry></feed>"
    )
    write(tmp_path / "in" / "atom.xml", atom)
    write(
        tmp_path / "in" / "rss.xml",
        rss(
            rss_item(1, "Mon, 01 Jan 0001 09:00:00 GMT"),
            rss_item(2, "Thu, 30 Feb 2023 09:00:00 GMT"),
            rss_item(3, "Tue, 14 Feb 23 09:00:00 GMT", "A two-digit year, as RFC 2822 reads it."),
        ),
    )
    lines = [{**GOOD, "id": f"j{i}", "published": p} for i, p in enumerate(["2023-02-30", "Mon, 01 Jan 0001 09:00"])]
    write(tmp_path / "in" / "a.jsonl", "\n".join(json.dumps(x) for x in lines))
    rep = ingest(store, [tmp_path / "in"])
    assert {r.source: r.code for r in rep.rejected} == {
        "atom.xml#x1": "date",
        "rss.xml#t-1": "date",
        "rss.xml#t-2": "date",
        "a.jsonl:1": "date",
        "a.jsonl:2": "date",
    }
    reasons = " ".join(r.reason for r in rep.rejected)
    assert "2023-02-30" in reasons and "0001-01-01 is before 1800" in reasons
    assert sorted(str(a.published) for a in store.articles()) == ["2023-02-14", "2023-02-28"]


def test_many_bad_items_of_one_file_are_grouped(tmp_path, store):
    d = tmp_path / "in"
    write(
        d / "empty-items.xml", rss(*(rss_item(i, body="").replace(f"<title>Tram {i}</title>", "") for i in range(3000)))
    )
    write(d / "binary.jsonl", bytes(range(256)) * 64)
    write(d / "prose.jsonl", "\n".join(f"Line {i} of prose, not JSON." for i in range(500)))
    good_then_bad = [json.dumps({**GOOD, "id": "g"})] + [json.dumps({"id": f"n{i}", "text": ""}) for i in range(30)]
    write(d / "mixed.jsonl", "\n".join(good_then_bad))
    rep = ingest(store, [d])
    by_file: dict[str, list] = {}
    for r in rep.rejected:
        by_file.setdefault(r.source.split(":")[0].split("#")[0], []).append(r)
    assert [(r.source, r.code) for r in by_file["empty-items.xml"]] == [("empty-items.xml", "no_text")]
    assert "3,000 of 3,000 entries" in by_file["empty-items.xml"][0].reason
    assert [(r.source, r.code) for r in by_file["binary.jsonl"]] == [("binary.jsonl", "binary")]
    assert [(r.source, r.code) for r in by_file["prose.jsonl"]] == [("prose.jsonl", "json")]
    assert "500 of 500" in by_file["prose.jsonl"][0].reason and "at 1:" in by_file["prose.jsonl"][0].reason
    mixed = by_file["mixed.jsonl"]
    assert len(mixed) == 21 and mixed[-1].source == "mixed.jsonl" and "10 more entries" in mixed[-1].reason
    assert [r.source for r in mixed[:20]] == [f"mixed.jsonl:{i}" for i in range(2, 22)]
    assert len(rep.added) == 1


def test_only_http_links_are_kept(tmp_path, store):
    urls = [
        "javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        " JAVASCRIPT:x",
        "file:///etc/passwd",
        "//evil.example/x",
        "/relative",
        "https://ok.example/a b",
        ["https://ok.example"],
        "http://ok.example/x",
    ]
    recs = [{**GOOD, "id": f"u{i}", "url": u} for i, u in enumerate(urls)]
    write(tmp_path / "a.jsonl", "\n".join(json.dumps(r) for r in recs))
    write(tmp_path / "f.xml", rss(rss_item(1).replace("https://example.org/1", "javascript:alert(1)")))
    rep = ingest(store, [tmp_path / "a.jsonl", tmp_path / "f.xml"])
    assert rep.ok and len(rep.added) == len(urls) + 1  # every article is kept ...
    assert {a.url for a in store.articles()} == {None, "http://ok.example/x"}  # ... without its bad link


def test_article_id_comes_from_the_inputs_own_id(tmp_path, store):
    a = {**GOOD, "id": "wire-1", "text": "The council met on Tuesday."}
    edited = {**a, "text": "The council met on Tuesday and voted for the tram."}
    copy = {**a, "id": "wire-2"}
    other_outlet = {**a, "outlet": "Harbor Ledger"}
    write(tmp_path / "a.jsonl", json.dumps(a))
    first = ingest(store, [tmp_path / "a.jsonl"]).added
    write(tmp_path / "b.json", json.dumps([edited, copy, other_outlet]))
    second = ingest(store, [tmp_path / "b.json"])
    assert second.updated == first  # the edit is the same article: its text is replaced
    assert len(second.added) == 2 and first[0] not in second.added  # a copy with its own id stays separate


def test_edited_article_replaces_the_stored_one(tmp_path, store):
    # needs the new store: replace on edit
    a = {**GOOD, "id": "wire-1"}
    write(tmp_path / "a.jsonl", json.dumps(a))
    aid = ingest(store, [tmp_path / "a.jsonl"]).added[0]
    write(tmp_path / "a.jsonl", json.dumps({**a, "text": "The council met on Wednesday instead."}))
    ingest(store, [tmp_path / "a.jsonl"])
    assert store.article_count() == 1 and "Wednesday" in store.get_article(aid).text


def test_reingest_records_no_new_rejections(tmp_path, store):
    # needs the new store: idempotent rejections
    write(tmp_path / "in" / "bad.txt", b"\x00\x01" * 100)
    write(tmp_path / "in" / "a.jsonl", json.dumps(GOOD) + "\n{broken\n")
    ingest(store, [tmp_path / "in"])
    ingest(store, [tmp_path / "in"])
    assert len(store.rejections()) == 2


def test_an_unexpected_error_is_an_internal_rejection_and_the_run_goes_on(tmp_path, store, monkeypatch):
    from storydesk import clean as clean_mod

    real = clean_mod.clean

    def flaky(text, **kw):
        if "explode" in text:
            raise ZeroDivisionError("boom")
        return real(text, **kw)

    monkeypatch.setattr(clean_mod, "clean", flaky)
    recs = [GOOD, {**GOOD, "id": "bad", "text": "This one will explode."}, {**GOOD, "id": "ok-2"}]
    write(tmp_path / "a.jsonl", "\n".join(json.dumps(r) for r in recs))
    rep = ingest(store, [tmp_path / "a.jsonl"])
    assert [(r.source, r.code) for r in rep.rejected] == [("a.jsonl:2", "internal")]
    assert "ZeroDivisionError" in rep.rejected[0].reason
    assert len(rep.added) == 2


def test_folders_any_depth_deep_are_walked_in_path_order(tmp_path, store):
    d = tmp_path / "in"
    levels = [str(d)]
    os.makedirs(levels[0])
    try:
        for _ in range(1200):  # deeper than Python's recursion limit (pathlib's mkdir would recurse)
            levels.append(levels[-1] + "/n")
            os.mkdir(levels[-1])
        with open(levels[-1] + "/z.txt", "w", encoding="utf-8") as fh:
            fh.write(ARTICLE)
        write(d / "a b" / "x.txt", ARTICLE.replace("Tuesday", "Monday"))
        write(d / "a" / "x.txt", ARTICLE.replace("Tuesday", "Friday"))
        write(d / "a.txt", ARTICLE.replace("Tuesday", "Sunday"))
        rep = ingest(store, [d])
        assert rep.ok
        deep = "/".join(["n"] * 1200) + "/z.txt"
        assert [a.source for a in store.articles()] == ["a/x.txt", "a b/x.txt", "a.txt", deep]
    finally:  # pytest's own clean-up (shutil.rmtree) recurses per level: take the tree down here
        if os.path.exists(levels[-1] + "/z.txt"):
            os.remove(levels[-1] + "/z.txt")
        for level in reversed(levels[1:]):
            if os.path.isdir(level):
                os.rmdir(level)


def test_an_error_escaping_a_reader_rejects_that_file_only(tmp_path, store, monkeypatch):
    from storydesk import ingest as ingest_mod

    real = ingest_mod._read_json

    def deep(data, source, encoding):
        if "deep" in source:
            yield from real(data, source, encoding)
            raise RecursionError("maximum recursion depth exceeded")
        yield from real(data, source, encoding)

    monkeypatch.setattr(ingest_mod, "_read_json", deep)
    write(tmp_path / "in" / "deep.json", json.dumps([GOOD]))
    write(tmp_path / "in" / "ok.json", json.dumps([{**GOOD, "id": "ok-2"}]))
    rep = ingest(store, [tmp_path / "in"])
    assert [(r.source, r.code) for r in rep.rejected] == [("deep.json", "too_complex")]
    assert len(rep.added) == 2  # the item read before the error is kept, and the next file is read
