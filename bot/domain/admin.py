"""What the admins' panel shows and changes, without Telegram: who is an admin, the agency
directory with its workload, and today's figures."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.reports import Figures, period_figures
from bot.domain.statuses import OPEN_STATUSES
from storage.repositories import AdminRepo, AgencyRepo, ReportRepo


async def admin_ids(session: AsyncSession, configured: Collection[int]) -> frozenset[int]:
    """ADMIN_IDS from the settings plus the admins added from Telegram."""
    return frozenset(configured) | await AdminRepo(session).ids()


@dataclass(frozen=True)
class AgencyLine:
    code: str
    name: str
    chat_id: int | None
    parent: str | None
    reply_days: int  # the agency's own, or the default CASE_REPLY_DAYS
    own_reply_days: bool
    open: int
    overdue: int


async def agency_overview(
    session: AsyncSession, now: datetime, default_reply_days: int
) -> list[AgencyLine]:
    """Every agency by name, with its bound group, reply days and open / overdue cases now."""
    load = await ReportRepo(session).open_by_agency(now, [s.value for s in OPEN_STATUSES])
    lines = []
    for a in await AgencyRepo(session).all():
        open_count, overdue = load.get(a.code, (0, 0))
        lines.append(
            AgencyLine(
                code=a.code,
                name=a.name,
                chat_id=a.chat_id,
                parent=a.parent,
                reply_days=a.reply_days or default_reply_days,
                own_reply_days=a.reply_days is not None,
                open=open_count,
                overdue=overdue,
            )
        )
    return sorted(lines, key=lambda line: (line.name, line.code))


async def today_figures(session: AsyncSession, now: datetime, tz: ZoneInfo) -> Figures:
    """Figures of the local day so far, this very second included (open and overdue as they
    stand now)."""
    start = datetime.combine(now.astimezone(tz).date(), time(0), tzinfo=tz)
    return await period_figures(session, start, now + timedelta(seconds=1))
