//! Derived codes: the coarse vocabularies computed from the fine ones (DATA-STANDARD.md,
//! "Deriving the coarse codes from the fine ones loses nothing"). Pure functions; every one
//! has unit tests beside it.

use std::collections::BTreeSet;

use chrono::{Datelike, NaiveDate};

use crate::vocab::codes::{
    CtdcAgeBand, DurationBand, ExploitationType, FlowReach, Gender, GlotipAgeBand, GlotipForm,
    GlotipSex, Means, TraffickingAct,
};
use crate::vocab::geo;
use crate::CountryCode;

/// Age in whole years on `on` of someone born on `birth` (`None` if `on` is before `birth`).
pub fn age_on(birth: NaiveDate, on: NaiveDate) -> Option<u32> {
    let mut years = on.year() - birth.year();
    if (on.month(), on.day()) < (birth.month(), birth.day()) {
        years -= 1;
    }
    u32::try_from(years).ok()
}

/// Palermo Protocol art. 3(c)-(d): a child is a person under eighteen.
pub fn is_minor(age: u32) -> bool {
    age < 18
}

/// CTDC `ageBroad` band.
pub fn ctdc_age_band(age: u32) -> CtdcAgeBand {
    match age {
        0..=8 => CtdcAgeBand::Age0To8,
        9..=17 => CtdcAgeBand::Age9To17,
        18..=20 => CtdcAgeBand::Age18To20,
        21..=23 => CtdcAgeBand::Age21To23,
        24..=26 => CtdcAgeBand::Age24To26,
        27..=29 => CtdcAgeBand::Age27To29,
        30..=38 => CtdcAgeBand::Age30To38,
        39..=47 => CtdcAgeBand::Age39To47,
        _ => CtdcAgeBand::Age48Plus,
    }
}

/// GLOTIP age: child or adult.
pub fn glotip_age_band(age: u32) -> GlotipAgeBand {
    if is_minor(age) {
        GlotipAgeBand::Age0To17
    } else {
        GlotipAgeBand::Age18Plus
    }
}

/// GLOTIP sex. Gender-diverse codes are merged into other/unknown (PRIVACY.md rule 8).
pub fn glotip_sex(gender: Option<Gender>) -> GlotipSex {
    match gender {
        Some(Gender::Feminine) => GlotipSex::Female,
        Some(Gender::Masculine) => GlotipSex::Male,
        _ => GlotipSex::OtherUnknown,
    }
}

/// Palermo art. 3(a): an act, a purpose of exploitation, and a means — except for a child,
/// for whom act and purpose suffice (art. 3(c)).
pub fn palermo_elements_met(
    acts: &BTreeSet<TraffickingAct>,
    means: &BTreeSet<Means>,
    exploitation: &BTreeSet<ExploitationType>,
    minor: bool,
) -> bool {
    !acts.is_empty() && !exploitation.is_empty() && (minor || !means.is_empty())
}

fn is_sexual(t: ExploitationType) -> bool {
    t == ExploitationType::SexualExploitation
}

fn is_labour(t: ExploitationType) -> bool {
    matches!(
        t,
        ExploitationType::ForcedLabour
            | ExploitationType::ChildLabour
            | ExploitationType::Servitude
            | ExploitationType::Slavery
    )
}

fn is_criminality(t: ExploitationType) -> bool {
    t == ExploitationType::ForcedCriminality
}

/// CTDC flags: forced labour, sexual exploitation, other exploitation.
pub fn ctdc_flags(exploitation: &BTreeSet<ExploitationType>) -> (bool, bool, bool) {
    let labour = exploitation.iter().any(|t| is_labour(*t));
    let sexual = exploitation.iter().any(|t| is_sexual(*t));
    let other = exploitation
        .iter()
        .any(|t| !is_labour(*t) && !is_sexual(*t));
    (labour, sexual, other)
}

