-- Same schema as migrations/sqlite/0007; see migrations/README.md for the type mapping.
-- Cross-border referrals: one row per referral on this node, sent (`out`) or received (`in`),
-- its signed history, and the notifications it raises. Victim data lives only in the sealed
-- columns (`payload`, `override_reason`, `referral_events.note`), each sealed with
-- the node data key and bound to its row and field, like the case registry.

CREATE TABLE referrals (
    id               uuid PRIMARY KEY,   -- chosen by the origin, the same on both nodes
    direction        text NOT NULL CHECK (direction IN ('out', 'in')),
    peer             text NOT NULL,               -- the other member: destination (out) or origin (in)
    org_id           uuid REFERENCES orgs (id),   -- out: sending org; in: routed org (NULL: national queue)
    case_id          uuid REFERENCES cases (id),  -- out: the case referred; in: the linked case once accepted
    consent_id       uuid REFERENCES consents (id), -- out: the REFERRAL consent (NULL: override)
    sender_org       text NOT NULL,               -- code of the sending organisation
    sender_org_name  text NOT NULL,
    sender_reference text NOT NULL,               -- the sender's case number (pseudonymous)
    dest_org         text,                        -- code of the named receiving organisation
    dest_service     text,                        -- id of the named directory service
    reason           text NOT NULL,
    urgency          text NOT NULL,
    needs            text NOT NULL,               -- JSON array of service types
    field_groups     text NOT NULL,               -- JSON array of the groups sent
    state            text NOT NULL,
    recall_state     text,                        -- out: 'pending' until the destination acknowledges
    recall_reason    text,
    expires_on       date,                        -- the consent's expiry: an unanswered offer expires then
    payload          text,                        -- sealed OfferBody; erased on recall, decline and expiry (in)
    override_reason  text,                        -- sealed; set when sent without a valid consent
    key_id           text NOT NULL,
    created_by       uuid REFERENCES users (id),
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    version          integer NOT NULL
);
CREATE INDEX referrals_list ON referrals (direction, state, created_at);
CREATE INDEX referrals_org ON referrals (org_id);
CREATE INDEX referrals_consent ON referrals (consent_id);

-- Every step of a referral, on the side that saw it; `message_id` names the signed envelope
-- (sent: fed_outbox.id; received: fed_inbox.id).
CREATE TABLE referral_events (
    id           uuid PRIMARY KEY,
    referral_id  uuid NOT NULL REFERENCES referrals (id),
    at           timestamptz NOT NULL,
    kind         text NOT NULL,
    message_id   uuid,
    actor_id     uuid REFERENCES users (id),
    detail       text NOT NULL,                   -- JSON of codes only
    note         text,                            -- sealed free text
    key_id       text NOT NULL
);
CREATE INDEX referral_events_referral ON referral_events (referral_id, at);

-- Notices in the web UI (a count in the header, a list): one row per recipient.
CREATE TABLE notifications (
    id           uuid PRIMARY KEY,
    user_id      uuid NOT NULL REFERENCES users (id),
    kind         text NOT NULL,
    referral_id  uuid REFERENCES referrals (id),
    created_at   timestamptz NOT NULL,
    read_at      timestamptz
);
CREATE INDEX notifications_user ON notifications (user_id, read_at, created_at);

-- Fix of 0003 (PostgreSQL only): `consents.withdrawn_at` was created as `TEXT`, not
-- `timestamptz`, so a withdrawn consent could be written but not read back (sqlx refuses to
-- decode text as a timestamp): the case page, the referral form and every referral of a person
-- with a withdrawn consent failed. On SQLite the column is already the usual `TEXT`.
ALTER TABLE consents ALTER COLUMN withdrawn_at TYPE timestamptz USING withdrawn_at::timestamptz;
