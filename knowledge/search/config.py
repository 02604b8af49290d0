"""What the search engine returns (`SearchHit`, `SearchResponse`) and its tunable weights."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["SearchConfig", "SearchHit", "SearchResponse"]


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One ranked procedure; `score` is a confidence in 0..1."""

    code: str
    name: str
    score: float


@dataclass(frozen=True, slots=True)
class SearchResponse:
    """Answer to one query; when `abstained`, `hits` are only "did you mean" suggestions.

    `related` are the buttons under an answer: procedures of the answer's family or of the
    life event the question describes. `intent` says what else the message is ("smalltalk",
    or a request the knowledge base cannot answer: "status", "complaint", "legal",
    "feedback"); `facet` the part of a procedure asked for ("time", "fee", "where",
    "documents"); `events` the life events recognised; `language` "en" for a question typed
    in English; `variant` why the answer was preferred among its family ("qualifier": the
    question names it, "plain": it names no variant); `talk` the kind of small talk."""

    query: str
    abstained: bool
    hits: list[SearchHit]
    related: list[SearchHit] = field(default_factory=list)
    intent: str = ""
    facet: str = ""
    events: tuple[str, ...] = ()
    language: str = "vi"
    variant: str = ""
    talk: str = ""  # for small talk: "greeting", "thanks", "who" or "ack"
    # The out-of-scope category of the example phrases the question belongs to ("status",
    # "complaint", "legal", "other"; see `knowledge.search.scope`): the engine abstained, and
    # the bot offers the hits as "did you mean" under the category's channel.
    scope: str = ""

    @property
    def best(self) -> SearchHit | None:
        """The top hit when the engine did not abstain, else None."""
        return None if self.abstained or not self.hits else self.hits[0]


