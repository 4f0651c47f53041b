-- Same schema as migrations/sqlite/0006; see migrations/README.md for the type mapping.
-- The regional service directory: the services this node's organisations offer (published to
-- every peer whenever one changes), the revision counter of what was published, and the latest
-- directory received from each peer. Organisation data only; nothing here is about a victim.

CREATE TABLE dir_services (
    id            uuid PRIMARY KEY,
    org_id        uuid NOT NULL REFERENCES orgs (id),
    service_type  text NOT NULL,
    populations   text NOT NULL,     -- JSON array of population codes
    languages     text NOT NULL,     -- JSON array of ISO 639-3 codes
    subdivisions  text NOT NULL,     -- JSON array of ISO 3166-2 codes; empty: the whole country
    contact       text NOT NULL,     -- contact point for referrals (office phone, e-mail, address)
    notes         text NOT NULL,
    active        boolean NOT NULL,
    created_by    uuid REFERENCES users (id),
    created_at    timestamptz NOT NULL,
    updated_by    uuid REFERENCES users (id),
    updated_at    timestamptz NOT NULL
);
CREATE INDEX dir_services_org ON dir_services (org_id);

-- One row: the revision of the local directory, bumped in the transaction of every change
-- (its row lock orders concurrent publications), and when it was made.
CREATE TABLE dir_state (
    id          integer PRIMARY KEY CHECK (id = 1),
    revision    bigint NOT NULL,
    revised_at  timestamptz
);
INSERT INTO dir_state (id, revision, revised_at) VALUES (1, 0, NULL);

-- The latest directory of each peer (latest revision wins), as received and checked.
CREATE TABLE dir_remote (
    origin       text PRIMARY KEY,
    revision     bigint NOT NULL,
    payload      text NOT NULL,      -- the directory.publish payload, JSON
    received_at  timestamptz NOT NULL,
    message_id   uuid NOT NULL,      -- the envelope it came in (fed_inbox.id)
    -- The envelope's position in the origin's stream: the latest position wins.
    stream_epoch bigint NOT NULL,
    stream_seq   bigint NOT NULL
);
