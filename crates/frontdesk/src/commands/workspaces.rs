//! `frontdesk workspaces create|list`.

use frontdesk_core::workspace::WorkspaceName;

use super::{Output, open_store};
use crate::cli::{UsageError, WorkspacesCommand};
use crate::config::Config;

pub async fn run(config: &Config, out: Output, cmd: WorkspacesCommand) -> anyhow::Result<()> {
    match cmd {
        WorkspacesCommand::Create { name } => {
            let name = WorkspaceName::parse(&name).map_err(|e| UsageError(e.message))?;
            let (store, _) = open_store(config).await?;
            let ws = store.create_workspace(&name).await?;
            out.print(&ws, |ws| format!("created workspace {} ({})", ws.name, ws.id))
        }
        WorkspacesCommand::List => {
            let (store, _) = open_store(config).await?;
            let list = store.list_workspaces().await?;
            out.print(&list, |list| {
                list.iter()
                    .map(|w| format!("{}  {}  {}", w.id, w.name, w.created_at.to_rfc3339()))
                    .collect::<Vec<_>>()
                    .join("\n")
            })
        }
    }
}
