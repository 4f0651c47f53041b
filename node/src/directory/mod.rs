//! The regional service directory: which of this node's organisations offer which services,
//! for whom, in which languages and where, with a contact point for referrals — published to
//! every peer when it changes — and the directories the peers publish, browsable and searchable
//! by every signed-in user so that a caseworker can see where in the region a victim could be
//! referred.
//!
//! Every operation here, whoever calls it (pages, API, demo, the federation's inbox):
//! 1. authorises through `authz`: everyone signed in reads (`view_directory`); a national
//!    administrator edits any organisation's services, an organisation's coordinator only
//!    their own (`edit_directory`); a service of another organisation is not found;
//! 2. checks the service with `puente_common::directory` (the same checks a peer runs on
//!    what it receives) and reports every problem at once; nothing is stored on error;
//! 3. writes the change, its audit entry and the new revision in one transaction, and, given
//!    a [`Publication`], the outgoing envelopes in that same transaction.
//!
//! A directory received from a peer ([`apply_remote`]) is checked whole before it is stored,
//! and checked again before it is shown: a bad one is refused with a reason, never shown in
//! part. The directory holds organisation data only; nothing here is about a victim.
//!
//! [`pages`] and [`api`] are thin; [`demo`] holds the invented services of the demo nodes.

pub mod api;
pub mod demo;
pub mod pages;

use chrono::{DateTime, Utc};
use puente_common::directory::{DirService, DirectoryPayload, Issue, MAX_PAYLOAD_BYTES};
use puente_common::vocab::codes::{PopulationServed, ServiceType};
use puente_common::vocab::{geo, Coded};
use puente_common::CountryCode;
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use crate::app::{AppState, Node};
use crate::audit::{AuditCtx, Outcome};
use crate::authz::Action;
use crate::cases::Who;
use crate::error::{AppError, AppResult, FieldError};
use crate::store::dir_sql::{DirServiceListed, DirServiceRow};
use crate::store::StoreError;

pub use crate::store::dir_sql::{Publication, PUBLISH_KIND};

/// What an editor submits for a service. Codes are checked by [`save_service`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceInput {
    /// The organisation; a coordinator may leave it out (their own).
    pub org_id: Option<Uuid>,
    pub service_type: String,
    pub populations: Vec<String>,
    pub languages: Vec<String>,
    pub subdivisions: Vec<String>,
    pub contact: String,
    pub notes: String,
}

/// A local service as editors see it.
#[derive(Debug, Clone, Serialize)]
pub struct ServiceView {
    pub id: Uuid,
    pub org_id: Uuid,
    pub org_code: String,
    pub org_name: String,
    pub service_type: String,
    pub populations: Vec<String>,
    pub languages: Vec<String>,
    pub subdivisions: Vec<String>,
    pub contact: String,
    pub notes: String,
    pub active: bool,
    pub updated_at: DateTime<Utc>,
}

impl From<DirServiceListed> for ServiceView {
    fn from(l: DirServiceListed) -> Self {
        let s = l.service;
        ServiceView {
            id: s.id,
            org_id: s.org_id,
            org_code: l.org_code,
            org_name: l.org_name,
            service_type: s.service_type,
            populations: s.populations,
            languages: s.languages,
            subdivisions: s.subdivisions,
            contact: s.contact,
            notes: s.notes,
            active: s.active,
            updated_at: s.updated_at,
        }
    }
}

/// The result of a change: the service and the directory's new revision.
#[derive(Debug, Clone, Serialize)]
pub struct Saved {
    pub service: ServiceView,
    pub revision: u64,
}

fn normalise_text(s: &str) -> String {
    s.replace("\r\n", "\n").trim().to_owned()
}

fn trimmed(v: &[String]) -> Vec<String> {
    v.iter()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect()
}

