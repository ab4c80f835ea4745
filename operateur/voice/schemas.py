"""API shapes of the voice context. The call-control shapes are the contract with the SIP proxy
(``deploy/kamailio/kamailio.cfg``): change them only together."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from operateur.voice.models import ConsentKind

CallId = Annotated[str, Field(min_length=1, max_length=128)]


class AuthorizeIn(BaseModel):
    call_id: CallId
    line: Annotated[str, Field(min_length=1, max_length=64)]  # the line's SIP user name
    caller: Annotated[str, Field(max_length=64)]
    callee: Annotated[str, Field(min_length=1, max_length=64)]
    source_ip: Annotated[str, Field(max_length=64)] = ""
    # optional: what the proxy saw in the SDP offer (VOX-02 data and fax calls)
    media: Literal["audio", "fax", "data"] = "audio"


class AuthorizeOut(BaseModel):
    allow: bool
    code: int  # SIP response code to relay on refusal (200 when allowed)
    reason: str  # the rule first ("VOX-05 …"), then the words
    max_duration: int  # seconds; the proxy cuts the call after it (dialog timeout)
    route: str  # route class: fr_geographic, fr_mobile, international, emergency…
    emergency: bool


class InboundIn(BaseModel):
    """A call the carrier hands the proxy for one of the customers' numbers."""

    call_id: CallId
    caller: Annotated[str, Field(max_length=64)]
    callee: Annotated[str, Field(min_length=1, max_length=64)]  # the customer's number
    from_abroad: bool = False  # entered through an international interconnection (VOX-09)
    source_ip: Annotated[str, Field(max_length=64)] = ""


class InboundOut(BaseModel):
    allow: bool
    code: int  # SIP response code to relay on refusal (200 when allowed)
    reason: str  # the rule first ("VOX-04 …"), then the words
    max_duration: int  # seconds
    line: str  # the SIP user name of the line to ring ("" when the number is unknown)


# When the proxy saw the event (Unix time, seconds): a report queued while operateur was away
# is billed at the moment it happened, not when it arrived. Never later than its arrival, never
# before the call began.
EventTime = Annotated[float | None, Field(default=None, gt=0, description="Unix time (seconds)")]


class CallIn(BaseModel):
    call_id: CallId
    at: EventTime = None


class EndIn(BaseModel):
    call_id: CallId
    disposition: Literal["ANSWERED", "NO ANSWER", "BUSY", "FAILED"]
    sip_code: Annotated[int, Field(ge=0, le=699)] = 0
    at: EventTime = None


class OkOut(BaseModel):
    ok: bool = True


class LiveCallOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    call_id: str
    line: str
    customer_id: int
    contract_id: int
    caller: str
    callee: str
    route: str
    emergency: bool
    max_duration: int
    started_at: datetime
    answered_at: datetime | None
    updated_at: datetime | None
    prepaid: bool


class ConsentIn(BaseModel):
    number: Annotated[str, Field(min_length=1, max_length=32)]
    kind: ConsentKind = ConsentKind.CONSENT
    subject: Annotated[str, Field(min_length=1, max_length=200)]  # who
    given_at: datetime  # when
    proof: Annotated[str, Field(min_length=1, max_length=2000)]  # how it is proven


class WithdrawIn(BaseModel):
    at: datetime | None = None


class ConsentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    customer_id: int
    number: str
    kind: ConsentKind
    subject: str
    given_at: datetime
    proof: str
    recorded_by: str
    recorded_at: datetime
    withdrawn_at: datetime | None


class ProfileIn(BaseModel):
    prospecting: bool


class ProfileOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    customer_id: int
    contract_id: int
    prospecting: bool
    updated_at: datetime


class OppositionsIn(BaseModel):
    content: Annotated[str, Field(max_length=50_000_000)]  # the file's text (see telemarketing)
    source: Annotated[str, Field(min_length=1, max_length=100)]
    replace: bool = False


class OppositionsOut(BaseModel):
    added: int
    already_listed: int
    removed: int
    total: int


class DestinationSuspensionIn(BaseModel):
    prefix: Annotated[str, Field(min_length=1, max_length=16)]
    reason: Annotated[str, Field(min_length=1, max_length=500)]
    effective_at: datetime
    offer_id: str | None = None


class DestinationSuspensionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    prefix: str
    offer_id: str | None
    reason: str
    effective_at: datetime
    lifted_at: datetime | None
    created_at: datetime
