//! Agents, prepared: each agent's parsed configuration and its brain (built once per
//! configuration: the rules brain derives keyword stems, knowledge indexes and the like
//! from it), cached per agent until the agent changes.
//!
//! A turn reads only the agent's `updated_at` when its agent is cached; the
//! configuration itself (up to 256 KiB of JSON) and the agent's knowledge documents are
//! read, parsed and prepared again only when it changed (the store moves `updated_at`
//! when a document is added or deleted, in the same transaction, so every node sees
//! the change). Nothing else is kept between turns, so any node can carry any call.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use frontdesk_agent::brain::{Brain, brain_for, brain_with_documents};
use frontdesk_core::agent::Agent;
use frontdesk_core::agent::config::AgentConfig;
use frontdesk_core::id::{AgentId, WorkspaceId};
use frontdesk_core::knowledge::{Chunk, Document};
use frontdesk_store::Store;

use crate::CallError;
use crate::engine::Engine;

/// An agent ready to talk: its configuration and the brain built for it.
#[derive(Clone)]
pub struct Prepared {
    pub cfg: Arc<AgentConfig>,
    pub brain: Arc<dyn Brain>,
}

impl Prepared {
    /// Prepares a configuration.
    #[must_use]
    pub fn new(cfg: Arc<AgentConfig>) -> Self {
        Self {
            brain: brain_for(cfg.clone()),
            cfg,
        }
    }

    /// Prepares a configuration with the agent's documents (cut into chunks).
    #[must_use]
    pub fn with_documents(cfg: Arc<AgentConfig>, documents: Vec<Chunk>) -> Self {
        Self {
            brain: brain_with_documents(cfg.clone(), documents),
            cfg,
        }
    }
}

/// Prepared agents by agent, with the `updated_at` they were prepared at.
type ConfigCache = HashMap<AgentId, (DateTime<Utc>, Prepared)>;

/// Agents' configurations, parsed and prepared once per change.
pub struct Agents {
    store: Arc<dyn Store>,
    cache: Mutex<ConfigCache>,
    /// Parsing and preparing grow with the configuration (milliseconds at the limits):
    /// they run where brain work runs, off the async workers.
    engine: Arc<Engine>,
}

impl Agents {
    #[must_use]
    pub fn new(store: Arc<dyn Store>, engine: Arc<Engine>) -> Self {
        Self {
            store,
            cache: Mutex::new(HashMap::new()),
            engine,
        }
    }

    /// An agent, prepared (cached until the agent changes).
    pub async fn get(&self, ws: &WorkspaceId, id: &AgentId) -> Result<Prepared, CallError> {
        let gone = || CallError::NotFound(format!("agent {id} no longer exists"));
        let updated_at = self.store.agent_updated_at(ws, id).await?.ok_or_else(gone)?;
        if let Some(p) = self.cached(id, updated_at) {
            return Ok(p);
        }
        let agent = self.store.get_agent(ws, id).await?.ok_or_else(gone)?;
        let documents = self.store.list_documents(ws, id).await?;
        Ok(self.parsed(agent, documents).await)
    }

    /// The agent, or a plain one when the agent is gone (a call's record outlives its
    /// agent).
    pub async fn get_or_fallback(&self, ws: &WorkspaceId, id: &AgentId) -> Prepared {
        match self.get(ws, id).await {
            Ok(p) => p,
            Err(_) => Prepared::new(Arc::new(fallback_config())),
        }
    }

    fn cached(&self, id: &AgentId, updated_at: DateTime<Utc>) -> Option<Prepared> {
        let cache = self.cache.lock().ok()?;
        cache
            .get(id)
            .filter(|(at, _)| *at == updated_at)
            .map(|(_, cfg)| cfg.clone())
    }

    async fn parsed(&self, agent: Agent, documents: Vec<Document>) -> Prepared {
        if let Some(p) = self.cached(&agent.id, agent.updated_at) {
            return p;
        }
        let (id, updated_at, ws) = (agent.id.clone(), agent.updated_at, agent.workspace_id.clone());
        // Stored configurations were validated on the way in; one that no longer parses
        // (an older format) still answers calls, plainly, rather than fail them.
        let prepared = self
            .engine
            .run(&ws, move || {
                let cfg = AgentConfig::parse(&agent.config).map_or_else(|_| fallback_config(), |p| p.config);
                let chunks = documents.into_iter().flat_map(|d| d.chunks).collect();
                Prepared::with_documents(Arc::new(cfg), chunks)
            })
            .await;
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() > 10_000 {
                cache.clear();
            }
            cache.insert(id, (updated_at, prepared.clone()));
        }
        prepared
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
        llm: None,
    }
}
