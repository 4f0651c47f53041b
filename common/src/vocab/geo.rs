//! Reference geography: every country of ISO 3166-1 with its UN M49 region and sub-region, and
//! the ISO 3166-2 first-level subdivisions of the four countries Puente works in (Guatemala,
//! Honduras, El Salvador, Mexico).
//!
//! Sources:
//! - ISO 3166-1 (alpha-3, alpha-2, numeric and English short name, as distributed by the
//!   Debian `iso-codes` data, 249 entries).
//! - Spanish names: the common Spanish short form (as in the UN Spanish terminology, or the
//!   form Central American users write where the UN's is formal or unusual: "Países Bajos",
//!   "Reino Unido", "Rusia", "Corea del Sur", "Kenia"). The UN and other forms are accepted by
//!   [`by_name`] through [`ALIASES`].
//! - UN M49 (Standard country or area codes for statistical use): regions and sub-regions,
//!   with the Americas split into the M49 intermediate regions Caribbean, Central America and
//!   South America, plus the sub-region Northern America. PRIVACY.md rule 8 merges rare
//!   citizenships into these sub-regions. M49 gives Antarctica no region; it has `None` here.
//!   M49 does not list Taiwan; it is put in Eastern Asia, as UN statistics count it with
//!   China.
//! - ISO 3166-2: GT, HN, SV, MX. Guatemala keeps the two-letter codes of DATA-STANDARD.md
//!   (`GT-QZ`); the numeric codes ISO has since published for the same departments (`GT-09`)
//!   are accepted by [`subdivision`] as aliases.
//!
//! Names here are reference data for matching and pick lists; catalogue labels may override
//! them.

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::country::CountryCode;

/// A UN M49 region.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Region {
    Africa,
    Americas,
    Asia,
    Europe,
    Oceania,
}

impl Region {
    /// Every region, in M49 order.
    pub const ALL: &'static [Region] = &[
        Region::Africa,
        Region::Americas,
        Region::Asia,
        Region::Europe,
        Region::Oceania,
    ];

    /// The M49 numeric code, e.g. 19 for the Americas.
    pub const fn m49(self) -> u16 {
        match self {
            Region::Africa => 2,
            Region::Americas => 19,
            Region::Asia => 142,
            Region::Europe => 150,
            Region::Oceania => 9,
        }
    }

    /// The stable code, e.g. `AMERICAS`.
    pub const fn code(self) -> &'static str {
        match self {
            Region::Africa => "AFRICA",
            Region::Americas => "AMERICAS",
            Region::Asia => "ASIA",
            Region::Europe => "EUROPE",
            Region::Oceania => "OCEANIA",
        }
    }

    /// The Spanish name.
    pub const fn name_es(self) -> &'static str {
        match self {
            Region::Africa => "África",
            Region::Americas => "Américas",
            Region::Asia => "Asia",
            Region::Europe => "Europa",
            Region::Oceania => "Oceanía",
        }
    }

    /// The English name.
    pub const fn name_en(self) -> &'static str {
        match self {
            Region::Africa => "Africa",
            Region::Americas => "Americas",
            Region::Asia => "Asia",
            Region::Europe => "Europe",
            Region::Oceania => "Oceania",
        }
    }
}

/// A UN M49 sub-region; for the Americas, the intermediate regions (Caribbean, Central America,
/// South America) and Northern America.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SubRegion {
    NorthernAfrica,
    SubSaharanAfrica,
    Caribbean,
    CentralAmerica,
    SouthAmerica,
    NorthernAmerica,
    CentralAsia,
    EasternAsia,
    SouthEasternAsia,
    SouthernAsia,
    WesternAsia,
    EasternEurope,
    NorthernEurope,
    SouthernEurope,
    WesternEurope,
    AustraliaAndNewZealand,
    Melanesia,
    Micronesia,
    Polynesia,
}

impl SubRegion {
    /// Every sub-region, grouped by region.
    pub const ALL: &'static [SubRegion] = &[
        SubRegion::NorthernAfrica,
        SubRegion::SubSaharanAfrica,
        SubRegion::Caribbean,
        SubRegion::CentralAmerica,
        SubRegion::SouthAmerica,
        SubRegion::NorthernAmerica,
        SubRegion::CentralAsia,
        SubRegion::EasternAsia,
        SubRegion::SouthEasternAsia,
        SubRegion::SouthernAsia,
        SubRegion::WesternAsia,
        SubRegion::EasternEurope,
        SubRegion::NorthernEurope,
        SubRegion::SouthernEurope,
        SubRegion::WesternEurope,
        SubRegion::AustraliaAndNewZealand,
        SubRegion::Melanesia,
        SubRegion::Micronesia,
        SubRegion::Polynesia,
    ];

    /// The region this sub-region belongs to.
    pub const fn region(self) -> Region {
        use SubRegion::*;
        match self {
            NorthernAfrica | SubSaharanAfrica => Region::Africa,
            Caribbean | CentralAmerica | SouthAmerica | NorthernAmerica => Region::Americas,
            CentralAsia | EasternAsia | SouthEasternAsia | SouthernAsia | WesternAsia => {
                Region::Asia
            }
            EasternEurope | NorthernEurope | SouthernEurope | WesternEurope => Region::Europe,
            AustraliaAndNewZealand | Melanesia | Micronesia | Polynesia => Region::Oceania,
        }
    }

    /// The M49 numeric code, e.g. 13 for Central America.
    pub const fn m49(self) -> u16 {
        use SubRegion::*;
        match self {
            NorthernAfrica => 15,
            SubSaharanAfrica => 202,
            Caribbean => 29,
            CentralAmerica => 13,
            SouthAmerica => 5,
            NorthernAmerica => 21,
            CentralAsia => 143,
            EasternAsia => 30,
            SouthEasternAsia => 35,
            SouthernAsia => 34,
            WesternAsia => 145,
            EasternEurope => 151,
            NorthernEurope => 154,
            SouthernEurope => 39,
            WesternEurope => 155,
            AustraliaAndNewZealand => 53,
            Melanesia => 54,
            Micronesia => 57,
            Polynesia => 61,
        }
    }

    /// The stable code, e.g. `CENTRAL_AMERICA`.
    pub const fn code(self) -> &'static str {
        use SubRegion::*;
        match self {
            NorthernAfrica => "NORTHERN_AFRICA",
            SubSaharanAfrica => "SUB_SAHARAN_AFRICA",
            Caribbean => "CARIBBEAN",
            CentralAmerica => "CENTRAL_AMERICA",
            SouthAmerica => "SOUTH_AMERICA",
            NorthernAmerica => "NORTHERN_AMERICA",
            CentralAsia => "CENTRAL_ASIA",
            EasternAsia => "EASTERN_ASIA",
            SouthEasternAsia => "SOUTH_EASTERN_ASIA",
            SouthernAsia => "SOUTHERN_ASIA",
            WesternAsia => "WESTERN_ASIA",
            EasternEurope => "EASTERN_EUROPE",
            NorthernEurope => "NORTHERN_EUROPE",
            SouthernEurope => "SOUTHERN_EUROPE",
            WesternEurope => "WESTERN_EUROPE",
            AustraliaAndNewZealand => "AUSTRALIA_AND_NEW_ZEALAND",
            Melanesia => "MELANESIA",
            Micronesia => "MICRONESIA",
            Polynesia => "POLYNESIA",
        }
    }

    /// The Spanish name (UN M49 Spanish terminology).
    pub const fn name_es(self) -> &'static str {
        use SubRegion::*;
        match self {
            NorthernAfrica => "África septentrional",
            SubSaharanAfrica => "África subsahariana",
            Caribbean => "Caribe",
            CentralAmerica => "Centroamérica",
            SouthAmerica => "América del Sur",
            NorthernAmerica => "América septentrional",
            CentralAsia => "Asia central",
            EasternAsia => "Asia oriental",
            SouthEasternAsia => "Asia sudoriental",
            SouthernAsia => "Asia meridional",
            WesternAsia => "Asia occidental",
            EasternEurope => "Europa oriental",
            NorthernEurope => "Europa septentrional",
            SouthernEurope => "Europa meridional",
            WesternEurope => "Europa occidental",
            AustraliaAndNewZealand => "Australia y Nueva Zelandia",
            Melanesia => "Melanesia",
            Micronesia => "Micronesia",
            Polynesia => "Polinesia",
        }
    }

    /// The English name (UN M49).
    pub const fn name_en(self) -> &'static str {
        use SubRegion::*;
        match self {
            NorthernAfrica => "Northern Africa",
            SubSaharanAfrica => "Sub-Saharan Africa",
            Caribbean => "Caribbean",
            CentralAmerica => "Central America",
            SouthAmerica => "South America",
            NorthernAmerica => "Northern America",
            CentralAsia => "Central Asia",
            EasternAsia => "Eastern Asia",
            SouthEasternAsia => "South-eastern Asia",
            SouthernAsia => "Southern Asia",
            WesternAsia => "Western Asia",
            EasternEurope => "Eastern Europe",
            NorthernEurope => "Northern Europe",
            SouthernEurope => "Southern Europe",
            WesternEurope => "Western Europe",
            AustraliaAndNewZealand => "Australia and New Zealand",
            Melanesia => "Melanesia",
            Micronesia => "Micronesia",
            Polynesia => "Polynesia",
        }
    }
}

