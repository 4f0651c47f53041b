//! Scheduled work (tokio-cron-scheduler). Every job is idempotent and safe on several
//! replicas at once: a checkpoint of an already sealed entry is ignored, and purging expired
//! sessions twice removes nothing more.

use chrono::Duration;
use tokio_cron_scheduler::{Job, JobScheduler};

use crate::app::AppState;

/// Signs the audit head now (also run once at start).
pub async fn checkpoint_now(st: &AppState) {
    match crate::audit::checkpoint(st.store.as_ref(), &st.identity, st.clock.now()).await {
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
    match crate::federation::evidence::seal(
        st.store.as_ref(),
        st.config.country,
        &st.identity,
        st.clock.now(),
    )
    .await
    {
        Ok(Some(seq)) => tracing::info!(seq, "evidence log sealed"),
        Ok(None) => {}
        Err(e) => tracing::error!(error = %e, "evidence seal failed"),
    }
}

async fn purge_sessions(st: &AppState) {
    let now = st.clock.now();
    let idle = now - Duration::minutes(i64::from(st.config.security.session_idle_minutes));
    match st.store.purge_sessions(now, idle).await {
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
    match crate::referrals::inbound::expire_due(st).await {
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
    match crate::stats::releases::run_job(st).await {
        Ok(o) => tracing::debug!(outcome = ?o, "statistics release job"),
        Err(e) => tracing::error!(error = %e, "statistics release job failed"),
    }
}

/// Starts the scheduler: the daily signed audit checkpoint (00:05 UTC), the daily seal of the
/// federation evidence log (23:55 UTC, so each day's entries are sealed that day), the
/// session purge (every 10 minutes), the expiry of unanswered referral offers (hourly, and
/// once at start) and the statistics release job (02:20 UTC, and about 90 s after start).
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
    sched.start().await?;
    // The statistics release job also runs shortly after start (the federation state is
    // loaded by then), not only at 02:20 UTC.
    let s = st.clone();
    tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_secs(90)).await;
        stats_release(&s).await;
    });
    // Offers that expired while the node was down expire now, not at the next hour.
    expire_referrals(&st).await;
    Ok(sched)
}
