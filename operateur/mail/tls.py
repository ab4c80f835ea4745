"""STARTTLS material (RFC 3207): the configured certificate, or a self-signed one generated once
with ``cryptography`` so that a fresh install (and the tests) can offer TLS at once."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from operateur.config import Settings


def self_signed(directory: Path, hostname: str) -> tuple[Path, Path]:
    """A certificate and key for ``hostname`` (and 127.0.0.1) under ``directory``, made once."""
    cert_path, key_path = directory / "gateway-cert.pem", directory / "gateway-key.pem"
    if cert_path.exists() and key_path.exists():
        return cert_path, key_path
    directory.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=825))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName(hostname), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    key_path.touch(mode=0o600)
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return cert_path, key_path


def server_context(settings: Settings) -> ssl.SSLContext:
    """The TLS context of the listeners: the configured pair, else a generated one."""
    if settings.mail_tls_cert and settings.mail_tls_key:
        cert, key = settings.mail_tls_cert, settings.mail_tls_key
    else:
        cert, key = self_signed(Path(settings.data_dir) / "mail", settings.mail_hostname)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context