/// One ISO 3166-1 country or area.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Country {
    /// ISO 3166-1 alpha-3, e.g. `GTM`: what Puente stores.
    pub alpha3: &'static str,
    /// ISO 3166-1 alpha-2, e.g. `GT`.
    pub alpha2: &'static str,
    /// ISO 3166-1 numeric (= UN M49 country code), e.g. 320.
    pub numeric: u16,
    /// Common Spanish short name, e.g. `Estados Unidos de América`.
    pub name_es: &'static str,
    /// ISO 3166-1 English short name, e.g. `United States`.
    pub name_en: &'static str,
    /// UN M49 region; `None` only for Antarctica, which M49 puts in no region.
    pub m49_region: Option<Region>,
    /// UN M49 sub-region (intermediate region in Latin America); `None` only for Antarctica.
    pub m49_subregion: Option<SubRegion>,
}

impl Country {
    /// The alpha-3 code as a [`CountryCode`]. Every entry's code is three capitals, so this
    /// always succeeds (a test checks it).
    pub fn code(&self) -> Option<CountryCode> {
        self.alpha3.parse().ok()
    }
}

const fn c(
    alpha3: &'static str,
    alpha2: &'static str,
    numeric: u16,
    name_es: &'static str,
    name_en: &'static str,
    sub: Option<SubRegion>,
) -> Country {
    let region = match sub {
        Some(s) => Some(s.region()),
        None => None,
    };
    Country {
        alpha3,
        alpha2,
        numeric,
        name_es,
        name_en,
        m49_region: region,
        m49_subregion: sub,
    }
}

