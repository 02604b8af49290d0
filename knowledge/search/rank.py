"""Score candidates for a parsed query: BM25F, interpretable features, logistic confidence.

Steps 5-6 of the pipeline in `knowledge.search`: candidates come from an approximate BM25F
within a postings budget, the best are scored exactly, and each gets the features (phrase,
coverage, bigrams, name, bm25) that a logistic model turns into a confidence in 0..1.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from knowledge.search.index import Index
from knowledge.search.nearest import ExampleSet, Vector
from knowledge.search.query import Query

if TYPE_CHECKING:
    import numpy as np

__all__ = ["Scored", "rank"]


@dataclass(frozen=True, slots=True)
class Scored:
    """A candidate document: its confidence, its ranking score and the features behind them."""

    doc: int
    confidence: float
    rank: float
    features: dict[str, float]


def _coverage(q: Query, index: Index, rows: Mapping[str, np.ndarray], n: int) -> np.ndarray:
    """How much of the query each of `n` documents answers: the sum, over the query's units in
    their order, of the unit's weight times how well the document answers it (0..1). `rows`:
    each term's field strength in each document (a term missing from `rows`: 0 in all)."""
    import numpy as np

    cfg = index.config
    zero = np.zeros(n)
    idf = index.idf.get
    unknown = index.max_idf * cfg.unknown_weight
    total = np.zeros(n)
    for unit in q.units:
        best = np.zeros(n)
        if unit.concept:
            for form in unit.forms:
                got = np.zeros(n)
                want = 0.0
                for term, _ in form:
                    w = idf(term, unknown)
                    got += w * rows.get(term, zero)
                    want += w
                if want:
                    np.maximum(best, got / want, out=best)
            # A concept is said or not: half of its words is much less than half an answer.
            # Python's own power, not numpy's: numpy squares, which rounds differently from
            # the C library's pow in about one case in a thousand, and a rank must not depend
            # on which of the two computed it.
            best = np.array([v**cfg.concept_power for v in best.tolist()])
        else:
            for j, (term, w) in enumerate(unit.forms[0]):
                strength = rows.get(term, zero)
                if j == 0 and unit.accent:
                    # the diacritics the user typed differ from the document's: less credit
                    strength = np.where(
                        strength >= index.accent_strength,
                        np.maximum(rows.get(unit.accent, zero), cfg.accent_mismatch * strength),
                        strength,
                    )
                np.maximum(best, w * strength, out=best)
            words = [rows.get(t, zero) for t in unit.words if t]
            if unit.words:
                # found, but is it the same word? a syllable the query used inside a
                # two-syllable word counts fully only when the doc has that word too
                in_word = np.maximum.reduce(words) if words else zero
                best = np.where(best != 0.0, np.maximum(in_word, best * cfg.isolated), best)
        total += unit.weight * best
    return total


def _bigram_cover(q: Query, rows: Mapping[str, np.ndarray], n: int) -> np.ndarray:
    """The weighted sum, over the query's adjacent pairs, of each of `n` documents' strongest
    option for the pair (see `_coverage` for `rows`)."""
    import numpy as np

    zero = np.zeros(n)
    total = np.zeros(n)
    for options, bw in zip(q.bigrams, q.bigram_weights, strict=True):
        best = None
        for t, w in options:
            got = w * rows.get(t, zero)
            best = got if best is None else np.maximum(best, got)
        total += bw * (best if best is not None else zero)
    return total


def _phrase_cover(doc: int, q: Query, index: Index) -> float:
    """Best share of one of the doc's name/keyword phrases that the query says."""
    best = 0.0
    focus = q.focus  # a phrase said only in the story counts for less (absent: weighs 1)
    terms, words = q.terms, q.words
    for phrase in index.phrases[doc]:
        # most phrases share nothing with the question: their share is 0, never the best
        if phrase.bigrams:
            said, share_of = phrase.bigrams, 1.0
            if terms.keys().isdisjoint(said):
                continue
            have: set[str] | dict[str, float] = terms
        else:
            said, share_of = phrase.unigrams, 0.7
            if words.isdisjoint(said):
                continue
            have = words
        got = 0.0
        for t, w in zip(said, phrase.weights, strict=True):
            if t in have:
                got += w * focus.get(t, 1.0)
        share = share_of * got / phrase.total  # 1.0 * got is got to the bit
        if share > best:
            best = share
    return best


