"""A local RFC 3161 time-stamping authority for the tests: OpenSSL's `ts -reply` behind HTTP.

The CA and the TSA certificate are made with ``cryptography``; every query is answered by a real
``openssl ts -reply`` run, so the tokens are what an OpenSSL-based TSA would hand out.
"""

from __future__ import annotations

import subprocess
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

TSA_CONFIG = """\
[ tsa ]
default_tsa = tsa_config1

[ tsa_config1 ]
dir = {dir}
serial = $dir/tsaserial
crypto_device = builtin
signer_cert = $dir/tsa.pem
certs = $dir/tsa.pem
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
other_policies = 1.2.3.4.5
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "weidang tests"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common)])


Key = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


def _new_key(kind: str) -> Key:
    return rsa.generate_private_key(65537, 2048) if kind == "rsa" else ec.generate_private_key(ec.SECP256R1())


def _write_key(key: Key, path: Path) -> None:
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))


def make_tsa_files(folder: Path, ca_name: str = "Test Root CA", key: str = "ec") -> Path:
    """ca.pem, tsa.pem (extendedKeyUsage critical timeStamping), tsa.key and tsa.cnf in ``folder``;
    returns the CA certificate's path (what an auditor is given to trust). ``key``: "ec" or "rsa"."""
    folder.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)
    ca_key = _new_key(key)
    ca = (x509.CertificateBuilder().subject_name(_name(ca_name)).issuer_name(_name(ca_name))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=30))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                         critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    tsa_key = _new_key(key)
    tsa = (x509.CertificateBuilder().subject_name(_name("Test TSA")).issuer_name(ca.subject)
           .public_key(tsa_key.public_key()).serial_number(x509.random_serial_number())
           .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=30))
           .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
           .add_extension(x509.KeyUsage(True, True, False, False, False, False, False, False, False),
                          critical=True)
           .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
           .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                          critical=False)
           .sign(ca_key, hashes.SHA256()))
    (folder / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (folder / "tsa.pem").write_bytes(tsa.public_bytes(serialization.Encoding.PEM))
    _write_key(tsa_key, folder / "tsa.key")
    (folder / "tsaserial").write_text("01\n")
    (folder / "tsa.cnf").write_text(TSA_CONFIG.format(dir=folder))
    return folder / "ca.pem"


class LocalTsa:
    """An HTTP time-stamping authority on 127.0.0.1 answering with `openssl ts -reply`.

    ``answer_status`` other than 200 makes it answer that HTTP status with no token (a broken TSA).
    """

    def __init__(self, folder: Path, key: str = "ec") -> None:
        self.folder = folder
        self.ca = make_tsa_files(folder, key=key)
        self.answer_status = 200
        self.queries = 0
        self._lock = threading.Lock()
        tsa = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (the name http.server calls)
                query = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                status, body = tsa.answer(query, self.headers.get("Content-Type", ""))
                self.send_response(status)
                self.send_header("Content-Type", "application/timestamp-reply")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/tsa"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def answer(self, query: bytes, content_type: str) -> tuple[int, bytes]:
        if self.answer_status != 200:
            return self.answer_status, b"the TSA is out of order"
        if content_type != "application/timestamp-query":
            return 415, b"not a time-stamp query"
        with self._lock:  # openssl increments its serial file: one reply at a time
            self.queries += 1
            n = self.queries
            (self.folder / f"q{n}.tsq").write_bytes(query)
            done = subprocess.run(
                ["openssl", "ts", "-reply", "-config", str(self.folder / "tsa.cnf"),
                 "-queryfile", str(self.folder / f"q{n}.tsq"), "-out", str(self.folder / f"r{n}.tsr")],
                capture_output=True, text=True)
            if done.returncode != 0:
                return 500, done.stderr.encode()
            return 200, (self.folder / f"r{n}.tsr").read_bytes()

    def stamp(self, data: bytes) -> bytes:
        """A genuine token of this TSA over ``data`` (for tests that swap in a token for other data)."""
        path = self.folder / "other.data"
        path.write_bytes(data)
        query = subprocess.run(["openssl", "ts", "-query", "-data", str(path), "-sha256", "-cert"],
                               capture_output=True, check=True).stdout
        status, body = self.answer(query, "application/timestamp-query")
        assert status == 200, body
        return body

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join()


def closed_port_url() -> str:
    """The URL of a port nothing listens on: bound but not listening, so connecting is refused at
    once (no timeout to wait for) for as long as the socket is held."""
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    _HELD.append(sock)
    return f"http://127.0.0.1:{port}/tsa"


_HELD: list[object] = []
