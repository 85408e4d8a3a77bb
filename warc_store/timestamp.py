"""RFC 3161 time-stamps: a time-stamping authority (TSA) signs that some bytes existed at a time.

A seal alone proves that the collection still extends what was sealed, but not *when* the seal
was made: whoever controls the collection could make one today and claim it was last year's. A
token from an independent TSA (RFC 3161; GB/T 20520 in China, which DA/T 97-2023 refers to for
electronic records as evidence) fixes the date: the TSA signs the SHA-256 of the seal's bytes
together with its own clock's time, so a court can check both without trusting the archive.

Requests and checks use ``rfc3161-client`` (Trail of Bits); the network part is plain urllib.
What is stored is the TSA's whole answer (a DER ``TimeStampResp``, the ``.tsr`` OpenSSL writes),
so ``openssl ts -verify -in X.tsr -data X.seal -CAfile ca.pem`` checks it without weidang.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from warc_store.errors import StoreError

if TYPE_CHECKING:
    from rfc3161_client import TimeStampResponse

# The TSA client (cryptography, rfc3161-client, urllib) is imported where a token is asked for
# or read: every `weidang verify` imports this module for TsaConfig, and most collections have
# no token to check (about 30 ms of a verify's start).

QUERY_TYPE = "application/timestamp-query"
_PKI_STATUS = {0: "granted", 1: "granted with modifications", 2: "rejection", 3: "waiting",
               4: "revocation warning", 5: "revocation notification"}
_DIGESTS = {"2.16.840.1.101.3.4.2.1": hashlib.sha256, "2.16.840.1.101.3.4.2.2": hashlib.sha384,
            "2.16.840.1.101.3.4.2.3": hashlib.sha512}


class TimestampError(StoreError):
    """No token could be had, or a token does not check out; the message says why in plain words."""


class TrustError(TimestampError):
    """The CA file naming whom to trust cannot be read: no token can be checked, good or bad."""


@dataclass(frozen=True)
class TsaConfig:
    """Where to ask for tokens and whom to trust (the face builds it from WARC_STORE_SEAL_TSA_*)."""

    url: str = ""
    ca_file: Path | None = None  # PEM: the TSA's root (and intermediate) certificates
    timeout: float = 30.0


@dataclass(frozen=True)
class Stamp:
    """What a token that checked out says."""

    time: datetime  # the TSA's genTime, in UTC
    authority: str  # the TSA's name as it signs (the token's tsa field, else the signer's issuer)
    serial: int
    signer_checked: bool  # False: no CA file was given, so who signed was not checked


def request_token(data: bytes, tsa: TsaConfig) -> tuple[bytes, Stamp]:
    """Ask ``tsa`` for a token over ``data``; returns the TSA's answer (DER) once it checks out."""
    from rfc3161_client import HashAlgorithm, TimestampRequestBuilder, decode_timestamp_response

    if not tsa.url:
        raise TimestampError("no time-stamping authority is configured (WARC_STORE_SEAL_TSA_URL is empty)")
    request = TimestampRequestBuilder().data(data).hash_algorithm(HashAlgorithm.SHA256).build()
    answer = _post(tsa, request.as_bytes())
    try:
        response = decode_timestamp_response(answer)
    except ValueError as exc:
        raise TimestampError(f"the answer of {tsa.url} is not an RFC 3161 time-stamp response "
                             f"({len(answer)} bytes; {exc})") from exc
    _granted(response, tsa.url)
    if response.tst_info.nonce != request.nonce:  # an answer to someone else's (or an old) query
        raise TimestampError(f"the token from {tsa.url} answers another request (its nonce differs)")
    stamp = check_token(data, answer, tsa.ca_file)
    return answer, stamp


def _post(tsa: TsaConfig, query: bytes) -> bytes:
    import http.client
    import urllib.error
    import urllib.request

    req = urllib.request.Request(tsa.url, data=query, method="POST",
                                 headers={"Content-Type": QUERY_TYPE, "User-Agent": "weidang"})
    try:
        with urllib.request.urlopen(req, timeout=tsa.timeout) as answer:
            return bytes(answer.read())
    except urllib.error.HTTPError as exc:
        raise TimestampError(f"the time-stamping authority at {tsa.url} answered HTTP {exc.code} "
                             f"{exc.reason}, not a token") from exc
    except urllib.error.URLError as exc:
        why = exc.reason.strerror if isinstance(exc.reason, OSError) and exc.reason.strerror else exc.reason
        raise TimestampError(f"could not reach the time-stamping authority at {tsa.url}: {why}") from exc
    except TimeoutError as exc:  # while reading the answer (on connecting, a URLError)
        raise TimestampError(f"the time-stamping authority at {tsa.url} did not answer within "
                             f"{tsa.timeout:g} seconds") from exc
    except (OSError, http.client.HTTPException) as exc:
        raise TimestampError(f"the connection to the time-stamping authority at {tsa.url} "
                             f"failed: {exc}") from exc


