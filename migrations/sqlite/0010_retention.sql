-- Retention (issue 7): legal holds on cases, and the marks the retention job and the erasure
-- of a person leave.
--
-- A person is anonymised when the node's rule says their closed cases have been kept long
-- enough (`anonymised_why = 'retention'`) or when they ask for their data to be erased
-- (`'erasure'`): identity, blind-index tokens, narratives, notes and every other free text are
-- cleared; coded facts stay, so the statistics of past periods do not change. `cases.anonymised_at`
-- repeats the person's mark on each case, so that a case is known to be anonymised without
-- reading its person.
ALTER TABLE persons ADD COLUMN anonymised_at TEXT;
ALTER TABLE persons ADD COLUMN anonymised_why TEXT;
ALTER TABLE cases ADD COLUMN anonymised_at TEXT;

-- A legal hold suspends the retention rule (and refuses erasure) for a case, for example while
-- criminal proceedings may still need its file. History: a released hold is kept.
CREATE TABLE legal_holds (
    id           BLOB PRIMARY KEY NOT NULL,
    case_id      BLOB NOT NULL REFERENCES cases (id),
    reason       TEXT,                       -- sealed free text (cleared by anonymisation)
    key_id       TEXT NOT NULL,
    placed_by    BLOB REFERENCES users (id),
    placed_at    TEXT NOT NULL,
    released_by  BLOB REFERENCES users (id),
    released_at  TEXT
);
CREATE INDEX legal_holds_case ON legal_holds (case_id);
CREATE UNIQUE INDEX legal_holds_active ON legal_holds (case_id) WHERE released_at IS NULL;

-- The timeline stays append-only, except that anonymisation clears an entry's body: an
-- update may set `body` to NULL and change nothing else.
DROP TRIGGER timeline_no_update;
CREATE TRIGGER timeline_no_update BEFORE UPDATE ON timeline
WHEN NOT (NEW.body IS NULL AND NEW.id = OLD.id AND NEW.case_id = OLD.case_id AND NEW.at = OLD.at
          AND NEW.author_id IS OLD.author_id AND NEW.kind = OLD.kind AND NEW.key_id = OLD.key_id)
BEGIN SELECT RAISE(ABORT, 'timeline is append-only'); END;
