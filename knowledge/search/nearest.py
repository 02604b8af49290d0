"""Nearest example phrase: how close a question is to the way citizens ask for a procedure
(`knowledge.examples`), and to the ways they ask for what the knowledge base cannot answer.

Each phrase is parsed like a question (`search.query.parse`: repair, filler dropped, the
lexicon's official wording beside the colloquial one) into a vector of its terms — folded
syllables and two-syllable words, weighed by their query weight times idf; a syllable the index
lacks ("kiện", "luật sư") keeps a share of the maximum idf. Closeness is the cosine of two
vectors. The vectors are built once with the index; a question costs one vector and, per
candidate, a look at its own few phrases (never at all phrases of the KB); out-of-scope
phrases are reached through a small inverted index over their terms.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import NamedTuple

from knowledge.search.index import Index
from knowledge.search.query import Query, parse

__all__ = ["ExampleSet", "Vector", "vector"]


class Vector(NamedTuple):
    """Term → weight, and the vector's length."""

    terms: dict[str, float]
    norm: float


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
    return Vector(terms, norm)


def cosine(a: Vector, b: Vector) -> float:
    small, large = (a, b) if len(a.terms) <= len(b.terms) else (b, a)
    get = large.terms.get
    dot = 0.0
    for t, w in small.terms.items():
        v = get(t)
        if v is not None:
            dot += w * v
    return dot / (a.norm * b.norm)


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
            return phrase, vector(parse(phrase, index), index)

        self.docs: dict[int, tuple[tuple[str, Vector], ...]] = {
            d: tuple(v for v in map(vec, phrases) if v[1].terms)
            for d, phrases in by_doc.items()
            if phrases
        }
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

    def __bool__(self) -> bool:
        return bool(self.docs or self.oos)

    def nearest(self, q: Vector, doc: int) -> tuple[float, str]:
        """The cosine of the document's closest phrase to the question, and that phrase."""
        best, said = 0.0, ""
        for phrase, v in self.docs.get(doc, ()):
            c = cosine(q, v)
            if c > best:
                best, said = c, phrase
        return best, said

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
