"""Measurement of the near-duplicate threshold (``storydesk.corpus.dedup``, ``Config.dedup_threshold``).

No near-duplicate gold set exists in ../shared/datasets, so this script builds one:

* **Originals**: ``--articles`` Timeline17 articles with at least ``--min-words``
  words, sampled with a fixed ``--seed``. T17 has no headlines and one paragraph
  per article, so each original gets a pseudo-headline (longer words of its first
  sentence) and its sentences are grouped into paragraphs of three.
* **Positives**: one syndicated copy per original and per kind of edit an outlet
  makes when it republishes wire copy: a new headline; 1-20 % of the words
  replaced, inserted or deleted at random places; the last paragraph dropped or a
  paragraph trimmed to its first sentence; a boilerplate line added; a
  dateline/credit prefix; the text cut to 80/70/60 % at a sentence end; and all of
  headline + 3 % edits + dateline + boilerplate + last paragraph dropped together.
* **Hard negatives**: distinct articles about the same story: every pair of T17
  articles (same ``--min-words``) of one topic folder published within
  ``--window-days`` of each other, and the three pairs of each NeuS event (one
  story told by three outlets; title + lead snippets only, so few shingles).

Every text goes through the ingest cleaning (``storydesk.ingest.build_article``),
as the stored articles the dedup step reads do, and is then signed with
``storydesk.article.signature.minhash`` (the article map's signature). A pair
counts as a duplicate at threshold *t* when it would in the corpus step's
``storydesk.corpus.dedup.DedupIndex``: ``lsh.query`` of an index built for
``min(LSH_THRESHOLD, t)`` returns the partner and ``MinHash.jaccard`` >= *t*.
The script reports recall per kind of edit, the false-positive rate of each
negative set (also without the pairs whose exact shingle Jaccard is >= 0.8,
which are listed for inspection: T17 contains real reposts of the same wire text),
F1 over the pooled pairs, the MinHash estimate error against the exact Jaccard of
the shingle sets, and LSH candidate recall (also for the indexes of other
``--lsh-alt`` thresholds). Finally a small store is ingested through
``storydesk.api.Storydesk`` with only the signature stage and the dedup step
(``stages=[SignatureStage(), DEDUP]``, at each ``--e2e-thresholds`` value) to check
end to end that copies point at the earliest published original and keep their
own outlet.

Run: ``.venv/bin/python bench/dedup.py --e2e-thresholds 0.7 0.6`` (``--help`` for
options; about 8 minutes on 2 cores, most of it cleaning ~27,000 texts; a quick
check: ``--articles 50 --negatives 500 --e2e 10``). Results are printed as tables
and written as JSON (``--out``, default a new temp directory); nothing is written
into the checkout. docs/benchmarks.md records the figures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from datasketch import MinHash, MinHashLSH

import storydesk.corpus.dedup as dedup_mod
from storydesk import artifacts as A
from storydesk.api import Storydesk
from storydesk.article.analyze import SignatureStage
from storydesk.article.signature import NUM_PERM, minhash, shingles
from storydesk.config import Config
from storydesk.corpus.dedup import LSH_THRESHOLD
from storydesk.errors import RejectedInput
from storydesk.eval import dataset_path
from storydesk.ingest import RawItem, build_article
from storydesk.models import Article
from storydesk.pipeline import DEDUP
from storydesk.textutil import sentence_texts, words

THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.9)
#: Finer grid for the F1 scan (all >= LSH_THRESHOLD, so one LSH index serves them all).
SCAN = (0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9)
#: Exact Jaccard from which a "negative" pair is treated as a probable real copy.
REAL_COPY = 0.8
KINDS = (
    "headline",
    "edit_1",
    "edit_3",
    "edit_5",
    "edit_10",
    "edit_20",
    "drop_last_para",
    "trim_para",
    "boilerplate",
    "dateline",
    "truncate_80",
    "truncate_70",
    "truncate_60",
    "combined",
)
BOILERPLATE = (
    "Follow us on Twitter and Facebook for the latest news.",
    "(With inputs from agencies)",
    "Copyright 2011 The Evening Ledger. All rights reserved.",
    "Click here to sign up for our daily newsletter.",
    "Read more: the full story on our website.",
)
AGENCIES = ("Northwire", "Greyline Wire", "Capital Press Agency", "Meridian News")
PLACES = ("CAIRO", "LONDON", "WASHINGTON", "TRIPOLI", "BEIRUT", "NEW ORLEANS")
MONTHS = ("Jan", "Feb", "March", "April", "May", "June", "July", "Aug", "Sept", "Oct", "Nov", "Dec")


# --------------------------------------------------------------------------- data


@dataclass
class Doc:
    """One text to sign: raw fields, the cleaned article, its signature and shingles."""

    key: str
    title: str | None
    text: str
    published: dt.date | None = None
    outlet: str | None = None
    article: Article | None = None
    sig: MinHash | None = None
    sh: set[bytes] = field(default_factory=set)
    raw_sig: MinHash | None = None
    raw_sh: set[bytes] = field(default_factory=set)


def load_jsonl(path: Path) -> list[dict[str, Any]]:
    """All records of a JSON Lines file."""
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def paragraphs_of(text: str, per: int = 3) -> list[list[str]]:
    """Sentences grouped into paragraphs of ``per`` (T17 texts have no paragraph breaks)."""
    sents = sentence_texts(text)
    return [sents[i : i + per] for i in range(0, len(sents), per)]


def join(paras: Sequence[Sequence[str]]) -> str:
    """Paragraphs of sentences -> text with blank lines between paragraphs."""
    return "\n\n".join(" ".join(p) for p in paras if p)


def headline(sentence: str) -> str:
    """A headline-like string: the first eight longer words of a sentence."""
    picked = [w for w in words(sentence) if len(w) > 3][:8]
    return " ".join(w[:1].upper() + w[1:] for w in picked)


def edit_words(paras: list[list[str]], rate: float, rng: random.Random) -> list[list[str]]:
    """Replace, insert or delete ``rate`` of the words at random places (replacements from the article)."""
    toks = [(pi, s.split()) for pi, p in enumerate(paras) for s in p]
    flat = [(si, wi) for si, (_pi, ws) in enumerate(toks) for wi in range(len(ws))]
    vocab = [w for _pi, ws in toks for w in ws]
    n = max(1, round(rate * len(flat)))
    ops: dict[tuple[int, int], str] = {pos: rng.choice(("replace", "insert", "delete")) for pos in rng.sample(flat, n)}
    out_sents: list[tuple[int, list[str]]] = []
    for si, (pi, ws) in enumerate(toks):
        new: list[str] = []
        for wi, w in enumerate(ws):
            op = ops.get((si, wi))
            if op == "replace":
                new.append(rng.choice(vocab))
            elif op == "insert":
                new.extend([w, rng.choice(vocab)])
            elif op is None:
                new.append(w)
        out_sents.append((pi, new))
    out: list[list[str]] = [[] for _ in paras]
    for pi, ws in out_sents:
        if ws:
            out[pi].append(" ".join(ws))
    return [p for p in out if p]


def truncate(paras: list[list[str]], frac: float) -> list[list[str]]:
    """The leading sentences holding ``frac`` of the words (cut at a sentence end)."""
    total = sum(len(s.split()) for p in paras for s in p)
    out: list[list[str]] = []
    kept = 0
    for p in paras:
        cur: list[str] = []
        for s in p:
            if kept >= frac * total:
                break
            cur.append(s)
            kept += len(s.split())
        if cur:
            out.append(cur)
        if kept >= frac * total:
            break
    return out


def dateline(paras: list[list[str]], published: dt.date | None, agency: str, rng: random.Random) -> list[list[str]]:
    """Prefix the first paragraph with a wire dateline and credit ("CAIRO, Jan 25 (Northwire) - ")."""
    d = published or dt.date(2011, 1, 1)
    prefix = f"{rng.choice(PLACES)}, {MONTHS[d.month - 1]} {d.day} ({agency}) - "
    first = [prefix + paras[0][0], *paras[0][1:]]
    return [first, *paras[1:]]


def make_copy(
    kind: str, title: str, paras: list[list[str]], published: dt.date | None, agency: str, rng: random.Random
) -> tuple[str, list[list[str]]]:
    """One syndicated copy of an original: (headline, paragraphs)."""
    sents = [x for p in paras for x in p]
    new_title = headline(rng.choice(sents[1:]) if len(sents) > 1 else sents[0])
    if kind == "headline":
        return new_title, paras
    if kind.startswith("edit_"):
        return title, edit_words(paras, int(kind[5:]) / 100, rng)
    if kind == "drop_last_para":
        return title, paras[:-1] if len(paras) > 1 else paras
    if kind == "trim_para":
        idx = [i for i, p in enumerate(paras) if i > 0 and len(p) > 1] or [0]
        i = rng.choice(idx)
        return title, [p[:1] if j == i else p for j, p in enumerate(paras)]
    if kind == "boilerplate":
        return title, [*paras, [rng.choice(BOILERPLATE)]]
    if kind == "dateline":
        return title, dateline(paras, published, agency, rng)
    if kind.startswith("truncate_"):
        return title, truncate(paras, int(kind[9:]) / 100)
    if kind == "combined":
        body = edit_words(paras[:-1] if len(paras) > 1 else paras, 0.03, rng)
        return new_title, [*dateline(body, published, agency, rng), [rng.choice(BOILERPLATE)]]
    raise ValueError(f"unknown kind {kind!r}")


def sign(docs: Iterable[Doc], k: int) -> list[tuple[str, str]]:
    """Clean each doc as ingest does, then compute its signature and shingle sets (cleaned and raw).

    Returns:
        (key, reason) of the docs ingest would reject; they are left unsigned.
    """
    rejected: list[tuple[str, str]] = []
    for d in docs:
        item = RawItem(
            source=d.key,
            key=d.key,
            format="jsonl",
            raw_sha256="",
            text=d.text,
            title=d.title,
            outlet=d.outlet,
            published=d.published,
            published_source="metadata" if d.published else "unknown",
            detect_title=False,
        )
        try:
            d.article, _sents = build_article(item)
        except RejectedInput as r:
            rejected.append((d.key, f"{r.code}: {r.reason}"))
            continue
        d.sig = minhash(d.article, k)
        d.sh = shingles(f"{d.article.title or ''}\n{d.article.text}", k)
        raw = Article(id=d.key, source=d.key, text=d.text, title=d.title)
        d.raw_sig = minhash(raw, k)
        d.raw_sh = shingles(f"{raw.title or ''}\n{raw.text}", k)
    return rejected


def exact_jaccard(a: set[bytes], b: set[bytes]) -> float:
    """Jaccard of two shingle sets."""
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


# --------------------------------------------------------------------------- pairs


@dataclass
class Pair:
    """A scored pair: MinHash estimate, exact Jaccard, LSH candidate flag."""

    a: str
    b: str
    label: str  # kind of copy, or the negative set's name
    positive: bool
    est: float
    exact: float
    candidate: bool


def candidates(docs: Sequence[Doc], threshold: float, raw: bool = False) -> dict[str, set[str]]:
    """Key -> keys ``lsh.query`` returns for it, over an index holding all ``docs``."""
    lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
    for d in docs:
        lsh.insert(d.key, d.raw_sig if raw else d.sig)
    return {d.key: set(lsh.query(d.raw_sig if raw else d.sig)) for d in docs}


def score_pairs(
    pairs: Iterable[tuple[str, str, str, bool]], docs: dict[str, Doc], cand: dict[str, set[str]], raw: bool = False
) -> list[Pair]:
    """MinHash estimate, exact Jaccard and LSH candidacy of each (a, b, label, positive)."""
    out = []
    for a, b, label, pos in pairs:
        da, db = docs[a], docs[b]
        sa, sb = (da.raw_sig, db.raw_sig) if raw else (da.sig, db.sig)
        assert sa is not None and sb is not None
        est = float(sa.jaccard(sb))
        exact = exact_jaccard(da.raw_sh, db.raw_sh) if raw else exact_jaccard(da.sh, db.sh)
        out.append(Pair(a, b, label, pos, est, exact, b in cand[a]))
    return out


def flagged(p: Pair, t: float) -> bool:
    """Whether the dedup step would mark the pair at threshold ``t`` (LSH candidate and estimate >= t)."""
    return p.candidate and p.est >= t


def rate(pairs: Sequence[Pair], t: float) -> float:
    """Fraction of pairs flagged at ``t``."""
    return sum(flagged(p, t) for p in pairs) / len(pairs) if pairs else float("nan")


def f1(pos: Sequence[Pair], neg: Sequence[Pair], t: float) -> dict[str, float]:
    """Precision, recall and F1 over the pooled pairs at ``t``."""
    tp = sum(flagged(p, t) for p in pos)
    fp = sum(flagged(p, t) for p in neg)
    prec = tp / (tp + fp) if tp + fp else 1.0
    rec = tp / len(pos)
    return {"precision": prec, "recall": rec, "f1": 2 * prec * rec / (prec + rec) if prec + rec else 0.0, "fp": fp}


# --------------------------------------------------------------------------- end to end


def end_to_end(
    originals: Sequence[Doc], seed: int, out: Path, k: int, threshold: float, lsh: float | None = None
) -> dict[str, Any]:
    """Ingest originals and copies through Storydesk (signature stage and dedup step only); check copies and outlets.

    Each original gets an agency outlet; its copies other outlets, published a day
    later, except the dateline copy, published the same day and crediting the
    agency. Copies are written before their originals so that ingest order alone
    cannot make the original come first. The store runs with ``dedup_threshold``
    set to ``threshold``; the same seed gives the same copies for every threshold.
    ``lsh`` overrides ``storydesk.corpus.dedup.LSH_THRESHOLD`` for this run only (to
    try another banding end to end; the dedup index lives in this process).
    """
    rng = random.Random(seed)
    kinds = ("headline", "edit_3", "boilerplate", "dateline", "truncate_60", "combined")
    copies: list[dict[str, Any]] = []
    origs: list[dict[str, Any]] = []
    expect: dict[str, tuple[str, str]] = {}  # copy id -> (original id, kind)
    for n, o in enumerate(originals):
        agency = AGENCIES[n % len(AGENCIES)]
        paras = paragraphs_of(o.text)
        title = headline(paras[0][0])
        oid = f"e2e/{n}/original"
        assert o.published is not None
        origs.append(
            {"id": oid, "outlet": agency, "title": title, "published": o.published.isoformat(), "text": join(paras)}
        )
        for j, kind in enumerate(kinds):
            t, body = make_copy(kind, title, paras, o.published, agency, rng)
            day = o.published if kind == "dateline" else o.published + dt.timedelta(days=1)
            cid = f"e2e/{n}/{kind}"
            copies.append(
                {"id": cid, "outlet": f"Daily Outlet {j}", "title": t, "published": day.isoformat(), "text": join(body)}
            )
            expect[cid] = (oid, kind)
    path = out / "e2e.jsonl"
    with path.open("w", encoding="utf-8") as fh:
        for rec in copies + origs:
            fh.write(json.dumps(rec) + "\n")
    sent_outlet = {r["id"]: r["outlet"] for r in copies + origs}
    db = out / f"e2e-{threshold}-{lsh}.db"
    if db.exists():
        db.unlink()
    cfg = Config(dedup_threshold=threshold)
    saved = dedup_mod.LSH_THRESHOLD
    t0 = time.perf_counter()
    try:
        if lsh is not None:
            dedup_mod.LSH_THRESHOLD = lsh
        with Storydesk(db, config=cfg, stages=[SignatureStage(), DEDUP], workers=1) as sd:
            rep = sd.ingest([path])
            if not rep.ok:
                raise SystemExit(f"end-to-end ingest rejected inputs: {rep.as_dict()['rejected']}")
            stats = sd.build()
            arts = {a.id: a for a in sd.store.articles()}
            src = {a.id: a.source for a in arts.values()}  # JSON Lines records keep their own id as source
            dup = {k2: d["duplicate_of"] for k2, d in sd.store.get(A.DUPLICATE, sd.store.article_ids()).items()}
            by_src = {s: aid for aid, s in src.items()}
            sigs = {aid: minhash(a, k) for aid, a in arts.items()}
    finally:
        dedup_mod.LSH_THRESHOLD = saved
    elapsed = time.perf_counter() - t0
    per_kind: dict[str, dict[str, int]] = defaultdict(lambda: {"copies": 0, "marked": 0, "expected": 0, "via_copy": 0})
    wrong: list[dict[str, Any]] = []
    outlets_kept = sum(arts[aid].outlet == sent_outlet[s] for aid, s in src.items())
    originals_clean = sum(dup.get(by_src[r["id"]]) is None for r in origs)
    for cid, (oid, kind) in expect.items():
        aid, orig = by_src[cid], by_src[oid]
        est = float(sigs[aid].jaccard(sigs[orig]))
        got = dup.get(aid)
        pk = per_kind[kind]
        pk["copies"] += 1
        pk["marked"] += got == orig
        pk["expected"] += est >= cfg.dedup_threshold
        pk["via_copy"] += got == orig and est < cfg.dedup_threshold
        if got not in (None, orig):
            wrong.append({"copy": cid, "points_at": src.get(got, got), "estimate": round(est, 3)})
    return {
        "threshold": threshold,
        "lsh_threshold": min(lsh if lsh is not None else saved, threshold),
        "originals": len(origs),
        "copies": len(copies),
        "articles_stored": len(arts),
        "build": stats,
        "seconds": round(elapsed, 2),
        "per_kind": dict(per_kind),
        "copies_pointing_elsewhere": wrong,
        "outlets_kept": outlets_kept,
        "originals_unmarked": originals_clean,
        "db": str(db),
    }


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    """Build the pairs, score them and print the tables."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--articles", type=int, default=1000, help="originals sampled from Timeline17 (default 1000)")
    ap.add_argument("--min-words", type=int, default=120, help="shortest T17 article used (default 120 words)")
    ap.add_argument("--seed", type=int, default=17, help="random seed (default 17)")
    ap.add_argument("--window-days", type=int, default=2, help="T17 negatives: largest publication gap (default 2)")
    ap.add_argument("--e2e", type=int, default=40, help="originals in the end-to-end store check (default 40; 0 skips)")
    ap.add_argument(
        "--e2e-thresholds",
        type=float,
        nargs="*",
        default=None,
        help="dedup_threshold values of the end-to-end stores (default: the configured one)",
    )
    ap.add_argument(
        "--e2e-lsh", type=float, default=None, help="LSH_THRESHOLD of the end-to-end stores (default: the module's)"
    )
    ap.add_argument("--top", type=int, default=15, help="highest-Jaccard negatives listed (default 15)")
    ap.add_argument(
        "--negatives",
        type=int,
        default=None,
        help="hard-negative pairs sampled per set, for a quick run (default: all, ~45,000 pairs)",
    )
    ap.add_argument(
        "--lsh-alt",
        type=float,
        nargs="*",
        default=[0.3, 0.4],
        help="other LSH thresholds whose candidate recall is also reported (default 0.3 0.4)",
    )
    ap.add_argument("--out", type=Path, default=None, help="directory for dedup.json and the e2e store (default: temp)")
    args = ap.parse_args(argv)

    out = args.out or Path(tempfile.mkdtemp(prefix="storydesk-dedup-"))
    out.mkdir(parents=True, exist_ok=True)
    cfg = Config()
    k = cfg.dedup_shingle
    rng = random.Random(args.seed)
    t_start = time.perf_counter()
    res: dict[str, Any] = {
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "processor": platform.processor() or platform.machine(),
            "load_average_before": [round(x, 2) for x in os.getloadavg()],
        },
        "settings": {
            "articles": args.articles,
            "min_words": args.min_words,
            "seed": args.seed,
            "window_days": args.window_days,
            "shingle": k,
            "num_perm": NUM_PERM,
            "lsh_threshold": LSH_THRESHOLD,
            "dedup_threshold": cfg.dedup_threshold,
        },
    }

    # originals and their copies
    t17 = [
        r for r in load_jsonl(dataset_path("timeline17") / "articles.jsonl") if len(words(r["text"])) >= args.min_words
    ]
    t17.sort(key=lambda r: r["id"])
    sample = rng.sample(t17, min(args.articles, len(t17)))
    pos_docs: dict[str, Doc] = {}
    pos_pairs: list[tuple[str, str, str, bool]] = []
    for n, r in enumerate(sample):
        paras = paragraphs_of(r["text"])
        title = headline(paras[0][0])
        pub = dt.date.fromisoformat(r["published"]) if r["published"] else None
        okey = f"orig:{r['id']}"
        pos_docs[okey] = Doc(okey, title, join(paras), pub)
        agency = AGENCIES[n % len(AGENCIES)]
        for kind in KINDS:
            new_title, body = make_copy(kind, title, paras, pub, agency, rng)
            ckey = f"copy:{kind}:{r['id']}"
            pos_docs[ckey] = Doc(ckey, new_title, join(body), pub)
            pos_pairs.append((ckey, okey, kind, True))

    # hard negatives: same T17 topic folder within the window; NeuS triples
    t17_docs = {
        f"t17:{r['id']}": Doc(
            f"t17:{r['id']}",
            None,
            join(paragraphs_of(r["text"])),
            dt.date.fromisoformat(r["published"]) if r["published"] else None,
        )
        for r in t17
    }
    by_topic: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in t17:
        by_topic[r["gold"]["topic"]].append(r)
    t17_pairs: list[tuple[str, str, str, bool]] = []
    for rows in by_topic.values():
        for i, ra in enumerate(rows):
            da = t17_docs[f"t17:{ra['id']}"].published
            for rb in rows[i + 1 :]:
                db_ = t17_docs[f"t17:{rb['id']}"].published
                if da and db_ and abs((da - db_).days) <= args.window_days:
                    t17_pairs.append((f"t17:{ra['id']}", f"t17:{rb['id']}", "t17_same_topic", False))
    neus = [r for r in load_jsonl(dataset_path("neus") / "articles.jsonl") if r["text"].strip() or r["title"]]
    neus_docs = {f"neus:{r['id']}": Doc(f"neus:{r['id']}", r["title"], r["text"], None) for r in neus}
    by_event: dict[str, list[str]] = defaultdict(list)
    for r in neus:
        by_event[r["gold"]["event"]].append(f"neus:{r['id']}")
    neus_pairs = [
        (a, b, "neus_same_event", False)
        for keys in by_event.values()
        for i, a in enumerate(keys)
        for b in keys[i + 1 :]
    ]

    if args.negatives is not None:
        # a quick run: a sample of each negative set, and only the texts those pairs need signed
        neg_rng = random.Random(args.seed)
        t17_pairs = neg_rng.sample(t17_pairs, min(args.negatives, len(t17_pairs)))
        neus_pairs = neg_rng.sample(neus_pairs, min(args.negatives, len(neus_pairs)))
        keep = {x for p in (*t17_pairs, *neus_pairs) for x in p[:2]}
        t17_docs = {key: d for key, d in t17_docs.items() if key in keep}
        neus_docs = {key: d for key, d in neus_docs.items() if key in keep}
    res["settings"]["negatives"] = args.negatives

    t0 = time.perf_counter()
    rejected = sign([*pos_docs.values(), *t17_docs.values(), *neus_docs.values()], k)
    res["sign_seconds"] = round(time.perf_counter() - t0, 1)
    res["rejected_by_ingest"] = rejected
    gone = {key for key, _r in rejected}
    # a pair with a text ingest would refuse never reaches the dedup stage
    pos_pairs = [p for p in pos_pairs if p[0] not in gone and p[1] not in gone]
    t17_pairs = [p for p in t17_pairs if p[0] not in gone and p[1] not in gone]
    neus_pairs = [p for p in neus_pairs if p[0] not in gone and p[1] not in gone]
    for docs in (pos_docs, t17_docs, neus_docs):
        for key in gone & docs.keys():
            del docs[key]

    lsh_t = min(LSH_THRESHOLD, cfg.dedup_threshold, min(SCAN))
    sets: dict[str, list[Pair]] = {}
    raw_sets: dict[str, list[Pair]] = {}
    for name, docs, pairs in (
        ("positives", pos_docs, pos_pairs),
        ("t17_same_topic", t17_docs, t17_pairs),
        ("neus_same_event", neus_docs, neus_pairs),
    ):
        sets[name] = score_pairs(pairs, docs, candidates(list(docs.values()), lsh_t))
        raw_sets[name] = score_pairs(pairs, docs, candidates(list(docs.values()), lsh_t, raw=True), raw=True)
    pos = sets["positives"]
    negs = {n: sets[n] for n in ("t17_same_topic", "neus_same_event")}
    all_neg = [p for ps in negs.values() for p in ps]
    neg_clean = [p for p in all_neg if p.exact < REAL_COPY]

    # recall per kind, FP per negative set
    by_kind: dict[str, list[Pair]] = defaultdict(list)
    for p in pos:
        by_kind[p.label].append(p)
    raw_by_kind: dict[str, list[Pair]] = defaultdict(list)
    for p in raw_sets["positives"]:
        raw_by_kind[p.label].append(p)
    res["recall"] = {
        kind: {
            "pairs": len(ps),
            "mean_exact_jaccard": round(statistics.fmean(p.exact for p in ps), 3),
            "mean_estimate": round(statistics.fmean(p.est for p in ps), 3),
            "by_threshold": {str(t): round(rate(ps, t), 4) for t in SCAN},
            "raw_text_by_threshold": {str(t): round(rate(raw_by_kind[kind], t), 4) for t in SCAN},
        }
        for kind, ps in by_kind.items()
    }
    res["recall"]["all"] = {"pairs": len(pos), "by_threshold": {str(t): round(rate(pos, t), 4) for t in SCAN}}

    def shingle_stats(docs: dict[str, Doc]) -> dict[str, float]:
        """Median and mean shingles per document."""
        counts = [len(d.sh) for d in docs.values()]
        return {"median": statistics.median(counts), "mean": round(statistics.fmean(counts), 1), "min": min(counts)}

    res["negatives"] = {}
    for name, ps in negs.items():
        clean = [p for p in ps if p.exact < REAL_COPY]
        res["negatives"][name] = {
            "pairs": len(ps),
            "pairs_exact_ge_0.8": len(ps) - len(clean),
            "fp_rate": {str(t): round(rate(ps, t), 5) for t in SCAN},
            "fp_count": {str(t): sum(flagged(p, t) for p in ps) for t in SCAN},
            "fp_rate_without_real_copies": {str(t): round(rate(clean, t), 5) for t in SCAN},
            "fp_count_without_real_copies": {str(t): sum(flagged(p, t) for p in clean) for t in SCAN},
        }
    res["shingles_per_doc"] = {
        "originals": shingle_stats({k2: d for k2, d in pos_docs.items() if k2.startswith("orig:")}),
        "t17": shingle_stats(t17_docs),
        "neus": shingle_stats(neus_docs),
    }
    res["f1"] = {
        "all_negatives": {str(t): {k2: round(v, 4) for k2, v in f1(pos, all_neg, t).items()} for t in SCAN},
        "without_real_copies": {str(t): {k2: round(v, 4) for k2, v in f1(pos, neg_clean, t).items()} for t in SCAN},
    }

    # highest-Jaccard negatives, for a reader to judge
    every = {**pos_docs, **t17_docs, **neus_docs}
    top = sorted(all_neg, key=lambda p: -p.est)[: args.top]
    res["top_negatives"] = [
        {
            "a": p.a,
            "b": p.b,
            "set": p.label,
            "estimate": round(p.est, 3),
            "exact": round(p.exact, 3),
            "shingles": [len(every[p.a].sh), len(every[p.b].sh)],
            "lsh_candidate": p.candidate,
            "published": [str(every[p.a].published), str(every[p.b].published)],
            "a_text": every[p.a].text[:80],
            "b_text": every[p.b].text[:80],
        }
        for p in top
    ]

    # estimate error and LSH candidate recall
    scored = [*pos, *all_neg]
    errs = sorted(abs(p.est - p.exact) for p in scored)
    band = [abs(p.est - p.exact) for p in scored if 0.6 <= p.exact <= 0.8]
    res["estimate_error"] = {
        "pairs": len(errs),
        "mean_abs": round(statistics.fmean(errs), 4),
        "p95_abs": round(errs[int(0.95 * (len(errs) - 1))], 4),
        "max_abs": round(errs[-1], 4),
        "mean_abs_exact_0.6_to_0.8": round(statistics.fmean(band), 4) if band else None,
        "pairs_exact_0.6_to_0.8": len(band),
        "mean_signed": round(statistics.fmean(p.est - p.exact for p in scored), 4),
    }
    lsh_rec: dict[str, Any] = {}
    for t in SCAN:
        above = [p for p in scored if p.est >= t]
        above_exact = [p for p in scored if p.exact >= t]
        lsh_rec[str(t)] = {
            "pairs_estimate_ge_t": len(above),
            "missed_by_lsh": sum(not p.candidate for p in above),
            "pairs_exact_ge_t": len(above_exact),
            "exact_ge_t_missed_by_lsh": sum(not p.candidate for p in above_exact),
            "exact_ge_t_not_flagged": sum(not flagged(p, t) for p in above_exact),
        }
    res["lsh"] = {"threshold": lsh_t, "candidate_recall": lsh_rec, "alternatives": {}}
    named = (("positives", pos_docs), ("t17_same_topic", t17_docs), ("neus_same_event", neus_docs))
    for alt in args.lsh_alt:
        missed = dict.fromkeys(map(str, SCAN), 0)
        for name, docs in named:
            cand = candidates(list(docs.values()), alt)
            for p in sets[name]:
                for t in SCAN:
                    missed[str(t)] += p.est >= t and p.b not in cand[p.a]
        probe = MinHashLSH(threshold=alt, num_perm=NUM_PERM)
        res["lsh"]["alternatives"][str(alt)] = {"bands": probe.b, "rows": probe.r, "missed_estimate_ge_t": missed}

    if args.e2e:
        firsts = pos_docs_originals(pos_docs, args.e2e)
        res["end_to_end"] = [
            end_to_end(firsts, args.seed, out, k, t, args.e2e_lsh)
            for t in (args.e2e_thresholds or [cfg.dedup_threshold])
        ]
    res["seconds"] = round(time.perf_counter() - t_start, 1)
    res["machine"]["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    (out / "dedup.json").write_text(json.dumps(res, indent=2), encoding="utf-8")
    report(res)
    print(f"\nJSON: {out / 'dedup.json'}")
    return 0


def pos_docs_originals(pos_docs: dict[str, Doc], n: int) -> list[Doc]:
    """The first ``n`` sampled originals."""
    return [d for key, d in pos_docs.items() if key.startswith("orig:")][:n]


def report(res: dict[str, Any]) -> None:
    """Print the tables."""
    m, s = res["machine"], res["settings"]
    print(f"Python {m['python']}, {m['cpus']} CPUs, load average before {m['load_average_before']}")
    print(
        f"{s['articles']} originals (>= {s['min_words']} words, seed {s['seed']}), {s['shingle']}-word shingles, "
        f"NUM_PERM {s['num_perm']}, LSH built for {res['lsh']['threshold']}, current threshold {s['dedup_threshold']}"
    )
    ths = [str(t) for t in THRESHOLDS]
    print("\nRecall per kind of copy (LSH candidate and estimate >= t; cleaned text as stored)")
    print(f"{'kind':<16} {'pairs':>5} {'J exact':>7} " + " ".join(f"{t:>6}" for t in ths) + "   raw@0.7")
    for kind, r in res["recall"].items():
        jx = f"{r['mean_exact_jaccard']:.3f}" if "mean_exact_jaccard" in r else ""
        raw = f"{r['raw_text_by_threshold']['0.7']:.3f}" if "raw_text_by_threshold" in r else ""
        vals = " ".join(f"{r['by_threshold'][t]:>6.3f}" for t in ths)
        print(f"{kind:<16} {r['pairs']:>5} {jx:>7} {vals}   {raw:>7}")
    print("\nFalse-positive rate of hard negatives (count in parentheses)")
    for name, r in res["negatives"].items():
        print(f"{name:<16} {r['pairs']:>6} " + " ".join(f"{r['fp_rate'][t]:.4f}({r['fp_count'][t]})" for t in ths))
        print(
            f"{'  exact < 0.8':<16} {r['pairs'] - r['pairs_exact_ge_0.8']:>6} "
            + " ".join(
                f"{r['fp_rate_without_real_copies'][t]:.4f}({r['fp_count_without_real_copies'][t]})" for t in ths
            )
        )
    print(f"shingles per document: {res['shingles_per_doc']}")
    print("\nPooled precision / recall / F1 (negatives with exact J >= 0.8 removed)")
    for t, r in res["f1"]["without_real_copies"].items():
        a = res["f1"]["all_negatives"][t]
        print(
            f"t={t:<5} P {r['precision']:.4f} R {r['recall']:.4f} F1 {r['f1']:.4f} FP {r['fp']:<4} "
            f"| all negatives: P {a['precision']:.4f} F1 {a['f1']:.4f} FP {a['fp']}"
        )
    print("\nHighest-estimate negatives")
    for p in res["top_negatives"]:
        print(f"{p['estimate']:.3f} (exact {p['exact']:.3f}, shingles {p['shingles']}, {p['published']})", end=" ")
        print(p["a"], p["b"])
        print(f"    a: {p['a_text']!r}\n    b: {p['b_text']!r}")
    e = res["estimate_error"]
    print(
        f"\nMinHash estimate vs exact Jaccard over {e['pairs']} pairs: mean abs {e['mean_abs']}, p95 {e['p95_abs']}, "
        f"max {e['max_abs']}, mean signed {e['mean_signed']}; exact in [0.6, 0.8]: mean abs "
        f"{e['mean_abs_exact_0.6_to_0.8']} ({e['pairs_exact_0.6_to_0.8']} pairs)"
    )
    print(f"LSH (built for {res['lsh']['threshold']}) candidate recall:")
    for t, r in res["lsh"]["candidate_recall"].items():
        print(
            f"  t={t:<5} estimate >= t: {r['pairs_estimate_ge_t']} pairs, {r['missed_by_lsh']} missed; "
            f"exact >= t: {r['pairs_exact_ge_t']} pairs, {r['exact_ge_t_missed_by_lsh']} missed by LSH, "
            f"{r['exact_ge_t_not_flagged']} not flagged"
        )
    for alt, r in res["lsh"]["alternatives"].items():
        line = ", ".join(f"t={t}: {n}" for t, n in r["missed_estimate_ge_t"].items())
        print(f"  LSH built for {alt} ({r['bands']} bands x {r['rows']} rows) would miss: {line}")
    for e2 in res.get("end_to_end", []):
        print(
            f"\nEnd to end at threshold {e2['threshold']}, LSH built for {e2['lsh_threshold']} (Storydesk + "
            f"signature + dedup, {e2['originals']} originals, {e2['copies']} copies, {e2['seconds']} s): outlets kept "
            f"{e2['outlets_kept']}/{e2['articles_stored']}, originals unmarked {e2['originals_unmarked']}/"
            f"{e2['originals']}, copies pointing elsewhere {len(e2['copies_pointing_elsewhere'])}"
        )
        for kind, r in e2["per_kind"].items():
            print(
                f"  {kind:<14} marked {r['marked']}/{r['copies']} (estimate against the original >= threshold: "
                f"{r['expected']}; reached through another copy: {r['via_copy']})"
            )
    print(f"\ntotal {res['seconds']} s, signing {res['sign_seconds']} s, load average after {m['load_average_after']}")


if __name__ == "__main__":
    sys.exit(main())