/// Checks `input` as the service `id` of a node of `country`: field errors named as the input
/// names them (`service_type`, `languages.1`, `contact`, …).
fn checked(country: CountryCode, id: Uuid, input: &ServiceInput) -> (DirService, Vec<FieldError>) {
    let mut service = DirService {
        id: id.hyphenated().to_string(),
        service_type: input.service_type.trim().to_owned(),
        populations: trimmed(&input.populations),
        languages: trimmed(&input.languages),
        subdivisions: trimmed(&input.subdivisions),
        contact: normalise_text(&input.contact),
        notes: normalise_text(&input.notes),
    };
    let errors: Vec<FieldError> = service
        .check(country)
        .into_iter()
        .map(|Issue { field, code }| FieldError::new(field, code))
        .collect();
    // Sets in a stable order: populations as forms list them, places by code.
    service.populations.sort_by_key(|c| {
        PopulationServed::ALL
            .iter()
            .position(|p| p.code() == c.as_str())
    });
    service.subdivisions.sort();
    (service, errors)
}

/// Audits a refusal to touch a service outside the actor's scope; answers "not found".
async fn out_of_scope(st: &AppState, who: Who<'_>, id: Uuid) -> AppError {
    match crate::admin::deny(
        st,
        who.audit,
        "dir_service_out_of_scope",
        &format!("dir_service:{id}"),
    )
    .await
    {
        Ok(()) => AppError::NotFound,
        Err(e) => e,
    }
}

/// A service `who` may edit, or `NotFound` (audited) for one of another organisation.
async fn editable(st: &AppState, who: Who<'_>, id: Uuid) -> AppResult<DirServiceListed> {
    crate::admin::require(
        st,
        who.audit,
        who.actor,
        Action::EditDirectory,
        "dir_service",
    )
    .await?;
    match st.store.dir_service(id).await {
        Ok(s) if who.actor.in_scope(Some(s.service.org_id)) => Ok(s),
        Ok(_) | Err(StoreError::NotFound) => Err(out_of_scope(st, who, id).await),
        Err(e) => Err(e.into()),
    }
}

/// A service of this node's directory, for its edit form.
pub async fn service(st: &AppState, who: Who<'_>, id: Uuid) -> AppResult<ServiceView> {
    Ok(editable(st, who, id).await?.into())
}

/// The services `who` may edit (all for a national administrator, the organisation's for a
/// coordinator), inactive ones included.
pub async fn editable_services(st: &AppState, who: Who<'_>) -> AppResult<Vec<ServiceView>> {
    crate::admin::require(
        st,
        who.audit,
        who.actor,
        Action::EditDirectory,
        "dir_services",
    )
    .await?;
    let org = if who.actor.role.is_node_wide() {
        None
    } else {
        Some(
            who.actor
                .org_id
                .ok_or(AppError::Forbidden(Action::EditDirectory))?,
        )
    };
    Ok(st
        .store
        .dir_services(org)
        .await?
        .into_iter()
        .map(ServiceView::from)
        .collect())
}

/// The organisation a new service of `who` belongs to: a coordinator's own (another one is
/// refused, audited), any active one for a national administrator.
async fn target_org(st: &AppState, who: Who<'_>, wanted: Option<Uuid>) -> AppResult<Uuid> {
    if !who.actor.role.is_node_wide() {
        let own = who
            .actor
            .org_id
            .ok_or(AppError::Forbidden(Action::EditDirectory))?;
        if wanted.is_some_and(|w| w != own) {
            crate::admin::deny(st, who.audit, "dir_service_other_org", "dir_services").await?;
            return Err(AppError::OutOfScope);
        }
        return Ok(own);
    }
    let Some(org) = wanted else {
        return Err(AppError::Invalid(vec![FieldError::new(
            "org_id", "required",
        )]));
    };
    match st.store.org(org).await {
        Ok(o) if o.active => Ok(o.id),
        Ok(_) => Err(AppError::Invalid(vec![FieldError::new(
            "org_id",
            "org_inactive",
        )])),
        Err(StoreError::NotFound) => Err(AppError::Invalid(vec![FieldError::new(
            "org_id", "invalid",
        )])),
        Err(e) => Err(e.into()),
    }
}

