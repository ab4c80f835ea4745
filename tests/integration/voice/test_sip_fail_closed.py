"""What the proxy does when operateur cannot be asked: every call is refused (fail closed), except
the emergency numbers, relayed anyway; and the reports of calls in progress (answer, end) are
kept and delivered once operateur is back, so that no call is lost or misbilled. Over HTTP and
over the proxy's event socket (evapi)."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from decimal import Decimal

import httpx
import pytest

from operateur.billing.models import UsageStatus
from operateur.contracts.models import LineKind
from operateur.testing.ports import free_port
from operateur.testing.redis import RedisServer
from operateur.testing.sip import CallOutcome, Kamailio, OperateurServer, SippCallee, place_calls
from tests.integration.conftest import Builder
from tests.integration.voice.conftest import (
    LANDLINE,
    PROXY_DEFINES,
    SERVER_ENV,
    UNUSED_API,
    VoiceStack,
    evapi_env,
    wait_for,
)


@pytest.fixture(params=["down", "silent", "bad key"])
def unreachable(
    request: pytest.FixtureRequest, server: OperateurServer, builder_and_key: tuple[Builder, str]
) -> Iterator[tuple[str, str]]:
    """(API URL, key) of an operateur that cannot authorize: nothing listening, a server that
    never answers, or the real server refusing the proxy's key (HTTP 401)."""
    _, key = builder_and_key
    if request.param == "bad key":
        yield server.api_url, "not-a-valid-key"
        return
    port = free_port()
    if request.param == "down":  # nothing listens: connections are refused
        yield f"http://127.0.0.1:{port}/api/v1", key
        return
    listener = socket.socket()
    listener.bind(("127.0.0.1", port))
    listener.listen(64)  # connections complete, requests are never read
    try:
        yield f"http://127.0.0.1:{port}/api/v1", key
    finally:
        listener.close()


# SPEC: VOX-02
def test_calls_are_refused_when_operateur_cannot_authorize_but_emergency_calls_go_through(
    unreachable: tuple[str, str], callee: SippCallee
) -> None:
    api_url, key = unreachable
    with Kamailio(
        api_url=api_url, api_key=key, gateway_port=callee.port, defines=["HTTP_TIMEOUT=1"]
    ) as proxy:
        (ordinary,) = place_calls(proxy.port, line="l1", caller="+33140000001", callee=LANDLINE)
        (emergency,) = place_calls(
            proxy.port, line="l1", caller="+33140000001", callee="112", hold_ms=500
        )
    assert (ordinary.code, ordinary.reason) == (503, "Call control unavailable")
    assert ordinary.call_id not in callee.invited()
    # 112 (ARCEP list) is relayed to the network anyway and the call is answered
    assert emergency.code == 200
    assert emergency.call_id in callee.invited()


# SPEC: VOX-02
@pytest.mark.parametrize("operateur", ["not connected", "silent"])
def test_over_the_event_socket_calls_are_refused_when_operateur_cannot_answer(
    operateur: str, callee: SippCallee
) -> None:
    """No operateur connected to the proxy's event socket (refused at once), or one connected
    that never answers (refused after EVAPI_TIMEOUT_MS): emergency calls go through."""
    with Kamailio(
        api_url=UNUSED_API,
        api_key="unused",
        gateway_port=callee.port,
        defines=["EVAPI_TIMEOUT_MS=1000"],
        evapi=True,
    ) as proxy:
        assert proxy.evapi_port is not None
        with contextlib.ExitStack() as silent:
            if operateur == "silent":  # connected, reads nothing, answers nothing
                silent.enter_context(socket.create_connection(("127.0.0.1", proxy.evapi_port)))
                proxy.wait_for_link()
            (ordinary,) = place_calls(proxy.port, line="l1", caller="+33140000001", callee=LANDLINE)
            (emergency,) = place_calls(
                proxy.port, line="l1", caller="+33140000001", callee="112", hold_ms=500
            )
    assert (ordinary.code, ordinary.reason) == (503, "Call control unavailable")
    assert ordinary.call_id not in callee.invited()
    assert emergency.code == 200
    assert emergency.call_id in callee.invited()


# SPEC: BIL-09
def test_the_end_of_a_call_reaches_operateur_after_it_restarts(
    stack: VoiceStack, database_url: str
) -> None:
    """operateur stops while a call is up: the proxy keeps the call's end and delivers it when
    operateur is back (the live calls survive in Redis); the call is then billed."""
    account = stack.account("centrex", line_kind=LineKind.CENTREX, number_prefix="+3314003")
    redis = RedisServer()
    redis_url = redis.start()
    evapi = stack.transport == "evapi"
    proxy = Kamailio(
        api_url=UNUSED_API,  # over HTTP: the server's, once it has a port
        api_key=stack.api_key,
        gateway_port=stack.callee.port,
        defines=PROXY_DEFINES,
        evapi=evapi,
    )
    env = evapi_env(proxy) if evapi else SERVER_ENV
    server = OperateurServer(database_url, env={**env, "OPERATEUR_REDIS_URL": redis_url})
    proxy.api_url = server.api_url
    try:
        server.start()
        with proxy:
            if evapi:
                proxy.wait_for_link()
            outcomes: list[CallOutcome] = []
            caller = threading.Thread(
                target=lambda: outcomes.extend(
                    place_calls(
                        proxy.port,
                        line=account.line,
                        caller=account.number,
                        callee=LANDLINE,
                        hold_ms=8000,
                    )
                )
            )
            caller.start()
            headers = {"Authorization": f"Bearer {stack.api_key}"}

            def answered_call() -> str | None:
                if not caller.is_alive():
                    raise AssertionError(f"the call ended before operateur stopped: {outcomes}")
                calls = httpx.get(f"{server.api_url}/voice/calls", headers=headers, timeout=10)
                for call in calls.json():
                    if call["line"] == account.line and call["answered_at"]:
                        return str(call["call_id"])
                return None

            call_id = wait_for(answered_call, timeout=60, what="the call to be answered")
            server.stop()  # operateur goes down during the call
            caller.join(timeout=120)
            assert [o.code for o in outcomes] == [200]
            assert outcomes[0].call_id == call_id
            assert stack.usage_count([call_id]) == 0  # not billed while operateur is down
            if evapi:
                assert "operateur disconnected" in proxy.log
            else:
                assert "report /voice/end" in proxy.log and "queued" in proxy.log
            server.start()  # back: the queued end is delivered
            (record,) = stack.usage_records([call_id])
            assert (record.status, record.disposition) == (UsageStatus.RATED, "ANSWERED")
            # operateur times the end when it receives it (no clock from the proxy): the call
            # lasted at least its 8 s and is billed in whole minutes at 0.012 €/min (60/60)
            assert record.billable_seconds >= 8
            assert record.billed_seconds % 60 == 0
            assert record.cost == Decimal("0.012") * record.billed_seconds / 60
            live = httpx.get(f"{server.api_url}/voice/calls", headers=headers, timeout=10)
            assert call_id not in {c["call_id"] for c in live.json()}  # its slot is free
            # the proxy forgets a report once operateur has taken it: nothing is left waiting
            wait_for(
                lambda: proxy.reports_waiting() == 0 or None,
                timeout=30,
                what="the proxy's report queue to empty",
            )
    finally:
        server.close()
        redis.stop()
