"""Which agency a case goes to, and which rule decided it (recorded on the case)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from knowledge.normalize import fold, syllables
from knowledge.records import KIND_COMMUNE_COMMITTEE, AgencyRecord, ProcedureRecord


@dataclass(frozen=True)
class Rule:
    id: int
    agency: str
    field: str | None = None
    keyword: str | None = None


@dataclass(frozen=True)
class Place:
    """Where the case is, as the intake understood it (see knowledge.places)."""

    status: str  # "resolved" | "unresolved" | "outside"
    unit_code: str | None = None
    unit_name: str | None = None
    how: str = ""  # "address: old Phường 3, Thành phố Đà Lạt → …", "picked", "location …"


@dataclass(frozen=True)
class RouteDecision:
    agency: str
    # "procedure:<code>", "procedure:<code> commune_police commune=<unit> (…)",
    # "rule:<id> field=…/keyword=…", "content commune=<unit> (…)", "default"
    rule: str
    unit_code: str | None = None
    unit_status: str | None = None  # set when routing needed a commune


def commune_kind(
    procedure: ProcedureRecord | None, agencies: Mapping[str, AgencyRecord]
) -> str | None:
    """The kind of commune agency a procedure's cases go to ("the People's Committee of the
    commune where the land is"), or None when the procedure names a definite agency."""
    if procedure is None:
        return None
    agency = agencies.get(procedure.agency)
    return agency.kind if agency is not None and agency.is_commune_placeholder else None


# Telegram refuses an inline keyboard of more than 100 buttons (Bot API: 400 "too many
# buttons"); a province's full commune directory is several hundred agencies.
MAX_TRANSFER_CHOICES = 100


def transfer_choices(
    agencies: Sequence[AgencyRecord], *, current: str, unit_code: str | None
) -> list[AgencyRecord]:
    """The agencies an official may pick to transfer a case to, at most MAX_TRANSFER_CHOICES:
    the province's agencies first, then those of the case's commune, then other communes."""
    others = [a for a in agencies if a.code != current]

    def rank(a: AgencyRecord) -> tuple[int, str]:
        commune = a.unit_code is not None and len(a.unit_code) == 5
        if not commune:
            return (0, a.code)
        return (1 if a.unit_code == unit_code else 2, a.name)

    return sorted(others, key=rank)[:MAX_TRANSFER_CHOICES]


def _commune_agency(
    agencies: Mapping[str, AgencyRecord], unit_code: str, kind: str
) -> AgencyRecord | None:
    found = [a for a in agencies.values() if a.unit_code == unit_code and a.kind == kind]
    return min(found, key=lambda a: a.code) if found else None


def route_case(
    *,
    procedure: ProcedureRecord | None,
    content: str,
    rules: Sequence[Rule],
    agencies: Mapping[str, AgencyRecord],
    default_agency: str,
    place: Place | None = None,
    mentioned: Place | None = None,
) -> RouteDecision:
    """Procedure → its agency (a commune-level one → that commune's agency of its kind);
    else the first admin rule on field/keyword; else the People's Committee of a commune the
    content names; else the default.

    A commune-level case whose commune is unknown, outside the province or missing from the
    directory goes to the placeholder agency when an admin bound it to a group, otherwise to
    the default (coordinating) agency, which transfers it; it is marked for the admins.
    Without a `place` (the intake did not ask: no province configured) it goes to the
    placeholder, as a procedure with a definite agency does."""
    if procedure is not None and procedure.agency in agencies:
        placeholder = agencies[procedure.agency]
        kind = placeholder.kind
        # place None: nobody asked where (PROVINCE_CODE off): the placeholder itself, as before.
        if not placeholder.is_commune_placeholder or kind is None or place is None:
            return RouteDecision(procedure.agency, f"procedure:{procedure.code}")
        head = f"procedure:{procedure.code} {kind}"
        if place.status == "resolved" and place.unit_code:
            target = _commune_agency(agencies, place.unit_code, kind)
            if target is not None:
                return RouteDecision(
                    target.code,
                    f"{head} commune={place.unit_code} ({place.how})",
                    place.unit_code,
                    "resolved",
                )
            why = f"commune={place.unit_code} not in the directory ({place.how})"
            status, unit = "unresolved", place.unit_code
        else:
            status = place.status
            why = f"commune {status}" + (f" ({place.how})" if place.how else "")
            unit = None
        fallback = procedure.agency if placeholder.chat_id is not None else default_agency
        return RouteDecision(fallback, f"{head} {why} → {fallback}", unit, status)
    words = syllables(content)
    folded_field = fold(procedure.field) if procedure else ""
    for rule in rules:
        if rule.agency not in agencies:
            continue
        if rule.field and folded_field and fold(rule.field) == folded_field:
            return RouteDecision(rule.agency, f"rule:{rule.id} field={rule.field}")
        if rule.keyword and keyword_in(rule.keyword, words):
            return RouteDecision(rule.agency, f"rule:{rule.id} keyword={rule.keyword}")
    if mentioned is not None and mentioned.status == "resolved" and mentioned.unit_code:
        target = _commune_agency(agencies, mentioned.unit_code, KIND_COMMUNE_COMMITTEE)
        if target is not None:
            return RouteDecision(
                target.code,
                f"content commune={mentioned.unit_code} ({mentioned.how})",
                mentioned.unit_code,
                "resolved",
            )
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
