"""Real-time counters of call control behind one interface, with two backends.

- :class:`InProcessCounters` (the embedded default): dictionaries under a lock, correct for one
  process (one API worker).
- :class:`RedisCounters` (``OPERATEUR_REDIS_URL``): the same operations as atomic Lua scripts on
  one Redis server, correct for several API workers on several machines.

What they hold:

- **sliding windows** (VOX-07 CAPS, VOX-11 dialling rate): the admitted attempts of the last
  ``seconds``, one timestamp each; an attempt is admitted while fewer than ``limit`` attempts were
  admitted in ``(now - seconds, now]`` — a true sliding window, not a fixed one-second bucket;
- **slots** (VOX-05, VOX-07 concurrent calls): the calls holding a place under a key, each with
  an expiry, so a call whose end never arrives frees its place by itself;
- **live calls**: the state of each admitted call (a flat ``str -> str`` mapping), its deadline
  (for the reaper) and its owner (the customer, to list their calls).

:meth:`Counters.admit` checks every window and slot and, only when all pass, records the attempt
in the windows, takes the slots and stores the call — in one atomic step, so two workers can
never both take the last slot. :meth:`Counters.finish` removes a call and frees its slots, once:
a second call returns ``None``.

Times are POSIX seconds (floats) given by the caller, so that every worker and the tests agree on
one clock; the workers' clocks are expected to be NTP-synchronised.
"""

from __future__ import annotations

import heapq
import threading
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

CallState = dict[str, str]

_SLOTS_FIELD = "_slots"
_OWNER_FIELD = "_owner"
_DEADLINE_FIELD = "_deadline"


@dataclass(frozen=True)
class Window:
    """At most ``limit`` admitted attempts under ``key`` in any ``seconds``-long window."""

    key: str
    limit: int
    seconds: float


@dataclass(frozen=True)
class Slot:
    """At most ``limit`` live calls under ``key`` at once."""

    key: str
    limit: int


Check = Window | Slot


class AlreadyLive:
    """What :meth:`Counters.admit` answers for a call id that is already live (a retransmitted
    INVITE): nothing is counted twice."""


ALREADY_LIVE = AlreadyLive()


class Counters(Protocol):
    """What call control needs from its counter store; both backends implement all of it."""

    def admit(
        self,
        call_id: str,
        *,
        windows: Sequence[Window],
        slots: Sequence[Slot],
        state: Mapping[str, str],
        owner: str,
        deadline: float,
        now: float,
    ) -> Check | AlreadyLive | None:
        """Admit the call if every window and slot has room: record it everywhere and return
        ``None``; else change nothing and return the first check that failed. A call id that
        is already live changes nothing and gets :data:`ALREADY_LIVE`."""

    def get(self, call_id: str) -> CallState | None:
        """The state of a live call, or ``None``."""

    def set_fields(self, call_id: str, fields: Mapping[str, str], *, only_if_empty: bool) -> bool:
        """Update fields of a live call (``only_if_empty``: leave fields already set alone).
        False when the call is not live."""

    def finish(self, call_id: str) -> CallState | None:
        """Remove a live call and free its slots, atomically; ``None`` if it was not live."""

    def due(self, now: float, limit: int) -> list[str]:
        """Ids of live calls whose deadline has passed (the reaper ends them)."""

    def calls_of(self, owner: str) -> list[CallState]:
        """The live calls of an owner (a customer)."""

    def all_calls(self, limit: int) -> list[CallState]:
        """Live calls of every owner, at most ``limit``."""

    def in_use(self, slot_key: str, now: float) -> int:
        """How many live calls hold a slot under ``slot_key``."""

    def clear(self) -> None:
        """Forget everything (tests, benchmarks)."""


def _public(state: Mapping[str, str]) -> CallState:
    return {k: v for k, v in state.items() if not k.startswith("_")}


