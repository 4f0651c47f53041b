//! # puente-federation
//!
//! The node-to-node protocol. So far it holds:
//!
//! - [`identity`]: a node's Ed25519 signing identity (key id + key), stored as PKCS#8 PEM, and
//!   domain-separated signatures: every kind of signed object has its own context prefix, so a
//!   signature made for one kind can never pass for another.
//!
//! - [`canonical`]: RFC 8785 canonical JSON (integers only), SHA-256 hex, the wire form of
//!   timestamps.
//! - [`envelope`]: signed envelopes, the messages between nodes; [`ack`]: the receiver's signed
//!   acks; [`reason`]: every refusal/rejection code.
//! - [`manifest`]: the signed federation manifest (members, keys, agreements, M-of-N
//!   governance) and how a node accepts a successor.
//! - [`accept`]: the receiver's acceptance checks, as pure functions.
//! - [`seal`]: HPKE-sealed payloads to a member's seal key (derived from its signing key), so
//!   that what a referral carries is readable by its destination only.
//!
//! The outbox and inbox live in the node. This crate knows no SQL and nothing of the node.

pub mod accept;
pub mod ack;
pub mod canonical;
pub mod envelope;
pub mod identity;
pub mod manifest;
pub mod reason;
pub mod seal;
pub mod transport;

pub use accept::{
    check_message, check_request, check_stream, LocalTrust, MessageVerdict, StreamHead,
    StreamVerdict,
};
pub use ack::{Ack, AckOutcome, AckResult, UnsignedAck};
pub use canonical::{canonical_json, sha256_hex, CanonicalError, ZERO_HASH};
pub use envelope::{
    Channel, Envelope, EnvelopeError, SignedEnvelope, UnsignedEnvelope, MAX_BATCH,
    MAX_ENVELOPE_BYTES,
};
pub use identity::{KeyId, SignatureContext, SigningIdentity, VerifyError};
pub use manifest::{
    Agreement, AgreementKind, Freshness, Governance, GovernanceKey, Manifest, ManifestError,
    ManifestSignature, Member, MemberKey, MemberRole, MemberStatus, SignedManifest,
};
pub use reason::Reason;
pub use seal::{SealError, SealKeyPair, Sealed};
pub use transport::{PeerClient, PeerIdentity, PinSet, TlsIdentity, TransportError};
