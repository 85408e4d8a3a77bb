"""SM3 (GB/T 32905) hash objects: libgcrypt's where the system has it, else OpenSSL's.

SM3 of every byte is most of what fixity costs (``weidang verify`` spends about 60% of its CPU
in it). OpenSSL 3 has only a portable C SM3 on x86-64; libgcrypt (GnuPG's crypto library,
``libgcrypt20`` on every Debian system, where systemd needs it) has had an AVX/BMI2 one since
1.10, about 20% faster here (bench/warc_verify.py prints both). No maintained Python binding of
libgcrypt exists, so this is a small ctypes one over its documented message digest calls
(gcry_md_open, _write, _read, _copy, _close). ctypes drops the GIL during each call, as hashlib
does for large buffers, so hashing in threads still runs in parallel.

Both give the same digests (tested against each other and the standard's vectors); which one
runs changes no result, only the time.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import functools
import hashlib
from typing import Any, Protocol

from warc_store.errors import StoreError

_GCRY_MD_SM3 = 326  # enum gcry_md_algos in gcrypt.h
DIGEST_SIZE = 32
BLOCK_SIZE = 64
_MIN_GCRYPT = b"1.10.0"  # its first release with the AVX/BMI2 SM3
ABC = "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"  # GB/T 32905 A.1: "abc"


class Hasher(Protocol):
    """What weidang asks of a hash object (either library's SM3, hashlib's SHA-256): hashlib's
    interface, as far as it is used."""

    @property
    def name(self) -> str: ...
    @property
    def digest_size(self) -> int: ...
    @property
    def block_size(self) -> int: ...

    def update(self, data: Any, /) -> None: ...
    def digest(self) -> bytes: ...
    def hexdigest(self) -> str: ...
    def copy(self) -> Hasher: ...


class _Gcrypt:
    """The loaded library and the signatures of the calls used."""

    def __init__(self, lib: ctypes.CDLL) -> None:
        self.lib = lib
        handle_p = ctypes.POINTER(ctypes.c_void_p)
        lib.gcry_md_open.argtypes = [handle_p, ctypes.c_int, ctypes.c_uint]
        lib.gcry_md_open.restype = ctypes.c_uint
        lib.gcry_md_copy.argtypes = [handle_p, ctypes.c_void_p]
        lib.gcry_md_copy.restype = ctypes.c_uint
        lib.gcry_md_write.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t]
        lib.gcry_md_write.restype = None
        lib.gcry_md_read.argtypes = [ctypes.c_void_p, ctypes.c_int]
        lib.gcry_md_read.restype = ctypes.POINTER(ctypes.c_ubyte * DIGEST_SIZE)
        lib.gcry_md_close.argtypes = [ctypes.c_void_p]
        lib.gcry_md_close.restype = None

    def open(self) -> ctypes.c_void_p:
        handle = ctypes.c_void_p()
        if self.lib.gcry_md_open(ctypes.byref(handle), _GCRY_MD_SM3, 0) or not handle:
            raise OSError("libgcrypt refused to open an SM3 hash")
        return handle


class GcryptSm3:
    """An SM3 hash computed by libgcrypt, with hashlib's methods (``digest`` does not end it)."""

    name = "sm3"
    digest_size = DIGEST_SIZE
    block_size = BLOCK_SIZE

    def __init__(self, data: Any = b"", *, _gcrypt: _Gcrypt | None = None,
                 _handle: ctypes.c_void_p | None = None) -> None:
        gcrypt = _gcrypt or _library()
        if gcrypt is None:
            raise OSError("libgcrypt with SM3 is not available")
        self._g = gcrypt
        self._handle: ctypes.c_void_p | None = _handle if _handle is not None else gcrypt.open()
        if data:
            self.update(data)

    def update(self, data: Any, /) -> None:
        if isinstance(data, bytes):
            self._g.lib.gcry_md_write(self._handle, data, len(data))
            return
        view = memoryview(data).cast("B")
        if view.readonly:  # ctypes can point only into a writable buffer; copy the rest
            chunk = view.tobytes()
            self._g.lib.gcry_md_write(self._handle, chunk, len(chunk))
        elif view.nbytes:
            buffer = (ctypes.c_char * view.nbytes).from_buffer(view)
            self._g.lib.gcry_md_write(self._handle, buffer, view.nbytes)

    def copy(self) -> GcryptSm3:
        handle = ctypes.c_void_p()
        if self._g.lib.gcry_md_copy(ctypes.byref(handle), self._handle) or not handle:
            raise OSError("libgcrypt refused to copy an SM3 hash")
        return GcryptSm3(_gcrypt=self._g, _handle=handle)

    def digest(self) -> bytes:
        # Reading finalizes a libgcrypt handle; read a copy so this one can go on.
        final = self.copy()
        return bytes(final._g.lib.gcry_md_read(final._handle, _GCRY_MD_SM3).contents)

    def hexdigest(self) -> str:
        return self.digest().hex()

    def __del__(self) -> None:
        handle = getattr(self, "_handle", None)
        if handle:
            self._handle = None
            with contextlib.suppress(AttributeError, TypeError):  # at the interpreter's exit
                self._g.lib.gcry_md_close(handle)


@functools.cache  # takes no lock of its own, so none can stay held in a forked child
def _library() -> _Gcrypt | None:
    """libgcrypt ready for SM3, loaded once per process; None if it is missing, older than
    1.10, or refuses SM3 (its FIPS mode does)."""
    return _load()


SONAME = "libgcrypt.so.20"  # libgcrypt's ABI name since 1.6 (2013)


def _open_library() -> ctypes.CDLL | None:
    """By its ABI name first: ``find_library`` needs ldconfig (or a compiler) to look, which a
    slim container may lack."""
    with contextlib.suppress(OSError):
        return ctypes.CDLL(SONAME)
    name = ctypes.util.find_library("gcrypt")  # another ABI, should there ever be one
    if name is not None:
        with contextlib.suppress(OSError):
            return ctypes.CDLL(name)
    return None


def _load() -> _Gcrypt | None:
    lib = _open_library()
    if lib is None:
        return None
    try:
        lib.gcry_check_version.argtypes = [ctypes.c_char_p]
        lib.gcry_check_version.restype = ctypes.c_char_p
        # The call that initialises the library; it answers NULL when older than asked.
        if not lib.gcry_check_version(_MIN_GCRYPT):
            return None
        gcrypt = _Gcrypt(lib)
        probe = GcryptSm3(b"abc", _gcrypt=gcrypt)
        if probe.hexdigest() != ABC:
            return None
    except (OSError, AttributeError, ValueError):
        return None
    return gcrypt


def implementation() -> str:
    """Which SM3 ``new`` gives: "libgcrypt 1.10.1" or "OpenSSL ..." (for reports and benches)."""
    g = _library()
    if g is not None:
        return f"libgcrypt {g.lib.gcry_check_version(None).decode()}"
    import ssl

    return ssl.OPENSSL_VERSION


def new(data: Any = b"") -> Hasher:
    """An SM3 hash object: libgcrypt's if available, else OpenSSL's, else StoreError."""
    gcrypt = _library()
    if gcrypt is not None:
        return GcryptSm3(data, _gcrypt=gcrypt)
    try:
        return hashlib.new("sm3", data)
    except ValueError as exc:
        raise StoreError("neither libgcrypt nor this Python's OpenSSL has the SM3 (GB/T 32905) "
                         "hash; install libgcrypt20, or an OpenSSL with SM3 enabled") from exc
