"""Search quality on labelled questions: top-1, seen, top-3, out-of-scope abstain rate, misses.

Rules: top-1 counts only answers the citizen actually got (not abstained and the expected
code first). "Seen" counts the expected code among what the citizen sees: the answer and the
related buttons under it, or the "did you mean" buttons when the engine abstained (the bot
shows `buttons` of them). Top-3 counts the expected code among the first three hits whatever
the engine did (kept for comparison with earlier reports). Out-of-scope rows (expect null)
count as correct when the engine abstains. Rows may carry a `kind` (situation, qualifier,
short, chatty, out_of_scope…): every figure is also reported per kind.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from knowledge.normalize import fold
from knowledge.search import SearchResponse

# How many buttons the bot shows under an answer or a "did you mean" (SearchSettings default).
DEFAULT_BUTTONS = 3


class _Searcher(Protocol):
    """Anything with SearchEngine.search's signature (the engine, or a scripted stand-in)."""

    def search(self, query: str, limit: int = 5) -> SearchResponse: ...


@dataclass(frozen=True)
class EvalRow:
    """One labelled question; `expect` is a procedure code, or None when out of scope.
    `also` lists other codes that are equally right (a question two procedures answer)."""

    q: str
    expect: str | None
    kind: str = ""
    also: tuple[str, ...] = ()

    @property
    def accepted(self) -> tuple[str, ...]:
        """Every code that counts as the right answer."""
        return (self.expect, *self.also) if self.expect is not None else ()


@dataclass
class Miss:
    """A question the engine got wrong: what it returned (top 3) and whether it abstained."""

    query: str
    expected: str | None
    got: list[str]
    abstained: bool
    kind: str = ""


@dataclass
class Counts:
    """The counts behind the rates, for one set or one kind of question."""

    in_scope: int = 0
    out_of_scope: int = 0
    top1_hits: int = 0
    seen_hits: int = 0
    top3_hits: int = 0
    abstained_out: int = 0

    @property
    def top1(self) -> float:
        """Share of in-scope questions answered (not abstained) with the expected code first."""
        return self.top1_hits / self.in_scope if self.in_scope else 0.0

    @property
    def seen(self) -> float:
        """Share of in-scope questions whose expected code the citizen sees (answer or button)."""
        return self.seen_hits / self.in_scope if self.in_scope else 0.0

    @property
    def top3(self) -> float:
        """Share of in-scope questions with the expected code among the first three hits."""
        return self.top3_hits / self.in_scope if self.in_scope else 0.0

    @property
    def abstain(self) -> float:
        """Share of out-of-scope questions on which the engine abstained."""
        return self.abstained_out / self.out_of_scope if self.out_of_scope else 0.0

    def figures(self) -> dict[str, Any]:
        """The counts and rates as JSON-friendly data."""
        return {
            "in_scope": self.in_scope,
            "out_of_scope": self.out_of_scope,
            "top1": round(self.top1, 4),
            "seen": round(self.seen, 4),
            "top3": round(self.top3, 4),
            "out_of_scope_abstain": round(self.abstain, 4),
        }


