-- Organisations, users, sessions, API tokens and the hash-chained audit trail.
-- Types: see migrations/README.md for the mapping to PostgreSQL.

CREATE TABLE orgs (
    id          BLOB PRIMARY KEY NOT NULL,
    code        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    org_type    TEXT NOT NULL,
    active      INTEGER NOT NULL DEFAULT 1,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

CREATE TABLE users (
    id                    BLOB PRIMARY KEY NOT NULL,
    username              TEXT NOT NULL UNIQUE,
    display_name          TEXT NOT NULL,
    org_id                BLOB REFERENCES orgs (id),
    role                  TEXT NOT NULL,
    password_hash         TEXT NOT NULL,
    must_change_password  INTEGER NOT NULL,
    totp_secret           TEXT,          -- sealed with the node data key
    disabled              INTEGER NOT NULL DEFAULT 0,
    failed_logins         INTEGER NOT NULL DEFAULT 0,
    locked_until          TEXT,
    language              TEXT,
    created_at            TEXT NOT NULL,
    updated_at            TEXT NOT NULL,
    last_login_at         TEXT
);
CREATE INDEX users_org ON users (org_id);

CREATE TABLE recovery_codes (
    user_id    BLOB NOT NULL REFERENCES users (id),
    code_hash  TEXT NOT NULL,
    used_at    TEXT,
    PRIMARY KEY (user_id, code_hash)
);

CREATE TABLE sessions (
    id_hash       TEXT PRIMARY KEY NOT NULL,  -- SHA-256 of the cookie value
    user_id       BLOB NOT NULL REFERENCES users (id),
    stage         TEXT NOT NULL,
    csrf_token    TEXT NOT NULL,
    pending_totp  TEXT,                       -- sealed; only while enrolling
    created_at    TEXT NOT NULL,
    last_seen_at  TEXT NOT NULL,
    expires_at    TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE api_tokens (
    id            BLOB PRIMARY KEY NOT NULL,
    user_id       BLOB NOT NULL REFERENCES users (id),
    name          TEXT NOT NULL,
    prefix        TEXT NOT NULL,
    token_hash    TEXT NOT NULL UNIQUE,       -- SHA-256 of the token
    created_at    TEXT NOT NULL,
    expires_at    TEXT NOT NULL,
    last_used_at  TEXT,
    revoked_at    TEXT
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

CREATE TABLE audit_log (
    seq          INTEGER PRIMARY KEY NOT NULL,
    id           BLOB NOT NULL UNIQUE,
    at           TEXT NOT NULL,
    actor_id     BLOB,
    actor        TEXT NOT NULL,
    org_id       BLOB,
    action       TEXT NOT NULL,
    target_kind  TEXT,
    target_id    TEXT,
    outcome      TEXT NOT NULL,
    ip           TEXT,
    request_id   TEXT,
    detail       TEXT NOT NULL,
    prev_hash    TEXT NOT NULL,
    hash         TEXT NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_action ON audit_log (action);

-- Append-only at the database too (the hash chain detects what gets past this).
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;

CREATE TABLE audit_checkpoints (
    seq         INTEGER PRIMARY KEY NOT NULL,  -- the audit_log entry it seals
    at          TEXT NOT NULL,
    head_hash   TEXT NOT NULL,
    key_id      TEXT NOT NULL,
    public_key  TEXT NOT NULL,
    signature   TEXT NOT NULL
);
