"""Intent detection: nearest neighbours over example utterances, plus a lexical signal.

Each intent's score blends (a) cosine similarity between the utterance and its
nearest examples in a sentence-embedding space and (b) an IDF-weighted word
overlap with all of its examples. Ids are replaced by the word for their kind
(``pay_8F3K`` -> "payment") before either signal, because an opaque id
carries meaning only through its prefix. Out-of-scope evidence comes from the
same nearest-neighbour search over a list of requests the agent should decline.
"""

from __future__ import annotations

import math
import re
import threading
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from cockpit.embeddings import Embedder
from cockpit.planner.example_vectors import example_vectors
from cockpit.planner.lexicon import ID_PREFIXES
from cockpit.planner.places import currencies_as_word
from cockpit.planner.shorthand import standard_spelling
from cockpit.planner.slots import MONEY_PATTERNS
from cockpit.planner.typos import Speller

_WORD = re.compile(r"[a-z0-9]+")
_IP = re.compile(
    r"(?<![\w.])\d{1,3}(?:\.\d{1,3}){3}(?![\w.])"
    r"|(?<![\w:])(?=[0-9a-f:]*::|(?:[0-9a-f]{1,4}:){3})(?:[0-9a-f]{0,4}:){2,7}[0-9a-f]{0,4}(?![\w:])",
    re.I,
)
_ID = re.compile(r"\b([A-Za-z][A-Za-z0-9]{0,7})_[A-Za-z0-9][A-Za-z0-9_-]*\b")
_STOP = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "of",
        "to",
        "for",
        "in",
        "on",
        "at",
        "by",
        "with",
        "from",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "it",
        "its",
        "this",
        "that",
        "these",
        "those",
        "i",
        "me",
        "my",
        "we",
        "our",
        "you",
        "your",
        "can",
        "could",
        "would",
        "should",
        "will",
        "please",
        "do",
        "does",
        "did",
        "have",
        "has",
        "had",
        "what",
        "which",
        "who",
        "how",
        "why",
        "when",
        "where",
        "there",
        "here",
        "any",
        "some",
        "just",
        "about",
        "tell",
        "show",
        "give",
        "get",
        "let",
        "know",
        "want",
        "need",
        "like",
        "up",
        "out",
        "so",
        "if",
        "than",
        "then",
        "as",
        "into",
        "over",
        "under",
    ]
)
_PREFIX_WORD = {p.rstrip("_"): noun for noun, prefixes in ID_PREFIXES.items() for p in prefixes}

#: Weight of the embedding signal; the rest is the lexical signal.
EMBEDDING_WEIGHT = 0.85


def normalise(text: str) -> str:
    """Lower-case, with ids replaced by their kind ("pay_8F3K" -> "payment"), sums of money by
    "amount", currencies by "currency", IP addresses by "ip address" and chat shorthand
    written out ("didnt go thru" -> "didn't go through")."""

    def kind(match: re.Match[str]) -> str:
        if not any(ch.isdigit() for ch in match.group(0)):
            return match.group(0)  # a code such as ALIPAY_CN, not an id
        return _PREFIX_WORD.get(match.group(1).lower(), "id")

    # Values are slots, not meaning: "1 PHP" and "25.00 SGD" read alike, as do any two IPs.
    text = _IP.sub("ip address", text)
    for money in MONEY_PATTERNS:
        text = money.sub("amount", text)
    # Which currency is a value too: "is the baht going to weaken" asks what "the euro" would.
    text = currencies_as_word(_ID.sub(kind, text))
    return standard_spelling(text).lower().strip()


def _stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def tokens(text: str) -> list[str]:
    return [_stem(w) for w in _WORD.findall(text.lower()) if w not in _STOP]


@dataclass(frozen=True, slots=True)
class IntentScore:
    """How well one intent matches an utterance (higher is better, 0..1)."""

    name: str
    score: float
    embedding: float
    lexical: float
    nearest: str


