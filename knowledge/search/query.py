"""Turn a question into a weighted `Query`: repair typing, set filler aside, expand the lexicon.

Steps 1-4 of the pipeline in `knowledge.search`: the syllables of the question are repaired
against what the index (and the lexicon, and the filler lists) know, asides and filler are
masked, lexicon phrases become concept units with their official wording, and each remaining
syllable becomes a unit with its spelling alternatives. The result carries the BM25 terms with
their query weights and the units the confidence features are computed over.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from rapidfuzz import process
from rapidfuzz.distance import OSA

from knowledge.lexicon import LexiconMatch, Pair
from knowledge.normalize import analyze, decode_telex, decode_vni, is_syllable
from knowledge.search.fillers import (
    CHANNEL_MATCHER,
    LIGHT_WORDS,
    STOP_MATCHER,
    is_stop_word,
)
from knowledge.search.index import Index

__all__ = ["Query", "Unit", "parse"]


@dataclass(slots=True)
class Unit:
    """One meaningful piece of the query: a syllable (with corrections) or a lexicon concept."""

    forms: list[list[tuple[str, float]]]  # alternative ways to match: terms with weights
    weight: float  # importance for coverage (idf based)
    accent: str = ""  # "~" + syllable as typed with diacritics, for a token unit
    concept: bool = False
    words: list[str] = field(default_factory=list)  # bigrams this syllable forms with neighbours


@dataclass(slots=True)
class Query:
    """A parsed question: its units, its BM25 terms and the options of each adjacent pair."""

    units: list[Unit] = field(default_factory=list)
    terms: dict[str, float] = field(default_factory=dict)  # BM25 terms → query weight
    bigrams: list[list[tuple[str, float]]] = field(default_factory=list)  # adjacent pairs
    words: set[str] = field(default_factory=set)  # every folded syllable the query brings
    pairs: list[Pair] = field(default_factory=list)  # the repaired syllables of the question
    content: list[bool] = field(default_factory=list)  # syllable i is neither filler nor aside
    expanded: list[str] = field(default_factory=list)  # folded syllables, lexicon phrases expanded
    bigram_weights: list[float] = field(default_factory=list)  # weight of each of `bigrams`
    # Terms and words said only in a clause that tells rather than asks, with their weight
    # (see `knowledge.search.clauses`); anything absent weighs 1.
    focus: dict[str, float] = field(default_factory=dict)


_REPEATS_RE = re.compile(r"(\w)\1+")

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


def _decode(pairs: list[Pair], index: Index) -> list[Pair]:
    """Repair syllables nobody knows before phrases are matched: raw Telex/VNI keystrokes,
    letters held down ("sinnhh", "đâuuu"), and one-letter slips that a neighbour confirms
    ("tma vắng" → "tạm vắng", "os đỏ" → "sổ đỏ")."""
    out = list(pairs)
    for i, (folded, acc) in enumerate(pairs):
        if not folded.isalnum():
            continue
        if index.is_word(folded):
            # typed with marks nobody uses ("kẩu", "giấ"): a slip if a neighbour says so
            if acc == folded or acc in index.accents or "~" + acc in index.postings:
                continue
            prev = out[i - 1][0] if i > 0 else ""
            nxt = pairs[i + 1][0] if i + 1 < len(pairs) else ""
            if (prev and index.is_pair(prev, folded)) or (nxt and index.is_pair(folded, nxt)):
                continue
        fixed: Pair | None = None
        if folded.isascii():
            for decoder in (decode_telex, decode_vni):
                decoded = decoder(folded)
                if decoded is None:
                    continue
                new = analyze(decoded, expand=False)
                if len(new) == 1 and index.is_word(new[0][0]):
                    fixed = new[0]
                    break
        if fixed is None and folded.isalpha():
            single = _REPEATS_RE.sub(r"\1", acc)
            if single != acc:
                new = analyze(single, expand=False)
                if len(new) == 1 and index.is_word(new[0][0]):
                    fixed = new[0]
        if fixed is None and folded.isalpha() and len(folded) >= 2:
            prev = out[i - 1][0] if i > 0 else ""
            nxt = pairs[i + 1][0] if i + 1 < len(pairs) else ""
            cands = {c for c in _sound_alikes(folded) if index.is_word(c)}
            # A well-formed syllable nobody indexed is most likely a real word the KB
            # lacks ("xăng" typed bare is not "nâng"): only by-ear confusions apply to it.
            if index.is_word(folded) or not is_syllable(folded):
                edits = (
                    c
                    for c, _, _ in process.extract(
                        folded, index.word_list, scorer=OSA.distance, score_cutoff=1, limit=20
                    )
                )
                if acc != folded and is_syllable(folded):
                    # marks typed on a real syllable ("đứt"): only a letter left out is a
                    # slip ("kẩu" → "khẩu", "giấ" → "giấy"), not another vowel ("đất")
                    edits = (c for c in edits if len(c) == len(folded) + 1)
                cands.update(edits)
            fits = sorted(
                c
                for c in cands
                if (prev and index.is_pair(prev, c)) or (nxt and index.is_pair(c, nxt))
            )
            if fits:
                best = max(
                    fits,
                    key=lambda c: (
                        index.df(f"{prev} {c}") + index.df(f"{c} {nxt}"),
                        index.df(c),
                        c,
                    ),
                )
                fixed = (best, best)
        if fixed is not None:
            out[i] = fixed
    return out


def _stop_mask(pairs: list[Pair], covered: list[bool], index: Index) -> list[bool]:
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
        for m in STOP_MATCHER.find(pairs[i:j]):
            for k in range(i + m.start, i + m.end):
                stop[k] = True
        i = j
    for i, (folded, acc) in enumerate(pairs):
        if covered[i] or stop[i]:
            continue
        if is_stop_word(folded, acc):
            stop[i] = True
        elif not folded.isalpha() and not index.known(folded):
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
            if (left and f"{pairs[i - 1][0]} {f}" in index.content_bigrams) or (
                right and f"{f} {pairs[i + 1][0]}" in index.content_bigrams
            ):
                stop[i] = False
                changed = True
    return stop


def _corrections(pairs: list[Pair], i: int, content: list[bool], index: Index) -> list[str]:
    """Likely intended syllables for syllable i, best first (empty when it looks fine)."""
    word = pairs[i][0]
    prev = pairs[i - 1][0] if i > 0 and content[i - 1] else ""
    nxt = pairs[i + 1][0] if i + 1 < len(pairs) and content[i + 1] else ""

    def fits(c: str) -> bool:
        return bool((prev and index.is_bigram(prev, c)) or (nxt and index.is_bigram(c, nxt)))

    if not index.known(word):
        if len(word) < 2 or not word.isalpha():
            return []
        cands = {c for c in _sound_alikes(word) if index.known(c)}
        # A well-formed syllable typed with its marks is a real word the KB lacks ("Úc",
        # "gái"), not a slip: only by-ear confusions apply to it.
        if pairs[i][1] == word or not is_syllable(word):
            found = process.extract(
                word, index.vocab_list, scorer=OSA.distance, score_cutoff=1, limit=20
            )
            cands.update(c for c, _, _ in found)
        in_context = sorted(c for c in cands if fits(c))
        if in_context:
            return in_context[:3]
        if len(word) <= 3:
            return []  # too short to guess without context ("alo" is not "lao")
        pool = sorted(cands, key=lambda c: (-index.df(c), c))
        return pool[:2]
    # A known syllable that fits neither content neighbour may be a typo of another
    # ("kết hông" → "kết hôn", "tạm chú" → "tạm trú"); try the neighbours' continuations.
    if not (prev or nxt) or fits(word):
        return []
    pool_set = set(index.neighbours.get(">" + prev, ())) | set(index.neighbours.get("<" + nxt, ()))
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


def _names_something(
    pairs: list[Pair], content: list[bool], covered: list[bool], weigh: list[float], index: Index
) -> bool:
    """Whether the asking part of the question (weight 1) names a topic by itself: a lexicon
    phrase, or a two-syllable word of the knowledge base ("gia hạn", "chủ hộ")."""
    if all(w >= 1.0 for w in weigh):
        return True
    for i in range(len(pairs)):
        if weigh[i] < 1.0 or not content[i]:
            continue
        if covered[i]:
            return True
        if (
            i + 1 < len(pairs)
            and weigh[i + 1] >= 1.0
            and content[i + 1]
            and f"{pairs[i][0]} {pairs[i + 1][0]}" in index.content_bigrams
        ):
            return True
    return False


def parse(
    query: str,
    index: Index,
    focus: Sequence[float] | None = None,
    breaks: frozenset[int] = frozenset(),
) -> Query:
    """The units and weighted terms of `query`, read against `index` and its lexicon.

    `focus` weighs each syllable of the question (`knowledge.search.clauses`: the story
    around the clause that asks weighs less); ignored when the asking part names nothing.
    `breaks` are the positions where punctuation started a clause: no two-syllable word spans
    them."""
    cfg = index.config
    lexicon = index.lexicon
    # A question is a sentence or two; a pasted page must not cost more than that.
    pairs = _decode(analyze(query[: cfg.max_query_chars])[: cfg.max_query_syllables], index)
    channel = [False] * len(pairs)
    for m in CHANNEL_MATCHER.find(pairs):
        for j in range(m.start, m.end):
            channel[j] = True
    covered = [False] * len(pairs)
    starts: dict[int, LexiconMatch] = {}
    if len(lexicon):
        for lo, hi in _runs(channel):
            for m in lexicon.find(pairs[lo:hi], LIGHT_WORDS):
                m = LexiconMatch(lo + m.start, lo + m.end, m.entry)
                starts[m.start] = m
                for j in range(m.start, m.end):
                    covered[j] = True
    stop = _stop_mask(pairs, covered, index)
    stop = [s or c for s, c in zip(stop, channel, strict=True)]
    content = [not s for s in stop]
    q = Query(pairs=pairs, content=content)
    terms = q.terms
    weigh = list(focus or ())[: len(pairs)]
    weigh += [1.0] * (len(pairs) - len(weigh))
    if not _names_something(pairs, content, covered, weigh, index):
        weigh = [1.0] * len(pairs)  # the asking clause names nothing: the story is the question
    best_focus: dict[str, float] = {}

    def add(term: str, weight: float, f: float = 1.0) -> None:
        if weight > terms.get(term, 0.0):
            terms[term] = weight
        best_focus[term] = max(best_focus.get(term, 0.0), f)

    def bigrams_of(tokens: Sequence[str], weight: float) -> list[tuple[str, float]]:
        return [(f"{a} {b}", weight) for a, b in zip(tokens, tokens[1:], strict=False)]

    # The expanded sequence: each slot holds alternatives; None breaks bigrams.
    slots: list[list[tuple[str, float]] | None] = []
    slot_unit: list[Unit | None] = []
    slot_focus: list[float] = []
    i = 0
    while i < len(pairs):
        if i in breaks and slots and slots[-1] is not None:
            slots.append(None)
            slot_unit.append(None)
            slot_focus.append(1.0)
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
            fw = max(weigh[match.start : match.end])
            for t, w in exp_terms + phrase_terms:
                add(t, w, fw)
            for word in (*exp, *phrase):
                best_focus[word] = max(best_focus.get(word, 0.0), fw)
            q.words.update(exp)
            q.words.update(phrase)
            unit = Unit(
                [exp_terms, phrase_terms],
                fw * hint * cfg.concept_weight * index.max_idf,
                concept=True,
            )
            q.units.append(unit)
            for f in exp:
                slots.append([(f, 1.0)])
                slot_unit.append(None)
                slot_focus.append(fw)
            q.expanded.extend(exp)
            i = match.end
            continue
        q.expanded.append(pairs[i][0])
        if stop[i]:
            slots.append(None)
            slot_unit.append(None)
            slot_focus.append(1.0)
            i += 1
            continue
        folded, acc = pairs[i]
        alts: list[tuple[str, float]] = []
        known_word = index.known(folded)
        if known_word:
            alts.append((folded, 1.0))
        fixes = _corrections(pairs, i, content, index)
        fix_weight = cfg.context_fix_weight if known_word else cfg.fuzzy_weight
        alts.extend((c, fix_weight / (1 + j)) for j, c in enumerate(fixes))
        fw = weigh[i]
        for term, w in alts:
            add(term, w, fw)
            q.words.add(term)
        accent = ""
        if known_word and acc != folded:
            accent = "~" + acc
            add(accent, cfg.accent_weight, fw)
        weight = fw * index.idf_of(alts[0][0] if alts else "")
        unit = Unit([alts], weight, accent=accent)
        q.units.append(unit)
        slots.append(alts or None)
        slot_unit.append(unit)
        slot_focus.append(fw)
        i += 1

    for k, (left, right) in enumerate(zip(slots, slots[1:], strict=False)):
        if not left or not right:
            continue
        options = [(f"{a} {b}", wa * wb * cfg.bigram_weight) for a, wa in left for b, wb in right]
        known = [(t, w) for t, w in options if t in index.postings]
        fw = min(slot_focus[k], slot_focus[k + 1])
        for t, w in known:
            add(t, w, fw)
        q.bigrams.append(options)
        q.bigram_weights.append(fw)
        # A syllable inside a known two-syllable word weighs as much as that word.
        for neighbour in (slot_unit[k], slot_unit[k + 1]):
            if neighbour is None:
                continue
            neighbour.words.extend(t for t, _ in known)
            if not known:
                neighbour.words.append("")  # a neighbour exists but the pair is unknown
    q.focus = {t: f for t, f in best_focus.items() if f < 1.0}
    return q
