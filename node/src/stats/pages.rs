//! `GET /statistics` (the protected tables of one closed period, for the node or one
//! organisation) and `GET /statistics/export` (CSV, HXL-tagged CSV, GLOTIP-shaped table).
//!
//! Node-wide roles (`node_admin`, `analyst`) see the whole node and may pick an organisation;
//! an organisation's coordinator (`org_admin`) sees their organisation only, whatever the
//! query says. A suppressed cell is shown as `<k`, never as 0. Every view and export is
//! audited (`statistics.view`, `statistics.export`) with the period and the organisation.
//!
//! # HXL hashtags (for HDX)
//! The HXL export is the CSV export with a second row of hashtags, one column per dimension
//! used by any table (empty when the row's table does not have it, `TOTAL` in a published
//! total's row): `#date+period`, `#country+code+reporting`, `#org+code`, `#indicator+code`
//! (table id), `#group+sex+code` (GLOTIP sex), `#group+age+glotip+code`, `#group+age+ctdc+code`,
//! `#group+exploitation+form+code`, `#country+code+citizenship`, `#country+code+exploitation`,
//! `#group+flow+code`, `#group+exploitation+flag+code`, `#group+control+code`,
//! `#sector+isic+code`, `#group+recruiter+code`, `#status+code` (trafficking status),
//! `#meta+channel+code` (intake channel), `#group+referral+code`, `#country+code+partner`, and
//! the value `#affected+num` (persons; T04: person × flag × means mentions; T08: referrals),
//! `<k` when suppressed.

use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use puente_common::stats::{Cell, Period, ProtectedTable};
use puente_common::vocab::geo::SubRegion;
use puente_common::vocab::isic;
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use super::{is_closed, last_closed, period_bounds, period_kind, Release, M49_PREFIX};
use crate::admin::require;
use crate::app::AppState;
use crate::audit::{AuditCtx, Outcome};
use crate::authz::{Action, Role};
use crate::error::{AppError, AppResult};
use crate::web::{Lang, SignedIn};

/// The routes of this module, with the action each needs (same format as `app::ROUTES`).
pub const ROUTES: &[(&str, &str, &str)] = &[
    ("GET", "/statistics", "view_statistics"),
    ("GET", "/statistics/export", "view_statistics"),
];

/// The templates of these pages (registered by `web::Web::load`).
pub const TEMPLATES: &[(&str, &str)] = &[(
    "statistics/page.html",
    include_str!("../../templates/statistics/page.html"),
)];

/// The pages' router (to be merged inside the web context layer).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/statistics", get(page))
        .route("/statistics/export", get(export))
}

/// The query of both routes.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct StatsParams {
    /// `month`, `quarter` (default) or `year`.
    pub kind: String,
    /// `2026`, `2026-Q3` or `2026-07`; default: the last closed period of the kind.
    pub period: String,
    /// An organisation's id (node-wide roles only); empty: the whole node.
    pub org: String,
    /// Export format: `csv`, `hxl`, `glotip`.
    pub format: String,
}

/// The dimension columns of the CSV and HXL exports, with their hashtags.
const COLUMNS: [(&str, &str); 15] = [
    ("glotip_sex", "#group+sex+code"),
    ("glotip_age_band", "#group+age+glotip+code"),
    ("ctdc_age_band", "#group+age+ctdc+code"),
    ("glotip_form", "#group+exploitation+form+code"),
    ("citizenship", "#country+code+citizenship"),
    ("country_of_exploitation", "#country+code+exploitation"),
    ("flow_reach", "#group+flow+code"),
    ("exploitation_flag", "#group+exploitation+flag+code"),
    ("control_method", "#group+control+code"),
    ("isic_section", "#sector+isic+code"),
    ("recruiter_relation", "#group+recruiter+code"),
    ("trafficking_status", "#status+code"),
    ("intake_channel", "#meta+channel+code"),
    ("referral_flow", "#group+referral+code"),
    ("partner_country", "#country+code+partner"),
];

/// What the request resolved to.
struct Resolved {
    period: Period,
    org: Option<Uuid>,
    period_error: bool,
}

