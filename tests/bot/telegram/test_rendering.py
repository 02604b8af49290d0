"""Templates render exactly, escape everything that is not ours, and split cleanly."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.telegram.rendering import Renderer, split_html
from knowledge.records import ProcedureRecord

TZ = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer(TZ, "vi")


def test_procedure_card_exact(renderer: Renderer) -> None:
    record = ProcedureRecord(
        code="1.000894",
        name="Đăng ký kết hôn",
        field="Hộ tịch",
        documents="Tờ khai <mẫu>",
        processing_time="05 ngày làm việc",
        fee="Miễn lệ phí",
        online="một phần",
        url="https://dichvucong.gov.vn/x?a=1&b=2",
    )
    text = renderer.render("procedure_card.html", "vi", p=record, agency_name="UBND & xã")
    assert text == (
        "📄 <b>Đăng ký kết hôn</b>\n"
        "Mã thủ tục: <code>1.000894</code> · Hộ tịch\n"
        "\n"
        "🏛 <b>Cơ quan giải quyết:</b> UBND &amp; xã\n"
        "⏱ <b>Thời hạn giải quyết:</b> 05 ngày làm việc\n"
        "💰 <b>Phí, lệ phí:</b> Miễn lệ phí\n"
        "🌐 <b>Dịch vụ công trực tuyến:</b> một phần (nộp trực tuyến, nhận kết quả tại Bộ "
        "phận Một cửa)\n"
        "\n"
        "📎 <b>Thành phần hồ sơ:</b>\n"
        "Tờ khai &lt;mẫu&gt;\n"
        "\n"
        '🔗 <a href="https://dichvucong.gov.vn/x?a=1&amp;b=2">'
        "Xem chi tiết trên Cổng Dịch vụ công</a>"
    )


def test_english_card_labels(renderer: Renderer) -> None:
    record = ProcedureRecord(code="1.000894", name="Đăng ký kết hôn", fee="Miễn lệ phí")
    text = renderer.render("procedure_card.html", "en", p=record, agency_name="")
    assert "Fee" in text and "Phí, lệ phí" not in text


def test_acknowledgement_exact(renderer: Renderer) -> None:
    case = SimpleNamespace(
        code="PA-7KQ4-2M", kind="phan_anh", due_at=datetime(2026, 12, 3, 16, 59, 59, tzinfo=UTC)
    )
    agency = SimpleNamespace(name="Sở Tư pháp")
    assert renderer.render("case_ack.html", "vi", case=case, agency=agency) == (
        "✅ Đã tiếp nhận phản ánh, kiến nghị của bạn.\n"
        "\n"
        "Mã hồ sơ: <code>PA-7KQ4-2M</code>\n"
        "Loại: Phản ánh\n"
        "Cơ quan xử lý: Sở Tư pháp\n"
        "Hạn trả lời: <b>03/12/2026</b>\n"
        "\n"
        "Bạn có thể tra cứu bằng lệnh /status PA-7KQ4-2M hoặc /mycases."
    )


def test_apology_letter_carries_every_required_fact(renderer: Renderer) -> None:
    case = SimpleNamespace(
        code="PA-7KQ4-2M",
        citizen_name="Nguyễn <Lan>",
        agency="STP",
        received_at=datetime(2026, 11, 23, 2, 0, tzinfo=UTC),
        due_at=datetime(2026, 12, 15, 16, 59, 59, tzinfo=UTC),
    )
    text = renderer.render(
        "apology.html",
        "vi",
        case=case,
        agency=SimpleNamespace(name="Sở Tư pháp"),
        old_due=datetime(2026, 12, 3, 16, 59, 59, tzinfo=UTC),
        reason="Cần xác minh & đo đạc",
    )
    assert text.startswith("<b>PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ</b>")
    for fact in (
        "Nguyễn &lt;Lan&gt;",
        "PA-7KQ4-2M",
        "23/11/2026",
        "03/12/2026",
        "15/12/2026",
        "Cần xác minh &amp; đo đạc",
        "Sở Tư pháp",
    ):
        assert fact in text


def test_catalog_parameters_are_escaped(renderer: Renderer) -> None:
    assert renderer.t("status.not_found", "vi", code="<b>x</b>") == (
        "Không tìm thấy hồ sơ «&lt;b&gt;x&lt;/b&gt;» của bạn. Kiểm tra lại mã, hoặc bấm /mycases."
    )
    assert renderer.plain("intake.submitted_toast", "vi", code="A&B") == "Đã gửi. Mã hồ sơ: A&B"


def test_both_catalogs_have_the_same_keys_and_placeholders(renderer: Renderer) -> None:
    vi, en = renderer.catalogs["vi"], renderer.catalogs["en"]
    assert vi.keys() == en.keys()
    holes = re.compile(r"\$(\w+)")  # Fluent variables
    for key in vi:
        assert set(holes.findall(vi[key])) == set(holes.findall(en[key])), key
    assert sum(bool(holes.findall(source)) for source in vi.values()) > 150


def test_split_keeps_tags_balanced_and_under_the_limit() -> None:
    text = "<b>" + ("Thành phần hồ sơ &amp; giấy tờ. " * 300) + "</b>\n" + "x" * 5000
    parts = split_html(text, limit=1000)
    assert len(parts) > 5 and all(len(p) <= 1000 for p in parts)
    for part in parts:
        assert part.count("<b>") == part.count("</b>")
        assert not re.search(r"&[a-z]*$", part)  # never ends inside an entity
    joined = re.sub(r"</?b>", "", "".join(parts))
    assert joined.replace("\n", "").replace(" ", "") == re.sub(r"</?b>", "", text).replace(
        "\n", ""
    ).replace(" ", "")


@given(st.text(alphabet="ab <>&;\nđư", max_size=3000))
def test_split_never_exceeds_the_limit(body: str) -> None:
    from markupsafe import escape

    parts = split_html(f"<b>{escape(body)}</b>", limit=200)
    assert all(len(p) <= 200 for p in parts)
