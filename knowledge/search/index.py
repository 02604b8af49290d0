"""The inverted index over procedure records: BM25F postings, idf and the vocabulary.

Built once from the records (and the lexicon, whose phrases the query side also knows), then
only read. Terms are folded syllables ("dang"), two-syllable words ("dang ky") and, in a few
fields, accented syllables marked with "~" ("~đăng").
"""

from __future__ import annotations

import math
import sys
from array import array
from collections import Counter
from collections.abc import Iterator, KeysView, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from knowledge.lexicon import Lexicon, Pair
from knowledge.normalize import analyze
from knowledge.records import ProcedureRecord
from knowledge.search.config import SearchConfig
from knowledge.search.fillers import (
    FILLER_FOLDED_PAIRS,
    FILLER_FOLDED_WORDS,
    STOP_WORDS,
    is_stop_word,
)

if TYPE_CHECKING:
    import numpy as np

__all__ = ["Index", "Phrase", "Posting", "Postings"]


class Posting(NamedTuple):
    """The documents of one term, ascending, with the term's BM25F data in each."""

    ids: array[int]
    sat: array[float]  # saturated field-weighted tf: tf / (k1 + tf)
    # The strongest field holding the term, as a position in `Index.strengths` (one byte a
    # posting instead of a float: 10,000 procedures hold about two million postings).
    strength: array[int]


def _read_only_view(values: array[Any]) -> np.ndarray:
    """A numpy view (no copy) of an index array, read-only: the index is only ever read."""
    import numpy as np  # here: loading an index or asking `df` does not import it

    view = np.frombuffer(values, dtype=values.typecode)
    view.flags.writeable = False
    return view


class Postings(Mapping[str, Posting]):
    """Every term's postings in three flat arrays (term after term) and each term's span.

    A dict of a `Posting` per term was three small arrays a term (a hundred thousand objects
    for the bundled KB): unpickling them was a third of loading the kept index. Flat arrays
    load as three buffers; `span`, `views` and `Index.lookup_table` read them in place, and
    `[term]` slices out a `Posting` for the few callers that want one."""

    __slots__ = ("_slot", "_starts", "_strength_view", "_views", "ids", "sat", "strength")

    def __init__(self, lists: Mapping[str, Posting], id_type: str) -> None:
        self._views: tuple[np.ndarray, np.ndarray] | None = None
        self._strength_view: np.ndarray | None = None
        self._slot: dict[str, int] = {}
        self._starts = array("q", [0])
        self.ids: array[int] = array(id_type)
        self.sat: array[float] = array("f")
        self.strength: array[int] = array("B")
        for term, post in lists.items():
            self._slot[term] = len(self._slot)
            self.ids.extend(post.ids)
            self.sat.extend(post.sat)
            self.strength.extend(post.strength)
            self._starts.append(len(self.ids))

    def __getstate__(self) -> tuple[str, array[int], array[int], array[float], array[int]]:
        # the terms as one string: a dict of thousands of small keys unpickles slowly
        return "\n".join(self._slot), self._starts, self.ids, self.sat, self.strength

    def __setstate__(
        self, state: tuple[str, array[int], array[int], array[float], array[int]]
    ) -> None:
        terms, self._starts, self.ids, self.sat, self.strength = state
        self._slot = {t: i for i, t in enumerate(terms.split("\n"))} if terms else {}
        self._views = None
        self._strength_view = None

    def views(self) -> tuple[np.ndarray, np.ndarray]:
        """numpy views (no copy) of the flat `ids` and `sat` arrays, made on first use."""
        if self._views is None:
            self._views = (_read_only_view(self.ids), _read_only_view(self.sat))
        return self._views

    def strength_view(self) -> np.ndarray:
        """A numpy view (no copy) of the flat `strength` codes, made on first use."""
        if self._strength_view is None:
            self._strength_view = _read_only_view(self.strength)
        return self._strength_view

    def span(self, term: str) -> tuple[int, int] | None:
        """Where `term`'s postings lie in the flat arrays (start, end), or None."""
        i = self._slot.get(term)
        if i is None:
            return None
        return self._starts[i], self._starts[i + 1]

    def df(self, term: str) -> int:
        """How many documents hold `term` (0: none)."""
        i = self._slot.get(term)
        return 0 if i is None else self._starts[i + 1] - self._starts[i]

    def __getitem__(self, term: str) -> Posting:
        i = self._slot[term]
        a, b = self._starts[i], self._starts[i + 1]
        return Posting(self.ids[a:b], self.sat[a:b], self.strength[a:b])

    def __contains__(self, term: object) -> bool:
        return term in self._slot

    def __iter__(self) -> Iterator[str]:
        return iter(self._slot)

    def __len__(self) -> int:
        return len(self._slot)

    def keys(self) -> KeysView[str]:
        """The terms (a dict's view: `set & keys()` is a set)."""
        return self._slot.keys()


