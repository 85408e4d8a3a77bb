"""Every default setting of weidang, in one place.

Names are upper case and prefixed by the package that owns them. Within a group the enabling
flag (if any) comes first, then the rest alphabetically. Overrides apply in this order: the
home's ``weidang.toml``, then ``WEIDANG_<NAME>`` environment variables, then ``--set NAME=VALUE``
on the command line. Packages other than ``weidang`` never import this module: the face reads
the settings and passes plain values in.

Each setting's annotation declares its type and the rule every value must keep (see
``weidang.setting_rules``); a value from any source that breaks either is refused the moment it
is read, in a sentence naming the setting, the value and what is allowed. Only settings are upper
case here: helpers are CapWords type aliases or lower-case modules.
"""

from typing import Annotated

from catalog import account_fields as schedule
from catalog import search
from catalog.search import elastic_mapping
from weidang import setting_rules as rule

Seconds = Annotated[float, rule.Between(0, 3600, "seconds")]  # waits between requests
Timeout = Annotated[float, rule.Between(0.1, 3600, "seconds")]
Retries = Annotated[int, rule.Between(0, 20)]
LongSeconds = Annotated[int, rule.Between(0, 366 * 86400, "seconds")]  # up to a year
HttpUrl = Annotated[str, rule.Url(("http", "https"))]
EnvName = Annotated[str, rule.ENV_NAME]
HomeFile = Annotated[str, rule.FilePath()]  # relative to the home, or absolute
ArchiveCode = Annotated[str, rule.Matches(r"[0-9A-Za-z]{1,16}", "1 to 16 letters or digits", empty=True)]

# warc_store: the bytes.
# the collection (folder under HOME/collections) harvests write to; a worker uses worker-NAME
WARC_STORE_COLLECTION: Annotated[str, rule.FILE_NAME_PART] = "default"
# zlib level per gzip member; common WARC writers use 9 (3x slower, ~same size)
WARC_STORE_COMPRESS_LEVEL: Annotated[int, rule.Between(0, 9)] = 6
# a WARC file open longer than this is closed and a new one begun
WARC_STORE_MAX_AGE_SECONDS: Annotated[int, rule.Between(1, 366 * 86400, "seconds")] = 24 * 3600
# a file is closed once it reaches this size
WARC_STORE_MAX_SIZE: Annotated[int, rule.Between(1024, 1024**4, "bytes")] = 1024**3
WARC_STORE_PREFIX: Annotated[str, rule.FILE_NAME_PART] = "weidang"  # first part of every WARC file name
WARC_STORE_REDACT_HEADERS: Annotated[list[str], rule.HEADER_NAMES] = [
    "Authorization", "Cookie", "Proxy-Authorization", "Set-Cookie"]
WARC_STORE_REDACT_PARAMS: Annotated[list[str], rule.PARAM_NAMES] = [
    "access_token", "appsecret", "key", "pass_ticket", "secret", "token", "uin"]
# PEM file of the time-stamping authority's CA certificate(s): tokens are checked against it
WARC_STORE_SEAL_TSA_CA_FILE: Annotated[str, rule.FilePath(empty=True)] = ""
WARC_STORE_SEAL_TSA_TIMEOUT_SECONDS: Timeout = 30.0  # wait this long for the time-stamping authority
# RFC 3161 time-stamping authority `weidang seal` asks for a token; "" = none
WARC_STORE_SEAL_TSA_URL: HttpUrl = ""
# processes for `weidang verify`; 0 = one per CPU core
WARC_STORE_VERIFY_WORKERS: Annotated[int, rule.Between(0, 256)] = 0

