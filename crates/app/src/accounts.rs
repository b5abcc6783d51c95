//! Twilio accounts: which auth token belongs to a request, a workspace's account for
//! the REST API, and storing a workspace's credentials (sealed with the master key).
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

use std::sync::Arc;

use chrono::Utc;
use frontdesk_core::agent::Provider;
use frontdesk_core::credentials::{StoredCredentials, hint};
use frontdesk_core::id::WorkspaceId;
use frontdesk_core::secret::MasterKey;
use frontdesk_store::{Store, StoreError};
use frontdesk_twilio::TwilioAccount;

use crate::telephony::TelephonyError;

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

/// Why credentials could not be stored.
#[derive(Debug, thiserror::Error)]
pub enum CredentialsError {
    /// No master key: credentials are never stored in clear.
    #[error(
        "this server has no FRONTDESK_MASTER_KEY, so it cannot store credentials encrypted; set it \
         (at least 32 characters, e.g. `openssl rand -base64 32`) and restart the server"
    )]
    NoMasterKey,
    #[error("could not seal credentials: {0}")]
    Seal(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a sealed secret is bound to.
#[must_use]
pub fn owner(workspace: &WorkspaceId, provider: Provider, account_sid: &str) -> String {
    format!("{workspace}/{}/{account_sid}", provider.as_str())
}

/// The Twilio accounts this server knows: workspaces' stored ones and the operator's
/// global auth token.
pub struct TwilioAccounts {
    store: Arc<dyn Store>,
    master_key: Option<Arc<MasterKey>>,
    global_token: Option<String>,
}

impl TwilioAccounts {
    #[must_use]
    pub fn new(store: Arc<dyn Store>, master_key: Option<Arc<MasterKey>>, global_token: Option<String>) -> Self {
        Self {
            store,
            master_key,
            global_token,
        }
    }

    fn global(&self, except: Vec<WorkspaceId>) -> Option<Candidate> {
        self.global_token.as_ref().map(|t| Candidate {
            token: t.clone(),
            speaks_for: SpeaksFor::AllBut(except),
        })
    }

    fn open(&self, c: &StoredCredentials) -> Option<String> {
        let key = self.master_key.as_ref()?;
        match key.open(&c.sealed_secret, &owner(&c.workspace_id, c.provider, &c.account_sid)) {
            Ok(t) => Some(t),
            Err(e) => {
                tracing::warn!(workspace = %c.workspace_id, error = %e, "stored Twilio credentials could not be opened");
                None
            }
        }
    }

    /// Tokens that may have signed a request from this account.
    pub async fn candidates(&self, account_sid: Option<&str>) -> Result<Vec<Candidate>, StoreError> {
        let mut out: Vec<Candidate> = Vec::new();
        let mut stored_by = Vec::new();
        if let Some(sid) = account_sid.filter(|s| !s.is_empty()) {
            let stored = self.store.credentials_by_account(Provider::Twilio, sid).await?;
            stored_by = stored.iter().map(|c| c.workspace_id.clone()).collect();
            for c in &stored {
                if let Some(token) = self.open(c) {
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
        out.extend(self.global(stored_by));
        Ok(out)
    }

    /// The token that may sign a request about a call of this workspace: its own when it
    /// stored credentials, else the global one.
    pub async fn token_for_workspace(&self, ws: &WorkspaceId) -> Result<Option<String>, StoreError> {
        match self.store.get_credentials(ws, Provider::Twilio).await? {
            Some(c) => Ok(self.open(&c)),
            None => Ok(self.global(Vec::new()).map(|c| c.token)),
        }
    }

    /// The workspace's Twilio account, for calls through the REST API.
    pub async fn workspace_account(&self, ws: &WorkspaceId) -> Result<TwilioAccount, TelephonyError> {
        let c = self
            .store
            .get_credentials(ws, Provider::Twilio)
            .await?
            .ok_or(TelephonyError::NotConfigured)?;
        let token = self.open(&c).ok_or(TelephonyError::CredentialsUnreadable)?;
        Ok(TwilioAccount {
            account_sid: c.account_sid,
            auth_token: token,
        })
    }

    /// Stores a workspace's Twilio credentials, the auth token sealed with the master
    /// key (bound to the workspace and account), replacing any it had.
    pub async fn store_credentials(
        &self,
        ws: &WorkspaceId,
        account_sid: &str,
        token: &str,
    ) -> Result<StoredCredentials, CredentialsError> {
        let key = self.master_key.as_ref().ok_or(CredentialsError::NoMasterKey)?;
        let sealed = key
            .seal(token, &owner(ws, Provider::Twilio, account_sid))
            .map_err(|e| CredentialsError::Seal(e.to_string()))?;
        let now = Utc::now();
        Ok(self
            .store
            .put_credentials(&StoredCredentials {
                workspace_id: ws.clone(),
                provider: Provider::Twilio,
                account_sid: account_sid.to_owned(),
                sealed_secret: sealed,
                secret_hint: hint(token),
                created_at: now,
                updated_at: now,
            })
            .await?)
    }
}
