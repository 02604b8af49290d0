"""aiogram's HTTP session, sending each Bot API call as a JSON body.

The Bot API takes a method's parameters as a URL query, a urlencoded or multipart form, or an
`application/json` body "except for uploading files" (Bot API, "Making requests"). aiogram's
`AiohttpSession` always sends a form: every nested object (a keyboard, link preview options)
is JSON text inside it, and the whole body is then percent-encoded byte by byte in Python. A
procedure card is one to two kilobytes of Vietnamese, two or three UTF-8 bytes a letter: its
form cost ~180 µs to build against ~60 µs for the same call as JSON, on every reply
(benchmarks/bench_requests.py). Calls that upload a file (an export, a chart) still go as
aiogram's multipart form.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from aiogram.client.session.aiohttp import AiohttpSession
from aiohttp import FormData
from aiohttp.payload import BytesPayload

if TYPE_CHECKING:
    from aiogram import Bot
    from aiogram.methods import TelegramMethod

__all__ = ["JsonBodySession"]


class JsonBodySession(AiohttpSession):
    """`AiohttpSession` whose calls without files are sent as `application/json`."""

    def build_json(self, bot: Bot, method: TelegramMethod[Any]) -> str | None:
        """The call's parameters as a JSON object, or None when it uploads a file."""
        files: dict[str, Any] = {}
        body: dict[str, Any] = {}
        for key, value in method.model_dump(warnings=False).items():
            # Nested objects stay objects (not JSON text inside JSON), as the Bot API reads
            # them from a JSON body.
            prepared = self.prepare_value(value, bot=bot, files=files, _dumps_json=False)
            # What aiogram's form leaves out: unset parameters and empty strings.
            if prepared is None or prepared == "":
                continue
            body[key] = prepared
        if files:
            return None
        if self.json_dumps is json.dumps:
            # UTF-8 as it is: escaped, each Vietnamese letter would be six bytes, not two or
            # three (RFC 8259 allows either)
            return json.dumps(body, ensure_ascii=False, separators=(",", ":"))
        dumped: str | bytes = self.json_dumps(body)
        return dumped.decode() if isinstance(dumped, bytes) else dumped

    def build_form_data(self, bot: Bot, method: TelegramMethod[Any]) -> FormData:
        """The body aiogram's `make_request` posts (its request, timeout and errors are
        unchanged): the JSON object, or aiogram's own form when the call uploads a file."""
        payload = self.build_json(bot, method)
        if payload is None:
            return super().build_form_data(bot, method)
        # aiohttp posts a payload as it is, with the payload's content type
        body = BytesPayload(payload.encode(), content_type="application/json")
        return body  # type: ignore[return-value]  # aiogram only hands it to aiohttp's post
