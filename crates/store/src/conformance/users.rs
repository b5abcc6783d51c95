//! Dashboard users, wrong passwords and sessions.

use chrono::Duration;
use frontdesk_core::user::Login;

use super::{now, workspace};
use crate::{Store, StoreError};

/// Names are unique across workspaces; a user is found by name; a new password ends its
/// sessions; wrong passwords are counted and forgotten.
pub async fn users_have_unique_names_and_count_wrong_passwords(s: &dyn Store) {
    let (a, b) = (workspace(s, "acme").await, workspace(s, "other").await);
    let admin = Login::parse("Admin").expect("name");
    let u = s.create_user(&a, &admin, "$argon2id$hash").await.expect("create");
    assert_eq!(u.login, "admin");
    let again = s.create_user(&b, &admin, "$argon2id$other").await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    assert_eq!(s.user_by_login(&admin).await.expect("find"), Some(u.clone()));
    assert_eq!(s.list_users(&a).await.expect("list").len(), 1);
    assert!(s.list_users(&b).await.expect("list").is_empty());

    let t = now();
    let first = s
        .record_failed_sign_in(&u.id, t, t - Duration::minutes(15))
        .await
        .expect("record");
    assert_eq!(first, vec![t]);
    let second = s
        .record_failed_sign_in(&u.id, t + Duration::seconds(1), t - Duration::minutes(15))
        .await
        .expect("record");
    assert_eq!(second.len(), 2);
    assert_eq!(
        s.failed_sign_ins(&u.id, t + Duration::milliseconds(500))
            .await
            .expect("read")
            .len(),
        1,
        "only those since"
    );
    s.clear_failed_sign_ins(&u.id).await.expect("clear");
    assert!(
        s.failed_sign_ins(&u.id, t - Duration::hours(1))
            .await
            .expect("read")
            .is_empty()
    );

    s.create_session("digest-1", &u.id, t).await.expect("session");
    assert!(s.set_password(&u.id, "$argon2id$new").await.expect("set"));
    assert!(
        s.session("digest-1", t, t - Duration::hours(12))
            .await
            .expect("read")
            .is_none(),
        "a new password ends the user's sessions"
    );
    assert_eq!(
        s.user_by_login(&admin)
            .await
            .expect("find")
            .expect("user")
            .password_hash,
        "$argon2id$new"
    );
}

/// A session lives while it is used within the idle time, is found with its user, and
/// ends when deleted or idle.
pub async fn sessions_live_while_used(s: &dyn Store) {
    let ws = workspace(s, "acme").await;
    let u = s
        .create_user(&ws, &Login::parse("owner@acme.com").expect("name"), "$argon2id$h")
        .await
        .expect("create");
    let t = now();
    s.create_session("d1", &u.id, t).await.expect("session");
    let found = s
        .session("d1", t + Duration::hours(1), t - Duration::hours(11))
        .await
        .expect("read")
        .expect("alive");
    assert_eq!(
        (found.user_id.clone(), found.workspace_id.clone()),
        (u.id.clone(), ws.clone())
    );
    assert_eq!(found.login, "owner@acme.com");
    assert_eq!(found.last_seen_at, t + Duration::hours(1), "seen again");
    // Idle longer than allowed: over, and gone.
    let later = t + Duration::hours(14);
    assert!(
        s.session("d1", later, later - Duration::hours(12))
            .await
            .expect("read")
            .is_none()
    );
    assert!(!s.delete_session("d1").await.expect("delete"), "already removed");
    s.create_session("d2", &u.id, t).await.expect("session");
    assert!(s.delete_session("d2").await.expect("delete"));
    assert!(
        s.session("d2", t, t - Duration::hours(12))
            .await
            .expect("read")
            .is_none()
    );
    s.create_session("d3", &u.id, t).await.expect("session");
    assert_eq!(s.prune_sessions(t + Duration::seconds(1)).await.expect("prune"), 1);
}
