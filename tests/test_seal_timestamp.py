"""Seals time-stamped by an RFC 3161 authority: a local OpenSSL TSA signs, weidang and OpenSSL check.

The TSA is tests/tsa_helpers.LocalTsa: a CA and a TSA certificate (extendedKeyUsage critical
timeStamping) and `openssl ts -reply` behind an HTTP server in a thread of this process.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from store_helpers import build_collection
from tsa_helpers import LocalTsa, closed_port_url, make_tsa_files

from warc_store import Collection, make_seal, verify_collection
from warc_store.seal import SEALS, Seal, check_seals, seal_bytes, store_seal, stored_seals, verify_stamp
from warc_store.timestamp import TimestampError, TsaConfig, check_token, request_token
from weidang.cli import main


@pytest.fixture(scope="module")
def tsa(tmp_path_factory):
    authority = LocalTsa(tmp_path_factory.mktemp("tsa"))
    yield authority
    authority.close()


@pytest.fixture
def archive(home: Path) -> Path:
    """A home with one small collection; returns the home."""
    build_collection(home / "collections" / "default", exchanges=3)
    return home


def _with_tsa(tsa: LocalTsa, *args: str, url: str | None = None) -> list[str]:
    """The settings naming ``tsa`` (or ``url``), then the command and its options."""
    return ["--set", f"WARC_STORE_SEAL_TSA_URL={url or tsa.url}",
            "--set", f"WARC_STORE_SEAL_TSA_CA_FILE={tsa.ca}", *args]


def _seal(capsys, *args: str) -> tuple[int, str, str]:
    status = main(list(args))
    out = capsys.readouterr()
    return status, out.out.strip(), out.err


def _verify(capsys, *args: str) -> tuple[int, dict]:
    status = main([*args, "--json"])
    return status, json.loads(capsys.readouterr().out)[0]


# -- the library level ---------------------------------------------------------------------------


def test_a_token_proves_exactly_the_bytes_it_was_asked_for(tsa, tmp_path):
    config = TsaConfig(tsa.url, tsa.ca, timeout=30)
    token, stamp = request_token(b"weidang-seal-1:1:ab\n", config)
    assert stamp.signer_checked and "CN=Test TSA" in stamp.authority
    assert check_token(b"weidang-seal-1:1:ab\n", token, tsa.ca).serial == stamp.serial
    with pytest.raises(TimestampError, match="other bytes than the seal"):
        check_token(b"weidang-seal-1:1:ac\n", token, tsa.ca)


def test_an_rsa_signing_authority_works_too(tmp_path):
    """Most public TSAs sign with RSA; the fixture's TSA signs with ECDSA."""
    authority = LocalTsa(tmp_path / "rsa", key="rsa")
    try:
        token, stamp = request_token(b"weidang-seal-1:2:cd\n", TsaConfig(authority.url, authority.ca))
    finally:
        authority.close()
    assert stamp.signer_checked
    data = bytearray(token)
    data[-10] ^= 0x01  # inside the RSA signature, the last field of the answer
    with pytest.raises(TimestampError, match="its signature does not match its contents"):
        check_token(b"weidang-seal-1:2:cd\n", bytes(data), authority.ca)


def test_a_tsa_that_does_not_name_itself_is_named_by_its_certificate(tmp_path):
    authority = LocalTsa(tmp_path / "quiet")
    config = authority.folder / "tsa.cnf"
    config.write_text(config.read_text().replace("tsa_name = yes", "tsa_name = no"))
    try:
        _, stamp = request_token(b"x\n", TsaConfig(authority.url, authority.ca))
    finally:
        authority.close()
    assert stamp.authority == "CN=Test TSA,O=weidang tests"


def test_a_token_from_an_authority_not_trusted_is_refused(tsa, tmp_path):
    other_ca = make_tsa_files(tmp_path / "other", ca_name="Some Other CA")
    token, _ = request_token(b"data\n", TsaConfig(tsa.url, None))
    with pytest.raises(TimestampError, match="its signer's certificate was not issued by a CA in "):
        check_token(b"data\n", token, other_ca)
    # without a CA file the digest is still compared, and the stamp says the signer was not checked
    assert not check_token(b"data\n", token, None).signer_checked


