//! `GET /audit`: the trail for auditors and node administrators, newest first, with filters.

use axum::extract::{Query, State};
use axum::response::Response;
use chrono::{NaiveDate, TimeZone, Utc};
use serde::Deserialize;
use serde_json::json;

use super::{latest_checkpoint, AuditFilter, Outcome};
use crate::admin::{require, when};
use crate::app::AppState;
use crate::authz::Action;
use crate::error::AppResult;
use crate::web::SignedIn;

const PAGE: i64 = 50;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Params {
    actor: String,
    action: String,
    outcome: String,
    from: String,
    to: String,
    page: String,
}

fn day(s: &str) -> Option<chrono::DateTime<Utc>> {
    let d = NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok()?;
    Some(Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0)?))
}

fn nonempty(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_owned())
}

/// `GET /audit`
pub async fn page(
    State(st): State<AppState>,
    s: SignedIn,
    Query(p): Query<Params>,
) -> AppResult<Response> {
    let now = st.clock.now();
    require(
        &st,
        &s.ctx.audit(now),
        &s.actor,
        Action::ViewAudit,
        &s.ctx.path,
    )
    .await?;
    let filter = AuditFilter {
        actor: nonempty(&p.actor),
        action: nonempty(&p.action),
        outcome: nonempty(&p.outcome).filter(|o| Outcome::ALL.iter().any(|x| x.code() == o)),
        from: day(&p.from),
        // "to" is inclusive of the whole day.
        to: day(&p.to).map(|d| d + chrono::Duration::days(1)),
    };
    let page: i64 = p.page.trim().parse().ok().filter(|n| *n >= 1).unwrap_or(1);
    let mut entries = st
        .store
        .audit_entries(&filter, PAGE + 1, (page - 1) * PAGE)
        .await?;
    let has_next = entries.len() as i64 > PAGE;
    entries.truncate(usize::try_from(PAGE).unwrap_or(50));
    let orgs: std::collections::HashMap<_, _> = st
        .store
        .orgs()
        .await?
        .into_iter()
        .map(|o| (o.org.id, o.org.code))
        .collect();
    let rows: Vec<_> = entries
        .iter()
        .map(|e| {
            json!({
                "seq": e.seq,
                "at": e.at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
                "actor": e.actor,
                "org_code": e.org_id.and_then(|o| orgs.get(&o).cloned()),
                "action": e.action,
                "target": match (&e.target_kind, &e.target_id) {
                    (Some(k), Some(i)) => format!("{k}:{i}"),
                    _ => String::new(),
                },
                "outcome": e.outcome,
                "ip": e.ip,
            })
        })
        .collect();
    let checkpoint = latest_checkpoint(st.store.as_ref())
        .await?
        .map(|c| json!({ "seq": c.seq, "at": when(c.at), "key_id": c.key_id }));
    // Reading the trail is itself audited.
    let ev = s
        .ctx
        .audit(now)
        .event("audit.view", Outcome::Success)
        .detail(json!({ "page": page }));
    st.store.append_audit(&ev).await?;
    Ok(st.web.render(
        &s.ctx,
        "audit.html",
        json!({
            "entries": rows,
            "filter": { "actor": p.actor, "action": p.action, "outcome": p.outcome, "from": p.from, "to": p.to },
            "outcomes": Outcome::ALL.iter().map(|o| o.code()).collect::<Vec<_>>(),
            "page": page,
            "has_next": has_next,
            "checkpoint": checkpoint,
        }),
    ))
}
