"""aiogram's types built on first use (`bot.lazy_types`) behave as when aiogram builds them all
at import: each process is compared with a plain aiogram in another process."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# An update that nests a good part of Telegram's types: a reply, entities, a photo, a keyboard.
UPDATES = [
    {
        "update_id": 7,
        "message": {
            "message_id": 11,
            "date": 1_700_000_000,
            "chat": {"id": -100123, "type": "supergroup", "title": "Phòng Tư pháp"},
            "from": {"id": 42, "is_bot": False, "first_name": "Lan", "language_code": "vi"},
            "text": "/traloi 2025-000123 Đã xử lý",
            "entities": [{"type": "bot_command", "offset": 0, "length": 7}],
            "reply_to_message": {
                "message_id": 10,
                "date": 1_699_999_000,
                "chat": {"id": -100123, "type": "supergroup", "title": "Phòng Tư pháp"},
                "from": {"id": 1, "is_bot": True, "first_name": "bot", "username": "citizen_bot"},
                "photo": [{"file_id": "p", "file_unique_id": "u", "width": 90, "height": 90}],
                "reply_markup": {
                    "inline_keyboard": [[{"text": "Nhận xử lý", "callback_data": "c:1"}]]
                },
            },
        },
    },
    {
        "update_id": 8,
        "callback_query": {
            "id": "q1",
            "from": {"id": 42, "is_bot": False, "first_name": "Lan"},
            "chat_instance": "ci",
            "data": "c:1",
            "message": {
                "message_id": 10,
                "date": 1_699_999_000,
                "chat": {"id": -100123, "type": "supergroup"},
                "text": "Hồ sơ 2025-000123",
            },
        },
    },
]

SCRIPT = textwrap.dedent(
    """
    import json, sys
    if sys.argv[1] == "deferred":
        import bot  # noqa: F401
    import aiogram.types as types
    from pydantic import BaseModel
    out = {"complete_after_import": types.Message.__pydantic_complete__}
    out["updates"] = [
        types.Update.model_validate(u).model_dump(mode="json", exclude_none=True)
        for u in json.loads(sys.argv[2])
    ]
    # a method nests types: its first use builds them too
    from aiogram.methods import SendMessage
    method = SendMessage(
        chat_id=5,
        text="<b>Mã hồ sơ</b>",
        reply_markup=types.InlineKeyboardMarkup(
            inline_keyboard=[[types.InlineKeyboardButton(text="Đánh giá", callback_data="r:5")]]
        ),
    )
    out["method"] = repr(method.model_dump(exclude_none=True))
    import aiogram.methods as methods
    failed = []
    for name in [*types.__all__, *methods.__all__]:
        model = getattr(types, name, None) or getattr(methods, name)
        if isinstance(model, type) and issubclass(model, BaseModel):
            try:
                model.model_rebuild()  # raises if the model cannot be built
            except Exception as exc:  # noqa: BLE001
                failed.append(f"{name}: {exc}")
    out["failed"] = failed
    print(json.dumps(out))
    """
)


def _run(mode: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, mode, json.dumps(UPDATES)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


def test_types_built_on_first_use_validate_as_aiogram_builds_them() -> None:
    deferred, plain = _run("deferred"), _run("plain")
    assert plain["complete_after_import"] is True
    assert deferred["complete_after_import"] is False  # the deferral is in effect
    assert deferred["failed"] == [] == plain["failed"]  # every type still builds
    assert deferred["updates"] == plain["updates"]
    assert deferred["method"] == plain["method"]
    assert deferred["updates"][0]["message"]["reply_to_message"]["reply_markup"]


def test_only_aiogram_s_own_rebuild_with_a_namespace_is_deferred() -> None:
    from pydantic import BaseModel

    from bot.lazy_types import defer_aiogram_builds

    defer_aiogram_builds()  # idempotent: the conftest installed it

    class Outer(BaseModel):
        model_config = {"defer_build": True}
        inner: Inner | None = None  # a forward reference (annotations are strings here)

    class Inner(BaseModel):
        value: int

    # our own models are rebuilt when asked, as pydantic does it
    assert Outer.model_rebuild(_types_namespace={"Inner": Inner}) is True
    assert Outer.__pydantic_complete__
    assert Outer.model_validate({"inner": {"value": 3}}).inner == Inner(value=3)
