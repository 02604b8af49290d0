"""The offline terminal chat drives the production dispatcher."""

from __future__ import annotations

from pathlib import Path

from bot.app import create_app
from bot.settings import DatabaseSettings, Settings
from bot.shell import ShellChat, html_to_terminal


def test_html_to_terminal() -> None:
    assert html_to_terminal('<b>A</b> &amp; <a href="http://x">link</a>') in (
        "A & link (http://x)",
        "\033[1mA\033[0m & link (http://x)",
    )


async def test_shell_answers_and_buttons_are_numbered(tmp_path: Path) -> None:
    settings = Settings(
        database=DatabaseSettings(database_url=f"sqlite+aiosqlite:///{tmp_path}/s.db")
    )
    app = await create_app(settings)
    out: list[str] = []
    chat = ShellChat(app, out=out.append)
    try:
        await chat.handle_line("/start")
        assert any("Xin chào" in line for line in out)
        await chat.handle_line("lam giay khai sinh cho con")
        card = "\n".join(out)
        assert "Đăng ký khai sinh" in card and "[1]" in card
        out.clear()
        labels = [label for label, _, _ in chat.session.buttons]
        await chat.handle_line(str(labels.index("📝 Phản ánh về thủ tục này") + 1))
        assert any("Phản ánh" in line and "Kiến nghị" in line for line in out)
    finally:
        await chat.bot.session.close()
        await app.close()
