//! Reading one cell: coded values (codes, HTCDS value names, labels), countries, dates,
//! numbers, check boxes, languages and industries, as NGOs type them.

use std::collections::HashMap;
use std::sync::OnceLock;

use chrono::{Datelike, NaiveDate};
use puente_common::case::PartialDate;
use puente_common::vocab::geo::{self, fold};
use puente_common::vocab::{isic, languages, squash, Coded};
use puente_common::CountryCode;

/// Labels that name a value but are not its HTCDS value name, from IOM's templates and
/// Field_Standards.csv (checked by a script against both: only these two differ), as
/// `(field, label, code)`.
const IOM_LABELS: &[(&str, &str, &str)] = &[
    ("gender", "Not Specified/Unknown", "NOT_SPECIFIED_UNKNOWN"),
    (
        "control_method",
        "Threats of law enforcement",
        "THREATS_LAW_ENFORCEMENT",
    ),
];

/// Folded label → code, per field, from the node's catalogues (Spanish and English) and
/// [`IOM_LABELS`].
fn labels() -> &'static HashMap<(String, String), String> {
    static LABELS: OnceLock<HashMap<(String, String), String>> = OnceLock::new();
    LABELS.get_or_init(|| {
        let mut map = HashMap::new();
        for (field, label, code) in IOM_LABELS {
            map.insert(((*field).to_owned(), fold(label)), (*code).to_owned());
        }
        for catalogue in [
            include_str!("../../i18n/en/vocab.ftl"),
            include_str!("../../i18n/es/vocab.ftl"),
        ] {
            for line in catalogue.lines() {
                let Some(rest) = line.strip_prefix("code-") else {
                    continue;
                };
                let Some((key, label)) = rest.split_once('=') else {
                    continue;
                };
                let Some((field, code)) = key.trim().rsplit_once('-') else {
                    continue;
                };
                let label = fold(label);
                if !label.is_empty() {
                    map.entry((field.to_owned(), label))
                        .or_insert_with(|| code.to_owned());
                }
            }
        }
        map
    })
}

/// A coded value given as its Puente code, its HTCDS value name or a label (Spanish or
/// English), ignoring case, spaces and punctuation.
pub fn coded<T: Coded>(s: &str) -> Option<T> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if let Some(v) = T::from_code(s).or_else(|| T::from_htcds(s)) {
        return Some(v);
    }
    let q = squash(s);
    if let Some(v) = T::ALL.iter().copied().find(|v| squash(v.code()) == q) {
        return Some(v);
    }
    labels()
        .get(&(T::FIELD.to_owned(), fold(s)))
        .and_then(|code| T::from_code(code))
}

