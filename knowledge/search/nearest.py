"""Example phrases as ranking evidence (`knowledge.examples`): how close a question is to the
way citizens ask for each candidate procedure.

Two features per candidate (see `search.rank`; the first is only shown by `explain` since the
logistic model, `search.model`, came: ranking on it added nothing, and its vectors are built
on first use):

- **nearest phrase**: each phrase is parsed like a question (`search.query.parse`: repair,
  filler dropped, the lexicon's official wording beside the colloquial one) into a vector of
  its terms — folded syllables and two-syllable words weighed by their query weight times idf;
  a syllable the index lacks ("kiện", "luật sư") keeps a share of the maximum idf. The feature
  is the cosine of the candidate's closest phrase (`kb search --explain` names it).
- **naive Bayes**: a procedure's phrases, name and keywords are its words; the question's
  content words and two-syllable words give each candidate a log-likelihood, and the posterior
  among the candidates (mean over the words, sharpened) is the feature.

The naive Bayes counts are built with the index, the phrase vectors on first use; a question
costs one vector and, per candidate, one lookup per word (and, in `explain`, a look at its own
few phrases: never a pass over all phrases of the KB).
The out-of-scope phrases are kept too, behind a small inverted index, only to show the closest
one in `--explain`: whether a question is out of scope is `search.scope`'s decision.
"""

from __future__ import annotations

import math
import sys
from array import array
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from functools import cached_property
from typing import NamedTuple

from knowledge.lexicon import Pair
from knowledge.normalize import analyze
from knowledge.search.fillers import is_stop_word
from knowledge.search.index import Index
from knowledge.search.query import Query, parse

_ALPHA = 0.1  # additive smoothing of the naive Bayes word counts

__all__ = ["ExampleSet", "Vector", "vector"]


class Vector(NamedTuple):
    """Term → weight, and the vector's length; `words`: the content syllables and
    two-syllable words of the question as typed (repaired), for the naive Bayes score."""

    terms: dict[str, float]
    norm: float
    words: tuple[str, ...] = ()


def content_words(pairs: Sequence[Pair]) -> list[str]:
    """Folded content syllables (filler left out) and the two-syllable words they form."""
    words = [f for f, a in pairs if f.isalpha() and not is_stop_word(f, a)]
    return words + [f"{a} {b}" for a, b in zip(words, words[1:], strict=False)]


def vector(q: Query, index: Index) -> Vector:
    """The vector of a parsed question or phrase; the story around the asking clause weighs
    less (`Query.focus`)."""
    idf = index.idf
    unknown = index.max_idf * index.config.unknown_weight
    focus = q.focus
    terms: dict[str, float] = {}
    for t, w in q.terms.items():
        if t[0] == "~":
            continue  # the accented form typed: the folded term already says the word
        terms[t] = w * idf.get(t, unknown) * focus.get(t, 1.0)
    for (f, _), content in zip(q.pairs, q.content, strict=False):
        if content and f not in terms and f.isalpha() and not index.known(f):
            terms["?" + f] = unknown
    norm = math.sqrt(sum(v * v for v in terms.values())) or 1.0
    return Vector(terms, norm, tuple(content_words(q.pairs)))


class _Phrase(NamedTuple):
    """A stored phrase: its text, terms and their weights, and the vector's length."""

    text: str
    terms: tuple[str, ...]
    weights: array[float]
    norm: float


