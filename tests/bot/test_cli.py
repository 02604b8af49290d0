"""The admin's command line, run as a user would (typer's runner, a real SQLite file)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from knowledge.sample import load_procedures_json


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/cli.sqlite3")
    monkeypatch.delenv("BOT_TOKEN", raising=False)
    monkeypatch.chdir(tmp_path)
    return CliRunner()


def test_search_json_and_stdin(cli: CliRunner) -> None:
    result = cli.invoke(
        app, ["kb", "search", "xin giay xac nhan doc than", "--json", "--limit", "3"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["abstained"] is False and len(data["results"]) <= 3
    assert "tình trạng hôn nhân" in data["results"][0]["name"]
    result = cli.invoke(app, ["kb", "search", "--stdin"], input="làm sổ đỏ\nxin chào\n")
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert [line["query"] for line in lines] == ["làm sổ đỏ", "xin chào"]
    assert lines[0]["abstained"] is False and lines[1]["abstained"] is True


def test_import_reports_every_problem_and_changes_nothing(cli: CliRunner, tmp_path: Path) -> None:
    bad = tmp_path / "thu_tuc.csv"
    bad.write_text(
        "Mã thủ tục;Tên thủ tục;Cơ quan thực hiện;Cột lạ\n"
        "9.000001;Thủ tục mới;STP;x\n"
        ";Thiếu mã;STP;x\n"
        "9.000001;Trùng mã;STP;x\n"
        "9.000002;Cơ quan lạ;Sở Không Tồn Tại;x\n",
        encoding="utf-8-sig",
    )
    result = cli.invoke(app, ["kb", "import", str(bad), "--json"])
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert not report["applied"]
    problems = {(p["row"], p["code"]) for p in report["problems"]}
    assert {(3, "missing_required"), (4, "duplicate_code"), (5, "unknown_agency")} <= problems
    assert report["unknown_agencies"] == ["Sở Không Tồn Tại"]
    assert any("Cột lạ" in w for w in report["warnings"])
    search = cli.invoke(app, ["kb", "search", "Thủ tục mới", "--json"])
    assert all(r["code"] != "9.000001" for r in json.loads(search.output)["results"])


def test_import_dry_run_then_apply(cli: CliRunner, tmp_path: Path) -> None:
    good = tmp_path / "moi.json"
    good.write_text(
        json.dumps(
            [
                {
                    "code": "9.000003",
                    "name": "Cấp phép nuôi chim yến",
                    "agency": "SNNMT",
                    "keywords": ["nhà yến", "nuôi yến"],
                }
            ],
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    dry = json.loads(cli.invoke(app, ["kb", "import", str(good), "--dry-run", "--json"]).output)
    assert dry["ok"] and not dry["applied"] and dry["added"] == ["9.000003"]
    # the sample is reported, never deleted
    assert len(dry["removed_from_file"]) == len(load_procedures_json())
    applied = json.loads(cli.invoke(app, ["kb", "import", str(good), "--json"]).output)
    assert applied["applied"] and applied["added"] == ["9.000003"]
    again = json.loads(cli.invoke(app, ["kb", "import", str(good), "--json"]).output)
    assert again["unchanged"] == ["9.000003"] and again["added"] == []
    found = json.loads(cli.invoke(app, ["kb", "search", "xin phep nuoi yen", "--json"]).output)
    assert found["results"][0]["code"] == "9.000003"


def test_wrong_format_is_a_clear_message(cli: CliRunner, tmp_path: Path) -> None:
    png = tmp_path / "anh.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    result = cli.invoke(app, ["agencies", "import", str(png)])
    assert result.exit_code == 1 and "Không đọc được tệp" in result.output


def test_calendar_commands(cli: CliRunner) -> None:
    due = cli.invoke(app, ["calendar", "due", "2026-11-23T09:00"])
    assert due.output.strip() == "2026-12-03T23:59:59+07:00"
    working = cli.invoke(app, ["calendar", "due", "2026-11-23T09:00+07:00", "--unit", "working"])
    assert working.output.strip() == "2026-12-08T23:59:59+07:00"  # 24/11 is a day off
    off = cli.invoke(app, ["calendar", "days-off", "2026"])
    assert "2026-11-24" in off.output and "Ngày Văn hóa Việt Nam" in off.output
    cli.invoke(app, ["calendar", "set", "2026-12-04", "off", "Nghỉ bù thử"])
    moved = cli.invoke(app, ["calendar", "due", "2026-11-23T09:00", "--unit", "working"])
    assert moved.output.strip() == "2026-12-09T23:59:59+07:00"


def test_eval_command(cli: CliRunner, tmp_path: Path) -> None:
    rows = tmp_path / "q.jsonl"
    rows.write_text(
        '{"q": "đăng ký kết hôn", "expect": "1.000894"}\n{"q": "xin chào", "expect": null}\n'
    )
    result = cli.invoke(app, ["kb", "eval", str(rows)])
    assert "top-1: 1.000" in result.output and "out-of-scope abstain: 1.000" in result.output


def test_piped_shell_on_a_used_database_still_answers(cli: CliRunner) -> None:
    """The terminal chat restarted on the same database: ids continue, nothing is skipped."""
    first = cli.invoke(app, ["shell"], input="lam giay khai sinh cho con\n")
    assert first.exit_code == 0, first.output
    assert "Xin chào" in first.output and "Đăng ký khai sinh" in first.output
    second = cli.invoke(app, ["shell"], input="xin giay xac nhan doc than\n/quit\n")
    assert second.exit_code == 0, second.output
    assert "Xin chào" in second.output and "tình trạng hôn nhân" in second.output


async def _file_case_on(url: str, at: datetime) -> str:
    """A case filed through the domain, and its card delivered to the bound group."""
    from bot.app import create_app
    from bot.clock import FixedClock
    from bot.domain.cases import Actor, Draft
    from bot.settings import BotSettings, DatabaseSettings, Settings
    from storage.repositories import AgencyRepo, MessageLinkRepo

    settings = Settings(
        database=DatabaseSettings(database_url=url), bot=BotSettings(admin_ids=[999])
    )
    application = await create_app(settings, FixedClock(at))
    try:
        async with application.sessions.begin() as session:
            await AgencyRepo(session).bind_chat("TTPVHCC", -100111, at)
            draft = Draft(
                draft_id="d-1",
                kind="phan_anh",
                content="Bộ phận một cửa hẹn trả hồ sơ nhiều lần mà không có kết quả.",
                name="Trần Thị Bình",
                phone="0912345678",
                address="12 Lê Lợi",
            )
            case = await application.cases.submit(
                session, draft, citizen=Actor("citizen", 5001, "Bình"), chat_id=5001, locale="vi"
            )
            await MessageLinkRepo(session).add(-100111, 4242, case.id, "card")
            return case.code
    finally:
        await application.close()


async def _rows(url: str) -> dict[str, int]:
    from sqlalchemy import func, select
    from sqlalchemy.ext.asyncio import create_async_engine

    from storage.models import CaseEvent, OutboxMessage, ReportRun

    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return {
                table.__tablename__: int(
                    await conn.scalar(select(func.count()).select_from(table)) or 0
                )
                for table in (OutboxMessage, CaseEvent, ReportRun)
            }
    finally:
        await engine.dispose()


def test_tick_dry_run_prints_the_texts_and_records_nothing(
    cli: CliRunner, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio
    from zoneinfo import ZoneInfo

    monkeypatch.setenv("ADMIN_IDS", "999")
    monkeypatch.setenv("DATABASE_URL", database_url)
    url = database_url
    vn = ZoneInfo("Asia/Ho_Chi_Minh")
    # Received Friday 20/11/2026: due Monday 30/11, the day of the dry run.
    code = asyncio.run(_file_case_on(url, datetime(2026, 11, 20, 9, 0, tzinfo=vn)))
    before = asyncio.run(_rows(url))

    dry = cli.invoke(app, ["tick", "--dry-run", "--now", "2026-11-30T09:00"])  # local time
    assert dry.exit_code == 0, dry.output
    out = dry.output
    # The reminder of the due day, to the group, as it would read; the reports of the day.
    assert "Nhắc hạn trả lời hồ sơ " + code in out and "TTPVHCC" in out
    assert "Hôm nay (30/11/2026) là ngày cuối cùng" in out
    assert "quản trị viên" in out.lower() and "999" in out
    counts = json.loads(out.strip().splitlines()[-1])
    assert counts["dry_run"] is True and counts["reminders"] == 1
    assert counts["weekly"] == 1 and counts["monthly"] == 1
    assert asyncio.run(_rows(url)) == before  # no outbox rows, no events, no report runs

    again = cli.invoke(app, ["tick", "--dry-run", "--now", "2026-11-30T09:00"])
    assert again.output == dry.output  # nothing was claimed by the first dry run
    real = cli.invoke(app, ["tick", "--now", "2026-11-30T09:00+07:00"])
    counts = json.loads(real.output.strip().splitlines()[-1])
    assert counts["reminders"] == 1 and counts["weekly"] == 1 and counts["monthly"] == 1
    assert asyncio.run(_rows(url))["outbox"] > before["outbox"]


def test_admin_life_event_reaches_the_search(cli: CliRunner) -> None:
    query = "sắp về làm dâu thì phải làm giấy tờ gì"
    before = json.loads(cli.invoke(app, ["kb", "search", query, "--json"]).output)
    assert before["results"][0]["code"] != "1.004194"
    added = cli.invoke(
        app,
        [
            "kb",
            "event-add",
            "lam_dau",
            "Về làm dâu",
            "--triggers",
            "về làm dâu|về nhà chồng",
            "--procedures",
            "Đăng ký thường trú=1|Tách hộ",
        ],
    )
    assert added.exit_code == 0, added.output
    listed = cli.invoke(app, ["kb", "events"]).output
    assert "lam_dau\tVề làm dâu\t1.004194 1.004236" in listed
    after = json.loads(cli.invoke(app, ["kb", "search", query, "--json"]).output)
    assert after["results"][0]["code"] == "1.004194"
    assert cli.invoke(app, ["kb", "event-remove", "lam_dau"]).exit_code == 0
    assert cli.invoke(app, ["kb", "event-remove", "lam_dau"]).exit_code == 1
    bad = cli.invoke(app, ["kb", "event-add", "x", "X", "--triggers", "a b", "--procedures", ""])
    assert bad.exit_code == 2 and "no procedure" in bad.output
