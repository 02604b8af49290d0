"""An injectable source of "now", so tests and `citizen-bot tick --now` can move time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    """The real time, always timezone-aware (UTC)."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that stays where it is put; `advance` moves it."""

    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware datetime")
        self._at = at

    def now(self) -> datetime:
        return self._at

    def set(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware datetime")
        self._at = at

    def advance(self, **delta: float) -> None:
        self._at = self._at + timedelta(**delta)


class ShiftedClock:
    """Another clock moved forward by an offset: the terminal chat's rehearsal time, which
    runs on with the real time and can be moved ahead (`/time +3d`)."""

    def __init__(self, base: Clock | None = None) -> None:
        self.base: Clock = base or SystemClock()
        self.offset = timedelta(0)

    def now(self) -> datetime:
        return self.base.now() + self.offset

    def set(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("ShiftedClock needs a timezone-aware datetime")
        self.offset = at - self.base.now()

    def advance(self, **delta: float) -> None:
        self.offset += timedelta(**delta)