def rank(
    q: Query,
    index: Index,
    prior: Mapping[int, float] | None = None,
    rest: Query | None = None,
    examples: ExampleSet | None = None,
    qvec: Vector | None = None,
    model: Mapping[int, float] | None = None,
    model_weight: float = 1.0,
) -> list[Scored]:
    """The best candidates for `q`, highest rank first (ties: lowest document id).

    `prior` (document → 0..1) comes from the life events the question describes: those
    documents are always candidates, and their prior is one more feature. `rest` is the
    question without the words that told the situation: what it names besides. `examples`
    and `qvec` (the question's vector): how close each candidate's nearest example phrase is.
    `model`: P(document | question) of the phrases' logistic regression (`search.model`),
    whose terms weigh `model_weight` times their configured weights."""
    cfg = index.config
    postings = index.postings
    idf = index.idf
    prior = prior or {}
    rank_model = cfg.rank_model * model_weight
    conf_model = cfg.conf_model * model_weight
    weights = {t: w * idf[t] for t, w in q.terms.items() if t in postings}
    if not weights and not prior:
        return []
    # Candidates from an approximate score within a budget of postings read: rare terms
    # first and in full, common terms through their highest-impact head, if budget remains.
    # The scores add up in numpy over one slot per document (`bincount` adds each posting's
    # product to its document's slot in the order given, term after term): the same float64
    # products and sums in the same term order as a dict of Python floats, without a Python
    # step per posting (10,000 procedures: thousands of postings a query).
    import numpy as np  # here, not at the top: commands that never search skip the import

    read: list[tuple[np.ndarray, np.ndarray]] = []
    read_weights: list[float] = []
    budget = cfg.posting_budget
    for term in sorted(weights, key=lambda t: (postings.df(t), t)):
        ids, sats = index.heads_of(term)  # a term lists a document once
        if budget < len(ids) and read:
            break
        budget -= len(ids)
        read.append((ids, sats))
        read_weights.append(weights[term])
    approx: np.ndarray = np.zeros(len(index.name_words))
    touched = np.zeros(len(approx), dtype=bool)
    if read:  # none when only a told situation brings candidates
        read_ids = np.concatenate([ids for ids, _ in read])
        products = np.repeat(read_weights, [len(ids) for ids, _ in read]) * np.concatenate(
            [sats for _, sats in read]
        ).astype(np.float64)
        approx = np.bincount(read_ids, weights=products, minlength=len(approx))
        touched[read_ids] = True
    candidates = np.flatnonzero(touched)  # ascending ids
    scores = approx[candidates]
    size = cfg.candidates * 2
    if len(candidates) > size:
        cut = np.partition(scores, len(scores) - size)[len(scores) - size]  # size-th largest
        chosen: list[int] = candidates[scores > cut].tolist()
        ties = candidates[scores == cut].tolist()  # lowest ids first: deterministic
        chosen.extend(ties[: size - len(chosen)])
    else:
        chosen = candidates.tolist()
    # every procedure of a told situation is a candidate, however far the words ranked it
    taken = set(chosen)
    chosen.extend(d for d in prior if d not in taken)
    # The terms the exact pass and the features read.
    needed: set[str] = set(weights)
    for unit in q.units:
        for form in unit.forms:
            needed.update(t for t, _ in form)
        needed.update(unit.words)
        if unit.accent:
            needed.add(unit.accent)
    for options in q.bigrams:
        needed.update(t for t, _ in options)
    needed_terms = sorted(needed & postings.keys())  # fixed order: sums are reproducible
    # Exact BM25F of the chosen documents, a term at a time over all of them: in numpy, the
    # same float64 products added in the same term order as a plain sum per document. A
    # document lacking a term adds w * 0.0: x + 0.0 is x for every x but -0.0, and the
    # total starts at +0.0 and only grows, so that is the sum that skips the term.
    sats, strengths = index.lookup_table(needed_terms, chosen)
    bm25s = np.zeros(len(chosen))
    for row, term in enumerate(needed_terms):
        if term in weights:
            bm25s += weights[term] * sats[row]
    order = np.lexsort((np.array(chosen), -bm25s)).tolist()  # best first, ties: lowest id
    at = order[: cfg.candidates]
    at.extend(k for k in order[cfg.candidates :] if chosen[k] in prior)
    pool = [chosen[k] for k in at]
    pool_bm25: list[float] = bm25s[at].tolist()
    top_bm25 = pool_bm25[0] or 1.0
    total_weight = sum(u.weight for u in q.units) or 1.0
    # each needed term's field strength in each pool document (0 where the document lacks
    # it); a term no document has is absent from `rows` and reads as 0
    table = strengths[:, at]
    rows = {term: table[row] for row, term in enumerate(needed_terms)}
    covers = _coverage(q, index, rows, len(pool)) / total_weight
    if q.bigrams:
        bigram_covers = _bigram_cover(q, rows, len(pool)) / (sum(q.bigram_weights) or 1.0)
    else:
        bigram_covers = covers

    # A life event speaks for a procedure only as much as the question does not name another
    # one: "bố mất rồi, giờ xóa đăng ký thường trú cho bố" asks for the procedure it names.
    phrases = {d: _phrase_cover(d, q, index) for d in pool}
    # "mới chào đời" tells a birth; its "đời" must not also count as naming "cấp đổi …"
    naming = {d: _phrase_cover(d, rest, index) for d in phrases} if rest is not None else phrases
    top_two = heapq.nlargest(2, naming.items(), key=lambda kv: (kv[1], -kv[0]))
    # The nearest example phrase of each candidate, and its naive Bayes posterior.
    near: dict[int, float] = {}
    posterior: dict[int, float] = {}
    if examples and qvec is not None:
        if cfg.rank_example or cfg.conf_example:
            near = {d: examples.nearest(qvec, d)[0] for d in phrases}
        # naive Bayes posterior among the candidates that have phrases
        loglik, words = examples.likelihoods(qvec, phrases)
        if loglik:
            top = max(loglik.values())
            sharp = cfg.bayes_sharpness / words  # the mean over the words, sharpened
            odds = {d: math.exp((v - top) * sharp) for d, v in loglik.items()}
            # ... and only as much as the candidates have phrases at all: where an admin gave
            # phrases to a few procedures, those few must not outrank the rest by having them
            mass = sum(odds.values()) * len(phrases) / len(odds)
            posterior = {d: v / mass for d, v in odds.items()}
    # The logistic model's probability, only as much as the candidates have phrases (as the
    # naive Bayes posterior above).
    learnt: dict[int, float] = {}
    top_p = 1.0
    if model:
        known = sum(1 for d in phrases if d in model)
        learnt = {d: model[d] * known / len(phrases) for d in phrases if d in model}
        top_p = max(model.values()) if cfg.model_relative else 1.0
    results: list[Scored] = []
    for d, bm25, coverage, bigram_cover in zip(
        pool, pool_bm25, covers.tolist(), bigram_covers.tolist(), strict=True
    ):
        name = index.name_words[d]
        name_cover = sum(w for t, w in name.items() if t in q.words) / index.name_totals[d]
        relative = bm25 / top_bm25
        phrase_cover = phrases[d]
        example = near.get(d, 0.0)
        bayes = posterior.get(d, 0.0)
        learn = learnt.get(d, 0.0)
        event = prior.get(d, 0.0)
        if event:
            # a fifth of a name said by chance is noise; from there on, the more another
            # procedure is named, the less the situation speaks
            named_other = next((v for k, v in top_two if k != d), 0.0)
            event *= 1.0 - min(1.0, max(0.0, (named_other - 0.2) / 0.8))
        logit = (
            cfg.conf_bias
            + cfg.conf_phrase * phrase_cover
            + cfg.conf_coverage * coverage
            + cfg.conf_bigrams * bigram_cover
            + cfg.conf_name * name_cover
            + cfg.conf_bm25 * math.log1p(bm25 / index.max_idf)
            + cfg.conf_event * event
            + cfg.conf_example * max(0.0, example - cfg.example_floor) / (1.0 - cfg.example_floor)
            + cfg.conf_bayes * max(0.0, bayes - cfg.bayes_floor) / (1.0 - cfg.bayes_floor)
            + conf_model * max(0.0, learn - cfg.model_floor) / (1.0 - cfg.model_floor)
        )
        confidence = 1.0 / (1.0 + math.exp(-logit))
        # The usual first step of a situation the question tells (and names nothing else):
        # "vợ mới đẻ được 10 ngày" needs a birth registration however few words it shares.
        confidence = max(confidence, cfg.event_confidence * min(1.0, event))
        # rank on the logit: near-certain candidates still differ in their evidence
        rank_score = (
            logit
            + cfg.rank_relative * relative
            + cfg.rank_phrase * phrase_cover
            + cfg.rank_name * name_cover
            + cfg.rank_event * event
            + cfg.rank_example * example
            + cfg.rank_bayes * bayes
            + rank_model * learn / top_p
        )
        # what the phrases' statistics added: the choice among variants discounts it (the
        # phrases of "… lần thứ hai" say "cấp hộ chiếu" more often than the plain one's do)
        said_by_phrases = rank_model * learn / top_p + conf_model * max(
            0.0, learn - cfg.model_floor
        ) / (1.0 - cfg.model_floor)
        if cfg.variant_bayes:
            said_by_phrases += cfg.rank_bayes * bayes
        feats = {
            "bm25": bm25,
            "phrases_rank": said_by_phrases,
            "coverage": coverage,
            "bigrams": bigram_cover,
            "name": name_cover,
            "relative": relative,
            "phrase": phrase_cover,
            "event": event,
            "example": example,
            "bayes": bayes,
            "model": learn,
        }
        results.append(Scored(d, confidence, rank_score, feats))
    results.sort(key=lambda r: (-r.rank, r.doc))
    return results
