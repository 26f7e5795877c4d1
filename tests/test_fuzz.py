"""Fuzzing ingest: generated malformed inputs mixed with good ones, through the CLI and the REST API.

Every run asserts the promise of issue 15: no traceback, exit code 3, every good article
stored, every bad input a rejection with a reason code and a reason, and no rejection that
a good input did not earn.

The generator is shared by three users:

* hypothesis tests (a few dozen small corpora, CI-sized: tens of seconds);
* the ``slow`` acceptance test (10,000 malformed inputs, ``pytest -m slow tests/test_fuzz.py``);
* the same as a script: ``python tests/test_fuzz.py --bad 10000 [--keep DIR]``.

Every input is fictional and made here; nothing is copied from elsewhere.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"

# --------------------------------------------------------------------------- the generator

WORDS = [
    *("council", "harbour", "tram", "bridge", "mayor", "vote", "budget", "strike", "port", "ferry", "fire"),
    *("engineers", "residents", "station", "minister", "talks", "aid", "storm", "river", "market", "school"),
    *("hospital", "police", "court", "election", "weather", "crowd"),
]
PLACES = ["Lorven", "Skarn", "Aurlen", "Kestria", "Westmere", "Calvern", "Sabrel"]

#: Dates every format must refuse (the JSON policy): impossible, out of range, or not dates at all.
BAD_ISO_DATES = ["0000-01-01", "2023-02-30", "2023-13-01", "2024-04-31", "2999-01-01", "1700-05-05", "10000-01-01"]
BAD_RFC_DATES = [
    "Wed, 05 Feb 0000 09:00:00 GMT",
    "Mon, 01 Jan 0001 09:00:00 GMT",
    "Thu, 30 Feb 2023 09:00:00 GMT",
    "Mon, 01 Jan 12345678901234567890 09:00:00 GMT",
    "Sat, 01 Jan 10000 00:00:00 GMT",
    "Fri, 31 Apr 2020 10:00:00 +0000",
]
BAD_JSON_DATES: list[Any] = [
    *BAD_ISO_DATES,
    *BAD_RFC_DATES,
    "yesterday",
    "31/31/2020",
    20230101,
    [2023],
    {"y": 1},
    True,
]
#: Names that are legal on Linux but hostile to print or store.
ODD_NAME_PARTS = [
    b"new\nline",
    b"tab\there",
    b"esc\x1b[31mred",
    b"rtl\xe2\x80\xaeoverride",
    b"latin1-caf\xe9",
    b"bad-utf8-\xff\xfe",
    b"cr\rreturn",
    b"bell\x07",
    b"sp ace",
    b"quote\"'",
    b"x" * 200,
]


def sentence(rng: random.Random, token: str = "") -> str:
    """One plausible news sentence, optionally carrying a unique token."""
    words = rng.sample(WORDS, 6)
    place = rng.choice(PLACES)
    extra = f" Reference {token} was noted." if token else ""
    return f"The {words[0]} of {place} discussed the {words[1]} and the {words[2]} on Tuesday.{extra}"


def body(rng: random.Random, token: str) -> str:
    """A few paragraphs with the token in the first."""
    return "\n\n".join([sentence(rng, token)] + [sentence(rng) for _ in range(rng.randint(1, 3))])


@dataclass
class Corpus:
    """A folder of generated inputs and what ingest must make of each.

    Attributes:
        root: The folder.
        good: token -> where it was written; an article whose text holds the token must be stored.
        bad: ``(source prefix, codes)``: some rejection must start with the prefix and have one of the codes.
        unknown: Sources whose fate is not predicted (random mutations): any outcome but a crash.
        bad_inputs: How many bad inputs (files, lines, entries) were written.
        api_items: Articles (and junk) for a JSON request to the REST API, with their own expectations.
    """

    root: Path
    rng: random.Random
    api_safe: bool = False
    #: Smaller groups of bad items per file, so that a large corpus is made of many inputs of every kind.
    spread: bool = False
    good: dict[str, str] = field(default_factory=dict)
    bad: list[tuple[str, frozenset[str]]] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    bad_inputs: int = 0
    n: int = 0
    bad_links: set[str] = field(default_factory=set)

    def token(self) -> str:
        self.n += 1
        return f"tok{self.n:06d}z{self.rng.randrange(16**4):04x}"

    def name(self, kind: str, ext: str, odd: bool = False) -> tuple[bytes, str]:
        """A new file path (bytes, relative) and its display path as ingest shows it."""
        self.n += 1
        folder = f"d{self.n // 400:03d}/".encode()
        stem = f"{self.n:06d}-{kind}".encode()
        if odd and not self.api_safe:
            stem += b"-" + self.rng.choice(ODD_NAME_PARTS)
        rel = folder + stem + ext.encode()
        return rel, rel.decode("utf-8", "backslashreplace")

    def write(self, rel: bytes, data: bytes | str) -> None:
        path = os.path.join(os.fsencode(self.root), rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as fh:
            fh.write(data.encode("utf-8") if isinstance(data, str) else data)

    def expect_bad(self, source: str, *codes: str, count: int = 1) -> None:
        self.bad.append((source, frozenset(codes)))
        self.bad_inputs += count

    # ------------------------------------------------------------------ records
    def good_record(self, where: str) -> dict[str, Any]:
        tok = self.token()
        self.good[tok] = where
        rec: dict[str, Any] = {
            "id": f"id-{tok}",
            "outlet": self.rng.choice(["Lorven Post", "Harbor Ledger", "Northfold Wire", None]),
            "title": f"{self.rng.choice(WORDS).title()} news in {self.rng.choice(PLACES)}",
            "published": self.rng.choice(["2025-02-04", "Tue, 04 Feb 2025 10:00:00 GMT", None, "2024-12-31T23:59:59Z"]),
            "text": body(self.rng, tok),
        }
        if self.rng.random() < 0.3:  # a hostile link: the article is kept, the link dropped
            rec["url"] = self.rng.choice(["javascript:alert(1)", "data:text/html,<b>x</b>", "file:///etc/passwd"])
            self.bad_links.add(tok)
        elif self.rng.random() < 0.5:
            rec["url"] = f"https://news.example/{tok}"
        return rec

    def bad_record(self) -> tuple[Any, str]:
        """A JSON value that is not an acceptable article, and the code it must get."""
        rec: dict[str, Any] = {"id": f"bad-{self.token()}", "title": "Bad one", "text": sentence(self.rng)}
        kind = self.rng.randrange(8)
        if kind == 0:
            rec["published"] = self.rng.choice(BAD_JSON_DATES)
            return rec, "date"
        if kind == 1:
            rec["text"] = self.rng.choice([5, ["a"], {"b": 1}, True])
            return rec, "fields"
        if kind == 2:
            return self.rng.choice([None, 5, "text", ["x"], 1.5]), "fields"
        if kind == 3:
            rec["text"], rec["title"] = "", self.rng.choice(["", "   ", None])
            return rec, "no_text"
        if kind == 4:
            rec["text"] = "broken \ud800 surrogate " + rec["text"]
            return rec, "encoding"
        if kind == 5:
            rec["id"] = self.rng.choice([{"x": 1}, [1], True, 1.5])
            return rec, "fields"
        if kind == 6:
            rec["outlet"] = {"name": "x"}
            return rec, "fields"
        rec["published"] = self.rng.choice(BAD_RFC_DATES)
        return rec, "date"

    # ------------------------------------------------------------------ good inputs
    def good_text(self) -> None:
        tok = self.token()
        rel, shown = self.name("good-text", self.rng.choice([".txt", ".md", ""]), odd=self.rng.random() < 0.2)
        header = self.rng.choice(["", " date 2025-02-04 ", "date: 2024-11-30\n"])
        self.write(rel, header + body(self.rng, tok))
        self.good[tok] = shown

    def good_html(self) -> None:
        tok = self.token()
        rel, shown = self.name("good-html", ".html")
        paras = "".join(f"<p>{sentence(self.rng, tok if i == 0 else '')} More words follow here.</p>" for i in range(6))
        self.write(
            rel,
            "<html><head><title>News</title></head><body><nav>Home | World</nav>"
            f"<article><h1>{self.rng.choice(WORDS).title()} report</h1>{paras}</article></body></html>",
        )
        self.good[tok] = shown

    # ------------------------------------------------------------------ mixed files
    def jsonl_mixed(self) -> None:
        rel, shown = self.name("mixed", ".jsonl", odd=self.rng.random() < 0.1)
        lines = []
        for n in range(1, self.rng.randint(2, 14)):
            r = self.rng.random()
            if r < 0.45:
                lines.append(json.dumps(self.good_record(shown)))
            elif r < 0.85:
                rec, code = self.bad_record()
                lines.append(json.dumps(rec))
                self.expect_bad(f"{shown}:{n}", code)
            else:
                junk, code = self.rng.choice(
                    [
                        ('{"id": "x", "text": "unterminated', "json"),
                        ("[" * 3000 + "]" * 3000, "json"),
                        ('{"id": "big", "n": ' + "7" * 4400 + "}", "json"),
                        ("not json at all", "json"),
                        ('{"text": "nul \x00 byte"}', "binary"),
                    ]
                )
                lines.append(junk)
                self.expect_bad(f"{shown}:{n}", code)
        self.write(rel, "\n".join(lines) + "\n")

    def json_mixed(self) -> None:
        rel, shown = self.name("mixed", ".json")
        items: list[Any] = []
        for i in range(self.rng.randint(1, 10)):
            if self.rng.random() < 0.5:
                items.append(self.good_record(shown))
            else:
                rec, code = self.bad_record()
                items.append(rec)
                self.expect_bad(f"{shown}[{i}]", code)
        doc: Any = {"articles": items} if self.rng.random() < 0.5 else items
        self.write(rel, json.dumps(doc))

    def feed_mixed(self) -> None:
        rel, shown = self.name("mixed", self.rng.choice([".xml", ".rss", ".atom"]))
        atom = self.rng.random() < 0.5
        entries = []
        for _ in range(self.rng.randint(1, 10)):
            guid = self.token()
            r = self.rng.random()
            if r < 0.5:
                tok = self.token()
                self.good[tok] = shown
                text, date = (
                    sentence(self.rng, tok),
                    ("2025-02-04T10:00:00Z" if atom else "Tue, 04 Feb 2025 10:00:00 GMT"),
                )
            elif r < 0.8:
                text = sentence(self.rng)
                date = self.rng.choice(
                    ["2023-02-30T00:00:00Z", "0000-01-01T00:00:00Z", "2024-04-31T10:00:00Z"] if atom else BAD_RFC_DATES
                )
                self.expect_bad(f"{shown}#{guid}", "date")
            else:
                text, date = "", "2025-02-04T10:00:00Z" if atom else "Tue, 04 Feb 2025 10:00:00 GMT"
                self.expect_bad(f"{shown}#{guid}", "no_text")
            if atom:
                title = f"<title>{self.rng.choice(WORDS)}</title>" if text else ""
                entries.append(
                    f"<entry><id>{guid}</id>{title}<updated>{date}</updated><content>{text}</content></entry>"
                )
            else:
                title = f"<title>{self.rng.choice(WORDS)}</title>" if text else ""
                entries.append(
                    f"<item><guid>{guid}</guid>{title}<pubDate>{date}</pubDate><description>{text}</description></item>"
                )
        if atom:
            head = "<feed xmlns='http://www.w3.org/2005/Atom'><title>Wire</title>"
            doc = f"<?xml version='1.0'?>{head}{''.join(entries)}</feed>"
        else:
            head = "<rss version='2.0'><channel><title>Wire</title>"
            doc = f"<?xml version='1.0'?>{head}{''.join(entries)}</channel></rss>"
        self.write(rel, doc)

    # ------------------------------------------------------------------ bad files
    def binary(self) -> None:
        rel, shown = self.name(
            "binary", self.rng.choice([".txt", ".jsonl", ".json", ".xml", ".html", ""]), odd=self.rng.random() < 0.2
        )
        size = self.rng.randint(1024, 20_000)
        data = bytes(self.rng.choice([0, 1, 2, 7, 0x1B, 0xFF, self.rng.randrange(256)]) for _ in range(size))
        if self.rng.random() < 0.3:
            data = self.rng.choice([b"\x89PNG\r\n\x1a\n", b"%PDF-1.4\n", b"PK\x03\x04", b"\x7fELF"]) + data
        self.write(rel, data)
        self.expect_bad(shown, "binary")

    def not_utf8(self) -> None:
        rel, shown = self.name("latin1", ".txt", odd=self.rng.random() < 0.2)
        self.write(
            rel,
            ("Caf\xe9 owners in " + self.rng.choice(PLACES) + " protested. " + sentence(self.rng)).encode("latin-1"),
        )
        self.expect_bad(shown, "encoding")

    def empty(self) -> None:
        rel, shown = self.name("empty", self.rng.choice([".txt", ".json", ".jsonl", ".xml", ".html"]))
        self.write(rel, self.rng.choice(["", "   \n\n  ", "\n"]))
        self.expect_bad(shown, "empty")

    def deep_json(self) -> None:
        rel, shown = self.name("deep", ".json")
        depth = self.rng.choice([101, 1_500, 50_000])
        self.write(rel, '{"articles": ' + "[" * depth + "]" * depth + "}")
        self.expect_bad(shown, "json")

    def big_int_json(self) -> None:
        rel, shown = self.name("bigint", ".json")
        self.write(
            rel, '[{"id": "n", "text": "Some words here.", "count": ' + "9" * self.rng.randint(4301, 20_000) + "}]"
        )
        self.expect_bad(shown, "json")

    def feed_empty_items(self) -> None:
        rel, shown = self.name("empty-items", ".xml")
        n = self.rng.choice([21, 60, 200] if self.spread else [21, 200, 3000])
        items = "".join(f"<item><guid>e{i}</guid><description></description></item>" for i in range(n))
        self.write(rel, f"<?xml version='1.0'?><rss version='2.0'><channel><title>Empty</title>{items}</channel></rss>")
        self.expect_bad(shown, "no_text", count=n)

    def feed_bad_dates(self) -> None:
        """A feed whose every entry has an impossible date: each entry rejected, never "fixed"."""
        rel, shown = self.name("feed-dates", ".xml")
        items = []
        for _ in range(self.rng.randint(1, 5)):
            guid = self.token()
            items.append(
                f"<item><guid>{guid}</guid><title>Tram</title><pubDate>{self.rng.choice(BAD_RFC_DATES)}</pubDate>"
                f"<description>{sentence(self.rng)}</description></item>"
            )
            self.expect_bad(f"{shown}#{guid}", "date")
        self.write(
            rel, f"<?xml version='1.0'?><rss version='2.0'><channel><title>W</title>{''.join(items)}</channel></rss>"
        )

    def not_a_feed(self) -> None:
        rel, shown = self.name("broken", ".xml")
        self.write(rel, self.rng.choice(["<rss><<<>>>", "<?xml version='1.0'?><nothing/>", "plain words, no markup"]))
        self.expect_bad(shown, "feed")

    def html_junk(self) -> None:
        rel, shown = self.name("junk", ".html")
        self.write(rel, self.rng.choice(["<html><body><div><<<>>> </div></body></html>", "just text", "<p>12 34</p>"]))
        self.expect_bad(shown, "html", "no_text")

    def prose_jsonl(self) -> None:
        rel, shown = self.name("prose", ".jsonl")
        n = self.rng.choice([3, 30, 100] if self.spread else [3, 30, 300])
        self.write(rel, "\n".join(sentence(self.rng) for _ in range(n)))
        self.expect_bad(shown, "json", count=n)

    def date_header(self) -> None:
        rel, shown = self.name("header-date", ".txt")
        self.write(rel, f" date {self.rng.choice(BAD_ISO_DATES[:5])} " + body(self.rng, ""))
        self.expect_bad(shown, "date")

    def mutated(self) -> None:
        """A good record with random bytes flipped: any outcome but a crash."""
        rel, shown = self.name("mutated", self.rng.choice([".jsonl", ".json", ".xml", ".txt"]))
        data = bytearray(json.dumps(self.good_record("-")).encode())
        self.good.popitem()  # its fate is not predicted
        for _ in range(self.rng.randint(1, 8)):
            data[self.rng.randrange(len(data))] = self.rng.randrange(256)
        self.write(rel, bytes(data))
        self.unknown.append(shown)
        self.bad_inputs += 1

    # ------------------------------------------------------------------ the file system
    def fifo(self) -> None:
        rel, shown = self.name("fifo", ".txt")
        path = os.path.join(os.fsencode(self.root), rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        os.mkfifo(path)
        self.expect_bad(shown, "not_a_file")

    def symlink(self) -> None:
        rel, shown = self.name("link", ".txt")
        path = os.path.join(os.fsencode(self.root), rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        kind = self.rng.randrange(3)
        if kind == 0:
            os.symlink(b"/etc/passwd", path)
        elif kind == 1:
            os.symlink(path + b".other", path)
            os.symlink(path, path + b".other")
            self.expect_bad(shown + ".other", "symlink")
        else:
            os.symlink(path + b".missing", path)
        self.expect_bad(shown, "symlink")


GOOD_KINDS: list[str] = ["good_text", "good_html", "jsonl_mixed", "json_mixed", "feed_mixed"]
BAD_KINDS: list[str] = [
    "binary",
    "not_utf8",
    "empty",
    "deep_json",
    "big_int_json",
    "feed_empty_items",
    "feed_bad_dates",
    "not_a_feed",
    "html_junk",
    "prose_jsonl",
    "date_header",
    "mutated",
    "jsonl_mixed",
    "json_mixed",
    "fifo",
    "symlink",
]
#: What can travel over the REST API (no links, pipes or odd names through a multipart upload).
API_KINDS = [k for k in GOOD_KINDS + BAD_KINDS if k not in ("fifo", "symlink")]


def build_corpus(root: Path, kinds: list[str], seed: int, api_safe: bool = False) -> Corpus:
    """Write one input of each kind listed (in order) under ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    c = Corpus(root, random.Random(seed), api_safe=api_safe)
    for k in kinds:
        getattr(c, k)()
    return c


