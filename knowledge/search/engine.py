"""`SearchEngine`: the records, their index, and the answer to one question."""

from __future__ import annotations

import logging
import math
import re
import sys
from collections.abc import Iterable

from knowledge.examples import Examples
from knowledge.lexicon import Lexicon, Pair
from knowledge.lifeevents import LifeEvents
from knowledge.normalize import analyze, fold
from knowledge.records import ProcedureRecord
from knowledge.search.clauses import clause_breaks, clause_focus
from knowledge.search.config import SearchConfig, SearchHit, SearchResponse
from knowledge.search.fillers import is_stop_word
from knowledge.search.index import Index
from knowledge.search.intents import (
    FEEDBACK,
    LEGAL,
    SMALLTALK,
    STATUS,
    English,
    Reading,
    read_intent,
)
from knowledge.search.model import PhraseModel, model_features
from knowledge.search.nearest import ExampleSet, vector
from knowledge.search.query import Query, parse
from knowledge.search.rank import Scored, rank
from knowledge.search.scope import ScopeModel
from knowledge.search.variants import Families, Qualifiers

__all__ = ["SearchEngine"]

log = logging.getLogger(__name__)

_CODE_RE = re.compile(r"(?<![\d.])\d\.\d{6}(?!\.?\d)")  # procedure code: 1.001193
# Query language, the same for every engine (like the filler lists).
_ENGLISH = English.load()
_QUALIFIERS = Qualifiers.load()
# The channel an out-of-scope example's category points to ("other": none, the engine asks).
_OOS_INTENT = {"status": STATUS, "complaint": FEEDBACK, "legal": LEGAL, "other": ""}


