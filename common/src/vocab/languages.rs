//! Languages a person speaks, coded in ISO 639-3 (three lower-case letters): the languages of
//! the region and of the people moving through it, and every Mayan language Guatemala
//! recognises, so that an interview can be planned in the person's own language.
//!
//! Sources: ISO 639-3 (codes and reference names, SIL registration authority); names of
//! Guatemala's Mayan languages in Spanish as the Academia de Lenguas Mayas de Guatemala (ALMG)
//! writes them (`K'iche'`, `Q'eqchi'`). Where ISO 639-3 has only a collective or
//! macrolanguage code (Nahuatl, Zapotec, Mixtec) the main individual languages are listed.
//!
//! Not every language a person speaks is here; the list grows as NGOs need entries. Names are
//! reference data for pick lists and matching; catalogue labels may override them.

use super::geo::fold;

/// One language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Language {
    /// ISO 639-3 code, e.g. `quc`.
    pub code: &'static str,
    /// Spanish name, e.g. `K'iche'`.
    pub name_es: &'static str,
    /// English name, e.g. `K'iche'`.
    pub name_en: &'static str,
}

const fn l(code: &'static str, name_es: &'static str, name_en: &'static str) -> Language {
    Language {
        code,
        name_es,
        name_en,
    }
}

/// The languages Puente codes, grouped: widely spoken languages first, then the Mayan
/// languages of Guatemala, the other indigenous and Afro-descendant languages of Central
/// America, and those of Mexico.
#[rustfmt::skip]
pub static LANGUAGES: &[Language] = &[
    // Widely spoken languages, including those of migrants from outside the Americas.
    l("spa", "Español", "Spanish"),
    l("eng", "Inglés", "English"),
    l("fra", "Francés", "French"),
    l("por", "Portugués", "Portuguese"),
    l("hat", "Criollo haitiano", "Haitian Creole"),
    l("zho", "Chino", "Chinese"), // macrolanguage (Mandarin is cmn)
    l("ara", "Árabe", "Arabic"), // macrolanguage
    l("hin", "Hindi", "Hindi"),
    l("ben", "Bengalí", "Bengali"),
    l("rus", "Ruso", "Russian"),
    l("urd", "Urdu", "Urdu"),
    l("pan", "Panyabí", "Punjabi"),
    l("nep", "Nepalí", "Nepali"), // macrolanguage (Nepali proper is npi)
    l("vie", "Vietnamita", "Vietnamese"),
    l("wol", "Wólof", "Wolof"),
    l("amh", "Amárico", "Amharic"),
    l("tir", "Tigriña", "Tigrinya"),
    // The 22 Mayan languages recognised in Guatemala. Chalchiteko has no ISO 639-3 code of
    // its own (ISO counts it within Awakateko, agu); record it as `agu`.
    l("quc", "K'iche'", "K'iche'"),
    l("mam", "Mam", "Mam"),
    l("cak", "Kaqchikel", "Kaqchikel"),
    l("kek", "Q'eqchi'", "Q'eqchi'"),
    l("kjb", "Q'anjob'al", "Q'anjob'al"),
    l("poh", "Poqomchi'", "Poqomchi'"),
    l("acr", "Achi", "Achi"),
    l("ixl", "Ixil", "Ixil"),
    l("tzj", "Tz'utujil", "Tz'utujil"),
    l("cac", "Chuj", "Chuj"),
    l("jac", "Jakalteko (Popti')", "Jakaltek (Popti')"),
    l("caa", "Ch'orti'", "Ch'orti'"),
    l("knj", "Akateko", "Akatek"),
    l("poc", "Poqomam", "Poqomam"),
    l("quv", "Sakapulteko", "Sakapultek"),
    l("agu", "Awakateko", "Awakatek"),
    l("qum", "Sipakapense", "Sipakapense"),
    l("mop", "Mopan", "Mopan"),
    l("usp", "Uspanteko", "Uspantek"),
    l("ttc", "Tektiteko", "Tektitek"),
    l("itz", "Itza'", "Itza'"),
    // Other indigenous and Afro-descendant languages of Central America.
    l("cab", "Garífuna", "Garifuna"),
    l("xin", "Xinka", "Xinka"), // ISO 639-3 lists Xinka as extinct; it is being revitalised
    l("ppl", "Náhuat (pipil)", "Nawat (Pipil)"),
    l("len", "Lenca", "Lenca"), // ISO 639-3 lists Lenca as extinct; people still identify with it
    l("miq", "Miskito", "Miskito"),
    l("pay", "Pech", "Pech"),
    l("jic", "Tol (tolupán)", "Tol (Tolupan)"),
    l("yan", "Tawahka (mayangna)", "Tawahka (Mayangna)"), // was sum (Sumo), split in 2010
    l("bzj", "Kriol beliceño", "Belize Kriol"),
    // Indigenous languages of Mexico (and, for Tsotsil, Tseltal, Ch'ol, Tojolabal, Mam and
    // Yucatec Maya, of the border with Guatemala).
    l("tzo", "Tsotsil", "Tsotsil"),
    l("tzh", "Tseltal", "Tseltal"),
    l("ctu", "Ch'ol", "Ch'ol"),
    l("toj", "Tojolabal", "Tojolabal"),
    l("yua", "Maya yucateco", "Yucatec Maya"),
    l("nhe", "Náhuatl de la Huasteca oriental", "Eastern Huasteca Nahuatl"),
    l("nch", "Náhuatl de la Huasteca central", "Central Huasteca Nahuatl"),
    l("nhw", "Náhuatl de la Huasteca occidental", "Western Huasteca Nahuatl"),
    l("ngu", "Náhuatl de Guerrero", "Guerrero Nahuatl"),
    l("nhn", "Náhuatl central", "Central Nahuatl"),
    l("azz", "Náhuatl de la Sierra Norte de Puebla", "Highland Puebla Nahuatl"),
    l("nhy", "Náhuatl del norte de Oaxaca", "Northern Oaxaca Nahuatl"),
    l("zai", "Zapoteco del Istmo", "Isthmus Zapotec"),
    l("zaa", "Zapoteco de la Sierra de Juárez", "Sierra de Juárez Zapotec"),
    l("zab", "Zapoteco del valle de Tlacolula occidental", "Western Tlacolula Valley Zapotec"),
    l("mxv", "Mixteco de Metlatónoc", "Metlatónoc Mixtec"),
    l("mim", "Mixteco de Alacatlatzala", "Alacatlatzala Mixtec"),
    l("mig", "Mixteco de San Miguel el Grande", "San Miguel El Grande Mixtec"),
    l("tsz", "Purépecha", "Purepecha"),
    l("ote", "Otomí del Mezquital", "Mezquital Otomi"),
    l("maz", "Mazahua", "Central Mazahua"),
    l("top", "Totonaco de Papantla", "Papantla Totonac"),
    l("tcf", "Me'phaa (tlapaneco) de Malinaltepec", "Malinaltepec Me'phaa (Tlapanec)"),
];

