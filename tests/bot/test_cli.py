"""The admin's command line, run as a user would (typer's runner, a real SQLite file)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from knowledge.sample import DEFAULT_PROCEDURES_PATH, load_procedures_json


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
    # The bundled demo's agencies (STP here) never count for a province's own file.
    assert report["unknown_agencies"] == ["STP", "Sở Không Tồn Tại"]
    assert any("Cột lạ" in w for w in report["warnings"])
    search = cli.invoke(app, ["kb", "search", "Thủ tục mới", "--json"])
    assert all(r["code"] != "9.000001" for r in json.loads(search.output)["results"])


def test_import_dry_run_then_apply(cli: CliRunner, tmp_path: Path) -> None:
    agencies = tmp_path / "co_quan.csv"
    agencies.write_text("code,name,reply_days\nSNN-X,Sở Nông nghiệp tỉnh X,15\n", encoding="utf-8")
    good = tmp_path / "moi.json"
    good.write_text(
        json.dumps(
            [
                {
                    "code": "9.000003",
                    "name": "Cấp phép nuôi chim yến",
                    "agency": "SNN-X",
                    "keywords": ["nhà yến", "nuôi yến"],
                }
            ],
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    dry = json.loads(
        cli.invoke(app, ["agencies", "import", str(agencies), "--dry-run", "--json"]).output
    )
    # The bundled demo is not the province's: the first real import removes it entirely.
    sample_agencies = json.loads(DEFAULT_PROCEDURES_PATH.with_name("agencies.json").read_text())
    assert dry["ok"] and dry["sample_removed"] == {
        "procedures": len(load_procedures_json()),
        "agencies": len(sample_agencies),
    }
    applied = json.loads(cli.invoke(app, ["agencies", "import", str(agencies), "--json"]).output)
    assert applied["applied"] and applied["version"] == 1
    listing = cli.invoke(app, ["agencies", "list"]).output.splitlines()
    assert listing == [
        "SNN-X\tSở Nông nghiệp tỉnh X\tchat=-\tparent=-\treply_days=15\topen=0\toverdue=0"
        "\tkind=-\tunit=-"
    ]
    dry = json.loads(cli.invoke(app, ["kb", "import", str(good), "--dry-run", "--json"]).output)
    assert dry["ok"] and not dry["applied"] and dry["added"] == ["9.000003"]
    assert dry["removed_from_file"] == []  # nothing left of the sample
    applied = json.loads(cli.invoke(app, ["kb", "import", str(good), "--json"]).output)
    assert applied["applied"] and applied["added"] == ["9.000003"] and applied["version"] == 2
    again = json.loads(cli.invoke(app, ["kb", "import", str(good), "--json"]).output)
    assert again["unchanged"] == ["9.000003"] and again["added"] == []
    found = json.loads(cli.invoke(app, ["kb", "search", "xin phep nuoi yen", "--json"]).output)
    assert found["results"][0]["code"] == "9.000003"


def test_replace_versions_rollback_export(cli: CliRunner, tmp_path: Path) -> None:
    agencies = tmp_path / "co_quan.csv"
    agencies.write_text("code,name\nSTP-X,Sở Tư pháp tỉnh X\n", encoding="utf-8")
    both = tmp_path / "hai.csv"
    both.write_text(
        "Mã thủ tục;Tên thủ tục;Cơ quan thực hiện\n"
        "9.1;Đăng ký khai sinh;STP-X\n9.2;Đăng ký kết hôn;STP-X\n",
        encoding="utf-8",
    )
    one = tmp_path / "mot.csv"
    one.write_text("Mã thủ tục;Tên thủ tục;Cơ quan thực hiện\n9.1;Đăng ký khai sinh;STP-X\n",
                   encoding="utf-8")  # fmt: skip
    for path, command in ((agencies, "agencies"), (both, "kb")):
        assert cli.invoke(app, [command, "import", str(path)]).exit_code == 0
    # Replacing asks for the number it retires; a wrong number changes nothing.
    refused = cli.invoke(app, ["kb", "import", str(one), "--replace", "--confirm", "2"])
    assert refused.exit_code == 3 and "confirm with --confirm 1" in refused.output
    found = json.loads(cli.invoke(app, ["kb", "search", "đăng ký kết hôn", "--json"]).output)
    assert found["results"][0]["code"] == "9.2"
    done = cli.invoke(app, ["kb", "import", str(one), "--replace", "--confirm", "1", "--json"])
    assert json.loads(done.output)["retired"] == ["9.2"]
    found = json.loads(cli.invoke(app, ["kb", "search", "đăng ký kết hôn", "--json"]).output)
    assert all(r["code"] != "9.2" for r in found["results"])
    versions = cli.invoke(app, ["kb", "versions"]).output.splitlines()
    assert [line.split("\t")[0] for line in versions] == ["3", "2", "1"]
    assert "procedures (replace)" in versions[0] and "retired=1" in versions[0]
    assert "back to 2" in cli.invoke(app, ["kb", "rollback", "2"]).output
    found = json.loads(cli.invoke(app, ["kb", "search", "đăng ký kết hôn", "--json"]).output)
    assert found["results"][0]["code"] == "9.2"
    out = tmp_path / "kb.xlsx"
    cli.invoke(app, ["kb", "export", str(out)])
    from openpyxl import load_workbook

    rows = [[c.value for c in r] for r in load_workbook(out).worksheets[0].iter_rows()]
    assert rows == [
        ["Mã thủ tục", "Tên thủ tục", "Cơ quan thực hiện"],
        ["9.1", "Đăng ký khai sinh", "STP-X"],
        ["9.2", "Đăng ký kết hôn", "STP-X"],
    ]


def test_cli_file_limit_is_not_the_chat_limit(cli: CliRunner, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.setenv("SEARCH_IMPORT_MAX_MB", "1")  # the chat's limit
    big = tmp_path / "lon.csv"
    filler = "x" * 600
    rows = "".join(f"9.{i};Thủ tục số {i};STP;{filler}\n" for i in range(2000))
    big.write_text("Mã thủ tục;Tên thủ tục;Cơ quan thực hiện;Yêu cầu, điều kiện\n" + rows,
                   encoding="utf-8")  # fmt: skip
    assert big.stat().st_size > 1024 * 1024
    report = json.loads(cli.invoke(app, ["kb", "import", str(big), "--dry-run", "--json"]).output)
    assert report["format_error"] is None and report["rows"] == 2000
    small = json.loads(
        cli.invoke(app, ["kb", "import", str(big), "--dry-run", "--json", "--max-mb", "1"]).output
    )
    assert small["format_error"]["code"] == "too_large"


def test_rules_and_lexicon_twins(cli: CliRunner) -> None:
    assert (
        cli.invoke(app, ["rules", "add", "SXD", "--keyword", "giấy phép xây dựng"]).exit_code == 0
    )
    assert cli.invoke(app, ["rules", "list"]).output.splitlines() == [
        "1\t100\tfield=-\tkeyword=giấy phép xây dựng\t→ SXD"
    ]
    assert "removed rule 1" in cli.invoke(app, ["rules", "remove", "1"]).output
    assert cli.invoke(app, ["rules", "list"]).output == ""
    assert cli.invoke(app, ["rules", "remove", "1"]).exit_code == 1
    cli.invoke(app, ["lexicon", "add", "lên thổ cư", "chuyển mục đích sử dụng đất"])
    assert cli.invoke(app, ["lexicon", "list"]).output.splitlines() == [
        "1\tlên thổ cư\tchuyển mục đích sử dụng đất"
    ]
    assert "removed 1" in cli.invoke(app, ["lexicon", "remove", "1"]).output
    assert cli.invoke(app, ["lexicon", "list"]).output == ""


def test_report_exports(cli: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "q.xlsx"
    result = cli.invoke(
        app,
        ["report", "quarterly", "--from", "15/09/2026", "--to", "14/12/2026", "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    from openpyxl import load_workbook

    sheet = load_workbook(out).active
    assert sheet["A1"].value == "STT" and sheet["C2"].value == "Tổng cộng"
    csv_out = tmp_path / "m.csv"
    cli.invoke(app, ["report", "monthly", "--format", "csv", "--out", str(csv_out)])
    assert csv_out.read_bytes().decode("utf-8-sig").startswith("STT,Cơ quan,Người xử lý")
    bad = cli.invoke(app, ["report", "yearly"])
    assert bad.exit_code == 2
    assert cli.invoke(app, ["report", "weekly", "--from", "01/12/2026"]).exit_code == 2


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


def test_eval_of_a_never_tuned_set_can_hide_its_misses(cli: CliRunner, tmp_path: Path) -> None:
    rows = tmp_path / "q.jsonl"
    rows.write_text('{"q": "đăng ký kết hôn", "expect": "1.009994"}\n')
    shown = cli.invoke(app, ["kb", "eval", str(rows)]).output
    assert "top-1: 0.000" in shown and "misses:" in shown and "đăng ký kết hôn" in shown
    hidden = cli.invoke(app, ["kb", "eval", str(rows), "--figures-only"]).output
    assert "top-1: 0.000" in hidden and "misses" not in hidden and "kết hôn" not in hidden
    data = json.loads(cli.invoke(app, ["kb", "eval", str(rows), "--figures-only", "--json"]).output)
    assert "misses" not in data and data["top1"] == 0.0


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
    # (not "… về ở rể bên nhà vợ …": with the second batch of example phrases, "ở … nhà"
    # names "nhà ở" of the building permit well enough to discount the event)
    query = "em sắp về ở rể thì làm gì"
    before = json.loads(cli.invoke(app, ["kb", "search", query, "--json"]).output)
    assert before["results"][0]["code"] != "1.004194"
    added = cli.invoke(
        app,
        [
            "kb",
            "event-add",
            "o_re",
            "Về ở rể",
            "--triggers",
            "về ở rể|ở rể bên nhà vợ",
            "--procedures",
            "Đăng ký thường trú=1|Tách hộ",
        ],
    )
    assert added.exit_code == 0, added.output
    listed = cli.invoke(app, ["kb", "events"]).output
    assert "o_re\tVề ở rể\t1.004194 1.004236" in listed
    after = json.loads(cli.invoke(app, ["kb", "search", query, "--json"]).output)
    assert after["results"][0]["code"] == "1.004194"
    assert cli.invoke(app, ["kb", "event-remove", "o_re"]).exit_code == 0
    assert cli.invoke(app, ["kb", "event-remove", "o_re"]).exit_code == 1
    bad = cli.invoke(app, ["kb", "event-add", "x", "X", "--triggers", "a b", "--procedures", ""])
    assert bad.exit_code == 2 and "no procedure" in bad.output


def _last_line_of_python(code: str, tmp_path: Path) -> str:
    """Run `code` in a fresh interpreter (SQLite in `tmp_path`, no token); its last line."""
    import os
    import subprocess
    import sys

    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/cli.sqlite3",
        "PYTHONPATH": str(Path(__file__).parents[2]),
    }
    env.pop("BOT_TOKEN", None)
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.strip().splitlines()[-1]


def test_commands_that_do_not_talk_to_telegram_never_load_aiogram(tmp_path: Path) -> None:
    # Importing aiogram costs seconds (it builds every Bot API type): `kb search`, the
    # calendar, routing rules and a tick with nothing due start without it.
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from bot.cli import app\n"
        "for args in (['kb', 'search', 'lam so do'], ['calendar', 'due', '2026-11-23T09:00'],\n"
        "             ['calendar', 'days-off', '2026'], ['agencies', 'list'],\n"
        "             ['rules', 'add', 'STP', '--keyword', 'hộ tịch'],\n"
        "             ['tick', '--now', '2026-11-24T03:00+07:00']):\n"
        "    result = CliRunner().invoke(app, args)\n"
        "    assert result.exit_code == 0, (args, result.output)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'aiogram'))\n"
    )
    assert _last_line_of_python(code, tmp_path) == "[]"


def test_the_bot_starts_without_loading_the_chart_and_holiday_libraries(tmp_path: Path) -> None:
    # matplotlib (~0.6 s) and holidays (~0.2 s) were imported while the dispatcher was built,
    # before the first update could be answered; they are needed only for a chart or a date.
    code = (
        "import asyncio, sys\n"
        "from bot.app import create_app, create_dispatcher\n"
        "from bot.settings import Settings\n"
        "async def main():\n"
        "    app = await create_app(Settings())\n"
        "    create_dispatcher(app)\n"
        "    await app.close()\n"
        "asyncio.run(main())\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'matplotlib', 'holidays'}))\n"
    )
    assert _last_line_of_python(code, tmp_path) == "[]"


def test_a_search_from_the_command_line_loads_no_templates_catalogs_or_case_workflow(
    tmp_path: Path,
) -> None:
    # `kb search` took 1.05-1.11 s on a slow machine (the goal is 1 s): the application built
    # the renderer (jinja2, fluent: ~50 ms of imports) and the case services at start, which
    # a search never uses. They are built when first used.
    code = (
        "import asyncio, sys\n"
        "from bot.app import create_app\n"
        "from bot.settings import Settings\n"
        "async def main():\n"
        "    app = await create_app(Settings())\n"
        "    app.knowledge.snapshot.engine.search('khai sinh')\n"
        "    await app.close()\n"
        "asyncio.run(main())\n"
        "wanted = {'jinja2', 'fluent', 'aiogram', 'bot.domain.cases', 'bot.domain.answers'}\n"
        "print(sorted(m for m in wanted if m in sys.modules))\n"
    )
    assert _last_line_of_python(code, tmp_path) == "[]"


def test_examples_add_list_and_explain(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    extra = tmp_path / "examples.tsv"
    monkeypatch.setenv("SEARCH_EXAMPLES_PATH", str(extra))
    kb = str(DEFAULT_PROCEDURES_PATH)
    refused = cli.invoke(app, ["kb", "examples-add", "OOS:weather", "trời có mưa không"])
    assert refused.exit_code == 2 and "status" in refused.output
    added = cli.invoke(
        app, ["kb", "examples-add", "1.001193", "nhà vừa có thêm thằng cu", "thằng cu mới ra đời"]
    )
    assert added.exit_code == 0, added.output
    assert extra.read_text("utf-8").splitlines()[-1] == "1.001193\tthằng cu mới ra đời"
    extra.write_text(extra.read_text("utf-8") + "9.999999\tthủ tục tỉnh khác\nbroken\n", "utf-8")
    listing = cli.invoke(app, ["kb", "examples", "1.001193", "--kb", kb])
    assert listing.exit_code == 0, listing.output
    assert "  thằng cu mới ra đời" in listing.output.splitlines()
    summary = cli.invoke(app, ["kb", "examples", "--kb", kb])
    assert summary.exit_code == 0
    assert "1 code(s) not in this KB: 9.999999" in summary.output
    assert "skipped examples.tsv:4" in summary.output
    explained = cli.invoke(
        app, ["kb", "search", "--kb", kb, "--explain", "nhà mình có thêm thằng cu", "--limit", "1"]
    )
    assert explained.exit_code == 0, explained.output
    data = json.loads(explained.output)
    assert data["top"][0]["code"] == "1.001193"
    assert data["top"][0]["example_phrase"] in ("nhà vừa có thêm thằng cu", "thằng cu mới ra đời")
    assert "out_of_scope" in data


def test_an_import_keeps_the_index_that_the_next_command_loads(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from knowledge.search import SearchEngine

    folder = tmp_path / "index"
    monkeypatch.setenv("SEARCH_CACHE_DIR", str(folder))
    agencies = tmp_path / "co_quan.csv"
    agencies.write_text("code,name,reply_days\nSNN-X,Sở Nông nghiệp tỉnh X,15\n", encoding="utf-8")
    procedures = tmp_path / "moi.json"
    procedures.write_text(
        json.dumps(
            [{"code": "9.000003", "name": "Cấp phép nuôi chim yến", "agency": "SNN-X"}],
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    assert cli.invoke(app, ["agencies", "import", str(agencies)]).exit_code == 0
    assert cli.invoke(app, ["kb", "import", str(procedures)]).exit_code == 0
    assert list(folder.glob("search-index-*.pickle"))

    def no_building(*args: object, **kwargs: object) -> None:
        raise AssertionError("the index was built again")

    monkeypatch.setattr(SearchEngine, "__init__", no_building)
    found = json.loads(cli.invoke(app, ["kb", "search", "xin phep nuoi yen", "--json"]).output)
    assert found["results"][0]["code"] == "9.000003"
