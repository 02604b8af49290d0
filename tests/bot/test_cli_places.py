"""The admin sets up a province's communes from the command line (typer's runner, SQLite)."""

from __future__ import annotations

import csv
import io
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


def test_generate_communes_then_import_and_list(cli: CliRunner, tmp_path: Path) -> None:
    # The province's own directory first (it replaces the bundled demo): the provincial
    # agencies and the two commune placeholders its procedures name.
    province = tmp_path / "tinh.csv"
    province.write_text(
        "code,name,parent,unit_code,kind\n"
        "UBND-TINH,Ủy ban nhân dân tỉnh Lâm Đồng,,68,province_committee\n"
        "CAT,Công an tỉnh Lâm Đồng,,68,province_police\n"
        "UBND-CAP-XA,Ủy ban nhân dân cấp xã,UBND-TINH,,commune_committee\n"
        "CA-CAP-XA,Công an cấp xã,CAT,,commune_police\n",
        encoding="utf-8",
    )
    result = cli.invoke(app, ["agencies", "import", str(province), "--json"])
    assert result.exit_code == 0, result.output
    out = tmp_path / "xa_phuong.csv"
    result = cli.invoke(
        app,
        ["agencies", "generate-communes", "68", "--out", str(out), "--police",
         "--parent", "UBND-TINH", "--police-parent", "CAT"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(out.read_text("utf-8-sig"))))
    assert len(rows) == 248  # 124 communes of Lâm Đồng, a People's Committee and a police each
    assert {"code", "name", "chat_id", "unit_code", "kind"} <= set(rows[0])
    assert all(r["chat_id"] == "" for r in rows)  # for the admin to fill in
    # The admin adds a group to one commune and imports the file.
    for r in rows:
        if r["code"] == "UBND-24781":
            r["chat_id"] = "-1001234567890"
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    out.write_text(buffer.getvalue(), encoding="utf-8")
    result = cli.invoke(app, ["agencies", "import", str(out), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["applied"] and len(report["added"]) == 248
    listed = cli.invoke(app, ["agencies", "list"]).output
    line = next(x for x in listed.splitlines() if x.startswith("UBND-24781\t"))
    assert "Ủy ban nhân dân phường Xuân Hương - Đà Lạt" in line
    assert "chat=-1001234567890" in line and "kind=commune_committee" in line
    assert "unit=24781" in line
    placeholder = next(x for x in listed.splitlines() if x.startswith("CA-CAP-XA\t"))
    assert "kind=commune_police" in placeholder and "unit=-" in placeholder


def test_generate_communes_to_stdout_and_unknown_province(cli: CliRunner) -> None:
    result = cli.invoke(app, ["agencies", "generate-communes", "68"])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0].startswith("code,name,chat_id,parent,reply_days,unit_code,kind")
    assert len(lines) == 1 + 124
    assert cli.invoke(app, ["agencies", "generate-communes", "99"]).exit_code == 2


def test_cases_unresolved_lists_nothing_on_a_fresh_database(cli: CliRunner) -> None:
    result = cli.invoke(app, ["cases", "unresolved", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == []
