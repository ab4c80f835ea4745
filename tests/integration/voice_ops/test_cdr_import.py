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
