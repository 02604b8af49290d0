"""Example phrases as ranking evidence (`knowledge.examples`): how close a question is to the
way citizens ask for each candidate procedure.

Two features per candidate (see `search.rank`):

- **nearest phrase**: each phrase is parsed like a question (`search.query.parse`: repair,
  filler dropped, the lexicon's official wording beside the colloquial one) into a vector of
  its terms — folded syllables and two-syllable words weighed by their query weight times idf;
  a syllable the index lacks ("kiện", "luật sư") keeps a share of the maximum idf. The feature
  is the cosine of the candidate's closest phrase (`kb search --explain` names it).
- **naive Bayes**: a procedure's phrases, name and keywords are its words; the question's
  content words and two-syllable words give each candidate a log-likelihood, and the posterior
  among the candidates (mean over the words, sharpened) is the feature.

Everything is built once with the index; a question costs one vector and, per candidate, one
lookup per question term in that candidate's own phrases (a small inverted index), and one
lookup per word (never a pass over all phrases of the KB).
The out-of-scope phrases are kept too, behind a small inverted index, only to show the closest
one in `--explain`: whether a question is out of scope is `search.scope`'s decision.
"""

from __future__ import annotations

import math
import sys
from array import array
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
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
        def vec(phrase: str) -> tuple[str, Vector]:
            v = vector(parse(phrase, index), index)
            return phrase, Vector({sys.intern(t): w for t, w in v.terms.items()}, v.norm)

        # a procedure's phrases, compact: a few thousand of them stay in memory with the index
        self.docs: dict[int, tuple[_Phrase, ...]] = {}
        self._within: dict[int, dict[str, tuple[tuple[int, float], ...]]] = {}
        for d, phrases in by_doc.items():
            kept = []
            for phrase, v in map(vec, phrases):
                if v.terms:
                    kept.append(
                        _Phrase(phrase, tuple(v.terms), array("f", v.terms.values()), v.norm)
                    )
            if kept:
                self.docs[d] = tuple(kept)
                # term → (phrase, weight) within the document: a question's dot product with
                # each phrase sums over the terms they share, not over every phrase's terms
                within: dict[str, list[tuple[int, float]]] = {}
                for i, stored in enumerate(kept):
                    for t, w in zip(stored.terms, stored.weights, strict=True):
                        within.setdefault(t, []).append((i, w))
                self._within[d] = {t: tuple(hits) for t, hits in within.items()}
        self.oos: list[tuple[str, str, Vector]] = []  # category, phrase, vector
        postings: dict[str, list[int]] = {}
        for category, phrases in out_of_scope.items():
            for phrase in phrases:
                _, v = vec(phrase)
                if not v.terms:
                    continue
                for t in v.terms:
                    postings.setdefault(t, []).append(len(self.oos))
                self.oos.append((category, phrase, v))
        self._oos_postings = {t: tuple(ids) for t, ids in postings.items()}
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

    def __bool__(self) -> bool:
        return bool(self.docs or self.oos)

    def nearest(self, q: Vector, doc: int) -> tuple[float, str]:
        """The cosine of the document's closest phrase to the question, and that phrase."""
        within = self._within.get(doc)
        if within is None:
            return 0.0, ""
        dots: dict[int, float] = {}
        for t, qw in q.terms.items():
            for i, w in within.get(t, ()):
                dots[i] = dots.get(i, 0.0) + qw * w
        best, said = 0.0, ""
        phrases = self.docs[doc]
        for i, dot in sorted(dots.items()):  # phrase order: the first of equals is named
            c = dot / (q.norm * phrases[i].norm)
            if c > best:
                best, said = c, phrases[i].text
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
        postings = self._oos_postings
        for t, w in q.terms.items():
            for i in postings.get(t, ()):
                dots[i] = dots.get(i, 0.0) + w * self.oos[i][2].terms[t]
        best, category, said = 0.0, "", ""
        for i, dot in dots.items():
            c = dot / (q.norm * self.oos[i][2].norm)
            if c > best:
                best, category, said = c, self.oos[i][0], self.oos[i][1]
        return best, category, said