/// The ISO 639-3 codes of the Mayan languages recognised in Guatemala (21 codes for 22
/// languages: Chalchiteko is coded `agu`).
pub static GUATEMALA_MAYAN: &[&str] = &[
    "quc", "mam", "cak", "kek", "kjb", "poh", "acr", "ixl", "tzj", "cac", "jac", "caa", "knj",
    "poc", "quv", "agu", "qum", "mop", "usp", "ttc", "itz",
];

/// Older Spanish spellings and other names found in files, for [`language_by_name`].
#[rustfmt::skip]
static ALIASES: &[(&str, &str)] = &[
    ("Castellano", "spa"), ("Kreyòl", "hat"), ("Kreyol ayisyen", "hat"), ("Mandarín", "zho"),
    ("Quiché", "quc"), ("Kiche", "quc"), ("Cakchiquel", "cak"), ("Kekchí", "kek"),
    ("Kekchi", "kek"), ("Kanjobal", "kjb"), ("Pocomchí", "poh"), ("Tzutujil", "tzj"),
    ("Jakalteko", "jac"), ("Jacalteco", "jac"), ("Popti'", "jac"), ("Chortí", "caa"),
    ("Acateco", "knj"), ("Pocomam", "poc"), ("Sacapulteco", "quv"),
    ("Aguacateco", "agu"), ("Chalchiteko", "agu"), ("Sipacapense", "qum"),
    ("Mopán", "mop"), ("Uspanteco", "usp"), ("Tectiteco", "ttc"), ("Itzá", "itz"),
    ("Garífuna", "cab"), ("Xinca", "xin"), ("Pipil", "ppl"), ("Nawat", "ppl"), ("Náhuat", "ppl"),
    ("Misquito", "miq"), ("Mískito", "miq"), ("Tolupán", "jic"), ("Tawahka", "yan"),
    ("Mayangna", "yan"), ("Sumo", "yan"), ("Tzotzil", "tzo"), ("Tzeltal", "tzh"), ("Chol", "ctu"),
    ("Tarasco", "tsz"),
];

