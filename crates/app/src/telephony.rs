//! Telephony providers: what the call service asks of whoever carries the line.
//!
//! Each provider implements [`Telephony`]: place a call, end one, and say what it needs
//! at the end of a call (does the conversation's end finish the call, or does the
//! provider report the end itself). [`Sim`] is the simulator (the line is the API
//! itself: a placed call is answered at once, the conversation's end is the call's end);
//! [`Twilio`] places and ends calls with Twilio's REST API, and Twilio's status
//! callback finishes them. A second provider is one more implementation.

use std::sync::Arc;

use async_trait::async_trait;
use frontdesk_core::agent::Provider;
use frontdesk_core::call::Call;
use frontdesk_core::id::WorkspaceId;
use frontdesk_store::StoreError;
use frontdesk_twilio::{NewCall, RestError, TwilioRest};

use crate::accounts::TwilioAccounts;

/// What a provider could not do.
#[derive(Debug, thiserror::Error)]
pub enum TelephonyError {
    /// The workspace has no credentials for the provider.
    #[error(
        "this workspace has no Twilio credentials; store them with PUT /v1/credentials/twilio \
         {{\"account_sid\": \"AC...\", \"auth_token\": \"...\"}}"
    )]
    NotConfigured,
    /// The stored credentials cannot be opened with this server's master key.
    #[error(
        "the stored Twilio credentials cannot be opened with this server's FRONTDESK_MASTER_KEY \
         (it changed, or is missing); restore the key or store the credentials again"
    )]
    CredentialsUnreadable,
    /// The provider must reach this server, and no public URL is configured.
    #[error("Twilio must reach this server to carry the call; set FRONTDESK_PUBLIC_URL to the URL it is reached at")]
    PublicUrlRequired,
    /// This build cannot place calls through the provider.
    #[error("{0}")]
    CannotPlace(String),
    /// The provider refused the request, with its own explanation (`detail`: the
    /// provider's error as recorded on the call).
    #[error("{message}")]
    Rejected { message: String, detail: String },
    /// The provider could not be reached, or failed.
    #[error("{message}")]
    Unavailable { message: String, detail: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What kind of line a provider is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line {
    pub provider: Provider,
    /// The provider reports a call's end itself (a final status); when not, a call is
    /// over when its conversation is.
    pub finishes_calls: bool,
    /// A placed call is answered at once (the simulator): the conversation starts as
    /// the call is placed, and [`Telephony::dial`] is not used.
    pub answers_at_once: bool,
}

impl Line {
    /// The simulator's: answered at once, over with its conversation.
    pub const SIM: Self = Self {
        provider: Provider::Sim,
        finishes_calls: false,
        answers_at_once: true,
    };
    /// Twilio's: rings, and reports its own end.
    pub const TWILIO: Self = Self {
        provider: Provider::Twilio,
        finishes_calls: true,
        answers_at_once: false,
    };
}

/// One telephony provider.
#[async_trait]
pub trait Telephony: Send + Sync + 'static {
    /// What kind of line it is.
    fn line(&self) -> Line;

    /// Checks, before anything is stored, that the workspace can use this provider
    /// (credentials, a public URL).
    async fn check(&self, ws: &WorkspaceId) -> Result<(), TelephonyError>;

    /// Places a call already stored `queued` (its id names it in the provider's
    /// callbacks); returns the provider's id for the call.
    async fn dial(&self, call: &Call) -> Result<String, TelephonyError>;

    /// Ends a call at the provider: a call not yet answered is cancelled. Nothing to do
    /// for a call the provider has not named yet.
    async fn end(&self, call: &Call) -> Result<(), TelephonyError>;
}

/// The simulator: the API is the line.
#[derive(Debug, Default)]
pub struct Sim;

#[async_trait]
impl Telephony for Sim {
    fn line(&self) -> Line {
        Line::SIM
    }

    async fn check(&self, _ws: &WorkspaceId) -> Result<(), TelephonyError> {
        Ok(())
    }

    async fn dial(&self, call: &Call) -> Result<String, TelephonyError> {
        Ok(call.id.to_string())
    }

    async fn end(&self, _call: &Call) -> Result<(), TelephonyError> {
        Ok(())
    }
}

/// Twilio: calls placed and ended through its REST API, carried by its webhooks.
pub struct Twilio {
    rest: TwilioRest,
    accounts: Arc<TwilioAccounts>,
    /// `FRONTDESK_PUBLIC_URL`, without a trailing slash: where Twilio reaches us.
    public_url: Option<String>,
}

impl Twilio {
    #[must_use]
    pub fn new(rest: TwilioRest, accounts: Arc<TwilioAccounts>, public_url: Option<&str>) -> Self {
        Self {
            rest,
            accounts,
            public_url: public_url.map(|u| u.trim_end_matches('/').to_owned()),
        }
    }
}

#[async_trait]
impl Telephony for Twilio {
    fn line(&self) -> Line {
        Line::TWILIO
    }

    async fn check(&self, ws: &WorkspaceId) -> Result<(), TelephonyError> {
        self.accounts.workspace_account(ws).await?;
        if self.public_url.is_none() {
            return Err(TelephonyError::PublicUrlRequired);
        }
        Ok(())
    }

    async fn dial(&self, call: &Call) -> Result<String, TelephonyError> {
        let account = self.accounts.workspace_account(&call.workspace_id).await?;
        let base = self.public_url.as_deref().ok_or(TelephonyError::PublicUrlRequired)?;
        let url = format!("{base}/telephony/twilio/voice?call_id={}", call.id);
        let status_callback = format!("{base}/telephony/twilio/status?call_id={}", call.id);
        let placed = self
            .rest
            .create_call(
                &account,
                &NewCall {
                    to: &call.to,
                    from: &call.from,
                    url: &url,
                    status_callback: &status_callback,
                },
            )
            .await;
        match placed {
            Ok(resource) => Ok(resource.sid),
            Err(e) => {
                let detail = e.to_string();
                Err(match e {
                    RestError::Rejected { message, .. } => TelephonyError::Rejected {
                        message: format!("Twilio refused the call: {message}"),
                        detail,
                    },
                    RestError::Unavailable(m) => TelephonyError::Unavailable {
                        message: format!("{m}; the call was not placed, try again"),
                        detail,
                    },
                })
            }
        }
    }

    async fn end(&self, call: &Call) -> Result<(), TelephonyError> {
        let Some(sid) = &call.provider_call_id else {
            return Ok(());
        };
        let account = self.accounts.workspace_account(&call.workspace_id).await?;
        self.rest
            .end_call(&account, sid, call.answered_at.is_some())
            .await
            .map_err(|e| TelephonyError::Unavailable {
                message: e.to_string(),
                detail: e.to_string(),
            })?;
        Ok(())
    }
}
