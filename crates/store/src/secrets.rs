//! The secrets the store keeps, sealed at rest with the master key
//! (`FRONTDESK_MASTER_KEY`) whatever the backend: webhook signing secrets (current and
//! previous), webhook custom headers, the custom headers of agents' HTTP tools (where
//! users put `Authorization: Bearer <their CRM token>`), and the responses kept for
//! idempotent replay (a created API key or webhook secret is in them).
//!
//! Every backend seals on the way in and opens on the way out through [`Secrets`], so
//! the layers above only ever see clear values and the database only sealed ones. Each
//! sealed value is bound to its record and part (`{workspace}/webhooks/{id}/secret`),
//! so it does not open anywhere else.
//!
//! Without a master key values are stored as they are, and read back as they are. A
//! value stored in clear before a key was set is read as it is and sealed by
//! [`crate::Maintenance::seal_secrets`] at the next start. A sealed value with no key, or with
//! another key, cannot be read: [`crate::StoreError::Secret`].

use std::collections::BTreeMap;
use std::sync::Arc;

use frontdesk_core::id::WorkspaceId;
use frontdesk_core::secret::{MasterKey, sealed_by};
use serde_json::Value;

use crate::{StoreError, StoreResult};

/// Seals and opens stored secrets; without a key, passes them through.
#[derive(Debug, Clone, Default)]
pub struct Secrets {
    key: Option<Arc<MasterKey>>,
}

/// What sealing the stored secrets found, at start.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SealReport {
    /// Values that were in clear and are now sealed.
    pub sealed_now: u64,
    /// Values sealed with a key other than the one configured (or sealed, with no key
    /// configured): unreadable.
    pub unreadable: u64,
    /// Values still in clear (no key configured).
    pub clear: u64,
}

impl Secrets {
    #[must_use]
    pub fn new(key: Option<Arc<MasterKey>>) -> Self {
        Self { key }
    }

    /// Whether values are sealed (a key is configured).
    #[must_use]
    pub fn sealing(&self) -> bool {
        self.key.is_some()
    }

    /// The configured key's id.
    #[must_use]
    pub fn key_id(&self) -> Option<&str> {
        self.key.as_deref().map(MasterKey::id)
    }

    /// `clear` sealed for `owner`, or as it is without a key.
    pub fn seal(&self, clear: &str, owner: &str) -> StoreResult<String> {
        match &self.key {
            Some(k) => k.seal(clear, owner).map_err(|e| StoreError::Secret(e.to_string())),
            None => Ok(clear.to_owned()),
        }
    }

    /// A stored value opened (or as it is, when it was stored in clear).
    pub fn open(&self, stored: &str, owner: &str) -> StoreResult<String> {
        if sealed_by(stored).is_none() {
            return Ok(stored.to_owned());
        }
        let key = self.key.as_ref().ok_or_else(no_key)?;
        key.open(stored, owner).map_err(|e| StoreError::Secret(e.to_string()))
    }

    /// Bytes sealed for `owner` (as the bytes of the sealed text), or as they are.
    pub fn seal_bytes(&self, clear: &[u8], owner: &str) -> StoreResult<Vec<u8>> {
        match &self.key {
            Some(k) => k
                .seal_bytes(clear, owner)
                .map(String::into_bytes)
                .map_err(|e| StoreError::Secret(e.to_string())),
            None => Ok(clear.to_vec()),
        }
    }

    /// Stored bytes opened (or as they are).
    pub fn open_bytes(&self, stored: Vec<u8>, owner: &str) -> StoreResult<Vec<u8>> {
        let Some(text) = std::str::from_utf8(&stored).ok().filter(|t| sealed_by(t).is_some()) else {
            return Ok(stored);
        };
        let key = self.key.as_ref().ok_or_else(no_key)?;
        key.open_bytes(text, owner)
            .map_err(|e| StoreError::Secret(e.to_string()))
    }

    /// A header map as stored: its JSON, sealed.
    pub fn seal_headers(&self, headers: &BTreeMap<String, String>, owner: &str) -> StoreResult<String> {
        let json = serde_json::to_string(headers).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.seal(&json, owner)
    }

    /// A header map read back.
    pub fn open_headers(&self, stored: &str, owner: &str) -> StoreResult<BTreeMap<String, String>> {
        let json = self.open(stored, owner)?;
        serde_json::from_str(&json).map_err(|e| StoreError::Corrupt(format!("headers: {e}")))
    }

    /// An agent configuration as stored: each tool's `headers` object replaced by its
    /// sealed JSON (a string, which no clear configuration has there).
    pub fn seal_agent(&self, config: &Value, workspace: &WorkspaceId, agent: &str) -> StoreResult<Value> {
        let mut config = config.clone();
        if !self.sealing() {
            return Ok(config);
        }
        for tool in tools_mut(&mut config) {
            let owner = tool_owner(workspace, agent, tool);
            if let Some(h) = tool.get_mut("headers").filter(|h| h.is_object()) {
                *h = Value::String(self.seal(&h.to_string(), &owner)?);
            }
        }
        Ok(config)
    }

    /// An agent configuration read back: sealed tool headers opened.
    pub fn open_agent(&self, mut config: Value, workspace: &WorkspaceId, agent: &str) -> StoreResult<Value> {
        for tool in tools_mut(&mut config) {
            let owner = tool_owner(workspace, agent, tool);
            if let Some(h) = tool.get_mut("headers")
                && let Value::String(sealed) = h
            {
                let json = self.open(sealed, &owner)?;
                *h = serde_json::from_str(&json).map_err(|e| StoreError::Corrupt(format!("tool headers: {e}")))?;
            }
        }
        Ok(config)
    }

