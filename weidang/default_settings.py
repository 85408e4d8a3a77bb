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

# catalog: accounts, credentials references and (later) posts; file names are relative to the home.
CATALOG_CREDENTIALS_FILE = "credentials.toml"  # logins by NAME; must be private (chmod 600)
CATALOG_DB_FILE = "catalog.sqlite"  # the catalog database (SQLite, WAL mode)
CATALOG_SCHEDULE_INTERVAL_SECONDS = 86400  # harvest interval of an account that sets none (once a day)
CATALOG_SCHEDULE_JITTER_SECONDS = 900  # start up to this much later (random), unless the account says

# catalog.search: the full-text index (derived from the catalog; rebuildable at any time).
CATALOG_SEARCH_BACKEND = "sqlite"  # "sqlite" (embedded file under the home's index/) or "elasticsearch"
CATALOG_SEARCH_ES_ANALYZER = "cjk"  # "cjk" (built in), "smartcn", "ik_max_word" (need the plugin), "auto"
CATALOG_SEARCH_ES_API_KEY_ENV = "WEIDANG_ES_API_KEY"  # NAME of the variable holding the API key
CATALOG_SEARCH_ES_CA_CERTS = ""  # path of the CA bundle for https clusters; empty = system CAs
CATALOG_SEARCH_ES_INDEX = "weidang-posts"  # alias searched; physical indexes are <alias>-000001 ...
CATALOG_SEARCH_ES_MAX_RETRIES = 3  # retries after 429/502/503/504 or a dropped connection
CATALOG_SEARCH_ES_PASSWORD_ENV = "WEIDANG_ES_PASSWORD"  # NAME of the variable holding the password
CATALOG_SEARCH_ES_TIMEOUT = 30  # seconds per request
CATALOG_SEARCH_ES_URL = ""  # e.g. "https://es.archive.example:9200"
CATALOG_SEARCH_ES_USERNAME_ENV = "WEIDANG_ES_USERNAME"  # NAME of the variable holding the user name
CATALOG_SEARCH_ES_VERIFY_CERTS = True
CATALOG_SEARCH_SQLITE_FILE = "search.sqlite"  # file name of the embedded index in the home's index/

# crawler: how harvests behave towards the platforms.
CRAWLER_BACKOFF_SECONDS = 2.0  # first wait before retrying a failed request; doubled each retry
CRAWLER_CONCURRENCY_PER_HOST = 2  # requests in flight to one host
CRAWLER_DELAY_SECONDS = 2.0  # between requests to one host (AutoThrottle may lengthen it)
CRAWLER_FULL_MAX_PAGES = 50  # listing pages one run of a backfill may walk (it goes on next run)
CRAWLER_PROXY = ""  # send every request through this proxy (the demo points it at the emulator)
CRAWLER_RECHECK_DAYS = 7.0  # posts captured this recently are re-checked for deletion at each harvest
CRAWLER_RETRIES = 3  # retries after 5xx answers and timeouts
CRAWLER_TIMEOUT_SECONDS = 60.0  # per request

# schedules: the daemon (`weidang run`).
SCHEDULES_BACKOFF_MAX_SECONDS = 86400  # a failing account's period doubles per failure, up to this
SCHEDULES_JOB_STORE_URL = ""  # SQLAlchemy URL of the job store; "" = sqlite:///HOME/schedules.sqlite
SCHEDULES_MAX_CONCURRENT = 2  # harvests running at once, across all accounts
SCHEDULES_MISFIRE_GRACE_SECONDS = 0  # drop a run missed by longer than this; 0 = never drop (run it once)
SCHEDULES_STOP_TIMEOUT_SECONDS = 300  # on SIGTERM, wait this long for harvests to finish, then kill them
SCHEDULES_SYNC_SECONDS = 60  # how often the daemon re-reads accounts and schedules from the catalog
SCHEDULES_WEBHOOK_TIMEOUT_SECONDS = 5.0  # per alert POST
SCHEDULES_WEBHOOK_URL = ""  # alerts are POSTed here as JSON; "" = log only
