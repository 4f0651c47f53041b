//! Scheduled work (tokio-cron-scheduler). Every job is idempotent and safe on several
//! replicas at once: a checkpoint of an already sealed entry is ignored, and purging expired
//! sessions twice removes nothing more.

use std::collections::BTreeMap;
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};
use tokio_cron_scheduler::{Job, JobScheduler};

use crate::app::AppState;

/// When one scheduled job last ran, last succeeded and last failed (this process only).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JobTimes {
    pub last_run: Option<DateTime<Utc>>,
    pub last_ok: Option<DateTime<Utc>>,
    pub last_failure: Option<DateTime<Utc>>,
}

/// The runs of the scheduled jobs of this process, by job name, for the metrics
/// (`puente_job_last_*_timestamp_seconds`). A job that has not run yet is absent.
#[derive(Debug, Default)]
pub struct JobRegistry {
    jobs: Mutex<BTreeMap<&'static str, JobTimes>>,
}

impl JobRegistry {
    /// Records one finished run of `job` at `at`: a success, or a failure.
    pub fn record(&self, job: &'static str, at: DateTime<Utc>, ok: bool) {
        let mut jobs = match self.jobs.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        let t = jobs.entry(job).or_default();
        t.last_run = Some(at);
        if ok {
            t.last_ok = Some(at);
        } else {
            t.last_failure = Some(at);
        }
    }

    /// Every job that has run, by name.
    pub fn snapshot(&self) -> Vec<(&'static str, JobTimes)> {
        let jobs = match self.jobs.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        jobs.iter().map(|(k, v)| (*k, *v)).collect()
    }
}

/// Job names as the metrics label them.
pub const AUDIT_CHECKPOINT: &str = "audit_checkpoint";
pub const EVIDENCE_SEAL: &str = "evidence_seal";
pub const SESSION_PURGE: &str = "session_purge";
pub const REFERRAL_EXPIRY: &str = "referral_expiry";
pub const STATS_RELEASE: &str = "stats_release";
pub const RETENTION: &str = "retention";

/// Signs the audit head now (also run once at start).
pub async fn checkpoint_now(st: &AppState) {
    let r = crate::audit::checkpoint(st.store.as_ref(), &st.identity, st.clock.now()).await;
    st.jobs.record(AUDIT_CHECKPOINT, st.clock.now(), r.is_ok());
    match r {
        Ok(Some(seq)) => tracing::info!(seq, "audit checkpoint signed"),
        Ok(None) => {}
        Err(e) => tracing::error!(error = %e, "audit checkpoint failed"),
    }
}

/// Seals the federation evidence log's head for today (also run once at start).
pub async fn seal_evidence(st: &AppState) {
    if st.config.federation.is_none() {
        return;
    }
    let r = crate::federation::evidence::seal(
        st.store.as_ref(),
        st.config.country,
        &st.identity,
        st.clock.now(),
    )
    .await;
    st.jobs.record(EVIDENCE_SEAL, st.clock.now(), r.is_ok());
    match r {
        Ok(Some(seq)) => tracing::info!(seq, "evidence log sealed"),
        Ok(None) => {}
        Err(e) => tracing::error!(error = %e, "evidence seal failed"),
    }
}

async fn purge_sessions(st: &AppState) {
    let now = st.clock.now();
    let idle = now - Duration::minutes(i64::from(st.config.security.session_idle_minutes));
    let r = st.store.purge_sessions(now, idle).await;
    st.jobs.record(SESSION_PURGE, st.clock.now(), r.is_ok());
    match r {
        Ok(n) if n > 0 => tracing::info!(sessions = n, "expired sessions removed"),
        Ok(_) => {}
        Err(e) => tracing::error!(error = %e, "session purge failed"),
    }
}

/// Every hour: referral offers left unanswered past their consent's expiry expire.
pub async fn expire_referrals(st: &AppState) {
    if crate::hub::is_hub(&st.config) {
        return; // a regional hub has no referrals
    }
    let r = crate::referrals::inbound::expire_due(st).await;
    st.jobs.record(REFERRAL_EXPIRY, st.clock.now(), r.is_ok());
    match r {
        Ok(0) => {}
        Ok(n) => tracing::info!(expired = n, "referral offers expired"),
        Err(e) => tracing::error!(error = %e, "cannot expire referral offers"),
    }
}

