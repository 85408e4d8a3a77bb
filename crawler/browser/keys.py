"""The recording proxy's TLS identity: one key, a certificate per host, trusted by SPKI pin.

Chromium is told to accept exactly this key (``--ignore-certificate-errors-spki-list``), so no
CA has to be installed anywhere and nothing else Chromium might meet is trusted by accident. The
key lives only in memory: a new one each time the pool starts. (The emulator has a CA of its own
for its side; the layering keeps the crawler from importing it, and the two roles differ.)
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import ipaddress
import ssl
import tempfile
import threading
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


class ProxyIdentity:
    """Issues a TLS server context per host, all on one key whose SPKI hash Chromium pins."""

    def __init__(self) -> None:
        self._key = ec.generate_private_key(ec.SECP256R1())
        self._lock = threading.Lock()
        self._contexts: dict[str, ssl.SSLContext] = {}
        self._dir = tempfile.TemporaryDirectory(prefix="weidang-browser-tls-")

    @property
    def spki_hash(self) -> str:
        """base64 SHA-256 of the public key, as ``--ignore-certificate-errors-spki-list`` wants."""
        der = self._key.public_key().public_bytes(serialization.Encoding.DER,
                                                  serialization.PublicFormat.SubjectPublicKeyInfo)
        return base64.b64encode(hashlib.sha256(der).digest()).decode("ascii")

    def _certificate(self, host: str) -> x509.Certificate:
        now = dt.datetime.now(dt.UTC)
        name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "weidang recording proxy"),
                          x509.NameAttribute(NameOID.COMMON_NAME, host[:64] or "localhost")])
        try:
            alt: x509.GeneralName = x509.IPAddress(ipaddress.ip_address(host))
        except ValueError:
            alt = x509.DNSName(host)
        return (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                .public_key(self._key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - dt.timedelta(days=1))
                .not_valid_after(now + dt.timedelta(days=30))
                .add_extension(x509.SubjectAlternativeName([alt]), critical=False)
                .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                               critical=False)
                .sign(self._key, hashes.SHA256()))

    def server_context(self, host: str) -> ssl.SSLContext:
        host = host.lower()
        with self._lock:
            context = self._contexts.get(host)
            if context is None:
                pem = Path(self._dir.name) / f"{hashlib.sha256(host.encode()).hexdigest()}.pem"
                pem.write_bytes(self._certificate(host).public_bytes(serialization.Encoding.PEM)
                                + self._key.private_bytes(serialization.Encoding.PEM,
                                                          serialization.PrivateFormat.PKCS8,
                                                          serialization.NoEncryption()))
                pem.chmod(0o600)
                context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                context.load_cert_chain(pem)
                # The proxy speaks HTTP/1.1 to Chromium; its records are HTTP/1.1 exchanges.
                context.set_alpn_protocols(["http/1.1"])
                self._contexts[host] = context
            return context

    def close(self) -> None:
        self._dir.cleanup()
