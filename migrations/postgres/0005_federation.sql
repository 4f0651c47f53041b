-- Same schema as migrations/sqlite/0005; see migrations/README.md for the type mapping.
-- Federation: the node's epoch and trust anchor, the manifests it has held, outgoing streams
-- and their outbox, per-peer delivery state, incoming stream heads and the inbox, local
-- approvals and blocks, and the hash-chained evidence log with its daily seals.

-- One row. `epoch` numbers this node's outgoing streams; a node restored from an old backup
-- starts a new one. `anchor` is the governance section (JSON) the node trusts.
CREATE TABLE fed_state (
    id                  integer PRIMARY KEY CHECK (id = 1),
    epoch               bigint NOT NULL CHECK (epoch >= 1),
    anchor              text,
    anchor_fingerprint  text
);
INSERT INTO fed_state (id, epoch) VALUES (1, 1);

-- Every signed manifest installed; the highest version is the one in force.
CREATE TABLE fed_manifests (
    version       bigint PRIMARY KEY,
    body          text NOT NULL,
    installed_at  timestamptz NOT NULL,
    source        text NOT NULL
);

-- The head of each outgoing stream (origin = this node).
CREATE TABLE fed_streams_out (
    destination  text NOT NULL,
    channel      text NOT NULL,
    epoch        bigint NOT NULL,
    last_seq     bigint NOT NULL,
    last_hash    text NOT NULL,
    PRIMARY KEY (destination, channel, epoch)
);

-- Signed envelopes, exactly as sent (retries resend these bytes).
CREATE TABLE fed_outbox (
    id           uuid PRIMARY KEY,
    destination  text NOT NULL,
    channel      text NOT NULL,
    epoch        bigint NOT NULL,
    seq          bigint NOT NULL,
    hash         text NOT NULL,
    kind         text NOT NULL,
    body         text NOT NULL,
    created_at   timestamptz NOT NULL,
    status       text NOT NULL CHECK (status IN ('pending', 'acked', 'rejected')),
    last_result  text CHECK (last_result IN ('stored', 'duplicate', 'rejected', 'refused')),
    reason       text,
    acked_at     timestamptz,
    UNIQUE (destination, channel, epoch, seq)
);
CREATE INDEX fed_outbox_status ON fed_outbox (status, destination, channel);

-- Delivery state per peer and channel; the lease lets one worker (of several replicas) send.
CREATE TABLE fed_delivery (
    peer             text NOT NULL,
    channel          text NOT NULL,
    next_attempt_at  timestamptz NOT NULL,
    backoff_seconds  bigint NOT NULL DEFAULT 0,
    failures         integer NOT NULL DEFAULT 0,
    last_error       text,
    last_attempt_at  timestamptz,
    last_success_at  timestamptz,
    last_contact_at  timestamptz,
    lease_owner      text,
    lease_until      timestamptz,
    PRIMARY KEY (peer, channel)
);

-- The head of each incoming stream: what this node has stored from `origin` on `channel`.
CREATE TABLE fed_streams_in (
    origin     text NOT NULL,
    channel    text NOT NULL,
    epoch      bigint NOT NULL,
    head_seq   bigint NOT NULL,
    head_hash  text NOT NULL,
    PRIMARY KEY (origin, channel)
);

-- Envelopes received and accepted into their stream. `body` is NULL for rejected ones.
CREATE TABLE fed_inbox (
    id            uuid PRIMARY KEY,
    origin        text NOT NULL,
    channel       text NOT NULL,
    epoch         bigint NOT NULL,
    seq           bigint NOT NULL,
    hash          text NOT NULL,
    kind          text NOT NULL,
    body          text,
    received_at   timestamptz NOT NULL,
    status        text NOT NULL CHECK (status IN ('stored', 'rejected', 'processed', 'failed')),
    reason        text,
    processed_at  timestamptz,
    UNIQUE (origin, channel, epoch, seq)
);
CREATE INDEX fed_inbox_status ON fed_inbox (status, received_at);

-- Local trust decisions.
CREATE TABLE fed_approvals (
    kind         text NOT NULL CHECK (kind IN ('peer', 'agreement')),
    subject      text NOT NULL,
    approved_by  text NOT NULL,
    approved_at  timestamptz NOT NULL,
    PRIMARY KEY (kind, subject)
);

CREATE TABLE fed_blocks (
    kind        text NOT NULL CHECK (kind IN ('peer', 'key')),
    subject     text NOT NULL,
    reason      text,
    blocked_by  text NOT NULL,
    blocked_at  timestamptz NOT NULL,
    PRIMARY KEY (kind, subject)
);

-- The evidence log: hash-chained like audit_log (see node/src/store/fed_sql.rs and
-- docs/protocol.md for the hash input).
CREATE TABLE fed_evidence (
    seq          bigint PRIMARY KEY,
    at           timestamptz NOT NULL,
    direction    text NOT NULL CHECK (direction IN
                     ('sent', 'received', 'ack_sent', 'ack_received', 'refused_in', 'refused_out')),
    peer         text NOT NULL,
    channel      text NOT NULL,
    epoch        bigint NOT NULL,
    stream_seq   bigint NOT NULL,
    message_id   uuid,
    object_hash  text NOT NULL,
    prev_hash    text NOT NULL,
    hash         text NOT NULL
);
CREATE INDEX fed_evidence_message ON fed_evidence (message_id);

CREATE FUNCTION fed_evidence_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'fed_evidence is append-only';
END;
$$;
CREATE TRIGGER fed_evidence_no_update BEFORE UPDATE OR DELETE ON fed_evidence
    FOR EACH ROW EXECUTE FUNCTION fed_evidence_append_only();
CREATE TRIGGER fed_evidence_no_truncate BEFORE TRUNCATE ON fed_evidence
    FOR EACH STATEMENT EXECUTE FUNCTION fed_evidence_append_only();

-- Daily seals of the evidence log: a signed root (head hash through a sequence number).
CREATE TABLE fed_evidence_seals (
    day          date PRIMARY KEY,
    through_seq  bigint NOT NULL,
    root         text NOT NULL,
    key_id       text NOT NULL,
    sig          text NOT NULL,
    created_at   timestamptz NOT NULL
);
