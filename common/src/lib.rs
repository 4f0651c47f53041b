//! # puente-common
//!
//! The vocabulary every part of Puente shares, with no I/O and no async:
//!
//! - [`country`]: ISO 3166-1 alpha-3 country codes, parsed once into [`CountryCode`].
//! - [`org`]: organisation types of the data standard ([`OrgType`]).
//!
//! Later capabilities add the case record, consent scopes and the federation wire types here.
//! Nothing in this crate may depend on `puente-federation` or `puente-node`.

pub mod country;
pub mod org;

pub use country::CountryCode;
pub use org::OrgType;