# catalog: accounts, credentials references and (later) posts; file names are relative to the home.
CATALOG_CREDENTIALS_FILE: HomeFile = "credentials.toml"  # logins by NAME; must be private (chmod 600)
CATALOG_DB_FILE: HomeFile = "catalog.sqlite"  # the catalog database (SQLite, WAL mode)
# SQLAlchemy URL of the catalog on a server (postgresql+psycopg://USER@HOST/DB); "" = CATALOG_DB_FILE
CATALOG_URL: Annotated[str, rule.DatabaseUrl()] = ""
# a catalog on a server that cannot be reached: harvests and the daemon wait this long for it
CATALOG_UNREACHABLE_WAIT_SECONDS: Annotated[float, rule.Between(0, 86400, "seconds")] = 300
# harvest interval of an account that sets none (once a day); the bounds of an account's own
CATALOG_SCHEDULE_INTERVAL_SECONDS: Annotated[int, rule.Between(
    schedule.MIN_INTERVAL_SECONDS, schedule.MAX_INTERVAL_SECONDS, "seconds")] = 86400
# start up to this much later (random), unless the account says
CATALOG_SCHEDULE_JITTER_SECONDS: Annotated[int, rule.Between(0, schedule.MAX_JITTER_SECONDS, "seconds")] = 900

# catalog.appraisal: the parts of a 档号 (DA/T 22-2015) for accounts that set none of their own
# (`weidang accounts codes`); "" = none, and a keep is refused until one is set.
CATALOG_ARCHIVE_CATEGORY: ArchiveCode = ""  # 档案门类代码, e.g. XM (the archive's own code for posts)
CATALOG_ARCHIVE_FONDS: ArchiveCode = ""  # 全宗号, e.g. 0194
CATALOG_ARCHIVE_UNIT: ArchiveCode = ""  # 机构（问题）代码, e.g. BGS

# catalog.search: the full-text index (derived from the catalog; rebuildable at any time).
# "sqlite" (embedded file under the home's index/), "tantivy" (embedded directory there, for
# large archives) or "elasticsearch"
CATALOG_SEARCH_BACKEND: Annotated[str, rule.OneOf(search.BACKENDS)] = "sqlite"
# "cjk" (built in), "smartcn", "ik_max_word" (need the plugin), "auto"
CATALOG_SEARCH_ES_ANALYZER: Annotated[str, rule.OneOf(elastic_mapping.ANALYZERS)] = "cjk"
CATALOG_SEARCH_ES_API_KEY_ENV: EnvName = "WEIDANG_ES_API_KEY"  # NAME of the variable holding the API key
# path of the CA bundle for https clusters; empty = system CAs
CATALOG_SEARCH_ES_CA_CERTS: Annotated[str, rule.FilePath(empty=True)] = ""
# alias searched; physical indexes are <alias>-000001 ...
CATALOG_SEARCH_ES_INDEX: Annotated[str, rule.ES_INDEX_NAME] = "weidang-posts"
CATALOG_SEARCH_ES_MAX_RETRIES: Retries = 3  # retries after 429/502/503/504 or a dropped connection
CATALOG_SEARCH_ES_PASSWORD_ENV: EnvName = "WEIDANG_ES_PASSWORD"  # NAME of the variable holding the password
CATALOG_SEARCH_ES_TIMEOUT: Timeout = 30  # seconds per request
CATALOG_SEARCH_ES_URL: HttpUrl = ""  # e.g. "https://es.archive.example:9200"
CATALOG_SEARCH_ES_USERNAME_ENV: EnvName = "WEIDANG_ES_USERNAME"  # NAME of the variable holding the user name
CATALOG_SEARCH_ES_VERIFY_CERTS: bool = True
# file name of the embedded index in the home's index/
CATALOG_SEARCH_SQLITE_FILE: Annotated[str, rule.FILE_NAME] = "search.sqlite"
# directory name of the tantivy index in the home's index/
CATALOG_SEARCH_TANTIVY_DIR: Annotated[str, rule.FILE_NAME] = "search.tantivy"

# crawler: how harvests behave towards the platforms.
# the local address harvests' requests leave from (one of this machine's), so that each worker
# has its own egress; "" = the system's choice
CRAWLER_BIND_ADDRESS: Annotated[str, rule.Matches(
    r"[0-9A-Fa-f:.]{2,45}", "an IP address of this machine", empty=True)] = ""
