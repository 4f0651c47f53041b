//! The regional service directory on the wire: which organisations of a node offer which
//! services, for whom, in which languages and where, with a contact point for referrals. Each
//! node publishes its [`DirectoryPayload`] to its peers (`directory.publish`, latest revision
//! wins) and shows the ones it receives.
//!
//! Only integers and strings travel (the envelope's canonical JSON refuses floats). Codes are
//! the data standard's: service types ([`ServiceType`]), populations ([`PopulationServed`]),
//! ISO 639-3 languages, ISO 3166-2 subdivisions of the publishing node's country. A directory
//! holds organisation data only, never a victim's.
//!
//! [`DirectoryPayload::check`] reports every problem at once, each as a field path and a stable
//! snake_case code, like the case records' checks. A received payload is shown only when its
//! check finds nothing: a bad one is refused whole, never shown in part. Unknown members are
//! refused too (serde), as the envelope refuses them.

use std::collections::HashSet;

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};

pub use crate::case::Issue;
use crate::vocab::codes::{PopulationServed, ServiceType};
use crate::vocab::{geo, languages, Coded};
use crate::{CountryCode, OrgType};

/// Organisations in one directory, at most.
pub const MAX_ORGS: usize = 200;
/// Services of one organisation, at most.
pub const MAX_SERVICES_PER_ORG: usize = 100;
/// Languages of one service, at most.
pub const MAX_LANGUAGES: usize = 30;
/// Subdivisions of one service, at most (Mexico has 32).
pub const MAX_SUBDIVISIONS: usize = 40;
/// Length of an organisation's name, in characters.
pub const NAME_MAX: usize = 200;
/// Length of a contact point, in characters.
pub const CONTACT_MAX: usize = 300;
/// Length of a service's notes, in characters.
pub const NOTES_MAX: usize = 1000;
/// Encoded size of a payload, at most: it must fit in one envelope (256 KiB) with room to spare.
pub const MAX_PAYLOAD_BYTES: usize = 200 * 1024;
/// The largest integer canonical JSON carries (2^53 - 1).
pub const MAX_WIRE_INTEGER: u64 = (1 << 53) - 1;

/// A node's whole directory at one revision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DirectoryPayload {
    /// Goes up by one at every change; a receiver keeps the highest it has seen.
    pub revision: u64,
    /// When this revision was made: `YYYY-MM-DDTHH:MM:SS.ffffffZ` (UTC, microseconds).
    pub published_at: String,
    pub organisations: Vec<DirOrg>,
}

/// An organisation and the services it offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DirOrg {
    /// The organisation's code on its node (2–12 capitals and digits), e.g. `ASOC1`.
    pub code: String,
    pub name: String,
    /// An organisation type code (`NGO`, `CENTRAL_GOVERNMENT`, …).
    pub org_type: String,
    pub services: Vec<DirService>,
}

/// One service of an organisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DirService {
    /// A UUID, lowercase and hyphenated; stable across revisions.
    pub id: String,
    /// A service type code (`SHELTER`, `LEGAL`, …).
    pub service_type: String,
    /// Population codes (`MINORS`, `WOMEN`, `MEN`, `LGBTI`, `INDIGENOUS`); empty means anyone.
    pub populations: Vec<String>,
    /// ISO 639-3 codes of the languages the service works in (`spa`, `quc`, …).
    pub languages: Vec<String>,
    /// ISO 3166-2 codes of the places covered, in the publishing node's country; empty means
    /// the whole country.
    pub subdivisions: Vec<String>,
    /// How to reach the service for a referral: office phone, e-mail, address. Organisation
    /// data only.
    pub contact: String,
    pub notes: String,
}

/// A timestamp as the wire writes it: `2026-11-30T16:30:00.123456Z`.
pub fn wire_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// The timestamp of a wire string, if it is exactly in the wire form.
pub fn parse_wire_time(s: &str) -> Option<DateTime<Utc>> {
    let t = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.6fZ")
        .ok()?
        .and_utc();
    (wire_time(t) == s).then_some(t)
}

/// Whether `s` is a UUID written lowercase and hyphenated.
pub fn is_wire_uuid(s: &str) -> bool {
    s.len() == 36
        && s.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_digit() || ('a'..='f').contains(&c),
        })
}

fn issue(v: &mut Vec<Issue>, field: impl Into<String>, code: &'static str) {
    v.push(Issue {
        field: field.into(),
        code,
    });
}

/// A text of at most `max` characters, without control characters (line breaks allowed
/// where `multiline`).
fn text(v: &mut Vec<Issue>, field: &str, value: &str, max: usize, required: bool, multiline: bool) {
    if required && value.trim().is_empty() {
        issue(v, field, "required");
    }
    if value.chars().count() > max {
        issue(v, field, "too_long");
    }
    if value
        .chars()
        .any(|c| c.is_control() && !(multiline && (c == '\n' || c == '\r')))
    {
        issue(v, field, "invalid");
    }
}

