-- Cross-border referrals: one row per referral on this node, sent (`out`) or received (`in`),
-- its signed history, and the notifications it raises. Victim data lives only in the sealed
-- columns (`payload`, `override_reason`, `referral_events.note`), each sealed with
-- the node data key and bound to its row and field, like the case registry.

CREATE TABLE referrals (
    id               BLOB PRIMARY KEY NOT NULL,   -- chosen by the origin, the same on both nodes
    direction        TEXT NOT NULL CHECK (direction IN ('out', 'in')),
    peer             TEXT NOT NULL,               -- the other member: destination (out) or origin (in)
    org_id           BLOB REFERENCES orgs (id),   -- out: sending org; in: routed org (NULL: national queue)
    case_id          BLOB REFERENCES cases (id),  -- out: the case referred; in: the linked case once accepted
    consent_id       BLOB REFERENCES consents (id), -- out: the REFERRAL consent (NULL: override)
    sender_org       TEXT NOT NULL,               -- code of the sending organisation
    sender_org_name  TEXT NOT NULL,
    sender_reference TEXT NOT NULL,               -- the sender's case number (pseudonymous)
    dest_org         TEXT,                        -- code of the named receiving organisation
    dest_service     TEXT,                        -- id of the named directory service
    reason           TEXT NOT NULL,
    urgency          TEXT NOT NULL,
    needs            TEXT NOT NULL,               -- JSON array of service types
    field_groups     TEXT NOT NULL,               -- JSON array of the groups sent
    state            TEXT NOT NULL,
    recall_state     TEXT,                        -- out: 'pending' until the destination acknowledges
    recall_reason    TEXT,
    expires_on       TEXT,                        -- the consent's expiry: an unanswered offer expires then
    payload          TEXT,                        -- sealed OfferBody; erased on recall, decline and expiry (in)
    override_reason  TEXT,                        -- sealed; set when sent without a valid consent
    key_id           TEXT NOT NULL,
    created_by       BLOB REFERENCES users (id),
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    version          INTEGER NOT NULL
);
CREATE INDEX referrals_list ON referrals (direction, state, created_at);
CREATE INDEX referrals_org ON referrals (org_id);
CREATE INDEX referrals_consent ON referrals (consent_id);

-- Every step of a referral, on the side that saw it; `message_id` names the signed envelope
-- (sent: fed_outbox.id; received: fed_inbox.id).
CREATE TABLE referral_events (
    id           BLOB PRIMARY KEY NOT NULL,
    referral_id  BLOB NOT NULL REFERENCES referrals (id),
    at           TEXT NOT NULL,
    kind         TEXT NOT NULL,
    message_id   BLOB,
    actor_id     BLOB REFERENCES users (id),
    detail       TEXT NOT NULL,                   -- JSON of codes only
    note         TEXT,                            -- sealed free text
    key_id       TEXT NOT NULL
);
CREATE INDEX referral_events_referral ON referral_events (referral_id, at);

-- Notices in the web UI (a count in the header, a list): one row per recipient.
CREATE TABLE notifications (
    id           BLOB PRIMARY KEY NOT NULL,
    user_id      BLOB NOT NULL REFERENCES users (id),
    kind         TEXT NOT NULL,
    referral_id  BLOB REFERENCES referrals (id),
    created_at   TEXT NOT NULL,
    read_at      TEXT
);
CREATE INDEX notifications_user ON notifications (user_id, read_at, created_at);
