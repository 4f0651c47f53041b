# Federation: /federation and /federation/evidence pages for the national administration.

nav-federation = Federation
action-view_federation = See the federation's state and its evidence log
action-manage_federation = Approve and block federation members, keys and agreements

## Main page
fed-title = Federation
fed-lead = This node ({ $me }) is a member of the federation “{ $federation }”. This page shows the signed manifest it holds, the other members and what this node decided about them, and the state of deliveries.
fed-evidence-link = See the federation's evidence log
fed-back = Back to the federation
fed-warning = Warning:
fed-errors-heading = Nothing was changed
fed-error-not-joined = This node has not joined a federation yet: there are no members or agreements to approve.
fed-this-node = this node
fed-never = Never
fed-no = No
fed-no-end = No end
fed-next-now = Now

## Not joined
fed-not-joined-lead = This node ({ $me }) is not a member of any federation yet: it neither sends nor receives messages from other countries.
fed-join-heading = How to join a federation
fed-join-intro = Joining takes a few steps on the server's command line, with this node's configuration file (--config option or PUENTE_CONFIG variable). No step sends any case data.
fed-join-configure = Configure this node's federation: the [federation] section of puente.toml sets the listen address, the public address (endpoint) and the federation's own TLS certificate. A new node gets it from puente init:
fed-join-configured = This node's [federation] section is configured; its endpoint is { $endpoint }.
fed-join-member-info = Get this node's member entry and hand it to the federation's governance. It holds the endpoint, the TLS certificate pin and the public signing keys; no secret.
fed-join-governance = The federation's governance adds the entry to the manifest and signs it until it has the required number of signatures:
fed-join-join = Receive anchor.json and manifest.json. Ask for the anchor fingerprint through another channel (in person or by phone), compare it and join:
fed-join-fingerprint-hint = The node refuses to join when the fingerprint given does not match the anchor's.
fed-join-approve = Approve, on this page or on the command line, the members and agreements this node will exchange messages with (if the server was started before the federation was configured, restart it):
fed-join-config-hint = Until you approve a member, this node sends it nothing and accepts nothing from it.

## Warnings
fed-freshness-grace-warning = The manifest expired on { $expires }. It keeps working during the grace period, until { $until }. Ask the federation's governance for a new version.
fed-freshness-expired-warning = The manifest expired on { $expires } and its grace period ended on { $until }. Outgoing referrals wait (queued) until a new manifest arrives; the directory and control messages keep flowing.
fed-expires-soon = The manifest expires soon, on { $expires }. Ask the federation's governance for a new version.
fed-not-configured = The [federation] section is not configured in puente.toml: this node neither sends nor receives federation messages.
fed-not-in-effect = This server still applies decisions or a manifest older than those recorded (for instance, changes made on the command line a moment ago). They take effect by themselves within seconds.
fed-pending-approvals = { $peers } active member(s) and { $agreements } agreement(s) including this node are not approved yet. This node exchanges no messages with them until they are.

## Manifest
fed-manifest-heading = Manifest
fed-manifest-federation = Federation
fed-manifest-version = Version
fed-manifest-state = Validity
fed-manifest-issued = Issued
fed-manifest-expires = Expires
fed-manifest-grace = Grace period
fed-manifest-grace-value = { $days } days, until { $until }
fed-manifest-governance = Governance
fed-manifest-threshold = { $threshold } signatures of { $keys } keys
fed-manifest-signatures = Signatures
fed-manifest-anchor = Trust anchor fingerprint
fed-manifest-installed = Installed
fed-manifest-installed-value = { $at } (source: { $source })
fed-node-endpoint = This node's endpoint
fed-node-listen = listening on { $listen }
fed-node-not-configured = Not configured
fed-freshness-fresh = Valid
fed-freshness-grace = Expired, in grace period
fed-freshness-expired = Expired