def _granted(response: TimeStampResponse, url: str) -> None:
    if response.status not in (0, 1):
        said = "; ".join(response.status_string)
        raise TimestampError(f"the time-stamping authority at {url} refused the request (status "
                             f"{_PKI_STATUS.get(response.status, response.status)}"
                             + (f": {said})" if said else ")"))


def check_token(data: bytes, token: bytes, ca_file: Path | None) -> Stamp:
    """Whether ``token`` (a TSA's DER answer) time-stamps exactly ``data``, signed by a TSA whose
    certificate chains to ``ca_file``; without a CA file only the data's digest is compared (the
    signature cannot be trusted without knowing whom to trust). Raises TimestampError saying why not."""
    from rfc3161_client import decode_timestamp_response

    try:
        response = decode_timestamp_response(token)
    except ValueError as exc:
        raise TimestampError(f"it is not an RFC 3161 time-stamp response ({exc})") from exc
    info = response.tst_info
    digest = _DIGESTS.get(info.message_imprint.hash_algorithm.dotted_string)
    if digest is None:
        raise TimestampError(f"it uses a digest weidang cannot compute "
                             f"({info.message_imprint.hash_algorithm.dotted_string})")
    if digest(data).digest() != info.message_imprint.message:
        raise TimestampError("it time-stamps other bytes than the seal (its message imprint differs)")
    if ca_file is not None:
        _check_signature(response, data, ca_file)
    return Stamp(info.gen_time, _authority(response), info.serial_number, ca_file is not None)


def _check_signature(response: TimeStampResponse, data: bytes, ca_file: Path) -> None:
    from cryptography import x509
    from rfc3161_client import VerificationError, VerifierBuilder

    try:
        roots = x509.load_pem_x509_certificates(ca_file.read_bytes())
    except OSError as exc:
        raise TrustError(f"cannot read the CA file {ca_file} (WARC_STORE_SEAL_TSA_CA_FILE): "
                         f"{exc.strerror}") from exc
    except ValueError as exc:
        raise TrustError(f"the CA file {ca_file} (WARC_STORE_SEAL_TSA_CA_FILE) holds no PEM "
                         "certificate") from exc
    builder = VerifierBuilder()
    for cert in roots:
        builder = builder.add_root_certificate(cert)
    try:
        builder.build().verify_message(response, data)
    except VerificationError as exc:
        raise TimestampError(_plain(str(exc), ca_file)) from exc


def _plain(error: str, ca_file: Path) -> str:
    """The library's reason (OpenSSL's error stack, at times) in words for an auditor."""
    if "unable to get local issuer certificate" in error or "certificate verify error" in error:
        return f"its signer's certificate was not issued by a CA in {ca_file}"
    if "certificate has expired" in error or "not yet valid" in error:
        return "its signer's certificate was not valid at the time it claims"
    if "signature failure" in error or "Unable to verify pkcs7 signature" in error:
        return "its signature does not match its contents (the token was altered)"
    first = error.split("ErrorStack", 1)[0].rstrip(" :(")
    return f"it does not check out against the certificates in {ca_file} ({first})"


def _authority(response: TimeStampResponse) -> str:
    from cryptography import x509

    try:
        name = response.tst_info.name
    except ValueError:  # the optional tsa field is absent
        name = None
    value = getattr(name, "value", None)
    if isinstance(value, x509.Name):
        return value.rfc4514_string()
    if value:
        return str(value)
    signers = response.signed_data.signer_infos
    if not signers:
        return "an unnamed TSA"
    signer = next(iter(signers))
    for der in response.signed_data.certificates:  # the signer's own certificate, if enclosed
        cert = x509.load_der_x509_certificate(der)
        if cert.issuer == signer.issuer and cert.serial_number == signer.serial_number:
            return cert.subject.rfc4514_string()
    return f"a TSA certified by {signer.issuer.rfc4514_string()}"