def test_stored_seals_and_tokens_are_checked_against_each_other_and_the_collection(tsa, tmp_path):
    collection = build_collection(tmp_path / "c", exchanges=2)
    config = TsaConfig(tsa.url, tsa.ca)
    seal = make_seal(collection)
    stored = store_seal(collection, seal, request_token(seal_bytes(seal), config)[0])
    assert stored_seals(collection) == [stored]
    assert verify_stamp(stored, config).signer_checked
    checks = check_seals(collection, seal, config)
    assert checks.problems == []
    assert any(n.startswith("this seal was time-stamped at ") for n in checks.notes)
    # another token of the same TSA, genuine but over other bytes, put in place of the real one
    assert stored.token_file is not None
    stored.token_file.write_bytes(tsa.stamp(b"weidang-seal-1:0:" + b"0" * 64 + b"\n"))
    problems = check_seals(collection, None, config).problems
    assert problems == [f"the time-stamp token {SEALS}/{stored.token_file.name} does not prove its "
                        f"seal {stored.name}: it time-stamps other bytes than the seal (its message "
                        "imprint differs)"]


def test_a_missing_ca_file_is_named_not_blamed_on_the_token(tsa, tmp_path):
    collection = build_collection(tmp_path / "c", exchanges=2)
    seal = make_seal(collection)
    stored = store_seal(collection, seal, request_token(seal_bytes(seal), TsaConfig(tsa.url, tsa.ca))[0])
    assert stored.token_file is not None
    gone = tmp_path / "nowhere.pem"
    with pytest.raises(TimestampError) as caught:
        verify_stamp(stored, TsaConfig(ca_file=gone))
    assert str(caught.value) == (
        f"the time-stamp token {SEALS}/{stored.token_file.name} could not be checked: cannot read "
        f"the CA file {gone} (WARC_STORE_SEAL_TSA_CA_FILE): No such file or directory")


def test_a_verify_report_carries_the_seal_checks(tsa, tmp_path):
    collection = build_collection(tmp_path / "c", exchanges=2)
    config = TsaConfig(tsa.url, tsa.ca)
    seal = make_seal(collection)
    store_seal(collection, seal, request_token(seal_bytes(seal), config)[0])
    report = verify_collection(collection, workers=1, tsa=config)
    assert report.ok and any("time-stamped at" in n for n in report.seal_notes)
    (collection.root / SEALS / stored_seals(collection)[0].seal_file.name).unlink()
    report = verify_collection(collection, workers=1, tsa=config)
    assert not report.ok and "has no seal beside it" in report.seal_problems[0]


def test_stored_seals_catch_a_rebuilt_history_without_a_seal_given(tmp_path):
    """The seals/ folder is checked by every verify: a rewrite must also forge every stored seal
    (and cannot forge a token)."""
    collection = build_collection(tmp_path / "c", exchanges=2)
    first = store_seal(collection, make_seal(collection))
    collection.record_event("ingestion", "success", {"more": 1})
    second = store_seal(collection, make_seal(collection))
    assert verify_collection(collection, workers=1).seal_problems == []
    sealed = Seal.parse(first.seal_file.read_text())
    (collection.root / "events.jsonl").unlink()  # history rebuilt from scratch, consistent
    for i in range(sealed.event_seq + 5):
        collection.record_event("ingestion", "success", {"forged": i})
    path = collection.root / "manifest.jsonl"
    path.write_text(path.read_text().replace('"records": 5', '"records": 4'))
    report = verify_collection(collection, workers=1)
    assert report.chain_problems == []
    later = Seal.parse(second.seal_file.read_text())
    assert report.seal_problems == [
        f"{first.name}: event {sealed.event_seq} is not the event that was sealed",
        f"{first.name}: the manifest's first 1 entries changed since the seal",
        f"{second.name}: event {later.event_seq} is not the event that was sealed",
        f"{second.name}: the manifest's first 1 entries changed since the seal"]


# -- the command line ----------------------------------------------------------------------------


def test_seal_with_a_tsa_then_verify_then_tamper(tsa, archive, capsys):
    status, value, err = _seal(capsys, *_with_tsa(tsa, "seal"))
    assert status == 0, err
    assert "Time-stamped at " in err and "CN=Test TSA" in err
    seal = Seal.parse(value.splitlines()[0])
    [stored] = stored_seals(Collection.open(archive / "collections" / "default"))
    assert stored.seal_file.read_bytes() == seal_bytes(seal) and stored.token_file is not None

    status, report = _verify(capsys, *_with_tsa(tsa, "verify", "--seal", str(seal)))
    assert status == 0 and report["ok"], report
    assert any(n.startswith("this seal was time-stamped at ") for n in report["seal_notes"])

    # the stored seal edited (an earlier event number claimed): its token no longer proves it
    forged = str(seal).replace(f":{seal.event_seq}:", f":{seal.event_seq - 1}:", 1)
    stored.seal_file.write_text(forged + "\n", encoding="ascii")
    status, report = _verify(capsys, *_with_tsa(tsa, "verify"))
    assert status == 1
    token = f"{SEALS}/{stored.token_file.name}"
    assert any(p.startswith(f"the time-stamp token {token} does not prove its seal {stored.name}: "
                            "it time-stamps other bytes") for p in report["seal_problems"])

    # the seal restored, the token damaged: one byte of its signature changed
    stored.seal_file.write_bytes(seal_bytes(seal))
    data = bytearray(stored.token_file.read_bytes())
    data[-10] ^= 0x01
    stored.token_file.write_bytes(bytes(data))
    status, report = _verify(capsys, *_with_tsa(tsa, "verify"))
    assert status == 1
    assert f"the time-stamp token {token} does not prove its seal {stored.name}: its signature does " \
        "not match its contents (the token was altered)" in report["seal_problems"]


