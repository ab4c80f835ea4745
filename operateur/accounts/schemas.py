"""Pydantic shapes of the accounts API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from operateur.accounts.models import CustomerStatus, Role
from operateur.catalog.terms import PaymentMethod


class OperatorIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    legal_form: str = Field(min_length=1, max_length=50)
    siren: str
    vat_number: str | None = None
    address_line: str = Field(min_length=1)
    postal_code: str = Field(min_length=1)
    city: str = Field(min_length=1)
    country: str = Field(default="FR", pattern="^[A-Z]{2}$")
    email: EmailStr
    iban: str | None = None
    bic: str | None = None
    sepa_creditor_id: str | None = None


class CustomerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    legal_form: str = Field(min_length=1, max_length=50, description="SAS, SARL, SA, EURL...")
    siren: str | None = None
    siret: str | None = None
    vat_number: str | None = None
    address_line: str = Field(min_length=1, max_length=200)
    postal_code: str = Field(min_length=1, max_length=20)
    city: str = Field(min_length=1, max_length=100)
    country: str = Field(default="FR", pattern="^[A-Z]{2}$")
    email: EmailStr
    phone: str | None = None
    iban: str | None = None
    bic: str | None = None
    payment_method: PaymentMethod = PaymentMethod.SEPA_DIRECT_DEBIT
    lang: str = Field(default="fr", pattern="^(fr|en)$")


class CustomerPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=1, max_length=200)
    legal_form: str | None = None
    siret: str | None = None
    vat_number: str | None = None
    address_line: str | None = Field(default=None, min_length=1, max_length=200)
    postal_code: str | None = Field(default=None, min_length=1, max_length=20)
    city: str | None = Field(default=None, min_length=1, max_length=100)
    email: EmailStr | None = None
    phone: str | None = None
    iban: str | None = None
    bic: str | None = None
    payment_method: PaymentMethod | None = None
    lang: str | None = Field(default=None, pattern="^(fr|en)$")
    status: CustomerStatus | None = None


class CustomerOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    legal_form: str
    siren: str | None
    siret: str | None
    vat_number: str | None
    address_line: str
    postal_code: str
    city: str
    country: str
    email: str
    phone: str | None
    iban_masked: str | None
    bic: str | None
    payment_method: PaymentMethod
    status: CustomerStatus
    lang: str
    created_at: datetime


class ContactIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    email: EmailStr
    phone: str | None = None
    role: str = Field(default="admin", pattern="^(admin|billing|technical)$")
    lang: str = Field(default="fr", pattern="^(fr|en)$")


class ContactOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    customer_id: int
    name: str
    email: str
    phone: str | None
    role: str
    lang: str


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: EmailStr
    display_name: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=10, max_length=200)
    role: Role
    lang: str = Field(default="fr", pattern="^(fr|en)$")


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    email: str
    display_name: str
    role: Role
    customer_id: int | None
    active: bool
    lang: str
    created_at: datetime
    last_login_at: datetime | None


class LoginIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str = Field(min_length=1)
    password: str = Field(min_length=1)


class LoginOut(BaseModel):
    token: str
    expires_at: datetime
    user: UserOut


class MeOut(BaseModel):
    kind: str
    label: str
    role: Role
    customer_id: int | None
    permissions: list[str]


class ApiKeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100)
    role: Role


class ApiKeyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    public_id: str
    name: str
    role: Role
    customer_id: int | None
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


class ApiKeyCreatedOut(ApiKeyOut):
    key: str = Field(description="The full key. It is shown this once and never again.")


class AuditEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    at: datetime
    actor_type: str
    actor_id: int | None
    actor_label: str
    customer_id: int | None
    action: str
    entity: str
    entity_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    reason: str | None