/// GLOTIP form of exploitation: sexual, forced labour, forced criminality, mixed (more than
/// one of those three), or other (only other purposes, or none recorded).
pub fn glotip_form(exploitation: &BTreeSet<ExploitationType>) -> GlotipForm {
    let sexual = exploitation.iter().any(|t| is_sexual(*t));
    let labour = exploitation.iter().any(|t| is_labour(*t));
    let crime = exploitation.iter().any(|t| is_criminality(*t));
    match (sexual, labour, crime) {
        (true, false, false) => GlotipForm::Sexual,
        (false, true, false) => GlotipForm::ForcedLabour,
        (false, false, true) => GlotipForm::ForcedCriminality,
        (false, false, false) => GlotipForm::Other,
        _ => GlotipForm::Mixed,
    }
}

/// GLOTIP flow reach between the victim's citizenship and the country of exploitation:
/// the same country, the same UN M49 sub-region, the same region, or across regions.
/// `None` when a country is not in the ISO list.
pub fn flow_reach(citizenship: CountryCode, exploitation: CountryCode) -> Option<FlowReach> {
    if citizenship == exploitation {
        return Some(FlowReach::Domestic);
    }
    let a = geo::country(citizenship)?;
    let b = geo::country(exploitation)?;
    Some(if a.m49_subregion == b.m49_subregion {
        FlowReach::Subregional
    } else if a.m49_region == b.m49_region {
        FlowReach::Regional
    } else {
        FlowReach::Transregional
    })
}

/// CTDC `traffickMonths` band of an exploitation that lasted `months`.
pub fn duration_band(months: u32) -> DurationBand {
    match months {
        0..=12 => DurationBand::M0To12,
        13..=24 => DurationBand::M13To24,
        _ => DurationBand::M25Plus,
    }
}

