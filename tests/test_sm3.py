"""SM3 from libgcrypt where the system has it: the same digests as OpenSSL's, hashlib's manners,
and OpenSSL's SM3 when libgcrypt is missing."""

from __future__ import annotations

import hashlib
import random
import shutil
import subprocess

import pytest

from warc_store import sm3
from warc_store.digests import hash_file, new_sm3, sm3_of_file
from warc_store.errors import StoreError

# GB/T 32905-2016, appendix A: the two examples
ABC = "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
ABCD_16 = "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"

needs_gcrypt = pytest.mark.skipif(sm3._library() is None,
                                  reason="libgcrypt 1.10 or newer (Debian: libgcrypt20) is not here")


def openssl(data: bytes) -> str:
    return hashlib.new("sm3", data).hexdigest()


@pytest.fixture
def without_gcrypt(monkeypatch):
    monkeypatch.setattr(sm3, "_library", lambda: None)


def test_the_standard_examples_whichever_sm3_runs():
    assert sm3.new(b"abc").hexdigest() == ABC
    h = new_sm3()
    h.update(b"abcd" * 16)
    assert h.hexdigest() == ABCD_16


@needs_gcrypt
def test_weidang_uses_libgcrypt_where_the_system_has_it():
    assert isinstance(new_sm3(), sm3.GcryptSm3)
    assert sm3.implementation().startswith("libgcrypt 1.")


@needs_gcrypt
def test_libgcrypt_agrees_with_openssl_on_every_length_and_buffer_kind():
    rng = random.Random(32905)
    for size in [*range(0, 200), 1000, 4095, 4096, 4097, 1 << 20]:
        data = rng.randbytes(size)
        expected = openssl(data)
        assert sm3.GcryptSm3(data).hexdigest() == expected, size
        for kind in (bytearray, memoryview, lambda d: memoryview(bytearray(d))):
            h = sm3.GcryptSm3()
            cut = size // 3
            h.update(kind(data[:cut]))
            h.update(kind(data[cut:]))
            assert h.hexdigest() == expected, (size, kind)


@needs_gcrypt
def test_digest_leaves_the_hash_going_and_copies_are_independent():
    h = sm3.GcryptSm3(b"ab")
    assert h.hexdigest() == openssl(b"ab")
    assert h.digest() == bytes.fromhex(openssl(b"ab"))  # asking twice gives the same
    twin = h.copy()
    h.update(b"c")
    assert h.hexdigest() == ABC
    twin.update(b"x")
    assert twin.hexdigest() == openssl(b"abx") and h.hexdigest() == ABC
    assert (h.name, h.digest_size, h.block_size) == ("sm3", 32, 64)


@needs_gcrypt
def test_text_is_refused_as_hashlib_refuses_it():
    with pytest.raises(TypeError):
        sm3.GcryptSm3().update("档案")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        hashlib.new("sm3").update("档案")  # type: ignore[arg-type]


def test_files_hash_the_same_with_either_sm3(tmp_path, monkeypatch):
    path = tmp_path / "f.bin"
    data = random.Random(7).randbytes(9 << 20)  # more than two reads of file_digest and CHUNK
    path.write_bytes(data)
    with_default = (sm3_of_file(path), hash_file(path).sm3)
    monkeypatch.setattr(sm3, "_library", lambda: None)
    assert (sm3_of_file(path), hash_file(path).sm3) == with_default == (openssl(data),) * 2


def test_without_libgcrypt_openssl_hashes(without_gcrypt):
    h = new_sm3()
    assert not isinstance(h, sm3.GcryptSm3)
    h.update(b"abc")
    assert h.hexdigest() == ABC
    assert "OpenSSL" in sm3.implementation()


def test_a_missing_or_old_libgcrypt_is_not_used(monkeypatch):
    def absent(name):
        raise OSError(f"{name}: cannot open shared object file")

    monkeypatch.setattr(sm3.ctypes, "CDLL", absent)
    assert sm3._load() is None
    monkeypatch.undo()
    monkeypatch.setattr(sm3, "_MIN_GCRYPT", b"99.0.0")  # a release newer than any: "too old"
    assert sm3._load() is None


def test_no_sm3_anywhere_is_told_plainly(without_gcrypt, monkeypatch):
    def no_sm3(name, data=b""):
        raise ValueError(f"unsupported hash type {name}")

    monkeypatch.setattr(sm3.hashlib, "new", no_sm3)
    with pytest.raises(StoreError, match="libgcrypt20") as caught:
        new_sm3()
    from weidang.errors import translated

    assert translated(str(caught.value), "zh_CN").startswith("本机的 libgcrypt 和本 Python 所用的 OpenSSL")


@pytest.mark.skipif(shutil.which("openssl") is None or shutil.which("sha256sum") is None,
                    reason="the openssl and sha256sum commands are not installed")
def test_the_manifest_holds_what_the_auditors_own_commands_print(tmp_path):
    """An auditor checks a file without weidang: `sha256sum` and `openssl dgst -sm3` (another
    SM3 than the one that wrote the manifest, where libgcrypt is here) print the same digests."""
    from store_helpers import build_collection

    from warc_store import StoreConfig

    collection = build_collection(tmp_path / "c", exchanges=8, config=StoreConfig(max_size=40_000))
    entries = collection.manifest.entries()
    assert len(entries) > 1
    for entry in entries:
        path = collection.warcs / entry.file
        sm3_line = subprocess.run(["openssl", "dgst", "-sm3", str(path)], capture_output=True,
                                  text=True, check=True).stdout
        sha_line = subprocess.run(["sha256sum", str(path)], capture_output=True, text=True,
                                  check=True).stdout
        assert sm3_line.strip().endswith("= " + entry.sm3)
        assert sha_line.split()[0] == entry.sha256
