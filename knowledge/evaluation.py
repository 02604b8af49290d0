"""Search quality on labelled questions: top-1, top-3, out-of-scope abstain rate, misses.

Rules: top-1 counts only answers the citizen actually got (not abstained and the expected
code first); top-3 counts the expected code among the first three hits even when the engine
abstained, because those are shown as "did you mean" buttons. Out-of-scope rows (expect null)
count as correct when the engine abstains.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from knowledge.search import SearchResponse


class _Searcher(Protocol):
    """Anything with SearchEngine.search's signature (the engine, or a scripted stand-in)."""

    def search(self, query: str, limit: int = 5) -> SearchResponse: ...


@dataclass(frozen=True)
class EvalRow:
    """One labelled question; `expect` is a procedure code, or None when out of scope."""

    q: str
    expect: str | None


@dataclass
class Miss:
    """A question the engine got wrong: what it returned (top 3) and whether it abstained."""

    query: str
    expected: str | None
    got: list[str]
    abstained: bool


@dataclass
class EvalReport:
    """Counts, rates and misses of one evaluation run."""

    in_scope: int = 0
    out_of_scope: int = 0
    top1_hits: int = 0
    top3_hits: int = 0
    abstained_out: int = 0
    misses: list[Miss] = field(default_factory=list)

    @property
    def top1(self) -> float:
        """Share of in-scope questions answered (not abstained) with the expected code first."""
        return self.top1_hits / self.in_scope if self.in_scope else 0.0

    @property
    def top3(self) -> float:
        """Share of in-scope questions with the expected code among the first three hits."""
        return self.top3_hits / self.in_scope if self.in_scope else 0.0

    @property
    def abstain(self) -> float:
        """Share of out-of-scope questions on which the engine abstained."""
        return self.abstained_out / self.out_of_scope if self.out_of_scope else 0.0

    def as_dict(self) -> dict[str, Any]:
        """The figures and misses as JSON-friendly data."""
        return {
            "in_scope": self.in_scope,
            "out_of_scope": self.out_of_scope,
            "top1": round(self.top1, 4),
            "top3": round(self.top3, 4),
            "out_of_scope_abstain": round(self.abstain, 4),
            "misses": [m.__dict__ for m in self.misses],
        }

    def format(self) -> str:
        """A short human report."""
        lines = [
            f"questions: {self.in_scope} in scope, {self.out_of_scope} out of scope",
            f"top-1: {self.top1:.3f}   top-3: {self.top3:.3f}   "
            f"out-of-scope abstain: {self.abstain:.3f}",
        ]
        if self.misses:
            lines.append("misses:")
            for m in self.misses:
                got = ", ".join(m.got) or "-"
                flag = " (abstained)" if m.abstained else ""
                lines.append(f"  expect {m.expected or 'null'} got [{got}]{flag}: {m.query}")
        return "\n".join(lines)


def load_rows(path: str | Path) -> list[EvalRow]:
    """Read JSON lines {"q": ..., "expect": code-or-null}; blank lines are skipped."""
    rows = []
    for number, line in enumerate(Path(path).read_text("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        data = json.loads(line)
        if not isinstance(data, dict) or "q" not in data:
            raise ValueError(f"line {number}: expected an object with 'q' and 'expect'")
        rows.append(EvalRow(str(data["q"]), data.get("expect")))
    return rows


def evaluate(engine: _Searcher, rows: Iterable[EvalRow]) -> EvalReport:
    """Run every question through the engine and count."""
    report = EvalReport()
    for row in rows:
        response = engine.search(row.q, limit=5)
        codes = [h.code for h in response.hits]
        if row.expect is None:
            report.out_of_scope += 1
            if response.abstained:
                report.abstained_out += 1
            else:
                report.misses.append(Miss(row.q, None, codes[:3], False))
            continue
        report.in_scope += 1
        first = not response.abstained and codes[:1] == [row.expect]
        report.top1_hits += first
        report.top3_hits += row.expect in codes[:3]
        if not first:
            report.misses.append(Miss(row.q, row.expect, codes[:3], response.abstained))
    return report
