"""PRIV-02, SEC-02: the customer's IBAN is never shown whole, in the portal or the API. The
profile shows it masked (country and check digits, then the last four characters); the form
takes a new IBAN but is never pre-filled with the current one, and left empty it keeps it."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from operateur.accounts.models import Customer
from tests.e2e.world import CUSTOMER_PASSWORD, STAFF_EMAIL, STAFF_PASSWORD, World
from tests.integration.portal.conftest import Browser

FULL = "FR7630006000011234567890189"
MASKED = "FR76 **** **** **** **** ***0 189"
NEW = "FR7630004000031234567890143"


# the profile form as a browser submits it, the IBAN field apart
PROFILE = {
    "address_line": "3 avenue de la République",
    "postal_code": "75011",
    "city": "Paris",
    "email": "comptabilite@boulangerie-martin.fr",
    "phone": "",
    "bic": "",
    "payment_method": "sepa_direct_debit",
    "lang": "fr",
}


# SPEC: PRIV-02, SEC-02
def test_the_profile_shows_the_iban_masked_and_never_prefills_it(
    browser: Browser, world: World, session: Session
) -> None:
    browser.login(world.centrex.admin_email, CUSTOMER_PASSWORD)
    page = f"/customers/{world.centrex.id}/profile"
    shown = browser.get(page).text
    assert FULL not in shown and "30006000011234567890" not in shown
    assert MASKED in shown
    # the form, submitted as a browser does (IBAN field left empty), keeps the IBAN
    kept = browser.post(page, page, PROFILE | {"iban": ""})
    assert "Profil enregistré" in browser.get(kept.headers["location"]).text
    session.expire_all()
    customer = session.get(Customer, world.centrex.id)
    assert customer is not None and customer.iban == FULL
    # a new IBAN typed in is taken, and shown masked in turn
    changed = browser.post(page, page, PROFILE | {"iban": NEW})
    assert "Profil enregistré" in browser.get(changed.headers["location"]).text
    session.expire_all()
    customer = session.get(Customer, world.centrex.id)
    assert customer is not None and customer.iban == NEW
    again = browser.get(page).text
    assert NEW not in again and "FR76 **** **** **** **** ***0 143" in again


# SPEC: PRIV-02
def test_a_customer_user_reads_the_iban_masked(browser: Browser, world: World) -> None:
    browser.login(world.centrex.admin_email.replace("admin@", "utilisateur@"), CUSTOMER_PASSWORD)
    shown = browser.get(f"/customers/{world.centrex.id}/profile").text
    assert FULL not in shown and MASKED in shown


# SPEC: PRIV-02, SEC-02
def test_staff_see_the_iban_masked_too(browser: Browser, world: World) -> None:
    browser.login(STAFF_EMAIL, STAFF_PASSWORD)
    for page in (f"/customers/{world.centrex.id}/profile", "/staff/customers"):
        shown = browser.get(page)
        assert shown.status_code == 200, page
        assert FULL not in shown.text, page
    assert MASKED in browser.get(f"/customers/{world.centrex.id}/profile").text


# SPEC: PRIV-02
def test_the_api_returns_the_iban_masked(
    client: TestClient, browser: Browser, world: World
) -> None:
    browser.login(world.centrex.admin_email, CUSTOMER_PASSWORD)
    read = client.get(f"/api/v1/customers/{world.centrex.id}")
    assert read.status_code == 200
    assert read.json()["iban_masked"] == MASKED
    assert FULL not in read.text