def big_corpus(root: Path, bad: int, seed: int = 15) -> Corpus:
    """At least ``bad`` malformed inputs (files, lines, entries) mixed with about as many good ones."""
    rng = random.Random(seed)
    c = Corpus(root, random.Random(seed + 1), spread=True)
    root.mkdir(parents=True, exist_ok=True)
    while c.bad_inputs < bad:
        kinds = BAD_KINDS if rng.random() < 0.55 else GOOD_KINDS
        getattr(c, rng.choice(kinds))()
    return c


# --------------------------------------------------------------------------- the checks


def stored_and_rejected(db: Path) -> tuple[list[Any], list[Any]]:
    """Articles and rejections in a database (read through the store API)."""
    from storydesk.store import open_store

    store = open_store(str(db))
    try:
        return store.articles(), store.rejections()
    finally:
        store.close()


def check(corpus: Corpus, articles: list[Any], rejections: list[Any]) -> dict[str, int]:
    """Assert the promise of issue 15 on what one ingest left; return counts for the report."""
    texts = "\n".join(f"{a.title}\n{a.text}" for a in articles)
    missing = [(tok, where) for tok, where in corpus.good.items() if tok not in texts]
    assert not missing, f"{len(missing)} good articles not stored, e.g. {missing[:5]}"
    # hostile links (javascript:, data:, file:) were dropped, their articles kept
    assert all(a.url is None or a.url.startswith(("http://", "https://")) for a in articles)
    for r in rejections:
        assert r.code and r.reason.strip(), r
    unmatched = []
    for source, codes in corpus.bad:
        if not any(r.source.startswith(source) and r.code in codes for r in rejections) and not any(
            source.startswith(r.source) and r.code in codes
            for r in rejections  # grouped into one for the file
        ):
            unmatched.append((source, sorted(codes)))
    assert not unmatched, f"{len(unmatched)} bad inputs without their rejection, e.g. {unmatched[:5]}"
    expected = [s for s, _ in corpus.bad] + corpus.unknown
    spurious = [r for r in rejections if not any(r.source.startswith(s) or s.startswith(r.source) for s in expected)]
    assert not spurious, f"rejections of good inputs: {spurious[:5]}"
    internal = [r for r in rejections if r.code == "internal"]
    assert not internal, f"unexpected errors (bugs): {internal[:5]}"
    return {
        "articles": len(articles),
        "rejections": len(rejections),
        "good": len(corpus.good),
        "bad": corpus.bad_inputs,
    }


