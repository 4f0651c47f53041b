-- Same schema as migrations/sqlite/0003; see migrations/README.md for the type mapping.
-- The case registry: persons, cases, consent with history, assistance services, legal
-- proceedings, the append-only timeline, and form drafts. Identifying fields are sealed by the
-- node (AEAD under the data key, bound to table, row and field); `key_id` names the key.

CREATE TABLE persons (
    id          uuid PRIMARY KEY,
    org_id      uuid NOT NULL REFERENCES orgs (id),
    identity    text NOT NULL,               -- sealed JSON (names, documents, contacts, address, birth date)
    profile     text NOT NULL,               -- JSON of the coded, non-identifying facts
    key_id      text NOT NULL,
    created_by  uuid REFERENCES users (id),
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);
CREATE INDEX persons_org ON persons (org_id);

-- Blind index: keyed HMACs of normalised name tokens and document numbers.
CREATE TABLE person_index (
    person_id  uuid NOT NULL REFERENCES persons (id),
    kind       text NOT NULL,
    token      text NOT NULL,
    PRIMARY KEY (person_id, kind, token)
);
CREATE INDEX person_index_token ON person_index (token);

CREATE TABLE cases (
    id                  uuid PRIMARY KEY,
    person_id           uuid NOT NULL REFERENCES persons (id),
    org_id              uuid NOT NULL REFERENCES orgs (id),
    number              text NOT NULL UNIQUE,
    year                integer NOT NULL,
    seq                 integer NOT NULL,
    caseworker_id       uuid REFERENCES users (id),
    status              text NOT NULL,
    intake_channel      text NOT NULL,
    registration_date   date NOT NULL,
    trafficking_status  text,
    exploitation        text NOT NULL,       -- ",CODE,CODE," for filtering
    record              text NOT NULL,       -- JSON of the case record without the narrative
    narrative           text,                -- sealed
    key_id              text NOT NULL,
    version             integer NOT NULL,
    created_by          uuid REFERENCES users (id),
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    closed_at           timestamptz,
    UNIQUE (org_id, year, seq)
);
CREATE INDEX cases_org_status ON cases (org_id, status);
CREATE INDEX cases_person ON cases (person_id);
CREATE INDEX cases_registration ON cases (org_id, registration_date);

CREATE TABLE consents (
    id                   uuid PRIMARY KEY,
    person_id            uuid NOT NULL REFERENCES persons (id),
    case_id              uuid REFERENCES cases (id),
    scope                text NOT NULL,
    destination_country  text,
    given_on             date NOT NULL,
    expires_on           date,
    record               text NOT NULL,      -- JSON of the consent without the guardian's name
    guardian_name        text,               -- sealed
    key_id               text NOT NULL,
    recorded_by          uuid REFERENCES users (id),
    recorded_at          timestamptz NOT NULL,
    withdrawn_on         date,
    withdrawn_by         uuid REFERENCES users (id),
    withdrawn_at         TEXT
);
CREATE INDEX consents_person ON consents (person_id);

CREATE TABLE services (
    id          uuid PRIMARY KEY,
    case_id     uuid NOT NULL REFERENCES cases (id),
    record      text NOT NULL,               -- JSON: type, provider, dates, status
    notes       text,                        -- sealed
    key_id      text NOT NULL,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);
CREATE INDEX services_case ON services (case_id);

CREATE TABLE proceedings (
    id          uuid PRIMARY KEY,
    case_id     uuid NOT NULL REFERENCES cases (id),
    record      text NOT NULL,               -- JSON: stage, dates, authority, verdict, measures
    notes       text,                        -- sealed
    key_id      text NOT NULL,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);
CREATE INDEX proceedings_case ON proceedings (case_id);

CREATE TABLE timeline (
    id         uuid PRIMARY KEY,
    case_id    uuid NOT NULL REFERENCES cases (id),
    at         timestamptz NOT NULL,
    author_id  uuid REFERENCES users (id),
    kind       text NOT NULL,                -- note, or an event code such as case.closed
    body       text,                         -- sealed
    key_id     text NOT NULL
);
CREATE INDEX timeline_case ON timeline (case_id, at);
CREATE FUNCTION timeline_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'timeline is append-only';
END;
$$;
CREATE TRIGGER timeline_no_change BEFORE UPDATE OR DELETE ON timeline
    FOR EACH ROW EXECUTE FUNCTION timeline_append_only();

-- A half-filled form, kept so that a slow or broken connection loses nothing.
CREATE TABLE drafts (
    id          uuid PRIMARY KEY,
    user_id     uuid NOT NULL REFERENCES users (id),
    kind        text NOT NULL,
    form        text NOT NULL,               -- sealed JSON of the form's fields
    key_id      text NOT NULL,
    updated_at  timestamptz NOT NULL,
    UNIQUE (user_id, kind)
);
