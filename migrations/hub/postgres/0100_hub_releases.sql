-- The regional hub's only data: the statistics releases the member countries published
-- (docs/protocol.md 8.6). Aggregates that passed the hub's checks, nothing about a person.
-- Every version is kept; the dashboard shows the latest of each (country, period).
-- `seq` numbers one country's releases in publication (and so arrival) order: the chain
-- check compares a release's `prev` with the hash of the country's highest `seq`.
CREATE TABLE hub_releases (
    id             uuid PRIMARY KEY,
    country        text NOT NULL,
    period         text NOT NULL,
    period_kind    text NOT NULL CHECK (period_kind IN ('month', 'quarter', 'year')),
    version        integer NOT NULL CHECK (version >= 1),
    seq            bigint NOT NULL CHECK (seq >= 1),
    body           text NOT NULL,
    hash           text NOT NULL,
    prev           text NOT NULL,
    envelope_hash  text NOT NULL,
    message_id     uuid NOT NULL,
    received_at    timestamptz NOT NULL,
    published_at   timestamptz NOT NULL,
    review         text NOT NULL CHECK (review IN ('reviewed', 'auto')),
    k              integer NOT NULL,
    rounding_base  integer,
    epsilon_milli  bigint,
    UNIQUE (country, period, version),
    UNIQUE (country, seq),
    UNIQUE (message_id)
);
CREATE INDEX hub_releases_period ON hub_releases (period, country);
