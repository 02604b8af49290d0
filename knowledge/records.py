"""Plain records shared by the importers, the index and the storage layer.

`knowledge/` is pure code: no aiogram, no SQLAlchemy. Storage converts its rows to these
records and back.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

# Online service level as the national portal shows it: dịch vụ công trực tuyến toàn trình or
# một phần (Nghị định 42/2022/NĐ-CP Điều 11, which replaced the old levels 4 and 3).
ONLINE_FULL = "toàn trình"
ONLINE_PARTIAL = "một phần"
ONLINE_LEVELS = ("", ONLINE_FULL, ONLINE_PARTIAL)


@dataclass(frozen=True, slots=True)
class ProcedureRecord:
    """One administrative procedure (TTHC) as published (Nghị định 63/2010 Điều 8)."""

    code: str
    name: str
    field: str = ""
    level: str = ""
    agency: str = ""  # agency code from the directory, "" when unknown
    steps: str = ""
    channels: str = ""
    documents: str = ""
    processing_time: str = ""
    fee: str = ""
    result: str = ""
    conditions: str = ""
    legal_basis: str = ""
    online: str = ""  # one of ONLINE_LEVELS
    url: str = ""
    keywords: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, object]:
        """Return the record as a JSON-friendly dict (keywords as a list)."""
        out: dict[str, object] = {f.name: getattr(self, f.name) for f in fields(self)}
        out["keywords"] = list(self.keywords)
        return out


@dataclass(frozen=True, slots=True)
class AgencyRecord:
    """One agency of the directory; `chat_id` is its officials' Telegram group."""

    code: str
    name: str
    chat_id: int | None = None
    parent: str | None = None
    reply_days: int | None = None

    def as_dict(self) -> dict[str, object]:
        """Return the record as a JSON-friendly dict."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


PROCEDURE_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(ProcedureRecord))
AGENCY_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(AgencyRecord))