## Members and keys
fed-members-heading = Members
fed-members-hint = The members the manifest lists. This node only exchanges messages with those it approved and did not block. A block applies at once, whatever the manifest says.
fed-col-member = Member
fed-col-role = Role
fed-col-status = Status
fed-col-endpoint = Endpoint
fed-col-approved = Approved here
fed-col-blocked = Blocked here
fed-col-last-contact = Last contact
fed-col-actions = Actions
fed-role-node = National node
fed-role-hub = Regional node (hub)
fed-member-status-active = Active
fed-member-status-suspended = Suspended
fed-member-status-revoked = Revoked
fed-approved = Approved
fed-approved-by = by { $by }, { $at }
fed-not-approved = Not approved
fed-blocked = Blocked
fed-blocked-by = by { $by }, { $at }
fed-blocked-reason = Reason: { $reason }
fed-approve = Approve
fed-block = Block…
fed-block-reason = Reason for the block
fed-block-reason-hint = Required. It goes into the audit trail.
fed-block-submit = Block now
fed-unblock = Unblock
fed-keys-heading = Signing keys
fed-keys-hint = Every message carries the signature of one of its member's keys. Block a key you know to be compromised without waiting for the manifest to revoke it.
fed-keys-empty = The manifest lists no signing keys.
fed-col-key = Key
fed-col-valid-from = Valid from
fed-col-valid-until = Valid until
fed-key-valid = Valid
fed-key-revoked = Revoked in the manifest
fed-key-not-valid-now = Outside its validity period
fed-blocks-heading = This node's blocks
fed-blocks-empty = This node has blocked no member and no key.
fed-col-subject = Member or key
fed-col-kind = Kind
fed-col-reason = Reason
fed-col-blocked-by = Blocked by
fed-col-blocked-at = Date
fed-block-kind-peer = Member
fed-block-kind-key = Signing key
fed-block-any = Block another member or key
fed-block-subject-hint = The member's code (HND) or the key's (HND-2026a), even one the manifest does not list.
fed-field-subject = Member or key
fed-field-reason = Reason for the block
fed-field-kind = Kind of approval

## Agreements
fed-agreements-heading = Agreements
fed-agreements-hint = An agreement allows one kind of messages between its members. This node applies it only after it is approved here.
fed-agreements-empty = The manifest has no agreements.
fed-col-agreement = Agreement
fed-col-members = Members
fed-agreement-kind-directory = Service directory
fed-agreement-kind-referral = Case referrals
fed-agreement-kind-stats = Statistics
fed-agreement-hub = Statistics go to { $hub }.
fed-agreement-not-mine = This node does not take part.

## Deliveries
fed-delivery-heading = Deliveries per member and channel
fed-delivery-hint = What this node has waiting to send to each member. After a failure it retries with growing delays; when the member gets in touch, it retries at once.
fed-delivery-empty = No deliveries yet: they appear when this node has something to send to an approved member.
fed-col-peer = Member
fed-col-channel = Channel
fed-col-backlog = Waiting
fed-col-failures = Failures in a row
fed-col-last-error = Last error
fed-col-last-success = Last successful delivery
fed-col-next-attempt = Next attempt
fed-channel-directory = Directory
fed-channel-referral = Referrals
fed-channel-stats = Statistics
fed-channel-control = Control

## Problems
fed-problems-heading = Messages with problems
fed-problems-hint = Only ids, positions and reasons are shown, never the messages' content. A rejected message is never sent again; a refused one is retried.
fed-problems-out-heading = Sent by this node
fed-problems-out-empty = No member has rejected or refused messages from this node.
fed-problems-in-heading = Received by this node
fed-problems-in-empty = No received message was rejected or failed to be processed.
fed-col-message = Message
fed-col-to = To
fed-col-from = From
fed-col-epoch = Epoch
fed-col-seq = No. in stream
fed-col-message-kind = Message kind
fed-col-created = Created
fed-col-received = Received
fed-outbox-refused = Refused, retried
fed-outbox-status-pending = Pending
fed-outbox-status-acked = Acknowledged
fed-outbox-status-rejected = Rejected
fed-inbox-status-stored = Stored, to be processed
fed-inbox-status-rejected = Rejected
fed-inbox-status-processed = Processed
fed-inbox-status-failed = Processing failed

## Streams
fed-streams-heading = Message streams
fed-streams-hint = Each stream numbers its messages without gaps and chains each to the one before. Compared with the other member, the last numbers and hashes must match.
fed-streams-in-heading = Incoming (received from each member)
fed-streams-in-empty = No message received yet.
fed-streams-out-heading = Outgoing (sent to each member)
fed-streams-out-empty = No message sent yet.
fed-col-head-seq = Last no.
fed-col-head-hash = Hash of the last one
fed-col-last-seq = Last no. given
fed-col-consumed-seq = Acknowledged up to
fed-col-outstanding = Not acknowledged