async fn resolve(st: &AppState, s: &SignedIn, p: &StatsParams) -> AppResult<Resolved> {
    let today = st.clock.now().date_naive();
    let kind = match p.kind.as_str() {
        "month" | "year" => p.kind.as_str(),
        _ => "quarter",
    };
    let mut period_error = false;
    let period = match p.period.trim() {
        "" => last_closed(kind, today),
        x => match x.parse::<Period>() {
            // The kind was changed in the form: the last closed period of the new kind.
            Ok(per) if !p.kind.is_empty() && period_kind(per) != kind => last_closed(kind, today),
            Ok(per) if is_closed(per, today) => per,
            _ => {
                period_error = true;
                last_closed(kind, today)
            }
        },
    };
    let org = if s.actor.role.is_node_wide() {
        match p.org.trim() {
            "" => None,
            x => {
                let id = Uuid::parse_str(x).map_err(|_| AppError::NotFound)?;
                st.store.org(id).await.map_err(|_| AppError::NotFound)?;
                Some(id)
            }
        }
    } else {
        // An organisation's coordinator: their organisation, whatever was asked.
        Some(
            s.actor
                .org_id
                .ok_or(AppError::Forbidden(Action::ViewStatistics))?,
        )
    };
    Ok(Resolved {
        period,
        org,
        period_error,
    })
}

async fn audit_event(
    st: &AppState,
    audit: &AuditCtx,
    action: &str,
    r: &Resolved,
    extra: Value,
) -> AppResult<()> {
    let mut detail = json!({
        "period": r.period.to_string(),
        "org": r.org.map(|o| o.to_string()),
    });
    if let (Some(d), Some(e)) = (detail.as_object_mut(), extra.as_object()) {
        d.extend(e.clone());
    }
    let ev = audit.event(action, Outcome::Success).detail(detail);
    st.store.append_audit(&ev).await?;
    Ok(())
}

/// `<k` for a suppressed value, the count otherwise.
pub fn show(c: &Cell, k: u32) -> String {
    match c {
        Cell::Count(n) => n.to_string(),
        Cell::Suppressed(_) => format!("<{k}"),
    }
}

/// The label of a category of dimension `dim` in `lang`.
pub fn label(st: &AppState, lang: Lang, dim: &str, code: &str) -> String {
    let i18n = &st.web.i18n;
    for key in [format!("code-{dim}-{code}"), format!("stats-cat-{code}")] {
        if i18n.has(lang, &key) {
            return i18n.tr(lang, &key, &[]);
        }
    }
    match dim {
        "citizenship" | "country_of_exploitation" | "partner_country" => {
            if let Some(sub) = code.strip_prefix(M49_PREFIX) {
                if let Some(s) = SubRegion::ALL.iter().find(|s| s.code() == sub) {
                    return match lang {
                        Lang::Es => s.name_es().to_owned(),
                        Lang::En => s.name_en().to_owned(),
                    };
                }
            }
            crate::referrals::pages::country_name(code, lang)
        }
        "isic_section" => isic::isic_section(code).map_or_else(
            || code.to_owned(),
            |s| {
                format!(
                    "{} — {}",
                    s.code,
                    match lang {
                        Lang::Es => s.name_es,
                        Lang::En => s.name_en,
                    }
                )
            },
        ),
        _ => code.to_owned(),
    }
}

