-- The case registry: persons, cases, consent with history, assistance services, legal
-- proceedings, the append-only timeline, and form drafts. Identifying fields are sealed by the
-- node (AEAD under the data key, bound to table, row and field); `key_id` names the key.

CREATE TABLE persons (
    id          BLOB PRIMARY KEY NOT NULL,
    org_id      BLOB NOT NULL REFERENCES orgs (id),
    identity    TEXT NOT NULL,               -- sealed JSON (names, documents, contacts, address, birth date)
    profile     TEXT NOT NULL,               -- JSON of the coded, non-identifying facts
    key_id      TEXT NOT NULL,
    created_by  BLOB REFERENCES users (id),
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX persons_org ON persons (org_id);

-- Blind index: keyed HMACs of normalised name tokens and document numbers.
CREATE TABLE person_index (
    person_id  BLOB NOT NULL REFERENCES persons (id),
    kind       TEXT NOT NULL,
    token      TEXT NOT NULL,
    PRIMARY KEY (person_id, kind, token)
);
CREATE INDEX person_index_token ON person_index (token);

CREATE TABLE cases (
    id                  BLOB PRIMARY KEY NOT NULL,
    person_id           BLOB NOT NULL REFERENCES persons (id),
    org_id              BLOB NOT NULL REFERENCES orgs (id),
    number              TEXT NOT NULL UNIQUE,
    year                INTEGER NOT NULL,
    seq                 INTEGER NOT NULL,
    caseworker_id       BLOB REFERENCES users (id),
    status              TEXT NOT NULL,
    intake_channel      TEXT NOT NULL,
    registration_date   TEXT NOT NULL,
    trafficking_status  TEXT,
    exploitation        TEXT NOT NULL,       -- ",CODE,CODE," for filtering
    record              TEXT NOT NULL,       -- JSON of the case record without the narrative
    narrative           TEXT,                -- sealed
    key_id              TEXT NOT NULL,
    version             INTEGER NOT NULL,
    created_by          BLOB REFERENCES users (id),
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    closed_at           TEXT,
    UNIQUE (org_id, year, seq)
);
CREATE INDEX cases_org_status ON cases (org_id, status);
CREATE INDEX cases_person ON cases (person_id);
CREATE INDEX cases_registration ON cases (org_id, registration_date);

CREATE TABLE consents (
    id                   BLOB PRIMARY KEY NOT NULL,
    person_id            BLOB NOT NULL REFERENCES persons (id),
    case_id              BLOB REFERENCES cases (id),
    scope                TEXT NOT NULL,
    destination_country  TEXT,
    given_on             TEXT NOT NULL,
    expires_on           TEXT,
    record               TEXT NOT NULL,      -- JSON of the consent without the guardian's name
    guardian_name        TEXT,               -- sealed
    key_id               TEXT NOT NULL,
    recorded_by          BLOB REFERENCES users (id),
    recorded_at          TEXT NOT NULL,
    withdrawn_on         TEXT,
    withdrawn_by         BLOB REFERENCES users (id),
    withdrawn_at         TEXT
);
CREATE INDEX consents_person ON consents (person_id);

CREATE TABLE services (
    id          BLOB PRIMARY KEY NOT NULL,
    case_id     BLOB NOT NULL REFERENCES cases (id),
    record      TEXT NOT NULL,               -- JSON: type, provider, dates, status
    notes       TEXT,                        -- sealed
    key_id      TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX services_case ON services (case_id);

CREATE TABLE proceedings (
    id          BLOB PRIMARY KEY NOT NULL,
    case_id     BLOB NOT NULL REFERENCES cases (id),
    record      TEXT NOT NULL,               -- JSON: stage, dates, authority, verdict, measures
    notes       TEXT,                        -- sealed
    key_id      TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX proceedings_case ON proceedings (case_id);

CREATE TABLE timeline (
    id         BLOB PRIMARY KEY NOT NULL,
    case_id    BLOB NOT NULL REFERENCES cases (id),
    at         TEXT NOT NULL,
    author_id  BLOB REFERENCES users (id),
    kind       TEXT NOT NULL,                -- note, or an event code such as case.closed
    body       TEXT,                         -- sealed
    key_id     TEXT NOT NULL
);
CREATE INDEX timeline_case ON timeline (case_id, at);
CREATE TRIGGER timeline_no_update BEFORE UPDATE ON timeline
BEGIN SELECT RAISE(ABORT, 'timeline is append-only'); END;
CREATE TRIGGER timeline_no_delete BEFORE DELETE ON timeline
BEGIN SELECT RAISE(ABORT, 'timeline is append-only'); END;

-- A half-filled form, kept so that a slow or broken connection loses nothing.
CREATE TABLE drafts (
    id          BLOB PRIMARY KEY NOT NULL,
    user_id     BLOB NOT NULL REFERENCES users (id),
    kind        TEXT NOT NULL,
    form        TEXT NOT NULL,               -- sealed JSON of the form's fields
    key_id      TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    UNIQUE (user_id, kind)
);