## Reasons (protocol and delivery codes)
fed-reason-too_large = Message too large
fed-reason-malformed = Invalid format
fed-reason-wrong_destination = Addressed to another node
fed-reason-unknown_origin = The origin is not a member
fed-reason-origin_not_active = The origin is suspended or revoked
fed-reason-origin_mismatch = The origin does not match the TLS certificate
fed-reason-peer_blocked = Member blocked by the destination
fed-reason-peer_not_approved = Member not approved by the destination yet
fed-reason-kind_not_allowed = No agreement allows this kind of message
fed-reason-unknown_key = Unknown signing key
fed-reason-key_not_valid = Signing key outside its validity period
fed-reason-key_revoked = Signing key revoked
fed-reason-key_blocked = Signing key blocked by the destination
fed-reason-future_dated = Dated in the future (check the servers' clocks)
fed-reason-bad_signature = Invalid signature
fed-reason-stale_epoch = Epoch older than the current one
fed-reason-duplicate_id = Message id already received at another position
fed-reason-gap = Earlier messages of the stream are missing
fed-reason-fork = Forked stream: another message already holds that position
fed-reason-manifest_rollback = Manifest older than the one held
fed-reason-manifest_conflict = Different manifest with the same version
fed-reason-manifest_expired = Manifest expired
fed-reason-manifest_signatures = Manifest without the required signatures
fed-reason-wrong_federation = Manifest of another federation
fed-reason-unreachable = The member does not answer
fed-reason-no_endpoint = The member cannot be reached at the manifest's endpoint
fed-reason-ack_mismatch = The acknowledgement does not match what was sent
fed-reason-payload_malformed = Content in an invalid format
fed-reason-payload_invalid = Content with invalid data
fed-reason-payload_too_large = Content too large
fed-reason-own_origin = The message claims to come from this very node
fed-reason-bad_ack = Unreadable acknowledgement
fed-reason-refused = Refused
fed-reason-superseded = Replaced by a delivery in a new epoch
fed-reason-no_body = No content
fed-reason-invalid_payload = Invalid content
fed-reason-unknown_kind = Unknown message kind
fed-reason-http = The member answered with HTTP status { $status }
fed-reason-other = Other reason

## Evidence log
fed-evidence-title = Federation evidence log
fed-evidence-intro = Every message and acknowledgement this node sends or receives is recorded here with the hash of its exact bytes, chained to the previous entry and sealed once a day with this node's signature. It holds no message content.
fed-evidence-intact = Chain intact: { $entries } entries and { $seals } seals verified.
fed-evidence-broken = Log tampered with!
fed-evidence-broken-missing = Entry { $expected } is missing (found { $found }).
fed-evidence-broken-unlinked = Entry { $seq } is not chained to the one before.
fed-evidence-broken-altered = Entry { $seq } was altered: its hash does not match its content.
fed-evidence-broken-seal-mismatch = The seal of { $day } covers entry { $seq }, which does not exist or has another hash.
fed-evidence-broken-seal-signature = The seal of { $day } is not signed with a key of this node.
fed-evidence-entries-heading = Entries
fed-evidence-order-descending = Newest first; { $head } in all.
fed-evidence-order-ascending = Oldest first; { $head } in all.
fed-evidence-empty = The evidence log is empty.
fed-evidence-ack = Acknowledgement
fed-evidence-earlier = Earlier
fed-evidence-later = Later
fed-evidence-newest = Newest
fed-evidence-oldest = From the beginning
fed-col-entry = No.
fed-col-time = Date and time
fed-col-direction = What
fed-col-object-hash = Object hash
fed-direction-sent = Message sent
fed-direction-received = Message received
fed-direction-ack_sent = Acknowledgement sent
fed-direction-ack_received = Acknowledgement received
fed-direction-refused_in = Received message refused
fed-direction-refused_out = Sent message refused
fed-seals-heading = Daily seals
fed-seals-hint = Each seal signs the hash of the day's last entry; anyone with this node's public key can check it.
fed-seals-empty = No seals yet.
fed-seals-more = Showing the { $shown } most recent seals of { $total }.
fed-col-day = Day
fed-col-through-seq = Up to entry
fed-col-root = Sealed hash
fed-col-sealed-at = Sealed

## Form errors and notices
msg-field-fed_not_member = Not a member of the manifest.
msg-field-fed_not_agreement = Not an agreement of the manifest.
msg-field-fed_not_subject = Neither a member's code (HND) nor a key's (HND-2026a).
msg-field-fed_not_blocked = Not blocked.
msg-notice-federation_peer_approved = Member approved. This node exchanges messages with it as the approved agreements allow.
msg-notice-federation_agreement_approved = Agreement approved: it applies now.
msg-notice-federation_blocked = Block applied at once.
msg-notice-federation_unblocked = Block lifted.
