-- Same as migrations/sqlite/0004. The last case number given per organisation and year. Numbering by MAX(seq) over the cases
-- was a scan wherever the planner's statistics lagged (PostgreSQL within a long import); one
-- counter row, updated in the registering transaction, is constant time and also serialises
-- concurrent registrations of one organisation (its row lock).
CREATE TABLE case_counters (
    org_id    uuid NOT NULL REFERENCES orgs (id),
    year      integer NOT NULL,
    last_seq  integer NOT NULL,
    PRIMARY KEY (org_id, year)
);
INSERT INTO case_counters (org_id, year, last_seq)
    SELECT org_id, year, MAX(seq) FROM cases GROUP BY org_id, year;
