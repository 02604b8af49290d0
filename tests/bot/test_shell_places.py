"""The offline terminal chat offers Telegram's location button: pressing it asks for the
coordinates and sends a Location, as a phone would."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.app import create_app
from bot.clock import FixedClock
from bot.settings import DatabaseSettings, Settings
from bot.shell import ShellChat, shell_settings
from storage.models import Case
from tests.bot.test_shell import START, press
from tests.harness import sqlite_url


async def test_location_button_in_the_shell(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(database=DatabaseSettings(database_url=sqlite_url(tmp_path)))
    app = await create_app(shell_settings(settings), FixedClock(START))
    out: list[str] = []
    chat = ShellChat(app, out=out.append)
    try:
        assert app.cases.places is not None
        lat, lon = app.cases.places._centroids["24848"]  # Xã Lạc Dương
        await chat.handle_line("/phananh")
        await press(chat, "Phản ánh")
        await chat.handle_line("Bộ phận một cửa đòi thêm giấy xác nhận cư trú khi làm khai sinh.")
        await press(chat, "Bỏ qua")
        await chat.handle_line("khai sinh")
        await press(chat, "Đăng ký khai sinh")
        await chat.handle_line("Nguyễn Thị Lan")
        await chat.handle_line("0912 345 678")
        await chat.handle_line("Thôn 5, gần chợ")
        monkeypatch.setattr("builtins.input", lambda prompt="": "not a place")
        await press(chat, "Gửi vị trí")
        assert "Vị trí không hợp lệ" in out[-1]
        monkeypatch.setattr("builtins.input", lambda prompt="": f"{lat}, {lon}")
        await press(chat, "Gửi vị trí")
        await press(chat, "Xã Lạc Dương")
        await press(chat, "Gửi phản ánh")
        async with app.sessions() as session:
            case = await session.scalar(select(Case))
        assert case is not None and case.agency == "UBND-24848"
        assert (case.latitude, case.longitude) == pytest.approx((lat, lon))
    finally:
        await chat.close()
        await app.close()