class ExampleSet:
    """The phrases of a knowledge base as vectors: per document, and per out-of-scope
    category."""

    def __init__(
        self,
        index: Index,
        by_doc: Mapping[int, Sequence[str]],
        out_of_scope: Mapping[str, Sequence[str]],
    ) -> None:
        self._index = index
        self._by_doc = by_doc
        self._out_of_scope = out_of_scope
        self._has = any(by_doc.values()) or any(out_of_scope.values())
        # Naive Bayes over the documents with phrases: each document's phrases, name and
        # keywords are its words; log P(word | document), and the log-probability of a word
        # the document never says.
        counts: dict[int, Counter[str]] = {}
        for d, phrases in by_doc.items():
            if not phrases:
                continue
            c = counts[d] = Counter()
            for phrase in phrases:
                c.update(content_words(analyze(phrase)))
            for ph in index.phrases[d]:
                c.update(ph.unigrams)
                c.update(ph.bigrams)
        vocab = set().union(*(set(c) for c in counts.values())) if counts else set()
        self.nb_vocab = frozenset(vocab)
        self._nb: dict[int, tuple[dict[str, float], float]] = {}
        for d, c in counts.items():
            total = sum(c.values()) + _ALPHA * len(vocab)
            self._nb[d] = (
                {w: math.log((n + _ALPHA) / total) for w, n in c.items()},
                math.log(_ALPHA / total),
            )

    @cached_property
    def _vectors(
        self,
    ) -> tuple[
        dict[int, tuple[_Phrase, ...]], list[tuple[str, str, Vector]], dict[str, tuple[int, ...]]
    ]:
        """The phrases parsed like questions, as vectors: built on first use (`kb search
        --explain`), since parsing thousands of phrases costs more than the rest of the
        index and the ranking no longer needs them (the logistic model, `search.model`,
        does what the nearest phrase's cosine did)."""
        index = self._index

        def vec(phrase: str) -> tuple[str, Vector]:
            v = vector(parse(phrase, index), index)
            return phrase, Vector({sys.intern(t): w for t, w in v.terms.items()}, v.norm)

        docs: dict[int, tuple[_Phrase, ...]] = {}
        for d, phrases in self._by_doc.items():
            kept = []
            for phrase, v in map(vec, phrases):
                if v.terms:
                    kept.append(
                        _Phrase(phrase, tuple(v.terms), array("f", v.terms.values()), v.norm)
                    )
            if kept:
                docs[d] = tuple(kept)
        oos: list[tuple[str, str, Vector]] = []  # category, phrase, vector
        postings: dict[str, list[int]] = {}
        for category, phrases in self._out_of_scope.items():
            for phrase in phrases:
                _, v = vec(phrase)
                if not v.terms:
                    continue
                for t in v.terms:
                    postings.setdefault(t, []).append(len(oos))
                oos.append((category, phrase, v))
        return docs, oos, {t: tuple(ids) for t, ids in postings.items()}

    @property
    def docs(self) -> dict[int, tuple[_Phrase, ...]]:
        """Each document's phrases as vectors."""
        return self._vectors[0]

    def __bool__(self) -> bool:
        return self._has

    def nearest(self, q: Vector, doc: int) -> tuple[float, str]:
        """The cosine of the document's closest phrase to the question, and that phrase."""
        best, said = 0.0, ""
        get = q.terms.get
        for phrase in self.docs.get(doc, ()):
            dot = sum(w * get(t, 0.0) for t, w in zip(phrase.terms, phrase.weights, strict=True))
            c = dot / (q.norm * phrase.norm)
            if c > best:
                best, said = c, phrase.text
        return best, said

    def likelihoods(self, q: Vector, docs: Iterable[int]) -> tuple[dict[int, float], int]:
        """Naive Bayes log-likelihood of the question's words for each of `docs` that has
        phrases (others are left out), and how many words it is over."""
        words = [w for w in q.words if w in self.nb_vocab]
        out: dict[int, float] = {}
        if not words:
            return out, 0
        for d in docs:
            model = self._nb.get(d)
            if model is None:
                continue
            logp, unseen = model
            get = logp.get
            out[d] = sum(get(w, unseen) for w in words)
        return out, len(words)

    def nearest_oos(self, q: Vector) -> tuple[float, str, str]:
        """The closest out-of-scope phrase: cosine, category, phrase (0, "", "" if none)."""
        dots: dict[int, float] = {}
        _, oos, postings = self._vectors
        for t, w in q.terms.items():
            for i in postings.get(t, ()):
                dots[i] = dots.get(i, 0.0) + w * oos[i][2].terms[t]
        best, category, said = 0.0, "", ""
        for i, dot in dots.items():
            c = dot / (q.norm * oos[i][2].norm)
            if c > best:
                best, category, said = c, oos[i][0], oos[i][1]
        return best, category, said
