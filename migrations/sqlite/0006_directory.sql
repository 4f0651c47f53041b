-- The regional service directory: the services this node's organisations offer (published to
-- every peer whenever one changes), the revision counter of what was published, and the latest
-- directory received from each peer. Organisation data only; nothing here is about a victim.

CREATE TABLE dir_services (
    id            BLOB PRIMARY KEY NOT NULL,
    org_id        BLOB NOT NULL REFERENCES orgs (id),
    service_type  TEXT NOT NULL,
    populations   TEXT NOT NULL,     -- JSON array of population codes
    languages     TEXT NOT NULL,     -- JSON array of ISO 639-3 codes
    subdivisions  TEXT NOT NULL,     -- JSON array of ISO 3166-2 codes; empty: the whole country
    contact       TEXT NOT NULL,     -- contact point for referrals (office phone, e-mail, address)
    notes         TEXT NOT NULL,
    active        INTEGER NOT NULL,
    created_by    BLOB REFERENCES users (id),
    created_at    TEXT NOT NULL,
    updated_by    BLOB REFERENCES users (id),
    updated_at    TEXT NOT NULL
);
CREATE INDEX dir_services_org ON dir_services (org_id);

-- One row: the revision of the local directory, bumped in the transaction of every change
-- (its row lock orders concurrent publications), and when it was made.
CREATE TABLE dir_state (
    id          INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    revision    INTEGER NOT NULL,
    revised_at  TEXT
);
INSERT INTO dir_state (id, revision, revised_at) VALUES (1, 0, NULL);

-- The latest directory of each peer (latest revision wins), as received and checked.
CREATE TABLE dir_remote (
    origin       TEXT PRIMARY KEY NOT NULL,
    revision     INTEGER NOT NULL,
    payload      TEXT NOT NULL,      -- the directory.publish payload, JSON
    received_at  TEXT NOT NULL,
    message_id   BLOB NOT NULL,      -- the envelope it came in (fed_inbox.id)
    -- The envelope's position in the origin's stream: the latest position wins.
    stream_epoch INTEGER NOT NULL,
    stream_seq   INTEGER NOT NULL
);