/// Splits a multi-select cell on `;`, `,`, `|` and line breaks, dropping empty parts.
pub fn split_multi(s: &str) -> impl Iterator<Item = &str> {
    s.split([';', ',', '|', '\n'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
}

/// Splits a cell of parallel lists (route events, documents) on `;`, `|` and line breaks,
/// keeping empty parts so that positions line up.
pub fn split_parallel(s: &str) -> Vec<&str> {
    if s.trim().is_empty() {
        return Vec::new();
    }
    s.split([';', '|', '\n']).map(str::trim).collect()
}

/// A country as alpha-3, alpha-2 or a Spanish or English name (also IOM's names such as
/// `Korea, Republic of` or `Bolivia (Plurinational State of)`).
pub fn country(s: &str) -> Option<CountryCode> {
    let s = s.trim();
    if let Some(c) = geo::parse_country(s) {
        return Some(c);
    }
    // "Moldova, Republic of" → "Republic of Moldova"; "Iran (Islamic Republic of)" → "Iran".
    if let Some((a, b)) = s.split_once(',') {
        let swapped = format!("{} {}", b.trim(), a.trim());
        if let Some(c) = geo::parse_country(&swapped) {
            return Some(c);
        }
    }
    if let Some((a, _)) = s.split_once('(') {
        return geo::parse_country(a);
    }
    None
}

/// The countries of a multi-select cell. A part that is no country is returned as `Err`.
/// Names with commas (`Korea, Republic of`) are tried whole before splitting on commas.
pub fn countries(s: &str) -> Vec<Result<CountryCode, String>> {
    let mut out = Vec::new();
    for part in s
        .split([';', '|', '\n'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        if let Some(c) = country(part) {
            out.push(Ok(c));
            continue;
        }
        for sub in part.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            out.push(country(sub).ok_or_else(|| sub.to_owned()));
        }
    }
    out
}

fn ymd(y: &str, m: &str, d: &str) -> Option<NaiveDate> {
    if y.len() != 4 {
        return None;
    }
    NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)
}

/// A date written `YYYY-MM-DD` (a time after it is ignored) or day first, `DD/MM/YYYY`
/// (also with `-` or `.`). Month-first dates are not guessed: `05/17/2024` is refused.
pub fn date(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    let s = s.split(['T', ' ']).next().unwrap_or(s);
    let parts: Vec<&str> = s.split(['-', '/', '.']).collect();
    match parts.as_slice() {
        [y, m, d] if y.len() == 4 => ymd(y, m, d),
        [d, m, y] if y.len() == 4 && d.len() <= 2 && m.len() <= 2 => ymd(y, m, d),
        _ => None,
    }
}

/// A date, or a bare year (`2024` → 1 January 2024), for registration columns such as
/// CTDC's `yearOfRegistration`.
pub fn date_or_year(s: &str) -> Option<NaiveDate> {
    date(s).or_else(|| {
        let y = year(s)?;
        NaiveDate::from_ymd_opt(y, 1, 1)
    })
}

/// A four-digit year, also as spreadsheets write numbers (`2019.0`).
pub fn year(s: &str) -> Option<i32> {
    let s = s.trim();
    let s = s.strip_suffix(".0").unwrap_or(s);
    (s.len() == 4)
        .then(|| s.parse::<i32>().ok())
        .flatten()
        .filter(|y| (1900..=2200).contains(y))
}

/// A partial date (`2024`, `2024-05`, `2024-05-17`), or day first (`17/05/2024`, `05/2024`).
pub fn partial_date(s: &str) -> Option<PartialDate> {
    let s = s.trim();
    if let Ok(p) = s.parse::<PartialDate>() {
        return Some(p);
    }
    if let Some(d) = date(s) {
        return Some(PartialDate {
            year: d.year(),
            month: Some(d.month()),
            day: Some(d.day()),
        });
    }
    match s.split(['/', '-', '.']).collect::<Vec<_>>().as_slice() {
        [m, y] if y.len() == 4 && m.len() <= 2 => {
            format!("{y}-{:02}", m.parse::<u32>().ok()?).parse().ok()
        }
        _ => None,
    }
}

/// A whole number, also as spreadsheets write it (`3.0`).
pub fn number<T: std::str::FromStr>(s: &str) -> Option<T> {
    let s = s.trim();
    s.strip_suffix(".0").unwrap_or(s).parse().ok()
}

/// A check box or CTDC flag: `1`, `TRUE`, `yes`, `sí`, `x` … or `0`, `FALSE`, `no`, empty,
/// `NULL`, `NA`, `-99` (CTDC's missing value). `None` for anything else.
pub fn flag(s: &str) -> Option<bool> {
    match fold(s).as_str() {
        "1" | "10" | "true" | "yes" | "y" | "x" | "si" | "verdadero" | "checked" => Some(true),
        "" | "0" | "00" | "false" | "no" | "n" | "falso" | "null" | "na" | "99" | "990" | "nan" => {
            Some(false)
        }
        _ => (s.trim() == "✓" || s.trim() == "✔").then_some(true),
    }
}

/// ISO 639-1 codes and ISO 639-2/B codes that differ from ISO 639-3, for the languages
/// HTCDS files most often carry (HTCDS asks for ISO 639-2 with two-letter codes optional).
const LANGUAGE_ALIASES: &[(&str, &str)] = &[
    ("es", "spa"),
    ("en", "eng"),
    ("fr", "fra"),
    ("fre", "fra"),
    ("pt", "por"),
    ("de", "deu"),
    ("ger", "deu"),
    ("it", "ita"),
    ("zh", "zho"),
    ("chi", "zho"),
    ("ar", "ara"),
    ("ru", "rus"),
    ("uk", "ukr"),
    ("hi", "hin"),
    ("ht", "hat"),
    ("ja", "jpn"),
    ("ko", "kor"),
    ("vi", "vie"),
    ("tl", "tgl"),
    ("bn", "ben"),
    ("ur", "urd"),
    ("fa", "fas"),
    ("per", "fas"),
    ("ro", "ron"),
    ("rum", "ron"),
    ("nl", "nld"),
    ("dut", "nld"),
];

/// A language as an ISO 639-3 code, an ISO 639-1 or 639-2/B code, or a name; returns the
/// ISO 639-3 code Puente stores.
pub fn language(s: &str) -> Option<String> {
    let s = s.trim();
    if let Some(l) = languages::language(s) {
        return Some(l.code.to_owned());
    }
    let lower = s.to_ascii_lowercase();
    if let Some((_, code)) = LANGUAGE_ALIASES.iter().find(|(a, _)| *a == lower) {
        return languages::language(code).map(|l| l.code.to_owned());
    }
    languages::language_by_name(s).map(|l| l.code.to_owned())
}

/// HTCDS `vic_ForcedLabourIndustry` value names, one per ISIC Rev.4 section.
pub const INDUSTRIES: &[&str] = &[
    "A_AgricultureForestryAndFishing",
    "B_MiningAndQuarrying",
    "C_Manufacturing",
    "D_ElectricityGasSteamAndAirConditioningSupply",
    "E_WaterSupplySewerageWasteManagement",
    "F_Construction",
    "G_WholesaleAndRetailTradeRepairOfMotorVehicles",
    "H_TransportationAndStorage",
    "I_AccommodationAndFoodServiceActivities",
    "J_InformationAndCommunication",
    "K_FinancialAndInsuranceActivities",
    "L_RealEstateActivities",
    "M_ProfessionalScientificAndTechnicalActivities",
    "N_AdministrativeAndSupportServiceActivities",
    "O_PublicAdministrationAndDefence",
    "P_Education",
    "Q_HumanHealthAndSocialWorkActivities",
    "R_ArtsEntertainmentAndRecreation",
    "S_OtherServiceActivities",
    "T_ActivitiesOfHouseholdsAsEmployers",
    "U_ActivitiesOfExtraterritorialOrganizations",
];

/// The HTCDS value name of an ISIC section letter.
pub fn industry_htcds(section: &str) -> Option<&'static str> {
    INDUSTRIES
        .iter()
        .copied()
        .find(|n| n.split('_').next() == Some(section))
}

