-- Organisations, users, sessions, API tokens and the hash-chained audit trail.
-- Same schema as migrations/sqlite/0001; see migrations/README.md for the type mapping.

CREATE TABLE orgs (
    id          uuid PRIMARY KEY,
    code        text NOT NULL UNIQUE,
    name        text NOT NULL,
    org_type    text NOT NULL,
    active      boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);

CREATE TABLE users (
    id                    uuid PRIMARY KEY,
    username              text NOT NULL UNIQUE,
    display_name          text NOT NULL,
    org_id                uuid REFERENCES orgs (id),
    role                  text NOT NULL,
    password_hash         text NOT NULL,
    must_change_password  boolean NOT NULL,
    totp_secret           text,
    disabled              boolean NOT NULL DEFAULT false,
    failed_logins         integer NOT NULL DEFAULT 0,
    locked_until          timestamptz,
    language              text,
    created_at            timestamptz NOT NULL,
    updated_at            timestamptz NOT NULL,
    last_login_at         timestamptz
);
CREATE INDEX users_org ON users (org_id);

CREATE TABLE recovery_codes (
    user_id    uuid NOT NULL REFERENCES users (id),
    code_hash  text NOT NULL,
    used_at    timestamptz,
    PRIMARY KEY (user_id, code_hash)
);

CREATE TABLE sessions (
    id_hash       text PRIMARY KEY,
    user_id       uuid NOT NULL REFERENCES users (id),
    stage         text NOT NULL,
    csrf_token    text NOT NULL,
    pending_totp  text,
    created_at    timestamptz NOT NULL,
    last_seen_at  timestamptz NOT NULL,
    expires_at    timestamptz NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE api_tokens (
    id            uuid PRIMARY KEY,
    user_id       uuid NOT NULL REFERENCES users (id),
    name          text NOT NULL,
    prefix        text NOT NULL,
    token_hash    text NOT NULL UNIQUE,
    created_at    timestamptz NOT NULL,
    expires_at    timestamptz NOT NULL,
    last_used_at  timestamptz,
    revoked_at    timestamptz
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

CREATE TABLE audit_log (
    seq          bigint PRIMARY KEY,
    id           uuid NOT NULL UNIQUE,
    at           timestamptz NOT NULL,
    actor_id     uuid,
    actor        text NOT NULL,
    org_id       uuid,
    action       text NOT NULL,
    target_kind  text,
    target_id    text,
    outcome      text NOT NULL,
    ip           text,
    request_id   text,
    detail       text NOT NULL,
    prev_hash    text NOT NULL,
    hash         text NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_action ON audit_log (action);

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

CREATE TABLE audit_checkpoints (
    seq         bigint PRIMARY KEY,
    at          timestamptz NOT NULL,
    head_hash   text NOT NULL,
    key_id      text NOT NULL,
    public_key  text NOT NULL,
    signature   text NOT NULL
);
