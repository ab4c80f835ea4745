"""Call records of Asterisk, FreeSWITCH and Kamailio imported into usage: each call once, bad
rows reported with their line and reason, the rest imported and rated (BIL-09)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from operateur.billing.cdr_import import CdrFormat, import_cdrs
from operateur.billing.models import UsageRecord, UsageStatus
from operateur.cli import app
from tests.integration.voice_ops.conftest import Setup

# Paris is UTC+1 in early March 2026 (summer time starts on 29 March).
MASTER_CSV = (
    # line 1: answered 65 s to a French landline
    '"alice","0140000000","0140000001","from-internal","""Alice"" <0140000000>",'
    '"PJSIP/alice-00000001","PJSIP/trunk-00000002","Dial","PJSIP/0140000001@trunk",'
    '"2026-03-02 10:00:00","2026-03-02 10:00:05","2026-03-02 10:01:10",70,65,"ANSWERED",'
    '"DOCUMENTATION","1772442000.1"\n'
    # line 2: no account code: the peer of the channel (alice); 38 s to a mobile
    '"","0140000000","06 12 34 56 78","from-internal","","PJSIP/alice-00000003","","Dial","",'
    '"2026-03-02 11:00:00","2026-03-02 11:00:02","2026-03-02 11:00:40",40,38,"ANSWERED",'
    '"DOCUMENTATION","1772445600.3"\n'
    # line 3: not answered (answer empty)
    '"alice","0140000000","0140000002","from-internal","","PJSIP/alice-00000004","","Dial","",'
    '"2026-03-02 12:00:00","","2026-03-02 12:00:30",30,0,"NO ANSWER","DOCUMENTATION",'
    '"1772449200.4"\n'
    # line 4: congestion is a failed call
    '"alice","0140000000","0140000003","from-internal","","PJSIP/alice-00000005","","Dial","",'
    '"2026-03-02 12:10:00","","2026-03-02 12:10:01",1,0,"CONGESTION","DOCUMENTATION",'
    '"1772449800.5"\n'
    # line 5: a month 13
    '"alice","0140000000","0140000001","from-internal","","PJSIP/alice-00000006","","Dial","",'
    '"2026-13-02 10:00:00","","2026-03-02 10:00:30",30,0,"NO ANSWER","DOCUMENTATION",'
    '"1772442000.6"\n'
    # line 6: an account nobody has: stored, not rated
    '"bob","0140000000","0140000001","from-internal","","PJSIP/bob-00000007","","Dial","",'
    '"2026-03-02 13:00:00","2026-03-02 13:00:01","2026-03-02 13:00:31",30,30,"ANSWERED",'
    '"DOCUMENTATION","1772452800.7"\n'
    # line 7: the first call again, same uniqueid
    '"alice","0140000000","0140000001","from-internal","","PJSIP/alice-00000001","","Dial","",'
    '"2026-03-02 10:00:00","2026-03-02 10:00:05","2026-03-02 10:01:10",70,65,"ANSWERED",'
    '"DOCUMENTATION","1772442000.1"\n'
    # line 8: a truncated row
    '"alice","0140000000","0140000001","from-internal"\n'
)


def _records(session: Session, source: str) -> dict[str, UsageRecord]:
    return {
        u.external_id: u
        for u in session.scalars(select(UsageRecord).where(UsageRecord.source == source))
    }


