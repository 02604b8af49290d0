"""The admin's command line, run as a user would (typer's runner, a real SQLite file)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app


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
    assert len(dry["removed_from_file"]) == 53  # the sample is reported, never deleted
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


def test_commands_that_do_not_talk_to_telegram_never_load_aiogram(tmp_path: Path) -> None:
    # Importing aiogram costs seconds (it builds every Bot API type): `kb search`, the
    # calendar, routing rules and a tick with nothing due start without it.
    import os
    import subprocess
    import sys

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
    assert out.stdout.strip().splitlines()[-1] == "[]"
