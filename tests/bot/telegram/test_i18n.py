"""The Fluent catalogs: every key in every language, plural rules from CLDR, numbers and dates
formatted by Babel, and the JSON → Fluent converter that brings other branches' keys over."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.domain.reports import percent
from bot.telegram.i18n_convert import ConversionError, convert, to_fluent
from bot.telegram.rendering import LOCALES, FluentCatalog, Renderer

ROOT = Path(__file__).parents[3]
LOCALES_DIR = ROOT / "bot" / "telegram" / "locales"
VN = ZoneInfo("Asia/Ho_Chi_Minh")


def ids(path: Path) -> set[str]:
    return set(re.findall(r"^([a-zA-Z][\w-]*)\s*=", path.read_text("utf-8"), re.M))


def test_every_key_is_in_every_language_file_by_file() -> None:
    files = {loc: sorted(p.name for p in (LOCALES_DIR / loc).glob("*.ftl")) for loc in LOCALES}
    assert files["vi"] == files["en"] and "main.ftl" in files["vi"]
    for name in files["vi"]:
        vi, en = ids(LOCALES_DIR / "vi" / name), ids(LOCALES_DIR / "en" / name)
        assert vi - en == set(), f"missing in en/{name}: {sorted(vi - en)}"
        assert en - vi == set(), f"missing in vi/{name}: {sorted(en - vi)}"


def test_no_json_catalog_is_left_unconverted() -> None:
    left = sorted(p.name for p in LOCALES_DIR.glob("*.json"))
    assert left == [], f"run `make i18n` (python -m bot.telegram.i18n_convert): {left}"


_KEY_USE = re.compile(
    r"""\b(?:t|plain|alert_admins|to_citizen|to_group)\(\s*["']([a-z_]+(?:\.[a-z_0-9]+)+)["']"""
)


def test_every_key_the_code_names_exists_in_both_languages() -> None:
    renderer = Renderer(VN)
    used: set[str] = set()
    for folder in ("bot", "handlers"):
        for path in (ROOT / folder).rglob("*.py"):
            used |= set(_KEY_USE.findall(path.read_text("utf-8")))
    for path in (ROOT / "bot" / "telegram" / "templates").glob("*.html"):
        used |= set(_KEY_USE.findall(path.read_text("utf-8")))
    assert len(used) > 150
    for locale in LOCALES:
        missing = sorted(k for k in used if k not in renderer.fluent[locale])
        assert missing == [], f"{locale}: {missing}"


def test_plural_rules_come_from_cldr() -> None:
    r = Renderer(VN)
    assert [r.plain("reports.cases_count", "en", n=n) for n in (0, 1, 2, 21)] == [
        "0 cases",
        "1 case",
        "2 cases",
        "21 cases",
    ]
    # Vietnamese has one plural form (CLDR "other" only).
    assert [r.plain("reports.cases_count", "vi", n=n) for n in (1, 2)] == ["1 hồ sơ", "2 hồ sơ"]
    assert r.plain("adm.replace_body", "en", n=1).startswith("The 1 procedure below is not")
    assert r.plain("adm.replace_body", "en", n=3).startswith("The 3 procedures below are not")


def test_numbers_and_dates_are_formatted_by_babel() -> None:
    r = Renderer(VN)
    # Whole numbers stay as written (chat ids, years); dates are dd/mm/yyyy, local time.
    assert r.plain("adm.group_bound", "vi", chat_id=-1001234567890) == "nhóm -1001234567890"
    moment = datetime(2026, 12, 31, 18, 30, tzinfo=UTC)  # 01/01/2027 01:30 in Hà Nội
    assert r.plain("adm.report_caption", "en", start=moment, end=date(2027, 1, 5)) == (
        "Figures from 01/01/2027 to 05/01/2027"
    )
    assert (percent(2 / 3, "vi"), percent(2 / 3, "en"), percent(1234.5 / 100, "vi")) == (
        "66,7",
        "66.7",
        "1.234,5",
    )
    catalog = FluentCatalog("vi", VN, ["x = { $n }"])
    assert catalog.format("x", {"n": 12.5}) == "12,5"  # a fraction in the locale's digits


def test_parameters_are_escaped_and_markup_is_kept() -> None:
    r = Renderer(VN)
    assert r.t("adm.rule_removed", "vi", id="<i>") == "Đã xóa quy tắc #&lt;i&gt;."
    inner = r.t("reports.received", "vi", n=3)
    assert "<b>3</b>" in r.t("adm.rule_removed", "vi", id=inner)


def test_converter_brings_a_branchs_new_keys_over(tmp_path: Path) -> None:
    folder = tmp_path / "locales"
    (folder / "en").mkdir(parents=True)
    (folder / "en" / "main.ftl").write_text("kept-key = Translator's wording\n", "utf-8")
    (folder / "en.json").write_text(
        json.dumps(
            {
                "kept.key": "The old wording",
                "desk.waiting": "{{ n }} case{% if n != 1 %}s{% endif %} waiting since "
                "{{ since | dt }} for <b>{{ who }}</b>{% if note %} ({{ note }}){% endif %}",
            }
        ),
        "utf-8",
    )
    (folder / "en.desk.json").write_text(json.dumps({"desk.kind": "A {{ kind | lower }}"}))
    assert convert(folder) == [
        "en.desk.json → en/desk.ftl: 1 messages",
        "en.json → en/main.ftl: 1 messages",
    ]
    assert sorted(p.name for p in folder.iterdir()) == ["en"]
    main = (folder / "en" / "main.ftl").read_text("utf-8")
    assert "kept-key = Translator's wording" in main and "The old wording" not in main
    catalog = FluentCatalog(
        "en", VN, [(folder / "en" / n).read_text("utf-8") for n in ("main.ftl", "desk.ftl")]
    )
    since = datetime(2026, 11, 23, 2, 5, tzinfo=UTC)
    assert catalog.format("desk.waiting", {"n": 1, "since": since, "who": "A&B", "note": ""}) == (
        "1 case waiting since 09:05 23/11/2026 for <b>A&amp;B</b>"
    )
    assert catalog.format("desk.waiting", {"n": 2, "since": since, "who": "x", "note": "y"}) == (
        "2 cases waiting since 09:05 23/11/2026 for <b>x</b> (y)"
    )
    assert catalog.format("desk.kind", {"kind": "Phản Ánh"}) == "A phản ánh"
    assert convert(folder) == []  # nothing left to do: the run is repeatable


def test_converter_refuses_what_it_cannot_keep_exact() -> None:
    with pytest.raises(ConversionError):
        to_fluent("x.y", "{{ a.b }}")
    with pytest.raises(ConversionError):
        to_fluent("x.y", "{% for i in items %}{{ i }}{% endfor %}")
    tail = to_fluent("x.y", "Số điện thoại: ")
    assert FluentCatalog("vi", VN, [tail]).format("x.y", {}) == "Số điện thoại: "
    source = to_fluent("x.y", "[a] {curly} *b")
    assert FluentCatalog("en", VN, [source]).format("x.y", {}) == "[a] {curly} *b"
