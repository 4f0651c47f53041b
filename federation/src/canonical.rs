//! Canonical JSON (RFC 8785, JCS), hashes, and the wire form of timestamps.
//!
//! Every signed object of the protocol is signed over its RFC 8785 canonical form: object members
//! sorted by the UTF-16 code units of their names, no insignificant whitespace, strings escaped
//! the JCS way (only `"`, `\` and control characters; `\b \t \n \f \r`, other controls as
//! lowercase `\u00xx`; everything else as UTF-8), numbers in their ECMAScript form.
//!
//! Puente payloads carry integers, strings, booleans, null, arrays and objects only. Any number
//! that is not an integer in `[-(2^53-1), 2^53-1]` makes an object malformed: such integers print
//! the same in every JSON implementation (they are exact IEEE 754 doubles), so a peer written in
//! any language reproduces our bytes.
//!
//! The serialisation itself is done by the `serde_json_canonicalizer` crate (an RFC 8785
//! implementation for serde_json, tested here against the RFC's examples); this module adds the
//! number rule and a strict parser that also refuses duplicate member names (I-JSON, RFC 7493),
//! which `serde_json::Value` would otherwise collapse silently.

use std::collections::btree_map::Entry;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Serialize;
use serde_json::{Map, Number, Value};
use sha2::{Digest, Sha256};

/// The `prev` of the first envelope of a stream, and the head hash of an empty stream:
/// 64 `0` characters.
pub const ZERO_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The largest integer allowed anywhere in a signed object: 2^53 - 1.
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// Why a JSON text or value cannot be put in canonical form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CanonicalError {
    /// A number with a fraction or exponent (`1.5`, `1e3`, `1.0`, `-0`).
    #[error("number {0} is not an integer")]
    NotAnInteger(String),
    /// An integer outside `[-(2^53-1), 2^53-1]`.
    #[error("integer {0} is outside the range +-(2^53-1)")]
    OutOfRange(String),
    /// An object names the same member twice.
    #[error("duplicate member name {0:?}")]
    DuplicateKey(String),
    /// Not JSON at all (syntax, lone surrogate, trailing data, nesting deeper than 128).
    #[error("not valid JSON: {0}")]
    Syntax(String),
    /// The serialiser failed (cannot happen for a `serde_json::Value`).
    #[error("cannot serialise: {0}")]
    Serialize(String),
}

/// RFC 8785 canonical form of `value`.
///
/// Refuses (with [`CanonicalError`]) any number that is not an integer in
/// `[-(2^53-1), 2^53-1]`; everything else canonicalises.
pub fn canonical_json(value: &Value) -> Result<Vec<u8>, CanonicalError> {
    check_numbers(value)?;
    serde_json_canonicalizer::to_vec(value).map_err(|e| CanonicalError::Serialize(e.to_string()))
}

/// Checks the number rule on every number inside `value`.
pub fn check_numbers(value: &Value) -> Result<(), CanonicalError> {
    match value {
        Value::Number(n) => check_number(n),
        Value::Array(items) => items.iter().try_for_each(check_numbers),
        Value::Object(members) => members.values().try_for_each(check_numbers),
        Value::Null | Value::Bool(_) | Value::String(_) => Ok(()),
    }
}

fn check_number(n: &Number) -> Result<(), CanonicalError> {
    if let Some(u) = n.as_u64() {
        return check_u64(u);
    }
    if let Some(i) = n.as_i64() {
        return check_i64(i);
    }
    Err(CanonicalError::NotAnInteger(n.to_string()))
}

fn check_u64(u: u64) -> Result<(), CanonicalError> {
    if u <= MAX_SAFE_INTEGER {
        Ok(())
    } else {
        Err(CanonicalError::OutOfRange(u.to_string()))
    }
}

fn check_i64(i: i64) -> Result<(), CanonicalError> {
    if i.unsigned_abs() <= MAX_SAFE_INTEGER {
        Ok(())
    } else {
        Err(CanonicalError::OutOfRange(i.to_string()))
    }
}

/// Canonical form of one of this crate's own types. They hold no maps with non-string keys and
/// serialise infallibly; numbers are checked where the objects are built or parsed.
pub(crate) fn to_canonical<T: Serialize>(value: &T) -> Vec<u8> {
    // Writing into a Vec cannot fail, and our types have only string map keys.
    serde_json_canonicalizer::to_vec(value).unwrap_or_default()
}

