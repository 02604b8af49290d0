"""Procedure search that understands how Vietnamese people type their questions.

Pipeline for one query:

1. `normalize.analyze`: NFKC, tone placement by rule (hoà → hòa), lowercase, i/y spelling,
   syllables, chat abbreviations (ko, dc, cccd…); each syllable keeps accented + folded forms.
2. Repair before matching: raw Telex/VNI keystrokes ("ddawng kys"), held-down letters
   ("sinnhh"), and one-letter slips or oddly accented syllables that a neighbour confirms
   ("tma vắng", "cắt kẩu").
3. Asides (channel, duration, cost: "trên VNeID", "mất bao lâu") are set aside; the lexicon
   turns colloquial phrases into official wording ("sổ đỏ" → "giấy chứng nhận quyền sử dụng
   đất"); question filler ("cho tôi hỏi", "ở đâu", "cần giấy tờ gì") is dropped, unless a
   filler-looking bare syllable forms a known word with its neighbour ("can cuoc" = căn cước).
4. Remaining unknown syllables get spelling alternatives from the index vocabulary (edit
   distance 1 or a dialect sound-alike: ch/tr, s/x, n/ng…), preferring ones that form a known
   two-syllable word with a neighbour.
5. Field-weighted BM25 (BM25F) over folded unigrams and bigrams, plus a small bonus for the
   accented form the user typed, picks candidates from an inverted index within a postings
   budget; the best are then scored exactly.
6. Each candidate gets interpretable features — the share of one of its name/keyword phrases
   the query says, the idf-weighted share of the query it covers, the share of the query's
   two-syllable words it contains, the share of its name said, and its BM25F — combined by a
   logistic model into a confidence in 0..1. Below `SearchConfig.abstain_below` the engine
   abstains; the hits are still returned as "did you mean" suggestions.

A procedure code typed in the question ("1.001193") is answered directly. The engine is
immutable after construction, so one instance can serve concurrent readers.
"""

from __future__ import annotations

import gc
import heapq
import math
import re
from array import array
from bisect import bisect_left
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from rapidfuzz import process
from rapidfuzz.distance import OSA

from knowledge.lexicon import Lexicon, LexiconMatch
from knowledge.normalize import analyze, decode_telex, decode_vni, is_syllable
from knowledge.records import ProcedureRecord

__all__ = [
    "SearchConfig",
    "SearchEngine",
    "SearchHit",
    "SearchResponse",
]

Pair = tuple[str, str]