# comments read per post, for accounts with comments on (README "Comments"); whole pages of 20
CRAWLER_COMMENTS_MAX_PER_POST: Annotated[int, rule.Between(1, 100_000)] = 200
CRAWLER_BACKOFF_SECONDS: Seconds = 2.0  # first wait before retrying a failed request; doubled each retry
CRAWLER_CONCURRENCY_PER_HOST: Annotated[int, rule.Between(1, 16)] = 2  # requests in flight to one host
CRAWLER_DELAY_SECONDS: Seconds = 2.0  # between requests to one host (AutoThrottle may lengthen it)
# this machine's egress (its address and logins) by name: a rate limit or captcha then pauses the
# platform for the workers with this egress only; "" = it pauses the platform everywhere
CRAWLER_EGRESS: Annotated[str, rule.Matches(
    r"[A-Za-z0-9][A-Za-z0-9._-]{0,56}", "letters, digits, '.', '_' or '-', at most 57 characters",
    empty=True)] = ""
# listing pages one run of a backfill may walk (it goes on next run)
CRAWLER_FULL_MAX_PAGES: Annotated[int, rule.Between(1, 1_000_000)] = 50
# a login (`weidang login`) expiring this soon is alerted, once, at its next harvest
CRAWLER_LOGIN_WARN_DAYS: Annotated[float, rule.Between(0, 366, "days")] = 7.0
# how long `weidang login` waits for the QR code to be scanned
CRAWLER_LOGIN_WAIT_SECONDS: Annotated[float, rule.Between(10, 3600, "seconds")] = 300.0
# send every request through this proxy (the demo points it at the emulator)
CRAWLER_PROXY: HttpUrl = ""
# CA certificate of an intercepting proxy, trusted by the login check; the login browser then
# accepts the proxy's certificates (the demo sets the emulator's ca.pem); "" = none
CRAWLER_PROXY_CA: Annotated[str, rule.FilePath(empty=True)] = ""
# posts captured this recently are re-checked for deletion at each harvest
CRAWLER_RECHECK_DAYS: Annotated[float, rule.Between(0, 366, "days")] = 7.0
CRAWLER_RETRIES: Retries = 3  # retries after 5xx answers and timeouts
CRAWLER_TIMEOUT_SECONDS: Timeout = 60.0  # per request
# stop a harvest the platform has not answered for this long
CRAWLER_UNREACHABLE_GIVE_UP_SECONDS: Annotated[float, rule.Between(1, 86400, "seconds")] = 60.0

# crawler.browser: each new post's page rendered in Chromium and recorded (README "Browser capture").
CRAWLER_BROWSER_ENABLED: bool = True  # on where Chromium is found; false = never start a browser
# CA bundle the platform's TLS is checked with behind the recording proxy; "" = the system's
CRAWLER_BROWSER_CA_CERTS: Annotated[str, rule.FilePath(empty=True)] = ""
# Chromium to run; "" = chromium (or chromium-browser, google-chrome) on PATH
CRAWLER_BROWSER_EXECUTABLE: Annotated[str, rule.FilePath(empty=True)] = ""
# Chromium is restarted when its processes use more memory than this
CRAWLER_BROWSER_MEMORY_CAP_MB: Annotated[int, rule.Between(100, 65536, "MB")] = 500
# all the time one page may take (load, scroll, pictures, renditions); then it is abandoned
CRAWLER_BROWSER_PAGE_SECONDS: Annotated[float, rule.Between(1, 3600, "seconds")] = 60.0
CRAWLER_BROWSER_PDF: bool = True  # a PDF rendition (Chromium's print) of every page
# Chromium is restarted after this many pages (its memory creeps up over long runs)
CRAWLER_BROWSER_RESTART_PAGES: Annotated[int, rule.Between(1, 100_000)] = 200
# User-Agent the browser sends; "" = Chromium's own
CRAWLER_BROWSER_USER_AGENT: Annotated[str, rule.Matches(r"[^\r\n\0]{1,512}", "one line of text",
                                                        empty=True)] = ""

