"""Domain errors. One error handler turns them into clear, translated replies."""

from __future__ import annotations

from typing import Any


class UserFacingError(Exception):
    """An error the user should read: `key` names a catalog string, `params` fill it."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


class InvalidTransition(UserFacingError):
    """A case cannot move from its status to the one asked for."""

    def __init__(self, code: str, from_status: str, to_status: str) -> None:
        super().__init__("case.bad_transition", code=code, status=from_status)
        self.from_status = from_status
        self.to_status = to_status


class NotAllowed(UserFacingError):
    """The actor may not act on this case (wrong group, not an admin, not the filer)."""
