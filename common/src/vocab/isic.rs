//! Industries of forced labour, coded in ISIC Rev.4: a section `A`–`U`, optionally narrowed to
//! a division (`A01`, or the division alone, `01`).
//!
//! Sources: UN, International Standard Industrial Classification of All Economic Activities,
//! Revision 4 (ST/ESA/STAT/SER.M/4/Rev.4), section titles in English, and in Spanish as in the
//! UN Spanish edition, Clasificación Industrial Internacional Uniforme (CIIU) Rev.4; the
//! division ranges of each section from the same.

/// One ISIC Rev.4 section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IsicSection {
    /// The section letter, `A`–`U`.
    pub code: char,
    /// Official Spanish title (CIIU Rev.4).
    pub name_es: &'static str,
    /// Official English title (ISIC Rev.4).
    pub name_en: &'static str,
}

const fn s(code: char, name_es: &'static str, name_en: &'static str) -> IsicSection {
    IsicSection {
        code,
        name_es,
        name_en,
    }
}

/// The 21 sections, `A` to `U`.
pub static ISIC_SECTIONS: &[IsicSection] = &[
    s(
        'A',
        "Agricultura, ganadería, silvicultura y pesca",
        "Agriculture, forestry and fishing",
    ),
    s(
        'B',
        "Explotación de minas y canteras",
        "Mining and quarrying",
    ),
    s('C', "Industrias manufactureras", "Manufacturing"),
    s(
        'D',
        "Suministro de electricidad, gas, vapor y aire acondicionado",
        "Electricity, gas, steam and air conditioning supply",
    ),
    s(
        'E',
        "Suministro de agua; evacuación de aguas residuales, gestión de desechos y \
         descontaminación",
        "Water supply; sewerage, waste management and remediation activities",
    ),
    s('F', "Construcción", "Construction"),
    s(
        'G',
        "Comercio al por mayor y al por menor; reparación de vehículos automotores y motocicletas",
        "Wholesale and retail trade; repair of motor vehicles and motorcycles",
    ),
    s(
        'H',
        "Transporte y almacenamiento",
        "Transportation and storage",
    ),
    s(
        'I',
        "Actividades de alojamiento y de servicio de comidas",
        "Accommodation and food service activities",
    ),
    s(
        'J',
        "Información y comunicaciones",
        "Information and communication",
    ),
    s(
        'K',
        "Actividades financieras y de seguros",
        "Financial and insurance activities",
    ),
    s('L', "Actividades inmobiliarias", "Real estate activities"),
    s(
        'M',
        "Actividades profesionales, científicas y técnicas",
        "Professional, scientific and technical activities",
    ),
    s(
        'N',
        "Actividades de servicios administrativos y de apoyo",
        "Administrative and support service activities",
    ),
    s(
        'O',
        "Administración pública y defensa; planes de seguridad social de afiliación obligatoria",
        "Public administration and defence; compulsory social security",
    ),
    s('P', "Enseñanza", "Education"),
    s(
        'Q',
        "Actividades de atención de la salud humana y de asistencia social",
        "Human health and social work activities",
    ),
    s(
        'R',
        "Actividades artísticas, de entretenimiento y recreativas",
        "Arts, entertainment and recreation",
    ),
    s(
        'S',
        "Otras actividades de servicios",
        "Other service activities",
    ),
    s(
        'T',
        "Actividades de los hogares como empleadores; actividades no diferenciadas de los hogares \
         como productores de bienes y servicios para uso propio",
        "Activities of households as employers; undifferentiated goods- and services-producing \
         activities of households for own use",
    ),
    s(
        'U',
        "Actividades de organizaciones y órganos extraterritoriales",
        "Activities of extraterritorial organizations and bodies",
    ),
];

/// The divisions of each section, as inclusive ranges. Numbers in no range (00, 04, 34, 40,
/// 44, 48, 54, 57, 67, 76, 83, 89) are not ISIC Rev.4 divisions.
const DIVISIONS: &[(u8, u8, char)] = &[
    (1, 3, 'A'),
    (5, 9, 'B'),
    (10, 33, 'C'),
    (35, 35, 'D'),
    (36, 39, 'E'),
    (41, 43, 'F'),
    (45, 47, 'G'),
    (49, 53, 'H'),
    (55, 56, 'I'),
    (58, 63, 'J'),
    (64, 66, 'K'),
    (68, 68, 'L'),
    (69, 75, 'M'),
    (77, 82, 'N'),
    (84, 84, 'O'),
    (85, 85, 'P'),
    (86, 88, 'Q'),
    (90, 93, 'R'),
    (94, 96, 'S'),
    (97, 98, 'T'),
    (99, 99, 'U'),
];

/// The section letter of an ISIC Rev.4 division (1–99), or `None` if there is no such
/// division.
pub fn division_section(division: u8) -> Option<char> {
    DIVISIONS
        .iter()
        .find(|(lo, hi, _)| (*lo..=*hi).contains(&division))
        .map(|(_, _, s)| *s)
}

fn section_by_letter(letter: char) -> Option<&'static IsicSection> {
    ISIC_SECTIONS.iter().find(|s| s.code == letter)
}

