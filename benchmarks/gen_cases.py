"""Fill a PostgreSQL database with N realistic PAKN cases, for benchmarks/bench_tick.py.

Run: .venv/bin/python benchmarks/gen_cases.py --url postgresql+asyncpg://postgres@127.0.0.1/bench_h4
     --cases 1000000

The schema is dropped and migrated afresh, the bundled agencies are loaded with a Telegram group
each, then the cases are written with COPY (fixed seed). The moment of the benchmark, NOW, is
Monday 23/11/2026 09:00 in Hà Nội. The shape of the data:

- the last RECENT_DAYS days hold the same work whatever N is (RECENT_PER_DAY cases a day, the
  newest still open): a bigger table is an older one, not a busier one;
- the rest is history spread over the years before: answered (on time or late), rated and
  closed, rejected, a few transferred, a few still open and long overdue (escalated);
- every reminder and escalation due before NOW is recorded, as the running bot would have, and
  `next_action_at` is what the schedule says for each open case; except REMINDERS_DUE open
  cases whose "2 days left" reminder becomes due at DUE_SOON = NOW + 30 s (bench_tick's
  "100 due");
- this week's and this month's reports count as sent (ReportRun), so a tick at NOW only looks
  at cases.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, select, text  # noqa: E402

from bot.domain.reply_clock import end_of_day  # noqa: E402
from bot.domain.reports import month_before, week_before  # noqa: E402
from bot.domain.schedule import Schedule  # noqa: E402
from bot.settings import Settings  # noqa: E402
from storage.db import create_engine, create_session_factory, upgrade_if_needed  # noqa: E402
from storage.models import Agency, Case, CaseEvent, ReportRun  # noqa: E402
from storage.repositories import AgencyRepo  # noqa: E402

VN = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=VN)
RECENT_DAYS = 60
RECENT_PER_DAY = 500
REMINDERS_DUE = 100
DUE_SOON = NOW + timedelta(seconds=30)
GROUP_BASE = -1_009_000_000
OPEN = ("received", "assigned", "in_progress", "extended", "transferred")
OFFICIALS = ["Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Cường", "Phạm Thị Dung", None]
CASE_COLUMNS = [
    "id", "code", "kind", "content", "content_hash", "procedure_code", "citizen_id",
    "citizen_chat_id", "citizen_name", "citizen_phone", "citizen_email", "citizen_address",
    "citizen_locale", "agency", "routing_rule", "status", "assignee_id", "assignee_name",
    "received_at", "due_at", "original_due_at", "extensions", "answered_at", "closed_at",
    "transferred_late", "rating", "rating_comment", "source_key", "next_action_at",
]  # fmt: skip
EVENT_COLUMNS = [
    "id", "case_id", "at", "actor_kind", "actor_id", "actor_name", "action", "from_status",
    "to_status", "details",
]  # fmt: skip
CONTENT = (
    "Bộ phận một cửa yêu cầu nộp thêm bản sao giấy tờ không có trong quy định khi làm thủ tục, "
    "đề nghị cơ quan kiểm tra và hướng dẫn lại cho người dân. Mã tham chiếu {n}."
)


def utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


class Generator:
    def __init__(self, n: int, agencies: list[str], seed: int = 7) -> None:
        self.n = n
        self.agencies = agencies
        self.rng = random.Random(seed)
        self.schedule = Schedule.of(Settings())
        self.cases: list[tuple[Any, ...]] = []
        self.events: list[tuple[Any, ...]] = []
        self.event_id = 0
        self.due_ids: list[int] = []

    def event(self, case_id: int, at: datetime, action: str, **details: Any) -> SimpleNamespace:
        self.event_id += 1
        actor = "system" if action in ("reminder", "escalated") else "official"
        self.events.append(
            (self.event_id, case_id, utc(at), actor, None, None, action, None, None,
             json.dumps(details, ensure_ascii=False))
        )  # fmt: skip
        return SimpleNamespace(action=action, details=details)

    def received_moments(self) -> list[datetime]:
        recent = min(self.n, RECENT_DAYS * RECENT_PER_DAY)
        old = self.n - recent
        start_recent = NOW - timedelta(days=RECENT_DAYS)
        moments = [
            start_recent + timedelta(seconds=self.rng.uniform(0, RECENT_DAYS * 86400 - 3600))
            for _ in range(recent)
        ]
        # History: about 550 cases a day before the recent window, as far back as it takes.
        span = max(1.0, old / 550) * 86400
        moments += [start_recent - timedelta(seconds=self.rng.uniform(0, span)) for _ in range(old)]
        moments.sort()
        return moments

    def build(self) -> None:
        rng = self.rng
        today = NOW.date()
        candidates_for_due: list[int] = []
        for i, received in enumerate(self.received_moments(), start=1):
            agency = rng.choice(self.agencies)
            received_day = received.astimezone(VN).date()
            due = end_of_day(received_day + timedelta(days=10), VN)
            age = (today - received_day).days
            status, answered, closed, rating, assignee = "received", None, None, None, None
            self.event(i, received, "received", agency=agency, due_at=utc(due).isoformat())
            open_case = age <= 10 and rng.random() < 0.6 or rng.random() < 0.003
            if not open_case:
                if rng.random() < 0.08:
                    status = "rejected"
                    closed = received + timedelta(days=rng.uniform(0.1, 3))
                    self.event(i, closed, "rejected", reason="outside")
                else:
                    late = rng.random() < 0.15
                    answered = (
                        due + timedelta(days=rng.uniform(0.1, 8))
                        if late
                        else received + timedelta(days=rng.uniform(0.2, 9.5))
                    )
                    if answered > NOW:
                        answered = NOW - timedelta(hours=rng.uniform(1, 48))
                    assignee = rng.choice(OFFICIALS)
                    status = "answered"
                    self.event(i, answered, "answered", on_time=answered <= due)
                    if rng.random() < 0.7 and answered + timedelta(days=3) < NOW:
                        status, rating = "closed", rng.choice(("good", "good", "neutral", "bad"))
                        closed = answered + timedelta(days=rng.uniform(0.1, 3))
                        self.event(i, closed, "rated", rating=rating)
            else:
                status = rng.choice(OPEN)
                assignee = rng.choice(OFFICIALS) if status != "received" else None
            if rng.random() < 0.03:
                moved = received + timedelta(days=rng.uniform(0.1, 9))
                if moved < NOW:
                    target = rng.choice(self.agencies)
                    self.event(i, moved, "transferred", **{
                        "from": agency, "to": target, "late": rng.random() < 0.2,
                    })  # fmt: skip
            next_action = None
            if status in OPEN:
                history = self.sent_before_now(i, received, due)
                case = SimpleNamespace(status=status, due_at=due, received_at=received)
                next_action = self.schedule.next_action(case, NOW, history)
                if (due.astimezone(VN).date() - today).days == 3:
                    candidates_for_due.append(i)
            self.cases.append(
                (i, f"PA-{i:08X}", "phan_anh", CONTENT.format(n=i), f"{i:064x}", None,
                 10_000_000 + i % 200_000, 10_000_000 + i % 200_000, "Nguyễn Thị Lan",
                 "0912345678", None, "12 Lê Lợi, phường An Hòa", "vi", agency, "procedure",
                 status, None, assignee, utc(received), utc(due), utc(due), 0,
                 answered and utc(answered), closed and utc(closed), 0, rating, None,
                 f"draft:{i}", next_action and utc(next_action))
            )  # fmt: skip
        self.pick_reminders_due(candidates_for_due)

    def sent_before_now(self, case_id: int, received: datetime, due: datetime) -> list[Any]:
        """The reminders and escalation a running bot sent this open case before NOW."""
        history = []
        due_day = due.astimezone(VN).date()
        for days_left in sorted(self.schedule.thresholds, reverse=True):
            day = due_day - timedelta(days=days_left)
            sent_at = datetime.combine(day, datetime.min.time(), VN) + timedelta(hours=8)
            if received < sent_at <= NOW:
                history.append(self.event(
                    case_id, sent_at, "reminder", days_left=days_left, due_at=utc(due).isoformat()
                ))  # fmt: skip
        escalated_at = self.schedule._awake_after(due)
        if escalated_at <= NOW:
            history.append(
                self.event(case_id, escalated_at, "escalated", due_at=utc(due).isoformat())
            )
        return history

    def pick_reminders_due(self, candidates: list[int]) -> None:
        """REMINDERS_DUE open cases due in 2 days whose reminder was not sent yet: due at
        NOW + 30 s. (Their due date is moved one day earlier, from 3 days left to 2.)"""
        chosen = set(self.rng.sample(candidates, min(REMINDERS_DUE, len(candidates))))
        self.due_ids = sorted(chosen)
        for index in self.due_ids:
            row = list(self.cases[index - 1])
            due = row[19] - timedelta(days=1)
            row[19] = row[20] = due
            row[28] = utc(DUE_SOON)
            self.cases[index - 1] = tuple(row)


async def generate(url: str, n: int) -> None:
    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await upgrade_if_needed(engine)
    sessions = create_session_factory(engine)
    from bot.domain.knowledge import seed_sample

    async with sessions.begin() as session:
        await seed_sample(session, NOW)
        codes = [a.code for a in await AgencyRepo(session).all()]
        for k, code in enumerate(codes):
            await AgencyRepo(session).bind_chat(code, GROUP_BASE - k, NOW)
        settings = Settings()
        for kind, period in (
            ("weekly", week_before(NOW.date(), VN).key),
            ("monthly", month_before(NOW.date(), VN).key),
            ("schedule", Schedule.of(settings).fingerprint),
        ):
            session.add(ReportRun(kind=kind, period=period, at=utc(NOW - timedelta(hours=1))))
    started = time.perf_counter()
    gen = Generator(n, codes)
    gen.build()
    print(f"generated {len(gen.cases):,} cases, {len(gen.events):,} events "
          f"in {time.perf_counter() - started:.0f} s; writing…")  # fmt: skip
    started = time.perf_counter()
    async with engine.begin() as conn:
        raw = (await conn.get_raw_connection()).driver_connection
        assert raw is not None
        for chunk in range(0, len(gen.cases), 100_000):
            await raw.copy_records_to_table(
                "cases", records=gen.cases[chunk : chunk + 100_000], columns=CASE_COLUMNS
            )
        for chunk in range(0, len(gen.events), 200_000):
            await raw.copy_records_to_table(
                "case_events", records=gen.events[chunk : chunk + 200_000], columns=EVENT_COLUMNS
            )
        for model in (Case, CaseEvent):
            table = model.__tablename__
            await conn.execute(
                select(func.setval(func.pg_get_serial_sequence(table, "id"),
                                   select(func.max(model.id)).scalar_subquery()))
            )  # fmt: skip
    async with engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text("VACUUM ANALYZE cases"))
        await conn.execute(text("VACUUM ANALYZE case_events"))
    print(f"written in {time.perf_counter() - started:.0f} s")
    async with sessions() as session:
        n_open = await session.scalar(select(func.count()).where(Case.status.in_(OPEN)))
        groups = await session.scalar(select(func.count()).where(Agency.chat_id.is_not(None)))
    print(f"{n:,} cases ({n_open:,} open), {groups} agency groups, NOW = {NOW.isoformat()}")
    await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="postgresql+asyncpg://postgres@127.0.0.1:5432/bench_h4")
    parser.add_argument("--cases", type=int, default=1_000_000)
    args = parser.parse_args()
    if not args.url.startswith("postgresql"):
        raise SystemExit("a PostgreSQL URL, please (COPY)")
    asyncio.run(generate(args.url, args.cases))


if __name__ == "__main__":
    main()