class InProcessCounters:
    """The embedded backend: one process, dictionaries under one lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._windows: dict[str, deque[float]] = {}
        self._slots: dict[str, dict[str, float]] = {}
        self._expiries: dict[str, list[tuple[float, str]]] = {}  # heap per slot key
        self._calls: dict[str, dict[str, str]] = {}
        self._owners: dict[str, set[str]] = {}

    def _window_count(self, window: Window, now: float) -> int:
        hits = self._windows.get(window.key)
        if hits is None:
            return 0
        floor = now - window.seconds
        while hits and hits[0] <= floor:
            hits.popleft()
        return len(hits)

    def _slot_count(self, slot: Slot, now: float) -> int:
        held = self._slots.get(slot.key)
        if held is None:
            return 0
        expiries = self._expiries[slot.key]
        while expiries and expiries[0][0] <= now:  # expired slots leave, earliest first
            expiry, member = heapq.heappop(expiries)
            if held.get(member) == expiry:
                del held[member]
        return len(held)

    def admit(
        self,
        call_id: str,
        *,
        windows: Sequence[Window],
        slots: Sequence[Slot],
        state: Mapping[str, str],
        owner: str,
        deadline: float,
        now: float,
    ) -> Check | AlreadyLive | None:
        with self._lock:
            if call_id in self._calls:
                return ALREADY_LIVE
            for window in windows:
                if self._window_count(window, now) >= window.limit:
                    return window
            for slot in slots:
                if self._slot_count(slot, now) >= slot.limit:
                    return slot
            for window in windows:
                self._windows.setdefault(window.key, deque()).append(now)
            for slot in slots:
                self._slots.setdefault(slot.key, {})[call_id] = deadline
                heapq.heappush(self._expiries.setdefault(slot.key, []), (deadline, call_id))
            self._calls[call_id] = {
                **state,
                _SLOTS_FIELD: "\n".join(slot.key for slot in slots),
                _OWNER_FIELD: owner,
                _DEADLINE_FIELD: repr(deadline),
            }
            self._owners.setdefault(owner, set()).add(call_id)
            return None

    def get(self, call_id: str) -> CallState | None:
        with self._lock:
            state = self._calls.get(call_id)
            return _public(state) if state is not None else None

    def set_fields(self, call_id: str, fields: Mapping[str, str], *, only_if_empty: bool) -> bool:
        with self._lock:
            state = self._calls.get(call_id)
            if state is None:
                return False
            for key, value in fields.items():
                if not only_if_empty or not state.get(key):
                    state[key] = value
            return True

    def finish(self, call_id: str) -> CallState | None:
        with self._lock:
            state = self._calls.pop(call_id, None)
            if state is None:
                return None
            for key in filter(None, state[_SLOTS_FIELD].split("\n")):
                held = self._slots.get(key)
                if held is not None:
                    held.pop(call_id, None)
                    if not held:
                        del self._slots[key]
                        del self._expiries[key]
            owned = self._owners.get(state[_OWNER_FIELD])
            if owned is not None:
                owned.discard(call_id)
                if not owned:
                    del self._owners[state[_OWNER_FIELD]]
            return _public(state)

    def due(self, now: float, limit: int) -> list[str]:
        with self._lock:
            late = [
                (float(state[_DEADLINE_FIELD]), call_id)
                for call_id, state in self._calls.items()
                if float(state[_DEADLINE_FIELD]) <= now
            ]
        return [call_id for _, call_id in sorted(late)[:limit]]

    def calls_of(self, owner: str) -> list[CallState]:
        with self._lock:
            ids = sorted(self._owners.get(owner, ()))
            return [_public(self._calls[i]) for i in ids]

    def all_calls(self, limit: int) -> list[CallState]:
        with self._lock:
            return [_public(state) for _, state in sorted(self._calls.items())[:limit]]

    def in_use(self, slot_key: str, now: float) -> int:
        with self._lock:
            return self._slot_count(Slot(slot_key, 0), now)

    def clear(self) -> None:
        with self._lock:
            self._windows.clear()
            self._slots.clear()
            self._expiries.clear()
            self._calls.clear()
            self._owners.clear()


# --- Redis ------------------------------------------------------------------------------------

# KEYS: window keys, slot keys, call key, due key, owner key
# ARGV: n_windows, n_slots, now, call_id, deadline, [limit, seconds] per window,
#       [limit] per slot, then field, value pairs of the call's state
_ADMIT = """
local nw = tonumber(ARGV[1])
local ns = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local call_id = ARGV[4]
local deadline = tonumber(ARGV[5])
local call_key = KEYS[nw + ns + 1]
if redis.call('EXISTS', call_key) == 1 then return -1 end
local a = 6
for i = 1, nw do
  local limit = tonumber(ARGV[a]); local seconds = tonumber(ARGV[a + 1]); a = a + 2
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - seconds)
  if redis.call('ZCARD', KEYS[i]) >= limit then return i end
end
for i = 1, ns do
  local key = KEYS[nw + i]
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
  if redis.call('ZCARD', key) >= tonumber(ARGV[a + i - 1]) then return nw + i end
end
a = 6
for i = 1, nw do
  local seconds = tonumber(ARGV[a + 1]); a = a + 2
  redis.call('ZADD', KEYS[i], now, call_id)
  redis.call('PEXPIRE', KEYS[i], math.ceil(seconds * 1000) + 1000)
end
local ttl = math.ceil((deadline - now) * 1000) + 60000
for i = 1, ns do
  local key = KEYS[nw + i]
  redis.call('ZADD', key, deadline, call_id)
  if redis.call('PTTL', key) < ttl then redis.call('PEXPIRE', key, ttl) end
end
a = a + ns
local fields = {}
for i = a, #ARGV do fields[#fields + 1] = ARGV[i] end
redis.call('HSET', call_key, unpack(fields))
redis.call('PEXPIRE', call_key, ttl)
redis.call('ZADD', KEYS[nw + ns + 2], deadline, call_id)
redis.call('SADD', KEYS[nw + ns + 3], call_id)
redis.call('PEXPIRE', KEYS[nw + ns + 3], ttl)
return 0
"""

# KEYS: call key, due key; ARGV: call_id, owner key prefix
_FINISH = """
local state = redis.call('HGETALL', KEYS[1])
if #state == 0 then return state end
local slots, owner = '', ''
for i = 1, #state, 2 do
  if state[i] == '_slots' then slots = state[i + 1] end
  if state[i] == '_owner' then owner = state[i + 1] end