/// Whether the directory, with `service` of organisation `org` put in place of the one with
/// its id (or added), still fits one envelope and the limits.
async fn fits(st: &AppState, org: Uuid, service: &DirService) -> AppResult<()> {
    let mut snapshot = st.store.dir_snapshot().await?;
    for o in &mut snapshot.organisations {
        o.services.retain(|s| s.id != service.id);
    }
    let code = st.store.org(org).await?.code;
    match snapshot.organisations.iter_mut().find(|o| o.code == code) {
        Some(o) => o.services.push(service.clone()),
        None => snapshot
            .organisations
            .push(puente_common::directory::DirOrg {
                code,
                name: String::new(),
                org_type: String::new(),
                services: vec![service.clone()],
            }),
    }
    let mut errors = Vec::new();
    if snapshot.organisations.len() > puente_common::directory::MAX_ORGS
        || snapshot
            .organisations
            .iter()
            .any(|o| o.services.len() > puente_common::directory::MAX_SERVICES_PER_ORG)
    {
        errors.push(FieldError::new("org_id", "too_many"));
    }
    let size = serde_json::to_vec(&snapshot).map_or(usize::MAX, |b| b.len());
    if size > MAX_PAYLOAD_BYTES {
        errors.push(FieldError::new("directory", "directory_too_large"));
    }
    crate::admin::check(errors)
}

fn publish_detail(publish: Option<&Publication<'_>>) -> serde_json::Value {
    json!(publish.map_or_else(Vec::new, |p| p
        .destinations
        .iter()
        .map(|d| d.as_str().to_owned())
        .collect::<Vec<_>>()))
}

/// Creates a service (`id` `None`) or changes one (any field; a deactivated service saved
/// again is active again). Checked, audited (`directory.service_create` / `_update`, field
/// names only), the revision bumped and — given `publish` — the new directory enqueued for
/// every destination, all in one transaction.
pub async fn save_service(
    st: &AppState,
    who: Who<'_>,
    id: Option<Uuid>,
    input: &ServiceInput,
    publish: Option<&Publication<'_>>,
) -> AppResult<Saved> {
    let existing = match id {
        Some(id) => Some(editable(st, who, id).await?),
        None => {
            crate::admin::require(
                st,
                who.audit,
                who.actor,
                Action::EditDirectory,
                "dir_services",
            )
            .await?;
            None
        }
    };
    let org = match &existing {
        Some(e) => {
            if input.org_id.is_some_and(|o| o != e.service.org_id) {
                return Err(AppError::Invalid(vec![FieldError::new(
                    "org_id",
                    "cannot_change",
                )]));
            }
            e.service.org_id
        }
        None => target_org(st, who, input.org_id).await?,
    };
    let id = id.unwrap_or_else(Uuid::now_v7);
    let (service, errors) = checked(st.config.country, id, input);
    crate::admin::check(errors)?;
    fits(st, org, &service).await?;
    let now = who.audit.at;
    let row = DirServiceRow {
        id,
        org_id: org,
        service_type: service.service_type,
        populations: service.populations,
        languages: service.languages,
        subdivisions: service.subdivisions,
        contact: service.contact,
        notes: service.notes,
        active: true,
        created_by: existing
            .as_ref()
            .map_or(Some(who.actor.user_id), |e| e.service.created_by),
        created_at: existing.as_ref().map_or(now, |e| e.service.created_at),
        updated_by: Some(who.actor.user_id),
        updated_at: now,
    };
    let event = match &existing {
        None => who
            .audit
            .event("directory.service_create", Outcome::Success)
            .detail(json!({ "service_type": row.service_type, "published_to": publish_detail(publish) })),
        Some(e) => {
            let old = &e.service;
            let changed: Vec<&str> = [
                ("service_type", old.service_type != row.service_type),
                ("populations", old.populations != row.populations),
                ("languages", old.languages != row.languages),
                ("subdivisions", old.subdivisions != row.subdivisions),
                ("contact", old.contact != row.contact),
                ("notes", old.notes != row.notes),
                ("active", !old.active),
            ]
            .into_iter()
            .filter_map(|(f, c)| c.then_some(f))
            .collect();
            who.audit
                .event("directory.service_update", Outcome::Success)
                .detail(json!({ "fields": changed, "published_to": publish_detail(publish) }))
        }
    }
    .target("dir_service", id)
    .org(Some(org));
    let revision = st.store.dir_save_service(&row, &event, publish).await?;
    let service = st.store.dir_service(id).await?.into();
    if publish.is_some() {
        if let Some(f) = st.federation.get() {
            f.outbox.notify_waiters();
        }
    }
    Ok(Saved { service, revision })
}

