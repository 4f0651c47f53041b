//! The hub's pages (`view_hub`: national administrators of the hub and `hub_viewer`s):
//! `GET /hub` the dashboard, `GET /hub/releases` every version received,
//! `GET /hub/releases/{country}/{period}` one period's versions with their tables, and
//! `GET /hub/export` (CSV, HXL, GLOTIP; audited `hub.export`). Spanish first, light pages:
//! tables and inline SVG, no script. A suppressed value is "<k"; a sum that leaves suppressed
//! values out says so; a member without a release is "no recibido aún", never 0.

use std::collections::BTreeSet;

use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use puente_common::stats::{Cell, Period, ProtectedTable};
use puente_common::CountryCode;
use serde::Deserialize;
use serde_json::{json, Value};

use super::svg::{self, Bar, BarValue, Labels, Point, Series};
use super::{Agg, AggTable, Dashboard, HubFilter};
use crate::admin::require;
use crate::app::AppState;
use crate::audit::Outcome;
use crate::authz::Action;
use crate::error::{AppError, AppResult};
use crate::stats::pages::label;
use crate::web::{Lang, SignedIn};

/// The routes of this module, with the action each needs (same format as `app::ROUTES`).
pub const ROUTES: &[(&str, &str, &str)] = &[
    ("GET", "/hub", "view_hub"),
    ("GET", "/hub/releases", "view_hub"),
    ("GET", "/hub/releases/{country}/{period}", "view_hub"),
    ("GET", "/hub/export", "view_hub"),
];

/// The templates of these pages (registered by `web::Web::load`).
pub const TEMPLATES: &[(&str, &str)] = &[
    (
        "hub/dashboard.html",
        include_str!("../../templates/hub/dashboard.html"),
    ),
    (
        "hub/releases.html",
        include_str!("../../templates/hub/releases.html"),
    ),
    (
        "hub/release.html",
        include_str!("../../templates/hub/release.html"),
    ),
];

/// The pages' router (merged inside the web context layer, on a hub only).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/hub", get(dashboard))
        .route("/hub/releases", get(list))
        .route("/hub/releases/{country}/{period}", get(show))
        .route("/hub/export", get(export))
}

/// The filters of the dashboard, the list and the export.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct HubQuery {
    pub from: String,
    pub to: String,
    pub country: String,
    /// Export only: `csv`, `hxl` or `glotip`.
    pub format: String,
}

impl HubQuery {
    fn filter(&self) -> HubFilter {
        HubFilter::parse(&self.from, &self.to, &self.country)
    }

    fn qs(f: &HubFilter) -> String {
        let mut parts = Vec::new();
        if let Some(p) = f.from {
            parts.push(format!("from={p}"));
        }
        if let Some(p) = f.to {
            parts.push(format!("to={p}"));
        }
        if let Some(c) = f.country {
            parts.push(format!("country={c}"));
        }
        parts.join("&")
    }
}

/// The name of a dimension (the node's statistics catalogue, plus the hub's reporting country).
fn dim_name(st: &AppState, lang: Lang, dim: &str) -> String {
    if dim == "reporting_country" {
        tr(st, lang, "hub-dim-reporting-country", &[])
    } else {
        tr(st, lang, &format!("stats-dim-{dim}"), &[])
    }
}

fn tr(st: &AppState, lang: Lang, key: &str, args: &[(&str, String)]) -> String {
    st.web.i18n.tr(lang, key, args)
}

fn country_name(code: &str, lang: Lang) -> String {
    crate::referrals::pages::country_name(code, lang)
}

/// A published or suppressed value of one release.
fn cell_text(c: &Cell, k: u32) -> String {
    crate::stats::pages::show(c, k)
}

/// An aggregated value: the sum; "<k" when everything was suppressed; "≥ sum" when some
/// suppressed values are left out (the long form says how many).
pub fn agg_text(st: &AppState, lang: Lang, a: &Agg, long: bool) -> String {
    if a.all_suppressed() {
        format!("<{}", a.k)
    } else if a.suppressed == 0 {
        a.sum.to_string()
    } else if long {
        tr(
            st,
            lang,
            if a.suppressed == 1 {
                "hub-at-least-one"
            } else {
                "hub-at-least"
            },
            &[("n", a.sum.to_string()), ("s", a.suppressed.to_string())],
        )
    } else {
        format!("≥ {}", a.sum)
    }
}

