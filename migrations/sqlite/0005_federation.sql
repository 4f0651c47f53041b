-- Federation: the node's epoch and trust anchor, the manifests it has held, outgoing streams
-- and their outbox, per-peer delivery state, incoming stream heads and the inbox, local
-- approvals and blocks, and the hash-chained evidence log with its daily seals.
-- Types: see migrations/README.md for the mapping to PostgreSQL. Codes (member ids, channels,
-- statuses) are TEXT; epochs and sequence numbers are INTEGER (bigint).

-- One row. `epoch` numbers this node's outgoing streams; a node restored from an old backup
-- starts a new one. `anchor` is the governance section (JSON) the node trusts.
CREATE TABLE fed_state (
    id                  INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    epoch               INTEGER NOT NULL CHECK (epoch >= 1),
    anchor              TEXT,
    anchor_fingerprint  TEXT
);
INSERT INTO fed_state (id, epoch) VALUES (1, 1);

-- Every signed manifest installed; the highest version is the one in force.
CREATE TABLE fed_manifests (
    version       INTEGER PRIMARY KEY NOT NULL,
    body          TEXT NOT NULL,              -- the signed manifest, canonical JSON
    installed_at  TEXT NOT NULL,
    source        TEXT NOT NULL               -- where it came from: bootstrap, cli, a member id
);

-- The head of each outgoing stream (origin = this node).
CREATE TABLE fed_streams_out (
    destination  TEXT NOT NULL,
    channel      TEXT NOT NULL,
    epoch        INTEGER NOT NULL,
    last_seq     INTEGER NOT NULL,
    last_hash    TEXT NOT NULL,              -- hash of envelope last_seq, or the zero hash
    PRIMARY KEY (destination, channel, epoch)
);

-- Signed envelopes, exactly as sent (retries resend these bytes).
CREATE TABLE fed_outbox (
    id           BLOB PRIMARY KEY NOT NULL,  -- the message id
    destination  TEXT NOT NULL,
    channel      TEXT NOT NULL,
    epoch        INTEGER NOT NULL,
    seq          INTEGER NOT NULL,
    hash         TEXT NOT NULL,
    kind         TEXT NOT NULL,
    body         TEXT NOT NULL,              -- the envelope's canonical JSON (wire bytes)
    created_at   TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('pending', 'acked', 'rejected')),
    last_result  TEXT CHECK (last_result IN ('stored', 'duplicate', 'rejected', 'refused')),
    reason       TEXT,
    acked_at     TEXT,
    UNIQUE (destination, channel, epoch, seq)
);
CREATE INDEX fed_outbox_status ON fed_outbox (status, destination, channel);

-- Delivery state per peer and channel; the lease lets one worker (of several replicas) send.
CREATE TABLE fed_delivery (
    peer             TEXT NOT NULL,
    channel          TEXT NOT NULL,
    next_attempt_at  TEXT NOT NULL,
    backoff_seconds  INTEGER NOT NULL DEFAULT 0,
    failures         INTEGER NOT NULL DEFAULT 0,
    last_error       TEXT,
    last_attempt_at  TEXT,
    last_success_at  TEXT,
    last_contact_at  TEXT,
    lease_owner      TEXT,
    lease_until      TEXT,
    PRIMARY KEY (peer, channel)
);

-- The head of each incoming stream: what this node has stored from `origin` on `channel`.
CREATE TABLE fed_streams_in (
    origin     TEXT NOT NULL,
    channel    TEXT NOT NULL,
    epoch      INTEGER NOT NULL,
    head_seq   INTEGER NOT NULL,
    head_hash  TEXT NOT NULL,
    PRIMARY KEY (origin, channel)
);

-- Envelopes received and accepted into their stream. `body` is NULL for rejected ones.
CREATE TABLE fed_inbox (
    id            BLOB PRIMARY KEY NOT NULL,  -- the message id
    origin        TEXT NOT NULL,
    channel       TEXT NOT NULL,
    epoch         INTEGER NOT NULL,
    seq           INTEGER NOT NULL,
    hash          TEXT NOT NULL,
    kind          TEXT NOT NULL,
    body          TEXT,
    received_at   TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('stored', 'rejected', 'processed', 'failed')),
    reason        TEXT,
    processed_at  TEXT,
    UNIQUE (origin, channel, epoch, seq)
);
CREATE INDEX fed_inbox_status ON fed_inbox (status, received_at);

-- Local trust decisions.
CREATE TABLE fed_approvals (
    kind         TEXT NOT NULL CHECK (kind IN ('peer', 'agreement')),
    subject      TEXT NOT NULL,             -- a member id or an agreement id
    approved_by  TEXT NOT NULL,
    approved_at  TEXT NOT NULL,
    PRIMARY KEY (kind, subject)
);

CREATE TABLE fed_blocks (
    kind        TEXT NOT NULL CHECK (kind IN ('peer', 'key')),
    subject     TEXT NOT NULL,              -- a member id or a key id
    reason      TEXT,
    blocked_by  TEXT NOT NULL,
    blocked_at  TEXT NOT NULL,
    PRIMARY KEY (kind, subject)
);

-- The evidence log: hash-chained like audit_log (see node/src/store/fed_sql.rs and
-- docs/protocol.md for the hash input).
CREATE TABLE fed_evidence (
    seq          INTEGER PRIMARY KEY NOT NULL,
    at           TEXT NOT NULL,
    direction    TEXT NOT NULL CHECK (direction IN
                     ('sent', 'received', 'ack_sent', 'ack_received', 'refused_in', 'refused_out')),
    peer         TEXT NOT NULL,
    channel      TEXT NOT NULL,
    epoch        INTEGER NOT NULL,
    stream_seq   INTEGER NOT NULL,
    message_id   BLOB,                      -- NULL for acks
    object_hash  TEXT NOT NULL,             -- SHA-256 of the exact bytes of the envelope or ack
    prev_hash    TEXT NOT NULL,
    hash         TEXT NOT NULL
);
CREATE INDEX fed_evidence_message ON fed_evidence (message_id);

CREATE TRIGGER fed_evidence_no_update BEFORE UPDATE ON fed_evidence
BEGIN SELECT RAISE(ABORT, 'fed_evidence is append-only'); END;
CREATE TRIGGER fed_evidence_no_delete BEFORE DELETE ON fed_evidence
BEGIN SELECT RAISE(ABORT, 'fed_evidence is append-only'); END;

-- Daily seals of the evidence log: a signed root (head hash through a sequence number).
CREATE TABLE fed_evidence_seals (
    day          TEXT PRIMARY KEY NOT NULL,  -- YYYY-MM-DD (UTC)
    through_seq  INTEGER NOT NULL,
    root         TEXT NOT NULL,
    key_id       TEXT NOT NULL,
    sig          TEXT NOT NULL,
    created_at   TEXT NOT NULL
);
