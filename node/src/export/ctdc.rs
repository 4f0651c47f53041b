//! The CTDC format: the 27 variables of the Counter-Trafficking Data Collaborative's global
//! dataset, as the 2024 codebook lists them, with CTDC's own value spellings (`Woman`,
//! `18--20`, `0--12 (0-1 yr)`) and flags as `1` or empty. Shared by the export and the import.

use puente_common::vocab::codes::{
    ControlMethod, CtdcAgeBand, DurationBand, Gender, RecruiterRelation, SexualExploitationType,
};

/// The 27 columns, in codebook order. Source: CTDC Global Synthetic Dataset 2024
/// (`CTDC_global_synthetic_data_v2024.csv` and its codebook, ctdatacollaborative.org, "Global
/// Synthetic Dataset"); the same names and order appear in public analysis code that reads
/// that file. The 2025 release renames `typeOfLabour…`/`typeOfSex…` to
/// `sectorOfLabour…`/`sectorOfSex…`; the import accepts both ([`CTDC_ALIASES`]).
pub const CTDC_COLUMNS: [&str; 27] = [
    "yearOfRegistration",
    "gender",
    "ageBroad",
    "citizenship",
    "CountryOfExploitation",
    "traffickMonths",
    "meansDebtBondageEarnings",
    "meansThreats",
    "meansAbusePsyPhySex",
    "meansFalsePromises",
    "meansDrugsAlcohol",
    "meansDenyBasicNeeds",
    "meansExcessiveWorkHours",
    "meansWithholdDocs",
    "isForcedLabour",
    "isSexualExploit",
    "isOtherExploit",
    "typeOfLabourAgriculture",
    "typeOfLabourConstruction",
    "typeOfLabourDomesticWork",
    "typeOfLabourHospitality",
    "typeOfSexProstitution",
    "typeOfSexPornography",
    "recruiterRelationIntimatePartner",
    "recruiterRelationFriend",
    "recruiterRelationFamily",
    "recruiterRelationOther",
];

/// Column names of other CTDC releases, as `(alias, column)`.
pub const CTDC_ALIASES: &[(&str, &str)] = &[
    ("sectorOfLabourAgriculture", "typeOfLabourAgriculture"),
    ("sectorOfLabourConstruction", "typeOfLabourConstruction"),
    ("sectorOfLabourDomesticWork", "typeOfLabourDomesticWork"),
    ("sectorOfLabourHospitality", "typeOfLabourHospitality"),
    ("sectorOfSexProstitution", "typeOfSexProstitution"),
    ("sectorOfSexPornography", "typeOfSexPornography"),
];

/// CTDC's means-of-control groups: the column, the HTCDS methods it groups (the first is the
/// one an import records, since CTDC cannot say which member it was).
pub(crate) const MEANS_GROUPS: &[(&str, &[ControlMethod])] = &[
    (
        "meansDebtBondageEarnings",
        &[ControlMethod::DebtBondage, ControlMethod::TakesEarnings],
    ),
    (
        "meansThreats",
        &[
            ControlMethod::PhysicalThreats,
            ControlMethod::ThreatsLawEnforcement,
            ControlMethod::ThreatensChildrenFamily,
        ],
    ),
    (
        "meansAbusePsyPhySex",
        &[
            ControlMethod::PsychologicalAbuse,
            ControlMethod::PhysicalAbuse,
            ControlMethod::SexualAbuse,
        ],
    ),
    ("meansFalsePromises", &[ControlMethod::FalsePromises]),
    ("meansDrugsAlcohol", &[ControlMethod::PsychoactiveSubstance]),
    (
        "meansDenyBasicNeeds",
        &[
            ControlMethod::WithholdsNecessities,
            ControlMethod::RestrictsFinancialAccess,
            ControlMethod::RestrictsMovement,
            ControlMethod::RestrictsMedicalCare,
        ],
    ),
    (
        "meansExcessiveWorkHours",
        &[ControlMethod::ExcessiveWorkingHours],
    ),
    ("meansWithholdDocs", &[ControlMethod::WithholdsDocuments]),
];

/// CTDC's labour sectors and the ISIC Rev.4 section each stands for: agriculture (A),
/// construction (F), domestic work (T, households as employers), hospitality (I,
/// accommodation and food service).
pub(crate) const LABOUR_SECTORS: &[(&str, &str)] = &[
    ("typeOfLabourAgriculture", "A"),
    ("typeOfLabourConstruction", "F"),
    ("typeOfLabourDomesticWork", "T"),
    ("typeOfLabourHospitality", "I"),
];

pub(crate) const SEX_TYPES: &[(&str, SexualExploitationType)] = &[
    (
        "typeOfSexProstitution",
        SexualExploitationType::Prostitution,
    ),
    ("typeOfSexPornography", SexualExploitationType::Pornography),
];

/// CTDC's recruiter relations; `Other` is any other known person or a stranger (the import
/// records `OTHER_KNOWN`).
pub(crate) const RELATIONS: &[(&str, &[RecruiterRelation])] = &[
    (
        "recruiterRelationIntimatePartner",
        &[RecruiterRelation::IntimatePartner],
    ),
    ("recruiterRelationFriend", &[RecruiterRelation::Friend]),
    ("recruiterRelationFamily", &[RecruiterRelation::Family]),
    (
        "recruiterRelationOther",
        &[RecruiterRelation::OtherKnown, RecruiterRelation::Stranger],
    ),
];

/// CTDC's gender: `Woman`, `Man`, `Trans/Transgender/NonConforming`; unknown is empty.
pub(crate) fn gender_label(g: Option<Gender>) -> &'static str {
    match g {
        Some(Gender::Feminine) => "Woman",
        Some(Gender::Masculine) => "Man",
        Some(
            Gender::TransgenderFeminine | Gender::TransgenderMasculine | Gender::NonConforming,
        ) => "Trans/Transgender/NonConforming",
        Some(Gender::NotSpecifiedUnknown) | None => "",
    }
}

/// CTDC's `ageBroad` spelling of a band.
pub(crate) fn age_label(b: CtdcAgeBand) -> &'static str {
    match b {
        CtdcAgeBand::Age0To8 => "0--8",
        CtdcAgeBand::Age9To17 => "9--17",
        CtdcAgeBand::Age18To20 => "18--20",
        CtdcAgeBand::Age21To23 => "21--23",
        CtdcAgeBand::Age24To26 => "24--26",
        CtdcAgeBand::Age27To29 => "27--29",
        CtdcAgeBand::Age30To38 => "30--38",
        CtdcAgeBand::Age39To47 => "39--47",
        CtdcAgeBand::Age48Plus => "48+",
    }
}

/// CTDC's `traffickMonths` spelling of a band.
pub(crate) fn duration_label(b: DurationBand) -> &'static str {
    match b {
        DurationBand::M0To12 => "0--12 (0-1 yr)",
        DurationBand::M13To24 => "13--24 (1-2 yrs)",
        DurationBand::M25Plus => "25+ (2+ yrs)",
    }
}
