//! `puente stats`: prepare, publish and list the node's statistics releases from the shell
//! (the federation harness drives it with `--json`). The CLI acts as the system actor
//! (`cli:<os user>`, no user id), like `puente federation` and `puente peer`.

use std::path::Path;
use std::sync::Arc;

use clap::Subcommand;
use puente_common::stats::release::ReleaseReview;
use puente_common::stats::Period;
use serde_json::{json, Value};
use uuid::Uuid;

use super::releases;
use crate::app::{AppState, Node};
use crate::audit::AuditCtx;
use crate::clock::{Clock, SystemClock};
use crate::error::AppError;
use crate::store::release_sql::ReleaseRow;

#[derive(Debug, Subcommand)]
pub enum StatsCmd {
    /// Compute and protect a closed period's release as a draft (and publish it with
    /// --publish).
    Prepare {
        /// The closed period: 2025-Q2, 2025-07 or 2025, of the federation's kind.
        #[arg(long)]
        period: String,
        /// Publish it at once (signed, chained, queued to the hubs).
        #[arg(long)]
        publish: bool,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Publish a draft release.
    Publish {
        /// The release's id.
        id: Uuid,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// List the releases, newest period first.
    List {
        /// Print one JSON array.
        #[arg(long)]
        json: bool,
    },
}

/// A release as `--json` prints it.
pub fn row_json(r: &ReleaseRow) -> Value {
    json!({
        "id": r.id,
        "period": r.period,
        "version": r.version,
        "state": r.state,
        "hash": r.hash,
    })
}

fn line(r: &ReleaseRow) -> String {
    format!(
        "{}  {}  v{}  {}{}",
        r.id,
        r.period,
        r.version,
        r.state,
        r.hash
            .as_deref()
            .map(|h| format!("  {h}"))
            .unwrap_or_default()
    )
}

/// An operation's error as a message for the shell (stable codes kept).
fn explain(e: AppError) -> anyhow::Error {
    match e {
        AppError::Invalid(fields) => anyhow::anyhow!(
            "refused: {}",
            fields
                .iter()
                .map(|f| format!("{} ({})", f.field, f.code))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        AppError::NotFound => anyhow::anyhow!("no such release"),
        other => anyhow::anyhow!("{other}"),
    }
}

/// Runs `cmd` on a node state; returns what to print.
pub async fn execute(st: &AppState, cmd: &StatsCmd, ctx: &AuditCtx) -> anyhow::Result<String> {
    match cmd {
        StatsCmd::Prepare {
            period,
            publish,
            json,
        } => {
            let p: Period = period
                .parse()
                .map_err(|_| anyhow::anyhow!("refused: period (invalid)"))?;
            let mut r = releases::prepare(st, p, ctx).await.map_err(explain)?;
            if *publish {
                r = releases::publish(st, r.id, ctx, ReleaseReview::Reviewed)
                    .await
                    .map_err(explain)?;
            }
            Ok(if *json {
                row_json(&r).to_string()
            } else {
                line(&r)
            })
        }
        StatsCmd::Publish { id, json } => {
            let r = releases::publish(st, *id, ctx, ReleaseReview::Reviewed)
                .await
                .map_err(explain)?;
            Ok(if *json {
                row_json(&r).to_string()
            } else {
                line(&r)
            })
        }
        StatsCmd::List { json } => {
            let rows = st
                .store
                .releases(None)
                .await
                .map_err(AppError::from)
                .map_err(explain)?;
            Ok(if *json {
                Value::from(
                    rows.iter()
                        .map(|r| row_json(&r.release))
                        .collect::<Vec<_>>(),
                )
                .to_string()
            } else if rows.is_empty() {
                "No releases.".to_owned()
            } else {
                rows.iter()
                    .map(|r| line(&r.release))
                    .collect::<Vec<_>>()
                    .join("\n")
            })
        }
    }
}

/// `puente stats …` with the node's configuration.
pub async fn run(config_path: &Path, cmd: &StatsCmd) -> anyhow::Result<()> {
    let (config, store) = crate::cli::open(config_path).await?;
    let (data_key, identity) = crate::init::load_keys(&config)?;
    let clock = SystemClock;
    let ctx = crate::cli::cli_ctx(&clock as &dyn Clock);
    let st = Node::new(config, store, Arc::new(SystemClock), data_key, identity)?;
    let out = execute(&st, cmd, &ctx).await;
    st.store.close().await;
    println!("{}", out?);
    Ok(())
}
