//! `frontdesk keys create|list|revoke`.

use std::collections::HashMap;

use frontdesk_core::api_key::{ApiKeyName, ApiKeySecret};
use frontdesk_core::id::ApiKeyId;
use frontdesk_core::page::{MAX_LIMIT, PageRequest};
use frontdesk_core::workspace::WorkspaceName;
use frontdesk_store::{NewApiKey, Store};

use super::{Output, open_store};
use crate::cli::{KeysCommand, UsageError};
use crate::config::Config;

async fn workspace_id(store: &dyn Store, name: &str) -> anyhow::Result<frontdesk_core::id::WorkspaceId> {
    let name = WorkspaceName::parse(name).map_err(|e| UsageError(e.message))?;
    let ws = store.workspace_by_name(&name).await?.ok_or_else(|| {
        UsageError(format!(
            "no workspace named `{name}`; create it with `frontdesk workspaces create {name}`"
        ))
    })?;
    Ok(ws.id)
}

pub async fn run(config: &Config, out: Output, cmd: KeysCommand) -> anyhow::Result<()> {
    match cmd {
        KeysCommand::Create { workspace, name } => {
            let label = ApiKeyName::parse(&name).map_err(|e| UsageError(e.message))?;
            let (store, _) = open_store(config).await?;
            let ws = workspace_id(&*store, &workspace).await?;
            let secret = ApiKeySecret::generate();
            let key = store.create_api_key(&ws, &NewApiKey::new(&label, &secret)).await?;
            let mut json = serde_json::to_value(&key)?;
            json["key"] = secret.expose().into();
            // The key alone on stdout, so `KEY=$(frontdesk keys create ...)` works.
            out.print(&json, |_| secret.expose().to_owned())
        }
        KeysCommand::List { workspace } => {
            let (store, _) = open_store(config).await?;
            let ws = match workspace {
                Some(name) => Some(workspace_id(&*store, &name).await?),
                None => None,
            };
            let names: HashMap<_, _> = store
                .list_workspaces()
                .await?
                .into_iter()
                .map(|w| (w.id, w.name))
                .collect();
            let mut keys = Vec::new();
            let mut page = PageRequest::first(MAX_LIMIT);
            loop {
                let p = store.list_api_keys(ws.as_ref(), &page).await?;
                keys.extend(p.data);
                match p.next_cursor {
                    Some(c) => page.before_id = Some(c),
                    None => break,
                }
            }
            out.print(&keys, |keys| {
                let mut lines = vec![format!(
                    "{:<30}  {:<12}  {:<16}  {:<20}  {:<25}  {:<25}  {}",
                    "ID", "PREFIX", "WORKSPACE", "NAME", "CREATED", "LAST USED", "REVOKED"
                )];
                let t = |d: Option<chrono::DateTime<chrono::Utc>>| d.map_or_else(|| "-".to_owned(), |d| d.to_rfc3339());
                for k in keys {
                    lines.push(format!(
                        "{:<30}  {:<12}  {:<16}  {:<20}  {:<25}  {:<25}  {}",
                        k.id,
                        k.prefix,
                        names.get(&k.workspace_id).map_or("?", String::as_str),
                        k.name,
                        k.created_at.to_rfc3339(),
                        t(k.last_used_at),
                        t(k.revoked_at)
                    ));
                }
                lines.join("\n")
            })
        }
        KeysCommand::Revoke { id } => {
            let key_id = ApiKeyId::parse(&id).map_err(|e| UsageError(e.message))?;
            let (store, _) = open_store(config).await?;
            let key = store
                .revoke_api_key(None, &key_id)
                .await?
                .ok_or_else(|| UsageError(format!("no API key with id `{id}`; `frontdesk keys list` shows them")))?;
            out.print(&key, |k| format!("revoked {} ({})", k.id, k.name))
        }
    }
}