/// Every ISO 3166-1 entry (249), sorted by alpha-3.
#[rustfmt::skip]
pub static COUNTRIES: &[Country] = &[
    c("ABW", "AW", 533, "Aruba", "Aruba", Some(SubRegion::Caribbean)),
    c("AFG", "AF", 4, "Afganistán", "Afghanistan", Some(SubRegion::SouthernAsia)),
    c("AGO", "AO", 24, "Angola", "Angola", Some(SubRegion::SubSaharanAfrica)),
    c("AIA", "AI", 660, "Anguila", "Anguilla", Some(SubRegion::Caribbean)),
    c("ALA", "AX", 248, "Islas Åland", "Åland Islands", Some(SubRegion::NorthernEurope)),
    c("ALB", "AL", 8, "Albania", "Albania", Some(SubRegion::SouthernEurope)),
    c("AND", "AD", 20, "Andorra", "Andorra", Some(SubRegion::SouthernEurope)),
    c("ARE", "AE", 784, "Emiratos Árabes Unidos", "United Arab Emirates", Some(SubRegion::WesternAsia)),
    c("ARG", "AR", 32, "Argentina", "Argentina", Some(SubRegion::SouthAmerica)),
    c("ARM", "AM", 51, "Armenia", "Armenia", Some(SubRegion::WesternAsia)),
    c("ASM", "AS", 16, "Samoa Americana", "American Samoa", Some(SubRegion::Polynesia)),
    c("ATA", "AQ", 10, "Antártida", "Antarctica", None),
    c("ATF", "TF", 260, "Territorios Australes Franceses", "French Southern Territories", Some(SubRegion::SubSaharanAfrica)),
    c("ATG", "AG", 28, "Antigua y Barbuda", "Antigua and Barbuda", Some(SubRegion::Caribbean)),
    c("AUS", "AU", 36, "Australia", "Australia", Some(SubRegion::AustraliaAndNewZealand)),
    c("AUT", "AT", 40, "Austria", "Austria", Some(SubRegion::WesternEurope)),
    c("AZE", "AZ", 31, "Azerbaiyán", "Azerbaijan", Some(SubRegion::WesternAsia)),
    c("BDI", "BI", 108, "Burundi", "Burundi", Some(SubRegion::SubSaharanAfrica)),
    c("BEL", "BE", 56, "Bélgica", "Belgium", Some(SubRegion::WesternEurope)),
    c("BEN", "BJ", 204, "Benín", "Benin", Some(SubRegion::SubSaharanAfrica)),
    c("BES", "BQ", 535, "Bonaire, San Eustaquio y Saba", "Bonaire, Sint Eustatius and Saba", Some(SubRegion::Caribbean)),
    c("BFA", "BF", 854, "Burkina Faso", "Burkina Faso", Some(SubRegion::SubSaharanAfrica)),
    c("BGD", "BD", 50, "Bangladesh", "Bangladesh", Some(SubRegion::SouthernAsia)),
    c("BGR", "BG", 100, "Bulgaria", "Bulgaria", Some(SubRegion::EasternEurope)),
    c("BHR", "BH", 48, "Baréin", "Bahrain", Some(SubRegion::WesternAsia)),
    c("BHS", "BS", 44, "Bahamas", "Bahamas", Some(SubRegion::Caribbean)),
    c("BIH", "BA", 70, "Bosnia y Herzegovina", "Bosnia and Herzegovina", Some(SubRegion::SouthernEurope)),
    c("BLM", "BL", 652, "San Bartolomé", "Saint Barthélemy", Some(SubRegion::Caribbean)),
    c("BLR", "BY", 112, "Bielorrusia", "Belarus", Some(SubRegion::EasternEurope)),
    c("BLZ", "BZ", 84, "Belice", "Belize", Some(SubRegion::CentralAmerica)),
    c("BMU", "BM", 60, "Bermudas", "Bermuda", Some(SubRegion::NorthernAmerica)),
    c("BOL", "BO", 68, "Bolivia", "Bolivia, Plurinational State of", Some(SubRegion::SouthAmerica)),
    c("BRA", "BR", 76, "Brasil", "Brazil", Some(SubRegion::SouthAmerica)),
    c("BRB", "BB", 52, "Barbados", "Barbados", Some(SubRegion::Caribbean)),
    c("BRN", "BN", 96, "Brunéi", "Brunei Darussalam", Some(SubRegion::SouthEasternAsia)),
    c("BTN", "BT", 64, "Bután", "Bhutan", Some(SubRegion::SouthernAsia)),
    c("BVT", "BV", 74, "Isla Bouvet", "Bouvet Island", Some(SubRegion::SouthAmerica)),
    c("BWA", "BW", 72, "Botsuana", "Botswana", Some(SubRegion::SubSaharanAfrica)),
    c("CAF", "CF", 140, "República Centroafricana", "Central African Republic", Some(SubRegion::SubSaharanAfrica)),
    c("CAN", "CA", 124, "Canadá", "Canada", Some(SubRegion::NorthernAmerica)),
    c("CCK", "CC", 166, "Islas Cocos (Keeling)", "Cocos (Keeling) Islands", Some(SubRegion::AustraliaAndNewZealand)),
    c("CHE", "CH", 756, "Suiza", "Switzerland", Some(SubRegion::WesternEurope)),
    c("CHL", "CL", 152, "Chile", "Chile", Some(SubRegion::SouthAmerica)),
    c("CHN", "CN", 156, "China", "China", Some(SubRegion::EasternAsia)),
    c("CIV", "CI", 384, "Costa de Marfil", "Côte d'Ivoire", Some(SubRegion::SubSaharanAfrica)),
    c("CMR", "CM", 120, "Camerún", "Cameroon", Some(SubRegion::SubSaharanAfrica)),
    c("COD", "CD", 180, "República Democrática del Congo", "Congo, The Democratic Republic of the", Some(SubRegion::SubSaharanAfrica)),
    c("COG", "CG", 178, "Congo", "Congo", Some(SubRegion::SubSaharanAfrica)),
    c("COK", "CK", 184, "Islas Cook", "Cook Islands", Some(SubRegion::Polynesia)),
    c("COL", "CO", 170, "Colombia", "Colombia", Some(SubRegion::SouthAmerica)),
    c("COM", "KM", 174, "Comoras", "Comoros", Some(SubRegion::SubSaharanAfrica)),
    c("CPV", "CV", 132, "Cabo Verde", "Cabo Verde", Some(SubRegion::SubSaharanAfrica)),
    c("CRI", "CR", 188, "Costa Rica", "Costa Rica", Some(SubRegion::CentralAmerica)),
    c("CUB", "CU", 192, "Cuba", "Cuba", Some(SubRegion::Caribbean)),
    c("CUW", "CW", 531, "Curazao", "Curaçao", Some(SubRegion::Caribbean)),
    c("CXR", "CX", 162, "Isla de Navidad", "Christmas Island", Some(SubRegion::AustraliaAndNewZealand)),
    c("CYM", "KY", 136, "Islas Caimán", "Cayman Islands", Some(SubRegion::Caribbean)),
    c("CYP", "CY", 196, "Chipre", "Cyprus", Some(SubRegion::WesternAsia)),
    c("CZE", "CZ", 203, "Chequia", "Czechia", Some(SubRegion::EasternEurope)),
    c("DEU", "DE", 276, "Alemania", "Germany", Some(SubRegion::WesternEurope)),
    c("DJI", "DJ", 262, "Yibuti", "Djibouti", Some(SubRegion::SubSaharanAfrica)),
    c("DMA", "DM", 212, "Dominica", "Dominica", Some(SubRegion::Caribbean)),
    c("DNK", "DK", 208, "Dinamarca", "Denmark", Some(SubRegion::NorthernEurope)),
    c("DOM", "DO", 214, "República Dominicana", "Dominican Republic", Some(SubRegion::Caribbean)),
    c("DZA", "DZ", 12, "Argelia", "Algeria", Some(SubRegion::NorthernAfrica)),
    c("ECU", "EC", 218, "Ecuador", "Ecuador", Some(SubRegion::SouthAmerica)),
    c("EGY", "EG", 818, "Egipto", "Egypt", Some(SubRegion::NorthernAfrica)),
    c("ERI", "ER", 232, "Eritrea", "Eritrea", Some(SubRegion::SubSaharanAfrica)),
    c("ESH", "EH", 732, "Sahara Occidental", "Western Sahara", Some(SubRegion::NorthernAfrica)),
    c("ESP", "ES", 724, "España", "Spain", Some(SubRegion::SouthernEurope)),
    c("EST", "EE", 233, "Estonia", "Estonia", Some(SubRegion::NorthernEurope)),
    c("ETH", "ET", 231, "Etiopía", "Ethiopia", Some(SubRegion::SubSaharanAfrica)),
    c("FIN", "FI", 246, "Finlandia", "Finland", Some(SubRegion::NorthernEurope)),
    c("FJI", "FJ", 242, "Fiyi", "Fiji", Some(SubRegion::Melanesia)),
    c("FLK", "FK", 238, "Islas Malvinas (Falkland)", "Falkland Islands (Malvinas)", Some(SubRegion::SouthAmerica)),
    c("FRA", "FR", 250, "Francia", "France", Some(SubRegion::WesternEurope)),
    c("FRO", "FO", 234, "Islas Feroe", "Faroe Islands", Some(SubRegion::NorthernEurope)),
    c("FSM", "FM", 583, "Micronesia", "Micronesia, Federated States of", Some(SubRegion::Micronesia)),
    c("GAB", "GA", 266, "Gabón", "Gabon", Some(SubRegion::SubSaharanAfrica)),
    c("GBR", "GB", 826, "Reino Unido", "United Kingdom", Some(SubRegion::NorthernEurope)),
    c("GEO", "GE", 268, "Georgia", "Georgia", Some(SubRegion::WesternAsia)),
    c("GGY", "GG", 831, "Guernsey", "Guernsey", Some(SubRegion::NorthernEurope)),
    c("GHA", "GH", 288, "Ghana", "Ghana", Some(SubRegion::SubSaharanAfrica)),
    c("GIB", "GI", 292, "Gibraltar", "Gibraltar", Some(SubRegion::SouthernEurope)),
    c("GIN", "GN", 324, "Guinea", "Guinea", Some(SubRegion::SubSaharanAfrica)),
    c("GLP", "GP", 312, "Guadalupe", "Guadeloupe", Some(SubRegion::Caribbean)),
    c("GMB", "GM", 270, "Gambia", "Gambia", Some(SubRegion::SubSaharanAfrica)),
    c("GNB", "GW", 624, "Guinea-Bisáu", "Guinea-Bissau", Some(SubRegion::SubSaharanAfrica)),
    c("GNQ", "GQ", 226, "Guinea Ecuatorial", "Equatorial Guinea", Some(SubRegion::SubSaharanAfrica)),
    c("GRC", "GR", 300, "Grecia", "Greece", Some(SubRegion::SouthernEurope)),
    c("GRD", "GD", 308, "Granada", "Grenada", Some(SubRegion::Caribbean)),
    c("GRL", "GL", 304, "Groenlandia", "Greenland", Some(SubRegion::NorthernAmerica)),
    c("GTM", "GT", 320, "Guatemala", "Guatemala", Some(SubRegion::CentralAmerica)),
    c("GUF", "GF", 254, "Guayana Francesa", "French Guiana", Some(SubRegion::SouthAmerica)),
    c("GUM", "GU", 316, "Guam", "Guam", Some(SubRegion::Micronesia)),
    c("GUY", "GY", 328, "Guyana", "Guyana", Some(SubRegion::SouthAmerica)),
    c("HKG", "HK", 344, "Hong Kong", "Hong Kong", Some(SubRegion::EasternAsia)),
    c("HMD", "HM", 334, "Islas Heard y McDonald", "Heard Island and McDonald Islands", Some(SubRegion::AustraliaAndNewZealand)),
    c("HND", "HN", 340, "Honduras", "Honduras", Some(SubRegion::CentralAmerica)),
    c("HRV", "HR", 191, "Croacia", "Croatia", Some(SubRegion::SouthernEurope)),
    c("HTI", "HT", 332, "Haití", "Haiti", Some(SubRegion::Caribbean)),
    c("HUN", "HU", 348, "Hungría", "Hungary", Some(SubRegion::EasternEurope)),
    c("IDN", "ID", 360, "Indonesia", "Indonesia", Some(SubRegion::SouthEasternAsia)),
    c("IMN", "IM", 833, "Isla de Man", "Isle of Man", Some(SubRegion::NorthernEurope)),
    c("IND", "IN", 356, "India", "India", Some(SubRegion::SouthernAsia)),
    c("IOT", "IO", 86, "Territorio Británico del Océano Índico", "British Indian Ocean Territory", Some(SubRegion::SubSaharanAfrica)),
    c("IRL", "IE", 372, "Irlanda", "Ireland", Some(SubRegion::NorthernEurope)),
    c("IRN", "IR", 364, "Irán", "Iran, Islamic Republic of", Some(SubRegion::SouthernAsia)),
    c("IRQ", "IQ", 368, "Irak", "Iraq", Some(SubRegion::WesternAsia)),
    c("ISL", "IS", 352, "Islandia", "Iceland", Some(SubRegion::NorthernEurope)),
    c("ISR", "IL", 376, "Israel", "Israel", Some(SubRegion::WesternAsia)),
    c("ITA", "IT", 380, "Italia", "Italy", Some(SubRegion::SouthernEurope)),
    c("JAM", "JM", 388, "Jamaica", "Jamaica", Some(SubRegion::Caribbean)),
    c("JEY", "JE", 832, "Jersey", "Jersey", Some(SubRegion::NorthernEurope)),
    c("JOR", "JO", 400, "Jordania", "Jordan", Some(SubRegion::WesternAsia)),
    c("JPN", "JP", 392, "Japón", "Japan", Some(SubRegion::EasternAsia)),
    c("KAZ", "KZ", 398, "Kazajistán", "Kazakhstan", Some(SubRegion::CentralAsia)),
    c("KEN", "KE", 404, "Kenia", "Kenya", Some(SubRegion::SubSaharanAfrica)),
    c("KGZ", "KG", 417, "Kirguistán", "Kyrgyzstan", Some(SubRegion::CentralAsia)),
    c("KHM", "KH", 116, "Camboya", "Cambodia", Some(SubRegion::SouthEasternAsia)),
    c("KIR", "KI", 296, "Kiribati", "Kiribati", Some(SubRegion::Micronesia)),
    c("KNA", "KN", 659, "San Cristóbal y Nieves", "Saint Kitts and Nevis", Some(SubRegion::Caribbean)),
    c("KOR", "KR", 410, "Corea del Sur", "Korea, Republic of", Some(SubRegion::EasternAsia)),
    c("KWT", "KW", 414, "Kuwait", "Kuwait", Some(SubRegion::WesternAsia)),
    c("LAO", "LA", 418, "Laos", "Lao People's Democratic Republic", Some(SubRegion::SouthEasternAsia)),
    c("LBN", "LB", 422, "Líbano", "Lebanon", Some(SubRegion::WesternAsia)),
    c("LBR", "LR", 430, "Liberia", "Liberia", Some(SubRegion::SubSaharanAfrica)),
    c("LBY", "LY", 434, "Libia", "Libya", Some(SubRegion::NorthernAfrica)),
    c("LCA", "LC", 662, "Santa Lucía", "Saint Lucia", Some(SubRegion::Caribbean)),
    c("LIE", "LI", 438, "Liechtenstein", "Liechtenstein", Some(SubRegion::WesternEurope)),
    c("LKA", "LK", 144, "Sri Lanka", "Sri Lanka", Some(SubRegion::SouthernAsia)),
    c("LSO", "LS", 426, "Lesoto", "Lesotho", Some(SubRegion::SubSaharanAfrica)),
    c("LTU", "LT", 440, "Lituania", "Lithuania", Some(SubRegion::NorthernEurope)),
    c("LUX", "LU", 442, "Luxemburgo", "Luxembourg", Some(SubRegion::WesternEurope)),
    c("LVA", "LV", 428, "Letonia", "Latvia", Some(SubRegion::NorthernEurope)),
    c("MAC", "MO", 446, "Macao", "Macao", Some(SubRegion::EasternAsia)),
    c("MAF", "MF", 663, "San Martín (parte francesa)", "Saint Martin (French part)", Some(SubRegion::Caribbean)),
    c("MAR", "MA", 504, "Marruecos", "Morocco", Some(SubRegion::NorthernAfrica)),
    c("MCO", "MC", 492, "Mónaco", "Monaco", Some(SubRegion::WesternEurope)),
    c("MDA", "MD", 498, "Moldavia", "Moldova, Republic of", Some(SubRegion::EasternEurope)),
    c("MDG", "MG", 450, "Madagascar", "Madagascar", Some(SubRegion::SubSaharanAfrica)),
    c("MDV", "MV", 462, "Maldivas", "Maldives", Some(SubRegion::SouthernAsia)),
    c("MEX", "MX", 484, "México", "Mexico", Some(SubRegion::CentralAmerica)),
    c("MHL", "MH", 584, "Islas Marshall", "Marshall Islands", Some(SubRegion::Micronesia)),
    c("MKD", "MK", 807, "Macedonia del Norte", "North Macedonia", Some(SubRegion::SouthernEurope)),
    c("MLI", "ML", 466, "Malí", "Mali", Some(SubRegion::SubSaharanAfrica)),
    c("MLT", "MT", 470, "Malta", "Malta", Some(SubRegion::SouthernEurope)),
    c("MMR", "MM", 104, "Myanmar", "Myanmar", Some(SubRegion::SouthEasternAsia)),
    c("MNE", "ME", 499, "Montenegro", "Montenegro", Some(SubRegion::SouthernEurope)),
    c("MNG", "MN", 496, "Mongolia", "Mongolia", Some(SubRegion::EasternAsia)),
    c("MNP", "MP", 580, "Islas Marianas del Norte", "Northern Mariana Islands", Some(SubRegion::Micronesia)),
    c("MOZ", "MZ", 508, "Mozambique", "Mozambique", Some(SubRegion::SubSaharanAfrica)),
    c("MRT", "MR", 478, "Mauritania", "Mauritania", Some(SubRegion::SubSaharanAfrica)),
    c("MSR", "MS", 500, "Montserrat", "Montserrat", Some(SubRegion::Caribbean)),
    c("MTQ", "MQ", 474, "Martinica", "Martinique", Some(SubRegion::Caribbean)),
    c("MUS", "MU", 480, "Mauricio", "Mauritius", Some(SubRegion::SubSaharanAfrica)),
    c("MWI", "MW", 454, "Malaui", "Malawi", Some(SubRegion::SubSaharanAfrica)),
    c("MYS", "MY", 458, "Malasia", "Malaysia", Some(SubRegion::SouthEasternAsia)),
    c("MYT", "YT", 175, "Mayotte", "Mayotte", Some(SubRegion::SubSaharanAfrica)),
    c("NAM", "NA", 516, "Namibia", "Namibia", Some(SubRegion::SubSaharanAfrica)),
    c("NCL", "NC", 540, "Nueva Caledonia", "New Caledonia", Some(SubRegion::Melanesia)),
    c("NER", "NE", 562, "Níger", "Niger", Some(SubRegion::SubSaharanAfrica)),
    c("NFK", "NF", 574, "Isla Norfolk", "Norfolk Island", Some(SubRegion::AustraliaAndNewZealand)),
    c("NGA", "NG", 566, "Nigeria", "Nigeria", Some(SubRegion::SubSaharanAfrica)),
    c("NIC", "NI", 558, "Nicaragua", "Nicaragua", Some(SubRegion::CentralAmerica)),
    c("NIU", "NU", 570, "Niue", "Niue", Some(SubRegion::Polynesia)),
    c("NLD", "NL", 528, "Países Bajos", "Netherlands", Some(SubRegion::WesternEurope)),
    c("NOR", "NO", 578, "Noruega", "Norway", Some(SubRegion::NorthernEurope)),
    c("NPL", "NP", 524, "Nepal", "Nepal", Some(SubRegion::SouthernAsia)),
    c("NRU", "NR", 520, "Nauru", "Nauru", Some(SubRegion::Micronesia)),
    c("NZL", "NZ", 554, "Nueva Zelanda", "New Zealand", Some(SubRegion::AustraliaAndNewZealand)),
    c("OMN", "OM", 512, "Omán", "Oman", Some(SubRegion::WesternAsia)),
    c("PAK", "PK", 586, "Pakistán", "Pakistan", Some(SubRegion::SouthernAsia)),
    c("PAN", "PA", 591, "Panamá", "Panama", Some(SubRegion::CentralAmerica)),
    c("PCN", "PN", 612, "Islas Pitcairn", "Pitcairn", Some(SubRegion::Polynesia)),
    c("PER", "PE", 604, "Perú", "Peru", Some(SubRegion::SouthAmerica)),
    c("PHL", "PH", 608, "Filipinas", "Philippines", Some(SubRegion::SouthEasternAsia)),
    c("PLW", "PW", 585, "Palaos", "Palau", Some(SubRegion::Micronesia)),
    c("PNG", "PG", 598, "Papúa Nueva Guinea", "Papua New Guinea", Some(SubRegion::Melanesia)),
    c("POL", "PL", 616, "Polonia", "Poland", Some(SubRegion::EasternEurope)),
    c("PRI", "PR", 630, "Puerto Rico", "Puerto Rico", Some(SubRegion::Caribbean)),
    c("PRK", "KP", 408, "Corea del Norte", "Korea, Democratic People's Republic of", Some(SubRegion::EasternAsia)),
    c("PRT", "PT", 620, "Portugal", "Portugal", Some(SubRegion::SouthernEurope)),
    c("PRY", "PY", 600, "Paraguay", "Paraguay", Some(SubRegion::SouthAmerica)),
    c("PSE", "PS", 275, "Palestina", "Palestine, State of", Some(SubRegion::WesternAsia)),
    c("PYF", "PF", 258, "Polinesia Francesa", "French Polynesia", Some(SubRegion::Polynesia)),
    c("QAT", "QA", 634, "Catar", "Qatar", Some(SubRegion::WesternAsia)),
    c("REU", "RE", 638, "Reunión", "Réunion", Some(SubRegion::SubSaharanAfrica)),
    c("ROU", "RO", 642, "Rumania", "Romania", Some(SubRegion::EasternEurope)),
    c("RUS", "RU", 643, "Rusia", "Russian Federation", Some(SubRegion::EasternEurope)),
    c("RWA", "RW", 646, "Ruanda", "Rwanda", Some(SubRegion::SubSaharanAfrica)),
    c("SAU", "SA", 682, "Arabia Saudita", "Saudi Arabia", Some(SubRegion::WesternAsia)),
    c("SDN", "SD", 729, "Sudán", "Sudan", Some(SubRegion::NorthernAfrica)),
    c("SEN", "SN", 686, "Senegal", "Senegal", Some(SubRegion::SubSaharanAfrica)),
    c("SGP", "SG", 702, "Singapur", "Singapore", Some(SubRegion::SouthEasternAsia)),
    c("SGS", "GS", 239, "Islas Georgias del Sur y Sándwich del Sur", "South Georgia and the South Sandwich Islands", Some(SubRegion::SouthAmerica)),
    c("SHN", "SH", 654, "Santa Elena, Ascensión y Tristán de Acuña", "Saint Helena, Ascension and Tristan da Cunha", Some(SubRegion::SubSaharanAfrica)),
    c("SJM", "SJ", 744, "Svalbard y Jan Mayen", "Svalbard and Jan Mayen", Some(SubRegion::NorthernEurope)),
    c("SLB", "SB", 90, "Islas Salomón", "Solomon Islands", Some(SubRegion::Melanesia)),
    c("SLE", "SL", 694, "Sierra Leona", "Sierra Leone", Some(SubRegion::SubSaharanAfrica)),
    c("SLV", "SV", 222, "El Salvador", "El Salvador", Some(SubRegion::CentralAmerica)),
    c("SMR", "SM", 674, "San Marino", "San Marino", Some(SubRegion::SouthernEurope)),
    c("SOM", "SO", 706, "Somalia", "Somalia", Some(SubRegion::SubSaharanAfrica)),
    c("SPM", "PM", 666, "San Pedro y Miquelón", "Saint Pierre and Miquelon", Some(SubRegion::NorthernAmerica)),
    c("SRB", "RS", 688, "Serbia", "Serbia", Some(SubRegion::SouthernEurope)),
    c("SSD", "SS", 728, "Sudán del Sur", "South Sudan", Some(SubRegion::SubSaharanAfrica)),
    c("STP", "ST", 678, "Santo Tomé y Príncipe", "Sao Tome and Principe", Some(SubRegion::SubSaharanAfrica)),
    c("SUR", "SR", 740, "Surinam", "Suriname", Some(SubRegion::SouthAmerica)),
    c("SVK", "SK", 703, "Eslovaquia", "Slovakia", Some(SubRegion::EasternEurope)),
    c("SVN", "SI", 705, "Eslovenia", "Slovenia", Some(SubRegion::SouthernEurope)),
    c("SWE", "SE", 752, "Suecia", "Sweden", Some(SubRegion::NorthernEurope)),
    c("SWZ", "SZ", 748, "Esuatini", "Eswatini", Some(SubRegion::SubSaharanAfrica)),
    c("SXM", "SX", 534, "San Martín (parte neerlandesa)", "Sint Maarten (Dutch part)", Some(SubRegion::Caribbean)),
    c("SYC", "SC", 690, "Seychelles", "Seychelles", Some(SubRegion::SubSaharanAfrica)),
    c("SYR", "SY", 760, "Siria", "Syrian Arab Republic", Some(SubRegion::WesternAsia)),
    c("TCA", "TC", 796, "Islas Turcas y Caicos", "Turks and Caicos Islands", Some(SubRegion::Caribbean)),
    c("TCD", "TD", 148, "Chad", "Chad", Some(SubRegion::SubSaharanAfrica)),
    c("TGO", "TG", 768, "Togo", "Togo", Some(SubRegion::SubSaharanAfrica)),
    c("THA", "TH", 764, "Tailandia", "Thailand", Some(SubRegion::SouthEasternAsia)),
    c("TJK", "TJ", 762, "Tayikistán", "Tajikistan", Some(SubRegion::CentralAsia)),
    c("TKL", "TK", 772, "Tokelau", "Tokelau", Some(SubRegion::Polynesia)),
    c("TKM", "TM", 795, "Turkmenistán", "Turkmenistan", Some(SubRegion::CentralAsia)),
    c("TLS", "TL", 626, "Timor Oriental", "Timor-Leste", Some(SubRegion::SouthEasternAsia)),
    c("TON", "TO", 776, "Tonga", "Tonga", Some(SubRegion::Polynesia)),
    c("TTO", "TT", 780, "Trinidad y Tobago", "Trinidad and Tobago", Some(SubRegion::Caribbean)),
    c("TUN", "TN", 788, "Túnez", "Tunisia", Some(SubRegion::NorthernAfrica)),
    c("TUR", "TR", 792, "Turquía", "Türkiye", Some(SubRegion::WesternAsia)),
    c("TUV", "TV", 798, "Tuvalu", "Tuvalu", Some(SubRegion::Polynesia)),
    c("TWN", "TW", 158, "Taiwán", "Taiwan, Province of China", Some(SubRegion::EasternAsia)),
    c("TZA", "TZ", 834, "Tanzania", "Tanzania, United Republic of", Some(SubRegion::SubSaharanAfrica)),
    c("UGA", "UG", 800, "Uganda", "Uganda", Some(SubRegion::SubSaharanAfrica)),
    c("UKR", "UA", 804, "Ucrania", "Ukraine", Some(SubRegion::EasternEurope)),
    c("UMI", "UM", 581, "Islas Ultramarinas Menores de los Estados Unidos", "United States Minor Outlying Islands", Some(SubRegion::Micronesia)),
    c("URY", "UY", 858, "Uruguay", "Uruguay", Some(SubRegion::SouthAmerica)),
    c("USA", "US", 840, "Estados Unidos de América", "United States", Some(SubRegion::NorthernAmerica)),
    c("UZB", "UZ", 860, "Uzbekistán", "Uzbekistan", Some(SubRegion::CentralAsia)),
    c("VAT", "VA", 336, "Santa Sede", "Holy See (Vatican City State)", Some(SubRegion::SouthernEurope)),
    c("VCT", "VC", 670, "San Vicente y las Granadinas", "Saint Vincent and the Grenadines", Some(SubRegion::Caribbean)),
    c("VEN", "VE", 862, "Venezuela", "Venezuela, Bolivarian Republic of", Some(SubRegion::SouthAmerica)),
    c("VGB", "VG", 92, "Islas Vírgenes Británicas", "Virgin Islands, British", Some(SubRegion::Caribbean)),
    c("VIR", "VI", 850, "Islas Vírgenes de los Estados Unidos", "Virgin Islands, U.S.", Some(SubRegion::Caribbean)),
    c("VNM", "VN", 704, "Vietnam", "Viet Nam", Some(SubRegion::SouthEasternAsia)),
    c("VUT", "VU", 548, "Vanuatu", "Vanuatu", Some(SubRegion::Melanesia)),
    c("WLF", "WF", 876, "Wallis y Futuna", "Wallis and Futuna", Some(SubRegion::Polynesia)),
    c("WSM", "WS", 882, "Samoa", "Samoa", Some(SubRegion::Polynesia)),
    c("YEM", "YE", 887, "Yemen", "Yemen", Some(SubRegion::WesternAsia)),
    c("ZAF", "ZA", 710, "Sudáfrica", "South Africa", Some(SubRegion::SubSaharanAfrica)),
    c("ZMB", "ZM", 894, "Zambia", "Zambia", Some(SubRegion::SubSaharanAfrica)),
    c("ZWE", "ZW", 716, "Zimbabue", "Zimbabwe", Some(SubRegion::SubSaharanAfrica)),
];

