//! Which Twilio auth token belongs to a request, and a workspace's Twilio account.
//!
//! A workspace may store its own Twilio credentials (sealed with the master key); the
//! server may also have one global auth token (`FRONTDESK_TWILIO_AUTH_TOKEN`), the
//! operator's. A request from Twilio names its account (`AccountSid`). The rule:
//!
//! - a token a workspace stored for that account speaks for that workspace only (for
//!   every workspace that stored the same account and token);
//! - the global token speaks for every workspace except those that stored credentials
//!   for that account: an account a workspace stored is checked, for that workspace,
//!   with its own token only.
//!
//! So the operator's token cannot drive the calls of a tenant's own account, and storing
//! credentials changes who reaches one's own workspace and nobody else's (a tenant
//! storing the operator's account SID with a wrong token locks nobody out, itself
//! aside). The candidates to check a signature with are the account's stored tokens
//! and the global one, all known from one lookup by account.

use frontdesk_core::agent::Provider;
use frontdesk_core::credentials::StoredCredentials;
use frontdesk_core::id::WorkspaceId;

use crate::ApiError;
use crate::state::AppState;

/// A token to check a signature with, and the workspaces it speaks for.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub token: String,
    pub speaks_for: SpeaksFor,
}

/// The workspaces a token speaks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpeaksFor {
    /// The workspaces that stored it.
    Workspaces(Vec<WorkspaceId>),
    /// The global token: every workspace but these (those that stored credentials for
    /// the account the request names).
    AllBut(Vec<WorkspaceId>),
}

impl SpeaksFor {
    /// Whether a request signed with this token may reach workspace `ws`.
    #[must_use]
    pub fn includes(&self, ws: &WorkspaceId) -> bool {
        match self {
            Self::Workspaces(w) => w.contains(ws),
            Self::AllBut(w) => !w.contains(ws),
        }
    }
}

fn global(state: &AppState, except: Vec<WorkspaceId>) -> Option<Candidate> {
    state.settings.twilio.auth_token.as_ref().map(|t| Candidate {
        token: t.clone(),
        speaks_for: SpeaksFor::AllBut(except),
    })
}

/// A workspace's Twilio account, opened.
#[derive(Clone)]
pub struct TwilioAccount {
    pub account_sid: String,
    pub auth_token: String,
}

impl std::fmt::Debug for TwilioAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TwilioAccount")
            .field("account_sid", &self.account_sid)
            .finish_non_exhaustive()
    }
}

/// What a sealed secret is bound to.
#[must_use]
pub fn owner(workspace: &WorkspaceId, provider: Provider, account_sid: &str) -> String {
    format!("{workspace}/{}/{account_sid}", provider.as_str())
}

fn open(state: &AppState, c: &StoredCredentials) -> Option<String> {
    let key = state.master_key.as_ref()?;
    match key.open(&c.sealed_secret, &owner(&c.workspace_id, c.provider, &c.account_sid)) {
        Ok(t) => Some(t),
        Err(e) => {
            tracing::warn!(workspace = %c.workspace_id, error = %e, "stored Twilio credentials could not be opened");
            None
        }
    }
}

/// Tokens that may have signed a request from this account.
pub async fn candidates_for_account(state: &AppState, account_sid: Option<&str>) -> Result<Vec<Candidate>, ApiError> {
    let mut out: Vec<Candidate> = Vec::new();
    let mut stored_by = Vec::new();
    if let Some(sid) = account_sid.filter(|s| !s.is_empty()) {
        let stored = state.store.credentials_by_account(Provider::Twilio, sid).await?;
        stored_by = stored.iter().map(|c| c.workspace_id.clone()).collect();
        for c in &stored {
            if let Some(token) = open(state, c) {
                match out.iter_mut().find(|x| x.token == token) {
                    Some(Candidate {
                        speaks_for: SpeaksFor::Workspaces(w),
                        ..
                    }) => w.push(c.workspace_id.clone()),
                    _ => out.push(Candidate {
                        token,
                        speaks_for: SpeaksFor::Workspaces(vec![c.workspace_id.clone()]),
                    }),
                }
            }
        }
    }
    out.extend(global(state, stored_by));
    Ok(out)
}

/// The token that may sign a request about a call of this workspace: its own when it
/// stored credentials, else the global one.
pub async fn token_for_workspace(state: &AppState, ws: &WorkspaceId) -> Result<Option<String>, ApiError> {
    match state.store.get_credentials(ws, Provider::Twilio).await? {
        Some(c) => Ok(open(state, &c)),
        None => Ok(global(state, Vec::new()).map(|c| c.token)),
    }
}

/// The workspace's Twilio account, for calls through the REST API.
pub async fn workspace_account(state: &AppState, ws: &WorkspaceId) -> Result<TwilioAccount, ApiError> {
    let not_configured = || {
        ApiError::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "twilio_not_configured",
            "this workspace has no Twilio credentials; store them with PUT /v1/credentials/twilio \
             {\"account_sid\": \"AC...\", \"auth_token\": \"...\"}",
        )
    };
    let c = state
        .store
        .get_credentials(ws, Provider::Twilio)
        .await?
        .ok_or_else(not_configured)?;
    let token = open(state, &c).ok_or_else(|| {
        ApiError::new(
            axum::http::StatusCode::CONFLICT,
            "credentials_unreadable",
            "the stored Twilio credentials cannot be opened with this server's FRONTDESK_MASTER_KEY \
             (it changed, or is missing); restore the key or store the credentials again",
        )
    })?;
    Ok(TwilioAccount {
        account_sid: c.account_sid,
        auth_token: token,
    })
}
