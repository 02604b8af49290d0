"""Which part of a long message asks: the clause that asks weighs more than the story around it.

Citizens often tell a story before they ask ("xin chào, tôi là người Pháp, lấy vợ Việt, đang
sống ở Đà Nẵng, thẻ tạm trú của tôi sắp hết, tôi cần gia hạn thế nào"). Every word of the
story used to weigh as much as the question, so a procedure matching the story ("kết hôn")
could beat the one asked for ("gia hạn tạm trú"). The message is cut into clauses at
punctuation and at a few discourse words ("nhưng", "giờ"); a clause **asks** when it carries
an asking cue (muốn, cần, xin, làm sao, thế nào, ở đâu, gì, a final "không", a question
mark…). When some clauses ask and others only tell, the telling clauses' words weigh
`STORY_WEIGHT` in the search; when no clause asks, or all do, every word weighs the same.

Life events, qualifiers and intents are still read on the whole message: the story is where a
situation ("bố tôi vừa mất") or a variant ("chồng người Hàn") is told.
"""

from __future__ import annotations

import re

from knowledge.lexicon import Lexicon
from knowledge.normalize import analyze
from knowledge.search.fillers import STOP_MATCHER, is_stop_word

__all__ = ["STORY_WEIGHT", "clause_breaks", "clause_focus"]

STORY_WEIGHT = 0.7
# Punctuation that ends a clause; "?" also marks the clause before it as asking.
_CUT_RE = re.compile(r"([,.;:!?\n]+)")
# Discourse words that start a new clause (said bare or with their marks).
_BREAK_WORDS = frozenset({"nhưng", "nhung", "giờ", "gio", "bây", "hiện", "vậy", "vay"})
_BREAK_NEXT = {"bây": "giờ", "hiện": "giờ"}
# Asking cues: a clause carrying one asks for something.
_ASK = """
muốn | cần | xin | làm sao | thế nào | như thế nào | ra sao | ở đâu | chỗ nào | nơi nào | gì
| được không | có được không | có phải | phải làm | bao lâu | bao nhiêu | mấy ngày | hỏi
| thủ tục | hướng dẫn | có cần | nên làm | có được | được nhận | được hưởng | được hỗ trợ
| làm thế nào | làm giấy | làm lại | đăng ký | đăng kí | có ai | nhờ
"""
_ASK_MATCHER = Lexicon((p.strip(), "ask") for p in _ASK.replace("\n", " ").split("|") if p.strip())
# A clause that ends in "không" (before particles) is a yes/no question.
_PARTICLES = frozenset({"a", "ạ", "à", "nhỉ", "nhi", "nhé", "nhe", "nha", "vậy", "vay", "hả", "ha"})


def _clauses(text: str) -> list[tuple[int, int, bool]]:
    """The message's clauses as [start, end) syllable spans of `analyze(text)`, each with
    whether a "?" ended it."""
    parts = _CUT_RE.split(text)
    out: list[tuple[int, int, bool]] = []
    base = 0
    for k in range(0, len(parts), 2):
        pairs = analyze(parts[k])
        mark = "?" in parts[k + 1] if k + 1 < len(parts) else False
        # a discourse word inside the clause starts another one
        start = 0
        for i, (_, acc) in enumerate(pairs):
            if i > start and acc in _BREAK_WORDS:
                nxt = _BREAK_NEXT.get(acc)
                if nxt is None or (i + 1 < len(pairs) and pairs[i + 1][1] == nxt):
                    out.append((base + start, base + i, False))
                    start = i
        if start < len(pairs):
            out.append((base + start, base + len(pairs), mark))
        base += len(pairs)
    return out


def clause_breaks(text: str) -> frozenset[int]:
    """Positions in `analyze(text)` where punctuation started a new clause: two syllables on
    either side of a comma do not make a word ("mới chào đời, cần lo" says no "đổi căn")."""
    out: set[int] = set()
    base = 0
    parts = _CUT_RE.split(text)
    for k in range(0, len(parts), 2):
        if base:
            out.add(base)
        base += len(analyze(parts[k]))
    return frozenset(out)


def clause_focus(text: str, limit: int) -> list[float] | None:
    """A weight per syllable of `analyze(text)[:limit]`: `STORY_WEIGHT` for syllables of clauses
    that only tell, 1 elsewhere; None when the message is one clause, or no clause or every
    clause asks (nothing to set apart). An asking clause that names nothing ("em phải làm
    sao") asks about the clause before it."""
    clauses = [c for c in _clauses(text) if c[1] > c[0]]
    if len(clauses) < 2:
        return None
    pairs = analyze(text)
    if clauses[-1][1] != len(pairs):
        return None  # the cut split a token ("1.001193"): do not guess the alignment
    ask_cue = [False] * len(pairs)
    for m in _ASK_MATCHER.find(pairs):
        ask_cue[m.start : m.end] = [True] * (m.end - m.start)
    idle = list(ask_cue)  # asking words and filler: they name nothing
    for m in STOP_MATCHER.find(pairs):
        idle[m.start : m.end] = [True] * (m.end - m.start)
    idle = [i or is_stop_word(f, a) for i, (f, a) in zip(idle, pairs, strict=True)]
    asks: list[bool] = []
    for lo, hi, mark in clauses:
        tail = [f for f, a in pairs[lo:hi] if a not in _PARTICLES]
        asks.append(mark or any(ask_cue[lo:hi]) or (bool(tail) and tail[-1] == "khong"))
    for k in range(len(clauses) - 1, 0, -1):
        lo, hi, _ = clauses[k]
        if asks[k] and all(idle[lo:hi]):
            asks[k - 1] = True
    if all(asks) or not any(asks):
        return None
    weights = [1.0] * len(pairs)
    for (lo, hi, _), ask in zip(clauses, asks, strict=True):
        if not ask:
            weights[lo:hi] = [STORY_WEIGHT] * (hi - lo)
    return weights[:limit]
