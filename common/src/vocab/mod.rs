//! The coded fields of the case record (DATA-STANDARD.md), each a typed enum with its stable
//! code (`UPPER_SNAKE`, what Puente stores and exchanges) and, where HTCDS 2.0 has one, its
//! HTCDS value name (what the HTCDS CSV and IOM's Excel templates carry). Labels and
//! definitions in Spanish and English live in the node's translation catalogues under
//! `code-<field>-<CODE>` and `def-<field>-<CODE>`, never here.
//!
//! Every field can also be unknown; enums that HTCDS gives an explicit unknown value carry it
//! as a variant, and for the others "unknown" is `UNKNOWN` where DATA-STANDARD.md lists it.

/// What every coded enum offers. Implemented by [`coded!`].
pub trait Coded: Sized + Copy + Eq + std::fmt::Debug + 'static {
    /// The field's key in catalogues and error messages, e.g. `gender`.
    const FIELD: &'static str;
    /// Every value, in the order forms list them.
    const ALL: &'static [Self];
    /// The stable code, e.g. `FEMININE`.
    fn code(self) -> &'static str;
    /// The HTCDS 2.0 value name, e.g. `Feminine`; `None` for Puente's extensions.
    fn htcds(self) -> Option<&'static str>;

    /// The value with this stable code.
    fn from_code(code: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|v| v.code() == code)
    }

    /// The value with this HTCDS value name (case and spaces ignored, as NGOs type them).
    fn from_htcds(name: &str) -> Option<Self> {
        let want = squash(name);
        Self::ALL
            .iter()
            .copied()
            .find(|v| v.htcds().is_some_and(|h| squash(h) == want))
    }

    /// The catalogue key of the label, e.g. `code-gender-FEMININE`.
    fn label_key(self) -> String {
        format!("code-{}-{}", Self::FIELD, self.code())
    }
}

/// Lower-case letters and digits only: `"Forced Labour "` and `forcedlabour` compare equal.
pub fn squash(s: &str) -> String {
    s.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Declares a coded enum:
///
/// ```text
/// coded! {
///     /// Doc of the enum.
///     Gender, "gender" {
///         Feminine = "FEMININE", Some("Feminine");
///         NotSpecifiedUnknown = "NOT_SPECIFIED_UNKNOWN", Some("NonSpecifiedUnknown");
///     }
/// }
/// ```
///
/// The enum gets `Coded`, `Display` (the code), `FromStr` (the code) and serde as the code.
#[macro_export]
macro_rules! coded {
    ($(#[$meta:meta])* $name:ident, $field:literal { $($variant:ident = $code:literal, $htcds:expr;)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $(#[doc = $code] $variant,)+
        }

        impl $crate::vocab::Coded for $name {
            const FIELD: &'static str = $field;
            const ALL: &'static [Self] = &[$($name::$variant,)+];
            fn code(self) -> &'static str {
                match self { $($name::$variant => $code,)+ }
            }
            fn htcds(self) -> Option<&'static str> {
                match self { $($name::$variant => $htcds,)+ }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str($crate::vocab::Coded::code(*self))
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::vocab::UnknownCode;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                <Self as $crate::vocab::Coded>::from_code(s)
                    .ok_or_else(|| $crate::vocab::UnknownCode { field: $field, value: s.to_owned() })
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str($crate::vocab::Coded::code(*self))
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }

        /// OpenAPI: a string whose `enum` is every code, in form order (from `ALL`).
        #[cfg(feature = "openapi")]
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::schema::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .description(Some(concat!("A code of `", $field, "`.")))
                    .enum_values(Some(
                        <Self as $crate::vocab::Coded>::ALL
                            .iter()
                            .map(|v| $crate::vocab::Coded::code(*v)),
                    ))
                    .into()
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::ToSchema for $name {
            fn name() -> std::borrow::Cow<'static, str> {
                std::borrow::Cow::Borrowed(stringify!($name))
            }
        }
    };
}

/// A code that is not one of the field's codes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{value:?} is not a code of {field}")]
pub struct UnknownCode {
    pub field: &'static str,
    pub value: String,
}

pub mod codes;
pub mod geo;
pub mod isic;
pub mod languages;