def release_free_heap() -> bool:
    """Give the C heap's free pages back to the system, where the C library can (glibc's
    `malloc_trim`); False elsewhere. A build frees the per-term arrays once their flat copies
    exist (`Postings`) and the documents' term counts after each document, but glibc keeps
    freed pages in the middle of the heap resident: about 10 MiB for 10,000 procedures."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes  # here: only a build needs it

    try:
        trim = ctypes.CDLL(None).malloc_trim  # the process's own C library
    except (OSError, AttributeError):  # not glibc (musl)
        return False
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    trim(0)
    return True


class SearchEngine:
    """BM25F + lexicon + typo-tolerant search over procedure records, with life events and
    variant choice on top (immutable)."""

    def __init__(
        self,
        records: Iterable[ProcedureRecord],
        lexicon: Lexicon | None = None,
        config: SearchConfig | None = None,
        events: LifeEvents | None = None,
        examples: Examples | None = None,
    ) -> None:
        """Index `records` (a repeated code replaces the earlier); no lexicon, no life events or
        no example phrases means none used. An example whose code this KB lacks is skipped
        (`unknown_example_codes` lists them)."""
        self.config = config or SearchConfig()
        self.lexicon = lexicon if lexicon is not None else Lexicon()
        self.events = events if events is not None else LifeEvents()
        self.examples = examples if examples is not None else Examples()
        unique: dict[str, ProcedureRecord] = {}
        for rec in records:
            unique.pop(rec.code, None)
            unique[rec.code] = rec
        self._records: tuple[ProcedureRecord, ...] = tuple(unique.values())
        self._by_code = {rec.code: i for i, rec in enumerate(self._records)}
        by_doc: dict[int, list[str]] = {}
        unknown: dict[str, int] = {}
        for code, phrases in self.examples.by_code().items():
            doc = self._by_code.get(code)
            if doc is None:
                unknown[code] = len(phrases)
            else:
                by_doc[doc] = phrases
        self.unknown_example_codes: tuple[str, ...] = tuple(unknown)
        if unknown and self._records:
            log.warning(
                "examples skipped, codes not in this knowledge base: %s",
                ", ".join(f"{c} ({n})" for c, n in sorted(unknown.items())[:20]),
            )
        self._index = Index(self._records, self.lexicon, self.config, by_doc)
        oos_phrases = self.examples.out_of_scope() if self._records else {}
        self._examples = ExampleSet(self._index, by_doc, oos_phrases)
        self._model = PhraseModel(
            by_doc,
            {d: (self._records[d].name, *self._records[d].keywords) for d in by_doc},
            oos_phrases if self.config.model_oos else None,
        )
        # Whether a question is for this KB at all: the procedures' phrases, names and
        # keywords against the out-of-scope phrases of each category.
        out_of_scope = oos_phrases
        if len(by_doc) < self.config.oos_coverage * len(self._records):
            # "in scope" is known from the procedures' phrases: with most procedures lacking
            # them, whatever they do not cover would look out of scope
            out_of_scope = {}
        self._scope = ScopeModel(
            (p for phrases in by_doc.values() for p in phrases),
            out_of_scope,
            # the names and keywords of the procedures that have phrases: the model stays the
            # same however many procedures without phrases the KB holds
            ([*ph.unigrams, *ph.bigrams] for doc in by_doc for ph in self._index.phrases[doc])
            if out_of_scope
            else (),
        )
        self._families = Families(self._records, _QUALIFIERS)
        # Each event's procedures, resolved against this knowledge base: doc → weight.
        by_name: dict[str, int] = {}
        if len(self.events):
            for i, rec in enumerate(self._records):
                by_name.setdefault(fold(" ".join(a for _, a in analyze(rec.name))), i)
        self._event_docs: dict[str, dict[int, float]] = {
            e.key: self._resolve(e.procedures, by_name) for e in self.events
        }
        release_free_heap()

    def _resolve(
        self, procedures: Iterable[tuple[str, float]], by_name: dict[str, int]
    ) -> dict[int, float]:
        """Documents named by official wordings or codes; a wording no name matches closely
        (another province's KB may lack it) is left out."""
        out: dict[int, float] = {}
        for wording, weight in procedures:
            doc = self._by_code.get(wording)
            if doc is None:
                doc = by_name.get(fold(" ".join(a for _, a in analyze(wording))))
            if doc is None:
                q = parse(wording, self._index)
                scored = rank(q, self._index) if q.terms else []
                # the wording and the name must say nearly the same: names one of the other
                top = scored[0].features if scored else {}
                if top.get("phrase", 0.0) >= 0.75 and top.get("coverage", 0.0) >= 0.8:
                    doc = scored[0].doc
            if doc is not None and weight > out.get(doc, 0.0):
                out[doc] = weight
        return out

    def event_procedures(self, key: str) -> list[str]:
        """Codes of the procedures life event `key` leads to in this KB, likeliest first."""
        docs = self._event_docs.get(key, {})
        return [self._records[d].code for d in sorted(docs, key=lambda d: (-docs[d], d))]

    def __len__(self) -> int:
        return len(self._records)

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    @property
    def records(self) -> tuple[ProcedureRecord, ...]:
        """The indexed records, in index order."""
        return self._records

    def get(self, code: str) -> ProcedureRecord | None:
        """Return the record with procedure code `code`, or None."""
        i = self._by_code.get(code)
        return None if i is None else self._records[i]

    def search(self, query: str, limit: int = 5) -> SearchResponse:
        """Rank procedures for `query`; abstain when no procedure answers it confidently."""
        cfg = self.config
        found = self._search(query)
        scored, reading, events = found.scored, found.reading, found.events
        hits: list[SearchHit] = []
        ceiling = 1.0
        for r in scored[: max(0, limit)]:
            # scores never increase down the list, so the display order reads naturally
            ceiling = min(ceiling, r.confidence)
            rec = self._records[r.doc]
            hits.append(SearchHit(code=rec.code, name=rec.name, score=round(ceiling, 4)))
        abstained = (
            not scored
            or (scored[0].confidence < cfg.abstain_below and not self._family_named(scored))
            or bool(reading.intent)
            or self._too_close(scored, events)
            or self._elsewhere(scored, reading)
            or bool(found.oos)
        )
        intent = reading.intent or _OOS_INTENT.get(found.oos, "")
        if reading.intent == SMALLTALK:
            hits = []
        related: list[SearchHit] = []
        if scored and not abstained:
            related = self._related(scored, events)
        return SearchResponse(
            query=query,
            abstained=abstained,
            hits=hits,
            related=related,
            intent=intent,
            facet=reading.facet,
            events=tuple(events),
            language=found.language,
            variant=found.variant,
            talk=reading.talk if reading.intent == SMALLTALK else "",
            scope="" if reading.intent else found.oos,
        )

    def _family_named(self, scored: list[Scored]) -> bool:
        """The question is said whole by one family of variants and by nothing else
        ("karaoke", "rượu"): its plain member (first, see `_choose_variant`) answers, its
        siblings are the buttons under it."""
        top = scored[0]
        full = self.config.family_coverage
        if top.features.get("coverage", 0.0) < full or top.features.get("bigrams", 0.0) < full:
            return False
        siblings = 0
        for r in scored[1 : self.config.related_pool]:
            if r.features.get("coverage", 0.0) < full:
                continue
            if not self._families.siblings(top.doc, r.doc):
                return False
            siblings += 1
        return siblings > 0

    def _elsewhere(self, scored: list[Scored], reading: Reading) -> bool:
        """The question names a service seldom in a procedure KB ("xin visa", "đăng kiểm")
        and the best candidate's name and keywords do not say it: this KB lacks it, so the
        engine asks rather than answer with whatever shares the other words."""
        if not reading.elsewhere or not scored:
            return False
        top = scored[0]
        feats = top.features
        if feats.get("phrase", 1.0) >= self.config.named_phrase or (
            feats.get("name", 1.0) >= self.config.named_share
        ):
            return False  # the question names this procedure; the service is a side question
        rec = self._records[top.doc]
        said = " " + " ".join(f for text in (rec.name, *rec.keywords) for f, _ in analyze(text))
        return not any(f" {' '.join(key)} " in said + " " for key in reading.elsewhere)

    def _too_close(self, scored: list[Scored], events: list[str]) -> bool:
        """Two unrelated procedures answer the question about as well: ask which one (the
        "did you mean" buttons) rather than guess. Siblings and procedures of the same life
        event are not rivals: the buttons under the answer offer them."""
        cfg = self.config
        top = scored[0]
        if top.confidence >= cfg.sure_above:
            return False
        event_docs = {d for key in events for d in self._event_docs.get(key, {})}
        for r in scored[1 : cfg.related_pool]:
            if top.confidence - r.confidence > cfg.rival_margin:
                break
            if self._families.siblings(top.doc, r.doc):
                continue
            if top.doc in event_docs and r.doc in event_docs:
                continue
            return True
        return False

    def _related(self, scored: list[Scored], events: list[str]) -> list[SearchHit]:
        """Buttons under an answer: its siblings among the candidates, then the procedures of
        the life events the question describes, best ranked first; and the runner-up when it
        is nearly as sure as the answer (`SearchConfig.rival_button`): the citizen sees the
        other reading of a question the engine answered. Nothing else."""
        best = scored[0].doc
        pool = [r.doc for r in scored[1 : self.config.related_pool]]
        out = self._families.related(best, pool, self.config.related_pool)
        for key in events:
            docs = self._event_docs.get(key, {})
            ranked = [d for d in pool if d in docs]
            ranked += sorted((d for d in docs if d not in pool), key=lambda d: -docs[d])
            out += [d for d in ranked if d != best and d not in out]
        # a runner-up nearly as sure as the answer is a button too, whatever its family
        cfg = self.config
        if len(scored) > 1:
            second = scored[1]
            if (
                second.doc not in out[: cfg.rival_slot + 1]
                and second.confidence >= cfg.rival_button
                and scored[0].rank - second.rank <= cfg.rival_rank_gap
            ):
                out = [d for d in out if d != second.doc]
                out.insert(min(cfg.rival_slot, len(out)), second.doc)
        return [SearchHit(self._records[d].code, self._records[d].name, 0.0) for d in out]

    def explain(self, query: str, limit: int = 5) -> dict[str, object]:
        """Debugging aid: the parsed query and the features of the best candidates."""
        found = self._search(query)
        q = found.query
        qvec = vector(q, self._index) if self._examples else None
        words = found.words
        return {
            "units": [
                (
                    [[(t, round(w, 2)) for t, w in form] for form in u.forms][:1],
                    round(u.weight, 2),
                    u.words,
                )
                for u in q.units
            ],
            "intent": found.reading.intent,
            "facet": found.reading.facet,
            "events": found.events,
            "variant": found.variant,
            "out_of_scope": {
                "category": found.oos_category,
                "lead": round(found.oos_lead, 3),
                "abstains": bool(found.oos),
                "closest": self._examples.nearest_oos(qvec)[2] if qvec is not None else "",
                "model": round(sum(found.model_oos.values()), 3),
            },
            "top": [
                {
                    "code": self._records[r.doc].code,
                    "title": self._records[r.doc].name[:50],
                    "conf": round(r.confidence, 3),
                    "rank": round(r.rank, 3),
                    **{k: round(v, 3) for k, v in r.features.items()},
                    "example_phrase": self._examples.nearest(qvec, r.doc)[1]
                    if qvec is not None
                    else "",
                    # the question's words that speak most for it in the phrases' model
                    "model_words": self._model.explain(words, r.doc),
                }
                for r in found.scored[:limit]
            ],
        }

    def _search(self, query: str) -> _Found:
        text = query[: self.config.max_query_chars]
        language = "vi"
        search_text = text
        if _ENGLISH.looks_english(text):
            language = "en"
            search_text, untranslated = _ENGLISH.read(text)
            if search_text.strip() and self.config.english_untranslated:
                # the words the glossary does not know, as typed: the English example phrases
                # (BM25F's examples field) may say them
                search_text = " ".join([search_text, *untranslated])
            # an abbreviation the KB's words or phrases know ("dkkh", "ct07") is not English
            pairs = analyze(text) if not search_text.strip() else []
            if pairs and all(self._index.known(f) for f, _ in pairs):
                language, search_text = "vi", text
        focus, breaks = None, frozenset[int]()
        if language == "vi":
            focus = clause_focus(text, self.config.max_query_syllables)
            breaks = clause_breaks(text)
        q = parse(search_text, self._index, focus, breaks) if self._records else Query()
        # Intents, situations and qualifiers are read as typed: a typo repaired against the
        # KB's vocabulary must not invent one ("mua vé" is one letter from "mua xe", and
        # "chậm", which no procedure says, is not "khám").
        if language == "en":
            pairs = analyze(text)
            reading = read_intent(pairs, [True] * len(pairs))
            typed = q.pairs
        else:
            typed = analyze(text)[: self.config.max_query_syllables]
            reading = read_intent(typed, [not is_stop_word(f, a) for f, a in typed])
        events: list[str] = []
        prior: dict[int, float] = {}
        told = [False] * len(typed)
        matches = [(m.start, m.end, m.event.key) for m in self.events.find(typed)]
        # "sang Úc thăm ông bà" tells a trip abroad without any trigger phrase
        trip = self.config.trip_event
        if trip in self._event_docs:
            matches += [(a, b, trip) for a, b in _QUALIFIERS.trips(typed)]
        support: dict[int, float] = {}
        for start, end, key in matches:
            for i in range(start, end):
                told[i] = True
            if key in events:
                continue
            events.append(key)
            for d, w in self._event_docs.get(key, {}).items():
                prior[d] = max(prior.get(d, 0.0), w)
                support[d] = support.get(d, 0.0) + w
        # a procedure several told situations lead to ("mẹ liệt sĩ" + "mới mất") is likelier
        # than one only the strongest leads to
        for d, total in support.items():
            prior[d] += self.config.event_agreement * (total - prior[d])
        found = _Found(q, reading, events, language)
        found.typed = typed
        if not self._records:
            return found
        # the question without the words that told the situation: what else it names
        rest = None
        if prior:
            rest = parse(
                " ".join(a for (_, a), t in zip(typed, told, strict=True) if not t), self._index
            )
        qvec = vector(q, self._index) if self._examples else None
        found.words = _question_words(q, text, language if self.config.model_english else "vi")
        learnt, outside = self._model.probabilities(found.words) if self._model else ({}, {})
        found.model, found.model_oos = learnt, outside
        scored = (
            rank(
                q,
                self._index,
                prior,
                rest,
                self._examples,
                qvec,
                learnt,
                self.config.english_model if language == "en" else 1.0,
            )
            if (q.terms or prior)
            else []
        )
        scored = self._choose_variant(scored, q, found)
        if self._scope and language == "vi":
            found.oos = self._out_of_scope(typed, found)
        # A procedure code typed in the question (officials do: "thủ tục 1.001193") is the
        # answer, whatever the words around it say.
        codes = _CODE_RE.findall(text)
        coded = list(dict.fromkeys(self._by_code[c] for c in codes if c in self._by_code))
        if coded:
            others = [r for r in scored if r.doc not in coded]
            scored = [Scored(d, 1.0, math.inf, {}) for d in coded] + others
        found.scored = scored
        return found

    def _out_of_scope(self, typed: list[Pair], found: _Found) -> str:
        """The out-of-scope category ("status", "complaint", "legal", "other") the question
        belongs to rather than to this KB's procedures (`knowledge.search.scope`), or ""."""
        cfg = self.config
        category, lead = self._scope.judge(typed, cfg.oos_features)
        found.oos_category, found.oos_lead = category, lead
        if category and lead >= cfg.oos_lead:
            return category
        # a smaller lead is enough when the phrases' logistic model (`search.model`) agrees
        outside = sum(found.model_oos.values())
        if category and lead >= cfg.oos_lead_agreed and outside >= cfg.model_oos_agrees:
            return category
        # ... and smaller still when the model is nearly sure it is out of scope
        if category and lead >= cfg.oos_lead_sure and outside >= cfg.model_oos_sure:
            return category
        return ""

    def _choose_variant(self, scored: list[Scored], q: Query, found: _Found) -> list[Scored]:
        """Put the variant the question asks for first (see `knowledge.search.variants`)."""
        if len(scored) < 2:
            return scored
        # Qualifiers are read as typed (a repaired typo must not invent one), and in the
        # official wording the lexicon brought in.
        said = self._families.qualifiers.said(found.typed, q.expanded)
        # A short question ("cấp hộ chiếu", "cccd") is a procedure's name, and a name that
        # says no qualifier is the plain procedure's: the variants compete without what the
        # phrases' statistics add (a variant's phrases say the plain words as often as its
        # own). A longer one tells more, and the phrases know how such stories end.
        content = sum(1 for c in q.content if c)
        short = 1.0 if content <= self.config.variant_short else 0.0
        choice = self._families.choose(
            [(r.doc, r.rank - short * r.features.get("phrases_rank", 0.0)) for r in scored],
            said,
            self.config.variant_window,
            self.config.plain_window,
        )
        if choice is None:
            return scored
        found.variant = choice.reason
        top = scored[0]
        moved = next(r for r in scored if r.doc == choice.doc)
        # The family is what the question is about; the qualifier only picks its member.
        first = Scored(moved.doc, max(moved.confidence, top.confidence), top.rank, moved.features)
        return [first, *(r for r in scored if r.doc != choice.doc)]


def _question_words(q: Query, text: str, language: str) -> list[str]:
    """The question's features for the phrases' model: its repaired words, and for an English
    question its own English words beside their Vietnamese wording (`English.translate`):
    the model learnt the English words from the English phrases."""
    words = model_features(q.pairs)
    if language == "en":
        words += model_features(analyze(text))
    return words


class _Found:
    """What `SearchEngine._search` learned about one question."""

    __slots__ = (
        "events",
        "language",
        "model",
        "model_oos",
        "oos",
        "oos_category",
        "oos_lead",
        "query",
        "reading",
        "scored",
        "typed",
        "variant",
        "words",
    )

    def __init__(self, query: Query, reading: Reading, events: list[str], language: str) -> None:
        self.query = query
        self.reading = reading
        self.events = events
        self.language = language
        self.scored: list[Scored] = []
        self.variant = ""
        self.typed: list[Pair] = []
        self.oos = ""  # the out-of-scope category the question belongs to, if it does
        self.oos_category = ""  # the likeliest one, and how far it leads "in scope"
        self.oos_lead = 0.0
        self.model: dict[int, float] = {}  # P(procedure | question) of the phrases' model
        self.model_oos: dict[str, float] = {}  # ... and of each out-of-scope category
        self.words: list[str] = []  # the question's features for the phrases' model