# SPEC: BIL-09
def test_asterisk_master_csv(setup: Setup, session: Session) -> None:
    customer = setup.build.customer()
    contract = setup.build.contract(customer, "centrex", date(2026, 1, 1), [])
    setup.line(contract, "alice")
    report = import_cdrs(session, MASTER_CSV, CdrFormat.ASTERISK)
    assert report.stored == 5 and report.duplicates == 0
    assert [(bad.line, bad.field, bad.reason) for bad in report.rejected] == [
        (5, "start", "not_a_time"),
        (6, "call", "unknown_account"),
        (7, "call_id", "duplicate_call_id"),
        (8, "row", "missing_fields"),
    ]
    assert report.rejected[2].first_line == 1
    rows = _records(session, "asterisk")
    first = rows["1772442000.1"]
    # 10:00 in Paris in March is 09:00 UTC
    assert first.started_at == datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    assert (first.caller, first.callee) == ("+33140000000", "+33140000001")
    # 65 s answered, 60/60 steps -> 120 s billed x 0.012 €/min = 0.024000
    assert (first.billable_seconds, first.billed_seconds, first.cost) == (
        65,
        120,
        Decimal("0.024000"),
    )
    mobile = rows["1772445600.3"]
    assert mobile.account == "alice" and mobile.callee == "+33612345678"
    # 38 s at 30/6 -> 30 + 2 x 6 = 42 s x 0.05 €/min = 0.035 + 0.01 connection = 0.045000
    assert (mobile.billed_seconds, mobile.cost) == (42, Decimal("0.045000"))
    assert rows["1772449200.4"].disposition == "NO ANSWER" and rows["1772449200.4"].cost == 0
    assert rows["1772449800.5"].disposition == "FAILED"
    assert rows["1772452800.7"].status is UsageStatus.REJECTED
    again = import_cdrs(session, MASTER_CSV, CdrFormat.ASTERISK)
    assert again.stored == 0 and again.duplicates == 5
    assert len(_records(session, "asterisk")) == 5


# SPEC: BIL-09
def test_asterisk_times_in_gmt(setup: Setup, session: Session) -> None:
    customer = setup.build.customer()
    contract = setup.build.contract(customer, "centrex", date(2026, 1, 1), [])
    setup.line(contract, "alice")
    first_row = MASTER_CSV.split("\n")[0] + "\n"
    report = import_cdrs(session, first_row, CdrFormat.ASTERISK, zone=ZoneInfo("UTC"))
    assert report.stored == 1
    assert _records(session, "asterisk")["1772442000.1"].started_at == datetime(
        2026, 3, 2, 10, 0, tzinfo=UTC
    )
    # an answered call without its answer time: the end less the billed seconds
    no_answer_time = (
        '"alice","0140000000","0140000001","from-internal","","PJSIP/alice-00000009","",'
        '"Dial","","2026-03-02 11:00:00","","2026-03-02 11:01:00",60,{billsec},"ANSWERED",'
        '"DOCUMENTATION","{uid}"\n'
    )
    rows = no_answer_time.format(billsec=20, uid="u-1") + no_answer_time.format(
        billsec="x", uid="u-2"
    )
    report = import_cdrs(session, rows, CdrFormat.ASTERISK, zone=ZoneInfo("UTC"))
    assert [(bad.line, bad.reason) for bad in report.rejected] == [(2, "not_an_integer")]
    assert _records(session, "asterisk")["u-1"].answered_at == datetime(
        2026, 3, 2, 11, 0, 40, tzinfo=UTC
    )


FREESWITCH_CSV = (
    '"Alice","0140000000","0140000001","default","2026-03-02 10:00:00","2026-03-02 10:00:05",'
    '"2026-03-02 10:01:10","70","65","NORMAL_CLEARING","a1b2-1","","alice","PCMA","PCMA"\n'
    '"Alice","0140000000","0612345678","default","2026-03-02 11:00:00","",'
    '"2026-03-02 11:00:09","9","0","USER_BUSY","a1b2-2","","alice","PCMA","PCMA"\n'
    '"Alice","0140000000","0612345678","default","2026-03-02 11:05:00","",'
    '"2026-03-02 11:05:30","30","0","NO_ANSWER","a1b2-3","","alice","PCMA","PCMA"\n'
    '"Alice","0140000000","not a number","default","2026-03-02 11:10:00","",'
    '"2026-03-02 11:10:30","30","0","NO_ANSWER","a1b2-4","","alice","PCMA","PCMA"\n'
    '"Alice","0140000000","0140000001","default","2026-03-02 11:20:00","2026-03-02 11:20:05",'
    '"2026-03-02 11:19:00","0","0","NORMAL_CLEARING","a1b2-5","","alice","PCMA","PCMA"\n'
)