/// Takes a service out of the directory (kept, inactive; saving it again brings it back).
/// Audited (`directory.service_deactivate`) and published like a save.
pub async fn deactivate_service(
    st: &AppState,
    who: Who<'_>,
    id: Uuid,
    publish: Option<&Publication<'_>>,
) -> AppResult<Saved> {
    let existing = editable(st, who, id).await?;
    if !existing.service.active {
        return Err(AppError::Invalid(vec![FieldError::new(
            "active",
            "already_inactive",
        )]));
    }
    let event = who
        .audit
        .event("directory.service_deactivate", Outcome::Success)
        .target("dir_service", id)
        .org(Some(existing.service.org_id))
        .detail(json!({ "published_to": publish_detail(publish) }));
    let revision = st
        .store
        .dir_deactivate_service(id, Some(who.actor.user_id), who.audit.at, &event, publish)
        .await?;
    let service = st.store.dir_service(id).await?.into();
    if publish.is_some() {
        if let Some(f) = st.federation.get() {
            f.outbox.notify_waiters();
        }
    }
    Ok(Saved { service, revision })
}

/// Publishes the directory as it stands, as a new revision (audited `directory.publish`):
/// for a peer just approved, or after an organisation was renamed or deactivated. Called by
/// the node itself (`audit` names the system or the administrator).
pub async fn publish_now(
    st: &Node,
    audit: &AuditCtx,
    publish: Option<&Publication<'_>>,
) -> AppResult<u64> {
    let event = audit
        .event("directory.publish", Outcome::Success)
        .detail(json!({ "published_to": publish_detail(publish) }));
    Ok(st.store.dir_publish(audit.at, &event, publish).await?)
}

/// The publication that changes made through the pages and the API go out with: `None` while
/// the node is not in a federation. This is the one place the federation wires in: the peers
/// with a directory agreement (approved, not blocked), this node's id, the held manifest's
/// version and the node's signing identity.
pub async fn current_publication(st: &Node) -> AppResult<Option<Publication<'_>>> {
    let Some(fed) = st.federation.get() else {
        return Ok(None);
    };
    let Some(trust) = fed.trust() else {
        return Ok(None);
    };
    let now = st.clock.now();
    Ok(Some(Publication {
        destinations: trust.destinations(fed.me, puente_federation::Channel::Directory, now),
        origin: fed.me,
        manifest_version: trust.version(),
        signer: &st.identity,
        now,
    }))
}

/// This node's directory as it is published now (for the federation's first publication to
/// a peer, and for tests).
pub async fn snapshot(st: &Node) -> AppResult<DirectoryPayload> {
    Ok(st.store.dir_snapshot().await?)
}

// ---------------------------------------------------------------- received directories

/// Why a peer's directory was not stored.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// The payload is not acceptable; final. `reason` is a stable snake_case code for the
    /// inbox (`fed_mark_processed(id, false, Some(reason))`).
    #[error("directory refused: {reason}")]
    Refused {
        reason: &'static str,
        /// What is wrong, as field paths and codes (no values).
        issues: Vec<Issue>,
    },
    /// The database failed; the message stays in the inbox for a later try.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ApplyError {
    fn refused(reason: &'static str) -> Self {
        ApplyError::Refused {
            reason,
            issues: Vec::new(),
        }
    }
}

