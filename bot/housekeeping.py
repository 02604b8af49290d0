"""Housekeeping: prune what grows without bound, on a schedule (RETENTION_* settings).

- delivered outbox rows after RETENTION_OUTBOX_DAYS (the message ids that replies need are
  kept in message_links, and failed rows stay for the admins to read);
- handled updates (the inbox) after RETENTION_UPDATES_DAYS (Telegram re-delivers for at most
  a day); pending and failed ones are kept;
- conversations (FSM rows in the database) untouched for RETENTION_FSM_DAYS — in Redis the
  same retention is the keys' TTL;
- shared rate-limit bookings older than a minute.

Every statement is idempotent, so processes may run it at the same time.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import Any

from storage.repositories import FsmRepo, InboxRepo, OutboxRepo, RateRepo

log = logging.getLogger(__name__)


async def housekeep(app: Any) -> dict[str, int]:
    """One pass; rows deleted per table."""
    retention = app.settings.retention
    now = app.clock.now()
    async with app.sessions.begin() as session:
        deleted = {
            "outbox": await OutboxRepo(session).prune_sent(
                now - timedelta(days=retention.outbox_days)
            ),
            "inbox": await InboxRepo(session).prune(now - timedelta(days=retention.updates_days)),
            "fsm_records": await FsmRepo(session).prune(now - timedelta(days=retention.fsm_days)),
            # Bookings are on the wall clock (or the database's), never the domain clock.
            "rate_bookings": await RateRepo(session).prune(time.time() - 120),
        }
    if any(deleted.values()):
        log.info(
            "housekeeping deleted %s",
            ", ".join(f"{n} from {table}" for table, n in deleted.items() if n),
        )
    return deleted