    /// Whether an agent configuration has tool headers in clear (with a key: to seal).
    #[must_use]
    pub fn agent_has_clear(&self, config: &Value) -> bool {
        tools(config).any(|t| {
            t.get("headers")
                .is_some_and(|h| h.as_object().is_some_and(|m| !m.is_empty()))
        })
    }

    /// Notes a stored value in a [`SealReport`]: whether the configured key can open it.
    pub fn check(&self, stored: &str, report: &mut SealReport) {
        match (sealed_by(stored), self.key_id()) {
            (Some(id), Some(mine)) if id == mine => {}
            (Some(_), _) => report.unreadable += 1,
            (None, None) => report.clear += 1,
            (None, Some(_)) => {}
        }
    }

    /// Notes the sealed tool headers of an agent configuration in a [`SealReport`].
    pub fn check_agent(&self, config: &Value, report: &mut SealReport) {
        for t in tools(config) {
            match t.get("headers") {
                Some(Value::String(s)) => self.check(s, report),
                Some(Value::Object(m)) if !m.is_empty() && !self.sealing() => report.clear += 1,
                _ => {}
            }
        }
    }
}

fn no_key() -> StoreError {
    StoreError::Secret(
        "the value is sealed with a master key and none is configured; start with the FRONTDESK_MASTER_KEY it was stored with"
            .into(),
    )
}

fn tools(config: &Value) -> impl Iterator<Item = &serde_json::Map<String, Value>> {
    config
        .get("tools")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
}

fn tools_mut(config: &mut Value) -> impl Iterator<Item = &mut serde_json::Map<String, Value>> {
    config
        .get_mut("tools")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object_mut)
}

fn tool_owner(workspace: &WorkspaceId, agent: &str, tool: &serde_json::Map<String, Value>) -> String {
    let name = tool.get("tool_name").and_then(Value::as_str).unwrap_or_default();
    format!("{workspace}/agents/{agent}/tools/{name}/headers")
}

/// What a webhook's signing secrets are bound to (current and previous alike, so a
/// rotation moves the sealed text as it is).
#[must_use]
pub fn webhook_secret_owner(workspace: &WorkspaceId, webhook: &str) -> String {
    format!("{workspace}/webhooks/{webhook}/secret")
}

/// What a webhook's custom headers are bound to.
#[must_use]
pub fn webhook_headers_owner(workspace: &WorkspaceId, webhook: &str) -> String {
    format!("{workspace}/webhooks/{webhook}/headers")
}

/// What a response kept for idempotent replay is bound to.
#[must_use]
pub fn idempotency_owner(workspace: &WorkspaceId, key: &str) -> String {
    format!("{workspace}/idempotency/{key}")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn key() -> Arc<MasterKey> {
        Arc::new(MasterKey::new("a-master-key-for-tests-0123456789abcdef").unwrap())
    }

    #[test]
    fn agents_keep_their_shape_with_headers_sealed() {
        let ws = WorkspaceId::generate();
        let s = Secrets::new(Some(key()));
        let config = json!({"name": "a", "tools": [
            {"tool_name": "crm", "headers": {"Authorization": "Bearer crm-token-123"}},
            {"tool_name": "none"}
        ]});
        let stored = s.seal_agent(&config, &ws, "agt_1").unwrap();
        assert!(stored["tools"][0]["headers"].is_string());
        assert!(!stored.to_string().contains("crm-token-123"));
        assert_eq!(s.open_agent(stored.clone(), &ws, "agt_1").unwrap(), config);
        // Bound to its agent and tool.
        assert!(s.open_agent(stored.clone(), &ws, "agt_2").is_err());
        // Without the key it cannot be read.
        assert!(Secrets::default().open_agent(stored, &ws, "agt_1").is_err());
        // Clear configurations pass through either way.
        assert_eq!(Secrets::default().seal_agent(&config, &ws, "agt_1").unwrap(), config);
        assert_eq!(s.open_agent(config.clone(), &ws, "agt_1").unwrap(), config);
    }

    #[test]
    fn values_bytes_and_reports() {
        let s = Secrets::new(Some(key()));
        let sealed = s.seal("whsec_x", "o").unwrap();
        assert_eq!(s.open(&sealed, "o").unwrap(), "whsec_x");
        assert_eq!(s.open("whsec_clear", "o").unwrap(), "whsec_clear");
        let bytes = s.seal_bytes(br#"{"key":"fd_live_x"}"#, "o").unwrap();
        assert_eq!(s.open_bytes(bytes, "o").unwrap(), br#"{"key":"fd_live_x"}"#);
        let mut r = SealReport::default();
        s.check(&sealed, &mut r);
        s.check("whsec_clear", &mut r);
        assert_eq!(r, SealReport::default());
        let other = Secrets::new(Some(Arc::new(
            MasterKey::new("another-master-key-of-enough-length!!").unwrap(),
        )));
        other.check(&sealed, &mut r);
        Secrets::default().check(&sealed, &mut r);
        Secrets::default().check("whsec_clear", &mut r);
        assert_eq!((r.unreadable, r.clear), (2, 1));
    }
}
