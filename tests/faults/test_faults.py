"""The fault suite, short variants (benchmarks/bench_faults.py runs the long ones): a storm of
429/5xx/slow answers, duplicate and out-of-order updates and double taps, PostgreSQL
connections cut mid-run, and `kill -9` of a real `citizen-bot run` process at random moments.
Each run ends by checking the invariants (tests/faults/scenario.py): every accepted case exists
once and was acknowledged once; every message was delivered or recorded failed with a reason;
no citizen was told of a case that does not exist; no personal data in a group other than the
case's current agency's; every extra copy on the server was counted as a duplicate."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.clock import FixedClock
from storage.db import create_engine, create_session_factory, upgrade_if_needed
from tests.fake_telegram import FakeTelegram
from tests.faults.scenario import (
    ADMIN,
    GROUPS,
    bind_updates,
    check,
    citizen_id,
    drain,
    intake_updates,
    numbered,
    officials_work,
)
from tests.harness import POSTGRES_URL, START, Harness, reset_postgres, sqlite_url

STORM = {"rate_429": 0.15, "rate_5xx": 0.07, "rate_slow": 0.05, "slow_seconds": 1.5}


async def run_in_process(
    server: FakeTelegram,
    database_url: str,
    *,
    citizens: int,
    seed: int,
    storm: bool = True,
    chaos: Callable[[], Awaitable[None]] | None = None,
) -> Any:
    """Citizens file concurrently (each update delivered twice, submit double-tapped, some
    steps out of order), officials work the cases, all during a storm (and `chaos`, started
    once the bot is up, e.g. database connections cut); then the invariants."""
    rng = random.Random(seed)
    h = await Harness.start(server, database_url, clock=FixedClock(START), telegram_timeout=1)
    stop = asyncio.Event()
    worker = asyncio.create_task(h.sender.run(stop, idle=0.2))
    chaos_task: asyncio.Task[None] | None = None

    async def feed(update: dict[str, Any]) -> None:
        await h.feed(numbered(server, update), deliver=False)

    try:
        for update in bind_updates():
            await feed(update)
        if storm:
            server.storm(seed=seed, **STORM)
        if chaos is not None:
            chaos_task = asyncio.create_task(chaos())

        async def citizen(i: int) -> None:
            steps = intake_updates(i, photo=i % 2 == 0)
            if i % 3 == 1:  # a step delivered out of order: answered, changes nothing
                j = rng.randrange(1, len(steps) - 1)
                steps[j], steps[j + 1] = steps[j + 1], steps[j]
                # ... and sent again afterwards, as a new update (the person repeats it).
                steps.insert(j + 2, dict(steps[j], update_id=steps[j]["update_id"] + 2_000_000))
            for step in steps:
                await feed(step)
                if rng.random() < 0.5:
                    await feed(step)  # Telegram re-delivers the update
            # A double tap on "Gửi": two callback queries at once.
            submit = intake_updates(i)[-1]
            again = dict(submit, update_id=submit["update_id"] + 1_000_000)
            await asyncio.gather(feed(submit), feed(again))

        await asyncio.gather(*(citizen(i) for i in range(citizens)))
        await officials_work(feed, server, h.app.sessions, rng)
        await asyncio.sleep(1.0)
        if chaos_task is not None:
            await chaos_task  # the database is back for good
        report_faults = dict(server.storm_.counts) if server.storm_ else {}
        server.clear_faults()  # Telegram recovers
        stop.set()
        await worker
        await drain(h.sender, h.app.sessions, 60)
        report = await check(h.app.sessions, server, [citizen_id(i) for i in range(citizens)])
        report.faults = report_faults
        return report
    finally:
        stop.set()
        if chaos_task is not None:
            chaos_task.cancel()
            with contextlib.suppress(BaseException):
                await chaos_task
        with contextlib.suppress(Exception):
            await worker
        await h.close()


async def test_storm_of_429_5xx_and_slow_answers_sqlite(
    server: FakeTelegram, tmp_path: Path
) -> None:
    report = await run_in_process(server, sqlite_url(tmp_path), citizens=8, seed=1)
    print(report.line())
    assert report.cases == report.expected_cases
    report.assert_holds()


@pytest.mark.postgres
async def test_storm_with_postgresql_connections_cut(server: FakeTelegram) -> None:
    """PostgreSQL is shared with other work, so instead of restarting the server the run cuts
    every connection of this database (pg_terminate_backend) several times mid-run."""
    await reset_postgres()
    # The schema is in place before the cuts start: they are aimed at the run, not at the
    # one-time migration (which a cut would fail the same way on any schema version).
    engine = create_engine(POSTGRES_URL)
    await upgrade_if_needed(engine)
    await engine.dispose()
    database = POSTGRES_URL.rsplit("/", 1)[1]
    admin = create_async_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")

    async def cut() -> None:
        for _ in range(6):
            await asyncio.sleep(0.7)
            async with admin.connect() as conn:
                await conn.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = :db AND pid <> pg_backend_pid()"
                    ),
                    {"db": database},
                )

    try:
        report = await run_in_process(server, POSTGRES_URL, citizens=6, seed=2, chaos=cut)
    finally:
        await admin.dispose()
    print(report.line())
    # A citizen whose update failed was told "nothing was saved"; the others filed.
    assert report.cases >= 1
    report.assert_holds()


# ---- kill -9 of a real process ---------------------------------------------------------------


def start_bot(server: FakeTelegram, database_url: str, workdir: Path) -> subprocess.Popen[bytes]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("TEST_", "CASE_"))},
        "BOT_TOKEN": server.token,
        "TELEGRAM_API_BASE": server.base_url,
        "TELEGRAM_TIMEOUT": "1",
        "OUTBOX_CLAIM_SECONDS": "1",
        "DATABASE_URL": database_url,
        "ADMIN_IDS": str(ADMIN),
        "REDIS_URL": "",
    }
    env.pop("REDIS_URL")
    with open(workdir / "bot.log", "ab") as log:  # the child keeps its own copy of the fd
        return subprocess.Popen(
            [sys.executable, "-c", "from bot.cli import main; main()", "run"],
            cwd=workdir,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )


async def started(server: FakeTelegram, process: subprocess.Popen[bytes]) -> None:
    """Wait until the new process polls Telegram (migrations and the index are loaded)."""
    polls = len(server.calls_to("getUpdates"))
    for _ in range(600):
        if len(server.calls_to("getUpdates")) > polls:
            return
        assert process.poll() is None, "the bot process exited"
        await asyncio.sleep(0.1)
    raise AssertionError("the bot process did not start polling within 60 s")


async def run_with_kills(
    server: FakeTelegram, workdir: Path, *, citizens: int, kills: int, seed: int
) -> Any:
    rng = random.Random(seed)
    database_url = sqlite_url(workdir)
    server.push_updates(numbered(server, u) for u in bind_updates())
    server.storm(seed=seed, rate_429=0.05, rate_5xx=0.05, rate_slow=0.03, slow_seconds=1.5)
    scripts = [intake_updates(i, photo=i % 2 == 0) for i in range(citizens)]
    # Interleave the citizens' conversations as Telegram would.
    queue: list[dict[str, Any]] = []
    while any(scripts):
        script = rng.choice([s for s in scripts if s])
        queue.append(script.pop(0))
    size = -(-len(queue) // (kills + 1))
    chunks = [queue[i * size : (i + 1) * size] for i in range(kills + 1)]
    process = start_bot(server, database_url, workdir)
    await started(server, process)
    runs = 1
    try:
        for chunk in chunks:
            for update in sorted(chunk, key=lambda u: u["update_id"]):
                server.push_update(numbered(server, update))
            await asyncio.sleep(rng.uniform(0.5, 2.5))
            if runs <= kills:
                process.send_signal(signal.SIGKILL)  # at a random moment of its work
                process.wait()
                process = start_bot(server, database_url, workdir)
                await started(server, process)
                runs += 1
        server.clear_faults()
        engine = create_engine(database_url)
        sessions = create_session_factory(engine)
        try:
            loop = asyncio.get_running_loop()
            # Rows a killed sender had claimed wait for the claim to run out (OUTBOX_CLAIM_SECONDS,
            # 120 s) before they are reconciled and sent: the run is watched that long at most.
            deadline = loop.time() + 150
            report = await check(sessions, server, [citizen_id(i) for i in range(citizens)])
            while loop.time() < deadline and (
                report.lost or report.cases < citizens or report.unacknowledged
            ):
                await asyncio.sleep(1.0)
                report = await check(sessions, server, [citizen_id(i) for i in range(citizens)])
        finally:
            await engine.dispose()
        report.runs = runs
        return report
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def test_kill_9_of_a_running_bot_several_times(server: FakeTelegram, tmp_path: Path) -> None:
    report = await run_with_kills(server, tmp_path, citizens=5, kills=3, seed=3)
    print(report.line())
    assert report.runs == 4
    # Updates are stored before getUpdates' offset confirms them, and handled from the
    # inbox: a kill at any moment drops no conversation step, so every citizen's case is filed.
    assert report.cases == 5, (tmp_path / "bot.log").read_text()[-3000:]
    report.assert_holds()


def test_groups_are_the_harness_groups() -> None:
    from tests import harness

    assert set(GROUPS.values()) == {harness.GROUP_A, harness.GROUP_B}
