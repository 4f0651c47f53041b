//! # puente-federation
//!
//! The node-to-node protocol. So far it holds:
//!
//! - [`identity`]: a node's Ed25519 signing identity (key id + key), stored as PKCS#8 PEM, and
//!   domain-separated signatures: every kind of signed object has its own context prefix, so a
//!   signature made for one kind can never pass for another.
//!
//! Envelopes, the manifest, the outbox and inbox come with the federation capability. This
//! crate knows no SQL and nothing of the node.

pub mod identity;

pub use identity::{KeyId, SignatureContext, SigningIdentity, VerifyError};
