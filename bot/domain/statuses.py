"""Case statuses and the one table of allowed transitions (NĐ 20/2008 Điều 9, 14)."""

from __future__ import annotations

from enum import StrEnum

from bot.domain.errors import InvalidTransition


class Status(StrEnum):
    RECEIVED = "received"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"  # e.g. waiting for the citizen's extra information
    EXTENDED = "extended"  # open, with a new date after an apology
    TRANSFERRED = "transferred"  # landed at another agency, nobody took it yet
    ANSWERED = "answered"
    CLOSED = "closed"
    REJECTED = "rejected"  # "không thụ lý", with a reason


class Kind(StrEnum):
    FEEDBACK = "phan_anh"
    SUGGESTION = "kien_nghi"


_WORKING = {
    Status.ASSIGNED,
    Status.IN_PROGRESS,
    Status.ANSWERED,
    Status.TRANSFERRED,
    Status.REJECTED,
    Status.EXTENDED,
}

TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.RECEIVED: frozenset(_WORKING),
    Status.ASSIGNED: frozenset(_WORKING),
    Status.IN_PROGRESS: frozenset(_WORKING),
    # How many extensions a case may have is CASE_MAX_EXTENSIONS, checked by the service.
    Status.EXTENDED: frozenset(_WORKING),
    Status.TRANSFERRED: frozenset(_WORKING),
    # An answered case closes when the citizen rates the answer.
    Status.ANSWERED: frozenset({Status.CLOSED}),
    Status.CLOSED: frozenset(),
    Status.REJECTED: frozenset(),
}

OPEN_STATUSES = frozenset(
    {Status.RECEIVED, Status.ASSIGNED, Status.IN_PROGRESS, Status.EXTENDED, Status.TRANSFERRED}
)
FINAL_STATUSES = frozenset({Status.CLOSED, Status.REJECTED})


def check_transition(code: str, current: str, target: Status) -> None:
    """Raise InvalidTransition unless `current` → `target` is allowed."""
    if target not in TRANSITIONS[Status(current)]:
        raise InvalidTransition(code, current, target)
