//! The store contract: what every database behind Frontdesk must do, one trait per
//! concern, and [`Store`], all of them together.
//!
//! Everything above this crate holds an `Arc<dyn Store>` and calls any method on it
//! without importing the concern traits (a trait object's supertrait methods are its
//! own). A part that needs one concern can take it alone: an `Arc<dyn Store>` upcasts to
//! `Arc<dyn Calls>`, `&dyn Store` to `&dyn Deliveries`, and so on.
//!
//! | Trait | Methods |
//! |---|---|
//! | [`Bootstrap`] | migrate, ping, bootstrap_if_empty |
//! | [`Workspaces`] | create_workspace, workspace_by_name, list_workspaces |
//! | [`ApiKeys`] | create, by digest, list, get, revoke, touch |
//! | [`Agents`] | create, get, updated_at, list, list page, update, delete |
//! | [`Numbers`] | create, set voice, get, list, list page, update, delete, by E.164 |
//! | [`Calls`] | save_call (with its events), get, by provider id, by id, list, stale live calls |
//! | [`Credentials`] | put, get, by account, delete |
//! | [`Idempotency`] | begin, complete, abandon, prune |
//! | [`Webhooks`] | create, get, list, update, delete, rotate secret |
//! | [`Events`] | record_events (with their deliveries), list, get |
//! | [`Deliveries`] | claim, next_due, record_attempts, list, get, retry, replay, queue_stats |
//! | [`Maintenance`] | housekeeping, seal_secrets, purge_before |
//! | [`Coordination`] | lock, try_lock (named locks across nodes) |
//! | [`RateLimits`] | take_rate, prune_rates, shared_by_nodes |
//! | [`Users`] | users, wrong passwords, sessions (the dashboard) |
//! | [`Reports`] | activity (the dashboard overview's points) |
//! | [`Documents`] | create, list, get, delete (an agent's knowledge documents) |
//!
//! The rules that do not depend on the database live in `frontdesk-core` as pure
//! functions, so that every backend decides alike: which webhooks an event goes to and
//! which deliveries are leased to the recorder ([`frontdesk_core::webhook::routing`]),
//! what a request meets under an idempotency key ([`frontdesk_core::idempotency`]), and
//! what an attempt's verdict or an edit does to a webhook's health
//! ([`frontdesk_core::webhook::health`]). The conformance suite (`conformance`, one
//! test per behaviour for any store) holds every backend to this contract.
//!
//! # Concurrency
//!
//! Several nodes may share one database, so each method says what two callers at once
//! (on one node or several) may and may not see. The rules for all of them: every method
//! is atomic (all of its writes or none); a read sees every write that returned before
//! the read began, on any node; writes not listed below are independent (concurrent
//! calls each happen whole, last writer wins). Where the SQLite implementation keeps a
//! promise only thanks to SQLite's single writer, a comment at that spot says what a
//! backend with several writers must do instead.
//!
//! | Method | Promise when called concurrently |
//! |---|---|
//! | `migrate` | Each migration applied exactly once; nobody sees a half-applied one (migrators serialised, e.g. an advisory lock). |
//! | `bootstrap_if_empty` | At most one bootstrap happens; the others get `None` and see all of it or nothing. |
//! | `create_workspace` | Same name twice: exactly one succeeds, the other gets `Conflict`. |
//! | `create_api_key` | Independent; a repeated digest is refused. |
//! | `revoke_api_key` | Idempotent: concurrent revokes all return the first `revoked_at` written. |
//! | `touch_api_key` | `last_used_at` only moves forward: the latest time stays. |
//! | `update_agent` | Last writer wins, whole (name, config, `updated_at` together). |
//! | `delete_agent` | Never leaves a number routing to a deleted agent: against a concurrent number create/re-point, one of them fails (`Conflict` / `NotFound`). |
//! | `create_number` | Same number twice (any workspaces): exactly one succeeds, the other gets `Conflict`. |
//! | `update_number`, `set_number_voice` | Last writer wins; never points at a deleted agent. |
//! | `delete_*` (agent, number, webhook, credentials) | Of two deletes of one record exactly one returns `true`. |
//! | `save_call` | Update: of two on the same version exactly one wins, the other gets `Conflict` and nothing of it (call, events, deliveries) is written. Insert: same id or same provider call id twice, exactly one succeeds. The winner's call, events and deliveries appear together. |
//! | `stale_live_calls` | A read, no claim: sweepers may see the same calls; `save_call`'s version check decides. |
//! | `put_credentials` | One upsert: one put stored whole (last writer wins), the first `created_at` kept. |
//! | `idempotency_begin` | Same workspace and key: exactly one of concurrent begins gets `Started` (others `InProgress` or `Mismatch`); of two taking over one expired or stale record, exactly one does. |
//! | `idempotency_complete` | A later begin anywhere gets `Completed`; a concurrent one `InProgress` or `Completed`, never part of the response. |
//! | `idempotency_abandon` | Deletes only an in-progress record, never a completed one. |
//! | `idempotency_prune`, `purge_before` | Passes on several nodes remove each record once; counts add up. A purged call's version moves on, so a stale `save_call` gets `Conflict`; an event with a pending delivery stays. |
//! | `update_webhook` | Last writer wins for the configuration; without `set_active` a concurrent auto-disable stays. |
//! | `rotate_webhook_secret` | Each rotation whole, in some order; the secret the last one replaced keeps signing. |
//! | `record_events` | Events and deliveries appear together or not at all; leased deliveries are leased from creation, so no claim takes them before the lease ends. |
//! | `claim_deliveries` | A delivery is leased to at most one claimer until its lease runs out: concurrent claims get disjoint sets (skip rows being claimed, do not wait). |
//! | `record_attempts` | All of a batch or nothing; deliveries deleted meanwhile are skipped, not failing the batch; health verdicts apply in commit order, each one conditional write (`Failing` keeps an open run's start). A delivery attempted by two nodes (lease ran out) keeps both attempts. |
//! | `retry_delivery` | Of two retries of one finished delivery exactly one returns it pending, the other gets `Conflict`. |
//! | `replay` | At least once: concurrent replays may queue an event twice; none is lost. |
//! | `seal_secrets` | Concurrent runs leave every value sealed and readable; a value written meanwhile is not overwritten by a stale seal. |
//! | `housekeeping` | Any node, any time; changes no result. |
//! | `take_rate` | Atomic per key across nodes: of concurrent takes from a budget with `n` left, exactly `n` are allowed. |
//! | `create_user` | The same sign-in name twice: exactly one succeeds. |
//! | `session`, `set_password` | A session seen on any node stays alive on all; a new password ends every session of the user. |
//! | `lock`, `try_lock` | At most one holder of a name across all nodes; of concurrent `try_lock`s on a free name exactly one gets it; a dead holder's lock is freed. |
//! | reads (`get_*`, `list_*`, `*_by_*`, `ping`, `next_due`, `queue_stats`, `activity`) | See every write that returned before they began; `next_due` is only a hint. |

