"""One send budget for all of the bot's processes (Telegram counts per bot, not per process).

`RedisLimits` books slots in Redis with one Lua script per booking (atomic, on Redis's own
clock); `DatabaseLimits` books them in the `rate_bookings` table under a lock, on the database
server's clock. Both apply exactly the sliding windows of `TelegramRateLimiter` (30/s overall,
one message a second per chat, 20 a minute per group), so any mix of processes behaves like a
single one.
"""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.telegram.ratelimit import (
    GLOBAL_WINDOW_SECONDS,
    GROUP_WINDOW_SECONDS,
    TelegramRateLimiter,
    settle,
    windows_for,
)
from storage.repositories import RateRepo

# Bookings older than the longest window (a group's minute) can never matter again.
_FORGET_AFTER = GROUP_WINDOW_SECONDS + 1.0

# KEYS: global, chat, group (bookings, sorted sets); global block, chat block (strings).
# ARGV: global limit, global window, chat interval, group limit, group window, is group,
#       a unique member name.
# The search is `_SlidingWindow.earliest` and `settle` of ratelimit.py, line for line.
_RESERVE = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local EPS = 1e-9
local function fmt(x) return string.format('%.6f', x) end
local windows = {
  {KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2])},
  {KEYS[2], 1, tonumber(ARGV[3])},
}
if ARGV[6] == '1' then windows[3] = {KEYS[3], tonumber(ARGV[4]), tonumber(ARGV[5])} end
for _, w in ipairs(windows) do
  redis.call('ZREMRANGEBYSCORE', w[1], '-inf', '(' .. fmt(now - w[3] - 1))
end
local function earliest(key, limit, window, t)
  if window <= 0 then return t end
  while true do
    local raw = redis.call('ZRANGEBYSCORE', key, fmt(t - window - 0.001),
                           fmt(t + window + 0.001), 'WITHSCORES')
    local times = {}
    for k = 2, #raw, 2 do times[#times + 1] = tonumber(raw[k]) end
    local n = #times
    local i = 0
    for k = 1, n do if times[k] <= t then i = k end end
    local conflict = nil
    for j = math.min(i, n - limit), math.max(0, i - limit), -1 do
      local first = times[j + 1]
      local last = times[j + limit]
      if math.max(last, t) - math.min(first, t) < window - EPS then
        conflict = first
        break
      end
    end
    if conflict == nil then return t end
    t = conflict + window
  end
end
local t = now
for _, key in ipairs({KEYS[4], KEYS[5]}) do
  local blocked = tonumber(redis.call('GET', key) or '0')
  if blocked > t then t = blocked end
end
while true do
  local moved = t
  for _, w in ipairs(windows) do
    local e = earliest(w[1], w[2], w[3], t)
    if e > moved then moved = e end
  end
  if moved <= t then break end
  t = moved
end
for _, w in ipairs(windows) do
  redis.call('ZADD', w[1], t, ARGV[7])
  redis.call('PEXPIRE', w[1], math.ceil((t - now + w[3] + 1) * 1000))
end
return fmt(t - now)
"""

# KEYS: the block key. ARGV: seconds.
_PENALIZE = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local seconds = tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if now + seconds > current then
  redis.call('SET', KEYS[1], string.format('%.6f', now + seconds),
             'PX', math.ceil(seconds * 1000) + 1000)
end
return 1
"""


class RedisLimits:
    """The shared budget in Redis (REDIS_URL); `namespace` separates bots sharing one Redis."""

    def __init__(self, redis: Any, namespace: str) -> None:
        self.redis = redis
        # A hash tag: in a Redis Cluster all of a booking's keys live on one node.
        self.prefix = f"citizen_bot:rl:{{{namespace}}}"
        self._reserve = redis.register_script(_RESERVE)
        self._penalize = redis.register_script(_PENALIZE)

    @classmethod
    def from_url(cls, url: str, namespace: str) -> RedisLimits:
        # Imported here: the redis driver is the optional `[redis]` extra.
        from redis.asyncio import Redis

        return cls(Redis.from_url(url), namespace)

    def _keys(self, chat_id: int) -> list[str]:
        p = self.prefix
        return [f"{p}:g", f"{p}:c:{chat_id}", f"{p}:grp:{chat_id}", f"{p}:gb", f"{p}:cb:{chat_id}"]

    async def reserve(self, limiter: TelegramRateLimiter, chat_id: int) -> float:
        args = [
            limiter.global_per_second,
            GLOBAL_WINDOW_SECONDS,
            limiter.per_chat_interval,
            limiter.group_per_minute,
            GROUP_WINDOW_SECONDS,
            "1" if limiter.is_group(chat_id) else "0",
            secrets.token_hex(8),
        ]
        delay = await self._reserve(keys=self._keys(chat_id), args=args)
        return max(0.0, float(delay))

    async def penalize(
        self, limiter: TelegramRateLimiter, chat_id: int | None, seconds: float
    ) -> None:
        key = f"{self.prefix}:gb" if chat_id is None else f"{self.prefix}:cb:{chat_id}"
        await self._penalize(keys=[key], args=[seconds])

    async def close(self) -> None:
        await self.redis.aclose()


class DatabaseLimits:
    """The shared budget in the database (no Redis): one short transaction per booking."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    async def reserve(self, limiter: TelegramRateLimiter, chat_id: int) -> float:
        keys = {"global": "g", "chat": f"c:{chat_id}", "group": f"grp:{chat_id}"}
        async with self.sessions.begin() as session:
            repo = RateRepo(session)
            now = await repo.now()
            await repo.lock(forget_before=now - _FORGET_AFTER)
            booked = await repo.booked(keys.values(), since=now - GROUP_WINDOW_SECONDS)
            windows = windows_for(limiter, chat_id, {name: booked[k] for name, k in keys.items()})
            blocked = await repo.blocked_until(["block:g", f"block:c:{chat_id}"])
            t = settle(list(windows.values()), max(now, blocked))
            await repo.book([keys[name] for name in windows], t)
        return t - now

    async def penalize(
        self, limiter: TelegramRateLimiter, chat_id: int | None, seconds: float
    ) -> None:
        key = "block:g" if chat_id is None else f"block:c:{chat_id}"
        async with self.sessions.begin() as session:
            repo = RateRepo(session)
            now = await repo.now()
            await repo.lock(forget_before=now - _FORGET_AFTER)
            await repo.book([key], now + seconds)

    async def close(self) -> None:
        """Nothing to close: the engine belongs to the application."""
