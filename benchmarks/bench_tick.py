"""The minute tick and the reports on big PostgreSQL tables: does the work grow with what is
due, or with the table?

Run: .venv/bin/python benchmarks/bench_tick.py [--sizes 100000,1000000] [--repeat 5]
     [--url postgresql+asyncpg://postgres@127.0.0.1:5432/bench_h4]

For each size, benchmarks/gen_cases.py fills the database (the same recent work, more
history), then, at Monday 23/11/2026 09:00 (Hà Nội), the production code runs (`run_tick` of
`create_app`, on asyncpg) and is timed, median of --repeat runs, each undone afterwards:

- a tick with nothing due;
- a tick with 100 reminders due (queued to the agencies' groups as replies to their cards);
- the weekly summary for all agencies, and the monthly list of late handling, as the tick
  sends them (figures, rendering, an outbox row for each group and admin).

Beside each, the reference: the same question asked the way it was asked before this
change (every open case near its reminder horizon and all their events for the tick; the
figures over the whole table; the late list as whole rows over the whole table), on the
same data in the same run. Not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import and_, delete, func, or_, select, update  # noqa: E402

from benchmarks.gen_cases import DUE_SOON, NOW, VN, generate  # noqa: E402
from bot.app import App, create_app  # noqa: E402
from bot.clock import FixedClock  # noqa: E402
from bot.domain.reminders import run_tick  # noqa: E402
from bot.domain.reports import figures_by_agency, late_cases, month_before, week_before  # noqa: E402
from bot.domain.statuses import OPEN_STATUSES  # noqa: E402
from bot.settings import BotSettings, DatabaseSettings, Settings  # noqa: E402
from storage.models import Agency, Case, CaseEvent, OutboxMessage, ReportRun  # noqa: E402
from storage.repositories.reports import MEASURES, _count, _open_at, _within  # noqa: E402

OPEN = [s.value for s in OPEN_STATUSES]


async def timed(
    fn: Callable[[], Awaitable[Any]], repeat: int, undo: Callable[[], Awaitable[Any]]
) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = await fn()
        times.append((time.perf_counter() - started) * 1000)
        await undo()
    return statistics.median(times), result


# ---- the references: the questions as they were asked before ------------------------------
async def old_tick_scan(app: App) -> int:
    """The old tick's reads: every open case due before the reminder horizon (overdue ones
    included), locked, with all their reminder/escalation events, checked in Python."""
    horizon = datetime.combine(NOW.date() + timedelta(days=3), dtime(0), tzinfo=VN)
    async with app.sessions.begin() as session:
        cases = (
            await session.scalars(
                select(Case)
                .where(Case.status.in_(OPEN), Case.due_at < horizon)
                .order_by(Case.id)
                .with_for_update()
            )
        ).all()
        events = (
            await session.scalars(
                select(CaseEvent)
                .where(
                    CaseEvent.case_id.in_([c.id for c in cases]),
                    CaseEvent.action.in_(("reminder", "escalated", "progress_update")),
                )
                .order_by(CaseEvent.id)
            )
        ).all()
        return len(cases) + len(events)


async def old_weekly_counts(app: App) -> int:
    """The old figures query: every case of the table, grouped by agency."""
    period = week_before(NOW.date(), VN)
    start, end = period.start, period.end
    answered = _within(Case.answered_at, start, end)
    is_open = _open_at(end, OPEN)
    closed = _within(Case.closed_at, start, end)
    measures = {
        "received": _within(Case.received_at, start, end),
        "answered": answered,
        "on_time": and_(answered, Case.answered_at <= Case.due_at),
        "late": and_(answered, Case.answered_at > Case.due_at),
        "open": is_open,
        "overdue_open": and_(is_open, Case.due_at < end),
        "rejected": and_(closed, Case.status == "rejected"),
        "good": and_(closed, Case.rating == "good"),
        "neutral": and_(closed, Case.rating == "neutral"),
        "bad": and_(closed, Case.rating == "bad"),
    }
    assert set(measures) == set(MEASURES)
    async with app.sessions() as session:
        rows = await session.execute(
            select(Case.agency, *(_count(c).label(n) for n, c in measures.items())).group_by(
                Case.agency
            )
        )
        return len(rows.all())


async def old_monthly_late(app: App) -> int:
    """The old late-list query: whole case rows, over the whole table."""
    period = month_before(NOW.date(), VN)
    start, end = period.start, period.end
    answered_late = and_(_within(Case.answered_at, start, end), Case.answered_at > Case.due_at)
    overdue_open = and_(_open_at(end, OPEN), Case.due_at < end)
    async with app.sessions() as session:
        rows = await session.execute(
            select(Case, Agency.name)
            .outerjoin(Agency, Agency.code == Case.agency)
            .where(or_(answered_late, overdue_open))
            .order_by(Agency.name, Case.agency, Case.assignee_name, Case.due_at, Case.id)
        )
        return len(rows.all())


# ---- the production code ---------------------------------------------------------------
async def measure(url: str, repeat: int) -> dict[str, tuple[float, float | None, str]]:
    clock = FixedClock(NOW)
    settings = Settings(
        database=DatabaseSettings(database_url=url), bot=BotSettings(admin_ids=[999])
    )
    app = await create_app(settings, clock, seed=False, load_knowledge=False)
    _ = app.notifier  # aiogram imported before anything is timed
    async with app.sessions() as session:
        due_ids = list(
            await session.scalars(select(Case.id).where(Case.next_action_at == DUE_SOON))
        )
    stamp = NOW - timedelta(minutes=30)

    async def undo_tick() -> None:
        async with app.sessions.begin() as session:
            await session.execute(delete(OutboxMessage).where(OutboxMessage.created_at >= stamp))
            await session.execute(
                delete(CaseEvent).where(CaseEvent.at >= NOW, CaseEvent.action == "reminder")
            )
            await session.execute(
                update(Case).where(Case.id.in_(due_ids)).values(next_action_at=DUE_SOON)
            )

    async def undo_report(kind: str) -> Callable[[], Awaitable[None]]:
        async def undo() -> None:
            await undo_tick()
            async with app.sessions.begin() as session:
                await session.execute(delete(ReportRun).where(ReportRun.kind == kind))

        await undo()
        return undo

    async def tick_at(moment: datetime) -> dict[str, int]:
        clock.set(moment)
        return await run_tick(app)

    results: dict[str, tuple[float, float | None, str]] = {}
    await undo_tick()
    ms, counts = await timed(lambda: tick_at(NOW), repeat, undo_tick)
    assert not any(counts.values()), counts
    ref, _ = await timed(lambda: old_tick_scan(app), repeat, undo_tick)
    results["tick, nothing due"] = (ms, ref, "<= 50 ms")
    ms, counts = await timed(lambda: tick_at(NOW + timedelta(minutes=1)), repeat, undo_tick)
    assert counts["reminders"] == len(due_ids), counts
    results[f"tick, {len(due_ids)} reminders due"] = (ms, None, "<= 200 ms")

    undo = await undo_report("weekly")
    ms, counts = await timed(lambda: tick_at(NOW), repeat, undo)
    assert counts["weekly"] == 1, counts
    ref, _ = await timed(lambda: old_weekly_counts(app), repeat, undo)
    results["weekly summary, all agencies"] = (ms, ref, "<= 1000 ms")
    period = week_before(NOW.date(), VN)

    async def figures() -> Any:
        async with app.sessions() as session:
            return await figures_by_agency(session, period.start, period.end)

    ms, _ = await timed(figures, repeat, undo)
    results["  of which the figures (SQL)"] = (ms, None, "")
    async with app.sessions.begin() as session:
        session.add(ReportRun(kind="weekly", period=period.key, at=NOW.astimezone(UTC)))

    undo = await undo_report("monthly")
    ms, counts = await timed(lambda: tick_at(NOW), repeat, undo)
    assert counts["monthly"] == 1, counts
    ref, _ = await timed(lambda: old_monthly_late(app), repeat, undo)
    month = month_before(NOW.date(), VN)

    async def late() -> Any:
        async with app.sessions() as session:
            return await late_cases(session, month.start, month.end, tz=VN)

    late_ms, items = await timed(late, repeat, undo)
    results["monthly late list"] = (ms, ref, "<= 1000 ms")
    results["  of which the list (SQL)"] = (late_ms, None, "")
    results["  late cases in the list"] = (float(len(items)), None, "")
    async with app.sessions.begin() as session:
        session.add(ReportRun(kind="monthly", period=month.key, at=NOW.astimezone(UTC)))
        total = await session.scalar(select(func.count()).select_from(Case))
    await app.close()
    results["cases in the table"] = (float(total or 0), None, "")
    return results


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="postgresql+asyncpg://postgres@127.0.0.1:5432/bench_h4")
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    by_size = {}
    for n in sizes:
        await generate(args.url, n)
        by_size[n] = await measure(args.url, args.repeat)
    names = list(by_size[sizes[0]])
    head = "".join(f"{f'{n:,} cases':>26}" for n in sizes)
    sub = "".join(f"{'before':>13}{'now':>13}" for _ in sizes)
    print(f"\n{'milliseconds, median of ' + str(args.repeat):<42}{head}  goal\n{'':<42}{sub}")
    for name in names:
        if name == "cases in the table":
            continue
        cells = ""
        for n in sizes:
            ms, ref, goal = by_size[n][name]
            cells += f"{'' if ref is None else f'{ref:.1f}':>13}{ms:>13.1f}"
        print(f"{name:<42}{cells}  {by_size[sizes[0]][name][2]}")
    print(
        "(before: the same question asked the old way on the same data — for the tick its "
        "reads only; now: the production code end to end)"
    )


if __name__ == "__main__":
    asyncio.run(main())