def storydesk_cli(*args: str, timeout: float = 1200) -> subprocess.CompletedProcess[str]:
    """Run the real CLI in a subprocess (real exit code, real stderr)."""
    env = {**os.environ, "PYTHONPATH": str(SRC) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run(
        [sys.executable, "-m", "storydesk.cli", *args],
        capture_output=True,
        text=True,
        errors="backslashreplace",
        env=env,
        timeout=timeout,
        check=False,
    )


# --------------------------------------------------------------------------- hypothesis: the CLI

#: No shrinking: a failing example is already small (a list of kinds and a seed), and shrinking
#: whole corpora through ingest takes minutes.
PHASES = [Phase.explicit, Phase.reuse, Phase.generate]
kinds_strategy = st.lists(st.sampled_from(GOOD_KINDS + BAD_KINDS), min_size=1, max_size=14)


@settings(max_examples=20, deadline=None, phases=PHASES, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kinds=kinds_strategy, seed=st.integers(0, 2**32 - 1))
def test_cli_ingest_survives_generated_inputs(tmp_path_factory, kinds, seed):
    from click.testing import CliRunner

    from storydesk.cli import EXIT_REJECTED, main

    tmp = tmp_path_factory.mktemp("fuzz")
    corpus = build_corpus(tmp / "in", [*kinds, "good_text"], seed)
    db = tmp / "f.db"
    res = CliRunner().invoke(main, ["ingest", str(corpus.root), "--db", str(db), "-q"])
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exc_info
    assert "Traceback" not in res.output
    has_bad = bool(corpus.bad or corpus.unknown)
    assert res.exit_code in ((EXIT_REJECTED, 0) if corpus.unknown else ((EXIT_REJECTED,) if has_bad else (0,))), (
        res.output
    )
    for line in res.output.splitlines():  # one line per rejection: no name can forge another
        assert line.startswith(("rejected ", "ingested ")) or not line.strip(), line
    check(corpus, *stored_and_rejected(db))


def test_cli_run_end_to_end_exits_3_without_traceback(tmp_path):
    """One fixed corpus through the real `storydesk run` (ingest, build, export) in a subprocess."""
    kinds = GOOD_KINDS * 2 + BAD_KINDS
    corpus = build_corpus(tmp_path / "in", kinds, seed=7)
    db, out = tmp_path / "r.db", tmp_path / "story.json"
    res = storydesk_cli("run", str(corpus.root), "--db", str(db), "--json", str(out), "--embedder", "hashing", "-q")
    assert res.returncode == 3, res.stderr[-3000:]
    assert "Traceback" not in res.stderr + res.stdout
    assert all(ln.startswith("rejected ") for ln in res.stderr.splitlines() if ln.strip())
    check(corpus, *stored_and_rejected(db))
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["articles"] and doc["rejections"]
    shown = storydesk_cli("show", "rejections", "--db", str(db))
    assert shown.returncode == 0 and "Traceback" not in shown.stderr
    first = shown.stdout.splitlines()[0]
    assert first.endswith("file(s)") and first.split()[0] == str(len(doc["rejections"]))


def test_reingest_of_a_generated_corpus_records_nothing_new(tmp_path):
    # needs the new store: idempotent rejections
    from storydesk.ingest import ingest
    from storydesk.store import open_store

    corpus = build_corpus(tmp_path / "in", GOOD_KINDS + BAD_KINDS, seed=3)
    store = open_store(tmp_path / "x.db")
    first = ingest(store, [corpus.root])
    n = len(store.rejections())
    again = ingest(store, [corpus.root])
    assert again.added == [] and len(again.skipped) == len(first.added) + len(first.skipped)
    assert len(store.rejections()) == n
    store.close()


# --------------------------------------------------------------------------- hypothesis: the REST API


@pytest.fixture(scope="module")
def api_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from storydesk.embed import HashingEmbedder
    from storydesk.web import create_app
    from test_web_api import TOKEN, LiveServer

    db = tmp_path_factory.mktemp("api") / "api.db"
    with LiveServer(create_app(db, token=TOKEN, embedder=HashingEmbedder(64), poll_seconds=0)) as srv:
        srv.db = db
        yield srv


@settings(max_examples=5, deadline=None, phases=PHASES, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kinds=st.lists(st.sampled_from(API_KINDS), min_size=1, max_size=10), seed=st.integers(0, 2**32 - 1))
def test_api_ingest_survives_generated_inputs(api_site, tmp_path_factory, kinds, seed):
    import httpx

    from test_web_api import TOKEN, wait_for_job

    tmp = tmp_path_factory.mktemp("fuzz-api")
    corpus = build_corpus(tmp / "in", [*kinds, "good_text"], seed, api_safe=True)
    files = []
    for dirpath, _dirs, names in os.walk(corpus.root):
        for name in names:
            path = Path(dirpath) / name
            files.append(("files", (name, path.read_bytes(), "application/octet-stream")))
    # the uploads land in one folder: their display paths lose the generator's sub-folder
    flat = Corpus(corpus.root, corpus.rng)
    flat.good = {t: w.split("/")[-1] for t, w in corpus.good.items()}
    flat.bad = [(s.split("/", 1)[-1], c) for s, c in corpus.bad]
    flat.unknown = [s.split("/", 1)[-1] for s in corpus.unknown]
    flat.bad_links = corpus.bad_links
    # and a JSON request of good and bad articles, each judged alone
    items: list[Any] = []
    for i in range(corpus.rng.randint(1, 8)):
        if corpus.rng.random() < 0.5:
            items.append(flat.good_record("api.json"))
        else:
            rec, code = flat.bad_record()
            items.append(rec)
            flat.expect_bad(f"api.json[{i}]", code)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    with httpx.Client(base_url=api_site.url, timeout=120) as c:
        r1 = c.post("/api/v1/ingest/files", files=files, headers=auth)
        assert r1.status_code == 202, r1.text
        body = json.dumps(items).encode("utf-8", "surrogatepass")
        r2 = c.post("/api/v1/ingest", content=body, headers={**auth, "Content-Type": "application/json"})
        assert r2.status_code == 202, r2.text
        jobs = [wait_for_job(c, r1.json()), wait_for_job(c, r2.json())]
    for job in jobs:
        assert job["status"] == "done", job  # one bad item fails that item, never the job
        assert "internal" not in json.dumps(job["report"])
    rejected = [
        type("R", (), {"source": x["source"], "code": x["code"], "reason": x["reason"]})
        for job in jobs
        for x in job["report"]["rejected"]
    ]
    articles, _all_rejections = stored_and_rejected(api_site.db)
    check(flat, articles, rejected)


def test_api_requests_with_hostile_queries_are_never_500(api_site):
    """Generated query strings (NUL, control characters, surrogates, huge numbers) on every read route."""
    import httpx

    routes = ["/", "/api/v1/stories", "/api/v1/events", "/api/v1/rejections", "/api/v1/export", "/api/v1/jobs"]

    @settings(max_examples=60, deadline=None, phases=PHASES)
    @given(
        route=st.sampled_from(routes),
        key=st.sampled_from(["q", "since", "until", "outlet", "order", "limit", "offset", "page", "event", "format"]),
        value=st.one_of(
            st.text(max_size=40),
            st.sampled_from(["\x00", "a\x00", "%00", '"', "NEAR(", "9" * 30, "-1", "2025-02-30", "0000-01-01"]),
        ),
    )
    def probe(route: str, key: str, value: str) -> None:
        from urllib.parse import quote

        raw = quote(value.encode("utf-8", "surrogatepass"), safe="")
        r = client.get(f"{route}?{key}={raw}")
        assert r.status_code < 500, (route, key, value, r.status_code, r.text[:300])

    with httpx.Client(base_url=api_site.url, timeout=60) as client:
        probe()


# --------------------------------------------------------------------------- crash safety


def test_sigkill_mid_ingest_loses_nothing_committed_and_a_rerun_completes(tmp_path):
    src = tmp_path / "in"
    rng = random.Random(5)
    n = 1500
    for i in range(n):
        (src / f"d{i // 300}").mkdir(parents=True, exist_ok=True)
        (src / f"d{i // 300}" / f"{i:05d}.txt").write_text(body(rng, f"tok{i:05d}"), encoding="utf-8")
    db = tmp_path / "k.db"
    env = {**os.environ, "PYTHONPATH": str(SRC) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "storydesk.cli", "ingest", str(src), "--db", str(db), "-q"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    seen = 0
    deadline = time.monotonic() + 120
    try:
        while seen < 100 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
            seen = _count(db)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    assert 0 < seen < n, f"the ingest was not caught mid-run ({seen} of {n})"
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()
    from storydesk.store import open_store

    store = open_store(str(db))
    before = set(store.article_ids())
    assert len(before) >= seen
    for aid in before:  # every committed article is whole: its sentences came with it
        a = store.get_article(aid)
        sents = store.sentences(aid)
        assert sents and all(a.text[s.start : s.end] == s.text for s in sents)
    store.close()
    res = storydesk_cli("ingest", str(src), "--db", str(db), "-q")
    assert res.returncode == 0, res.stderr[-2000:]
    store = open_store(str(db))
    after = set(store.article_ids())
    store.close()
    assert before <= after and len(after) == n


def _count(db: Path) -> int:
    """Articles committed so far, read by another connection (0 while the file is not there yet)."""
    if not db.exists():
        return 0
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
        try:
            return int(con.execute("SELECT count(*) FROM articles").fetchone()[0])
        finally:
            con.close()
    except sqlite3.Error:
        return 0


# --------------------------------------------------------------------------- the acceptance run


def acceptance(workdir: Path, bad: int, seed: int = 15) -> dict[str, Any]:
    """Generate, ingest with the real CLI, check, re-ingest; return the measurements."""
    t0 = time.monotonic()
    corpus = big_corpus(workdir / "in", bad, seed)
    made = time.monotonic() - t0
    db = workdir / "acceptance.db"
    t1 = time.monotonic()
    res = storydesk_cli("ingest", str(corpus.root), "--db", str(db), "-q", timeout=3600)
    took = time.monotonic() - t1
    out = res.stdout + res.stderr
    tracebacks = out.count("Traceback")
    counts = check(corpus, *stored_and_rejected(db))
    t2 = time.monotonic()
    again = storydesk_cli("ingest", str(corpus.root), "--db", str(db), timeout=3600)
    took_again = time.monotonic() - t2
    articles2, rejections2 = stored_and_rejected(db)
    files = sum(len(f) for _d, _s, f in os.walk(corpus.root))
    return {
        "files": files,
        "bad_inputs": corpus.bad_inputs,
        "good_articles": counts["good"],
        "stored_articles": counts["articles"],
        "rejections": counts["rejections"],
        "exit_code": res.returncode,
        "tracebacks": tracebacks + again.stderr.count("Traceback"),
        "generate_seconds": round(made, 1),
        "ingest_seconds": round(took, 1),
        "reingest_exit_code": again.returncode,
        "reingest_summary": (again.stderr.splitlines() or [""])[0],
        "reingest_seconds": round(took_again, 1),
        "articles_after_reingest": len(articles2),
        "rejections_after_reingest": len(rejections2),
    }


@pytest.mark.slow
def test_acceptance_10000_malformed_inputs(tmp_path):
    m = acceptance(tmp_path, 10_000)
    print(json.dumps(m, indent=2))
    assert m["tracebacks"] == 0 and m["exit_code"] == 3
    assert m["bad_inputs"] >= 10_000 and m["stored_articles"] >= m["good_articles"]
    assert m["articles_after_reingest"] == m["stored_articles"]  # re-ingest adds no article
    assert "ingested 0 new article(s)" in m["reingest_summary"]


def main() -> int:
    """``python tests/test_fuzz.py --bad 10000``: the acceptance run as a script."""
    import tempfile

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bad", type=int, default=10_000, help="malformed inputs to generate (default 10000)")
    ap.add_argument("--seed", type=int, default=15)
    ap.add_argument("--keep", type=Path, help="work here and keep the corpus and the database")
    a = ap.parse_args()
    sys.path.insert(0, str(SRC))
    if a.keep:
        a.keep.mkdir(parents=True, exist_ok=True)
        m = acceptance(a.keep, a.bad, a.seed)
    else:
        with tempfile.TemporaryDirectory() as d:
            m = acceptance(Path(d), a.bad, a.seed)
    print(json.dumps(m, indent=2))
    ok = m["tracebacks"] == 0 and m["exit_code"] == 3
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
