//! Twilio's REST API, the parts Frontdesk uses: place a call (`Calls.json`) and end one
//! (`Calls/{sid}.json` with `Status`). Requests are form-encoded with HTTP Basic auth
//! (account SID and auth token), exactly as Twilio documents them; the base URL is
//! configurable (a stand-in in tests). This client talks only to that configured API,
//! never to customer URLs, so it does not go through the SSRF guard.

use std::sync::Once;
use std::time::Duration;

use serde::Deserialize;

/// A Twilio account, its auth token opened.
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

/// Installs rustls' ring provider once (the client is built without a default one).
fn install_crypto() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Fails only when another provider is installed already, which is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// Twilio's API version path.
const API_VERSION: &str = "2010-04-01";

/// What went wrong talking to Twilio.
#[derive(Debug, thiserror::Error)]
pub enum RestError {
    /// Twilio refused the request (4xx), with its own explanation.
    #[error("Twilio refused the request ({status}{}): {message}", code.map(|c| format!(", error {c}")).unwrap_or_default())]
    Rejected {
        status: u16,
        code: Option<i64>,
        message: String,
    },
    /// Twilio could not be reached, or failed (5xx).
    #[error("Twilio's API could not be reached: {0}")]
    Unavailable(String),
}

/// The parts of Twilio's call resource Frontdesk reads.
#[derive(Debug, Clone, Deserialize)]
pub struct CallResource {
    pub sid: String,
    #[serde(default)]
    pub status: Option<String>,
}

#[derive(Debug, Deserialize)]
struct TwilioErrorBody {
    code: Option<i64>,
    message: Option<String>,
}

/// A client for Twilio's REST API.
#[derive(Debug, Clone)]
pub struct TwilioRest {
    client: reqwest::Client,
    base: String,
}

/// What to place.
#[derive(Debug, Clone)]
pub struct NewCall<'a> {
    pub to: &'a str,
    pub from: &'a str,
    /// Where Twilio asks for TwiML when the call is answered.
    pub url: &'a str,
    /// Where Twilio reports the call's progress.
    pub status_callback: &'a str,
}

impl TwilioRest {
    pub fn new(base: &str) -> Result<Self, RestError> {
        install_crypto();
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(15))
            .user_agent(concat!("Frontdesk/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| RestError::Unavailable(e.to_string()))?;
        Ok(Self {
            client,
            base: base.trim_end_matches('/').to_owned(),
        })
    }

    /// The form body of a new call, byte for byte as sent.
    #[must_use]
    pub fn create_call_body(call: &NewCall<'_>) -> String {
        form_urlencoded::Serializer::new(String::new())
            .append_pair("To", call.to)
            .append_pair("From", call.from)
            .append_pair("Url", call.url)
            .append_pair("Method", "POST")
            .append_pair("StatusCallback", call.status_callback)
            .append_pair("StatusCallbackMethod", "POST")
            .append_pair("StatusCallbackEvent", "initiated")
            .append_pair("StatusCallbackEvent", "ringing")
            .append_pair("StatusCallbackEvent", "answered")
            .append_pair("StatusCallbackEvent", "completed")
            .finish()
    }

    /// Places a call: `POST /2010-04-01/Accounts/{sid}/Calls.json`.
    pub async fn create_call(&self, account: &TwilioAccount, call: &NewCall<'_>) -> Result<CallResource, RestError> {
        let url = format!(
            "{}/{API_VERSION}/Accounts/{}/Calls.json",
            self.base, account.account_sid
        );
        self.post(account, &url, Self::create_call_body(call)).await
    }

    /// Ends a call: `POST /2010-04-01/Accounts/{sid}/Calls/{call}.json` with `Status`
    /// `completed` (answered) or `canceled` (still ringing).
    pub async fn end_call(
        &self,
        account: &TwilioAccount,
        call_sid: &str,
        answered: bool,
    ) -> Result<CallResource, RestError> {
        let url = format!(
            "{}/{API_VERSION}/Accounts/{}/Calls/{call_sid}.json",
            self.base, account.account_sid
        );
        let status = if answered { "completed" } else { "canceled" };
        let body = form_urlencoded::Serializer::new(String::new())
            .append_pair("Status", status)
            .finish();
        self.post(account, &url, body).await
    }

    async fn post(&self, account: &TwilioAccount, url: &str, body: String) -> Result<CallResource, RestError> {
        let res = self
            .client
            .post(url)
            .basic_auth(&account.account_sid, Some(&account.auth_token))
            .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(reqwest::header::ACCEPT, "application/json")
            .body(body)
            .send()
            .await
            .map_err(|e| RestError::Unavailable(without_url(&e)))?;
        let status = res.status().as_u16();
        let text = res.text().await.map_err(|e| RestError::Unavailable(without_url(&e)))?;
        if (200..300).contains(&status) {
            return serde_json::from_str(&text)
                .map_err(|e| RestError::Unavailable(format!("Twilio answered {status} with an unreadable body: {e}")));
        }
        if (400..500).contains(&status) {
            let err: TwilioErrorBody = serde_json::from_str(&text).unwrap_or(TwilioErrorBody {
                code: None,
                message: None,
            });
            return Err(RestError::Rejected {
                status,
                code: err.code,
                message: err.message.unwrap_or_else(|| format!("HTTP {status}")),
            });
        }
        Err(RestError::Unavailable(format!("Twilio answered HTTP {status}")))
    }
}

/// A reqwest error's text without the URL (which carries the account SID).
fn without_url(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    kind.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_call_body_is_twilios_form() {
        let body = TwilioRest::create_call_body(&NewCall {
            to: "+15559871234",
            from: "+15553330000",
            url: "https://fd.example.com/telephony/twilio/voice?call_id=call_1",
            status_callback: "https://fd.example.com/telephony/twilio/status?call_id=call_1",
        });
        assert_eq!(
            body,
            "To=%2B15559871234&From=%2B15553330000\
             &Url=https%3A%2F%2Ffd.example.com%2Ftelephony%2Ftwilio%2Fvoice%3Fcall_id%3Dcall_1\
             &Method=POST\
             &StatusCallback=https%3A%2F%2Ffd.example.com%2Ftelephony%2Ftwilio%2Fstatus%3Fcall_id%3Dcall_1\
             &StatusCallbackMethod=POST&StatusCallbackEvent=initiated&StatusCallbackEvent=ringing\
             &StatusCallbackEvent=answered&StatusCallbackEvent=completed"
        );
    }
}
