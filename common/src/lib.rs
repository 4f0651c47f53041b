//! # puente-common
//!
//! The vocabulary every part of Puente shares, with no I/O and no async:
//!
//! - [`country`]: ISO 3166-1 alpha-3 country codes, parsed once into [`CountryCode`].
//! - [`org`]: organisation types of the data standard ([`OrgType`]).
//! - [`case`]: the case record (person, case, trafficking process, consent) and its checks.
//! - [`directory`]: the regional service directory as nodes publish it to each other.
//! - [`referral`]: what a cross-border referral carries (the field groups a consent lets
//!   travel) and the sealed bodies of the `referral.*` messages, with the receiver's checks.
//! - [`derive`]: the coarse codes derived from the fine ones (age bands, Palermo elements,
//!   flow reach, CTDC flags, GLOTIP categories).
//! - [`stats`]: disclosure control of aggregate releases (suppression, rounding, discrete
//!   Laplace noise, the exact recoverability check) and the ε budget ledger.
//! - [`vocab`]: every coded field of the case record, countries, subdivisions, languages and
//!   industries.
//!
//! Later capabilities add the case record, consent scopes and the federation wire types here.
//! Nothing in this crate may depend on `puente-federation` or `puente-node`.

pub mod case;
pub mod country;
pub mod derive;
pub mod directory;
pub mod org;
pub mod referral;
pub mod stats;
pub mod vocab;

pub use country::CountryCode;
pub use org::OrgType;
