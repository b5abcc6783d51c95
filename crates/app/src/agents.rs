//! Agents' parsed configurations, cached per agent until the agent changes.
//!
//! A turn reads only the agent's `updated_at` when its parsed configuration is cached;
//! the configuration itself (up to 256 KiB of JSON) is read and parsed again only when
//! it changed. Nothing else is kept between turns, so any node can carry any call.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use frontdesk_core::agent::Agent;
use frontdesk_core::agent::config::AgentConfig;
use frontdesk_core::id::{AgentId, WorkspaceId};
use frontdesk_store::Store;

use crate::CallError;

/// Parsed agent configurations by agent, with the `updated_at` they were parsed at.
type ConfigCache = HashMap<AgentId, (DateTime<Utc>, Arc<AgentConfig>)>;

/// Agents' configurations, parsed once per change.
pub struct Agents {
    store: Arc<dyn Store>,
    cache: Mutex<ConfigCache>,
}

impl Agents {
    #[must_use]
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self {
            store,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The parsed configuration of an agent (cached until the agent changes).
    pub async fn config(&self, ws: &WorkspaceId, id: &AgentId) -> Result<Arc<AgentConfig>, CallError> {
        let gone = || CallError::NotFound(format!("agent {id} no longer exists"));
        let updated_at = self.store.agent_updated_at(ws, id).await?.ok_or_else(gone)?;
        if let Some(cfg) = self.cached(id, updated_at) {
            return Ok(cfg);
        }
        let agent = self.store.get_agent(ws, id).await?.ok_or_else(gone)?;
        Ok(self.parsed(&agent))
    }

    /// The agent's configuration, or a plain one when the agent is gone (a call's
    /// record outlives its agent).
    pub async fn config_or_fallback(&self, ws: &WorkspaceId, id: &AgentId) -> Arc<AgentConfig> {
        match self.config(ws, id).await {
            Ok(c) => c,
            Err(_) => Arc::new(fallback_config()),
        }
    }

    fn cached(&self, id: &AgentId, updated_at: DateTime<Utc>) -> Option<Arc<AgentConfig>> {
        let cache = self.cache.lock().ok()?;
        cache
            .get(id)
            .filter(|(at, _)| *at == updated_at)
            .map(|(_, cfg)| cfg.clone())
    }

    fn parsed(&self, agent: &Agent) -> Arc<AgentConfig> {
        if let Some(cfg) = self.cached(&agent.id, agent.updated_at) {
            return cfg;
        }
        // Stored configurations were validated on the way in; one that no longer parses
        // (an older format) still answers calls, plainly, rather than fail them.
        let cfg = Arc::new(AgentConfig::parse(&agent.config).map_or_else(|_| fallback_config(), |p| p.config));
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() > 10_000 {
                cache.clear();
            }
            cache.insert(agent.id.clone(), (agent.updated_at, cfg.clone()));
        }
        cfg
    }
}

/// A plain receptionist: greets, takes no fields, closes.
#[must_use]
pub fn fallback_config() -> AgentConfig {
    AgentConfig {
        name: "Receptionist".into(),
        business: Default::default(),
        greeting: "Thanks for calling, how can I help you today?".into(),
        data_to_collect: Vec::new(),
        call_types: Vec::new(),
        transfer: None,
        knowledge: Vec::new(),
        tools: Vec::new(),
        closing: "Thanks for calling. Goodbye!".into(),
        brain: Default::default(),
    }
}
