//! `frontdesk users create|reset-password`: dashboard users (SPEC section 7).
//!
//! Passwords are hashed with Argon2id before they are stored; the password is printed
//! once, alone on stdout (so `PASSWORD=$(frontdesk users create ...)` works), whether
//! generated or read from stdin with `--password-stdin`.

use std::io::BufRead;

use frontdesk_core::user::{Login, Password};
use frontdesk_core::workspace::WorkspaceName;
use serde_json::json;

use super::{Output, open_store};
use crate::cli::{UsageError, UsersCommand};
use crate::config::Config;

/// The password to set: the first line of stdin, or a generated one.
fn password(from_stdin: bool) -> anyhow::Result<Password> {
    if !from_stdin {
        return Ok(Password::generate());
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    let line = line.trim_end_matches(['\r', '\n']);
    Ok(Password::parse(line).map_err(|e| UsageError(format!("--password-stdin: {}", e.message)))?)
}

/// Argon2id is slow on purpose: off the async workers.
async fn hash(password: &Password) -> anyhow::Result<String> {
    let p = password.clone();
    Ok(tokio::task::spawn_blocking(move || p.hash()).await?)
}

pub async fn run(config: &Config, out: Output, cmd: UsersCommand) -> anyhow::Result<()> {
    match cmd {
        UsersCommand::Create {
            workspace,
            email,
            password_stdin,
        } => {
            let name = WorkspaceName::parse(&workspace).map_err(|e| UsageError(e.message))?;
            let login = Login::parse(&email).map_err(|e| UsageError(format!("--email: {}", e.message)))?;
            let password = password(password_stdin)?;
            let (store, _) = open_store(config).await?;
            let ws = store.workspace_by_name(&name).await?.ok_or_else(|| {
                UsageError(format!(
                    "no workspace named `{name}`; create it with `frontdesk workspaces create {name}`"
                ))
            })?;
            let hashed = hash(&password).await?;
            let user = store.create_user(&ws.id, &login, &hashed).await.map_err(|e| match e {
                frontdesk_store::StoreError::Conflict(m) => anyhow::Error::new(UsageError(m)),
                other => other.into(),
            })?;
            let json = json!({
                "id": user.id.as_str(),
                "workspace": name.as_str(),
                "email": user.login,
                "password": password.expose(),
                "created_at": user.created_at,
            });
            out.print(&json, |_| password.expose().to_owned())
        }
        UsersCommand::ResetPassword { email, password_stdin } => {
            let login = Login::parse(&email).map_err(|e| UsageError(format!("--email: {}", e.message)))?;
            let password = password(password_stdin)?;
            let (store, _) = open_store(config).await?;
            let user = store
                .user_by_login(&login)
                .await?
                .ok_or_else(|| UsageError(format!("no user named `{}`", login.as_str())))?;
            let hashed = hash(&password).await?;
            store.set_password(&user.id, &hashed).await?;
            let json = json!({"id": user.id.as_str(), "email": user.login, "password": password.expose()});
            out.print(&json, |_| password.expose().to_owned())
        }
    }
}