mod agents;
mod api_keys;
mod bootstrap;
mod calls;
mod coordination;
mod credentials;
mod deliveries;
mod documents;
mod events;
mod idempotency;
mod maintenance;
mod numbers;
mod rate_limits;
mod reports;
mod users;
mod webhooks;
mod workspaces;

pub use agents::Agents;
pub use api_keys::ApiKeys;
pub use bootstrap::Bootstrap;
pub use calls::Calls;
pub use coordination::Coordination;
pub use credentials::Credentials;
pub use deliveries::Deliveries;
pub use documents::Documents;
pub use events::Events;
pub use idempotency::Idempotency;
pub use maintenance::Maintenance;
pub use numbers::Numbers;
pub use rate_limits::RateLimits;
pub use reports::Reports;
pub use users::Users;
pub use webhooks::Webhooks;
pub use workspaces::Workspaces;

/// `Store` and its blanket implementation over the same list of concerns, written once.
macro_rules! store_of {
    ($($concern:ident),+ $(,)?) => {
        /// Everything Frontdesk persists: every concern trait. Implementations must make
        /// each method atomic and keep the concurrency promises above. A type
        /// implementing every concern is a `Store` (blanket impl); nothing implements it
        /// directly.
        pub trait Store: $($concern +)+ Send + Sync + 'static {}

        impl<T> Store for T where T: $($concern +)+ Send + Sync + 'static {}
    };
}

store_of!(
    Bootstrap,
    Workspaces,
    ApiKeys,
    Agents,
    Numbers,
    Calls,
    Credentials,
    Idempotency,
    Webhooks,
    Events,
    Deliveries,
    Maintenance,
    Coordination,
    RateLimits,
    Users,
    Reports,
    Documents,
);

#[cfg(test)]
mod tests {
    //! Only [`Store`] is imported here: a trait object's supertrait methods need no
    //! import, and `Arc<dyn Store>` upcasts to any one concern.

    use std::sync::Arc;

    use super::Store;

    async fn open() -> (Arc<dyn Store>, tempfile::TempDir) {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}/fd.db", dir.path().display());
        let store = crate::open(&url, crate::Secrets::default()).await.expect("open");
        store.migrate().await.expect("migrate");
        (store, dir)
    }

    #[tokio::test]
    async fn a_dyn_store_calls_every_concern_without_imports() {
        let (store, _dir) = open().await;
        store.ping().await.expect("ping");
        assert!(store.list_workspaces().await.expect("list_workspaces").is_empty());
        assert_eq!(store.queue_stats().await.expect("queue_stats").pending, 0);
        store.housekeeping().await.expect("housekeeping");
    }

    #[tokio::test]
    async fn a_dyn_store_upcasts_to_one_concern() {
        let (store, _dir) = open().await;
        let calls: Arc<dyn super::Calls> = store.clone();
        let id = frontdesk_core::id::CallId::generate();
        assert!(calls.call_by_id(&id).await.expect("call_by_id").is_none());
        let deliveries: &dyn super::Deliveries = &*store;
        assert!(deliveries.next_due().await.expect("next_due").is_none());
        let bootstrap: Arc<dyn super::Bootstrap> = store;
        assert_eq!(bootstrap.migrate().await.expect("migrate again"), 0);
    }
}
