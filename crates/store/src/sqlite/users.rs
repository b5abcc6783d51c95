//! Dashboard users, their wrong passwords and their sessions ([`crate::Users`]).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use frontdesk_core::id::{UserId, WorkspaceId};
use frontdesk_core::user::{Login, Session, User};
use sqlx::Row;

use super::{SqliteStore, unique_violation};
use crate::rows::{from_ms, ms, now_ms, session_from_row, user_from_row};
use crate::{StoreError, StoreResult, Users};

macro_rules! user_columns {
    () => {
        "id, workspace_id, login, password_hash, created_at"
    };
}

#[async_trait]
impl Users for SqliteStore {
    async fn create_user(&self, workspace: &WorkspaceId, login: &Login, password_hash: &str) -> StoreResult<User> {
        let user = User {
            id: UserId::generate(),
            workspace_id: workspace.clone(),
            login: login.as_str().to_owned(),
            password_hash: password_hash.to_owned(),
            created_at: now_ms()?,
        };
        // The name's unique constraint decides between two creates at once.
        let done = sqlx::query(
            "INSERT INTO users (id, workspace_id, login, password_hash, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .bind(user.id.as_str())
        .bind(workspace.as_str())
        .bind(&user.login)
        .bind(password_hash)
        .bind(ms(user.created_at))
        .execute(&self.writer)
        .await;
        match done {
            Ok(_) => Ok(user),
            Err(e) if unique_violation(&e) => Err(StoreError::Conflict(format!(
                "a user named `{}` already exists; pick another sign-in name",
                user.login
            ))),
            Err(e) => Err(e.into()),
        }
    }

    async fn user_by_login(&self, login: &Login) -> StoreResult<Option<User>> {
        sqlx::query(concat!("SELECT ", user_columns!(), " FROM users WHERE login = ?1"))
            .bind(login.as_str())
            .fetch_optional(&self.reader)
            .await?
            .map(|r| user_from_row(&r))
            .transpose()
    }

    async fn list_users(&self, workspace: &WorkspaceId) -> StoreResult<Vec<User>> {
        sqlx::query(concat!(
            "SELECT ",
            user_columns!(),
            " FROM users WHERE workspace_id = ?1 ORDER BY id"
        ))
        .bind(workspace.as_str())
        .fetch_all(&self.reader)
        .await?
        .iter()
        .map(user_from_row)
        .collect()
    }

    async fn set_password(&self, user: &UserId, password_hash: &str) -> StoreResult<bool> {
        let mut tx = self.writer.begin().await?;
        let changed = sqlx::query("UPDATE users SET password_hash = ?1 WHERE id = ?2")
            .bind(password_hash)
            .bind(user.as_str())
            .execute(&mut *tx)
            .await?
            .rows_affected()
            > 0;
        sqlx::query("DELETE FROM sessions WHERE user_id = ?1")
            .bind(user.as_str())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(changed)
    }

    async fn record_failed_sign_in(
        &self,
        user: &UserId,
        at: DateTime<Utc>,
        since: DateTime<Utc>,
    ) -> StoreResult<Vec<DateTime<Utc>>> {
        sqlx::query("INSERT INTO sign_in_failures (user_id, at) VALUES (?1, ?2)")
            .bind(user.as_str())
            .bind(ms(at))
            .execute(&self.writer)
            .await?;
        self.failed_sign_ins(user, since).await
    }

    async fn failed_sign_ins(&self, user: &UserId, since: DateTime<Utc>) -> StoreResult<Vec<DateTime<Utc>>> {
        // From the writer: the failure just recorded must be among them.
        sqlx::query("SELECT at FROM sign_in_failures WHERE user_id = ?1 AND at >= ?2 ORDER BY at")
            .bind(user.as_str())
            .bind(ms(since))
            .fetch_all(&self.writer)
            .await?
            .iter()
            .map(|r| from_ms(r.try_get("at")?))
            .collect()
    }

    async fn clear_failed_sign_ins(&self, user: &UserId) -> StoreResult<()> {
        sqlx::query("DELETE FROM sign_in_failures WHERE user_id = ?1")
            .bind(user.as_str())
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    async fn create_session(&self, digest: &str, user: &UserId, now: DateTime<Utc>) -> StoreResult<()> {
        sqlx::query("INSERT INTO sessions (digest, user_id, created_at, last_seen_at) VALUES (?1, ?2, ?3, ?3)")
            .bind(digest)
            .bind(user.as_str())
            .bind(ms(now))
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    async fn session(
        &self,
        digest: &str,
        now: DateTime<Utc>,
        seen_after: DateTime<Utc>,
    ) -> StoreResult<Option<Session>> {
        // One conditional write: alive only while seen after `seen_after`.
        let touched = sqlx::query("UPDATE sessions SET last_seen_at = ?1 WHERE digest = ?2 AND last_seen_at > ?3")
            .bind(ms(now))
            .bind(digest)
            .bind(ms(seen_after))
            .execute(&self.writer)
            .await?
            .rows_affected();
        if touched == 0 {
            self.delete_session(digest).await?;
            return Ok(None);
        }
        sqlx::query(
            "SELECT s.user_id, u.workspace_id, u.login, s.created_at, s.last_seen_at \
             FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.digest = ?1",
        )
        .bind(digest)
        .fetch_optional(&self.writer)
        .await?
        .map(|r| session_from_row(&r))
        .transpose()
    }

    async fn delete_session(&self, digest: &str) -> StoreResult<bool> {
        Ok(sqlx::query("DELETE FROM sessions WHERE digest = ?1")
            .bind(digest)
            .execute(&self.writer)
            .await?
            .rows_affected()
            > 0)
    }

    async fn prune_sessions(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        sqlx::query("DELETE FROM sign_in_failures WHERE at < ?1")
            .bind(ms(before))
            .execute(&self.writer)
            .await?;
        Ok(sqlx::query("DELETE FROM sessions WHERE last_seen_at < ?1")
            .bind(ms(before))
            .execute(&self.writer)
            .await?
            .rows_affected())
    }
}
