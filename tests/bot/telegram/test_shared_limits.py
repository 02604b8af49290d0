"""Several processes, one send budget: the rate limiter shared through Redis or the database."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from bot.app import create_app, create_bot, create_sender
from bot.telegram.outbox import enqueue
from bot.telegram.ratelimit import TelegramRateLimiter
from bot.telegram.shared_limits import DatabaseLimits, RedisLimits
from storage.db import create_engine, create_session_factory, migrate
from tests.fake_telegram import FakeTelegram
from tests.harness import POSTGRES_URL, REDIS_URL, make_settings, reset_postgres, sqlite_url

GLOBAL = 5  # per second, small enough to see in a short test
INTERVAL = 0.5  # per chat
GROUP = 3  # per minute
# Seconds: slots are booked on the store's clock and measured at the fake server, whose
# arrivals jitter by tens of milliseconds on a loaded 2-core machine.
TOLERANCE = 0.1


def violations(times: list[float], limit: int, window: float) -> int:
    """How many runs of limit + 1 sends fall within less than `window` (minus tolerance)."""
    times = sorted(times)
    return sum(
        1 for i in range(len(times) - limit) if times[i + limit] - times[i] < window - TOLERANCE
    )


@pytest.fixture(
    params=[
        pytest.param("redis", marks=pytest.mark.redis),
        "sqlite",
        pytest.param("postgres", marks=pytest.mark.postgres),
    ]
)
async def two_processes(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[TelegramRateLimiter, TelegramRateLimiter]]:
    """Two limiters as two processes would build them: their own connections, one store."""
    closers: list[Callable[[], Any]] = []
    if request.param == "redis":
        namespace = f"test-{time.time_ns()}"
        shared = [RedisLimits.from_url(REDIS_URL, namespace) for _ in range(2)]
        closers += [s.close for s in shared]
    else:
        if request.param == "postgres":
            await reset_postgres()
            url = POSTGRES_URL
        else:
            url = sqlite_url(tmp_path)
        engines = [create_engine(url) for _ in range(2)]
        await migrate(engines[0])
        shared = [DatabaseLimits(create_session_factory(e)) for e in engines]  # type: ignore[misc]
        closers += [e.dispose for e in engines]
    limiters = tuple(
        TelegramRateLimiter(GLOBAL, INTERVAL, GROUP, shared=s)  # type: ignore[arg-type]
        for s in shared
    )
    try:
        yield limiters  # type: ignore[misc]
    finally:
        for close in closers:
            await close()


async def book(
    limiters: tuple[TelegramRateLimiter, ...], chats: list[int]
) -> dict[int, list[float]]:
    """Reserve one slot per entry of `chats`, the processes taking turns; the slots (when
    each send may go, on this test's clock) by chat."""
    slots: dict[int, list[float]] = {}
    for i, chat in enumerate(chats):
        limiter = limiters[i % len(limiters)]
        started = time.monotonic()
        delay = await limiter.acquire(chat, started)
        slots.setdefault(chat, []).append(started + delay)
    return slots


async def test_two_processes_keep_one_budget(
    two_processes: tuple[TelegramRateLimiter, TelegramRateLimiter],
) -> None:
    users = [5000 + i for i in range(6)]
    groups = [-1001, -1002]
    chats = (users + groups) * 3  # 24 sends: several per chat, more than a second's budget
    slots = await book(two_processes, chats)
    everything = [t for ts in slots.values() for t in ts]
    assert violations(everything, GLOBAL, 1.0) == 0
    for chat, times in slots.items():
        assert violations(times, 1, INTERVAL) == 0, chat
        if chat < 0:
            assert violations(times, GROUP, 60.0) == 0, chat
    # And the budget was used: 24 sends at 5 a second need about 4.6 s, not much more.
    assert max(everything) - min(everything) < 6.0

    # The control: two limiters of their own (per process, as before) break the limits.
    alone = (
        TelegramRateLimiter(GLOBAL, INTERVAL, GROUP),
        TelegramRateLimiter(GLOBAL, INTERVAL, GROUP),
    )
    slots = await book(alone, chats)
    assert violations([t for ts in slots.values() for t in ts], GLOBAL, 1.0) > 0


async def test_a_429_in_one_process_holds_the_chat_in_every_process(
    two_processes: tuple[TelegramRateLimiter, TelegramRateLimiter],
) -> None:
    first, second = two_processes
    await first.hold(7001, time.monotonic(), 2.0)  # Telegram said: retry after 2 s
    assert await second.acquire(7001, time.monotonic()) == pytest.approx(2.0, abs=0.1)
    assert await second.acquire(7002, time.monotonic()) < 0.1  # other chats go on


async def test_an_unreachable_redis_falls_back_to_this_process(
    caplog: pytest.LogCaptureFixture,
) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    shared = RedisLimits.from_url(f"redis://127.0.0.1:{port}/0", "down")
    limiter = TelegramRateLimiter(GLOBAL, INTERVAL, GROUP, shared=shared)
    try:
        with caplog.at_level(logging.WARNING):
            assert await limiter.acquire(5001, 100.0) == 0.0
            assert await limiter.acquire(5001, 100.0) == pytest.approx(INTERVAL)
        assert "limiting per process" in caplog.text
    finally:
        await shared.close()


@pytest.mark.postgres
@pytest.mark.redis
async def test_two_outbox_workers_together_stay_within_the_global_limit(
    server: FakeTelegram,
) -> None:
    """Two processes' senders drain one outbox; Telegram sees at most GLOBAL sends a second."""
    await reset_postgres()
    settings = make_settings(server, POSTGRES_URL, redis_url=REDIS_URL)
    apps = [await create_app(settings) for _ in range(2)]
    bots = [create_bot(settings) for _ in range(2)]
    namespace = f"test-{time.time_ns()}"
    senders = [
        create_sender(
            bot,
            app,
            TelegramRateLimiter(
                GLOBAL, 0.0, 1000, shared=RedisLimits.from_url(REDIS_URL, namespace)
            ),
        )
        for bot, app in zip(bots, apps, strict=True)
    ]
    try:
        async with apps[0].sessions.begin() as session:
            for i in range(20):
                await enqueue(
                    session,
                    chat_id=6000 + i,
                    method="send_message",
                    payload={"text": f"tin {i}"},
                    now=apps[0].clock.now(),
                )
        stop = asyncio.Event()
        for sender in senders:
            sender.batch = 2  # both take part
        started = time.monotonic()  # the fake server stamps each call with this clock
        workers = [asyncio.create_task(s.run(stop, idle=0.05)) for s in senders]
        try:
            await server.wait_for(lambda _: len(server.calls_to("sendMessage")) >= 20, 20)
        finally:
            stop.set()
            await asyncio.gather(*workers)
        calls = [c for c in server.calls_to("sendMessage") if c.ok]
        assert len(calls) == 20
        # Together, not each on its own: from the moment the limiters start, 20 messages at
        # GLOBAL per second (a full bucket of GLOBAL first) take at least (20 - GLOBAL) / GLOBAL
        # seconds, which two separate limiters would halve. Measured from the start, not from
        # the first send's arrival: a first request that reaches the server late (a cold HTTP
        # session, a busy machine) would shorten that span without any limit being broken.
        last = max(c.at for c in calls)
        assert last - started >= (20 - GLOBAL) / GLOBAL - TOLERANCE
    finally:
        for sender in senders:
            await sender.limiter.shared.close()  # type: ignore[union-attr]
        for bot in bots:
            await bot.session.close()
        for app in apps:
            await app.close()