fn bar_value(a: &Agg) -> BarValue {
    if a.all_suppressed() {
        BarValue::Suppressed { k: a.k }
    } else if a.suppressed > 0 {
        BarValue::AtLeast {
            sum: a.sum,
            suppressed: a.suppressed,
        }
    } else if a.published == 0 {
        BarValue::Missing
    } else {
        BarValue::Count(a.sum)
    }
}

/// A 2-D view of an aggregated table: the columns are dimension `col`'s categories, the rows
/// every combination of the other dimensions that occurs.
fn grid(st: &AppState, lang: Lang, t: &AggTable, col: usize) -> Value {
    let nd = t.dims.len();
    let codes: Vec<Vec<String>> = (0..nd).map(|d| t.codes(d)).collect();
    let pos = |d: usize, c: &str| codes[d].iter().position(|x| x == c).unwrap_or(usize::MAX);
    let row_dims: Vec<usize> = (0..nd).filter(|d| *d != col).collect();
    let mut rows: Vec<Vec<String>> = t
        .cells
        .keys()
        .map(|k| row_dims.iter().map(|d| k[*d].clone()).collect())
        .collect::<BTreeSet<Vec<String>>>()
        .into_iter()
        .collect();
    rows.sort_by_key(|r| {
        r.iter()
            .zip(&row_dims)
            .map(|(c, d)| pos(*d, c))
            .collect::<Vec<_>>()
    });
    let dim_label = |d: usize, c: &str| {
        if t.dims[d] == "reporting_country" {
            country_name(c, lang)
        } else {
            label(st, lang, &t.dims[d], c)
        }
    };
    let head: Vec<String> = row_dims
        .iter()
        .map(|d| dim_name(st, lang, &t.dims[*d]))
        .collect();
    let columns: Vec<String> = codes[col].iter().map(|c| dim_label(col, c)).collect();
    let rows: Vec<Value> = rows
        .iter()
        .map(|r| {
            let labels: Vec<String> = r
                .iter()
                .zip(&row_dims)
                .map(|(c, d)| dim_label(*d, c))
                .collect();
            let cells: Vec<Value> = codes[col]
                .iter()
                .map(|cc| {
                    let mut key = Vec::with_capacity(nd);
                    let mut it = r.iter();
                    for d in 0..nd {
                        if d == col {
                            key.push(cc.clone());
                        } else {
                            key.push(it.next().cloned().unwrap_or_default());
                        }
                    }
                    match t.cells.get(&key) {
                        Some(a) => json!({
                            "text": agg_text(st, lang, a, false),
                            "title": if a.suppressed > 0 && !a.all_suppressed() { agg_text(st, lang, a, true) } else { String::new() },
                            "suppressed": a.all_suppressed(),
                        }),
                        None => json!({ "text": "—", "title": "", "suppressed": false }),
                    }
                })
                .collect();
            json!({ "labels": labels, "cells": cells })
        })
        .collect();
    json!({
        "id": t.id,
        "head": head,
        "column_dim": dim_name(st, lang, &t.dims[col]),
        "columns": columns,
        "rows": rows,
        "releases": t.releases,
        "empty": t.cells.is_empty(),
    })
}

fn chart_labels(st: &AppState, lang: Lang) -> Labels {
    Labels {
        missing: tr(st, lang, "hub-not-received", &[]),
        hatch_legend: tr(st, lang, "hub-chart-hatch", &[]),
        point_legend: tr(st, lang, "hub-chart-point", &[]),
    }
}