/// Parses and checks a `directory.publish` payload from `origin`: the whole payload or
/// nothing.
pub fn parse_remote(
    origin: CountryCode,
    payload: &serde_json::Value,
) -> Result<DirectoryPayload, ApplyError> {
    let parsed: DirectoryPayload = serde_json::from_value(payload.clone())
        .map_err(|_| ApplyError::refused("payload_malformed"))?;
    let issues = parsed.check(origin);
    if !issues.is_empty() {
        return Err(ApplyError::Refused {
            reason: "payload_invalid",
            issues,
        });
    }
    let size = serde_json::to_vec(&parsed).map_or(usize::MAX, |b| b.len());
    if size > MAX_PAYLOAD_BYTES {
        return Err(ApplyError::refused("payload_too_large"));
    }
    Ok(parsed)
}

/// Applies the directory that `origin` published in inbox message `message_id`: checked whole
/// (a bad payload is refused with a reason and nothing is stored), then stored if its revision
/// is higher than the one held (latest wins), and the inbox message marked processed, in one
/// transaction. `Ok(false)`: an older or equal revision, ignored (a replay changes nothing).
pub async fn apply_remote(
    st: &Node,
    origin: CountryCode,
    payload: &serde_json::Value,
    message_id: Uuid,
) -> Result<bool, ApplyError> {
    if origin == st.config.country {
        return Err(ApplyError::refused("own_origin"));
    }
    let parsed = match parse_remote(origin, payload) {
        Ok(p) => p,
        Err(e) => {
            if let ApplyError::Refused { reason, issues } = &e {
                let first = issues.first().map(|i| (i.field.as_str(), i.code));
                tracing::warn!(%origin, %message_id, reason, ?first, "peer directory refused");
            }
            return Err(e);
        }
    };
    let text = serde_json::to_string(&parsed)
        .map_err(|e| StoreError::Corrupt(format!("directory payload: {e}")))?;
    let applied = st
        .store
        .dir_apply_remote(origin, parsed.revision, &text, message_id, st.clock.now())
        .await?;
    Ok(applied)
}

// ---------------------------------------------------------------- browsing and search

/// Filters of the directory; `None` means any.
#[derive(Debug, Clone, Default)]
pub struct DirectoryQuery {
    pub country: Option<CountryCode>,
    pub service_type: Option<ServiceType>,
    /// Services for this population, or for anyone (none listed).
    pub population: Option<PopulationServed>,
    /// An ISO 639-3 code.
    pub language: Option<String>,
    /// An ISO 3166-2 code: services covering it, or covering its whole country.
    pub subdivision: Option<String>,
    /// Words that must all appear (accents and case aside) in the organisation's name, the
    /// notes or the names of the places covered.
    pub text: Option<String>,
}

/// One service of the regional directory.
#[derive(Debug, Clone, Serialize)]
pub struct DirectoryEntry {
    pub country: CountryCode,
    /// This node's own service (else a peer's).
    pub local: bool,
    pub org_code: String,
    pub org_name: String,
    pub org_type: String,
    pub service: DirService,
    /// When the peer's directory arrived (peers only).
    pub received_at: Option<DateTime<Utc>>,
}

/// Where the entries come from: this node and each peer whose directory is held.
#[derive(Debug, Clone, Serialize)]
pub struct DirectorySource {
    pub country: CountryCode,
    pub local: bool,
    pub revision: u64,
    pub published_at: String,
    pub received_at: Option<DateTime<Utc>>,
    pub services: usize,
    /// Set when a held directory fails its checks now (it is not shown): a stable code.
    pub refused: Option<&'static str>,
}

/// The regional directory, filtered.
#[derive(Debug, Clone, Serialize)]
pub struct DirectoryView {
    pub entries: Vec<DirectoryEntry>,
    pub sources: Vec<DirectorySource>,
    /// Entries before filtering.
    pub total: usize,
}

/// The words of a search, folded (accents and case aside).
fn words(text: &str) -> Vec<String> {
    text.split_whitespace()
        .map(geo::fold)
        .filter(|w| !w.is_empty())
        .collect()
}

