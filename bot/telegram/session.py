"""aiogram's HTTP session, sending each Bot API call as a JSON body.

The Bot API takes a method's parameters as a URL query, a urlencoded or multipart form, or an
`application/json` body "except for uploading files" (Bot API, "Making requests"). aiogram's
`AiohttpSession` always sends a form: every nested object (a keyboard, link preview options)
is JSON text inside it, and the whole body is then percent-encoded byte by byte in Python. A
procedure card is a few kilobytes of Vietnamese, three UTF-8 bytes to most letters: its form
cost ~180 µs to build against ~60 µs for the same call as JSON, on every reply
(benchmarks/bench_requests.py). Calls that upload a file (an export, a chart) still go as
aiogram's multipart form.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, cast

from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.exceptions import TelegramNetworkError
from aiogram.methods.base import TelegramType
from aiohttp import ClientError, ClientTimeout

if TYPE_CHECKING:
    from aiogram import Bot
    from aiogram.methods import TelegramMethod

__all__ = ["JsonBodySession"]

_JSON = {"Content-Type": "application/json"}


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

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        timeout: int | None = None,  # noqa: ASYNC109  # aiogram's own signature
    ) -> TelegramType:
        payload = self.build_json(bot, method)
        if payload is None:
            return await super().make_request(bot, method, timeout)
        session = await self.create_session()
        url = self.api.api_url(token=bot.token, method=method.__api_method__)
        # The same errors as aiogram's own request, so its retry and error handling apply.
        try:
            async with session.post(
                url,
                data=payload.encode(),
                headers=_JSON,
                timeout=ClientTimeout(total=self.timeout if timeout is None else timeout),
            ) as resp:
                raw_result = await resp.text()
        except TimeoutError as e:
            raise TelegramNetworkError(method=method, message="Request timeout error") from e
        except ClientError as e:
            raise TelegramNetworkError(method=method, message=f"{type(e).__name__}: {e}") from e
        response = self.check_response(
            bot=bot, method=method, status_code=resp.status, content=raw_result
        )
        return cast(TelegramType, response.result)