end
for key in string.gmatch(slots, '[^\\n]+') do redis.call('ZREM', key, ARGV[1]) end
redis.call('SREM', ARGV[2] .. owner, ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('DEL', KEYS[1])
return state
"""

# KEYS: call key; ARGV: only_if_empty (0/1), field, value pairs
_SET_FIELDS = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
for i = 2, #ARGV, 2 do
  if ARGV[1] == '0' then
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  else
    local current = redis.call('HGET', KEYS[1], ARGV[i])
    if not current or current == '' then redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
  end
end
return 1
"""


class RedisCounters:
    """The shared backend: every operation is one atomic Lua script or a plain read.

    Keys live under ``prefix`` (one Redis server, not a cluster: the scripts touch keys they
    compute, which Redis Cluster refuses).
    """

    def __init__(self, url: str, *, prefix: str = "operateur:voice:") -> None:
        import redis

        self._redis: Any = redis.Redis.from_url(url, decode_responses=True)
        self._prefix = prefix
        self._admit = self._redis.register_script(_ADMIT)
        self._finish = self._redis.register_script(_FINISH)
        self._set_fields = self._redis.register_script(_SET_FIELDS)

    def _key(self, kind: str, name: str) -> str:
        return f"{self._prefix}{kind}:{name}"

    @property
    def _due_key(self) -> str:
        return f"{self._prefix}due"

    def admit(
        self,
        call_id: str,
        *,
        windows: Sequence[Window],
        slots: Sequence[Slot],
        state: Mapping[str, str],
        owner: str,
        deadline: float,
        now: float,
    ) -> Check | AlreadyLive | None:
        keys = [self._key("w", w.key) for w in windows] + [self._key("s", s.key) for s in slots]
        keys += [self._key("c", call_id), self._due_key, self._key("o", owner)]
        args: list[str | float | int] = [len(windows), len(slots), repr(now), call_id]
        args.append(repr(deadline))
        for window in windows:
            args += [window.limit, repr(window.seconds)]
        args += [slot.limit for slot in slots]
        full = {
            **state,
            _SLOTS_FIELD: "\n".join(self._key("s", s.key) for s in slots),
            _OWNER_FIELD: owner,
            _DEADLINE_FIELD: repr(deadline),
        }
        for field, value in full.items():
            args += [field, value]
        failed = int(self._admit(keys=keys, args=args))
        if failed == 0:
            return None
        if failed == -1:
            return ALREADY_LIVE
        checks: list[Check] = [*windows, *slots]
        return checks[failed - 1]

    def get(self, call_id: str) -> CallState | None:
        state: dict[str, str] = self._redis.hgetall(self._key("c", call_id))
        return _public(state) if state else None

    def set_fields(self, call_id: str, fields: Mapping[str, str], *, only_if_empty: bool) -> bool:
        args: list[str] = ["1" if only_if_empty else "0"]
        for field, value in fields.items():
            args += [field, value]
        return bool(self._set_fields(keys=[self._key("c", call_id)], args=args))

    def finish(self, call_id: str) -> CallState | None:
        flat: list[str] = self._finish(
            keys=[self._key("c", call_id), self._due_key],
            args=[call_id, f"{self._prefix}o:"],
        )
        if not flat:
            return None
        return _public(dict(zip(flat[::2], flat[1::2], strict=True)))

    def due(self, now: float, limit: int) -> list[str]:
        return list(self._redis.zrangebyscore(self._due_key, "-inf", now, start=0, num=limit))

    def _states(self, ids: Sequence[str]) -> list[CallState]:
        pipe = self._redis.pipeline(transaction=False)
        for call_id in ids:
            pipe.hgetall(self._key("c", call_id))
        return [_public(state) for state in pipe.execute() if state]

    def calls_of(self, owner: str) -> list[CallState]:
        return self._states(sorted(self._redis.smembers(self._key("o", owner))))

    def all_calls(self, limit: int) -> list[CallState]:
        return self._states(list(self._redis.zrange(self._due_key, 0, limit - 1)))

    def in_use(self, slot_key: str, now: float) -> int:
        return int(self._redis.zcount(self._key("s", slot_key), f"({now!r}", "+inf"))

    def clear(self) -> None:
        keys = list(self._redis.scan_iter(match=f"{self._prefix}*", count=1000))
        if keys:
            self._redis.delete(*keys)

    def close(self) -> None:
        self._redis.close()


# --- one store per process ---------------------------------------------------------------------

_SHARED: dict[str, Counters] = {}
_SHARED_LOCK = threading.Lock()


def shared_counters(redis_url: str | None) -> Counters:
    """The process-wide store: Redis when a URL is set, else the one in-process store that the
    API, the reaper and the scheduler of this process share."""
    key = redis_url or ""
    with _SHARED_LOCK:
        counters = _SHARED.get(key)
        if counters is None:
            counters = RedisCounters(redis_url) if redis_url else InProcessCounters()
            _SHARED[key] = counters
        return counters
