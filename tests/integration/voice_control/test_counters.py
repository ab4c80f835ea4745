"""The counters interface, the same tests on the in-process and the Redis backends."""

from __future__ import annotations

from operateur.voice.counters import ALREADY_LIVE, AlreadyLive, Counters, Slot, Window

T0 = 1_790_000_000.0


def _admit(
    counters: Counters,
    call_id: str,
    now: float,
    *,
    windows: tuple[Window, ...] = (),
    slots: tuple[Slot, ...] = (),
    deadline: float | None = None,
    owner: str = "1",
) -> Window | Slot | AlreadyLive | None:
    return counters.admit(
        call_id,
        windows=windows,
        slots=slots,
        state={"call_id": call_id, "answered": ""},
        owner=owner,
        deadline=deadline if deadline is not None else now + 100,
        now=now,
    )


# SPEC: VOX-07
def test_a_sliding_window_counts_the_last_seconds_not_the_current_second(
    counters: Counters,
) -> None:
    caps = Window("caps:1", 2, 1.0)
    assert _admit(counters, "a", T0 + 0.5, windows=(caps,)) is None
    assert _admit(counters, "b", T0 + 0.9, windows=(caps,)) is None
    assert _admit(counters, "c", T0 + 1.2, windows=(caps,)) == caps  # 2 in (0.2, 1.2]
    assert _admit(counters, "d", T0 + 1.51, windows=(caps,)) is None  # "a" left the window
    assert counters.get("c") is None  # a refused call is not stored


# SPEC: VOX-05
def test_slots_are_taken_atomically_and_freed_once(counters: Counters) -> None:
    line, account = Slot("line:1", 2), Slot("account:1", 3)
    assert _admit(counters, "a", T0, slots=(line, account)) is None
    assert _admit(counters, "b", T0, slots=(line, account)) is None
    assert _admit(counters, "c", T0, slots=(line, account)) == line
    # the refused call took no slot of the account either
    assert counters.in_use("account:1", T0) == 2
    assert _admit(counters, "a", T0, slots=(line, account)) is ALREADY_LIVE  # no change
    assert counters.in_use("line:1", T0) == 2
    assert counters.finish("a") == {"call_id": "a", "answered": ""}
    assert counters.finish("a") is None
    assert counters.in_use("line:1", T0) == 1
    assert _admit(counters, "c", T0, slots=(line, account)) is None


def test_a_slot_frees_itself_at_its_deadline(counters: Counters) -> None:
    line = Slot("line:9", 1)
    assert _admit(counters, "a", T0, slots=(line,), deadline=T0 + 10) is None
    assert _admit(counters, "b", T0 + 9, slots=(line,)) == line
    assert _admit(counters, "b", T0 + 11, slots=(line,)) is None
    assert counters.due(T0 + 11, 10) == ["a"]


def test_call_state_updates_and_listing(counters: Counters) -> None:
    _admit(counters, "a", T0, owner="7")
    _admit(counters, "b", T0, owner="8")
    assert counters.set_fields("a", {"answered": "1.5"}, only_if_empty=True)
    assert counters.set_fields("a", {"answered": "9.9"}, only_if_empty=True)
    assert counters.get("a") == {"call_id": "a", "answered": "1.5"}
    assert counters.set_fields("a", {"answered": "2.5"}, only_if_empty=False)
    assert counters.get("a") == {"call_id": "a", "answered": "2.5"}
    assert not counters.set_fields("zzz", {"answered": "1"}, only_if_empty=False)
    assert [c["call_id"] for c in counters.calls_of("7")] == ["a"]
    assert sorted(c["call_id"] for c in counters.all_calls(10)) == ["a", "b"]
    counters.finish("a")
    assert counters.calls_of("7") == []