# SPEC: BIL-09
def test_freeswitch_csv(setup: Setup, session: Session) -> None:
    customer = setup.build.customer()
    contract = setup.build.contract(customer, "centrex", date(2026, 1, 1), [])
    setup.line(contract, "alice")
    report = import_cdrs(session, FREESWITCH_CSV, CdrFormat.FREESWITCH_CSV)
    assert report.stored == 3
    assert [(bad.line, bad.call_id, bad.reason) for bad in report.rejected] == [
        (4, "a1b2-4", "not_a_number"),
        (5, "a1b2-5", "end_before_start"),
    ]
    rows = _records(session, "freeswitch")
    assert rows["a1b2-1"].cost == Decimal("0.024000")
    assert rows["a1b2-2"].disposition == "BUSY"
    assert rows["a1b2-3"].disposition == "NO ANSWER"


def _fs_json(uuid: str, start: int, answer: int, end: int, callee: str) -> dict[str, object]:
    return {
        "core-uuid": "0f3c",
        "variables": {
            "uuid": uuid,
            "accountcode": "alice",
            "caller_id_number": "0140000000",
            "destination_number": callee,
            "start_epoch": str(start),
            "answer_epoch": str(answer),
            "end_epoch": str(end),
            "hangup_cause": "NORMAL_CLEARING" if answer else "NO_ANSWER",
        },
        "callflow": [{"caller_profile": {"username": "alice"}}],
    }


# SPEC: BIL-09
def test_freeswitch_json_lines_and_arrays(setup: Setup, session: Session) -> None:
    customer = setup.build.customer()
    contract = setup.build.contract(customer, "centrex", date(2026, 1, 1), [])
    setup.line(contract, "alice")
    # 1772442000 = 2026-03-02 09:00:00 UTC; answered at +5 s, ended at +70 s
    answered = _fs_json("f-1", 1772442000, 1772442005, 1772442070, "0140000001")
    missed = _fs_json("f-2", 1772445600, 0, 1772445620, "0612345678")
    lines = "\n".join([json.dumps(answered), "{not json", json.dumps(missed), "[1, 2]"]) + "\n"
    report = import_cdrs(session, lines, CdrFormat.FREESWITCH_JSON)
    assert report.stored == 2
    assert [(bad.line, bad.reason) for bad in report.rejected] == [
        (2, "bad_json"),
        (4, "not_an_object"),
    ]
    rows = _records(session, "freeswitch")
    assert rows["f-1"].answered_at == datetime(2026, 3, 2, 9, 0, 5, tzinfo=UTC)
    assert rows["f-1"].cost == Decimal("0.024000")
    assert rows["f-2"].disposition == "NO ANSWER" and rows["f-2"].answered_at is None
    # The same calls as a JSON array: already stored under the FreeSWITCH source.
    again = import_cdrs(session, json.dumps([answered, missed]), CdrFormat.FREESWITCH_JSON)
    assert (again.stored, again.duplicates, again.rejected) == (0, 2, [])


KAMAILIO_ACC = (
    "method,from_tag,to_tag,callid,sip_code,sip_reason,time,src_user,dst_user\n"
    "INVITE,ft1,tt1,k-1,200,OK,2026-03-02 10:00:05,alice,0140000001\n"  # line 2
    "INVITE,ft2,,k-2,486,Busy Here,2026-03-02 10:30:00,alice,0612345678\n"  # line 3
    "BYE,ft1,tt1,k-1,200,OK,2026-03-02 10:01:10,alice,0140000001\n"  # line 4
    "BYE,ft9,tt9,k-9,200,OK,2026-03-02 10:40:00,alice,0140000001\n"  # line 5
    "INVITE,ft3,tt3,k-3,200,OK,2026-03-02 10:50:00,alice,0140000001\n"  # line 6
    "OPTIONS,ft4,,k-4,200,OK,2026-03-02 10:55:00,alice,0140000001\n"  # line 7
    "INVITE,ft5,,k-5,487,Request Terminated,1772449200,alice,0140000002\n"  # line 8
)