def test_the_auditors_openssl_command_accepts_the_stored_token(tsa, archive, capsys):
    """The command the README gives, run as given: no weidang involved."""
    status, value, err = _seal(capsys, *_with_tsa(tsa, "seal"))
    assert status == 0, err
    [stored] = stored_seals(Collection.open(archive / "collections" / "default"))
    assert stored.token_file is not None
    done = subprocess.run(["openssl", "ts", "-verify", "-in", str(stored.token_file),
                           "-data", str(stored.seal_file), "-CAfile", str(tsa.ca)],
                          capture_output=True, text=True)
    assert done.returncode == 0 and "Verification: OK" in done.stdout, done.stderr
    shown = subprocess.run(["openssl", "ts", "-reply", "-in", str(stored.token_file), "-text"],
                           capture_output=True, text=True)
    assert shown.returncode == 0 and "Time stamp: " in shown.stdout and "Test TSA" in shown.stdout
    # the auditor holding only the value written down: `echo VALUE > seal.txt` gives the same bytes
    held = archive / "value.txt"
    subprocess.run(f"echo '{value.splitlines()[0]}' > {held}", shell=True, check=True)
    done = subprocess.run(["openssl", "ts", "-verify", "-in", str(stored.token_file), "-data", str(held),
                           "-CAfile", str(tsa.ca)], capture_output=True, text=True)
    assert done.returncode == 0 and "Verification: OK" in done.stdout, done.stderr
    held.write_text(value.splitlines()[0] + "x\n")
    done = subprocess.run(["openssl", "ts", "-verify", "-in", str(stored.token_file), "-data", str(held),
                           "-CAfile", str(tsa.ca)], capture_output=True, text=True)
    assert done.returncode != 0 and "Verification: FAILED" in done.stdout
    # and what weidang itself tells a person
    assert main(_with_tsa(tsa, "verify", "--seal", value.splitlines()[0])) == 0
    shown_out = capsys.readouterr().out
    assert f"  Seal: {stored.name} time-stamped at " in shown_out
    assert "  Seal: this seal was time-stamped at " in shown_out and "all checks passed" in shown_out


def test_tsa_down_the_seal_is_still_written_and_the_reason_given(tsa, archive, capsys):
    down = closed_port_url()
    status, value, err = _seal(capsys, *_with_tsa(tsa, "seal", url=down))
    assert status == 0  # a time-stamp was not asked for explicitly: the seal is what matters
    assert value.startswith("weidang-seal-1:")
    assert (f"No time-stamp: could not reach the time-stamping authority at {down}: "
            "Connection refused.") in err
    [stored] = stored_seals(Collection.open(archive / "collections" / "default"))
    assert stored.token_file is None and stored.seal_file.read_text().strip() == value

    status, _, err = _seal(capsys, *_with_tsa(tsa, "seal", "--timestamp", url=down))
    assert status == 1 and "No time-stamp: could not reach" in err  # asked for: its absence fails

    status, report = _verify(capsys, *_with_tsa(tsa, "verify", "--seal", value))
    assert status == 0
    assert "no time-stamp token for this seal is stored in the collection" in report["seal_notes"]


def test_a_broken_tsa_or_none_configured_is_said_plainly(tsa, archive, capsys):
    tsa.answer_status = 503
    try:
        status, _, err = _seal(capsys, *_with_tsa(tsa, "seal", "--timestamp"))
    finally:
        tsa.answer_status = 200
    assert status == 1
    assert f"No time-stamp: the time-stamping authority at {tsa.url} answered HTTP 503" in err
    status, _, err = _seal(capsys, "seal", "--timestamp")
    assert status == 1
    assert "no time-stamping authority is configured (WARC_STORE_SEAL_TSA_URL is empty)" in err
    status, _, err = _seal(capsys, "seal")  # none configured, none asked: a plain seal as before
    assert status == 0 and "time-stamp" not in err.lower()
