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

from knowledge.search.index import Index
from knowledge.search.nearest import ExampleSet, Vector
from knowledge.search.query import Query, Unit

__all__ = ["Scored", "rank"]


@dataclass(frozen=True, slots=True)
class Scored:
    """A candidate document: its confidence, its ranking score and the features behind them."""

    doc: int
    confidence: float
    rank: float
    features: dict[str, float]


# A concept unit's forms, each as its terms, their idf and the sum of those (what the form
# wants), added up in the form's order: the same for every document of a query.
_Forms = tuple[tuple[tuple[str, ...], tuple[float, ...], float], ...]


def _concept_forms(unit: Unit, index: Index) -> _Forms:
    idf = index.idf.get
    unknown = index.max_idf * index.config.unknown_weight
    forms = []
    for form in unit.forms:
        terms = tuple(term for term, _ in form)
        ws = tuple(idf(term, unknown) for term in terms)
        want = 0.0
        for w in ws:
            want += w
        forms.append((terms, ws, want))
    return tuple(forms)


def _unit_match(unit: Unit, st: dict[str, float], index: Index, forms: _Forms) -> float:
    """How well a document (its term strengths `st`) answers one query unit, 0..1; `forms`:
    the unit's `_concept_forms` if it is a concept."""
    cfg = index.config
    best = 0.0
    if unit.concept:
        for terms, ws, want in forms:
            got = 0.0
            for term, w in zip(terms, ws, strict=True):
                got += w * st.get(term, 0.0)
            if want and got / want > best:
                best = got / want
        # a concept is said or not: half of its words is much less than half an answer
        return best**cfg.concept_power
    for j, (term, w) in enumerate(unit.forms[0]):
        strength = st.get(term, 0.0)
        if j == 0 and unit.accent and strength >= index.accent_strength:
            strength = max(st.get(unit.accent, 0.0), cfg.accent_mismatch * strength)
        best = max(best, w * strength)
    if best and unit.words:
        # found, but is it the same word? a syllable the query used inside a two-syllable
        # word counts fully only when the doc has that word too
        in_word = max((st.get(t, 0.0) for t in unit.words if t), default=0.0)
        best = max(in_word, best * cfg.isolated)
    return best


def _phrase_cover(doc: int, q: Query, index: Index) -> float:
    """Best share of one of the doc's name/keyword phrases that the query says."""
    best = 0.0
    focus = q.focus.get  # a phrase said only in the story counts for less
    terms, words = q.terms.keys(), q.words
    for phrase in index.phrases[doc]:
        # most phrases share nothing with the question: their share is 0, never the best
        if phrase.bigrams:
            if terms.isdisjoint(phrase.bigrams):
                continue
            got = sum(
                w * focus(t, 1.0)
                for t, w in zip(phrase.bigrams, phrase.weights, strict=True)
                if t in q.terms
            )
            share = got / phrase.total
        else:
            if words.isdisjoint(phrase.unigrams):
                continue
            got = sum(
                w * focus(t, 1.0)
                for t, w in zip(phrase.unigrams, phrase.weights, strict=True)
                if t in q.words
            )
            share = 0.7 * got / phrase.total
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
    # The scores add up in numpy over one slot per document: the same float64 products and
    # sums in the same term order as a dict of Python floats, without a Python step per
    # posting (10,000 procedures: thousands of postings a query).
    import numpy as np  # here, not at the top: commands that never search skip the import

    approx = np.zeros(len(index.name_words))
    touched = np.zeros(len(approx), dtype=bool)
    budget = cfg.posting_budget
    for term in sorted(weights, key=lambda t: (postings.df(t), t)):
        ids, sats = index.heads_of(term)
        if budget < len(ids) and touched.any():
            break
        budget -= len(ids)
        approx[ids] += weights[term] * sats.astype(np.float64)  # a term lists a doc once
        touched[ids] = True
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
    # Exact BM25F and per-term field strengths for the chosen documents.
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
    exact: list[tuple[int, float, dict[str, float]]] = []
    for d, found in index.lookup_many(needed_terms, chosen).items():
        bm25 = sum(weights[t] * v[0] for t, v in found.items() if t in weights)
        exact.append((d, bm25, {t: v[1] for t, v in found.items()}))
    exact.sort(key=lambda e: (-e[1], e[0]))
    pool = exact[: cfg.candidates]
    pool.extend(e for e in exact[cfg.candidates :] if e[0] in prior)
    top_bm25 = pool[0][1] or 1.0
    total_weight = sum(u.weight for u in q.units) or 1.0

    # A life event speaks for a procedure only as much as the question does not name another
    # one: "bố mất rồi, giờ xóa đăng ký thường trú cho bố" asks for the procedure it names.
    phrases = {d: _phrase_cover(d, q, index) for d, _, _ in pool}
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
    units = [(u, u.weight, _concept_forms(u, index) if u.concept else ()) for u in q.units]
    for d, bm25, st in pool:
        coverage = sum(w * _unit_match(u, st, index, forms) for u, w, forms in units) / total_weight
        if q.bigrams:
            bigram_cover = sum(
                bw * max(w * st.get(t, 0.0) for t, w in options)
                for options, bw in zip(q.bigrams, q.bigram_weights, strict=True)
            ) / (sum(q.bigram_weights) or 1.0)
        else:
            bigram_cover = coverage
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