/// The template context of the dashboard, charts included (the costly part of rendering;
/// public so that a benchmark can time it).
pub fn dashboard_context(st: &AppState, lang: Lang, d: &Dashboard) -> Value {
    let labels = chart_labels(st, lang);
    let periods: Vec<String> = d.periods.iter().map(ToString::to_string).collect();
    let status: Vec<Value> = d
        .status
        .iter()
        .map(|(c, cells)| {
            let cells: Vec<Value> = cells
                .iter()
                .map(|s| match s {
                    Some(s) => json!({
                        "received": true,
                        "version": s.version,
                        "correction": s.correction,
                        "published_at": s.published_at.format("%Y-%m-%d %H:%M UTC").to_string(),
                        "received_at": s.received_at.format("%Y-%m-%d %H:%M UTC").to_string(),
                        "k": s.k,
                        "rounding": s.rounding_base,
                        "epsilon": s.epsilon_milli.map(|e| format!("{}.{:03}", e / 1000, e % 1000)),
                    }),
                    None => json!({ "received": false }),
                })
                .collect();
            json!({ "country": c.as_str(), "name": country_name(c.as_str(), lang), "cells": cells })
        })
        .collect();
    let totals: Vec<Value> = d
        .totals
        .iter()
        .map(|t| {
            json!({
                "period": t.period.to_string(),
                "cells": t.by_country.iter().map(|c| match &c.total {
                    Some(v) => json!({ "text": cell_text(v, c.k), "received": true, "suppressed": v.count().is_none() }),
                    None => json!({ "text": tr(st, lang, "hub-not-received", &[]), "received": false, "suppressed": false }),
                }).collect::<Vec<_>>(),
                "sum": agg_text(st, lang, &t.sum, true),
                "missing": t.missing,
            })
        })
        .collect();
    // Charts: T01 by form (summed margins), totals by country over the periods shown, and
    // the trend of each country's total.
    let form_bars: Vec<Bar> = d
        .t01_form
        .codes(0)
        .iter()
        .map(|c| Bar {
            label: label(st, lang, "glotip_form", c),
            value: d
                .t01_form
                .cells
                .get(&vec![c.clone()])
                .map_or(BarValue::Missing, bar_value),
        })
        .collect();
    let country_bars: Vec<Bar> = d
        .countries
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let mut a = Agg::default();
            for t in &d.totals {
                if let Some(ct) = t.by_country.get(i) {
                    if let Some(v) = &ct.total {
                        a.add(v, ct.k);
                    }
                }
            }
            Bar {
                label: country_name(c.as_str(), lang),
                value: bar_value(&a),
            }
        })
        .collect();
    let series: Vec<Series> = d
        .countries
        .iter()
        .enumerate()
        .map(|(i, c)| Series {
            name: country_name(c.as_str(), lang),
            points: d
                .totals
                .iter()
                .map(
                    |t| match t.by_country.get(i).and_then(|x| x.total.map(|v| (v, x.k))) {
                        Some((Cell::Count(n), _)) => Point::Count(n),
                        Some((Cell::Suppressed(_), k)) => Point::Suppressed { k },
                        None => Point::Missing,
                    },
                )
                .collect(),
        })
        .collect();
    let chart_form = (!form_bars.is_empty()).then(|| {
        svg::bar_chart(
            "ch-form",
            &tr(st, lang, "hub-chart-form", &[]),
            &form_bars,
            &labels,
        )
    });
    let chart_countries = (!country_bars.is_empty()).then(|| {
        svg::bar_chart(
            "ch-countries",
            &tr(st, lang, "hub-chart-countries", &[]),
            &country_bars,
            &labels,
        )
    });
    let chart_trend = (!d.periods.is_empty() && !series.is_empty()).then(|| {
        svg::line_chart(
            "ch-trend",
            &tr(st, lang, "hub-chart-trend", &[]),
            &periods,
            &series,
            &labels,
        )
    });
    let filter = HubFilter {
        from: d.filter_from,
        to: d.filter_to,
        country: d.filter_country,
    };
    json!({
        "from": d.filter_from.map(|p| p.to_string()).unwrap_or_default(),
        "to": d.filter_to.map(|p| p.to_string()).unwrap_or_default(),
        "country": d.filter_country.map(|c| c.as_str().to_owned()).unwrap_or_default(),
        "countries": d.countries.iter().map(|c| json!({ "code": c.as_str(), "name": country_name(c.as_str(), lang) })).collect::<Vec<_>>(),
        "periods": periods,
        "status": status,
        "totals": totals,
        "releases": d.releases,
        "chart_form": chart_form,
        "chart_countries": chart_countries,
        "chart_trend": chart_trend,
        "t01": grid(st, lang, &d.t01, 2),
        "t02": grid(st, lang, &d.t02, 1),
        "t03": grid(st, lang, &d.t03, 1),
        "t08": grid(st, lang, &d.t08, 2),
        "qs": HubQuery::qs(&filter),
    })
}

