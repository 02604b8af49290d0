"""Which agency a case goes to, and which rule decided it (recorded on the case)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from knowledge.normalize import fold, syllables
from knowledge.records import AgencyRecord, ProcedureRecord


@dataclass(frozen=True)
class Rule:
    id: int
    agency: str
    field: str | None = None
    keyword: str | None = None


@dataclass(frozen=True)
class RouteDecision:
    agency: str
    rule: str  # "procedure:<code>", "rule:<id> field=…/keyword=…", "default"


def route_case(
    *,
    procedure: ProcedureRecord | None,
    content: str,
    rules: Sequence[Rule],
    agencies: Mapping[str, AgencyRecord],
    default_agency: str,
) -> RouteDecision:
    """Procedure → its agency; else the first admin rule on field/keyword; else the default."""
    if procedure is not None and procedure.agency in agencies:
        return RouteDecision(procedure.agency, f"procedure:{procedure.code}")
    words = syllables(content)
    folded_field = fold(procedure.field) if procedure else ""
    for rule in rules:
        if rule.agency not in agencies:
            continue
        if rule.field and folded_field and fold(rule.field) == folded_field:
            return RouteDecision(rule.agency, f"rule:{rule.id} field={rule.field}")
        if rule.keyword and keyword_in(rule.keyword, words):
            return RouteDecision(rule.agency, f"rule:{rule.id} keyword={rule.keyword}")
    return RouteDecision(default_agency, "default")


def _word_matches(keyword_word: str, word: str) -> bool:
    # A word typed with diacritics must agree with the keyword's ("hỗ" is not "hộ"); a word
    # typed without any (ho) may stand for any accented form of it.
    return word == keyword_word or (word == fold(word) and word == fold(keyword_word))


def keyword_in(keyword: str, words: Sequence[str]) -> bool:
    """Whether the keyword's words occur, in order and whole, among `words`."""
    wanted = syllables(keyword)
    if not wanted:
        return False
    if wanted == [fold(w) for w in wanted]:  # a keyword typed without diacritics: folded match
        folded = [fold(w) for w in words]
        return any(folded[i : i + len(wanted)] == wanted for i in range(len(folded)))
    return any(
        all(_word_matches(k, w) for k, w in zip(wanted, words[i : i + len(wanted)], strict=True))
        for i in range(len(words) - len(wanted) + 1)
    )