/// Parses one JSON text strictly: syntax as `serde_json`, plus the number rule of
/// [`canonical_json`] and no duplicate member names. Nesting is limited to 128 levels.
pub fn parse_strict(bytes: &[u8]) -> Result<Value, CanonicalError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = StrictSeed
        .deserialize(&mut de)
        .map_err(|e| strict_error(&e))?;
    de.end()
        .map_err(|e| CanonicalError::Syntax(e.to_string()))?;
    Ok(value)
}

/// Tags in error messages so that the strict parser's own refusals keep their variant.
const TAG_NOT_INTEGER: &str = "puente:not-an-integer:";
const TAG_OUT_OF_RANGE: &str = "puente:out-of-range:";
const TAG_DUPLICATE: &str = "puente:duplicate-key:";

fn strict_error(e: &serde_json::Error) -> CanonicalError {
    let msg = e.to_string();
    for (tag, make) in [
        (
            TAG_NOT_INTEGER,
            CanonicalError::NotAnInteger as fn(String) -> CanonicalError,
        ),
        (TAG_OUT_OF_RANGE, CanonicalError::OutOfRange),
        (TAG_DUPLICATE, CanonicalError::DuplicateKey),
    ] {
        if let Some(rest) = msg.strip_prefix(tag) {
            // serde_json appends " at line L column C"; keep only our detail.
            let detail = rest.rsplit_once(" at line ").map_or(rest, |(d, _)| d);
            return make(detail.to_owned());
        }
    }
    CanonicalError::Syntax(msg)
}

struct StrictSeed;

impl<'de> DeserializeSeed<'de> for StrictSeed {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(StrictVisitor)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        check_i64(v).map_err(|_| E::custom(format_args!("{TAG_OUT_OF_RANGE}{v}")))?;
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        check_u64(v).map_err(|_| E::custom(format_args!("{TAG_OUT_OF_RANGE}{v}")))?;
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Err(E::custom(format_args!("{TAG_NOT_INTEGER}{v}")))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(StrictSeed)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        // serde_json's Map is ordered by name (no `preserve_order` feature in this workspace);
        // the order is irrelevant anyway, since the canonical form sorts.
        let mut members = std::collections::BTreeMap::new();
        while let Some(name) = map.next_key::<String>()? {
            let value = map.next_value_seed(StrictSeed)?;
            match members.entry(name) {
                Entry::Occupied(e) => {
                    return Err(de::Error::custom(format_args!(
                        "{TAG_DUPLICATE}{}",
                        e.key()
                    )))
                }
                Entry::Vacant(e) => {
                    e.insert(value);
                }
            }
        }
        Ok(Value::Object(members.into_iter().collect::<Map<_, _>>()))
    }
}