fn table_json(st: &AppState, lang: Lang, t: &ProtectedTable, k: u32, withheld: bool) -> Value {
    let dims = &t.dimensions;
    let lab = |d: usize, c: &str| label(st, lang, &dims[d].name, c);
    let dim_names: Vec<String> = dims
        .iter()
        .map(|d| st.web.tr(lang, &format!("stats-dim-{}", d.name)))
        .collect();
    let margins: Vec<Value> = dims
        .iter()
        .enumerate()
        .map(|(i, d)| {
            json!({
                "name": dim_names[i],
                "items": d.categories.iter().zip(t.margins.get(i).into_iter().flatten()).map(|(c, v)| json!({
                    "label": lab(i, c), "value": show(v, k),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    // Rows: every combination of all dimensions but the last; columns: the last.
    let last = dims.len() - 1;
    let ncols = dims[last].categories.len();
    let columns: Vec<String> = dims[last].categories.iter().map(|c| lab(last, c)).collect();
    let mut rows = Vec::new();
    if dims.len() == 1 {
        rows.push(json!({
            "labels": [],
            "cells": t.cells.iter().map(|c| show(c, k)).collect::<Vec<_>>(),
            "total": Value::Null,
        }));
    } else {
        for (r, chunk) in t.cells.chunks(ncols).enumerate() {
            // Decode the row index into the leading dimensions' categories.
            let mut labels = Vec::new();
            let mut rem = r;
            let mut idx = vec![0; last];
            for d in (0..last).rev() {
                let n = dims[d].categories.len();
                idx[d] = rem % n;
                rem /= n;
            }
            for (d, i) in idx.iter().enumerate() {
                labels.push(lab(d, &dims[d].categories[*i]));
            }
            let total = if dims.len() == 2 {
                t.margins
                    .first()
                    .and_then(|m| m.get(r))
                    .map_or(Value::Null, |c| Value::from(show(c, k)))
            } else {
                Value::Null
            };
            rows.push(json!({
                "labels": labels,
                "cells": chunk.iter().map(|c| show(c, k)).collect::<Vec<_>>(),
                "total": total,
            }));
        }
    }
    json!({
        "id": t.id,
        "title": st.web.tr(lang, &format!("stats-table-{}", t.id)),
        "note": if st.web.i18n.has(lang, &format!("stats-note-{}", t.id)) {
            Value::from(st.web.tr(lang, &format!("stats-note-{}", t.id)))
        } else { Value::Null },
        "head": dim_names[..last].to_vec(),
        "columns": columns,
        "col_totals": if dims.len() == 2 {
            Value::from(t.margins[1].iter().map(|c| show(c, k)).collect::<Vec<_>>())
        } else { Value::Null },
        "margins": if dims.len() == 3 { Value::from(margins) } else { Value::Null },
        "rows": rows,
        "total": show(&t.total, k),
        "two_d": dims.len() == 2,
        "withheld": withheld,
    })
}

fn period_options(kind: &str, today: chrono::NaiveDate) -> Vec<String> {
    let mut out = Vec::new();
    let mut p = last_closed(kind, today);
    let n = match kind {
        "year" => 5,
        "month" => 18,
        _ => 8,
    };
    for _ in 0..n {
        out.push(p.to_string());
        let (start, _) = period_bounds(p);
        match start.pred_opt() {
            Some(d) => p = last_closed(kind, d + chrono::Duration::days(1)),
            None => break,
        }
    }
    out
}

async fn page(
    State(st): State<AppState>,
    s: SignedIn,
    Query(p): Query<StatsParams>,
) -> AppResult<Response> {
    let audit = s.ctx.audit(st.clock.now());
    require(&st, &audit, &s.actor, Action::ViewStatistics, &s.ctx.path).await?;
    let r = resolve(&st, &s, &p).await?;
    let protection = st.config.stats.protection();
    let rel = super::release(st.store.as_ref(), r.period, r.org, &protection).await?;
    audit_event(&st, &audit, "statistics.view", &r, json!({})).await?;
    let lang = s.ctx.lang;
    let k = protection.k;
    let kind = period_kind(r.period);
    let orgs: Vec<Value> = if s.actor.role.is_node_wide() {
        st.store
            .orgs()
            .await?
            .into_iter()
            .map(|o| json!({ "id": o.org.id, "name": o.org.name, "code": o.org.code }))
            .collect()
    } else {
        Vec::new()
    };
    let org_name = match r.org {
        Some(o) => Some(st.store.org(o).await?.name),
        None => None,
    };
    let (start, end) = period_bounds(r.period);
    let qs = format!(
        "period={}{}",
        r.period,
        r.org.map(|o| format!("&org={o}")).unwrap_or_default()
    );
    let data = json!({
        "k": k,
        "kind": kind,
        "period": r.period.to_string(),
        "period_error": r.period_error,
        "start": start.to_string(),
        "end": end.to_string(),
        "periods": period_options(kind, st.clock.now().date_naive()),
        "node_wide": s.actor.role.is_node_wide(),
        "org_admin": s.actor.role == Role::OrgAdmin,
        "can_publish": s.actor.can(Action::PublishStatistics),
        "orgs": orgs,
        "org": r.org.map(|o| o.to_string()).unwrap_or_default(),
        "org_name": org_name,
        "persons": rel.persons.map_or_else(|| format!("<{k}"), |n| n.to_string()),
        "rounding": protection.rounding_base,
        "tables": rel
            .tables
            .iter()
            .map(|t| table_json(&st, lang, t, k, rel.withheld.contains(&t.id)))
            .collect::<Vec<_>>(),
        "qs": qs,
    });
    Ok(st.web.render(&s.ctx, "statistics/page.html", data))
}

/// The CSV (or, with `hxl`, HXL-tagged CSV) of a release: one row per published cell and
/// total, the dimension columns of [`COLUMNS`], the value or `<k`.
pub fn to_csv(rel: &Release, country: &str, org_code: &str, hxl: bool) -> AppResult<Vec<u8>> {
    let k = rel.protection.k;
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut head = vec!["period", "country", "org", "table"];
    head.extend(COLUMNS.iter().map(|(n, _)| *n));
    head.push("value");
    w.write_record(&head).map_err(AppError::internal)?;
    if hxl {
        let mut tags = vec![
            "#date+period",
            "#country+code+reporting",
            "#org+code",
            "#indicator+code",
        ];
        tags.extend(COLUMNS.iter().map(|(_, t)| *t));
        tags.push("#affected+num");
        w.write_record(&tags).map_err(AppError::internal)?;
    }
    let period = rel.period.to_string();
    for t in &rel.tables {
        let dims = &t.dimensions;
        let col_of = |name: &str| COLUMNS.iter().position(|(n, _)| *n == name);
        let mut write = |cats: Vec<Option<&str>>, v: &Cell| -> AppResult<()> {
            let mut row: Vec<String> = vec![
                period.clone(),
                country.to_owned(),
                org_code.to_owned(),
                t.id.clone(),
            ];
            let mut cols = vec![String::new(); COLUMNS.len()];
            for (d, c) in dims.iter().zip(cats) {
                if let Some(i) = col_of(&d.name) {
                    cols[i] = c.unwrap_or("TOTAL").to_owned();
                }
            }
            row.extend(cols);
            row.push(show(v, k));
            w.write_record(&row).map_err(AppError::internal)
        };
        let sizes: Vec<usize> = dims.iter().map(|d| d.categories.len()).collect();
        for (i, c) in t.cells.iter().enumerate() {
            let mut rem = i;
            let mut idx = vec![0; sizes.len()];
            for d in (0..sizes.len()).rev() {
                idx[d] = rem % sizes[d];
                rem /= sizes[d];
            }
            let cats = idx
                .iter()
                .enumerate()
                .map(|(d, x)| Some(dims[d].categories[*x].as_str()))
                .collect();
            write(cats, c)?;
        }
        if dims.len() > 1 {
            for (d, m) in t.margins.iter().enumerate() {
                for (x, v) in m.iter().enumerate() {
                    let cats = (0..dims.len())
                        .map(|e| (e == d).then(|| dims[d].categories[x].as_str()))
                        .collect();
                    write(cats, v)?;
                }
            }
        }
        write(vec![None; dims.len()], &t.total)?;
    }
    w.into_inner().map_err(AppError::internal)
}

/// The GLOTIP-shaped table: sex × age × form of exploitation, one row per combination
/// (T01's cells), labelled in `lang`, with `<k` for small cells.
pub fn to_glotip(st: &AppState, lang: Lang, rel: &Release, country: &str) -> AppResult<Vec<u8>> {
    let k = rel.protection.k;
    let t = rel
        .tables
        .iter()
        .find(|t| t.id == "T01")
        .ok_or_else(|| AppError::internal("T01 missing"))?;
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "country",
        "period",
        "sex",
        "sex_code",
        "age",
        "age_code",
        "form",
        "form_code",
        "detected_victims",
    ])
    .map_err(AppError::internal)?;
    let d = &t.dimensions;
    let (n1, n2) = (d[1].categories.len(), d[2].categories.len());
    for (i, c) in t.cells.iter().enumerate() {
        let (a, b, f) = (i / (n1 * n2), (i / n2) % n1, i % n2);
        let (sa, sb, sf) = (
            &d[0].categories[a],
            &d[1].categories[b],
            &d[2].categories[f],
        );
        w.write_record([
            country.to_owned(),
            rel.period.to_string(),
            label(st, lang, &d[0].name, sa),
            sa.clone(),
            label(st, lang, &d[1].name, sb),
            sb.clone(),
            label(st, lang, &d[2].name, sf),
            sf.clone(),
            show(c, k),
        ])
        .map_err(AppError::internal)?;
    }
    w.write_record([
        country.to_owned(),
        rel.period.to_string(),
        "TOTAL".into(),
        String::new(),
        "TOTAL".into(),
        String::new(),
        "TOTAL".into(),
        String::new(),
        show(&t.total, k),
    ])
    .map_err(AppError::internal)?;
    w.into_inner().map_err(AppError::internal)
}

async fn export(
    State(st): State<AppState>,
    s: SignedIn,
    Query(p): Query<StatsParams>,
) -> AppResult<Response> {
    let audit = s.ctx.audit(st.clock.now());
    require(&st, &audit, &s.actor, Action::ViewStatistics, &s.ctx.path).await?;
    let format = match p.format.as_str() {
        "hxl" => "hxl",
        "glotip" => "glotip",
        _ => "csv",
    };
    let mut p = p;
    if p.kind.is_empty() {
        p.kind = match p.period.len() {
            4 => "year",
            7 if !p.period.contains('Q') => "month",
            _ => "quarter",
        }
        .into();
    }
    let r = resolve(&st, &s, &p).await?;
    if r.period_error {
        return Err(AppError::NotFound);
    }
    let protection = st.config.stats.protection();
    let rel = super::release(st.store.as_ref(), r.period, r.org, &protection).await?;
    let country = st.config.country.as_str().to_owned();
    let org_code = match r.org {
        Some(o) => st.store.org(o).await?.code,
        None => String::new(),
    };
    let body = match format {
        "glotip" => to_glotip(&st, s.ctx.lang, &rel, &country)?,
        f => to_csv(&rel, &country, &org_code, f == "hxl")?,
    };
    audit_event(
        &st,
        &audit,
        "statistics.export",
        &r,
        json!({ "format": format }),
    )
    .await?;
    let name = format!(
        "estadisticas-{country}-{}{}-{format}.csv",
        r.period,
        if org_code.is_empty() {
            String::new()
        } else {
            format!("-{org_code}")
        }
    );
    Ok(crate::web::csv_download(&name, body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::web::i18n::I18n;

    #[test]
    fn every_table_dimension_and_category_label_exists_in_both_languages() {
        let i18n = I18n::load().unwrap();
        let mut keys: Vec<String> = super::super::TABLE_IDS
            .iter()
            .map(|id| format!("stats-table-{id}"))
            .collect();
        keys.extend(COLUMNS.iter().map(|(d, _)| format!("stats-dim-{d}")));
        for c in [
            "UNKNOWN",
            "OTHER",
            "NOT_RECORDED",
            "NOT_DECIDED",
            "FORCED_LABOUR",
            "SEXUAL_EXPLOITATION",
            "OTHER_EXPLOITATION",
            "SENT",
            "RECEIVED",
            "ACCEPTED",
        ] {
            keys.push(format!("stats-cat-{c}"));
        }
        keys.push("action-view_statistics".into());
        keys.push("nav-statistics".into());
        for k in keys {
            assert!(i18n.has(Lang::Es, &k) && i18n.has(Lang::En, &k), "{k}");
        }
    }
}