/// Other names that identify a country: the UN's formal Spanish and English names where the
/// table uses a common one, other common spellings, the abbreviations NGOs type, and the
/// demonyms of the region's nationalities (a citizenship column often says "guatemalteca").
/// Compared after [`fold`], so accents, case, spaces and punctuation do not matter.
#[rustfmt::skip]
pub static ALIASES: &[(&str, &str)] = &[
    // The region and its neighbours, as typed.
    ("Estados Unidos", "USA"), ("EEUU", "USA"), ("EE. UU.", "USA"), ("EUA", "USA"),
    ("USA", "USA"), ("United States of America", "USA"),
    ("estadounidense", "USA"),
    ("Méjico", "MEX"), ("Estados Unidos Mexicanos", "MEX"), ("mexicano", "MEX"), ("mexicana", "MEX"),
    ("guatemalteco", "GTM"), ("guatemalteca", "GTM"), ("República de Guatemala", "GTM"),
    ("hondureño", "HND"), ("hondureña", "HND"), ("República de Honduras", "HND"),
    ("salvadoreño", "SLV"), ("salvadoreña", "SLV"), ("Salvador", "SLV"),
    ("República de El Salvador", "SLV"),
    ("Belize", "BLZ"), ("beliceño", "BLZ"), ("beliceña", "BLZ"),
    ("nicaragüense", "NIC"), ("costarricense", "CRI"),
    ("panameño", "PAN"), ("panameña", "PAN"),
    ("colombiano", "COL"), ("colombiana", "COL"),
    ("venezolano", "VEN"), ("venezolana", "VEN"),
    ("Venezuela (República Bolivariana de)", "VEN"), ("Venezuela (Bolivarian Republic of)", "VEN"),
    ("cubano", "CUB"), ("cubana", "CUB"),
    ("haitiano", "HTI"), ("haitiana", "HTI"),
    ("dominicano", "DOM"), ("dominicana", "DOM"), ("Dominican Rep.", "DOM"),
    ("ecuatoriano", "ECU"), ("ecuatoriana", "ECU"),
    ("peruano", "PER"), ("peruana", "PER"),
    ("español", "ESP"), ("española", "ESP"),
    ("chino", "CHN"), ("República Popular China", "CHN"), ("People's Republic of China", "CHN"),
    ("Bolivia (Estado Plurinacional de)", "BOL"), ("Bolivia (Plurinational State of)", "BOL"),
    ("Surinam", "SUR"), ("Suriname", "SUR"),
    ("Islas Malvinas", "FLK"), ("Falkland Islands", "FLK"),
    ("Trinidad y Tabago", "TTO"), ("Saint Kitts y Nevis", "KNA"), ("Saint Kitts and Nevis", "KNA"),
    ("Islas Vírgenes de EE. UU.", "VIR"), ("US Virgin Islands", "VIR"),
    ("British Virgin Islands", "VGB"),
    ("San Martín", "MAF"), ("Saint Martin", "MAF"), ("Sint Maarten", "SXM"),
    ("Bonaire", "BES"), ("Caribe Neerlandés", "BES"),
    // Europe.
    ("Reino Unido de Gran Bretaña e Irlanda del Norte", "GBR"), ("Gran Bretaña", "GBR"),
    ("Inglaterra", "GBR"), ("UK", "GBR"), ("Great Britain", "GBR"), ("Britain", "GBR"),
    ("England", "GBR"), ("United Kingdom of Great Britain and Northern Ireland", "GBR"),
    ("Países Bajos (Reino de los)", "NLD"), ("Holanda", "NLD"), ("Holland", "NLD"),
    ("Netherlands (Kingdom of the)", "NLD"), ("The Netherlands", "NLD"),
    ("Federación de Rusia", "RUS"), ("Russia", "RUS"),
    ("Belarús", "BLR"), ("Belarus", "BLR"),
    ("República de Moldova", "MDA"), ("Moldova", "MDA"), ("Republic of Moldova", "MDA"),
    ("República Checa", "CZE"), ("Czech Republic", "CZE"),
    ("Rumanía", "ROU"),
    ("Macedonia", "MKD"),
    ("Vaticano", "VAT"), ("Ciudad del Vaticano", "VAT"), ("Vatican", "VAT"),
    ("Vatican City", "VAT"), ("Holy See", "VAT"),
    ("Islas Åland", "ALA"), ("Aland Islands", "ALA"),
    // Asia.
    ("Türkiye", "TUR"), ("Turkey", "TUR"),
    ("Irán (República Islámica del)", "IRN"), ("Iran", "IRN"), ("Iran (Islamic Republic of)", "IRN"),
    ("Iraq", "IRQ"),
    ("República Árabe Siria", "SYR"), ("Syria", "SYR"),
    ("Estado de Palestina", "PSE"), ("Palestine", "PSE"), ("State of Palestine", "PSE"),
    ("Arabia Saudí", "SAU"),
    ("Qatar", "QAT"), ("Bahrein", "BHR"), ("Bahréin", "BHR"), ("Bahrain", "BHR"),
    ("Emiratos", "ARE"), ("EAU", "ARE"), ("UAE", "ARE"),
    ("Kazajstán", "KAZ"),
    ("Bangladés", "BGD"),
    ("República de Corea", "KOR"), ("Corea", "KOR"), ("South Korea", "KOR"),
    ("Republic of Korea", "KOR"),
    ("República Popular Democrática de Corea", "PRK"), ("North Korea", "PRK"),
    ("Democratic People's Republic of Korea", "PRK"),
    ("República Democrática Popular Lao", "LAO"), ("Laos", "LAO"),
    ("Viet Nam", "VNM"), ("Vietnam", "VNM"),
    ("Birmania", "MMR"), ("Burma", "MMR"),
    ("Brunei", "BRN"), ("Brunei Darussalam", "BRN"),
    ("Timor-Leste", "TLS"), ("East Timor", "TLS"),
    ("Taiwan", "TWN"),
    // Africa.
    ("Côte d'Ivoire", "CIV"), ("Ivory Coast", "CIV"),
    ("República Democrática del Congo", "COD"), ("RD Congo", "COD"), ("RDC", "COD"),
    ("Congo-Kinshasa", "COD"), ("DR Congo", "COD"), ("Democratic Republic of the Congo", "COD"),
    ("República del Congo", "COG"), ("Congo-Brazzaville", "COG"), ("Republic of the Congo", "COG"),
    ("República Unida de Tanzanía", "TZA"), ("Tanzanía", "TZA"), ("Tanzania", "TZA"),
    ("United Republic of Tanzania", "TZA"),
    ("Kenya", "KEN"), ("Rwanda", "RWA"), ("Zimbabwe", "ZWE"), ("Botswana", "BWA"),
    ("Malawi", "MWI"), ("Lesotho", "LSO"), ("Djibouti", "DJI"),
    ("Guinea-Bissau", "GNB"),
    ("Eswatini", "SWZ"), ("Suazilandia", "SWZ"), ("Swaziland", "SWZ"),
    ("Cape Verde", "CPV"),
    ("Burquina Faso", "BFA"),
    // Oceania.
    ("Nueva Zelandia", "NZL"),
    ("Micronesia (Estados Federados de)", "FSM"), ("Micronesia", "FSM"),
    ("Micronesia (Federated States of)", "FSM"),
    ("Palau", "PLW"), ("Fiji", "FJI"),
];

