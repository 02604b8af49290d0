"""aiogram's Telegram types are built when first used, not all of them at import.

`import aiogram` takes 2.5-3.5 s on a small server, and most of it is one loop at the end of
`aiogram/types/__init__.py`: it calls `model_rebuild(_types_namespace=...)` on each of its ~440
pydantic models, so pydantic builds every model's validator at once, each with the schemas of
every model it nests (an `Update` nests almost all of them). The models themselves are declared
with `defer_build=True`; only that loop forces the build.

`defer_aiogram_builds()` makes that loop only keep the namespace it passes (aiogram's types by
name) and return. When a model of aiogram is first used, pydantic rebuilds it (a type, or a
method such as `SendMessage`, which nests types) and is then given that namespace to resolve
the forward references ("User", "Message"), as the loop would have. The first `Update` the bot
validates builds the models it needs (about 0.1 s); the import takes about a quarter of the
time. Models outside aiogram, forced rebuilds and models already built are left to pydantic.
Installing it touches pydantic only, never aiogram, so commands that never talk to Telegram
still never import aiogram. `tests/bot/test_lazy_types.py` compares it with plain aiogram.

Not covered (none is used here): something other than an aiogram model that nests an aiogram
type not built yet — a `TypeAdapter(list[Update])`, aiogram's `ChatMemberAdapter`, a model of
ours with a `Message` field — is built without that namespace and fails; build the aiogram type
first (`build_common_types` builds the usual ones when the bot is created).
"""

from __future__ import annotations

from typing import Any

__all__ = ["defer_aiogram_builds"]

_installed = False
# aiogram's types by name, as `aiogram/types/__init__.py` hands them to `model_rebuild`.
_aiogram_namespace: dict[str, Any] | None = None


def defer_aiogram_builds() -> bool:
    """Install the deferral (once; before aiogram is imported, else it changes nothing)."""
    global _installed
    if _installed:
        return False
    from pydantic import BaseModel

    original = BaseModel.model_rebuild.__func__  # type: ignore[attr-defined]

    def model_rebuild(
        cls: type[BaseModel],
        *,
        force: bool = False,
        raise_errors: bool = True,
        _parent_namespace_depth: int = 2,
        _types_namespace: Any = None,
    ) -> bool | None:
        global _aiogram_namespace
        if cls.__module__.startswith("aiogram.") and not force and not cls.__pydantic_complete__:
            if _types_namespace is not None and cls.model_config.get("defer_build"):
                # aiogram's import-time loop: keep the names, build nothing now
                if _aiogram_namespace is None:
                    _aiogram_namespace = dict(_types_namespace)
                return None
            if _types_namespace is None and _aiogram_namespace is not None:
                # a first use (a type, or a method that nests types): pydantic resolves the
                # forward references ("User", "Message") among aiogram's types, as the loop
                # would have; the model's own namespace still comes first
                _types_namespace = _aiogram_namespace
        return original(  # type: ignore[no-any-return]
            cls,
            force=force,
            raise_errors=raise_errors,
            # one frame deeper than pydantic's own: this wrapper sits in between
            _parent_namespace_depth=_parent_namespace_depth + 1 if _parent_namespace_depth else 0,
            _types_namespace=_types_namespace,
        )

    BaseModel.model_rebuild = classmethod(model_rebuild)  # type: ignore[method-assign,assignment]
    _installed = True
    return True


def build_common_types() -> None:
    """Build the types every update and reply nests, innermost first. Built lazily, each
    outer model (`Update`, `Response[Message]`, …) would build its own copy of `Message`'s
    schema (0.12-0.16 s each, the first time each is used); with `Message` built first they
    reuse it: about 0.15 s in all, once, at start."""
    from aiogram import types

    for model in (types.User, types.Chat, types.Message, types.CallbackQuery, types.Update):
        model.model_rebuild()