/// The language with this ISO 639-3 code (any case, surrounding spaces ignored).
pub fn language(code: &str) -> Option<&'static Language> {
    let code = code.trim();
    LANGUAGES.iter().find(|l| l.code.eq_ignore_ascii_case(code))
}

/// The language with this Spanish or English name, or an older spelling such as `Quiché` or
/// `Kekchí`, ignoring case, accents, spaces and punctuation (apostrophes included, so
/// `Kiche` finds K'iche').
pub fn language_by_name(name: &str) -> Option<&'static Language> {
    let key = fold(name);
    if key.is_empty() {
        return None;
    }
    LANGUAGES
        .iter()
        .find(|l| fold(l.name_es) == key || fold(l.name_en) == key)
        .or_else(|| {
            ALIASES
                .iter()
                .find(|(a, _)| fold(a) == key)
                .and_then(|(_, c)| language(c))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_are_unique_three_lowercase_letters() {
        let codes: HashSet<_> = LANGUAGES.iter().map(|l| l.code).collect();
        assert_eq!(codes.len(), LANGUAGES.len());
        for l in LANGUAGES {
            assert!(
                l.code.len() == 3 && l.code.bytes().all(|b| b.is_ascii_lowercase()),
                "{:?}",
                l.code
            );
            assert!(!l.name_es.is_empty() && !l.name_en.is_empty(), "{}", l.code);
        }
    }

    #[test]
    fn every_guatemalan_mayan_language_is_present() {
        let want = [
            "quc", "mam", "cak", "kek", "kjb", "poh", "acr", "ixl", "tzj", "cac", "jac", "caa",
            "knj", "poc", "quv", "agu", "qum", "mop", "usp", "ttc", "itz",
        ];
        assert_eq!(GUATEMALA_MAYAN.len(), 21);
        for code in want {
            assert!(language(code).is_some(), "{code} missing");
            assert!(
                GUATEMALA_MAYAN.contains(&code),
                "{code} not in GUATEMALA_MAYAN"
            );
        }
        assert_eq!(language("quc").unwrap().name_es, "K'iche'");
        assert_eq!(language("kek").unwrap().name_es, "Q'eqchi'");
    }

    #[test]
    fn regional_and_requested_languages_are_present() {
        for code in [
            "spa", "eng", "fra", "por", "hat", "zho", "ara", "hin", "ben", "rus", "cab", "xin",
            "miq", "len", "pay", "jic", "yan", "ppl", "tzo", "tzh", "ctu", "toj", "nhe", "nch",
            "ngu", "zai", "mig",
        ] {
            assert!(language(code).is_some(), "{code} missing");
        }
        assert_eq!(language(" QUC ").unwrap().code, "quc");
        assert!(language("nah").is_none(), "collective codes are not used");
        assert!(language("xx").is_none());
    }

    #[test]
    fn aliases_point_to_listed_languages() {
        for (alias, code) in ALIASES {
            assert!(language(code).is_some(), "{alias} → {code}");
        }
    }

    #[test]
    fn finds_by_name() {
        for (name, code) in [
            ("K'iche'", "quc"),
            ("kiche", "quc"),
            ("Quiché", "quc"),
            ("Q'eqchi'", "kek"),
            ("kekchi", "kek"),
            ("español", "spa"),
            ("Spanish", "spa"),
            ("garifuna", "cab"),
            ("Chalchiteko", "agu"),
        ] {
            assert_eq!(
                language_by_name(name).map(|l| l.code),
                Some(code),
                "{name:?}"
            );
        }
        assert!(language_by_name("Klingon").is_none());
        assert!(language_by_name("  ").is_none());
    }
}
