"""Compare parsed records with the stored ones, so the admin can confirm before any write."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

__all__ = ["ImportDiff", "diff_records"]


@dataclass(slots=True)
class ImportDiff:
    """Codes added, updated, unchanged, and `removed` (stored but missing from the file).

    `removed` is a report only: an import never deletes, the admin decides separately.
    """

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    @property
    def has_changes(self) -> bool:
        """Return True when importing would add or update at least one record."""
        return bool(self.added or self.updated)


class _HasCode(Protocol):
    @property
    def code(self) -> str: ...


R = TypeVar("R", bound=_HasCode)


def diff_records(new: Sequence[R], existing: Mapping[str, R]) -> ImportDiff:
    """Compare file records with stored ones by code; `removed` is reported, never deleted."""
    diff = ImportDiff()
    seen: set[str] = set()
    for record in new:
        if record.code in seen:
            continue  # parse_* already reported the duplicate; the first one counts
        seen.add(record.code)
        stored = existing.get(record.code)
        if stored is None:
            diff.added.append(record.code)
        elif stored == record:
            diff.unchanged.append(record.code)
        else:
            diff.updated.append(record.code)
    diff.removed = [code for code in existing if code not in seen]
    return diff