/// Whole months from `start` to `end` (partial dates: a missing day counts as the 1st), or
/// `None` if `end` is before `start`.
pub fn months_between(start: (i32, u32, Option<u32>), end: (i32, u32, Option<u32>)) -> Option<u32> {
    let (sy, sm, sd) = start;
    let (ey, em, ed) = end;
    let mut months = (ey - sy) * 12 + i32::try_from(em).ok()? - i32::try_from(sm).ok()?;
    if ed.unwrap_or(1) < sd.unwrap_or(1) {
        months -= 1;
    }
    u32::try_from(months).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn age_counts_whole_years_and_birthdays() {
        assert_eq!(age_on(d(2008, 6, 15), d(2026, 6, 14)), Some(17));
        assert_eq!(age_on(d(2008, 6, 15), d(2026, 6, 15)), Some(18));
        assert_eq!(age_on(d(2008, 2, 29), d(2026, 2, 28)), Some(17));
        assert_eq!(age_on(d(2026, 1, 2), d(2026, 1, 1)), None);
    }

    #[test]
    fn minors_are_under_eighteen() {
        assert!(is_minor(17));
        assert!(!is_minor(18));
        assert_eq!(glotip_age_band(17), GlotipAgeBand::Age0To17);
        assert_eq!(glotip_age_band(18), GlotipAgeBand::Age18Plus);
    }

    #[test]
    fn ctdc_bands_have_their_edges() {
        let cases = [
            (0, CtdcAgeBand::Age0To8),
            (8, CtdcAgeBand::Age0To8),
            (9, CtdcAgeBand::Age9To17),
            (17, CtdcAgeBand::Age9To17),
            (18, CtdcAgeBand::Age18To20),
            (20, CtdcAgeBand::Age18To20),
            (21, CtdcAgeBand::Age21To23),
            (26, CtdcAgeBand::Age24To26),
            (27, CtdcAgeBand::Age27To29),
            (30, CtdcAgeBand::Age30To38),
            (38, CtdcAgeBand::Age30To38),
            (39, CtdcAgeBand::Age39To47),
            (47, CtdcAgeBand::Age39To47),
            (48, CtdcAgeBand::Age48Plus),
            (90, CtdcAgeBand::Age48Plus),
        ];
        for (age, band) in cases {
            assert_eq!(ctdc_age_band(age), band, "age {age}");
        }
    }

    #[test]
    fn glotip_sex_merges_gender_diverse_codes() {
        assert_eq!(glotip_sex(Some(Gender::Feminine)), GlotipSex::Female);
        assert_eq!(glotip_sex(Some(Gender::Masculine)), GlotipSex::Male);
        assert_eq!(
            glotip_sex(Some(Gender::TransgenderFeminine)),
            GlotipSex::OtherUnknown
        );
        assert_eq!(glotip_sex(None), GlotipSex::OtherUnknown);
    }

    #[test]
    fn palermo_needs_means_only_for_adults() {
        let acts = BTreeSet::from([TraffickingAct::Recruitment]);
        let purpose = BTreeSet::from([ExploitationType::ForcedLabour]);
        let means = BTreeSet::from([Means::Deception]);
        let none = BTreeSet::new();
        assert!(palermo_elements_met(&acts, &means, &purpose, false));
        assert!(!palermo_elements_met(&acts, &none, &purpose, false));
        assert!(palermo_elements_met(&acts, &none, &purpose, true));
        assert!(!palermo_elements_met(
            &BTreeSet::new(),
            &means,
            &purpose,
            true
        ));
        assert!(!palermo_elements_met(
            &acts,
            &means,
            &BTreeSet::new(),
            false
        ));
    }

    #[test]
    fn glotip_forms_and_ctdc_flags() {
        let set = |v: &[ExploitationType]| v.iter().copied().collect::<BTreeSet<_>>();
        use ExploitationType as E;
        assert_eq!(
            glotip_form(&set(&[E::SexualExploitation])),
            GlotipForm::Sexual
        );
        assert_eq!(glotip_form(&set(&[E::Servitude])), GlotipForm::ForcedLabour);
        assert_eq!(
            glotip_form(&set(&[E::ForcedCriminality])),
            GlotipForm::ForcedCriminality
        );
        assert_eq!(
            glotip_form(&set(&[E::SexualExploitation, E::ForcedLabour])),
            GlotipForm::Mixed
        );
        assert_eq!(glotip_form(&set(&[E::OrganRemoval])), GlotipForm::Other);
        assert_eq!(glotip_form(&set(&[])), GlotipForm::Other);
        assert_eq!(
            ctdc_flags(&set(&[E::SexualExploitation, E::ForcedMarriage])),
            (false, true, true)
        );
        assert_eq!(ctdc_flags(&set(&[E::ChildLabour])), (true, false, false));
    }

    #[test]
    fn flow_reach_by_m49_region() {
        let c = |s: &str| s.parse::<CountryCode>().unwrap();
        assert_eq!(flow_reach(c("GTM"), c("GTM")), Some(FlowReach::Domestic));
        assert_eq!(flow_reach(c("HND"), c("GTM")), Some(FlowReach::Subregional));
        assert_eq!(flow_reach(c("GTM"), c("USA")), Some(FlowReach::Regional));
        assert_eq!(
            flow_reach(c("CHN"), c("MEX")),
            Some(FlowReach::Transregional)
        );
        assert_eq!(flow_reach(c("XXX"), c("MEX")), None);
    }

    #[test]
    fn duration_bands_and_months() {
        assert_eq!(duration_band(12), DurationBand::M0To12);
        assert_eq!(duration_band(13), DurationBand::M13To24);
        assert_eq!(duration_band(25), DurationBand::M25Plus);
        assert_eq!(
            months_between((2024, 1, Some(15)), (2025, 1, Some(14))),
            Some(11)
        );
        assert_eq!(months_between((2024, 1, None), (2025, 3, None)), Some(14));
        assert_eq!(months_between((2025, 1, None), (2024, 1, None)), None);
    }
}