# schedules: the daemon (`weidang run`).
# a failing account's period doubles per failure, up to this
SCHEDULES_BACKOFF_MAX_SECONDS: LongSeconds = 86400
# "local": harvests run as child processes here; "queue": sent as jobs to `weidang worker`s
SCHEDULES_DISPATCH: Annotated[str, rule.OneOf(("local", "queue"))] = "local"
# SQLAlchemy URL of the job store; "" = sqlite:///HOME/schedules.sqlite
SCHEDULES_JOB_STORE_URL: Annotated[str, rule.DatabaseUrl()] = ""
# harvests running at once, across all accounts (with the queue: jobs sent and not yet ended)
SCHEDULES_MAX_CONCURRENT: Annotated[int, rule.Between(1, 1024)] = 2
# drop a run missed by longer than this; 0 = never drop (run it once)
SCHEDULES_MISFIRE_GRACE_SECONDS: LongSeconds = 0
# the message queue's broker (RabbitMQ amqp://, or Redis redis://); it may hold a password
SCHEDULES_QUEUE_BROKER_URL: Annotated[str, rule.Url(("amqp", "amqps", "pyamqp", "redis", "rediss"),
                                                     empty=False)] = "amqp://guest:guest@127.0.0.1:5672//"
# queue names begin with this: PREFIX.harvest.weibo, PREFIX.harvest.wechat (one per platform)
SCHEDULES_QUEUE_PREFIX: Annotated[str, rule.FILE_NAME_PART] = "weidang"
# Redis broker only: a job unacknowledged this long is given to another worker (longer than
# the longest harvest, or a slow harvest runs twice)
SCHEDULES_QUEUE_REDIS_VISIBILITY_SECONDS: Annotated[int, rule.Between(10, 366 * 86400, "seconds")] = 6 * 3600
# where the daemon reads each job's result; "" = rpc:// on RabbitMQ, the broker itself on Redis
SCHEDULES_QUEUE_RESULT_BACKEND: Annotated[str, rule.Matches(
    r"rpc://|rediss?://\S+", "rpc:// or a redis:// address", empty=True)] = ""
# on SIGTERM, wait this long for harvests to finish, then kill them
SCHEDULES_STOP_TIMEOUT_SECONDS: Annotated[float, rule.Between(0, 86400, "seconds")] = 300
# how often the daemon re-reads accounts and schedules from the catalog
SCHEDULES_SYNC_SECONDS: Annotated[float, rule.Between(0.1, 86400, "seconds")] = 60
SCHEDULES_WEBHOOK_TIMEOUT_SECONDS: Annotated[float, rule.Between(0.1, 300, "seconds")] = 5.0  # per alert POST
SCHEDULES_WEBHOOK_URL: HttpUrl = ""  # alerts are POSTed here as JSON; "" = log only
# `weidang worker`: its name (unique per worker) and so its collection worker-NAME; "" = host name
SCHEDULES_WORKER_NAME: Annotated[str, rule.Matches(
    r"[A-Za-z0-9][A-Za-z0-9._-]{0,56}", "letters, digits, '.', '_' or '-', at most 57 characters",
    empty=True)] = ""

# web: `weidang web`, and what it tells other archives.
# OAI-PMH Identify: who answers for the repository (required by the protocol)
WEB_OAI_ADMIN_EMAIL: Annotated[str, rule.Matches(
    r"[^@\s]+@[^@\s]+", "an e-mail address")] = "archive@localhost"
# OAI-PMH Identify: the archive's name as other archives see it
WEB_OAI_REPOSITORY_NAME: Annotated[str, rule.Matches(r"\S.{0,199}", "1 to 200 characters")] = "微档 weidang"
# OAI-PMH: records per answer; the rest follow with a resumption token
WEB_OAI_PAGE_SIZE: Annotated[int, rule.Between(1, 1000)] = 100
# pywb's `wayback` program, for replays on the post page; empty = .venv-pywb beside weidang's source
# (made by install-replay.sh), else `wayback` on PATH
WEB_PYWB: Annotated[str, rule.FilePath(empty=True)] = ""
# the replay origin as readers' browsers reach it (behind a reverse proxy); empty = this server's
# host name with the replay port (`weidang web --replay-port`)
WEB_REPLAY_URL: Annotated[str, rule.Url(("http", "https"), empty=True)] = ""
