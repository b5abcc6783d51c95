//! One module per CLI command. Commands that touch the database open it from the
//! configuration and apply migrations first, so any command works on a fresh database.

pub mod call;
pub mod keys;
pub mod listen;
pub mod migrate;
pub mod serve;
pub mod users;
pub mod workspaces;

use std::sync::Arc;

use anyhow::Context;
use frontdesk_core::secret::MasterKey;
use frontdesk_store::{Secrets, Store};

use crate::config::Config;

/// How a command prints its result.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    pub json: bool,
}

impl Output {
    /// Prints `value` as JSON when `--json` was given, else the text `human` renders.
    pub fn print<T: serde::Serialize>(&self, value: &T, human: impl FnOnce(&T) -> String) -> anyhow::Result<()> {
        if self.json {
            println!("{}", serde_json::to_string_pretty(value)?);
        } else {
            println!("{}", human(value));
        }
        Ok(())
    }
}

/// Opens the configured database (sealing secrets with the master key, when one is
/// configured) and applies pending migrations.
pub async fn open_store(config: &Config) -> anyhow::Result<(Arc<dyn Store>, usize)> {
    let url = frontdesk_store::redact_url(&config.database_url);
    let key = config
        .master_key
        .as_deref()
        .map(MasterKey::new)
        .transpose()
        .context("invalid setting `master_key` (env FRONTDESK_MASTER_KEY)")?
        .map(Arc::new);
    let connect = config.connect_options()?;
    let store = frontdesk_store::open_with(&config.database_url, Secrets::new(key), connect)
        .await
        .with_context(|| format!("could not open the database {url}"))?;
    let applied = store
        .migrate()
        .await
        .with_context(|| format!("could not migrate the database {url}"))?;
    if applied > 0 {
        tracing::info!(applied, database = %url, "applied database migrations");
    }
    Ok((store, applied))
}
