-- E-mail notices: a staff member's address for notices (opt-in, set on "Mi cuenta"), and
-- which notifications were handled by the e-mail sender. The e-mail carries only the kind
-- of notice and a link to the node: never victim data.

CREATE TABLE user_emails (
    user_id      BLOB PRIMARY KEY NOT NULL REFERENCES users (id),
    email        TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);

-- NULL: not handled by the e-mail sender yet. Set when the SMTP server accepted the e-mail,
-- or, without sending, once the notice is older than 24 hours (no flood after an outage;
-- notices of users without an address end there too).
ALTER TABLE notifications ADD COLUMN emailed_at TEXT;
CREATE INDEX notifications_email ON notifications (emailed_at, created_at);
