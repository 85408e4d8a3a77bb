-- The catalog as weidang wrote it before catalog/schema.py (commit c7e0e25): catalog/db.py made
-- schema_version and the accounts, catalog/store.py catalog_schema and the post and run tables.
-- Frozen here so that the upgrade of such a catalog stays tested (tests/test_catalog_upgrade.py).
CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL);
CREATE TABLE accounts (
    id INTEGER PRIMARY KEY,
    platform TEXT NOT NULL,
    account_id TEXT NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    credentials TEXT,                -- a NAME in credentials.toml or WEIDANG_CRED_<NAME>_*; never a secret
    source TEXT,                     -- listing source (WeChat: api, backend, feed, urls); NULL = inferred
    interval_seconds INTEGER CHECK (interval_seconds IS NULL OR interval_seconds > 0),
    cron TEXT,                       -- five-field crontab expression, China time
    jitter_seconds INTEGER CHECK (jitter_seconds IS NULL OR jitter_seconds >= 0),
    notes TEXT NOT NULL DEFAULT '',
    active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    removed_at TEXT,
    UNIQUE (platform, account_id),
    CHECK (interval_seconds IS NULL OR cron IS NULL)
);
CREATE TRIGGER accounts_never_deleted BEFORE DELETE ON accounts
BEGIN SELECT RAISE(ABORT, 'accounts are never deleted; mark them inactive'); END;
CREATE TABLE account_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    account TEXT NOT NULL,           -- platform:id
    action TEXT NOT NULL CHECK (action IN ('add', 'update', 'remove', 'restore')),
    changes TEXT NOT NULL,           -- JSON {field: [old, new]}
    via TEXT NOT NULL DEFAULT ''     -- e.g. "command line", "import accounts.csv"
);
CREATE INDEX account_events_by_account ON account_events (account, seq);
CREATE TRIGGER account_events_append_only_update BEFORE UPDATE ON account_events
BEGIN SELECT RAISE(ABORT, 'account_events is append-only'); END;
CREATE TRIGGER account_events_append_only_delete BEFORE DELETE ON account_events
BEGIN SELECT RAISE(ABORT, 'account_events is append-only'); END;
CREATE TABLE catalog_schema (part TEXT PRIMARY KEY, version INTEGER NOT NULL, applied_at TEXT NOT NULL);
CREATE TABLE posts (
    platform TEXT NOT NULL,
    post_id TEXT NOT NULL,
    account TEXT NOT NULL,               -- platform:id of the account that published it
    current_version INTEGER NOT NULL,
    first_captured TEXT NOT NULL,        -- UTC, ISO 8601
    last_captured TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('live', 'edited', 'deleted', 'blocked', 'expired', 'unavailable')),
    pinned INTEGER NOT NULL DEFAULT 0,
    published_at TEXT,                   -- UTC, ISO 8601
    url TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (platform, post_id)
);
CREATE INDEX posts_by_account ON posts (account, published_at);
CREATE TABLE versions (
    platform TEXT NOT NULL,
    post_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    outcome TEXT NOT NULL,               -- new | edited
    fingerprint TEXT NOT NULL,
    captured_at TEXT NOT NULL,
    harvest_id TEXT NOT NULL,
    collection TEXT NOT NULL,
    metadata_record_id TEXT NOT NULL UNIQUE,
    evidence TEXT NOT NULL,              -- JSON [{record_id, url, role, payload_digest, ...}]
    title TEXT NOT NULL,
    text TEXT NOT NULL,
    post TEXT NOT NULL,                  -- Post.to_json(), as JSON
    PRIMARY KEY (platform, post_id, version)
);
CREATE TABLE media (
    platform TEXT NOT NULL,
    post_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    position INTEGER NOT NULL,
    kind TEXT NOT NULL,
    url TEXT NOT NULL,
    media_id TEXT NOT NULL,
    record_id TEXT,                      -- the response (or revisit) holding the bytes, if fetched
    payload_digest TEXT,
    revisit_of TEXT,
    PRIMARY KEY (platform, post_id, version, position)
);
CREATE TABLE statuses (
    metadata_record_id TEXT PRIMARY KEY,
    platform TEXT NOT NULL,
    post_id TEXT NOT NULL,
    status TEXT NOT NULL,
    reason TEXT NOT NULL,
    evidence_record_id TEXT,             -- the platform's answer, in the WARC
    harvest_id TEXT NOT NULL,
    collection TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX statuses_by_post ON statuses (platform, post_id, at);
CREATE TABLE captures (
    metadata_record_id TEXT PRIMARY KEY, -- every post metadata record applied, whatever its outcome
    platform TEXT NOT NULL,
    post_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    outcome TEXT NOT NULL,
    captured_at TEXT NOT NULL,
    harvest_id TEXT NOT NULL,
    collection TEXT NOT NULL,
    pinned INTEGER NOT NULL
);
CREATE INDEX captures_by_post ON captures (platform, post_id, captured_at);
CREATE TABLE runs (
    run_id TEXT PRIMARY KEY,             -- the harvest id written into the WARC records
    account TEXT NOT NULL,               -- platform:id
    kind TEXT NOT NULL CHECK (kind IN ('harvest', 'full', 'recheck')),
    started_at TEXT NOT NULL,
    ended_at TEXT,
    outcome TEXT CHECK (outcome IS NULL OR outcome IN ('ok', 'partial', 'failed', 'stopped')),
    reason TEXT NOT NULL DEFAULT '',
    advice TEXT NOT NULL DEFAULT '',
    posts_new INTEGER NOT NULL DEFAULT 0,
    posts_edited INTEGER NOT NULL DEFAULT 0,
    posts_unchanged INTEGER NOT NULL DEFAULT 0,
    posts_deleted INTEGER NOT NULL DEFAULT 0,
    bytes_written INTEGER NOT NULL DEFAULT 0,
    requests INTEGER NOT NULL DEFAULT 0,
    errors INTEGER NOT NULL DEFAULT 0,
    reported_total INTEGER,              -- what the platform says the account holds
    captured_total INTEGER               -- posts of the account in the catalog after the run
);
CREATE INDEX runs_by_account ON runs (account, started_at);
CREATE TRIGGER runs_never_deleted BEFORE DELETE ON runs
BEGIN SELECT RAISE(ABORT, 'the run history is never deleted'); END;
CREATE TABLE pauses (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    scope TEXT NOT NULL,                 -- platform:weibo | login:<credentials ref> | weibo:<id>
    reason TEXT NOT NULL,
    advice TEXT NOT NULL DEFAULT '',
    since TEXT NOT NULL,
    until TEXT,                          -- NULL: until cleared by hand
    cleared_at TEXT,
    run_id TEXT                          -- the harvest that ran into it, if any
);
CREATE INDEX pauses_by_scope ON pauses (scope, cleared_at);
CREATE TRIGGER pauses_never_deleted BEFORE DELETE ON pauses
BEGIN SELECT RAISE(ABORT, 'pauses are never deleted; clear them'); END;
CREATE TABLE catalog_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    subject TEXT NOT NULL,               -- a run id or a pause scope
    action TEXT NOT NULL,
    details TEXT NOT NULL                -- JSON
);
CREATE INDEX catalog_events_by_subject ON catalog_events (subject, seq);
CREATE TRIGGER catalog_events_append_only_update BEFORE UPDATE ON catalog_events
BEGIN SELECT RAISE(ABORT, 'catalog_events is append-only'); END;
CREATE TRIGGER catalog_events_append_only_delete BEFORE DELETE ON catalog_events
BEGIN SELECT RAISE(ABORT, 'catalog_events is append-only'); END;
-- history 2: account identities; history 3: backfills
CREATE TABLE account_identities (
    platform TEXT NOT NULL,
    account_id TEXT NOT NULL,            -- the id its posts are stored under (WeChat: the __biz)
    kind TEXT NOT NULL CHECK (kind IN ('user_name', 'name')),
    value TEXT NOT NULL,                 -- user_name: WeChat's gh_ id; name: the name shown
    first_seen TEXT NOT NULL,            -- UTC, ISO 8601: the capture that showed it first
    harvest_id TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (platform, kind, value, account_id)
);
CREATE INDEX account_identities_by_account ON account_identities (platform, account_id);
CREATE TRIGGER account_identities_append_only_update BEFORE UPDATE ON account_identities
BEGIN SELECT RAISE(ABORT, 'account_identities is append-only'); END;
CREATE TRIGGER account_identities_append_only_delete BEFORE DELETE ON account_identities
BEGIN SELECT RAISE(ABORT, 'account_identities is append-only'); END;
CREATE TABLE backfills (
    account TEXT PRIMARY KEY,            -- platform:id
    origin_run_id TEXT NOT NULL,         -- the run that began it from the top of the listing
    started_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    finished_at TEXT,                    -- NULL: it goes on at the account's next harvest
    cursor TEXT,                         -- JSON: where the listing continues (no login in it)
    pages INTEGER NOT NULL DEFAULT 0,    -- listing pages it has walked, over all its runs
    runs INTEGER NOT NULL DEFAULT 0,
    last_run_id TEXT
);
CREATE TRIGGER backfills_never_deleted BEFORE DELETE ON backfills
BEGIN SELECT RAISE(ABORT, 'backfill progress is never deleted; restart it with --full'); END;
