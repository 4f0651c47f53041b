//! Translation catalogues (Fluent), Spanish first, English second, chosen per request.

use std::collections::HashMap;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use unic_langid::LanguageIdentifier;

/// A language the interface speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    Es,
    En,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::Es, Lang::En];

    pub fn code(self) -> &'static str {
        match self {
            Lang::Es => "es",
            Lang::En => "en",
        }
    }

    pub fn parse(s: &str) -> Option<Lang> {
        match s.trim().to_ascii_lowercase().as_str() {
            "es" => Some(Lang::Es),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The best of our languages for an `Accept-Language` header, by quality.
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        let mut best: Option<(f32, Lang)> = None;
        for part in header.split(',') {
            let mut it = part.split(';');
            let tag = it.next().unwrap_or("").trim();
            let primary = tag.split('-').next().unwrap_or("");
            let q = it
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            if let Some(lang) = Lang::parse(primary) {
                if q > 0.0 && best.is_none_or(|(bq, _)| q > bq) {
                    best = Some((q, lang));
                }
            }
        }
        best.map(|(_, l)| l)
    }
}

const CATALOGUES: [(Lang, &str, &str); 20] = [
    (Lang::Es, "ui", include_str!("../../i18n/es/ui.ftl")),
    (
        Lang::Es,
        "messages",
        include_str!("../../i18n/es/messages.ftl"),
    ),
    (Lang::Es, "vocab", include_str!("../../i18n/es/vocab.ftl")),
    (Lang::Es, "cases", include_str!("../../i18n/es/cases.ftl")),
    (
        Lang::Es,
        "directory",
        include_str!("../../i18n/es/directory.ftl"),
    ),
    (
        Lang::Es,
        "federation",
        include_str!("../../i18n/es/federation.ftl"),
    ),
    (
        Lang::Es,
        "referrals",
        include_str!("../../i18n/es/referrals.ftl"),
    ),
    (
        Lang::Es,
        "statistics",
        include_str!("../../i18n/es/statistics.ftl"),
    ),
    (Lang::Es, "hub", include_str!("../../i18n/es/hub.ftl")),
    (
        Lang::Es,
        "retention",
        include_str!("../../i18n/es/retention.ftl"),
    ),
    (Lang::En, "ui", include_str!("../../i18n/en/ui.ftl")),
    (
        Lang::En,
        "messages",
        include_str!("../../i18n/en/messages.ftl"),
    ),
    (Lang::En, "vocab", include_str!("../../i18n/en/vocab.ftl")),
    (Lang::En, "cases", include_str!("../../i18n/en/cases.ftl")),
    (
        Lang::En,
        "directory",
        include_str!("../../i18n/en/directory.ftl"),
    ),
    (
        Lang::En,
        "federation",
        include_str!("../../i18n/en/federation.ftl"),
    ),
    (
        Lang::En,
        "referrals",
        include_str!("../../i18n/en/referrals.ftl"),
    ),
    (
        Lang::En,
        "statistics",
        include_str!("../../i18n/en/statistics.ftl"),
    ),
    (Lang::En, "hub", include_str!("../../i18n/en/hub.ftl")),
    (
        Lang::En,
        "retention",
        include_str!("../../i18n/en/retention.ftl"),
    ),
];

/// Both languages' bundles.
pub struct I18n {
    bundles: HashMap<Lang, FluentBundle<FluentResource>>,
}

impl std::fmt::Debug for I18n {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("I18n")
    }
}

/// A catalogue that does not parse or defines a key twice.
#[derive(Debug, thiserror::Error)]
#[error("translation catalogue {lang}/{file}.ftl: {problem}")]
pub struct CatalogueError {
    lang: &'static str,
    file: &'static str,
    problem: String,
}

impl I18n {
    pub fn load() -> Result<I18n, CatalogueError> {
        let mut bundles = HashMap::new();
        for (lang, file, text) in CATALOGUES {
            let err = |problem: String| CatalogueError {
                lang: lang.code(),
                file,
                problem,
            };
            let res = FluentResource::try_new(text.to_owned()).map_err(|(_, errs)| {
                err(format!(
                    "{} syntax errors, first: {:?}",
                    errs.len(),
                    errs.first()
                ))
            })?;
            let bundle = bundles.entry(lang).or_insert_with(|| {
                let id: LanguageIdentifier = match lang {
                    Lang::Es => unic_langid::langid!("es"),
                    Lang::En => unic_langid::langid!("en"),
                };
                let mut b = FluentBundle::new_concurrent(vec![id]);
                // No Unicode isolation marks: the text goes into HTML, not mixed-direction UI.
                b.set_use_isolating(false);
                b
            });
            bundle
                .add_resource(res)
                .map_err(|errs| err(format!("duplicate keys: {errs:?}")))?;
        }
        Ok(I18n { bundles })
    }