/// A forced-labour industry as an ISIC section or division (`A`, `A01`), an HTCDS value name
/// (`A_AgricultureForestryAndFishing`) or IOM's label (`Agriculture, forestry and fishing`,
/// which may run longer than the value name); returns the form Puente stores.
pub fn industry(s: &str) -> Option<String> {
    if let Some(code) = isic::normalize_isic(s) {
        return Some(code);
    }
    let q = fold(s);
    if q.is_empty() {
        return None;
    }
    INDUSTRIES.iter().find_map(|name| {
        let (letter, rest) = name.split_once('_')?;
        let whole = fold(name);
        let bare = fold(rest);
        (q == whole || q == bare || (bare.len() >= 10 && q.starts_with(&bare)))
            .then(|| letter.to_owned())
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use puente_common::vocab::codes::{
        CaseStatus, ControlMethod, ExploitationType, Gender, TraffickingStatus,
    };

    #[test]
    fn coded_values_by_code_name_or_label() {
        assert_eq!(coded::<Gender>("FEMININE"), Some(Gender::Feminine));
        assert_eq!(coded::<Gender>(" feminine "), Some(Gender::Feminine));
        assert_eq!(coded::<Gender>("Femenino"), Some(Gender::Feminine));
        assert_eq!(
            coded::<Gender>("Not Specified/Unknown"),
            Some(Gender::NotSpecifiedUnknown)
        );
        assert_eq!(
            coded::<ControlMethod>("Threats of law enforcement"),
            Some(ControlMethod::ThreatsLawEnforcement)
        );
        assert_eq!(
            coded::<ExploitationType>("forced_labour"),
            Some(ExploitationType::ForcedLabour)
        );
        assert_eq!(
            coded::<ExploitationType>("Forced military (by non-state actors)"),
            Some(ExploitationType::ForcedMilitaryNonState)
        );
        assert_eq!(coded::<CaseStatus>("Follow up"), Some(CaseStatus::FollowUp));
        assert_eq!(
            coded::<TraffickingStatus>("Possible victim of trafficking"),
            Some(TraffickingStatus::PossibleVictim)
        );
        assert_eq!(coded::<Gender>("Purple"), None);
    }

    #[test]
    fn countries_in_every_spelling() {
        for s in ["GTM", "gt", "Guatemala", " guatemala "] {
            assert_eq!(country(s).unwrap().as_str(), "GTM", "{s}");
        }
        assert_eq!(country("Korea, Republic of").unwrap().as_str(), "KOR");
        assert_eq!(
            country("Bolivia (Plurinational State of)")
                .unwrap()
                .as_str(),
            "BOL"
        );
        let got = countries("Guatemala; HN, SLV");
        assert_eq!(got.len(), 3);
        assert!(got.iter().all(Result::is_ok));
        assert_eq!(countries("Atlantis"), vec![Err("Atlantis".to_owned())]);
    }

    #[test]
    fn dates_iso_or_day_first() {
        let d = NaiveDate::from_ymd_opt(2024, 5, 17).unwrap();
        for s in [
            "2024-05-17",
            "17/05/2024",
            "17-05-2024",
            "17.5.2024",
            "2024-05-17T00:00:00",
        ] {
            assert_eq!(date(s), Some(d), "{s}");
        }
        assert_eq!(date("05/17/2024"), None);
        assert_eq!(date("yesterday"), None);
        assert_eq!(date_or_year("2019").unwrap().to_string(), "2019-01-01");
        assert_eq!(partial_date("05/2024").unwrap().to_string(), "2024-05");
        assert_eq!(
            partial_date("17/05/2024").unwrap().to_string(),
            "2024-05-17"
        );
    }

    #[test]
    fn flags_languages_and_industries() {
        assert_eq!(flag("1"), Some(true));
        assert_eq!(flag("TRUE"), Some(true));
        assert_eq!(flag("Sí"), Some(true));
        assert_eq!(flag(""), Some(false));
        assert_eq!(flag("maybe"), None);
        assert_eq!(language("es").as_deref(), Some("spa"));
        assert_eq!(language("K'iche'").as_deref(), Some("quc"));
        assert_eq!(industry("a01").as_deref(), Some("A01"));
        assert_eq!(
            industry("A_AgricultureForestryAndFishing").as_deref(),
            Some("A")
        );
        assert_eq!(
            industry("Activities of households as employers; undifferentiated goods- and services- producing activities of households for own use")
                .as_deref(),
            Some("T")
        );
        assert_eq!(industry("Construction").as_deref(), Some("F"));
        assert_eq!(industry_htcds("F"), Some("F_Construction"));
    }
}
