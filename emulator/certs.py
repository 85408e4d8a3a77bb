"""The emulator's own certificate authority, so HTTPS through CONNECT can be intercepted.

The CA is kept in the state directory and reused across runs, so a client (or a browser) told to
trust `ca.pem` once keeps trusting it. Leaf certificates are made per host on first use, signed
by the CA, with the host as subjectAltName, and cached as ready `ssl.SSLContext`s.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
import threading
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_NAME = "weidang platform emulator CA (for tests only)"


def _name(common_name: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "weidang emulator"),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64]),
    ])


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


class CertificateAuthority:
    """Loads or creates the CA in `state_dir` and issues per-host server contexts."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = Path(state_dir)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.cert_path = self.state_dir / "ca.pem"
        self.key_path = self.state_dir / "ca-key.pem"
        self._leaf_dir = self.state_dir / "leaf"
        self._leaf_dir.mkdir(exist_ok=True)
        self._lock = threading.Lock()
        self._contexts: dict[str, ssl.SSLContext] = {}
        self._ca_key, self._ca_cert = self._load_or_create()
        # One key for every leaf: generating a key per host would only cost time.
        self._leaf_key = ec.generate_private_key(ec.SECP256R1())

    def _load_or_create(self) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
        if self.cert_path.exists() and self.key_path.exists():
            key = serialization.load_pem_private_key(self.key_path.read_bytes(), None)
            cert = x509.load_pem_x509_certificate(self.cert_path.read_bytes())
            if isinstance(key, ec.EllipticCurvePrivateKey) and cert.not_valid_after_utc > (
                    dt.datetime.now(dt.UTC) + dt.timedelta(days=1)):
                return key, cert
        key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(_name(CA_NAME))
            .issuer_name(_name(CA_NAME))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                           critical=False)
            .sign(key, hashes.SHA256())
        )
        self.key_path.write_bytes(_pem_key(key))
        self.key_path.chmod(0o600)
        self.cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        return key, cert

    def _issue(self, host: str) -> x509.Certificate:
        now = dt.datetime.now(dt.UTC)
        try:
            alt: x509.GeneralName = x509.IPAddress(ipaddress.ip_address(host))
        except ValueError:
            alt = x509.DNSName(host)
        return (
            x509.CertificateBuilder()
            .subject_name(_name(host))
            .issuer_name(self._ca_cert.subject)
            .public_key(self._leaf_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=397))
            .add_extension(x509.SubjectAlternativeName([alt]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                self._ca_key.public_key()), critical=False)
            .sign(self._ca_key, hashes.SHA256())
        )

    def server_context(self, host: str) -> ssl.SSLContext:
        """A TLS server context presenting a certificate for `host`, made once per host."""
        host = host.lower()
        with self._lock:
            context = self._contexts.get(host)
            if context is not None:
                return context
            cert = self._issue(host)
            chain = self._leaf_dir / f"{host}.pem"
            chain.write_bytes(
                cert.public_bytes(serialization.Encoding.PEM)
                + self._ca_cert.public_bytes(serialization.Encoding.PEM)
                + _pem_key(self._leaf_key))
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(chain)
            # Chromium and Scrapy both speak HTTP/1.1 here; the emulator has no HTTP/2.
            context.set_alpn_protocols(["http/1.1"])
            self._contexts[host] = context
            return context
