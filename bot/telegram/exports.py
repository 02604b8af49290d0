"""Report and case-list exports as XLSX or CSV, with headers in the reader's language.

The figures come from `bot.domain.reports`; this module only lays them out. The command line
(`citizen-bot report …`) and the admins' `/baocao` and `/export` use the same functions, so
the file is the same wherever it is asked for.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.reports import (
    Figures,
    Period,
    custom_period,
    figures_by_agency,
    last_quarter,
    late_cases,
    month_before,
    week_before,
)
from bot.telegram.rendering import Renderer
from knowledge.exporters import Sheet, to_csv, to_xlsx
from storage.repositories import AgencyRepo, ReportRepo

KINDS = ("weekly", "monthly", "quarterly")
FORMATS = ("xlsx", "csv")
MIME = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv",
}

FIGURE_COLUMNS = (
    "no",
    "agency_code",
    "agency",
    "received",
    "answered",
    "on_time",
    "late",
    "open",
    "overdue",
    "transferred",
    "transferred_late",
    "rejected",
    "rated",
    "good",
    "satisfaction",
)
LATE_COLUMNS = (
    "no",
    "agency",
    "assignee",
    "code",
    "kind",
    "received_at",
    "due_at",
    "answered_at",
    "late_days",
    "status",
)
CASE_COLUMNS = (
    "code",
    "kind",
    "received_at",
    "agency",
    "procedure",
    "content",
    "status",
    "assignee",
    "due_at",
    "extensions",
    "answered_at",
    "closed_at",
    "rating",
)


def default_period(kind: str, today: date, tz: ZoneInfo) -> Period:
    """The newest complete period of this kind: last week, last month, the last quarter
    whose data cut-off (the 15th, NĐ 09/2019) has passed."""
    if kind == "weekly":
        return week_before(today, tz)
    if kind == "monthly":
        return month_before(today, tz)
    if kind == "quarterly":
        return last_quarter(today, tz)
    raise ValueError(f"unknown report kind {kind!r}")


def resolve_period(
    kind: str, today: date, tz: ZoneInfo, first: date | None = None, last: date | None = None
) -> Period:
    """The period asked for: from FIRST to LAST inclusive when both are given."""
    if kind not in KINDS:
        raise ValueError(f"unknown report kind {kind!r}")
    if first is not None and last is not None:
        if last < first:
            raise ValueError("the end date is before the start date")
        return custom_period(kind, first, last, tz)
    return default_period(kind, today, tz)


class Exporter:
    """Builds the files; labels come from the catalogs (``export.*`` keys)."""

    def __init__(self, renderer: Renderer, tz: ZoneInfo) -> None:
        self.r = renderer
        self.tz = tz

    def _headers(self, keys: tuple[str, ...], loc: str) -> list[str]:
        return [self.r.plain(f"export.col.{k}", loc) for k in keys]

    def _day(self, value: datetime | None) -> date | None:
        return value.astimezone(self.tz).date() if value is not None else None

    def _label(self, prefix: str, value: str | None, loc: str) -> str:
        return self.r.plain(f"{prefix}.{value}", loc) if value else ""

    async def _write(self, sheet: Sheet, fmt: str) -> bytes:
        if fmt not in FORMATS:
            raise ValueError(f"unknown format {fmt!r}")
        # Writing a workbook is CPU work: off the event loop.
        if fmt == "csv":
            return await asyncio.to_thread(to_csv, sheet, self.tz)
        return await asyncio.to_thread(to_xlsx, [sheet], self.tz)

    def filename(self, kind: str, period: Period, fmt: str, loc: str) -> str:
        stem = self.r.plain(f"export.file.{kind}", loc)
        return f"{stem}-{period.key.replace('..', '_')}.{fmt}"

    # ---- sheets ------------------------------------------------------------------------
    async def figures_sheet(self, session: AsyncSession, period: Period, loc: str) -> Sheet:
        by_agency = await figures_by_agency(session, period.start, period.end)
        names = {a.code: a.name for a in await AgencyRepo(session).all()}
        ordered = sorted(by_agency.items(), key=lambda kv: (names.get(kv[0], kv[0]), kv[0]))
        rows = [
            self._figures_row(i, code, names.get(code, code), f)
            for i, (code, f) in enumerate(ordered, start=1)
        ]
        total = sum(by_agency.values(), Figures())
        rows.append(self._figures_row(None, None, self.r.plain("export.total", loc), total))
        return Sheet(
            title=self.r.plain(f"export.sheet.{period.kind}", loc),
            headers=self._headers(FIGURE_COLUMNS, loc),
            rows=rows,
            widths={2: 30},
            percent_columns=frozenset({FIGURE_COLUMNS.index("satisfaction")}),
        )

    @staticmethod
    def _figures_row(no: int | None, code: str | None, name: str, f: Figures) -> list[Any]:
        return [no, code, name, f.received, f.answered, f.on_time, f.late, f.open,
                f.overdue_open, f.transferred, f.transferred_late, f.rejected, f.rated,
                f.good, f.satisfaction]  # fmt: skip

    async def late_sheet(self, session: AsyncSession, period: Period, loc: str) -> Sheet:
        items = await late_cases(session, period.start, period.end, tz=self.tz)
        rows = [
            [
                i,
                item.agency_name,
                item.assignee_name or self.r.plain("reports.no_assignee", loc),
                item.code,
                self._label("kind", item.kind, loc),
                self._day(item.received_at),
                self._day(item.due_at),
                self._day(item.answered_at),
                item.late_days,
                self._label("status", item.status, loc),
            ]
            for i, item in enumerate(items, start=1)
        ]
        return Sheet(
            title=self.r.plain("export.sheet.monthly", loc),
            headers=self._headers(LATE_COLUMNS, loc),
            rows=rows,
            widths={1: 30, 2: 20},
        )

    async def cases_sheet(self, session: AsyncSession, start: date, end: date, loc: str) -> Sheet:
        period = custom_period("cases", start, end, self.tz)
        rows = [
            [
                case.code,
                self._label("kind", case.kind, loc),
                self._day(case.received_at),
                agency_name or case.agency,
                case.procedure_code or "",
                case.content,
                self._label("status", case.status, loc),
                case.assignee_name or "",
                self._day(case.due_at),
                case.extensions,
                self._day(case.answered_at),
                self._day(case.closed_at),
                self._label("export.rating", case.rating, loc),
            ]
            for case, agency_name in await ReportRepo(session).cases_between(
                period.start, period.end
            )
        ]
        return Sheet(
            title=self.r.plain("export.sheet.cases", loc),
            headers=self._headers(CASE_COLUMNS, loc),
            rows=rows,
            widths={5: 50},
        )

    # ---- files -------------------------------------------------------------------------
    async def report(
        self, session: AsyncSession, period: Period, fmt: str, loc: str
    ) -> tuple[str, bytes]:
        """(file name, bytes) of a weekly/quarterly figures table or the monthly late list."""
        if period.kind == "monthly":
            sheet = await self.late_sheet(session, period, loc)
        else:
            sheet = await self.figures_sheet(session, period, loc)
        return self.filename(period.kind, period, fmt, loc), await self._write(sheet, fmt)

    async def cases(
        self, session: AsyncSession, start: date, end: date, fmt: str, loc: str
    ) -> tuple[str, bytes]:
        """(file name, bytes) of the cases received from START to END inclusive."""
        sheet = await self.cases_sheet(session, start, end, loc)
        name = f"{self.r.plain('export.file.cases', loc)}-{start:%Y%m%d}-{end:%Y%m%d}.{fmt}"
        return name, await self._write(sheet, fmt)
