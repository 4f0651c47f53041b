-- The regional hub's only data: the statistics releases the member countries published
-- (docs/protocol.md 8.6). Aggregates that passed the hub's checks, nothing about a person.
-- Every version is kept; the dashboard shows the latest of each (country, period).
-- `seq` numbers one country's releases in publication (and so arrival) order: the chain
-- check compares a release's `prev` with the hash of the country's highest `seq`.
CREATE TABLE hub_releases (
    id             BLOB PRIMARY KEY NOT NULL,
    country        TEXT NOT NULL,
    period         TEXT NOT NULL,             -- 2025, 2025-Q2 or 2025-07
    period_kind    TEXT NOT NULL CHECK (period_kind IN ('month', 'quarter', 'year')),
    version        INTEGER NOT NULL CHECK (version >= 1),
    seq            INTEGER NOT NULL CHECK (seq >= 1),
    body           TEXT NOT NULL,             -- the ReleaseBody, JSON as received
    hash           TEXT NOT NULL,             -- SHA-256 of the body's canonical JSON
    prev           TEXT NOT NULL,
    envelope_hash  TEXT NOT NULL,
    message_id     BLOB NOT NULL,             -- the envelope's id (fed_inbox.id)
    received_at    TEXT NOT NULL,
    published_at   TEXT NOT NULL,
    review         TEXT NOT NULL CHECK (review IN ('reviewed', 'auto')),
    k              INTEGER NOT NULL,
    rounding_base  INTEGER,
    epsilon_milli  INTEGER,                   -- NULL without differential privacy
    UNIQUE (country, period, version),
    UNIQUE (country, seq),
    UNIQUE (message_id)
);
CREATE INDEX hub_releases_period ON hub_releases (period, country);
