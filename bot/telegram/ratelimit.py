"""Scheduling of outgoing messages under Telegram's send limits.

Telegram's FAQ for bot developers: about 30 messages per second overall, no more than one
message per second in a single chat, and no more than 20 messages per minute in one group
(Bot API FAQ, "My bot is hitting limits"). Exceeding them earns a 429 answer with ``retry_after``.

The limiter is pure bookkeeping, with no clock and no asyncio of its own: the caller passes a
monotonic ``now`` (``time.monotonic()`` or ``loop.time()`` in production, plain numbers in tests),
asks ``reserve`` for a slot, sleeps for the returned delay, then sends. Reservations are booked at
the moment they are granted, so concurrent senders each get a distinct future slot.

Every limit is a sliding window: at most ``limit`` sends in any half-open interval
``[t, t + window)``:

- global: ``global_per_second`` sends per 1 s window;
- per chat: 1 send per ``per_chat_interval`` window, i.e. consecutive sends to one chat are at
  least ``per_chat_interval`` apart;
- per group (negative chat ids: groups, supergroups, channels): ``group_per_minute`` sends per
  60 s window, on top of the per-chat spacing.

A sliding window (rather than a token bucket) never allows a burst larger than the stated limit
at a window boundary, which is what Telegram appears to enforce. Slots may be granted out of time
order (a penalised chat gets a far slot while other chats keep sending now), so each window keeps
its reservations sorted and a new slot is checked against every window that would contain it,
including windows made of slots already booked in the future.
"""

from __future__ import annotations

import logging
from bisect import bisect_right, insort
from dataclasses import dataclass, field
from typing import Protocol

log = logging.getLogger(__name__)

# Slack for float rounding: a slot placed exactly one window after another (t0 + w) may compute
# as a hair under w apart; without slack the search would retry the same slot forever.
_EPSILON = 1e-9

GROUP_WINDOW_SECONDS = 60.0
GLOBAL_WINDOW_SECONDS = 1.0
# How often idle per-chat state is swept, in seconds of ``now``.
_SWEEP_INTERVAL = 60.0


@dataclass
class _SlidingWindow:
    """At most ``limit`` booked times in any half-open interval of length ``window``."""

    limit: int
    window: float
    times: list[float] = field(default_factory=list)  # sorted
    # [start, end) known to admit no booking. Bookings are only ever added for times that can
    # still matter (pruning drops only times before ``now - window``), so an interval once
    # proven full stays full; remembering it keeps a broadcast that books thousands of slots
    # ahead linear instead of rescanning every full window for every new slot.
    _full: tuple[float, float] = (float("inf"), float("-inf"))

    def earliest(self, t: float) -> float:
        """The earliest time >= t at which one more booking keeps the limit."""
        start = t
        full_start, full_end = self._full
        if full_start <= t < full_end:
            t = full_end
        while True:
            conflict = self._conflict_start(t)
            if conflict is None:
                break
            # Every time in [t, conflict + window) would still overfill the same run (for a run
            # of bookings b1 <= ... <= bn with t, moving t later keeps their span under a
            # window until t reaches b1 + window), so nothing valid is skipped.
            t = conflict + self.window
        if t > start:
            if start <= full_end and t >= full_start:
                self._full = (min(full_start, start), max(full_end, t))
            else:
                self._full = (start, t)
        return t

    def _conflict_start(self, t: float) -> float | None:
        """Latest first booking among the runs of ``limit`` bookings that t would overfill."""
        times, limit = self.times, self.limit
        i = bisect_right(times, t)  # t would be inserted at index i
        # The windows containing t that could overflow hold t and ``limit`` consecutive
        # bookings times[j .. j + limit - 1], with j from i - limit to i.
        for j in range(min(i, len(times) - limit), max(0, i - limit) - 1, -1):
            first, last = times[j], times[j + limit - 1]
            if max(last, t) - min(first, t) < self.window - _EPSILON:
                return first  # j descends, so this is the latest start
        return None

    def add(self, t: float) -> None:
        insort(self.times, t)

    def prune(self, now: float) -> None:
        """Forget bookings that can no longer share a window with any time >= now."""
        cut = bisect_right(self.times, now - self.window)
        if cut:
            del self.times[:cut]

    def is_idle(self, now: float) -> bool:
        return not self.times or self.times[-1] <= now - self.window


def settle(windows: list[_SlidingWindow], t: float) -> float:
    """The earliest time >= t that every window admits."""
    # Each window only ever moves t later; stop once no window moves it.
    while True:
        moved = max(window.earliest(t) for window in windows)
        if moved <= t:
            return t
        t = moved


def windows_for(
    limiter: TelegramRateLimiter, chat_id: int, booked: dict[str, list[float]]
) -> dict[str, _SlidingWindow]:
    """The windows one send to ``chat_id`` must fit, keyed "global", "chat" and (groups)
    "group", holding the times ``booked`` (sorted) — for a store shared by processes."""
    windows = {
        "global": _SlidingWindow(
            limiter.global_per_second, GLOBAL_WINDOW_SECONDS, sorted(booked.get("global", ()))
        ),
        "chat": _SlidingWindow(1, limiter.per_chat_interval, sorted(booked.get("chat", ()))),
    }
    if limiter.is_group(chat_id):
        windows["group"] = _SlidingWindow(
            limiter.group_per_minute, GROUP_WINDOW_SECONDS, sorted(booked.get("group", ()))
        )
    return windows