    /// The message `key` in `lang`, with `args`. A missing key shows as the key itself (and
    /// the catalogue test fails), never as an empty string.
    pub fn tr(&self, lang: Lang, key: &str, args: &[(&str, String)]) -> String {
        let Some(bundle) = self.bundles.get(&lang) else {
            return key.to_owned();
        };
        let Some(pattern) = bundle.get_message(key).and_then(|m| m.value()) else {
            tracing::warn!(key, lang = lang.code(), "missing translation");
            return key.to_owned();
        };
        let mut fargs = FluentArgs::new();
        for (k, v) in args {
            fargs.set(*k, FluentValue::from(v.clone()));
        }
        let mut errors = Vec::new();
        bundle
            .format_pattern(pattern, Some(&fargs), &mut errors)
            .into_owned()
    }

    /// Whether `key` exists in `lang`.
    pub fn has(&self, lang: Lang, key: &str) -> bool {
        self.bundles.get(&lang).is_some_and(|b| b.has_message(key))
    }

    /// Every key of `lang`'s catalogues (for the completeness test).
    pub fn keys(lang: Lang) -> Vec<String> {
        CATALOGUES
            .iter()
            .filter(|(l, _, _)| *l == lang)
            .flat_map(|(_, _, text)| {
                text.lines().filter_map(|line| {
                    let (k, _) = line.split_once('=')?;
                    let k = k.trim_end();
                    let ok = !k.is_empty()
                        && !line.starts_with([' ', '#', '.', '-'])
                        && k.chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
                    ok.then(|| k.to_owned())
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_by_quality_and_ignores_others() {
        assert_eq!(
            Lang::from_accept_language("en-US,en;q=0.9,es;q=0.8"),
            Some(Lang::En)
        );
        assert_eq!(
            Lang::from_accept_language("fr-FR,es-GT;q=0.7,en;q=0.5"),
            Some(Lang::Es)
        );
        assert_eq!(Lang::from_accept_language("fr,de"), None);
        assert_eq!(
            Lang::from_accept_language("en;q=0,es;q=0.1"),
            Some(Lang::Es)
        );
    }

    #[test]
    fn catalogues_parse_and_both_languages_have_the_same_keys() {
        let i18n = I18n::load().unwrap();
        let es: std::collections::BTreeSet<_> = I18n::keys(Lang::Es).into_iter().collect();
        let en: std::collections::BTreeSet<_> = I18n::keys(Lang::En).into_iter().collect();
        assert!(es.len() > 50, "too few keys: {}", es.len());
        let only_es: Vec<_> = es.difference(&en).collect();
        let only_en: Vec<_> = en.difference(&es).collect();
        assert!(
            only_es.is_empty() && only_en.is_empty(),
            "es only {only_es:?}, en only {only_en:?}"
        );
        for k in &es {
            assert!(i18n.has(Lang::Es, k) && i18n.has(Lang::En, k), "{k}");
        }
        assert_eq!(i18n.tr(Lang::Es, "login-submit", &[]), "Iniciar sesión");
        assert_eq!(i18n.tr(Lang::En, "login-submit", &[]), "Sign in");
    }

    #[test]
    fn every_key_used_by_templates_and_code_exists() {
        let i18n = I18n::load().unwrap();
        let mut used = Vec::new();
        for (_, src) in super::super::TEMPLATES
            .iter()
            .chain(crate::hub::pages::TEMPLATES)
            .chain(crate::directory::pages::TEMPLATES)
            .chain(crate::federation::pages::TEMPLATES)
            .chain(crate::referrals::pages::TEMPLATES)
            .chain(crate::stats::pages::TEMPLATES)
        {
            used.extend(keys_in(src, "t(\""));
        }
        for src in super::super::RUST_SOURCES_USING_KEYS {
            used.extend(keys_in(src, "\"msg-"));
        }
        let missing: Vec<_> = used
            .iter()
            .filter(|k| !i18n.has(Lang::Es, k) || !i18n.has(Lang::En, k))
            .collect();
        assert!(missing.is_empty(), "missing translations: {missing:?}");
    }

    #[test]
    fn every_code_of_the_data_standard_has_a_label_in_both_languages() {
        let i18n = I18n::load().unwrap();
        let missing: Vec<_> = puente_common::vocab::codes::all_label_keys()
            .into_iter()
            .filter(|k| !i18n.has(Lang::Es, k) || !i18n.has(Lang::En, k))
            .collect();
        assert!(missing.is_empty(), "codes without a label: {missing:?}");
    }

    fn keys_in(src: &str, opener: &str) -> Vec<String> {
        src.match_indices(opener)
            .filter(|(i, _)| {
                // `t("` must be the function, not the end of `default("…")`.
                !src[..*i].ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
            })
            .filter_map(|(i, _)| {
                let start = if opener.starts_with("t(") {
                    i + opener.len()
                } else {
                    i + 1
                };
                let rest = &src[start..];
                let end = rest.find('"')?;
                let key = &rest[..end];
                let ok = !key.is_empty()
                    && !key.ends_with('-')
                    && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
                ok.then(|| key.to_owned())
            })
            .collect()
    }
}
