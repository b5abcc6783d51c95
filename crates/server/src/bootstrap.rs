//! First start: on an empty database, create the workspace `default`, a demo agent, a
//! demo `sim` number and a bootstrap API key whose secret is returned once.

use frontdesk_core::api_key::{ApiKeyName, ApiKeySecret};
use frontdesk_store::{Bootstrapped, NewApiKey, Store, StoreResult};

/// What a first start created, with the only copy of the key's secret.
#[derive(Debug)]
pub struct FirstStart {
    pub created: Bootstrapped,
    pub secret: ApiKeySecret,
}

/// Bootstraps an empty database; `None` when it already had a workspace.
pub async fn bootstrap(store: &dyn Store) -> StoreResult<Option<FirstStart>> {
    let secret = ApiKeySecret::generate();
    let name = ApiKeyName::parse("bootstrap").map_err(|e| frontdesk_store::StoreError::Corrupt(e.to_string()))?;
    let created = store.bootstrap_if_empty(&NewApiKey::new(&name, &secret)).await?;
    Ok(created.map(|created| FirstStart { created, secret }))
}
