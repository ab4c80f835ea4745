"""The portal's menus: the staff's back office and a customer's space, by permission."""

from __future__ import annotations

from operateur.accounts.permissions import Actor, Permission
from operateur.i18n import Text

NavItem = tuple[str, Text]


def staff_nav(actor: Actor) -> list[NavItem]:
    items: list[tuple[Permission, str, Text]] = [
        (Permission.CUSTOMERS_LIST, "/staff", Text("Accueil", "Home")),
        (Permission.CUSTOMERS_LIST, "/staff/customers", Text("Clients", "Customers")),
        (Permission.ORDERS_REVIEW, "/staff/orders", Text("Commandes", "Orders")),
        (Permission.BILLING_WRITE, "/staff/billing/runs", Text("Facturation", "Billing runs")),
        (Permission.CUSTOMERS_LIST, "/staff/invoices", Text("Factures", "Invoices")),
        (Permission.BILLING_WRITE, "/staff/payments", Text("Paiements", "Payments")),
        (Permission.BILLING_WRITE, "/staff/sepa", Text("Prélèvements", "Direct debits")),
        (Permission.CUSTOMERS_LIST, "/staff/dunning", Text("Relances", "Dunning")),
        (Permission.BILLING_WRITE, "/staff/disputes", Text("Contestations", "Disputes")),
        (Permission.NUMBERS_INVENTORY, "/staff/numbers", Text("Numéros", "Numbers")),
        (Permission.SMS_REVIEW, "/staff/sms", Text("Revue SMS", "SMS review")),
        (Permission.FRAUD_MANAGE, "/staff/fraud", Text("Fraude", "Fraud")),
        (Permission.MAIL_OPERATE, "/staff/mail", Text("Passerelle e-mail", "Mail gateway")),
        (Permission.PORTING_MANAGE, "/staff/port-ins", Text("Portabilités", "Port-ins")),
        (Permission.TICKETS_ANSWER, "/staff/tickets", Text("Assistance", "Support")),
        (Permission.AUDIT_READ, "/staff/audit", Text("Journal d'audit", "Audit log")),
    ]
    return [(href, text) for permission, href, text in items if actor.has(permission)]


def customer_nav(actor: Actor, customer_id: int) -> list[NavItem]:
    base = f"/customers/{customer_id}"
    items: list[tuple[Permission, str, Text]] = [
        (Permission.CUSTOMER_READ, base, Text("Tableau de bord", "Dashboard")),
        (Permission.CONTRACTS_READ, f"{base}/contracts", Text("Contrats", "Contracts")),
        (Permission.CONTRACTS_READ, f"{base}/lines", Text("Lignes et équipements", "Lines")),
        (Permission.CONTRACTS_READ, f"{base}/orders", Text("Commandes", "Orders")),
        (Permission.BILLING_READ, f"{base}/invoices", Text("Factures", "Invoices")),
        (Permission.BILLING_READ, f"{base}/disputes", Text("Contestations", "Disputes")),
        (Permission.BILLING_READ, f"{base}/usage", Text("Consommation", "Usage")),
        (Permission.BILLING_READ, f"{base}/voice-quality", Text("Qualité voix", "Voice quality")),
        (Permission.CONTRACTS_READ, f"{base}/port-ins", Text("Portabilité", "Porting")),
        (Permission.RECORDINGS_READ, f"{base}/recordings", Text("Enregistrements", "Recordings")),
        (Permission.VOICE_READ, f"{base}/consents", Text("Consentements", "Consents")),
        (Permission.DIALER_USE, f"{base}/dialer", Text("Centre d'appels", "Call centre")),
        (Permission.SMS_READ, f"{base}/sms", Text("SMS", "SMS")),
        (Permission.MAIL_READ, f"{base}/mail", Text("E-mail", "Mail")),
        (Permission.MAIL_READ, f"{base}/mail/settings", Text("Réglages e-mail", "Mail settings")),
        (Permission.CUSTOMER_READ, f"{base}/tickets", Text("Assistance", "Support")),
        (Permission.LOSS_DECLARE, f"{base}/losses", Text("Perte ou vol", "Loss or theft")),
        (Permission.CUSTOMER_READ, f"{base}/profile", Text("Profil et contacts", "Profile")),
        (Permission.USERS_MANAGE, f"{base}/users", Text("Utilisateurs et clés", "Users and keys")),
        (Permission.WEBHOOKS_MANAGE, f"{base}/webhooks", Text("Webhooks", "Webhooks")),
        (Permission.CUSTOMER_AUDIT_READ, f"{base}/audit", Text("Journal", "Log")),
        (Permission.DATA_EXPORT, f"{base}/export", Text("Mes données", "My data")),
        (
            Permission.INCIDENTS_READ,
            f"{base}/privacy",
            Text("Données personnelles", "Personal data"),
        ),  # SEC-02, PRIV-01
    ]
    return [(href, text) for permission, href, text in items if actor.has(permission)]


def home_of(actor: Actor) -> str:
    if actor.customer_id is not None:
        return f"/customers/{actor.customer_id}"
    return "/staff"