/// Folds a name for comparison: Latin-1 letters lose their accents (á→a, ñ→n, ü→u, ç→c,
/// å→a, ø→o, æ→ae, ß→ss, œ→oe), everything is lower-cased, and spaces and punctuation are
/// dropped, so `" Méjico "`, `"MEJICO"` and `"mé-ji-co"` all fold to `"mejico"`. Letters
/// outside Latin-1 are kept, lower-cased.
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        let base: &str = match ch {
            'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å' | 'ª' => {
                "a"
            }
            'è' | 'é' | 'ê' | 'ë' | 'È' | 'É' | 'Ê' | 'Ë' => "e",
            'ì' | 'í' | 'î' | 'ï' | 'Ì' | 'Í' | 'Î' | 'Ï' => "i",
            'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' | 'Ø' | 'º' => {
                "o"
            }
            'ù' | 'ú' | 'û' | 'ü' | 'Ù' | 'Ú' | 'Û' | 'Ü' => "u",
            'ý' | 'ÿ' | 'Ý' => "y",
            'ñ' | 'Ñ' => "n",
            'ç' | 'Ç' => "c",
            'ð' | 'Ð' => "d",
            'þ' | 'Þ' => "th",
            'æ' | 'Æ' => "ae",
            'œ' | 'Œ' => "oe",
            'ß' => "ss",
            _ => {
                if ch.is_alphanumeric() {
                    out.extend(ch.to_lowercase());
                }
                continue;
            }
        };
        out.push_str(base);
    }
    out
}

