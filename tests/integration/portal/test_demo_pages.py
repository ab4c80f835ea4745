"""The demo data of ``make run`` through the portal: every link of every menu answers for each
demo login, and the pages show the demo's activity (invoices, usage, tickets, an order to
review, a sender request, quarantined mail)."""

from __future__ import annotations

import re

from sqlalchemy.orm import Session, sessionmaker

from operateur.accounts.audit import set_actor
from operateur.accounts.permissions import system_actor
from operateur.demo import data as demo
from tests.integration.portal.conftest import Browser

NAV = re.compile(r'<nav class="nav[^"]*"[^>]*>(.*?)</nav>', re.S)
HREF = re.compile(r'href="([^"]+)"')


def _menu(html: str) -> list[str]:
    return [href for block in NAV.findall(html) for href in HREF.findall(block)]


# SPEC: PORTAL-02, SUP-01, MAIL-03, SMS-05, CTR-12
def test_every_menu_link_answers_on_the_demo_data(
    browser: Browser, session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as session:
        set_actor(session, system_actor("demo"))
        assert demo.load(session) > 0
        session.commit()
    logins = {login.email: login.password for login in demo.DEMO_LOGINS}
    shown: dict[str, str] = {}
    for email, password in logins.items():
        home = browser.login(email, password).headers["location"]
        page = browser.get(home)
        assert page.status_code == 200, (email, home)
        links = _menu(page.text)
        assert links, email
        for href in links:
            answer = browser.get(href)
            assert answer.status_code == 200, (email, href)
            shown[f"{email} {href}"] = answer.text
        if email == "admin@operateur-demo.fr":  # staff also walk three customers' spaces
            for name in ("Boulangerie Martin", "Dupont Conseil", "Cabinet Leroy Avocats"):
                found = re.search(
                    rf'href="(/customers/\d+)">{re.escape(name)}<',
                    shown[f"{email} /staff/customers"],
                )
                assert found, name
                for href in _menu(browser.get(found.group(1)).text):
                    if href.startswith("/customers/"):
                        answer = browser.get(href)
                        assert answer.status_code == 200, (name, href)
                        shown[f"{email} {href}"] = answer.text

    bakery = "admin@boulangerie-martin.fr"
    invoices = next(v for k, v in shown.items() if k.startswith(bakery) and k.endswith("/invoices"))
    assert re.search(r">F\d{4}-\d{6}</a>", invoices)  # last month's invoice
    usage = next(v for k, v in shown.items() if k.startswith(bakery) and k.endswith("/usage"))
    assert "Aucune donnée" not in usage
    tickets = next(v for k, v in shown.items() if k.startswith(bakery) and k.endswith("/tickets"))
    assert "Renvoi d&#39;appel le dimanche" in tickets
    staff = "admin@operateur-demo.fr"
    assert "Laboratoire" in shown[f"{staff} /staff/orders"]
    assert "DUPONTCONS" in shown[f"{staff} /staff/sms"]
    leroy_mail = next(
        v for k, v in shown.items() if k.startswith(staff) and k.endswith("/mail") and "Leroy" in v
    )
    assert "factures@fournisseur-papeterie.fr" in leroy_mail
