//! `puente retention`: the retention rule's status, and a run of its job now (the scheduled
//! job runs daily; an operator runs it by hand after changing the rule, or to check it).

use std::path::Path;
use std::sync::Arc;

use clap::Subcommand;
use serde_json::json;

use crate::app::Node;
use crate::clock::SystemClock;

#[derive(Debug, Subcommand)]
pub enum RetentionCmd {
    /// The rule, how many persons it makes due now, how many a legal hold keeps, and how
    /// many were anonymised or erased.
    Status {
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Anonymise every person the rule makes due now (what the daily job does).
    Run {
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
}

/// `puente retention …` with the node's configuration.
pub async fn run(config_path: &Path, cmd: &RetentionCmd) -> anyhow::Result<()> {
    let (config, store) = crate::cli::open(config_path).await?;
    if crate::hub::is_hub(&config) {
        anyhow::bail!("a regional hub keeps no cases: it has no retention rule");
    }
    let (data_key, identity) = crate::init::load_keys(&config)?;
    let st = Node::new(config, store, Arc::new(SystemClock), data_key, identity)?;
    let out = match cmd {
        RetentionCmd::Status { json } => super::status(&st).await.map(|s| {
            if *json {
                json!(s).to_string()
            } else {
                let rule = match (s.years, s.closed_before) {
                    (Some(y), Some(c)) => format!(
                        "anonymise {y} years after the last case closes (cases closed on or before {})",
                        c.format("%Y-%m-%d")
                    ),
                    _ => "none (nobody is anonymised by the node itself)".to_owned(),
                };
                format!(
                    "rule: {rule}\ndue now: {}\nkept by a legal hold: {}\nanonymised by the rule: {}\nerased on request: {}",
                    s.due, s.held, s.anonymised, s.erased
                )
            }
        }),
        RetentionCmd::Run { json } => super::run_job(&st).await.map(|o| {
            if *json {
                json!(o).to_string()
            } else if !o.enabled {
                "No retention rule ([retention] anonymise_closed_after_years): nothing done."
                    .to_owned()
            } else {
                format!(
                    "anonymised: {}\nskipped (no longer due): {}\nfailed (see the log; tried again next run): {}",
                    o.anonymised, o.skipped, o.failed
                )
            }
        }),
    };
    st.store.close().await;
    println!("{}", out.map_err(|e| anyhow::anyhow!("{e}"))?);
    Ok(())
}