/// Folded name → index in [`COUNTRIES`], built once from the names and [`ALIASES`].
fn name_index() -> &'static HashMap<String, usize> {
    static INDEX: OnceLock<HashMap<String, usize>> = OnceLock::new();
    INDEX.get_or_init(|| {
        let mut index = HashMap::new();
        for (i, c) in COUNTRIES.iter().enumerate() {
            index.entry(fold(c.name_es)).or_insert(i);
            index.entry(fold(c.name_en)).or_insert(i);
        }
        for (alias, alpha3) in ALIASES {
            if let Some(i) = COUNTRIES.iter().position(|c| c.alpha3 == *alpha3) {
                index.entry(fold(alias)).or_insert(i);
            }
        }
        index
    })
}

/// The country with this code.
pub fn country(code: CountryCode) -> Option<&'static Country> {
    by_alpha3(code.as_str())
}

/// The country with this alpha-3 code, exact (capitals).
fn by_alpha3(s: &str) -> Option<&'static Country> {
    COUNTRIES
        .binary_search_by(|c| c.alpha3.cmp(s))
        .ok()
        .and_then(|i| COUNTRIES.get(i))
}

/// The country with this alpha-2 code, in any case, e.g. `gt`.
pub fn by_alpha2(s: &str) -> Option<&'static Country> {
    let s = s.trim();
    COUNTRIES.iter().find(|c| c.alpha2.eq_ignore_ascii_case(s))
}

/// The country with this Spanish or English name, or one of [`ALIASES`], ignoring case,
/// accents, spaces and punctuation: `"mexico"`, `"México"`, `"EEUU"`, `"Estados Unidos"`.
pub fn by_name(s: &str) -> Option<&'static Country> {
    let key = fold(s);
    if key.is_empty() {
        return None;
    }
    name_index().get(&key).and_then(|&i| COUNTRIES.get(i))
}

/// Reads what a person or a file gives as a country: an alpha-3 or alpha-2 code in any case,
/// or a name ([`by_name`]); surrounding spaces are ignored. `None` if it is none of these.
pub fn parse_country(s: &str) -> Option<CountryCode> {
    let s = s.trim();
    let coded = match s.len() {
        2 => by_alpha2(s),
        3 if s.is_ascii() => by_alpha3(&s.to_ascii_uppercase()),
        _ => None,
    };
    coded.or_else(|| by_name(s)).and_then(Country::code)
}

/// The countries of a UN M49 sub-region.
pub fn countries_in(sub: SubRegion) -> impl Iterator<Item = &'static Country> {
    COUNTRIES
        .iter()
        .filter(move |c| c.m49_subregion == Some(sub))
}

