"""Every default setting of weidang, in one place.

Names are upper case and prefixed by the package that owns them. Within a group the enabling
flag (if any) comes first, then the rest alphabetically. Overrides apply in this order: the
home's ``weidang.toml``, then ``WEIDANG_<NAME>`` environment variables, then ``--set NAME=VALUE``
on the command line. Packages other than ``weidang`` never import this module: the face reads
the settings and passes plain values in.
"""

# warc_store: the bytes.
WARC_STORE_COMPRESS_LEVEL = 6  # zlib level per gzip member; warcio always uses 9 (3x slower, ~same size)
WARC_STORE_MAX_AGE_SECONDS = 24 * 3600  # a WARC file open longer than this is closed and a new one begun
WARC_STORE_MAX_SIZE = 1024**3  # bytes; a file is closed once it reaches this size
WARC_STORE_PREFIX = "weidang"  # first part of every WARC file name
WARC_STORE_REDACT_HEADERS = ["Authorization", "Cookie", "Proxy-Authorization", "Set-Cookie"]
WARC_STORE_REDACT_PARAMS = ["access_token", "appsecret", "key", "pass_ticket", "secret", "token", "uin"]
WARC_STORE_VERIFY_WORKERS = 0  # processes for `weidang verify`; 0 = one per CPU core
