//! ISO 3166-1 alpha-3 country codes.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A syntactically valid ISO 3166-1 alpha-3 code (three ASCII capitals), or the regional hub's
/// id `REG`. Once a value is a `CountryCode` nobody checks it again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CountryCode([u8; 3]);

/// Why a string is not a country code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("country code must be three capital letters (ISO 3166-1 alpha-3), got {0:?}")]
pub struct InvalidCountryCode(pub String);

impl CountryCode {
    /// The code as text, e.g. `GTM`.
    pub fn as_str(&self) -> &str {
        // Only ASCII capitals are ever stored (see `FromStr`), so this cannot fail.
        std::str::from_utf8(&self.0).unwrap_or("???")
    }
}

impl FromStr for CountryCode {
    type Err = InvalidCountryCode;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bytes = s.as_bytes();
        match bytes {
            [a, b, c] if bytes.iter().all(u8::is_ascii_uppercase) => Ok(Self([*a, *b, *c])),
            _ => Err(InvalidCountryCode(s.to_owned())),
        }
    }
}

impl TryFrom<String> for CountryCode {
    type Error = InvalidCountryCode;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<CountryCode> for String {
    fn from(c: CountryCode) -> Self {
        c.as_str().to_owned()
    }
}

impl fmt::Display for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// OpenAPI: three capital letters.
#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for CountryCode {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .description(Some(
                "ISO 3166-1 alpha-3 country code (or `REG`, the regional hub).",
            ))
            .pattern(Some("^[A-Z]{3}$"))
            .examples(["GTM"])
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for CountryCode {
    fn name() -> std::borrow::Cow<'static, str> {
        std::borrow::Cow::Borrowed("CountryCode")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_three_capitals() {
        let c: CountryCode = "GTM".parse().unwrap();
        assert_eq!(c.as_str(), "GTM");
        assert_eq!(c.to_string(), "GTM");
    }

    #[test]
    fn refuses_lowercase_wrong_length_and_non_ascii() {
        for bad in ["gtm", "GT", "GTMX", "", "G1M", "ÑAN", "GT "] {
            assert!(bad.parse::<CountryCode>().is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn serde_round_trip_and_refusal() {
        let c: CountryCode = serde_json::from_str("\"HND\"").unwrap();
        assert_eq!(serde_json::to_string(&c).unwrap(), "\"HND\"");
        assert!(serde_json::from_str::<CountryCode>("\"hnd\"").is_err());
    }
}