/// An ISO 3166-2 first-level subdivision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subdivision {
    /// ISO 3166-2 code, e.g. `GT-QZ`.
    pub code: &'static str,
    /// ISO 3166-1 alpha-3 of the country, e.g. `GTM`.
    pub country: &'static str,
    /// Name as in ISO 3166-2 (Spanish).
    pub name: &'static str,
}

const fn s(code: &'static str, country: &'static str, name: &'static str) -> Subdivision {
    Subdivision {
        code,
        country,
        name,
    }
}

/// The first-level subdivisions of Guatemala (22 departamentos), Honduras (18 departamentos),
/// El Salvador (14 departamentos) and Mexico (32 entidades federativas), sorted by code.
#[rustfmt::skip]
pub static SUBDIVISIONS: &[Subdivision] = &[
    s("GT-AV", "GTM", "Alta Verapaz"),
    s("GT-BV", "GTM", "Baja Verapaz"),
    s("GT-CM", "GTM", "Chimaltenango"),
    s("GT-CQ", "GTM", "Chiquimula"),
    s("GT-ES", "GTM", "Escuintla"),
    s("GT-GU", "GTM", "Guatemala"),
    s("GT-HU", "GTM", "Huehuetenango"),
    s("GT-IZ", "GTM", "Izabal"),
    s("GT-JA", "GTM", "Jalapa"),
    s("GT-JU", "GTM", "Jutiapa"),
    s("GT-PE", "GTM", "Petén"),
    s("GT-PR", "GTM", "El Progreso"),
    s("GT-QC", "GTM", "Quiché"),
    s("GT-QZ", "GTM", "Quetzaltenango"),
    s("GT-RE", "GTM", "Retalhuleu"),
    s("GT-SA", "GTM", "Sacatepéquez"),
    s("GT-SM", "GTM", "San Marcos"),
    s("GT-SO", "GTM", "Sololá"),
    s("GT-SR", "GTM", "Santa Rosa"),
    s("GT-SU", "GTM", "Suchitepéquez"),
    s("GT-TO", "GTM", "Totonicapán"),
    s("GT-ZA", "GTM", "Zacapa"),
    s("HN-AT", "HND", "Atlántida"),
    s("HN-CH", "HND", "Choluteca"),
    s("HN-CL", "HND", "Colón"),
    s("HN-CM", "HND", "Comayagua"),
    s("HN-CP", "HND", "Copán"),
    s("HN-CR", "HND", "Cortés"),
    s("HN-EP", "HND", "El Paraíso"),
    s("HN-FM", "HND", "Francisco Morazán"),
    s("HN-GD", "HND", "Gracias a Dios"),
    s("HN-IB", "HND", "Islas de la Bahía"),
    s("HN-IN", "HND", "Intibucá"),
    s("HN-LE", "HND", "Lempira"),
    s("HN-LP", "HND", "La Paz"),
    s("HN-OC", "HND", "Ocotepeque"),
    s("HN-OL", "HND", "Olancho"),
    s("HN-SB", "HND", "Santa Bárbara"),
    s("HN-VA", "HND", "Valle"),
    s("HN-YO", "HND", "Yoro"),
    s("SV-AH", "SLV", "Ahuachapán"),
    s("SV-CA", "SLV", "Cabañas"),
    s("SV-CH", "SLV", "Chalatenango"),
    s("SV-CU", "SLV", "Cuscatlán"),
    s("SV-LI", "SLV", "La Libertad"),
    s("SV-MO", "SLV", "Morazán"),
    s("SV-PA", "SLV", "La Paz"),
    s("SV-SA", "SLV", "Santa Ana"),
    s("SV-SM", "SLV", "San Miguel"),
    s("SV-SO", "SLV", "Sonsonate"),
    s("SV-SS", "SLV", "San Salvador"),
    s("SV-SV", "SLV", "San Vicente"),
    s("SV-UN", "SLV", "La Unión"),
    s("SV-US", "SLV", "Usulután"),
    s("MX-AGU", "MEX", "Aguascalientes"),
    s("MX-BCN", "MEX", "Baja California"),
    s("MX-BCS", "MEX", "Baja California Sur"),
    s("MX-CAM", "MEX", "Campeche"),
    s("MX-CHH", "MEX", "Chihuahua"),
    s("MX-CHP", "MEX", "Chiapas"),
    s("MX-CMX", "MEX", "Ciudad de México"),
    s("MX-COA", "MEX", "Coahuila de Zaragoza"),
    s("MX-COL", "MEX", "Colima"),
    s("MX-DUR", "MEX", "Durango"),
    s("MX-GRO", "MEX", "Guerrero"),
    s("MX-GUA", "MEX", "Guanajuato"),
    s("MX-HID", "MEX", "Hidalgo"),
    s("MX-JAL", "MEX", "Jalisco"),
    s("MX-MEX", "MEX", "México"),
    s("MX-MIC", "MEX", "Michoacán de Ocampo"),
    s("MX-MOR", "MEX", "Morelos"),
    s("MX-NAY", "MEX", "Nayarit"),
    s("MX-NLE", "MEX", "Nuevo León"),
    s("MX-OAX", "MEX", "Oaxaca"),
    s("MX-PUE", "MEX", "Puebla"),
    s("MX-QUE", "MEX", "Querétaro"),
    s("MX-ROO", "MEX", "Quintana Roo"),
    s("MX-SIN", "MEX", "Sinaloa"),
    s("MX-SLP", "MEX", "San Luis Potosí"),
    s("MX-SON", "MEX", "Sonora"),
    s("MX-TAB", "MEX", "Tabasco"),
    s("MX-TAM", "MEX", "Tamaulipas"),
    s("MX-TLA", "MEX", "Tlaxcala"),
    s("MX-VER", "MEX", "Veracruz de Ignacio de la Llave"),
    s("MX-YUC", "MEX", "Yucatán"),
    s("MX-ZAC", "MEX", "Zacatecas"),
];

/// ISO's numeric codes for Guatemala's departments (INE numbering, `GT-01` Guatemala …
/// `GT-22` Jutiapa) → the two-letter codes Puente stores.
#[rustfmt::skip]
pub static GT_NUMERIC_CODES: &[(&str, &str)] = &[
    ("GT-01", "GT-GU"), ("GT-02", "GT-PR"), ("GT-03", "GT-SA"), ("GT-04", "GT-CM"),
    ("GT-05", "GT-ES"), ("GT-06", "GT-SR"), ("GT-07", "GT-SO"), ("GT-08", "GT-TO"),
    ("GT-09", "GT-QZ"), ("GT-10", "GT-SU"), ("GT-11", "GT-RE"), ("GT-12", "GT-SM"),
    ("GT-13", "GT-HU"), ("GT-14", "GT-QC"), ("GT-15", "GT-BV"), ("GT-16", "GT-AV"),
    ("GT-17", "GT-PE"), ("GT-18", "GT-IZ"), ("GT-19", "GT-ZA"), ("GT-20", "GT-CQ"),
    ("GT-21", "GT-JA"), ("GT-22", "GT-JU"),
];

/// The subdivisions of a country (none for countries outside GTM, HND, SLV, MEX).
pub fn subdivisions_of(country: CountryCode) -> impl Iterator<Item = &'static Subdivision> {
    SUBDIVISIONS
        .iter()
        .filter(move |s| s.country == country.as_str())
}