/// Lowercase hex SHA-256 of `bytes` (64 characters).
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Whether `s` has the wire form of a hash: 64 lowercase hex characters.
pub fn is_hash(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Timestamps on the wire: RFC 3339 in UTC with exactly six fraction digits and `Z`,
/// `YYYY-MM-DDTHH:MM:SS.ffffffZ` (chrono format `%Y-%m-%dT%H:%M:%S%.6fZ`).
///
/// [`format`](timestamp::format) always writes that form (truncating below the microsecond).
/// [`parse`](timestamp::parse) reads any RFC 3339 timestamp whose offset is zero (`Z`,
/// `+00:00`); signed objects additionally refuse any form other than the one they re-serialise
/// to, so in practice only the exact form passes there. Use with `#[serde(with = "timestamp")]`
/// or `#[serde(with = "timestamp::option")]`.
pub mod timestamp {
    use chrono::{DateTime, SubsecRound, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    /// The wire form, e.g. `2026-11-30T16:30:00.123456Z`.
    pub fn format(t: &DateTime<Utc>) -> String {
        t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
    }

    /// `t` without its sub-microsecond part: the value a timestamp has after a round trip
    /// through the wire.
    pub fn truncate(t: DateTime<Utc>) -> DateTime<Utc> {
        t.trunc_subsecs(6)
    }

    /// Why a string is not a wire timestamp.
    #[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
    #[error("timestamp must be RFC 3339 in UTC (YYYY-MM-DDTHH:MM:SS.ffffffZ), got {0:?}")]
    pub struct InvalidTimestamp(pub String);

    /// Parses an RFC 3339 timestamp whose offset is zero.
    pub fn parse(s: &str) -> Result<DateTime<Utc>, InvalidTimestamp> {
        let t = DateTime::parse_from_rfc3339(s).map_err(|_| InvalidTimestamp(s.to_owned()))?;
        if t.offset().local_minus_utc() != 0 {
            return Err(InvalidTimestamp(s.to_owned()));
        }
        Ok(t.with_timezone(&Utc))
    }

    pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format(t))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let s = String::deserialize(d)?;
        parse(&s).map_err(serde::de::Error::custom)
    }

    /// `Option<DateTime<Utc>>`: `null` or a timestamp. The member must be present (add
    /// `#[serde(default)]` to allow it to be missing).
    pub mod option {
        use chrono::{DateTime, Utc};
        use serde::{Deserialize, Deserializer, Serializer};

        pub fn serialize<S: Serializer>(
            t: &Option<DateTime<Utc>>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            match t {
                Some(t) => s.serialize_str(&super::format(t)),
                None => s.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(
            d: D,
        ) -> Result<Option<DateTime<Utc>>, D::Error> {
            match Option::<String>::deserialize(d)? {
                Some(s) => super::parse(&s).map(Some).map_err(serde::de::Error::custom),
                None => Ok(None),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn jcs(v: &Value) -> String {
        String::from_utf8(canonical_json(v).unwrap()).unwrap()
    }

    #[test]
    fn sorts_and_compacts() {
        assert_eq!(
            jcs(&json!({"b": [1, {"d": null, "c": true}], "a": "x"})),
            r#"{"a":"x","b":[1,{"c":true,"d":null}]}"#
        );
    }

    #[test]
    fn integer_range_is_enforced() {
        let max = MAX_SAFE_INTEGER as i64;
        assert_eq!(jcs(&json!(max)), "9007199254740991");
        assert_eq!(jcs(&json!(-max)), "-9007199254740991");
        assert!(matches!(
            canonical_json(&json!(max + 1)),
            Err(CanonicalError::OutOfRange(_))
        ));
        assert!(matches!(
            canonical_json(&json!(-max - 1)),
            Err(CanonicalError::OutOfRange(_))
        ));
        assert!(matches!(
            canonical_json(&json!({"a": [1.5]})),
            Err(CanonicalError::NotAnInteger(_))
        ));
    }

    #[test]
    fn strict_parser_refuses_floats_duplicates_and_trailing_data() {
        assert_eq!(
            parse_strict(br#"{"a": [1, -2]}"#).unwrap(),
            json!({"a": [1, -2]})
        );
        for (text, want) in [
            (&br#"{"a": 1.0}"#[..], "not"),
            (br#"{"a": 1e2}"#, "not"),
            (br#"{"a": -0}"#, "not"),
            (br#"{"a": 9007199254740992}"#, "range"),
            (br#"{"a": -9007199254740992}"#, "range"),
            (br#"{"a": 1, "a": 1}"#, "dup"),
            (br#"{"x": {"a": 1, "a": 2}}"#, "dup"),
            (br#"{"a": 1} x"#, "syntax"),
            (br#"{"a": "\ud800"}"#, "syntax"),
            (br#"{"a": 1,}"#, "syntax"),
        ] {
            let got = parse_strict(text).unwrap_err();
            let ok = match want {
                "not" => matches!(got, CanonicalError::NotAnInteger(_)),
                "range" => matches!(got, CanonicalError::OutOfRange(_)),
                "dup" => got == CanonicalError::DuplicateKey("a".into()),
                _ => matches!(got, CanonicalError::Syntax(_)),
            };
            assert!(ok, "{}: {got:?}", String::from_utf8_lossy(text));
        }
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowed() {
        let deep = "[".repeat(10_000) + &"]".repeat(10_000);
        assert!(matches!(
            parse_strict(deep.as_bytes()),
            Err(CanonicalError::Syntax(_))
        ));
    }

    #[test]
    fn hashes() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(is_hash(ZERO_HASH));
        assert!(!is_hash(&"A".repeat(64)));
        assert!(!is_hash(&"0".repeat(63)));
    }

    #[test]
    fn timestamps_have_one_wire_form() {
        let t = timestamp::parse("2026-11-30T16:30:00.123456Z").unwrap();
        assert_eq!(timestamp::format(&t), "2026-11-30T16:30:00.123456Z");
        let t = timestamp::parse("2026-11-30T16:30:00+00:00").unwrap();
        assert_eq!(timestamp::format(&t), "2026-11-30T16:30:00.000000Z");
        let t = timestamp::parse("2026-11-30T16:30:00.123456789Z").unwrap();
        assert_eq!(timestamp::format(&t), "2026-11-30T16:30:00.123456Z");
        assert_eq!(
            timestamp::truncate(t),
            timestamp::parse("2026-11-30T16:30:00.123456Z").unwrap()
        );
        for bad in [
            "2026-11-30T16:30:00.123456+01:00",
            "2026-11-30",
            "yesterday",
        ] {
            assert!(timestamp::parse(bad).is_err(), "{bad}");
        }
    }
}