/// A set of codes: each must pass `known` (else `code`), none twice, at most `max`.
fn codes(
    v: &mut Vec<Issue>,
    field: &str,
    values: &[String],
    max: usize,
    known: impl Fn(&str) -> Result<(), &'static str>,
) {
    if values.len() > max {
        issue(v, field, "too_many");
    }
    let mut seen = HashSet::new();
    for (i, value) in values.iter().enumerate() {
        if let Err(code) = known(value) {
            issue(v, format!("{field}.{i}"), code);
        }
        if !seen.insert(value.as_str()) {
            issue(v, format!("{field}.{i}"), "duplicate");
        }
    }
}

/// Organisation codes: 2–12 capitals and digits (as the node makes them).
fn is_org_code(s: &str) -> bool {
    (2..=12).contains(&s.len())
        && s.chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

impl DirService {
    /// Every problem with this service of a node of `country`; fields are named relative to
    /// the service (`service_type`, `languages.2`, …).
    pub fn check(&self, country: CountryCode) -> Vec<Issue> {
        let mut v = Vec::new();
        if !is_wire_uuid(&self.id) {
            issue(&mut v, "id", "invalid");
        }
        if self.service_type.is_empty() {
            issue(&mut v, "service_type", "required");
        } else if ServiceType::from_code(&self.service_type).is_none() {
            issue(&mut v, "service_type", "unknown_code");
        }
        codes(
            &mut v,
            "populations",
            &self.populations,
            PopulationServed::ALL.len(),
            |c| {
                PopulationServed::from_code(c)
                    .map(|_| ())
                    .ok_or("unknown_code")
            },
        );
        codes(&mut v, "languages", &self.languages, MAX_LANGUAGES, |c| {
            // Exactly as ISO 639-3 writes it (lower case), so that sets compare.
            match languages::language(c) {
                Some(l) if l.code == c => Ok(()),
                _ => Err("unknown_language"),
            }
        });
        codes(
            &mut v,
            "subdivisions",
            &self.subdivisions,
            MAX_SUBDIVISIONS,
            |c| match geo::subdivision(c) {
                Some(s) if s.code != c => Err("invalid"),
                Some(s) if s.country != country.as_str() => Err("not_in_country"),
                Some(_) => Ok(()),
                None => Err("invalid"),
            },
        );
        text(&mut v, "contact", &self.contact, CONTACT_MAX, true, true);
        text(&mut v, "notes", &self.notes, NOTES_MAX, false, true);
        v
    }

    /// The service type, if the code is one.
    pub fn service_type(&self) -> Option<ServiceType> {
        ServiceType::from_code(&self.service_type)
    }
}

impl DirOrg {
    /// Every problem with this organisation of a node of `country`, services included
    /// (`services.0.contact`, …).
    pub fn check(&self, country: CountryCode) -> Vec<Issue> {
        let mut v = Vec::new();
        if !is_org_code(&self.code) {
            issue(&mut v, "code", "invalid");
        }
        text(&mut v, "name", &self.name, NAME_MAX, true, false);
        if self.org_type.parse::<OrgType>().is_err() {
            issue(&mut v, "org_type", "unknown_code");
        }
        if self.services.len() > MAX_SERVICES_PER_ORG {
            issue(&mut v, "services", "too_many");
        }
        for (i, s) in self.services.iter().enumerate() {
            for x in s.check(country) {
                issue(&mut v, format!("services.{i}.{}", x.field), x.code);
            }
        }
        v
    }
}

impl DirectoryPayload {
    /// Every problem with the directory published by `origin`. Empty means it may be shown.
    pub fn check(&self, origin: CountryCode) -> Vec<Issue> {
        let mut v = Vec::new();
        if self.revision > MAX_WIRE_INTEGER {
            issue(&mut v, "revision", "out_of_range");
        }
        if parse_wire_time(&self.published_at).is_none() {
            issue(&mut v, "published_at", "invalid");
        }
        if self.organisations.len() > MAX_ORGS {
            issue(&mut v, "organisations", "too_many");
        }
        let mut org_codes = HashSet::new();
        let mut service_ids = HashSet::new();
        for (i, o) in self.organisations.iter().enumerate() {
            if !org_codes.insert(o.code.as_str()) {
                issue(&mut v, format!("organisations.{i}.code"), "duplicate");
            }
            for x in o.check(origin) {
                issue(&mut v, format!("organisations.{i}.{}", x.field), x.code);
            }
            for (j, s) in o.services.iter().enumerate() {
                if !service_ids.insert(s.id.as_str()) {
                    issue(
                        &mut v,
                        format!("organisations.{i}.services.{j}.id"),
                        "duplicate",
                    );
                }
            }
        }
        v
    }

    /// How many services the directory lists.
    pub fn service_count(&self) -> usize {
        self.organisations.iter().map(|o| o.services.len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gtm() -> CountryCode {
        "GTM".parse().unwrap()
    }

    fn service() -> DirService {
        DirService {
            id: "01890a5d-ac96-774b-bcce-b302099a8057".into(),
            service_type: "SHELTER".into(),
            populations: vec!["MINORS".into(), "WOMEN".into()],
            languages: vec!["spa".into(), "quc".into()],
            subdivisions: vec!["GT-QZ".into()],
            contact: "Tel. +502 7765 0000, Quetzaltenango".into(),
            notes: "Albergue temporal".into(),
        }
    }

    fn payload() -> DirectoryPayload {
        DirectoryPayload {
            revision: 3,
            published_at: "2026-11-30T16:30:00.123456Z".into(),
            organisations: vec![DirOrg {
                code: "ASOC1".into(),
                name: "Asociación Refugio".into(),
                org_type: "NGO".into(),
                services: vec![service()],
            }],
        }
    }

    fn codes_of(issues: &[Issue]) -> Vec<(String, &'static str)> {
        issues.iter().map(|i| (i.field.clone(), i.code)).collect()
    }

    #[test]
    fn a_good_payload_passes_and_round_trips_through_json() {
        let p = payload();
        assert!(p.check(gtm()).is_empty(), "{:?}", p.check(gtm()));
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(serde_json::from_str::<DirectoryPayload>(&json).unwrap(), p);
        assert_eq!(p.service_count(), 1);
    }

    #[test]
    fn every_field_is_checked_and_named() {
        let mut p = payload();
        p.revision = MAX_WIRE_INTEGER + 1;
        p.published_at = "2026-11-30T16:30:00Z".into();
        let o = &mut p.organisations[0];
        o.code = "asoc 1".into();
        o.name = " ".into();
        o.org_type = "CHURCH".into();
        let s = &mut o.services[0];
        s.id = "01890A5D-AC96-774B-BCCE-B302099A8057".into();
        s.service_type = "MASSAGE".into();
        s.populations = vec!["MINORS".into(), "ELDERLY".into(), "MINORS".into()];
        s.languages = vec!["SPA".into(), "xxx".into()];
        s.subdivisions = vec!["HN-CR".into(), "GT-99".into(), "gt-qz".into()];
        s.contact = String::new();
        s.notes = "x".repeat(NOTES_MAX + 1);
        let got = codes_of(&p.check(gtm()));
        let o = "organisations.0";
        let sv = "organisations.0.services.0";
        for (field, code) in [
            ("revision".to_owned(), "out_of_range"),
            ("published_at".to_owned(), "invalid"),
            (format!("{o}.code"), "invalid"),
            (format!("{o}.name"), "required"),
            (format!("{o}.org_type"), "unknown_code"),
            (format!("{sv}.id"), "invalid"),
            (format!("{sv}.service_type"), "unknown_code"),
            (format!("{sv}.populations.1"), "unknown_code"),
            (format!("{sv}.populations.2"), "duplicate"),
            (format!("{sv}.languages.0"), "unknown_language"),
            (format!("{sv}.languages.1"), "unknown_language"),
            (format!("{sv}.subdivisions.0"), "not_in_country"),
            (format!("{sv}.subdivisions.1"), "invalid"),
            (format!("{sv}.subdivisions.2"), "invalid"),
            (format!("{sv}.contact"), "required"),
            (format!("{sv}.notes"), "too_long"),
        ] {
            assert!(
                got.contains(&(field.clone(), code)),
                "{field} {code} missing from {got:?}"
            );
        }
    }

    #[test]
    fn duplicates_across_organisations_are_refused() {
        let mut p = payload();
        let again = p.organisations[0].clone();
        p.organisations.push(again);
        let got = codes_of(&p.check(gtm()));
        assert!(got.contains(&("organisations.1.code".into(), "duplicate")));
        assert!(got.contains(&("organisations.1.services.0.id".into(), "duplicate")));
    }

    #[test]
    fn control_characters_and_floats_and_unknown_members_are_refused() {
        let mut s = service();
        s.contact = "Tel.\u{0007}".into();
        assert!(codes_of(&s.check(gtm())).contains(&("contact".into(), "invalid")));
        s.contact = "Línea 1\nLínea 2".into();
        assert!(s.check(gtm()).is_empty());
        let mut v = serde_json::to_value(payload()).unwrap();
        v["revision"] = serde_json::json!(3.5);
        assert!(serde_json::from_value::<DirectoryPayload>(v).is_err());
        let mut v = serde_json::to_value(payload()).unwrap();
        v["organisations"][0]["services"][0]["victims"] = serde_json::json!([]);
        assert!(serde_json::from_value::<DirectoryPayload>(v).is_err());
    }

    #[test]
    fn wire_time_is_exact() {
        let t = parse_wire_time("2026-11-30T16:30:00.123456Z").unwrap();
        assert_eq!(wire_time(t), "2026-11-30T16:30:00.123456Z");
        for bad in [
            "2026-11-30T16:30:00Z",
            "2026-11-30T16:30:00.123Z",
            "2026-11-30 16:30:00.123456Z",
            "2026-11-30T16:30:00.123456+00:00",
        ] {
            assert!(parse_wire_time(bad).is_none(), "{bad}");
        }
        assert!(is_wire_uuid("01890a5d-ac96-774b-bcce-b302099a8057"));
        assert!(!is_wire_uuid("01890a5dac96774bbcceb302099a8057"));
    }
}