# SPEC: BIL-09
def test_kamailio_acc_transactions(setup: Setup, session: Session) -> None:
    customer = setup.build.customer()
    contract = setup.build.contract(customer, "centrex", date(2026, 1, 1), [])
    setup.line(contract, "alice")
    report = import_cdrs(session, KAMAILIO_ACC, CdrFormat.KAMAILIO_ACC)
    assert report.stored == 3
    assert [(bad.line, bad.call_id, bad.reason) for bad in report.rejected] == [
        (5, "k-9", "bye_without_invite"),
        (6, "k-3", "no_bye"),
        (7, "k-4", "not_a_call"),
    ]
    rows = _records(session, "kamailio")
    # answered at 10:00:05 Paris (09:00:05 UTC), BYE at 10:01:10: 65 s -> 0.024000
    assert rows["k-1"].answered_at == datetime(2026, 3, 2, 9, 0, 5, tzinfo=UTC)
    assert (rows["k-1"].billable_seconds, rows["k-1"].cost) == (65, Decimal("0.024000"))
    assert rows["k-2"].disposition == "BUSY"
    # an epoch time: 1772449200 = 2026-03-02 11:00:00 UTC
    assert rows["k-5"].disposition == "NO ANSWER"
    assert rows["k-5"].started_at == datetime(2026, 3, 2, 11, 0, tzinfo=UTC)
    missing = import_cdrs(session, "method,callid\nINVITE,x\n", CdrFormat.KAMAILIO_ACC)
    assert [(bad.line, bad.reason) for bad in missing.rejected] == [(1, "bad_header")]