# Question filler: phrases and words that say "I am asking" rather than "about what". Matched
# like lexicon phrases (diacritics optional, but must agree when typed), after the lexicon, so
# "làm sổ đỏ" is still a lexicon phrase while "làm" alone is filler. Channel words (online,
# trực tuyến) are filler too: they say how, not which procedure.
_FILLER_PHRASES = """
cho tôi hỏi | cho em hỏi | cho mình hỏi | cho cháu hỏi | cho con hỏi | cho hỏi | xin hỏi
xin cho hỏi | tôi muốn hỏi | em muốn hỏi | muốn hỏi | cho biết | vui lòng | làm ơn | xin chào
cảm ơn | cám ơn | giúp tôi | giúp em | giúp mình | như thế nào | thế nào | ra sao | làm sao
làm thế nào | làm gì | làm những gì | ở đâu | chỗ nào | nơi nào | ở chỗ nào | bao lâu
mất bao lâu | bao giờ | bao nhiêu | bao nhiêu tiền | mất bao nhiêu | bao nhiêu ngày | mấy ngày
giấy tờ gì | những giấy tờ gì | cần giấy tờ gì | cần những gì | những gì | hồ sơ gồm những gì
hồ sơ gồm | cần chuẩn bị | chuẩn bị | thủ tục | thủ tục hành chính | có được không
được không | có phải | phải không | thì sao | phải làm sao | phải làm gì | cần làm gì | cần gì
là gì | gì vậy | hướng dẫn | tư vấn | thời gian | thời hạn | lệ phí | mức phí | phí | hồ sơ
giấy tờ | nộp hồ sơ | hiện nay | hiện tại | bây giờ | như vậy | vậy thì | trường hợp | quy định
theo quy định | có cần | trực tuyến | online | qua mạng | trên mạng | dịch vụ công | một cửa
bộ phận một cửa | trả kết quả | tại sao | vì sao | sao vậy | sao lại
"""
_FILLER_WORDS = """
tôi em mình anh chị cháu bác chú cô bạn ad admin bot ạ à ơi nhé nha nhá vậy thì là mà và hoặc
với của cho để ở tại đến khi nếu thế nào gì đâu bao lâu nhiêu mấy có không được bị phải cần
muốn nên làm xin hỏi giúp dùm giùm rồi đã sẽ đang vừa cái các những này đó kia ok dạ vâng hả
hở nhỉ chứ luôn nữa gồm cũng thêm vào rất lắm quá thật hay biết ra lên xuống nay hôm giờ ngày
nó họ chúng ta ấy trên chào alo hello hi nhưng mới tính định
"""
# How, how long, how much — not which procedure: removed before the lexicon sees the query,
# so "đăng ký tạm trú trên VNeID" is about tạm trú, not a VNeID account, and in "xe mới mua
# mất bao lâu" the "mất" (takes) is not a death.
_CHANNEL_PHRASES = """
trên vneid | qua vneid | bằng vneid | trên ứng dụng vneid | qua ứng dụng vneid | trên app
qua app | trên ứng dụng | qua ứng dụng | trên điện thoại | qua điện thoại | trên mạng | qua mạng
trực tuyến | online | trên cổng dịch vụ công | qua cổng dịch vụ công | qua bưu điện
mất bao lâu | mất mấy ngày | mất bao nhiêu | mất bao nhiêu ngày | mất bao nhiêu tiền | mất phí
mất mấy tháng | mất mấy tuần | mất thời gian | mất tiền không | có mất phí | có mất tiền
"""
CHANNEL_PHRASES: tuple[str, ...] = tuple(
    p.strip() for p in _CHANNEL_PHRASES.replace("\n", "|").split("|") if p.strip()
)
STOP_PHRASES: tuple[str, ...] = tuple(
    p.strip() for p in _FILLER_PHRASES.replace("\n", "|").split("|") if p.strip()
)
STOP_WORDS: frozenset[str] = frozenset(_FILLER_WORDS.split())


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One ranked procedure; `score` is a confidence in 0..1."""

    code: str
    name: str
    score: float


@dataclass(frozen=True, slots=True)
class SearchResponse:
    """Answer to one query; when `abstained`, `hits` are only "did you mean" suggestions."""

    query: str
    abstained: bool
    hits: list[SearchHit]

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
    # Abstaining still shows the best hits as "did you mean" buttons, so lean towards it.
    abstain_below: float = 0.6


class _Posting(NamedTuple):
    ids: array[int]
    sat: array[float]
    strength: array[float]


@dataclass(slots=True)
class _Unit:
    """One meaningful piece of the query: a syllable (with corrections) or a lexicon concept."""

    forms: list[list[tuple[str, float]]]  # alternative ways to match: terms with weights
    weight: float  # importance for coverage (idf based)
    accent: str = ""  # "~" + syllable as typed with diacritics, for a token unit
    concept: bool = False
    words: list[str] = field(default_factory=list)  # bigrams this syllable forms with neighbours


@dataclass(slots=True)
class _Query:
    units: list[_Unit] = field(default_factory=list)
    terms: dict[str, float] = field(default_factory=dict)  # BM25 terms → query weight
    bigrams: list[list[tuple[str, float]]] = field(default_factory=list)  # adjacent pairs
    words: set[str] = field(default_factory=set)  # every folded syllable the query brings


@dataclass(frozen=True, slots=True)
class _Scored:
    doc: int
    confidence: float
    rank: float
    features: dict[str, float]


_STOP_MATCHER = Lexicon((p, p) for p in STOP_PHRASES)
_CHANNEL_MATCHER = Lexicon((p, p) for p in CHANNEL_PHRASES)
# Light words people put between a verb and its object: numerals, classifiers, degree adverbs
# ("cắt một phần đất", "gộp hai mảnh đất", "nâng thêm một tầng", "đóng cửa hẳn quán"). A
# lexicon phrase may match across up to two of them. Typed bare, their folded forms count too.
_LIGHT_WORDS = """
một hai ba bốn mấy vài các những phần mảnh miếng cái chiếc căn lô tờ cuốn quyển thêm hẳn
luôn bớt này đó ấy
"""
LIGHT_WORDS: frozenset[str] = frozenset(
    {w for w in _LIGHT_WORDS.split()} | {f for w in _LIGHT_WORDS.split() for f, _ in analyze(w)}
)
_STOP_FOLDED = frozenset(f for w in STOP_WORDS for f, _ in analyze(w, expand=False))
_FILLER_FOLDED_WORDS = _STOP_FOLDED | frozenset(
    w for e in (*_STOP_MATCHER, *_CHANNEL_MATCHER) for w in e.key
)
_FILLER_FOLDED_PAIRS = frozenset(
    f"{a} {b}"
    for e in (*_STOP_MATCHER, *_CHANNEL_MATCHER)
    for a, b in zip(e.key, e.key[1:], strict=False)
)
_REPEATS_RE = re.compile(r"(\w)\1+")
_CODE_RE = re.compile(r"(?<![\d.])\d\.\d{6}(?!\.?\d)")  # procedure code: 1.001193


class _Phrase(NamedTuple):
    """A name or keyword reduced to its content syllables and two-syllable words."""

    unigrams: tuple[str, ...]
    bigrams: tuple[str, ...]
    weights: tuple[float, ...] = ()  # idf of each bigram (or of each unigram if no bigrams)
    total: float = 1.0


def _phrase(pairs: Sequence[Pair]) -> _Phrase:
    keep = [not (a in STOP_WORDS or (a == f and f in _STOP_FOLDED)) for f, a in pairs]
    unigrams = tuple(dict.fromkeys(f for (f, _), k in zip(pairs, keep, strict=False) if k))
    bigrams = tuple(
        dict.fromkeys(
            f"{pairs[i][0]} {pairs[i + 1][0]}"
            for i in range(len(pairs) - 1)
            if keep[i] and keep[i + 1]
        )
    )
    return _Phrase(unigrams, bigrams)


# Syllables people confuse when typing by ear (regional pronunciation): onsets and finals.
_ONSET_GROUPS: tuple[tuple[str, ...], ...] = (
    ("ch", "tr"),
    ("s", "x"),
    ("d", "gi", "r", "v"),
    ("l", "n"),
    ("c", "k", "q"),
    ("ng", "ngh"),
    ("g", "gh"),
)
_FINAL_GROUPS: tuple[tuple[str, ...], ...] = (("n", "ng"), ("c", "t"), ("ch", "t"), ("nh", "n"))
_ONSETS = sorted({o for g in _ONSET_GROUPS for o in g}, key=len, reverse=True)
_FINALS = sorted({f for g in _FINAL_GROUPS for f in g}, key=len, reverse=True)


def _runs(blocked: Sequence[bool]) -> list[tuple[int, int]]:
    """[lo, hi) ranges of consecutive unblocked positions."""
    out: list[tuple[int, int]] = []
    start = None
    for i, b in enumerate([*blocked, True]):
        if not b and start is None:
            start = i
        elif b and start is not None:
            out.append((start, i))
            start = None
    return out


def _sound_alikes(word: str) -> set[str]:
    """Spellings of `word` that sound alike in some dialect (chu→tru, xinh→sinh, hon→hong)."""
    out: set[str] = set()
    for onset in _ONSETS:
        if word.startswith(onset) and len(word) > len(onset):
            rest = word[len(onset) :]
            for group in _ONSET_GROUPS:
                if onset in group:
                    out.update(o + rest for o in group if o != onset)
            break
    for final in _FINALS:
        if word.endswith(final) and len(word) > len(final):
            stem = word[: -len(final)]
            for group in _FINAL_GROUPS:
                if final in group:
                    out.update(stem + f for f in group if f != final)
            break
    out.discard(word)
    return out


class SearchEngine:
    """BM25F + lexicon + typo-tolerant search over procedure records (immutable)."""

    def __init__(
        self,
        records: Iterable[ProcedureRecord],
        lexicon: Lexicon | None = None,
        config: SearchConfig | None = None,
    ) -> None:
        """Index `records` (a repeated code replaces the earlier); no lexicon means none used."""
        self.config = config or SearchConfig()
        self.lexicon = lexicon if lexicon is not None else Lexicon()
        unique: dict[str, ProcedureRecord] = {}
        for rec in records:
            unique.pop(rec.code, None)
            unique[rec.code] = rec
        self._records: tuple[ProcedureRecord, ...] = tuple(unique.values())
        self._by_code = {rec.code: i for i, rec in enumerate(self._records)}
        # The index is millions of small objects, none cyclic: pausing the cyclic collector
        # while building avoids repeated full scans that would double the build time.
        paused = gc.isenabled()
        gc.disable()
        try:
            self._build()
        finally:
            if paused:
                gc.enable()

    # ------------------------------------------------------------------ index
    def _build(self) -> None:
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

        # Pass 1: tokenise every field once; keep term counts and lengths.
        per_field: list[list[tuple[Counter[str], int]]] = [[] for _ in fields]
        name_words: list[frozenset[str]] = []
        phrases: list[tuple[_Phrase, ...]] = []
        content_bigrams: set[str] = set()  # doc bigrams made of two non-filler words
        for rec in self._records:
            for slot, (fname, _) in enumerate(fields):
                if fname == "keywords":
                    chunks = [analyze(k)[:limit] for k in rec.keywords]
                else:
                    chunks = [analyze(getattr(rec, fname))[:limit]]
                counts: Counter[str] = Counter()
                length = 0
                for pairs in chunks:
                    folded = [f for f, _ in pairs]
                    length += len(folded)
                    counts.update(folded)
                    if fname in accented:
                        counts.update(["~" + a for f, a in pairs if a != f])
                    if fname in bigrammed and len(pairs) > 1:
                        counts.update(
                            [f"{a} {b}" for a, b in zip(folded, folded[1:], strict=False)]
                        )
                        if fname in accented:
                            content_bigrams.update(
                                [
                                    f"{f1} {f2}"
                                    for (f1, a1), (f2, a2) in zip(pairs, pairs[1:], strict=False)
                                    if a1 not in STOP_WORDS and a2 not in STOP_WORDS
                                ]
                            )
                per_field[slot].append((counts, length))
                if fname == "name":
                    name_words.append(frozenset(f for pairs in chunks for f, _ in pairs))
                    phrases.append((_phrase(chunks[0]),))
                elif fname == "keywords":
                    phrases[-1] += tuple(_phrase(pairs) for pairs in chunks)

        # Pass 2: BM25F term weights per document, then postings per term.
        n_docs = len(self._records)
        norms: list[tuple[float, float, float, float]] = []  # weight, b, avg length, strength
        for slot, (fname, weight) in enumerate(fields):
            total = sum(length for _, length in per_field[slot])
            avg = (total / n_docs if n_docs else 0.0) or 1.0
            norms.append((weight, b_of.get(fname, cfg.default_b), avg, strength_of.get(fname, 0.2)))
        k1 = cfg.k1
        flat: defaultdict[str, list[Any]] = defaultdict(list)  # term → [doc, sat, strength, …]
        for doc in range(n_docs):
            tf: dict[str, float] = {}
            best: dict[str, float] = {}
            tf_get = tf.get
            for slot, (weight, b, avg, strength) in enumerate(norms):
                counts, length = per_field[slot][doc]
                if not counts:
                    continue
                norm = weight / (1.0 - b + b * length / avg)
                if not tf:
                    tf = {term: count * norm for term, count in counts.items()}
                    tf_get = tf.get
                    best = dict.fromkeys(counts, strength)
                    continue
                best.update(dict.fromkeys(counts.keys() - best.keys(), strength))
                for term, count in counts.items():
                    tf[term] = tf_get(term, 0.0) + count * norm
            for term, value in tf.items():
                flat[term] += (doc, value / (k1 + value), best[term])
        del per_field

        self._postings: dict[str, _Posting] = {
            t: _Posting(array("i", v[0::3]), array("f", v[1::3]), array("f", v[2::3]))
            for t, v in flat.items()
        }
        del flat
        self._idf: dict[str, float] = {
            t: math.log(1.0 + (n_docs - len(p.ids) + 0.5) / (len(p.ids) + 0.5))
            for t, p in self._postings.items()
        }
        self._max_idf = math.log(1.0 + (n_docs + 0.5) / 0.5)
        self._accent_strength = min(
            (strength_of.get(f, 0.2) for f in accented if f in dict(fields)), default=1.0
        )
        unknown = self._max_idf * cfg.unknown_weight
        self._name_words: list[dict[str, float]] = [
            {t: self._idf.get(t, unknown) for t in words} for words in name_words
        ]
        self._name_totals = [sum(w.values()) or 1.0 for w in self._name_words]
        self._content_bigrams = frozenset(content_bigrams)
        self._phrases = [tuple(self._weigh(p) for p in doc if p.unigrams) for doc in phrases]
        vocab = sorted(t for t in self._postings if " " not in t and not t.startswith("~"))
        self._vocab = frozenset(vocab)
        self._vocab_list = vocab
        neighbours: dict[str, set[str]] = {}
        for term in self._postings:
            if " " in term:
                left, right = term.split(" ", 1)
                neighbours.setdefault(">" + left, set()).add(right)
                neighbours.setdefault("<" + right, set()).add(left)
        self._neighbours = {k: tuple(sorted(v)) for k, v in neighbours.items()}
        # Words and pairs the query side knows besides the index: lexicon phrases and filler.
        extra_words: set[str] = set(_FILLER_FOLDED_WORDS)
        extra_pairs: set[str] = set(_FILLER_FOLDED_PAIRS)
        for entry in self.lexicon:
            extra_words.update(entry.key)
            extra_pairs.update(f"{a} {b}" for a, b in zip(entry.key, entry.key[1:], strict=False))
        self._extra_words = frozenset(extra_words - self._vocab)
        self._extra_pairs = frozenset(extra_pairs)
        self._word_list = sorted(self._vocab | self._extra_words)
        self._accents = frozenset({a for e in self.lexicon for a in e.accented} | set(STOP_WORDS))
        heads: dict[str, tuple[array[int], array[float]]] = {}
        for term, post in self._postings.items():
            if len(post.ids) > cfg.head_size:
                order = sorted(range(len(post.ids)), key=post.sat.__getitem__, reverse=True)
                top = sorted(order[: cfg.head_size])
                heads[term] = (
                    array("i", [post.ids[j] for j in top]),
                    array("f", [post.sat[j] for j in top]),
                )
        self._heads = heads

    def _weigh(self, phrase: _Phrase) -> _Phrase:
        unknown = self._max_idf * self.config.unknown_weight
        terms = phrase.bigrams or phrase.unigrams
        weights = tuple(self._idf.get(t, unknown) for t in terms)
        return phrase._replace(weights=weights, total=sum(weights) or 1.0)

    # ------------------------------------------------------------------ public API
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
        scored = self._search(query)
        hits: list[SearchHit] = []
        ceiling = 1.0
        for r in scored[: max(0, limit)]:
            # scores never increase down the list, so the display order reads naturally
            ceiling = min(ceiling, r.confidence)
            rec = self._records[r.doc]
            hits.append(SearchHit(code=rec.code, name=rec.name, score=round(ceiling, 4)))
        abstained = not scored or scored[0].confidence < self.config.abstain_below
        return SearchResponse(query=query, abstained=abstained, hits=hits)

    def explain(self, query: str, limit: int = 5) -> dict[str, object]:
        """Debugging aid: the parsed query and the features of the best candidates."""
        q = self._parse(query)
        scored = self._rank(q) if q.terms else []
        return {
            "units": [
                (
                    [[(t, round(w, 2)) for t, w in form] for form in u.forms][:1],
                    round(u.weight, 2),
                    u.words,
                )
                for u in q.units
            ],
            "top": [
                {
                    "code": self._records[r.doc].code,
                    "name": self._records[r.doc].name[:50],
                    "conf": round(r.confidence, 3),
                    "rank": round(r.rank, 3),
                    **{k: round(v, 3) for k, v in r.features.items()},
                }
                for r in scored[:limit]
            ],
        }

    def _search(self, query: str) -> list[_Scored]:
        if not self._records:
            return []
        q = self._parse(query)
        scored = self._rank(q) if q.terms else []
        # A procedure code typed in the question (officials do: "thủ tục 1.001193") is the
        # answer, whatever the words around it say.
        typed = _CODE_RE.findall(query[: self.config.max_query_chars])
        coded = list(dict.fromkeys(self._by_code[c] for c in typed if c in self._by_code))
        if coded:
            rest = [r for r in scored if r.doc not in coded]
            scored = [_Scored(d, 1.0, math.inf, {}) for d in coded] + rest
        return scored

    # ------------------------------------------------------------------ query parsing
    def _known(self, folded: str) -> bool:
        return folded in self._vocab

    def _is_bigram(self, left: str, right: str) -> bool:
        return f"{left} {right}" in self._postings

    def _is_word(self, folded: str) -> bool:
        """A syllable the index, the lexicon or the filler lists know."""
        return folded in self._vocab or folded in self._extra_words

    def _is_pair(self, left: str, right: str) -> bool:
        pair = f"{left} {right}"
        return pair in self._postings or pair in self._extra_pairs

    def _decode(self, pairs: list[Pair]) -> list[Pair]:
        """Repair syllables nobody knows before phrases are matched: raw Telex/VNI keystrokes,
        letters held down ("sinnhh", "đâuuu"), and one-letter slips that a neighbour confirms
        ("tma vắng" → "tạm vắng", "os đỏ" → "sổ đỏ")."""
        out = list(pairs)
        for i, (folded, acc) in enumerate(pairs):
            if not folded.isalnum():
                continue
            if self._is_word(folded):
                # typed with marks nobody uses ("kẩu", "giấ"): a slip if a neighbour says so
                if acc == folded or acc in self._accents or "~" + acc in self._postings:
                    continue
                prev = out[i - 1][0] if i > 0 else ""
                nxt = pairs[i + 1][0] if i + 1 < len(pairs) else ""
                if (prev and self._is_pair(prev, folded)) or (nxt and self._is_pair(folded, nxt)):
                    continue
            fixed: Pair | None = None
            if folded.isascii():
                for decoder in (decode_telex, decode_vni):
                    decoded = decoder(folded)
                    if decoded is None:
                        continue
                    new = analyze(decoded, expand=False)
                    if len(new) == 1 and self._is_word(new[0][0]):
                        fixed = new[0]
                        break
            if fixed is None and folded.isalpha():
                single = _REPEATS_RE.sub(r"\1", acc)
                if single != acc:
                    new = analyze(single, expand=False)
                    if len(new) == 1 and self._is_word(new[0][0]):
                        fixed = new[0]
            if fixed is None and folded.isalpha() and len(folded) >= 2:
                prev = out[i - 1][0] if i > 0 else ""
                nxt = pairs[i + 1][0] if i + 1 < len(pairs) else ""
                cands = {c for c in _sound_alikes(folded) if self._is_word(c)}
                # A well-formed syllable nobody indexed is most likely a real word the KB
                # lacks ("xăng" typed bare is not "nâng"): only by-ear confusions apply to it.
                if self._is_word(folded) or not is_syllable(folded):
                    cands.update(
                        c
                        for c, _, _ in process.extract(
                            folded, self._word_list, scorer=OSA.distance, score_cutoff=1, limit=20
                        )
                    )
                fits = sorted(
                    c
                    for c in cands
                    if (prev and self._is_pair(prev, c)) or (nxt and self._is_pair(c, nxt))
                )
                if fits:
                    best = max(
                        fits,
                        key=lambda c: (
                            self._df(f"{prev} {c}") + self._df(f"{c} {nxt}"),
                            self._df(c),
                            c,
                        ),
                    )
                    fixed = (best, best)
            if fixed is not None:
                out[i] = fixed
        return out

    def _df(self, term: str) -> int:
        post = self._postings.get(term)
        return len(post.ids) if post is not None else 0

    def _stop_mask(self, pairs: list[Pair], covered: list[bool]) -> list[bool]:
        n = len(pairs)
        stop = [False] * n
        # phrase filler, matched on each run of syllables the lexicon did not take
        i = 0
        while i < n:
            if covered[i]:
                i += 1
                continue
            j = i
            while j < n and not covered[j]:
                j += 1
            for m in _STOP_MATCHER.find(pairs[i:j]):
                for k in range(i + m.start, i + m.end):
                    stop[k] = True
            i = j
        for i, (folded, acc) in enumerate(pairs):
            if covered[i] or stop[i]:
                continue
            if acc in STOP_WORDS or (acc == folded and folded in _STOP_FOLDED):
                stop[i] = True
            elif not folded.isalpha() and not self._known(folded):
                stop[i] = True  # numbers and codes the index lacks say nothing about the topic
        # A filler word that forms a known word with a content neighbour is content
        # ("căn cước", "lần đầu", "bản sao" look like "cần", "đâu", "sao" typed bare).
        changed = True
        while changed:
            changed = False
            for i in range(n):
                if not stop[i] or covered[i]:
                    continue
                f = pairs[i][0]
                left = i > 0 and not stop[i - 1] and not covered[i - 1]
                right = i + 1 < n and not stop[i + 1] and not covered[i + 1]
                if (left and f"{pairs[i - 1][0]} {f}" in self._content_bigrams) or (
                    right and f"{f} {pairs[i + 1][0]}" in self._content_bigrams
                ):
                    stop[i] = False
                    changed = True
        return stop

    def _corrections(self, pairs: list[Pair], i: int, content: list[bool]) -> list[str]:
        """Likely intended syllables for syllable i, best first (empty when it looks fine)."""
        word = pairs[i][0]
        prev = pairs[i - 1][0] if i > 0 and content[i - 1] else ""
        nxt = pairs[i + 1][0] if i + 1 < len(pairs) and content[i + 1] else ""

        def fits(c: str) -> bool:
            return bool((prev and self._is_bigram(prev, c)) or (nxt and self._is_bigram(c, nxt)))

        if not self._known(word):
            if len(word) < 2 or not word.isalpha():
                return []
            cands = {c for c in _sound_alikes(word) if self._known(c)}
            found = process.extract(
                word, self._vocab_list, scorer=OSA.distance, score_cutoff=1, limit=20
            )
            cands.update(c for c, _, _ in found)
            in_context = sorted(c for c in cands if fits(c))
            if in_context:
                return in_context[:3]
            if len(word) <= 3:
                return []  # too short to guess without context ("alo" is not "lao")
            pool = sorted(cands, key=lambda c: (-len(self._postings[c].ids), c))
            return pool[:2]
        # A known syllable that fits neither content neighbour may be a typo of another
        # ("kết hông" → "kết hôn", "tạm chú" → "tạm trú"); try the neighbours' continuations.
        if not (prev or nxt) or fits(word):
            return []
        pool_set = set(self._neighbours.get(">" + prev, ())) | set(
            self._neighbours.get("<" + nxt, ())
        )
        alikes = _sound_alikes(word)
        # With diacritics typed, only by-ear confusions are plausible ("thường chú"); a query
        # typed bare may also carry keyboard slips ("ket hin"). A bare syllable inside an
        # accented query is most likely a word without marks ("Thái Lan"), not a slip.
        typed_bare = not any(f != a for f, a in pairs)
        fixes = sorted(
            c
            for c in pool_set
            if c != word
            and len(c) >= 2
            and (c in alikes or (typed_bare and OSA.distance(word, c, score_cutoff=1) <= 1))
        )
        return fixes[:2]

    def _idf_of(self, term: str) -> float:
        return self._idf.get(term, self._max_idf * self.config.unknown_weight)

    def _parse(self, query: str) -> _Query:
        cfg = self.config
        # A question is a sentence or two; a pasted page must not cost more than that.
        pairs = self._decode(analyze(query[: cfg.max_query_chars])[: cfg.max_query_syllables])
        channel = [False] * len(pairs)
        for m in _CHANNEL_MATCHER.find(pairs):
            for j in range(m.start, m.end):
                channel[j] = True
        covered = [False] * len(pairs)
        starts: dict[int, LexiconMatch] = {}
        if len(self.lexicon):
            for lo, hi in _runs(channel):
                for m in self.lexicon.find(pairs[lo:hi], LIGHT_WORDS):
                    m = LexiconMatch(lo + m.start, lo + m.end, m.entry)
                    starts[m.start] = m
                    for j in range(m.start, m.end):
                        covered[j] = True
        stop = self._stop_mask(pairs, covered)
        stop = [s or c for s, c in zip(stop, channel, strict=True)]
        content = [not s for s in stop]
        q = _Query()
        terms = q.terms

        def add(term: str, weight: float) -> None:
            if weight > terms.get(term, 0.0):
                terms[term] = weight

        def bigrams_of(tokens: Sequence[str], weight: float) -> list[tuple[str, float]]:
            return [(f"{a} {b}", weight) for a, b in zip(tokens, tokens[1:], strict=False)]

        # The expanded sequence: each slot holds alternatives; None breaks bigrams.
        slots: list[list[tuple[str, float]] | None] = []
        slot_unit: list[_Unit | None] = []
        i = 0
        while i < len(pairs):
            match = starts.get(i)
            if match is not None:
                exp = [f for f, _ in match.entry.tokens]
                phrase = list(match.entry.key)  # without light words said in between
                # A long official wording must not outweigh the rest of the question: the
                # concept gets about the budget of one two-syllable word.
                hint = match.entry.weight  # below 1 for situational phrases
                share = hint * cfg.expansion_weight * min(1.0, cfg.concept_terms / len(exp))
                exp_terms = [(f, share) for f in exp]
                exp_terms += bigrams_of(exp, share * cfg.bigram_weight)
                phrase_terms = [(f, cfg.colloquial_weight) for f in phrase]
                phrase_terms += bigrams_of(phrase, cfg.colloquial_weight * cfg.bigram_weight)
                for t, w in exp_terms + phrase_terms:
                    add(t, w)
                q.words.update(exp)
                q.words.update(phrase)
                unit = _Unit(
                    [exp_terms, phrase_terms],
                    hint * cfg.concept_weight * self._max_idf,
                    concept=True,
                )
                q.units.append(unit)
                for f in exp:
                    slots.append([(f, 1.0)])
                    slot_unit.append(None)
                i = match.end
                continue
            if stop[i]:
                slots.append(None)
                slot_unit.append(None)
                i += 1
                continue
            folded, acc = pairs[i]
            alts: list[tuple[str, float]] = []
            known_word = self._known(folded)
            if known_word:
                alts.append((folded, 1.0))
            fixes = self._corrections(pairs, i, content)
            fix_weight = cfg.context_fix_weight if known_word else cfg.fuzzy_weight
            alts.extend((c, fix_weight / (1 + j)) for j, c in enumerate(fixes))
            for term, w in alts:
                add(term, w)
                q.words.add(term)
            accent = ""
            if known_word and acc != folded:
                accent = "~" + acc
                add(accent, cfg.accent_weight)
            weight = self._idf_of(alts[0][0] if alts else "")
            unit = _Unit([alts], weight, accent=accent)
            q.units.append(unit)
            slots.append(alts or None)
            slot_unit.append(unit)
            i += 1

        for k, (left, right) in enumerate(zip(slots, slots[1:], strict=False)):
            if not left or not right:
                continue
            options = [
                (f"{a} {b}", wa * wb * cfg.bigram_weight) for a, wa in left for b, wb in right
            ]
            known = [(t, w) for t, w in options if t in self._postings]
            for t, w in known:
                add(t, w)
            q.bigrams.append(options)
            # A syllable inside a known two-syllable word weighs as much as that word.
            for neighbour in (slot_unit[k], slot_unit[k + 1]):
                if neighbour is None:
                    continue
                neighbour.words.extend(t for t, _ in known)
                if not known:
                    neighbour.words.append("")  # a neighbour exists but the pair is unknown
        return q

    # ------------------------------------------------------------------ ranking
    def _lookup(self, terms: Iterable[str], doc: int) -> dict[str, tuple[float, float]]:
        """(saturated tf, field strength) of each of `terms` present in `doc`."""
        found: dict[str, tuple[float, float]] = {}
        postings = self._postings
        for term in terms:
            post = postings.get(term)
            if post is None:
                continue
            ids = post.ids
            j = bisect_left(ids, doc)
            if j < len(ids) and ids[j] == doc:
                found[term] = (post.sat[j], post.strength[j])
        return found

    def _unit_match(self, unit: _Unit, st: dict[str, float]) -> float:
        """How well a document (its term strengths `st`) answers one query unit, 0..1."""
        idf = self._idf.get
        unknown = self._max_idf * self.config.unknown_weight
        best = 0.0
        if unit.concept:
            for form in unit.forms:
                want = got = 0.0
                for term, _ in form:
                    w = idf(term, unknown)
                    want += w
                    got += w * st.get(term, 0.0)
                if want and got / want > best:
                    best = got / want
            # a concept is said or not: half of its words is much less than half an answer
            return best**self.config.concept_power
        for j, (term, w) in enumerate(unit.forms[0]):
            strength = st.get(term, 0.0)
            if j == 0 and unit.accent and strength >= self._accent_strength:
                strength = max(st.get(unit.accent, 0.0), self.config.accent_mismatch * strength)
            best = max(best, w * strength)
        if best and unit.words:
            # found, but is it the same word? a syllable the query used inside a two-syllable
            # word counts fully only when the doc has that word too
            in_word = max((st.get(t, 0.0) for t in unit.words if t), default=0.0)
            best = max(in_word, best * self.config.isolated)
        return best

    def _phrase_cover(self, doc: int, q: _Query) -> float:
        """Best share of one of the doc's name/keyword phrases that the query says."""
        best = 0.0
        for phrase in self._phrases[doc]:
            if phrase.bigrams:
                got = sum(
                    w for t, w in zip(phrase.bigrams, phrase.weights, strict=True) if t in q.terms
                )
                share = got / phrase.total
            else:
                got = sum(
                    w for t, w in zip(phrase.unigrams, phrase.weights, strict=True) if t in q.words
                )
                share = 0.7 * got / phrase.total
            if share > best:
                best = share
        return best

    def _rank(self, q: _Query) -> list[_Scored]:
        cfg = self.config
        postings = self._postings
        idf = self._idf
        weights = {t: w * idf[t] for t, w in q.terms.items() if t in postings}
        if not weights:
            return []
        # Candidates from an approximate score within a budget of postings read: rare terms
        # first and in full, common terms through their highest-impact head, if budget remains.
        approx: dict[int, float] = {}
        get = approx.get
        budget = cfg.posting_budget
        for term in sorted(weights, key=lambda t: (len(postings[t].ids), t)):
            ids, sats = self._heads.get(term) or postings[term][:2]
            if approx and len(ids) > budget:
                break
            budget -= len(ids)
            weight = weights[term]
            for d, s in zip(ids, sats, strict=True):
                approx[d] = get(d, 0.0) + weight * s
        size = cfg.candidates * 2
        if len(approx) > size:
            cut = heapq.nlargest(size, approx.values())[-1]
            chosen = [d for d, s in approx.items() if s > cut]
            ties = sorted(d for d, s in approx.items() if s == cut)  # lowest ids: deterministic
            chosen.extend(ties[: size - len(chosen)])
        else:
            chosen = list(approx)
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
        for d in chosen:
            found = self._lookup(needed_terms, d)
            bm25 = sum(weights[t] * v[0] for t, v in found.items() if t in weights)
            exact.append((d, bm25, {t: v[1] for t, v in found.items()}))
        exact.sort(key=lambda e: (-e[1], e[0]))
        pool = exact[: cfg.candidates]
        top_bm25 = pool[0][1] or 1.0
        total_weight = sum(u.weight for u in q.units) or 1.0

        results: list[_Scored] = []
        for d, bm25, st in pool:
            coverage = sum(u.weight * self._unit_match(u, st) for u in q.units) / total_weight
            if q.bigrams:
                bigram_cover = sum(
                    max(w * st.get(t, 0.0) for t, w in options) for options in q.bigrams
                ) / len(q.bigrams)
            else:
                bigram_cover = coverage
            name = self._name_words[d]
            name_cover = sum(w for t, w in name.items() if t in q.words) / self._name_totals[d]
            relative = bm25 / top_bm25
            phrase_cover = self._phrase_cover(d, q)
            logit = (
                cfg.conf_bias
                + cfg.conf_phrase * phrase_cover
                + cfg.conf_coverage * coverage
                + cfg.conf_bigrams * bigram_cover
                + cfg.conf_name * name_cover
                + cfg.conf_bm25 * math.log1p(bm25 / self._max_idf)
            )
            confidence = 1.0 / (1.0 + math.exp(-logit))
            # rank on the logit: near-certain candidates still differ in their evidence
            rank = (
                logit
                + cfg.rank_relative * relative
                + cfg.rank_phrase * phrase_cover
                + cfg.rank_name * name_cover
            )
            feats = {
                "bm25": bm25,
                "coverage": coverage,
                "bigrams": bigram_cover,
                "name": name_cover,
                "relative": relative,
                "phrase": phrase_cover,
            }
            results.append(_Scored(d, confidence, rank, feats))
        results.sort(key=lambda r: (-r.rank, r.doc))
        return results