@dataclass
class EvalReport(Counts):
    """Counts, rates, per-kind counts and misses of one evaluation run."""

    kinds: dict[str, Counts] = field(default_factory=dict)
    misses: list[Miss] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """The figures, the figures per kind and the misses as JSON-friendly data."""
        return {
            **self.figures(),
            "kinds": {k: c.figures() for k, c in sorted(self.kinds.items())},
            "misses": [m.__dict__ for m in self.misses],
        }

    def format(self, misses: bool = True) -> str:
        """A short human report (`misses=False`: the figures only, for a set that must stay
        unseen by whoever tunes the engine)."""
        lines = [
            f"questions: {self.in_scope} in scope, {self.out_of_scope} out of scope",
            f"top-1: {self.top1:.3f}   seen: {self.seen:.3f}   top-3: {self.top3:.3f}   "
            f"out-of-scope abstain: {self.abstain:.3f}",
        ]
        if len(self.kinds) > 1 or (self.kinds and "" not in self.kinds):
            lines.append("per kind:")
            for kind, c in sorted(self.kinds.items()):
                if c.in_scope:
                    line = f"top-1 {c.top1:.3f}  seen {c.seen:.3f}  top-3 {c.top3:.3f}"
                    n = c.in_scope
                else:
                    line = f"abstain {c.abstain:.3f}"
                    n = c.out_of_scope
                lines.append(f"  {kind or '-':14s} {n:4d}  {line}")
        if misses and self.misses:
            lines.append("misses:")
            for m in self.misses:
                got = ", ".join(m.got) or "-"
                flag = " (abstained)" if m.abstained else ""
                kind = f"[{m.kind}] " if m.kind else ""
                lines.append(f"  {kind}expect {m.expected or 'null'} got [{got}]{flag}: {m.query}")
        return "\n".join(lines)


def load_rows(path: str | Path) -> list[EvalRow]:
    """Read JSON lines {"q": ..., "expect": code-or-null[, "kind": ...]} or, with several
    acceptable codes, {"q": ..., "expected": [codes] (empty: out of scope)}; blank lines
    skipped."""
    rows = []
    for number, line in enumerate(Path(path).read_text("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        data = json.loads(line)
        if not isinstance(data, dict) or "q" not in data:
            raise ValueError(f"line {number}: expected an object with 'q' and 'expect'")
        kind = str(data.get("kind") or "")
        if isinstance(data.get("expected"), list):
            codes = [str(c) for c in data["expected"]]
            expect = codes[0] if codes else None
            rows.append(EvalRow(str(data["q"]), expect, kind, tuple(codes[1:])))
        else:
            rows.append(EvalRow(str(data["q"]), data.get("expect"), kind))
    return rows


def shown_codes(response: SearchResponse, buttons: int = DEFAULT_BUTTONS) -> list[str]:
    """The codes the citizen sees: the answer and its related buttons, or "did you mean" —
    none under a request the KB cannot answer, whose reply is its channel, unless only the
    example phrases said so (`SearchResponse.scope`: the buttons are offered too)."""
    if response.intent and not response.scope:
        return []
    if response.best is not None:
        return [response.best.code, *(h.code for h in response.related[:buttons])]
    return [h.code for h in response.hits[:buttons]]


def _plain(text: str) -> str:
    return " ".join(fold(text).split())


def without_example_twins(rows: Iterable[EvalRow], phrases: Iterable[str]) -> list[EvalRow]:
    """The questions that are not, word for word (case, accents and spacing aside), one of
    the engine's example phrases: a question written independently can still coincide with
    a phrase ("gia han ho chieu"), and the engine has then seen its answer."""
    known = {_plain(p) for p in phrases}
    return [row for row in rows if _plain(row.q) not in known]


def evaluate(
    engine: _Searcher, rows: Iterable[EvalRow], buttons: int = DEFAULT_BUTTONS
) -> EvalReport:
    """Run every question through the engine and count, overall and per kind."""
    report = EvalReport()
    for row in rows:
        response = engine.search(row.q, limit=5)
        codes = [h.code for h in response.hits]
        kind = report.kinds.setdefault(row.kind, Counts())
        if row.expect is None:
            for c in (report, kind):
                c.out_of_scope += 1
                c.abstained_out += response.abstained
            if not response.abstained:
                report.misses.append(Miss(row.q, None, codes[:3], False, row.kind))
            continue
        right = set(row.accepted)
        first = not response.abstained and bool(codes) and codes[0] in right
        seen = bool(right & set(shown_codes(response, buttons)))
        for c in (report, kind):
            c.in_scope += 1
            c.top1_hits += first
            c.seen_hits += seen
            c.top3_hits += bool(right & set(codes[:3]))
        if not first:
            report.misses.append(Miss(row.q, row.expect, codes[:3], response.abstained, row.kind))
    return report