class IntentIndex:
    """Example utterances of each intent, embedded once, searched per turn."""

    def __init__(
        self,
        intents: Sequence[tuple[str, Sequence[str]]],
        *,
        embedder: Embedder,
        out_of_scope: Sequence[str] = (),
    ) -> None:
        self.embedder = embedder
        self.names = [name for name, _ in intents]
        self._labels: list[int] = []
        self._texts: list[str] = []
        for label, (_, examples) in enumerate(intents):
            for example in examples:
                self._labels.append(label)
                self._texts.append(example)
        self._oos = list(out_of_scope)
        all_texts = [normalise(t) for t in self._texts + self._oos]
        # Misspelt words of a query are read as the examples' words ("fite it" -> "fight it").
        self._speller = Speller(all_texts)
        vectors = (
            example_vectors(embedder, all_texts) if all_texts else np.zeros((0, 1), np.float32)
        )
        self._vectors = vectors[: len(self._texts)]
        self._oos_vectors = vectors[len(self._texts) :]
        self._label_array = np.asarray(self._labels, dtype=np.int64)
        # Lexical side: one bag of words per intent, IDF across intents.
        bags = [Counter[str]() for _ in self.names]
        for label, text in zip(self._labels, self._texts, strict=True):
            bags[label].update(set(tokens(normalise(text))))
        self._bags = bags
        df = Counter(word for bag in bags for word in bag)
        n = max(len(bags), 1)
        self._idf = {w: math.log(1 + n / c) for w, c in df.items()}
        self._max_idf = math.log(1 + n)

    def query(self, text: str) -> str:
        """``text`` as it is ranked: normalised, misspelt words corrected."""
        return self._speller.correct(normalise(text))

    def _lexical(self, query_tokens: list[str]) -> np.ndarray:
        scores = np.zeros(len(self.names), dtype=np.float64)
        if not query_tokens:
            return scores
        weights = [self._idf.get(w, self._max_idf) for w in query_tokens]
        total = sum(weights)
        for i, bag in enumerate(self._bags):
            hit = sum(wt for w, wt in zip(query_tokens, weights, strict=True) if w in bag)
            scores[i] = hit / total
        return scores

    def vectors(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """Embeddings of several utterances in one batch (one model call instead of one per
        text: the parts of a turn of several requests are ranked together)."""
        queries = list(dict.fromkeys(q for q in (self.query(t) for t in texts) if q))
        if not queries or not self.names:
            return {}
        return dict(zip(queries, self.embedder.embed(queries), strict=True))

    def rank(
        self, text: str, *, vectors: Mapping[str, np.ndarray] | None = None
    ) -> tuple[list[IntentScore], float]:
        """Intents best first, and the out-of-scope similarity of ``text`` (``vectors``: from
        :meth:`vectors`, used when they hold this text)."""
        query = self.query(text)
        if not self.names or not query:
            return [], 0.0
        known = vectors.get(query) if vectors is not None else None
        vector = known if known is not None else self.embedder.embed([query])[0]
        sims = self._vectors @ vector
        lexical = self._lexical(tokens(query))
        results: list[IntentScore] = []
        for label, name in enumerate(self.names):
            mine = sims[self._label_array == label]
            order = np.argsort(-mine)
            top = mine[order[:2]]
            # Nearest example dominates; the runner-up guards against one lucky example.
            emb = float(0.75 * top[0] + 0.25 * top[-1])
            nearest = self._texts[int(np.flatnonzero(self._label_array == label)[order[0]])]
            score = EMBEDDING_WEIGHT * emb + (1 - EMBEDDING_WEIGHT) * float(lexical[label])
            results.append(IntentScore(name, score, emb, float(lexical[label]), nearest))
        results.sort(key=lambda r: r.score, reverse=True)
        oos = float(np.max(self._oos_vectors @ vector)) if len(self._oos) else 0.0
        return results, oos


_CACHE: dict[tuple[object, ...], IntentIndex] = {}
_CACHE_LOCK = threading.Lock()
_CACHE_SIZE = 64


def cached_index(
    intents: Sequence[tuple[str, Sequence[str]]],
    *,
    embedder: Embedder,
    out_of_scope: Sequence[str] = (),
) -> IntentIndex:
    """An :class:`IntentIndex`, built once per (embedder, examples) in this process."""
    key = (
        embedder.name,
        id(embedder),
        tuple((n, tuple(e)) for n, e in intents),
        tuple(out_of_scope),
    )
    with _CACHE_LOCK:
        index = _CACHE.get(key)
    if index is None:
        index = IntentIndex(intents, embedder=embedder, out_of_scope=out_of_scope)
        with _CACHE_LOCK:
            if len(_CACHE) >= _CACHE_SIZE:
                _CACHE.pop(next(iter(_CACHE)))
            _CACHE[key] = index
    return index


__all__ = ["EMBEDDING_WEIGHT", "IntentIndex", "IntentScore", "cached_index", "normalise", "tokens"]