@dataclass
class _ChatState:
    spacing: _SlidingWindow
    group: _SlidingWindow | None
    blocked_until: float = float("-inf")

    def windows(self) -> list[_SlidingWindow]:
        return [self.spacing] if self.group is None else [self.spacing, self.group]


class SharedLimits(Protocol):
    """Where several processes book their slots together (Redis, or the database), so that
    the bot as a whole, not each process, stays within Telegram's limits."""

    async def reserve(self, limiter: TelegramRateLimiter, chat_id: int) -> float:
        """Book the earliest allowed send to ``chat_id``; seconds to wait."""
        ...

    async def penalize(
        self, limiter: TelegramRateLimiter, chat_id: int | None, seconds: float
    ) -> None:
        """Hold sends to ``chat_id`` (all sends, if None) for ``seconds`` from now."""
        ...


class TelegramRateLimiter:
    """Grants send slots that respect the global, per-chat and per-group limits.

    ``reserve``/``penalize`` book in this process. ``acquire``/``hold`` book in ``shared``
    when one is given (every process of the bot then shares one budget), falling back to this
    process's bookkeeping while the shared store cannot be reached.
    """

    def __init__(
        self,
        global_per_second: int = 30,
        per_chat_interval: float = 1.0,
        group_per_minute: int = 20,
        *,
        shared: SharedLimits | None = None,
    ) -> None:
        if global_per_second < 1 or group_per_minute < 1:
            raise ValueError("message limits must be at least 1")
        if per_chat_interval < 0:
            raise ValueError("per_chat_interval must not be negative")
        self.global_per_second = global_per_second
        self.per_chat_interval = per_chat_interval
        self.group_per_minute = group_per_minute
        self._global = _SlidingWindow(global_per_second, GLOBAL_WINDOW_SECONDS)
        self._global_blocked_until = float("-inf")
        self._chats: dict[int, _ChatState] = {}
        self._last_sweep = float("-inf")
        self.shared = shared

    async def acquire(self, chat_id: int, now: float) -> float:
        """Like ``reserve``, in the shared store when there is one; seconds to wait."""
        if self.shared is not None:
            try:
                return await self.shared.reserve(self, chat_id)
            except Exception as exc:  # the store is down: keep sending, within this process
                log.warning("shared rate limit unavailable (%s); limiting per process", exc)
        return self.reserve(chat_id, now)

    async def hold(self, chat_id: int | None, now: float, seconds: float) -> None:
        """Like ``penalize`` (``seconds`` from ``now``), in the shared store when there is one."""
        self.penalize(chat_id, now + seconds)
        if self.shared is not None:
            try:
                await self.shared.penalize(self, chat_id, seconds)
            except Exception as exc:
                log.warning("shared rate limit unavailable (%s); penalty kept locally", exc)

    @property
    def tracked_chats(self) -> int:
        """Chats with state still held (recent sends or an active penalty)."""
        return len(self._chats)

    @staticmethod
    def is_group(chat_id: int) -> bool:
        """Groups, supergroups and channels have negative ids; users positive."""
        return chat_id < 0

    def reserve(self, chat_id: int, now: float) -> float:
        """Book the earliest allowed send to ``chat_id``; returns seconds to wait (0 = now)."""
        self._sweep(now)
        chat = self._chat(chat_id)
        windows = [self._global, *chat.windows()]
        t = settle(windows, max(now, self._global_blocked_until, chat.blocked_until))
        for window in windows:
            window.add(t)
        return t - now

    def penalize(self, chat_id: int | None, until: float) -> None:
        """Hold sends to ``chat_id`` (or all sends, if None) until ``until`` after a 429.

        ``until`` is ``now + retry_after`` on the same monotonic clock as ``reserve``. Slots
        booked before the penalty are not moved: the caller retries the failed send with a new
        ``reserve``.
        """
        if chat_id is None:
            self._global_blocked_until = max(self._global_blocked_until, until)
        else:
            chat = self._chat(chat_id)
            chat.blocked_until = max(chat.blocked_until, until)

    def _chat(self, chat_id: int) -> _ChatState:
        chat = self._chats.get(chat_id)
        if chat is None:
            group = (
                _SlidingWindow(self.group_per_minute, GROUP_WINDOW_SECONDS)
                if self.is_group(chat_id)
                else None
            )
            # A zero interval means "no per-chat spacing": an infinite limit in effect.
            spacing = _SlidingWindow(1, self.per_chat_interval)
            chat = self._chats[chat_id] = _ChatState(spacing=spacing, group=group)
        return chat

    def _sweep(self, now: float) -> None:
        """Prune windows and drop idle chats, so memory follows recent traffic only."""
        self._global.prune(now)
        if now - self._last_sweep < _SWEEP_INTERVAL:
            return
        self._last_sweep = now
        for chat_id, chat in list(self._chats.items()):
            for window in chat.windows():
                window.prune(now)
            if chat.blocked_until <= now and all(w.is_idle(now) for w in chat.windows()):
                del self._chats[chat_id]
