//! `frontdesk migrate`: apply pending migrations.

use super::{Output, open_store};
use crate::config::Config;

pub async fn run(config: &Config, out: Output) -> anyhow::Result<()> {
    let (_, applied) = open_store(config).await?;
    out.print(&serde_json::json!({ "applied": applied }), |_| {
        format!("applied {applied} migration(s); the database is up to date")
    })
}
