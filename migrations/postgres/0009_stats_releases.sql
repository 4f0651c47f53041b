-- Same schema as migrations/sqlite/0009; see migrations/README.md for the type mapping.
-- Statistics releases (PRIVACY.md "Aggregate releases", rule 7 and 10): one row per version
-- of one closed period, from the draft an administrator reviews to the published, signed and
-- chained release the hubs receive. Nothing victim-level: protected tables only.
--
-- `body` holds, for a draft or a discarded draft, the protected tables, the method and the
-- withheld tables exactly as computed (a draft is never recomputed: publishing signs what was
-- previewed); for a published release, the canonical `ReleaseBody` whose hash is `hash`.
-- (period, version) is unique among the rows that are not discarded (a discarded draft frees
-- its version); at most one draft per period. `chain_seq` orders the published releases: the
-- chain (`prev`) follows it.

CREATE TABLE stats_releases (
    id            uuid PRIMARY KEY,
    period        text NOT NULL,
    version       integer NOT NULL CHECK (version >= 1),
    state         text NOT NULL CHECK (state IN ('draft', 'published', 'discarded')),
    body          text NOT NULL,
    hash          text,
    prev          text,
    chain_seq     bigint,
    prepared_at   timestamptz NOT NULL,
    prepared_by   uuid REFERENCES users (id),  -- NULL: the scheduled job or the CLI
    published_at  timestamptz,
    published_by  uuid REFERENCES users (id),
    review        text CHECK (review IN ('reviewed', 'auto')),
    discarded_at  timestamptz,
    discarded_by  uuid REFERENCES users (id),
    epsilon_milli integer,                     -- ε of the whole release (DP mode), thousandths
    outbox_ids    text                         -- JSON array of the fed_outbox ids that carry it
);
CREATE UNIQUE INDEX stats_releases_version ON stats_releases (period, version)
    WHERE state <> 'discarded';
CREATE UNIQUE INDEX stats_releases_one_draft ON stats_releases (period) WHERE state = 'draft';
CREATE UNIQUE INDEX stats_releases_chain ON stats_releases (chain_seq);

-- The persistent ε ledger (rule 9): what each prepared release spent, by calendar year.
CREATE TABLE stats_epsilon (
    id            uuid PRIMARY KEY,
    period        text NOT NULL,
    release_id    uuid NOT NULL REFERENCES stats_releases (id),
    year          integer NOT NULL,
    epsilon_milli integer NOT NULL CHECK (epsilon_milli >= 0),
    recorded_at   timestamptz NOT NULL
);
CREATE INDEX stats_epsilon_year ON stats_epsilon (year);