/// Renders the dashboard page for `d` in the request context `ctx` (its language, user and
/// CSRF token).
pub fn render_dashboard(st: &AppState, ctx: &crate::web::Ctx, d: &Dashboard) -> Response {
    st.web.render(
        ctx,
        "hub/dashboard.html",
        dashboard_context(st, ctx.lang, d),
    )
}

async fn dashboard(
    State(st): State<AppState>,
    s: SignedIn,
    Query(q): Query<HubQuery>,
) -> AppResult<Response> {
    let audit = s.ctx.audit(st.clock.now());
    require(&st, &audit, &s.actor, Action::ViewHub, &s.ctx.path).await?;
    let members = super::stats_members(&st);
    let d = super::dashboard_data(st.store.as_ref(), &members, &q.filter()).await?;
    Ok(render_dashboard(&st, &s.ctx, &d))
}

fn method_text(st: &AppState, lang: Lang, r: &super::StoredRelease) -> String {
    let m = &r.body.method;
    let mut parts = vec![format!("k = {}", m.k)];
    if let Some(b) = m.rounding_base {
        parts.push(tr(
            st,
            lang,
            "hub-method-rounding",
            &[("base", b.to_string())],
        ));
    }
    if let Some(dp) = m.dp {
        parts.push(format!(
            "ε = {}.{:03}",
            dp.epsilon_milli / 1000,
            dp.epsilon_milli % 1000
        ));
    }
    parts.join(" · ")
}

fn release_json(st: &AppState, lang: Lang, r: &super::StoredRelease) -> Value {
    json!({
        "country": r.row.country,
        "country_name": country_name(&r.row.country, lang),
        "period": r.row.period,
        "version": r.body.version,
        "correction": r.body.version > 1,
        "hash": r.row.hash,
        "prev": r.row.prev,
        "envelope_hash": r.row.envelope_hash,
        "received_at": r.row.received_at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
        "published_at": r.row.published_at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
        "review": tr(st, lang, &format!("hub-review-{}", r.row.review), &[]),
        "method": method_text(st, lang, r),
        "withheld": r.body.withheld,
    })
}

async fn list(
    State(st): State<AppState>,
    s: SignedIn,
    Query(q): Query<HubQuery>,
) -> AppResult<Response> {
    let audit = s.ctx.audit(st.clock.now());
    require(&st, &audit, &s.actor, Action::ViewHub, &s.ctx.path).await?;
    let filter = q.filter();
    let all = super::releases(st.store.as_ref(), &filter).await?;
    let lang = s.ctx.lang;
    let rows: Vec<Value> = all.iter().map(|r| release_json(&st, lang, r)).collect();
    Ok(st.web.render(
        &s.ctx,
        "hub/releases.html",
        json!({
            "releases": rows,
            "from": filter.from.map(|p| p.to_string()).unwrap_or_default(),
            "to": filter.to.map(|p| p.to_string()).unwrap_or_default(),
            "country": filter.country.map(|c| c.as_str().to_owned()).unwrap_or_default(),
        }),
    ))
}