@pytest.fixture
def demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("OPERATEUR_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("OPERATEUR_LANG", "en")
    monkeypatch.delenv("OPERATEUR_DATABASE_URL", raising=False)
    runner = CliRunner()
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    return tmp_path


# SPEC: BIL-09
def test_import_cdr_command(demo: Path) -> None:
    runner = CliRunner()
    master = demo / "Master.csv"
    master.write_text(MASTER_CSV)
    result = runner.invoke(
        app, ["billing", "import-cdr", "--format", "asterisk", str(master), "--json"]
    )
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    # no customer in this database: every call is kept with its reason
    assert body["stored"] == 5 and body["duplicates"] == 0
    reasons = [(row["line"], row["reason"]) for row in body["rejected"]]
    assert (5, "not_a_time") in reasons and (8, "missing_fields") in reasons
    assert {row["message"] for row in body["rejected"] if row["line"] == 8} == {"only 4 column(s)"}
    again = runner.invoke(app, ["billing", "import-cdr", "--format", "asterisk", str(master)])
    assert again.exit_code == 0
    assert "0 call(s) stored, 5 duplicate(s)" in again.output
    bad_zone = runner.invoke(
        app, ["billing", "import-cdr", "--format", "asterisk", str(master), "--timezone", "Mars"]
    )
    assert bad_zone.exit_code == 1 and "timezone" in bad_zone.output


# SPEC: BIL-09
def test_a_value_too_long_to_store_is_a_bad_row_not_a_failed_import(
    setup: Setup, session: Session
) -> None:
    """A Call-ID or an account code longer than the usage record keeps (SIP does not bound
    them) is reported on its line; the other calls of the file are imported."""
    customer = setup.build.customer()
    contract = setup.build.contract(customer, "centrex", date(2026, 1, 1), [])
    setup.line(contract, "alice")
    long_id = "x" * 200 + "@pbx.example"
    acc = (
        "method,from_tag,to_tag,callid,sip_code,sip_reason,time,src_user,dst_user\n"
        f"INVITE,ft1,,{long_id},486,Busy Here,2026-03-02 10:30:00,alice,0612345678\n"
        "INVITE,ft2,,k-ok,486,Busy Here,2026-03-02 10:31:00,alice,0612345678\n"
    )
    report = import_cdrs(session, acc, CdrFormat.KAMAILIO_ACC)
    assert report.stored == 1
    assert [(bad.line, bad.field, bad.reason) for bad in report.rejected] == [
        (2, "callid", "too_long")
    ]
    assert list(_records(session, "kamailio")) == ["k-ok"]
    master = MASTER_CSV.splitlines(keepends=True)
    long_account = master[1].replace('"",', f'"{"a" * 70}",', 1)  # line 2's empty accountcode
    report = import_cdrs(session, master[0] + long_account, CdrFormat.ASTERISK)
    assert report.stored == 1
    assert [(bad.line, bad.field, bad.reason) for bad in report.rejected] == [
        (2, "accountcode", "too_long")
    ]
    assert "too long" in report.rejected[0].describe("en")
    assert "trop long" in report.rejected[0].describe("fr")


# Paris goes back from 03:00 CEST (UTC+2) to 02:00 CET (UTC+1) on 25 October 2026: 02:00-02:59
# happens twice, first 00:00-00:59 UTC, then 01:00-01:59 UTC. It goes forward from 02:00 CET to
# 03:00 CEST on 29 March 2026: 02:00-02:59 does not exist.
MASTER_CSV_DST = (
    # line 1: 02:50 CEST -> 02:10 CET: 20 minutes across the change (1210 s, 1200 s billed)
    '"alice","0140000000","0140000001","from-internal","","PJSIP/alice-00000011","","Dial","",'
    '"2026-10-25 02:50:00","2026-10-25 02:50:10","2026-10-25 02:10:10",1210,1200,"ANSWERED",'
    '"DOCUMENTATION","pbx-a.11"\n'
    # line 2: 01:55 CEST -> 02:20 CET: 85 minutes (5105 s, 5100 s billed), not 25
    '"alice","0140000000","0140000002","from-internal","","PJSIP/alice-00000012","","Dial","",'
    '"2026-10-25 01:55:00","2026-10-25 01:55:05","2026-10-25 02:20:05",5105,5100,"ANSWERED",'
    '"DOCUMENTATION","pbx-a.12"\n'
    # line 3: a minute within the second 02:30; the uniqueid's epoch (1792891800 = 01:30 UTC)
    # tells which
    '"alice","0140000000","0140000003","from-internal","","PJSIP/alice-00000013","","Dial","",'
    '"2026-10-25 02:30:00","2026-10-25 02:30:05","2026-10-25 02:31:05",65,60,"ANSWERED",'
    '"DOCUMENTATION","1792891800.13"\n'
    # line 4: 02:30 on 29 March does not exist in Paris
    '"alice","0140000000","0140000004","from-internal","","PJSIP/alice-00000014","","Dial","",'
    '"2026-03-29 02:30:00","2026-03-29 02:30:05","2026-03-29 03:31:05",65,60,"ANSWERED",'
    '"DOCUMENTATION","pbx-a.14"\n'
    # line 5: 02:10 -> 02:20, but 5 s recorded: no reading of the repeated hour agrees
    '"alice","0140000000","0140000005","from-internal","","PJSIP/alice-00000015","","Dial","",'
    '"2026-10-25 02:10:00","2026-10-25 02:10:00","2026-10-25 02:20:00",5,5,"ANSWERED",'
    '"DOCUMENTATION","pbx-a.15"\n'
)


# SPEC: VOX-13, BIL-09
def test_local_times_of_the_clock_changes_keep_the_recorded_durations(
    setup: Setup, session: Session
) -> None:
    customer = setup.build.customer()
    contract = setup.build.contract(customer, "centrex", date(2026, 1, 1), [])
    setup.line(contract, "alice")
    report = import_cdrs(session, MASTER_CSV_DST, CdrFormat.ASTERISK)
    assert report.stored == 3
    assert [(bad.line, bad.field, bad.reason, bad.value) for bad in report.rejected] == [
        (4, "start", "nonexistent_time", "2026-03-29 02:30:00"),
        (5, "start", "ambiguous_time", "2026-10-25 02:10:00"),
    ]
    assert "n'existe pas" in report.rejected[0].describe("fr")
    rows = _records(session, "asterisk")
    across = rows["pbx-a.11"]
    assert (across.started_at, across.answered_at, across.ended_at) == (
        datetime(2026, 10, 25, 0, 50, tzinfo=UTC),
        datetime(2026, 10, 25, 0, 50, 10, tzinfo=UTC),
        datetime(2026, 10, 25, 1, 10, 10, tzinfo=UTC),
    )
    assert across.billable_seconds == 1200
    long_call = rows["pbx-a.12"]
    assert long_call.started_at == datetime(2026, 10, 24, 23, 55, tzinfo=UTC)
    assert long_call.billable_seconds == 5100  # 85 minutes, as the switch billed them
    second = rows["1792891800.13"]
    assert second.started_at == datetime(2026, 10, 25, 1, 30, tzinfo=UTC)
    assert second.billable_seconds == 60
    # Master.csv written in UTC (usegmtime=yes) has no such hour: read as it is
    utc = import_cdrs(
        session,
        MASTER_CSV_DST.splitlines(keepends=True)[3].replace("pbx-a.14", "pbx-u.14"),
        CdrFormat.ASTERISK,
        zone=ZoneInfo("UTC"),
    )
    assert (utc.stored, utc.rejected) == (1, [])


# SPEC: VOX-13, BIL-09
def test_freeswitch_and_kamailio_local_times_of_the_clock_changes(
    setup: Setup, session: Session
) -> None:
    customer = setup.build.customer()
    contract = setup.build.contract(customer, "centrex", date(2026, 1, 1), [])
    setup.line(contract, "alice")
    fs_csv = (
        '"Alice","0140000000","0140000001","default","2026-10-25 02:50:00",'
        '"2026-10-25 02:50:10","2026-10-25 02:10:10","1210","1200","NORMAL_CLEARING",'
        '"fs-dst-1","","alice","PCMA","PCMA"\n'
        '"Alice","0140000000","0140000001","default","2026-03-29 01:59:00",'
        '"2026-03-29 02:00:30","2026-03-29 03:01:00","120","30","NORMAL_CLEARING",'
        '"fs-dst-2","","alice","PCMA","PCMA"\n'
    )
    report = import_cdrs(session, fs_csv, CdrFormat.FREESWITCH_CSV)
    assert report.stored == 1
    assert [(bad.line, bad.field, bad.reason) for bad in report.rejected] == [
        (2, "answer_stamp", "nonexistent_time")
    ]
    call = _records(session, "freeswitch")["fs-dst-1"]
    assert call.ended_at == datetime(2026, 10, 25, 1, 10, 10, tzinfo=UTC)
    assert call.billable_seconds == 1200
    acc = (
        "method,from_tag,to_tag,callid,sip_code,sip_reason,time,src_user,dst_user\n"
        "INVITE,ft1,tt1,k-dst-1,200,OK,2026-10-25 02:50:00,alice,0140000001\n"
        "BYE,ft1,tt1,k-dst-1,200,OK,2026-10-25 02:10:00,alice,0140000001\n"
        "INVITE,ft2,,k-dst-2,486,Busy Here,2026-03-29 02:15:00,alice,0140000001\n"
    )
    report = import_cdrs(session, acc, CdrFormat.KAMAILIO_ACC)
    assert report.stored == 1
    assert [(bad.line, bad.field, bad.reason) for bad in report.rejected] == [
        (4, "time", "nonexistent_time")
    ]
    k = _records(session, "kamailio")["k-dst-1"]
    assert (k.answered_at, k.ended_at) == (
        datetime(2026, 10, 25, 0, 50, tzinfo=UTC),
        datetime(2026, 10, 25, 1, 10, tzinfo=UTC),
    )
    assert k.billable_seconds == 20 * 60


# The two legs of one bridged call: alice's phone to the switch (A, inbound, uuid a-leg-1,
# naming its other leg) and the switch to the callee (B, outbound, uuid b-leg-1).
FREESWITCH_LEGS_CSV = (
    # line 1: the B-leg, written first (it hung up first)
    '"Alice","0140000000","0140000001","default","2026-03-02 10:00:01","2026-03-02 10:00:05",'
    '"2026-03-02 10:01:10","69","65","NORMAL_CLEARING","b-leg-1","","alice","PCMA","PCMA"\n'
    # line 2: the A-leg: the customer's call
    '"Alice","0140000000","0140000001","default","2026-03-02 10:00:00","2026-03-02 10:00:05",'
    '"2026-03-02 10:01:10","70","65","NORMAL_CLEARING","a-leg-1","b-leg-1","alice","PCMA",'
    '"PCMA"\n'
)


# SPEC: VOX-13, BIL-09
def test_freeswitch_bills_a_call_once_on_the_callers_leg(setup: Setup, session: Session) -> None:
    customer = setup.build.customer()
    contract = setup.build.contract(customer, "centrex", date(2026, 1, 1), [])
    setup.line(contract, "alice")
    report = import_cdrs(session, FREESWITCH_LEGS_CSV, CdrFormat.FREESWITCH_CSV)
    assert (report.stored, report.duplicates) == (1, 0)
    assert [(bad.line, bad.call_id, bad.reason, bad.value) for bad in report.rejected] == [
        (1, "b-leg-1", "other_leg", "a-leg-1")
    ]
    assert "billed once on the caller's leg" in report.rejected[0].describe("en")
    rows = _records(session, "freeswitch")
    assert list(rows) == ["a-leg-1"]
    assert rows["a-leg-1"].cost == Decimal("0.024000")  # 65 s billed once
    again = import_cdrs(session, FREESWITCH_LEGS_CSV, CdrFormat.FREESWITCH_CSV)
    assert (again.stored, again.duplicates) == (0, 1)
    assert [bad.reason for bad in again.rejected] == ["other_leg"]

    # the same call in mod_json_cdr's form (log-b-leg=true): the B-leg carries the uuid of
    # the leg that originated it
    a_leg = _fs_json("a-leg-2", 1772442000, 1772442005, 1772442070, "0140000001")
    a_leg["variables"].update(  # type: ignore[attr-defined]
        {"direction": "inbound", "bridge_uuid": "b-leg-2", "signal_bond": "b-leg-2"}
    )
    b_leg = _fs_json("b-leg-2", 1772442001, 1772442005, 1772442070, "0140000001")
    b_leg["variables"].update(  # type: ignore[attr-defined]
        {"direction": "outbound", "originating_leg_uuid": "a-leg-2", "signal_bond": "a-leg-2"}
    )
    b_leg["callflow"] = [
        {
            "caller_profile": {
                "username": "alice",
                "originator": {"originator_caller_profiles": [{"uuid": "a-leg-2"}]},
            }
        }
    ]
    lines = json.dumps(b_leg) + "\n" + json.dumps(a_leg) + "\n"
    report = import_cdrs(session, lines, CdrFormat.FREESWITCH_JSON)
    assert report.stored == 1
    assert [(bad.line, bad.call_id, bad.reason, bad.value) for bad in report.rejected] == [
        (1, "b-leg-2", "other_leg", "a-leg-2")
    ]
    # imported again as an array, or the B-leg alone in a later file: never stored
    again = import_cdrs(session, json.dumps([a_leg, b_leg]), CdrFormat.FREESWITCH_JSON)
    assert (again.stored, again.duplicates) == (0, 1)
    alone = import_cdrs(session, json.dumps(b_leg), CdrFormat.FREESWITCH_JSON)
    assert (alone.stored, [bad.reason for bad in alone.rejected]) == (0, ["other_leg"])
    assert sorted(_records(session, "freeswitch")) == ["a-leg-1", "a-leg-2"]


# SPEC: VOX-13, BIL-09
def test_a_freeswitch_leg_whose_other_leg_is_stored_is_not_billed_again(
    setup: Setup, session: Session
) -> None:
    """A B-leg stored on its own (its A-leg in a file rotated later) already holds the call:
    the A-leg arriving later is skipped rather than billed a second time."""
    customer = setup.build.customer()
    contract = setup.build.contract(customer, "centrex", date(2026, 1, 1), [])
    setup.line(contract, "alice")
    b_row, a_row = FREESWITCH_LEGS_CSV.splitlines(keepends=True)
    assert import_cdrs(session, b_row, CdrFormat.FREESWITCH_CSV).stored == 1
    report = import_cdrs(session, a_row, CdrFormat.FREESWITCH_CSV)
    assert report.stored == 0
    assert [(bad.call_id, bad.reason, bad.value) for bad in report.rejected] == [
        ("a-leg-1", "other_leg_stored", "b-leg-1")
    ]
    assert list(_records(session, "freeswitch")) == ["b-leg-1"]