class Phrase(NamedTuple):
    """A name or keyword reduced to its content syllables and two-syllable words."""

    unigrams: tuple[str, ...]
    bigrams: tuple[str, ...]
    weights: tuple[float, ...]  # idf of each bigram (or of each unigram if no bigrams)
    total: float


# The content syllables and two-syllable words of a phrase, before they are weighed.
_Content = tuple[tuple[str, ...], tuple[str, ...]]


def _content(pairs: Sequence[Pair]) -> _Content:
    """The syllables and two-syllable words of a name or keyword, filler words left out."""
    keep = [not is_stop_word(f, a) for f, a in pairs]
    unigrams = tuple(dict.fromkeys(f for (f, _), k in zip(pairs, keep, strict=False) if k))
    # Interned: every document naming "đăng ký" shares one string (10,000 procedures hold
    # hundreds of thousands of these).
    bigrams = tuple(
        dict.fromkeys(
            sys.intern(f"{pairs[i][0]} {pairs[i + 1][0]}")
            for i in range(len(pairs) - 1)
            if keep[i] and keep[i + 1]
        )
    )
    return unigrams, bigrams


class Index:
    """Postings, idf and vocabulary of a sequence of records; document ids are positions."""

    def __init__(
        self,
        records: Sequence[ProcedureRecord],
        lexicon: Lexicon,
        config: SearchConfig,
        examples: Mapping[int, Sequence[str]] | None = None,
    ) -> None:
        """`examples`: document → its example phrases (`knowledge.examples`), indexed as the
        field "examples"."""
        self.config = config
        self.lexicon = lexicon
        self._build(records, examples or {})

    def _build(
        self, records: Sequence[ProcedureRecord], examples: Mapping[int, Sequence[str]]
    ) -> None:
        cfg = self.config
        b_of = dict(cfg.field_b)
        strength_of = dict(cfg.field_strength)
        bigrammed = frozenset(cfg.bigram_fields)
        accented = frozenset(cfg.accent_fields)
        limit = cfg.max_field_tokens
        # Strongest field first, so a term's first field is its best (for coverage).
        fields = sorted(
            ((name, w) for name, w in cfg.field_weights if w > 0),
            key=lambda nw: -strength_of.get(nw[0], 0.2),
        )

        # Two passes over the records, each document's terms built and dropped in turn: BM25F
        # needs every field's average length before any weight, and keeping every document's
        # term counts until then cost several times the finished index in resident memory
        # (freed small objects scattered among the kept ones are not given back to the system).
        # Tokenising twice costs a little build time; the kept index is all that stays.
        def field_terms(
            doc: int, rec: ProcedureRecord
        ) -> Iterator[tuple[int, str, list[Sequence[Pair]]]]:
            for slot, (fname, _) in enumerate(fields):
                if fname == "examples":
                    yield slot, fname, [analyze(e)[:limit] for e in examples.get(doc, ())]
                elif fname == "keywords":
                    yield slot, fname, [analyze(k)[:limit] for k in rec.keywords]
                else:
                    yield slot, fname, [analyze(getattr(rec, fname))[:limit]]

        # Pass 1: lengths, and what is kept per document (name words, name/keyword phrases).
        lengths: list[array[int]] = [array("i") for _ in fields]
        name_words: list[tuple[str, ...]] = []
        phrases: list[tuple[_Content, ...]] = []
        content_bigrams: set[str] = set()  # doc bigrams made of two non-filler words
        for doc, rec in enumerate(records):
            for slot, fname, chunks in field_terms(doc, rec):
                lengths[slot].append(sum(len(pairs) for pairs in chunks))
                if fname in accented and fname in bigrammed:
                    for pairs in chunks:
                        content_bigrams.update(
                            [
                                f"{f1} {f2}"
                                for (f1, a1), (f2, a2) in zip(pairs, pairs[1:], strict=False)
                                if a1 not in STOP_WORDS and a2 not in STOP_WORDS
                            ]
                        )
                if fname == "name":
                    name_words.append(tuple(dict.fromkeys(f for pairs in chunks for f, _ in pairs)))
                    phrases.append((_content(chunks[0]),))
                elif fname == "keywords":
                    phrases[-1] += tuple(_content(pairs) for pairs in chunks)

        # Pass 2: BM25F term weights per document, appended to each term's postings.
        n_docs = len(records)
        norms: list[tuple[float, float, float, float]] = []  # weight, b, avg length, strength
        for slot, (fname, weight) in enumerate(fields):
            total = sum(lengths[slot])
            # Example phrases may exist for a few procedures only (an admin's first ones):
            # their length is compared with the documents that have some.
            having = sum(1 for n in lengths[slot] if n) if fname == "examples" else n_docs
            avg = (total / having if having else 0.0) or 1.0
            norms.append((weight, b_of.get(fname, cfg.default_b), avg, strength_of.get(fname, 0.2)))
        k1 = cfg.k1
        # Document ids in two bytes while they fit (any province's KB), else four.
        id_type = "H" if n_docs <= 0xFFFF else "i"
        self.strengths = tuple(sorted({n[3] for n in norms}))
        code_of = {value: code for code, value in enumerate(self.strengths)}
        postings: dict[str, Posting] = {}
        for doc, rec in enumerate(records):
            tf: dict[str, float] = {}
            best: dict[str, int] = {}
            for slot, fname, chunks in field_terms(doc, rec):
                terms: list[str] = []
                for pairs in chunks:
                    folded = [f for f, _ in pairs]
                    terms += folded
                    if fname in accented:
                        terms += ["~" + a for f, a in pairs if a != f]
                    if fname in bigrammed and len(pairs) > 1:
                        terms += [f"{a} {b}" for a, b in zip(folded, folded[1:], strict=False)]
                if not terms:
                    continue
                weight, b, avg, strength = norms[slot]
                norm = weight / (1.0 - b + b * lengths[slot][doc] / avg)
                for term, count in Counter(terms).items():
                    tf[term] = tf.get(term, 0.0) + count * norm
                    if term not in best:
                        best[term] = code_of[strength]  # fields go strongest first
            for term, value in tf.items():
                post = postings.get(term)
                if post is None:
                    post = postings[term] = Posting(array(id_type), array("f"), array("B"))
                post.ids.append(doc)
                post.sat.append(value / (k1 + value))
                post.strength.append(best[term])

        self.idf: dict[str, float] = {
            t: math.log(1.0 + (n_docs - len(p.ids) + 0.5) / (len(p.ids) + 0.5))
            for t, p in postings.items()
        }
        self.max_idf = math.log(1.0 + (n_docs + 0.5) / 0.5)
        self.accent_strength = min(
            (strength_of.get(f, 0.2) for f in accented if f in dict(fields)), default=1.0
        )
        unknown = self.max_idf * cfg.unknown_weight
        self.name_words: list[dict[str, float]] = [
            {t: self.idf.get(t, unknown) for t in words} for words in name_words
        ]
        self.name_totals = [sum(w.values()) or 1.0 for w in self.name_words]
        self.content_bigrams = frozenset(content_bigrams)
        self.phrases = [tuple(self._weigh(uni, bi) for uni, bi in doc if uni) for doc in phrases]
        vocab = sorted(t for t in postings if " " not in t and not t.startswith("~"))
        self.vocab = frozenset(vocab)
        self.vocab_list = vocab
        neighbours: dict[str, set[str]] = {}
        for term in postings:
            if " " in term:
                left, right = term.split(" ", 1)
                neighbours.setdefault(">" + left, set()).add(right)
                neighbours.setdefault("<" + right, set()).add(left)
        self.neighbours = {k: tuple(sorted(v)) for k, v in neighbours.items()}
        # Words and pairs the query side knows besides the index: lexicon phrases and filler.
        extra_words: set[str] = set(FILLER_FOLDED_WORDS)
        extra_pairs: set[str] = set(FILLER_FOLDED_PAIRS)
        for entry in self.lexicon:
            extra_words.update(entry.key)
            extra_pairs.update(f"{a} {b}" for a, b in zip(entry.key, entry.key[1:], strict=False))
        self.extra_words = frozenset(extra_words - self.vocab)
        self.extra_pairs = frozenset(extra_pairs)
        self.word_list = sorted(self.vocab | self.extra_words)
        self.accents = frozenset({a for e in self.lexicon for a in e.accented} | set(STOP_WORDS))
        heads: dict[str, tuple[array[int], array[float]]] = {}
        for term, post in postings.items():
            if len(post.ids) > cfg.head_size:
                order = sorted(range(len(post.ids)), key=post.sat.__getitem__, reverse=True)
                top = sorted(order[: cfg.head_size])
                heads[term] = (
                    array("i", [post.ids[j] for j in top]),
                    array("f", [post.sat[j] for j in top]),
                )
        self.heads = heads
        self.postings = Postings(postings, id_type)

    def _weigh(self, unigrams: tuple[str, ...], bigrams: tuple[str, ...]) -> Phrase:
        unknown = self.max_idf * self.config.unknown_weight
        weights = tuple(self.idf.get(t, unknown) for t in bigrams or unigrams)
        return Phrase(unigrams, bigrams, weights, sum(weights) or 1.0)

    # ------------------------------------------------------------------ lookups
    def known(self, folded: str) -> bool:
        """A syllable some document contains."""
        return folded in self.vocab

    def is_bigram(self, left: str, right: str) -> bool:
        """A two-syllable word some document contains."""
        return f"{left} {right}" in self.postings

    def is_word(self, folded: str) -> bool:
        """A syllable the index, the lexicon or the filler lists know."""
        return folded in self.vocab or folded in self.extra_words

    def is_pair(self, left: str, right: str) -> bool:
        """Two syllables the index, the lexicon or the filler lists know side by side."""
        pair = f"{left} {right}"
        return pair in self.postings or pair in self.extra_pairs

    def df(self, term: str) -> int:
        """How many documents contain `term`."""
        return self.postings.df(term)

    def idf_of(self, term: str) -> float:
        """The idf of `term`; a term no document has weighs a share of the maximum."""
        return self.idf.get(term, self.max_idf * self.config.unknown_weight)

    def heads_of(self, term: str) -> tuple[np.ndarray, np.ndarray]:
        """A known term's highest-impact postings (all of them if few), as numpy arrays of
        document ids and saturated tf (float32, as stored)."""
        head = self.heads.get(term)
        if head is not None:
            return _read_only_view(head[0]), _read_only_view(head[1])
        a, b = self.postings.span(term) or (0, 0)
        all_ids, all_sat = self.postings.views()
        return all_ids[a:b], all_sat[a:b]

    def lookup_table(
        self, terms: Sequence[str], docs: Sequence[int]
    ) -> tuple[np.ndarray, np.ndarray]:
        """The saturated tf and the field strength of each of `terms` in each of `docs`, as two
        float64 arrays of a row per term and a column per document (0 where the document lacks
        the term): one binary search of all the documents per term, in numpy, so that the
        ranking's features are computed a term at a time over every candidate."""
        import numpy as np

        sat = np.zeros((len(terms), len(docs)))
        strength = np.zeros((len(terms), len(docs)))
        if not docs:
            return sat, strength
        span = self.postings.span
        all_ids, all_sat = self.postings.views()
        all_strength = self.postings.strength_view()
        strengths = np.array(self.strengths, dtype=np.float64)  # a handful of values
        # in the postings' own type (documents are positions, they fit it): searchsorted
        # would otherwise convert each term's whole slice to the wider type first
        fits = max(docs) <= np.iinfo(all_ids.dtype).max and min(docs) >= 0
        wanted = np.array(docs, dtype=all_ids.dtype if fits else np.int64)
        for row, term in enumerate(terms):
            where = span(term)
            if where is None:
                continue
            a, b = where
            ids = all_ids[a:b]
            at = ids.searchsorted(wanted)
            np.minimum(at, b - a - 1, out=at)  # past the end: compared with the last id
            hit = ids[at] == wanted
            at = at[hit] + a
            sat[row, hit] = all_sat[at]
            strength[row, hit] = strengths[all_strength[at]]
        return sat, strength