/// The subdivision with this ISO 3166-2 code, in any case, e.g. `GT-QZ` or `mx-cmx`. For
/// Guatemala the numeric codes (`GT-09`) are accepted too and give the stored entry (`GT-QZ`).
pub fn subdivision(code: &str) -> Option<&'static Subdivision> {
    let code = code.trim();
    let code = GT_NUMERIC_CODES
        .iter()
        .find(|(numeric, _)| numeric.eq_ignore_ascii_case(code))
        .map_or(code, |(_, letters)| letters);
    SUBDIVISIONS
        .iter()
        .find(|s| s.code.eq_ignore_ascii_case(code))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn cc(s: &str) -> CountryCode {
        s.parse().unwrap()
    }

    #[test]
    fn all_249_entries_with_unique_codes() {
        assert_eq!(COUNTRIES.len(), 249);
        let a3: HashSet<_> = COUNTRIES.iter().map(|c| c.alpha3).collect();
        let a2: HashSet<_> = COUNTRIES.iter().map(|c| c.alpha2).collect();
        let num: HashSet<_> = COUNTRIES.iter().map(|c| c.numeric).collect();
        assert_eq!((a3.len(), a2.len(), num.len()), (249, 249, 249));
        for c in COUNTRIES {
            assert!(c.alpha2.len() == 2 && c.alpha2.bytes().all(|b| b.is_ascii_uppercase()));
            assert!(c.numeric > 0 && c.numeric < 1000, "{}", c.alpha3);
            assert!(
                !c.name_es.is_empty() && !c.name_en.is_empty(),
                "{}",
                c.alpha3
            );
            let code = c
                .code()
                .unwrap_or_else(|| panic!("{} is not a CountryCode", c.alpha3));
            assert_eq!(country(code), Some(c));
        }
    }

    #[test]
    fn sorted_by_alpha3_for_binary_search() {
        assert!(COUNTRIES.windows(2).all(|w| w[0].alpha3 < w[1].alpha3));
    }

    #[test]
    fn m49_regions() {
        for a3 in ["GTM", "HND", "SLV", "MEX", "BLZ", "NIC", "CRI", "PAN"] {
            let c = country(cc(a3)).unwrap();
            assert_eq!(c.m49_subregion, Some(SubRegion::CentralAmerica), "{a3}");
            assert_eq!(c.m49_region, Some(Region::Americas), "{a3}");
        }
        for a3 in ["USA", "CAN"] {
            assert_eq!(
                country(cc(a3)).unwrap().m49_subregion,
                Some(SubRegion::NorthernAmerica)
            );
        }
        for (a3, sub) in [
            ("CUB", SubRegion::Caribbean),
            ("HTI", SubRegion::Caribbean),
            ("DOM", SubRegion::Caribbean),
            ("COL", SubRegion::SouthAmerica),
            ("ESP", SubRegion::SouthernEurope),
            ("CHN", SubRegion::EasternAsia),
            ("IND", SubRegion::SouthernAsia),
            ("CMR", SubRegion::SubSaharanAfrica),
            ("EGY", SubRegion::NorthernAfrica),
        ] {
            assert_eq!(country(cc(a3)).unwrap().m49_subregion, Some(sub), "{a3}");
        }
        // Only Antarctica has no M49 region; region always agrees with sub-region.
        for c in COUNTRIES {
            assert_eq!(
                c.m49_region,
                c.m49_subregion.map(SubRegion::region),
                "{}",
                c.alpha3
            );
            assert_eq!(c.m49_subregion.is_none(), c.alpha3 == "ATA", "{}", c.alpha3);
        }
        assert_eq!(countries_in(SubRegion::CentralAmerica).count(), 8);
        for sub in SubRegion::ALL {
            assert!(countries_in(*sub).count() > 0, "{sub:?}");
        }
    }

    #[test]
    fn codes_of_regions_are_unique() {
        let codes: HashSet<_> = SubRegion::ALL.iter().map(|s| s.code()).collect();
        let m49: HashSet<_> = SubRegion::ALL.iter().map(|s| s.m49()).collect();
        assert_eq!(
            (codes.len(), m49.len()),
            (SubRegion::ALL.len(), SubRegion::ALL.len())
        );
        let m49: HashSet<_> = Region::ALL.iter().map(|r| r.m49()).collect();
        assert_eq!(m49.len(), 5);
    }

    #[test]
    fn parses_codes_and_names() {
        assert_eq!(parse_country("gt"), Some(cc("GTM")));
        assert_eq!(parse_country("GTM"), Some(cc("GTM")));
        assert_eq!(parse_country("gtm"), Some(cc("GTM")));
        assert_eq!(parse_country(" Hn "), Some(cc("HND")));
        assert_eq!(parse_country(" méxico "), Some(cc("MEX")));
        assert_eq!(parse_country("Estados Unidos"), Some(cc("USA")));
        assert_eq!(parse_country("Narnia"), None);
        assert_eq!(parse_country(""), None);
        assert_eq!(parse_country("   "), None);
        assert_eq!(parse_country("REG"), None, "the hub id is not a country");
        assert_eq!(parse_country("XX"), None);
    }

    #[test]
    fn names_ngos_type() {
        for (typed, a3) in [
            ("Mexico", "MEX"),
            ("México", "MEX"),
            ("MEXICO", "MEX"),
            ("EEUU", "USA"),
            ("EE.UU.", "USA"),
            ("Estados Unidos", "USA"),
            ("Estados Unidos de América", "USA"),
            ("USA", "USA"),
            ("United States", "USA"),
            ("El Salvador", "SLV"),
            ("elsalvador", "SLV"),
            ("Belice", "BLZ"),
            ("Belize", "BLZ"),
            ("Honduras", "HND"),
            ("Guatemala", "GTM"),
            ("guatemalteca", "GTM"),
            ("Nicaragua", "NIC"),
            ("Costa Rica", "CRI"),
            ("Panamá", "PAN"),
            ("Panama", "PAN"),
            ("Colombia", "COL"),
            ("Venezuela", "VEN"),
            ("Cuba", "CUB"),
            ("Haití", "HTI"),
            ("Haiti", "HTI"),
            ("República Dominicana", "DOM"),
            ("Republica dominicana", "DOM"),
            ("Dominica", "DMA"),
            ("Ecuador", "ECU"),
            ("Perú", "PER"),
            ("España", "ESP"),
            ("Spain", "ESP"),
            ("China", "CHN"),
            ("India", "IND"),
            ("Países Bajos", "NLD"),
            ("Netherlands", "NLD"),
            ("Côte d'Ivoire", "CIV"),
            ("Costa de Marfil", "CIV"),
            ("Türkiye", "TUR"),
            ("Turquía", "TUR"),
            ("Corea del Sur", "KOR"),
            ("Korea, Republic of", "KOR"),
            ("UK", "GBR"),
            ("Reino Unido", "GBR"),
            ("Congo", "COG"),
            ("Níger", "NER"),
            ("Nigeria", "NGA"),
        ] {
            assert_eq!(by_name(typed).map(|c| c.alpha3), Some(a3), "{typed:?}");
            assert_eq!(parse_country(typed), Some(cc(a3)), "{typed:?}");
        }
    }

    #[test]
    fn no_name_or_alias_names_two_countries() {
        let mut seen: HashMap<String, &str> = HashMap::new();
        let names = COUNTRIES
            .iter()
            .flat_map(|c| [(c.name_es, c.alpha3), (c.name_en, c.alpha3)]);
        for (name, a3) in names.chain(ALIASES.iter().copied()) {
            assert!(
                COUNTRIES.iter().any(|c| c.alpha3 == a3),
                "alias to unknown {a3}"
            );
            let key = fold(name);
            assert!(!key.is_empty(), "{name:?}");
            if let Some(other) = seen.insert(key, a3) {
                assert_eq!(other, a3, "{name:?} names both {other} and {a3}");
            }
        }
    }

    #[test]
    fn folds_latin1() {
        assert_eq!(fold(" Méjico "), "mejico");
        assert_eq!(fold("Ñandú Ü Ç"), "nanduuc");
        assert_eq!(fold("Curaçao"), "curacao");
        assert_eq!(fold("Åland"), "aland");
        assert_eq!(fold("Côte d'Ivoire"), "cotedivoire");
        assert_eq!(fold("EE. UU."), "eeuu");
        assert_eq!(fold("Straße"), "strasse");
    }

    #[test]
    fn subdivision_counts_and_prefixes() {
        for (a3, n) in [("GTM", 22), ("HND", 18), ("SLV", 14), ("MEX", 32)] {
            assert_eq!(subdivisions_of(cc(a3)).count(), n, "{a3}");
        }
        assert_eq!(SUBDIVISIONS.len(), 22 + 18 + 14 + 32);
        assert_eq!(subdivisions_of(cc("USA")).count(), 0);
        let codes: HashSet<_> = SUBDIVISIONS.iter().map(|s| s.code).collect();
        assert_eq!(codes.len(), SUBDIVISIONS.len());
        for s in SUBDIVISIONS {
            let c = country(cc(s.country)).unwrap();
            let (prefix, rest) = s.code.split_once('-').unwrap();
            assert_eq!(prefix, c.alpha2, "{}", s.code);
            assert!(
                (2..=3).contains(&rest.len()) && rest.bytes().all(|b| b.is_ascii_uppercase()),
                "{}",
                s.code
            );
            assert!(!s.name.is_empty());
        }
    }

    #[test]
    fn subdivision_lookup() {
        assert_eq!(subdivision("GT-QZ").unwrap().name, "Quetzaltenango");
        assert_eq!(subdivision("gt-qz").unwrap().code, "GT-QZ");
        assert_eq!(subdivision("MX-CMX").unwrap().name, "Ciudad de México");
        assert_eq!(subdivision("HN-CR").unwrap().name, "Cortés");
        assert_eq!(subdivision("SV-SS").unwrap().name, "San Salvador");
        assert_eq!(subdivision("GT-09").unwrap().code, "GT-QZ");
        assert_eq!(subdivision("GT-16").unwrap().name, "Alta Verapaz");
        assert_eq!(subdivision("MX-DIF"), None);
        assert_eq!(subdivision("GT-XX"), None);
        // Every numeric alias leads to a distinct Guatemalan department.
        let targets: HashSet<_> = GT_NUMERIC_CODES
            .iter()
            .map(|(n, _)| subdivision(n).unwrap().code)
            .collect();
        assert_eq!(targets.len(), 22);
    }
}