/// Splits a code into its section and, if given, its division. Accepts `A`, `A01` and `01`,
/// in any case, surrounding spaces ignored; a division must belong to the section given.
fn parse(code: &str) -> Option<(&'static IsicSection, Option<u8>)> {
    let code = code.trim();
    let bytes = code.as_bytes();
    let division = |d: &[u8]| -> Option<u8> {
        match d {
            [a, b] if a.is_ascii_digit() && b.is_ascii_digit() => {
                Some((a - b'0') * 10 + (b - b'0'))
            }
            _ => None,
        }
    };
    match bytes {
        [letter] => Some((section_by_letter(letter.to_ascii_uppercase().into())?, None)),
        [_, _] => {
            let d = division(bytes)?;
            Some((section_by_letter(division_section(d)?)?, Some(d)))
        }
        [letter, rest @ ..] if rest.len() == 2 => {
            let d = division(rest)?;
            let section = division_section(d)?;
            if section != char::from(letter.to_ascii_uppercase()) {
                return None;
            }
            Some((section_by_letter(section)?, Some(d)))
        }
        _ => None,
    }
}

/// The section of a code: `"A"` → A, `"A01"` → A, `"01"` → A, `"47"` → G. `None` for a code
/// that is not an ISIC Rev.4 section or division, or whose division is not in its letter's
/// section (`"B01"`).
pub fn isic_section(code: &str) -> Option<&'static IsicSection> {
    parse(code).map(|(section, _)| section)
}

/// Whether the code is an ISIC Rev.4 section or division, in one of the forms
/// [`isic_section`] accepts.
pub fn valid_isic(code: &str) -> bool {
    parse(code).is_some()
}

/// The form Puente stores: the section letter, followed by the two-digit division if one was
/// given (`"01"` → `"A01"`, `" g47 "` → `"G47"`, `"c"` → `"C"`).
pub fn normalize_isic(code: &str) -> Option<String> {
    parse(code).map(|(section, division)| match division {
        Some(d) => format!("{}{d:02}", section.code),
        None => section.code.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twenty_one_sections_a_to_u() {
        assert_eq!(ISIC_SECTIONS.len(), 21);
        let letters: String = ISIC_SECTIONS.iter().map(|s| s.code).collect();
        assert_eq!(letters, "ABCDEFGHIJKLMNOPQRSTU");
        for s in ISIC_SECTIONS {
            assert!(!s.name_es.is_empty() && !s.name_en.is_empty());
            assert!(
                !s.name_es.contains("  ") && !s.name_en.contains("  "),
                "{}",
                s.code
            );
        }
        assert_eq!(isic_section("T").unwrap().name_en.split(';').count(), 2);
    }

    #[test]
    fn divisions_map_to_their_sections() {
        let expected: &[(&str, &[u8])] = &[
            ("A", &[1, 2, 3]),
            ("B", &[5, 6, 7, 8, 9]),
            ("C", &[10, 20, 33]),
            ("D", &[35]),
            ("E", &[36, 37, 38, 39]),
            ("F", &[41, 42, 43]),
            ("G", &[45, 46, 47]),
            ("H", &[49, 50, 51, 52, 53]),
            ("I", &[55, 56]),
            ("J", &[58, 60, 63]),
            ("K", &[64, 65, 66]),
            ("L", &[68]),
            ("M", &[69, 72, 75]),
            ("N", &[77, 80, 82]),
            ("O", &[84]),
            ("P", &[85]),
            ("Q", &[86, 87, 88]),
            ("R", &[90, 91, 92, 93]),
            ("S", &[94, 95, 96]),
            ("T", &[97, 98]),
            ("U", &[99]),
        ];
        for (section, divisions) in expected {
            for d in *divisions {
                let letter = section.chars().next().unwrap();
                assert_eq!(division_section(*d), Some(letter), "{d:02}");
                assert_eq!(
                    isic_section(&format!("{d:02}")).unwrap().code,
                    letter,
                    "{d:02}"
                );
                assert_eq!(
                    isic_section(&format!("{section}{d:02}")).unwrap().code,
                    letter
                );
                assert!(valid_isic(&format!("{section}{d:02}")));
            }
        }
        // All 88 ISIC Rev.4 divisions, and no others.
        assert_eq!(
            (0..=255u8)
                .filter(|d| division_section(*d).is_some())
                .count(),
            88
        );
        for gap in [0, 4, 34, 40, 44, 48, 54, 57, 67, 76, 83, 89, 100] {
            assert_eq!(division_section(gap), None, "{gap}");
        }
    }

    #[test]
    fn accepts_sections_and_divisions() {
        assert_eq!(
            isic_section("A").unwrap().name_en,
            "Agriculture, forestry and fishing"
        );
        assert_eq!(isic_section("a").unwrap().code, 'A');
        assert_eq!(isic_section(" A01 ").unwrap().code, 'A');
        assert_eq!(isic_section("01").unwrap().code, 'A');
        assert_eq!(isic_section("T97").unwrap().name_es.split(';').count(), 2);
        assert_eq!(isic_section("47").unwrap().code, 'G');
        assert_eq!(isic_section("U").unwrap().code, 'U');
        for ok in ["A", "U", "A01", "C10", "G47", "T97", "97", "99", "u99"] {
            assert!(valid_isic(ok), "{ok:?}");
        }
    }

    #[test]
    fn refuses_what_is_not_isic() {
        for bad in [
            "", " ", "V", "Z", "1", "04", "34", "00", "B01", "A05", "T99", "A1", "A001", "0111",
            "AA", "A-01", "Á", "０１",
        ] {
            assert!(!valid_isic(bad), "{bad:?}");
            assert!(isic_section(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn normalizes() {
        assert_eq!(normalize_isic("01").as_deref(), Some("A01"));
        assert_eq!(normalize_isic(" g47 ").as_deref(), Some("G47"));
        assert_eq!(normalize_isic("c").as_deref(), Some("C"));
        assert_eq!(normalize_isic("B01"), None);
    }
}
