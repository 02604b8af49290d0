"""TelegramRateLimiter: the slots it grants and that each one is the earliest allowed."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.telegram.ratelimit import TelegramRateLimiter

USER_A, USER_B = 101, 102
GROUP = -1001234567890
OTHER_GROUP = -1009876543210


def test_first_send_is_immediate() -> None:
    assert TelegramRateLimiter().reserve(USER_A, now=5.0) == 0.0


def test_sends_to_one_chat_are_a_second_apart() -> None:
    limiter = TelegramRateLimiter()

    assert limiter.reserve(USER_A, now=0.0) == 0.0
    assert limiter.reserve(USER_A, now=0.0) == 1.0
    assert limiter.reserve(USER_A, now=0.5) == 1.5  # booked at 2.0, after the slot at 1.0
    assert limiter.reserve(USER_A, now=10.0) == 0.0


def test_independent_chats_do_not_block_each_other() -> None:
    limiter = TelegramRateLimiter()

    assert limiter.reserve(USER_A, now=0.0) == 0.0
    assert limiter.reserve(USER_B, now=0.0) == 0.0
    assert limiter.reserve(GROUP, now=0.0) == 0.0
    assert limiter.reserve(OTHER_GROUP, now=0.0) == 0.0


def test_group_gets_twenty_messages_per_sliding_minute() -> None:
    limiter = TelegramRateLimiter()

    for second in range(20):
        assert limiter.reserve(GROUP, now=float(second)) == 0.0
    # The window [0, 60) is full; the next slot is when the first send leaves it.
    assert limiter.reserve(GROUP, now=20.0) == 40.0
    # A private chat has no per-minute limit.
    for second in range(25):
        assert limiter.reserve(USER_A, now=float(second)) == 0.0


def test_group_window_slides_rather_than_resetting() -> None:
    limiter = TelegramRateLimiter()
    for second in range(20):
        limiter.reserve(GROUP, now=30.0 + second)  # sends at 30..49

    # A fixed per-minute bucket would allow a burst at 60; the sliding window waits for 90.
    assert limiter.reserve(GROUP, now=60.0) == 30.0
    assert limiter.reserve(GROUP, now=91.0) == 0.0


def test_global_limit_is_thirty_per_second() -> None:
    limiter = TelegramRateLimiter()

    delays = [limiter.reserve(chat_id, now=0.0) for chat_id in range(1, 32)]

    assert delays[:30] == [0.0] * 30
    assert delays[30] == 1.0


def test_global_window_slides() -> None:
    limiter = TelegramRateLimiter()
    for chat_id in range(1, 31):
        limiter.reserve(chat_id, now=0.9)

    # At 1.0 the 30 sends at 0.9 are still within the last second.
    assert limiter.reserve(100, now=1.0) == pytest.approx(0.9)


def test_penalize_one_chat() -> None:
    limiter = TelegramRateLimiter()

    limiter.penalize(USER_A, until=10.0)

    assert limiter.reserve(USER_A, now=0.0) == 10.0
    assert limiter.reserve(USER_B, now=0.0) == 0.0
    # A shorter penalty does not shorten a longer one.
    limiter.penalize(USER_A, until=5.0)
    assert limiter.reserve(USER_A, now=0.0) == 11.0


def test_penalize_everything() -> None:
    limiter = TelegramRateLimiter()

    limiter.penalize(None, until=3.0)

    assert limiter.reserve(USER_A, now=1.0) == 2.0
    assert limiter.reserve(GROUP, now=1.0) == 2.0
    assert limiter.reserve(USER_B, now=4.0) == 0.0


def test_a_future_slot_counts_in_its_own_window_only() -> None:
    limiter = TelegramRateLimiter()
    limiter.penalize(USER_A, until=0.5)
    assert limiter.reserve(USER_A, now=0.0) == 0.5

    # 29 more sends fit at 0; the 30th would make 30 in [0, 1) together with the one at 0.5.
    assert [limiter.reserve(chat_id, now=0.0) for chat_id in range(1, 30)] == [0.0] * 29
    assert limiter.reserve(200, now=0.0) == 1.0


def test_settings_are_respected() -> None:
    limiter = TelegramRateLimiter(global_per_second=2, per_chat_interval=0.0, group_per_minute=3)

    assert [limiter.reserve(GROUP, now=0.0) for _ in range(3)] == [0.0, 0.0, 1.0]
    assert limiter.reserve(GROUP, now=0.0) == 60.0
    with pytest.raises(ValueError):
        TelegramRateLimiter(global_per_second=0)
    with pytest.raises(ValueError):
        TelegramRateLimiter(per_chat_interval=-1.0)


def test_idle_chats_are_forgotten() -> None:
    limiter = TelegramRateLimiter()
    for chat_id in range(1, 200):
        limiter.reserve(chat_id, now=0.0)
    limiter.penalize(USER_A, until=500.0)

    limiter.reserve(USER_B, now=200.0)

    # USER_A's penalty is still running; USER_B just sent.
    assert limiter.tracked_chats == 2


def test_booking_a_large_broadcast_ahead_stays_fast() -> None:
    limiter = TelegramRateLimiter()
    started = time.perf_counter()

    delays = [limiter.reserve(chat_id, now=0.0) for chat_id in range(1, 10_001)]

    assert time.perf_counter() - started < 5.0
    assert delays[-1] == 333.0  # 10 000 sends at 30 per second
    assert delays == sorted(delays)


# ---- property: every slot keeps every limit, and no earlier slot would have ----------------

EPS = 1e-9


def _fits(booked: list[float], t: float, limit: int, window: float) -> bool:
    merged = sorted([*booked, t])
    return all(merged[k + limit] - merged[k] >= window - EPS for k in range(len(merged) - limit))


class _Reference:
    """Brute force over the only instants where a limit can stop binding."""

    def __init__(self, global_per_second: int, interval: float, group_per_minute: int) -> None:
        self.limits = (global_per_second, interval, group_per_minute)
        self.all: list[float] = []
        self.chats: dict[int, list[float]] = {}
        self.blocked: dict[int | None, float] = {}

    def windows(self, chat_id: int) -> list[tuple[list[float], int, float]]:
        per_second, interval, per_minute = self.limits
        own = self.chats.setdefault(chat_id, [])
        result = [(self.all, per_second, 1.0), (own, 1, interval)]
        if chat_id < 0:
            result.append((own, per_minute, 60.0))
        return result

    def allowed(self, chat_id: int, t: float) -> bool:
        return all(_fits(booked, t, limit, w) for booked, limit, w in self.windows(chat_id))

    def earliest(self, chat_id: int, now: float) -> float:
        lower = max(now, self.blocked.get(None, now), self.blocked.get(chat_id, now))
        candidates = {lower}
        for booked, _, window in self.windows(chat_id):
            candidates.update(b + window for b in booked if b + window > lower)
        return next(t for t in sorted(candidates) if self.allowed(chat_id, t))

    def book(self, chat_id: int, t: float) -> None:
        self.all.append(t)
        self.chats[chat_id].append(t)


operation = st.tuples(
    st.sampled_from(["send", "send", "send", "penalize"]),
    st.sampled_from([1, 2, 3, -10, -20, None]),
    st.sampled_from([0.0, 0.0, 0.1, 0.25, 0.5, 1.0, 7.0, 30.0]),  # time step
    st.sampled_from([0.5, 1.0, 3.0, 20.0]),  # retry_after
)


@settings(max_examples=300, deadline=None)
@given(
    global_per_second=st.integers(1, 4),
    interval=st.sampled_from([0.0, 0.5, 1.0]),
    group_per_minute=st.integers(1, 4),
    operations=st.lists(operation, max_size=40),
)
def test_slots_are_valid_and_earliest(
    global_per_second: int,
    interval: float,
    group_per_minute: int,
    operations: list[tuple[str, int | None, float, float]],
) -> None:
    limiter = TelegramRateLimiter(global_per_second, interval, group_per_minute)
    reference = _Reference(global_per_second, interval, group_per_minute)
    now = 0.0
    for kind, chat_id, step, retry_after in operations:
        now += step
        if kind == "penalize":
            limiter.penalize(chat_id, now + retry_after)
            reference.blocked[chat_id] = max(reference.blocked.get(chat_id, 0.0), now + retry_after)
            continue
        if chat_id is None:
            continue
        delay = limiter.reserve(chat_id, now)
        expected = reference.earliest(chat_id, now)
        assert delay >= 0.0
        assert now + delay == pytest.approx(expected, abs=1e-6)
        assert reference.allowed(chat_id, now + delay)
        reference.book(chat_id, now + delay)