fn matches(e: &DirectoryEntry, q: &DirectoryQuery, words: &[String]) -> bool {
    let s = &e.service;
    if q.country.is_some_and(|c| c != e.country) {
        return false;
    }
    if q.service_type.is_some_and(|t| t.code() != s.service_type) {
        return false;
    }
    if let Some(p) = q.population {
        if !s.populations.is_empty() && !s.populations.iter().any(|x| x == p.code()) {
            return false;
        }
    }
    if let Some(l) = &q.language {
        if !s.languages.iter().any(|x| x == l) {
            return false;
        }
    }
    if let Some(code) = &q.subdivision {
        let whole_country = s.subdivisions.is_empty()
            && geo::subdivision(code).is_some_and(|d| d.country == e.country.as_str());
        if !whole_country && !s.subdivisions.iter().any(|x| x == code) {
            return false;
        }
    }
    if !words.is_empty() {
        let mut hay = geo::fold(&e.org_name);
        hay.push(' ');
        hay.push_str(&geo::fold(&s.notes));
        for d in &s.subdivisions {
            if let Some(sub) = geo::subdivision(d) {
                hay.push(' ');
                hay.push_str(&geo::fold(sub.name));
            }
        }
        if !words.iter().all(|w| hay.contains(w.as_str())) {
            return false;
        }
    }
    true
}

fn entries_of(
    country: CountryCode,
    local: bool,
    payload: DirectoryPayload,
    received_at: Option<DateTime<Utc>>,
    out: &mut Vec<DirectoryEntry>,
) {
    for o in payload.organisations {
        for service in o.services {
            out.push(DirectoryEntry {
                country,
                local,
                org_code: o.code.clone(),
                org_name: o.name.clone(),
                org_type: o.org_type.clone(),
                service,
                received_at,
            });
        }
    }
}

/// The regional directory: this node's services and every peer's held directory, filtered by
/// `q`; this node first, then the peers by country, each by organisation and service type.
/// A held directory that no longer passes its checks is listed as a source but not shown.
pub async fn directory(
    st: &AppState,
    who: Who<'_>,
    q: &DirectoryQuery,
) -> AppResult<DirectoryView> {
    crate::admin::require(st, who.audit, who.actor, Action::ViewDirectory, "directory").await?;
    let mut all = Vec::new();
    let mut sources = Vec::new();
    let own = st.store.dir_snapshot().await?;
    sources.push(DirectorySource {
        country: st.config.country,
        local: true,
        revision: own.revision,
        published_at: own.published_at.clone(),
        received_at: None,
        services: own.service_count(),
        refused: None,
    });
    entries_of(st.config.country, true, own, None, &mut all);
    for r in st.store.dir_remotes().await? {
        let Ok(origin) = r.origin.parse::<CountryCode>() else {
            continue;
        };
        let payload = serde_json::from_str::<serde_json::Value>(&r.payload)
            .map_err(|_| ApplyError::refused("payload_malformed"))
            .and_then(|v| parse_remote(origin, &v));
        match payload {
            Ok(p) => {
                sources.push(DirectorySource {
                    country: origin,
                    local: false,
                    revision: p.revision,
                    published_at: p.published_at.clone(),
                    received_at: Some(r.received_at),
                    services: p.service_count(),
                    refused: None,
                });
                entries_of(origin, false, p, Some(r.received_at), &mut all);
            }
            Err(e) => {
                let reason = match e {
                    ApplyError::Refused { reason, .. } => reason,
                    ApplyError::Store(_) => "payload_malformed",
                };
                sources.push(DirectorySource {
                    country: origin,
                    local: false,
                    revision: u64::try_from(r.revision).unwrap_or(0),
                    published_at: String::new(),
                    received_at: Some(r.received_at),
                    services: 0,
                    refused: Some(reason),
                });
            }
        }
    }
    let total = all.len();
    let words = q.text.as_deref().map(words).unwrap_or_default();
    let mut entries: Vec<DirectoryEntry> =
        all.into_iter().filter(|e| matches(e, q, &words)).collect();
    let own = st.config.country;
    entries.sort_by_cached_key(|e| {
        (
            e.country != own,
            e.country,
            geo::fold(&e.org_name),
            ServiceType::ALL
                .iter()
                .position(|t| t.code() == e.service.service_type),
        )
    });
    Ok(DirectoryView {
        entries,
        sources,
        total,
    })
}
