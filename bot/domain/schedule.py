"""When the tick must look at a case next: the per-case schedule behind `Case.next_action_at`.

The tick (bot/domain/reminders.py) decides what is due from the case and its history, as it
always did; this module only tells it *when* a case can next have something due, so a tick
reads the cases due by now through an index instead of every open case and its history every
minute. A case can next have something due

* on each reminder day (the due date minus each of CASE_REMINDER_DAYS_BEFORE days, and the
  due date itself), from the start of the working day (REPORT_DAY_START_HOUR);
* at the first waking moment after its due date, for the one escalation;
* on each progress-update day (every CASE_PROGRESS_UPDATE_DAYS days after receipt).

A schedule computed without the history (when a case changes) may point at something already
sent today; the tick then looks once, finds it recorded, and schedules the next thing. A case
that is not open has nothing due (None).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.domain.statuses import OPEN_STATUSES
from bot.settings import Settings
from storage.models import Case, CaseEvent

_OPEN = {s.value for s in OPEN_STATUSES}


def recorded(history: Iterable[CaseEvent], action: str, **details: Any) -> bool:
    """Whether `history` has an `action` event whose details include `details` (a reminder
    for this many days left before this due date, the escalation, a progress step)."""
    return any(
        e.action == action and all((e.details or {}).get(k) == v for k, v in details.items())
        for e in history
    )


@dataclass(frozen=True)
class Schedule:
    tz: ZoneInfo
    thresholds: frozenset[int]  # days before the due date; 0 = the due date itself
    progress_days: int = 0
    day_start_hour: int = 8

    @classmethod
    def of(cls, settings: Settings) -> Schedule:
        """The schedule the settings ask for (the same thresholds as the tick's)."""
        return cls(
            tz=settings.bot.tz,
            thresholds=frozenset(n for n in settings.cases.reminder_days_before if n > 0) | {0},
            progress_days=settings.cases.progress_update_days,
            day_start_hour=settings.reports.day_start_hour,
        )

    @property
    def fingerprint(self) -> str:
        """Changes whenever a stored schedule may no longer be right (settings changed)."""
        raw = repr((self.tz.key, sorted(self.thresholds), self.progress_days, self.day_start_hour))
        return "v1-" + hashlib.sha256(raw.encode()).hexdigest()[:24]

    def _day_start(self, day: date) -> datetime:
        return datetime.combine(day, time(self.day_start_hour), tzinfo=self.tz)

    def _awake_after(self, moment: datetime) -> datetime:
        """The first moment after `moment` when the tick acts (not before the day starts)."""
        after = moment + timedelta(microseconds=1)
        return max(after, self._day_start(after.astimezone(self.tz).date()))

    def next_action(
        self, case: Case, now: datetime, history: Iterable[CaseEvent] | None = None
    ) -> datetime | None:
        """The earliest moment something may be due for the case (at or before `now`: due
        now), or None. `history`: the case's reminder, escalation and progress events; without
        it, anything due today counts as not sent yet."""
        if case.status not in _OPEN:
            return None
        events = list(history) if history is not None else []

        def sent(action: str, **details: Any) -> bool:
            return recorded(events, action, **details)

        today = now.astimezone(self.tz).date()
        due_now = max(now, self._day_start(today))
        candidates: list[datetime] = []
        due_day = case.due_at.astimezone(self.tz).date()
        due_key = case.due_at.isoformat()
        for n in self.thresholds:
            day = due_day - timedelta(days=n)
            if day > today:
                candidates.append(self._day_start(day))
            elif day == today and not sent("reminder", days_left=n, due_at=due_key):
                candidates.append(due_now)
        if not sent("escalated"):
            candidates.append(self._awake_after(case.due_at))
        if self.progress_days:
            received = case.received_at.astimezone(self.tz).date()
            step = max(0, (today - received).days // self.progress_days)
            if step >= 1 and not sent("progress_update", step=step):
                candidates.append(due_now)
            candidates.append(
                self._day_start(received + timedelta(days=(step + 1) * self.progress_days))
            )
        return min(candidates) if candidates else None