/// One published table in long form: the categories of each cell and its value, then the
/// margins and the total.
fn table_json(st: &AppState, lang: Lang, t: &ProtectedTable, k: u32) -> Value {
    let dims = &t.dimensions;
    let sizes: Vec<usize> = dims.iter().map(|d| d.categories.len().max(1)).collect();
    let total_label = tr(st, lang, "hub-total", &[]);
    let mut rows = Vec::with_capacity(t.cells.len() + 8);
    for (i, c) in t.cells.iter().enumerate() {
        let mut rem = i;
        let mut idx = vec![0; sizes.len()];
        for d in (0..sizes.len()).rev() {
            idx[d] = rem % sizes[d];
            rem /= sizes[d];
        }
        let labels: Vec<String> = idx
            .iter()
            .enumerate()
            .map(|(d, x)| {
                let code = dims[d].categories.get(*x).map_or("", String::as_str);
                label(st, lang, &dims[d].name, code)
            })
            .collect();
        rows.push(json!({ "labels": labels, "value": cell_text(c, k), "suppressed": c.count().is_none(), "total": false }));
    }
    if dims.len() > 1 {
        for (d, m) in t.margins.iter().enumerate() {
            for (x, v) in m.iter().enumerate() {
                let labels: Vec<String> = (0..dims.len())
                    .map(|e| {
                        if e == d {
                            label(
                                st,
                                lang,
                                &dims[d].name,
                                dims[d].categories.get(x).map_or("", String::as_str),
                            )
                        } else {
                            total_label.clone()
                        }
                    })
                    .collect();
                rows.push(json!({ "labels": labels, "value": cell_text(v, k), "suppressed": v.count().is_none(), "total": true }));
            }
        }
    }
    rows.push(json!({
        "labels": vec![total_label.clone(); dims.len()],
        "value": cell_text(&t.total, k),
        "suppressed": t.total.count().is_none(),
        "total": true,
    }));
    json!({
        "id": t.id,
        "title": tr(st, lang, &format!("stats-table-{}", t.id), &[]),
        "head": dims.iter().map(|d| dim_name(st, lang, &d.name)).collect::<Vec<_>>(),
        "rows": rows,
    })
}

async fn show(
    State(st): State<AppState>,
    s: SignedIn,
    Path((country, period)): Path<(String, String)>,
) -> AppResult<Response> {
    let audit = s.ctx.audit(st.clock.now());
    require(&st, &audit, &s.actor, Action::ViewHub, &s.ctx.path).await?;
    let country: CountryCode = country.parse().map_err(|_| AppError::NotFound)?;
    let period: Period = period.parse().map_err(|_| AppError::NotFound)?;
    let filter = HubFilter {
        from: Some(period),
        to: Some(period),
        country: Some(country),
    };
    let all = super::releases(st.store.as_ref(), &filter).await?;
    if all.is_empty() {
        return Err(AppError::NotFound);
    }
    let lang = s.ctx.lang;
    let versions: Vec<Value> = all
        .iter()
        .rev()
        .map(|r| {
            let mut v = release_json(&st, lang, r);
            if let Some(o) = v.as_object_mut() {
                o.insert(
                    "tables".into(),
                    Value::Array(
                        r.body
                            .tables
                            .iter()
                            .map(|t| table_json(&st, lang, t, r.body.method.k))
                            .collect(),
                    ),
                );
            }
            v
        })
        .collect();
    Ok(st.web.render(
        &s.ctx,
        "hub/release.html",
        json!({
            "country": country.as_str(),
            "country_name": country_name(country.as_str(), lang),
            "period": period.to_string(),
            "versions": versions,
        }),
    ))
}

async fn export(
    State(st): State<AppState>,
    s: SignedIn,
    Query(q): Query<HubQuery>,
) -> AppResult<Response> {
    let audit = s.ctx.audit(st.clock.now());
    require(&st, &audit, &s.actor, Action::ViewHub, &s.ctx.path).await?;
    let filter = q.filter();
    let format = super::export::Format::parse(&q.format);
    let all = super::releases(st.store.as_ref(), &filter).await?;
    let latest = super::latest(&all);
    let body = super::export::export(&st, s.ctx.lang, &latest, format)?;
    let ev = audit.event("hub.export", Outcome::Success).detail(json!({
        "format": format.code(),
        "from": filter.from.map(|p| p.to_string()),
        "to": filter.to.map(|p| p.to_string()),
        "country": filter.country.map(|c| c.as_str().to_owned()),
        "releases": latest.len(),
    }));
    st.store.append_audit(&ev).await?;
    let name = format!(
        "estadisticas-regionales-{}{}{}-{}.csv",
        filter
            .country
            .map_or("todos".to_owned(), |c| c.as_str().to_owned()),
        filter.from.map_or(String::new(), |p| format!("-{p}")),
        filter.to.map_or(String::new(), |p| format!("-{p}")),
        format.code()
    );
    Ok(crate::web::csv_download(&name, body))
}