/// Daily: prepares (and under `auto_publish` publishes) the last closed period's statistics
/// release when the node is under a `stats` agreement (`stats::releases::run_job`).
pub async fn stats_release(st: &AppState) {
    if crate::hub::is_hub(&st.config) {
        return; // a regional hub receives releases, it does not make them
    }
    let r = crate::stats::releases::run_job(st).await;
    st.jobs.record(STATS_RELEASE, st.clock.now(), r.is_ok());
    match r {
        Ok(o) => tracing::debug!(outcome = ?o, "statistics release job"),
        Err(e) => tracing::error!(error = %e, "statistics release job failed"),
    }
}

/// Daily: anonymises the persons the node's retention rule makes due
/// (`retention::run_job`; nothing without a rule).
pub async fn retention(st: &AppState) {
    if crate::hub::is_hub(&st.config) || st.config.retention.anonymise_closed_after_years.is_none()
    {
        return;
    }
    let r = crate::retention::run_job(st).await;
    let ok = r.as_ref().is_ok_and(|o| o.failed == 0);
    st.jobs.record(RETENTION, st.clock.now(), ok);
    match r {
        Ok(o) if o.anonymised > 0 || o.skipped > 0 || o.failed > 0 => tracing::info!(
            anonymised = o.anonymised,
            skipped = o.skipped,
            failed = o.failed,
            "retention rule applied"
        ),
        Ok(_) => {}
        Err(e) => tracing::error!(error = %e, "retention job failed"),
    }
}

/// Starts the scheduler: the daily signed audit checkpoint (00:05 UTC), the daily seal of the
/// federation evidence log (23:55 UTC, so each day's entries are sealed that day), the
/// session purge (every 10 minutes), the expiry of unanswered referral offers (hourly, and
/// once at start), the statistics release job (02:20 UTC, and about 90 s after start) and the
/// retention job (03:40 UTC, and about 120 s after start).
pub async fn start(st: AppState) -> anyhow::Result<JobScheduler> {
    let sched = JobScheduler::new().await?;
    let s = st.clone();
    sched
        .add(Job::new_async("0 5 0 * * *", move |_, _| {
            let s = s.clone();
            Box::pin(async move { checkpoint_now(&s).await })
        })?)
        .await?;
    let s = st.clone();
    sched
        .add(Job::new_async("0 55 23 * * *", move |_, _| {
            let s = s.clone();
            Box::pin(async move { seal_evidence(&s).await })
        })?)
        .await?;
    let s = st.clone();
    sched
        .add(Job::new_async("0 */10 * * * *", move |_, _| {
            let s = s.clone();
            Box::pin(async move { purge_sessions(&s).await })
        })?)
        .await?;
    let s = st.clone();
    sched
        .add(Job::new_async("0 1 * * * *", move |_, _| {
            let s = s.clone();
            Box::pin(async move { expire_referrals(&s).await })
        })?)
        .await?;
    let s = st.clone();
    sched
        .add(Job::new_async("0 20 2 * * *", move |_, _| {
            let s = s.clone();
            Box::pin(async move { stats_release(&s).await })
        })?)
        .await?;
    let s = st.clone();
    sched
        .add(Job::new_async("0 40 3 * * *", move |_, _| {
            let s = s.clone();
            Box::pin(async move { retention(&s).await })
        })?)
        .await?;
    sched.start().await?;
    // The statistics release job also runs shortly after start (the federation state is
    // loaded by then), not only at 02:20 UTC.
    let s = st.clone();
    tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_secs(90)).await;
        stats_release(&s).await;
    });
    let s = st.clone();
    tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_secs(120)).await;
        retention(&s).await;
    });
    // Offers that expired while the node was down expire now, not at the next hour.
    expire_referrals(&st).await;
    Ok(sched)
}