@dataclass(frozen=True, slots=True)
class SearchConfig:
    """Tunable weights and thresholds of the engine (defaults tuned on sample questions)."""

    # BM25F: per-field weight, length normalisation b, and match strength used for coverage.
    field_weights: tuple[tuple[str, float], ...] = (
        ("name", 3.0),
        ("keywords", 2.5),
        ("examples", 1.0),
        ("field", 0.6),
        ("result", 0.6),
        ("conditions", 0.3),
        ("documents", 0.3),
        ("steps", 0.15),
        ("legal_basis", 0.05),
    )
    field_b: tuple[tuple[str, float], ...] = (("name", 0.6), ("keywords", 0.3))
    default_b: float = 0.75
    field_strength: tuple[tuple[str, float], ...] = (
        ("name", 1.0),
        ("keywords", 1.0),
        ("examples", 0.5),
        ("field", 0.6),
        ("result", 0.6),
        ("conditions", 0.4),
        ("documents", 0.4),
        ("steps", 0.3),
        ("legal_basis", 0.2),
    )
    k1: float = 1.2
    max_field_tokens: int = 300  # long texts (steps, documents) are cut for speed
    # Fields that also index two-syllable words, and those that index accented forms.
    bigram_fields: tuple[str, ...] = (
        "name",
        "keywords",
        "examples",
        "field",
        "result",
        "conditions",
        "documents",
    )
    accent_fields: tuple[str, ...] = ("name", "keywords", "field", "result")
    max_query_chars: int = 2000
    max_query_syllables: int = 80
    # Query term weights (BM25 side).
    bigram_weight: float = 1.0
    accent_weight: float = 0.3
    expansion_weight: float = 1.0
    concept_terms: float = 4.0  # expansions longer than this share the expansion weight
    colloquial_weight: float = 0.5  # the colloquial words themselves, beside the expansion
    fuzzy_weight: float = 0.8
    context_fix_weight: float = 0.6  # a known syllable replaced because of its neighbours
    # Coverage (confidence side).
    accent_mismatch: float = 0.4  # credit when the user's diacritics differ from the doc's
    isolated: float = 0.5  # credit for a syllable found alone while the query had it in a word
    unknown_weight: float = 0.6  # a syllable the index lacks weighs this share of the max idf
    concept_weight: float = 0.6  # a lexicon concept weighs this share of the max idf
    concept_power: float = 2.0  # partial concept matches count as share ** power
    # Candidate generation.
    candidates: int = 20
    # Candidate generation reads only the `head_size` highest-impact postings of a common term;
    # the best `candidates * 2` are then scored exactly.
    head_size: int = 1000
    posting_budget: int = 6000
    # Confidence: a logistic model over the features of a candidate (fitted on labelled sample
    # questions, see `knowledge.evaluation`): phrase = best share of one of the procedure's
    # name/keyword phrases said in the query; coverage = idf-weighted share of the query found
    # in the procedure; bigrams = share of the query's two-syllable words found; name = share
    # of the name said; bm25 = log(1 + BM25F / max idf).
    conf_bias: float = -3.61
    conf_phrase: float = 1.69
    conf_coverage: float = 1.14
    conf_bigrams: float = 1.03
    conf_name: float = 1.16
    conf_bm25: float = 2.0
    # Ranking = confidence logit + these shares of secondary evidence (breaks near-ties).
    rank_relative: float = 0.5
    rank_phrase: float = 0.5
    rank_name: float = 0.0
    # Life events ("bố tôi mất hôm qua"): the prior of a procedure the event leads to (0..1)
    # adds this much to the confidence logit and to the ranking score.
    conf_event: float = 3.0
    rank_event: float = 1.0
    # A situation's procedure is at least this sure times its prior (after the discount for
    # another procedure named): the usual first step of a clearly told situation is answered.
    event_confidence: float = 0.9
    # A procedure that several recognised events lead to gets this share of the weights of the
    # others on top of its strongest.
    event_agreement: float = 0.2
    # The life event a trip to a named country tells ("cho cháu sang Úc"), if the events have it.
    trip_event: str = "di_nuoc_ngoai"
    # Variants: siblings of the best candidate ranked within this window of it (ranking
    # score units) compete on how well their qualifiers fit the question.
    variant_window: float = 3.0
    plain_window: float = 1.0
    # In a question of at most `variant_short` content syllables, the variants compete on the
    # ranking without what the phrases' logistic model added (and, with `variant_bayes`, the
    # naive Bayes posterior too).
    variant_short: int = 4
    variant_bayes: bool = False  # the plainer sibling (no qualifier said) must rank this close
    # Related buttons under an answer: siblings and event procedures among this many.
    related_pool: int = 12
    # The runner-up is a related button (at `rival_slot`) when at least `rival_button` sure and
    # within `rival_rank_gap` ranking points of the answer.
    rival_button: float = 0.6
    rival_rank_gap: float = 3.0
    rival_slot: int = 2
    # Abstaining still shows the best hits as "did you mean" buttons, so lean towards it.
    abstain_below: float = 0.6
    # Below `sure_above`, a rival from another family within `rival_margin` of the best makes
    # the engine ask instead of answer.
    sure_above: float = 0.9
    rival_margin: float = 0.01
    # A service seldom in a procedure KB ("visa", "đăng kiểm") said in the question makes the
    # engine ask, unless the best candidate's name or keywords say it, or the question names
    # that candidate (phrase share at least `named_phrase`: "chấm dứt hộ kinh doanh có phải
    # quyết toán thuế không" asks about the procedure it names), or says `named_share` of
    # its name.
    named_phrase: float = 0.75
    # A question every word of which (coverage and two-syllable words at least this share) is
    # found in one family of variants and in nothing else names that family: answered.
    family_coverage: float = 0.99
    named_share: float = 0.6
    # Example phrases (`knowledge.examples`): the cosine of a candidate's closest phrase to the
    # question adds this much to the confidence logit and to the ranking score.
    # Only the part of the cosine above `example_floor` counts for the confidence: a question
    # said nearly like one of the procedure's phrases is answered.
    conf_example: float = 0.0
    example_floor: float = 0.5
    # Off since the phrases' logistic model (`search.model`) came: it did nothing the model
    # does not (cross-validated), and the phrase vectors it needs cost more to build than the
    # rest of the index (they are now built only for `kb search --explain`).
    rank_example: float = 0.0
    # Naive Bayes posterior of the candidate among the candidates that have phrases, from the
    # words of its phrases, name and keywords (the mean log-likelihood over the question's
    # words times `bayes_sharpness`, normalised over the candidates): ranking only, since a
    # share among candidates says nothing about whether any of them answers.
    rank_bayes: float = 1.5
    conf_bayes: float = 0.0  # the share of the posterior above `bayes_floor` counts this much
    bayes_floor: float = 0.5
    bayes_sharpness: float = 8.0
    # The phrases' logistic regression (`knowledge.search.model`): P(procedure | question)
    # over the procedures with phrases adds this much to the ranking score, and its part above
    # `model_floor` this much to the confidence logit.
    rank_model: float = 2.0
    conf_model: float = 1.5
    model_floor: float = 0.3
    # The ranking side gets the probability as a share of the model's likeliest procedure's
    # (the confidence side always the probability itself).
    model_relative: bool = False
    # The out-of-scope phrases are classes of the model too: a question like them leaves
    # less probability to every procedure.
    model_oos: bool = True
    # An English question gives the model its own English words beside their translation.
    model_english: bool = True
    # ... and the model's terms weigh this many times more in its ranking and confidence (the
    # glossary translates only part of an English question; the model learnt its words).
    english_model: float = 3.0
    # An English question is searched with its untranslated words beside its translation.
    english_untranslated: bool = True
    # Out-of-scope phrases (`knowledge.search.scope`): a question whose likeliest out-of-scope
    # category leads "in scope" by this mean log-likelihood ratio per feature is not for this
    # KB: the engine abstains and points to that category's channel.
    oos_lead: float = 0.65
    # ... or by `oos_lead_agreed` when the phrases' logistic model gives the out-of-scope
    # classes together at least `model_oos_agrees`.
    oos_lead_agreed: float = 0.3
    model_oos_agrees: float = 0.4
    # ... or by `oos_lead_sure` when the model gives them at least `model_oos_sure` (a
    # dossier's status or a complaint names its procedure, whose words speak for "in scope"
    # in naive Bayes; the model, which weighs how the message asks, is then nearly sure).
    oos_lead_sure: float = 0.1
    model_oos_sure: float = 0.85
    oos_features: int = 3  # fewer known words and two-syllable words than this tell nothing
    # The model is used only when at least this share of the KB's procedures have phrases.
    oos_coverage: float = 0.5
