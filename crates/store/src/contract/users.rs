//! Dashboard users and their sessions (SPEC section 7).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use frontdesk_core::id::{UserId, WorkspaceId};
use frontdesk_core::user::{Login, Session, User};

use crate::StoreResult;

/// Users, their wrong passwords, and their sessions.
#[async_trait]
pub trait Users: Send + Sync {
    /// Creates a user; [`crate::StoreError::Conflict`] when the sign-in name is taken
    /// (in any workspace: names are unique).
    ///
    /// Concurrency: the same name twice: exactly one succeeds.
    async fn create_user(&self, workspace: &WorkspaceId, login: &Login, password_hash: &str) -> StoreResult<User>;

    /// The user with this sign-in name, in whichever workspace.
    async fn user_by_login(&self, login: &Login) -> StoreResult<Option<User>>;

    /// The workspace's users, oldest first.
    async fn list_users(&self, workspace: &WorkspaceId) -> StoreResult<Vec<User>>;

    /// Sets a user's password and ends all its sessions; `false` when there is no such
    /// user.
    ///
    /// Concurrency: last writer wins; no session survives either.
    async fn set_password(&self, user: &UserId, password_hash: &str) -> StoreResult<bool>;

    /// Records a wrong password at `at` and returns the user's wrong passwords since
    /// `since` (this one included), oldest first.
    ///
    /// Concurrency: each record is kept; every caller sees its own and all committed
    /// before it.
    async fn record_failed_sign_in(
        &self,
        user: &UserId,
        at: DateTime<Utc>,
        since: DateTime<Utc>,
    ) -> StoreResult<Vec<DateTime<Utc>>>;

    /// The user's wrong passwords since `since`, oldest first.
    async fn failed_sign_ins(&self, user: &UserId, since: DateTime<Utc>) -> StoreResult<Vec<DateTime<Utc>>>;

    /// Forgets the user's wrong passwords (after a right one).
    async fn clear_failed_sign_ins(&self, user: &UserId) -> StoreResult<()>;

    /// Starts a session for `user`, found later by `digest` (of its token).
    async fn create_session(&self, digest: &str, user: &UserId, now: DateTime<Utc>) -> StoreResult<()>;

    /// The session with this digest if it was seen after `seen_after` (else it is
    /// over, and removed), marking it seen at `now`.
    ///
    /// Concurrency: any node; a session seen anywhere stays alive everywhere.
    async fn session(
        &self,
        digest: &str,
        now: DateTime<Utc>,
        seen_after: DateTime<Utc>,
    ) -> StoreResult<Option<Session>>;

    /// Ends a session; `false` when there was none.
    async fn delete_session(&self, digest: &str) -> StoreResult<bool>;

    /// Removes sessions last seen before `before` and wrong passwords recorded before it;
    /// returns how many sessions.
    async fn prune_sessions(&self, before: DateTime<Utc>) -> StoreResult<u64>;
}
