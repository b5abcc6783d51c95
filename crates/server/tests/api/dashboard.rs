//! The dashboard at the HTTP level: sessions, cookie rules, CSRF, lock-out, and the
//! settings pages. (Each page group's own tests sit in `dashboard_*.rs`; the browser
//! suite in `e2e/` drives the same pages in Chromium.)

use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, COOKIE};

use crate::browser::{Browser, PASSWORD, no_redirects, set_cookie};
use crate::helpers::{spawn_app, spawn_app_with};

/// Every page of SPEC section 7 but `/login`.
pub const PAGES: &[&str] = &[
    "/",
    "/calls",
    "/webhooks",
    "/events",
    "/agents",
    "/test-call",
    "/settings/api-keys",
    "/settings/users",
    "/calls/call_01JD3Q2W8M6Y7Z0ABCDEF12345",
    "/webhooks/new",
    "/webhooks/wh_01JD3Q2W8M6Y7Z0ABCDEF12345",
    "/webhooks/wh_01JD3Q2W8M6Y7Z0ABCDEF12345/edit",
    "/deliveries/dlv_01JD3Q2W8M6Y7Z0ABCDEF12345",
    "/agents/agt_01JD3Q2W8M6Y7Z0ABCDEF12345",
];

#[tokio::test]
async fn every_page_without_a_session_redirects_to_login() {
    let app = spawn_app().await;
    let client = no_redirects();
    for path in PAGES {
        let res = client.get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{path}");
        let to = Browser::location(&res);
        assert!(to.starts_with("/login"), "{path} → {to}");
        if *path != "/" {
            assert!(to.contains("next="), "{path} → {to}: comes back after signing in");
        }
        // A stale or forged cookie is no session either.
        let res = client
            .get(app.url(path))
            .header(COOKIE, "frontdesk_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{path} with a forged cookie");
    }
    let login = client.get(app.url("/login")).send().await.unwrap();
    assert_eq!(login.status(), StatusCode::OK);
    let html = login.text().await.unwrap();
    assert!(html.contains("<form") && html.contains("name=\"password\""), "{html}");
}

#[tokio::test]
async fn session_cookie_is_http_only_lax_and_secure_behind_https() {
    let app = spawn_app().await;
    app.add_user(&app.workspace, "plain@example.com").await;
    let res = app.try_sign_in("plain@example.com", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let cookie = set_cookie(&res, "frontdesk_session").expect("session cookie");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(cookie.contains("Path=/"), "{cookie}");
    assert!(!cookie.contains("Secure"), "plain http: {cookie}");

    let app = spawn_app_with(|s| s.public_url = Some("https://frontdesk.example.com".into())).await;
    app.add_user(&app.workspace, "tls@example.com").await;
    let res = app.try_sign_in("tls@example.com", PASSWORD).await;
    let cookie = set_cookie(&res, "frontdesk_session").expect("session cookie");
    assert!(cookie.contains("Secure") && cookie.contains("HttpOnly"), "{cookie}");
}

#[tokio::test]
async fn a_post_without_a_valid_csrf_token_is_a_403_page() {
    let app = spawn_app().await;
    let b = app.browser().await;
    for (what, token) in [("none", None), ("wrong", Some("deadbeef")), ("empty", Some(""))] {
        let mut form = vec![("name", "ci")];
        if let Some(t) = token {
            form.push(("csrf", t));
        }
        let res = b
            .client
            .post(b.url("/settings/api-keys"))
            .header(COOKIE, &b.cookie)
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{what}");
        assert!(
            res.headers()[CONTENT_TYPE].to_str().unwrap().starts_with("text/html"),
            "a page"
        );
        assert!(res.text().await.unwrap().contains("security token"));
    }
    // Script requests carry it in a header; a wrong one is refused the same way.
    let res = b
        .client
        .post(b.url("/settings/api-keys"))
        .header(COOKIE, &b.cookie)
        .header("x-csrf-token", "nope")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // Sign-out is a form like any other.
    let res = b
        .client
        .post(b.url("/logout"))
        .header(COOKIE, &b.cookie)
        .form(&[("x", "y")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // The sign-in form refuses a post that did not come from it.
    let res = no_redirects()
        .post(app.url("/login"))
        .form(&[("login", "owner@example.com"), ("password", PASSWORD), ("csrf", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // No API key was made by any of them.
    let keys = b.page("/settings/api-keys").await;
    assert!(!keys.contains(">ci<"), "nothing was created");
}

#[tokio::test]
async fn five_wrong_passwords_lock_the_user_and_sign_out_ends_the_session() {
    let app = spawn_app().await;
    app.add_user(&app.workspace, "pat@example.com").await;
    // An unknown name and a wrong password get the same answer.
    let unknown = app.try_sign_in("nobody@example.com", PASSWORD).await;
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
    let unknown = unknown.text().await.unwrap();
    for i in 1..=4 {
        let res = app.try_sign_in("pat@example.com", "wrong password here").await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "wrong password {i}");
        let html = res.text().await.unwrap();
        assert!(
            html.contains("do not match") && unknown.contains("do not match"),
            "{html}"
        );
        assert!(html.contains("value=\"pat@example.com\""), "the name stays filled in");
    }
    let fifth = app.try_sign_in("pat@example.com", "wrong password here").await;
    assert_eq!(fifth.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(fifth.text().await.unwrap().contains("locked for 15 more minutes"));
    // Locked: even the right password is refused, with no session.
    let right = app.try_sign_in("pat@example.com", PASSWORD).await;
    assert_eq!(right.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(set_cookie(&right, "frontdesk_session").is_none());
    // Another user is not locked.
    let b = app.browser().await;
    // Signing out ends the record: the old cookie no longer opens a page.
    let res = b.post_form("/logout", &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(Browser::location(&res), "/login");
    let cleared = set_cookie(&res, "frontdesk_session").expect("cookie cleared");
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    let res = b.get("/calls").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_key_generated_in_the_dashboard_works_until_revoked() {
    let app = spawn_app().await;
    let b = app.browser().await;
    let res = b.post_form("/settings/api-keys", &[("name", "crm sync")]).await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = res.text().await.unwrap();
    let start = html.find("id=\"new-key-secret\">").expect("the new key is shown") + "id=\"new-key-secret\">".len();
    let key = html[start..start + html[start..].find('<').unwrap()].to_owned();
    assert!(key.starts_with("fd_live_"), "{key}");
    let res = app
        .client
        .get(app.url("/v1/calls"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "the key works");
    // Shown once: the list shows only its prefix.
    let list = b.page("/settings/api-keys").await;
    assert!(!list.contains(&key) && list.contains("crm sync"));
    // Revoke it (the form's action holds its id).
    let marker = "action=\"/settings/api-keys/";
    let at = list.find("crm sync").unwrap();
    let from = at + list[at..].find(marker).unwrap() + marker.len();
    let id = &list[from..from + list[from..].find('/').unwrap()];
    let res = b.post_form(&format!("/settings/api-keys/{id}/revoke"), &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = app
        .client
        .get(app.url("/v1/calls"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401, "revoked");
    // An invalid name is shown next to the field.
    let res = b.post_form("/settings/api-keys", &[("name", "")]).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("field-error"));
    // Another workspace's key cannot be revoked from here.
    let (other, _) = app.other_workspace("other").await;
    let theirs = app.browser_of(&other, "them@example.com").await;
    let res = theirs.post_form(&format!("/settings/api-keys/{id}/revoke"), &[]).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_user_added_in_the_dashboard_can_sign_in() {
    let app = spawn_app().await;
    let b = app.browser().await;
    let res = b
        .post_form("/settings/users", &[("login", "Front.Desk@Example.com")])
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = res.text().await.unwrap();
    let marker = "id=\"new-user-password\">";
    let start = html.find(marker).expect("password shown") + marker.len();
    let password = &html[start..start + html[start..].find('<').unwrap()];
    let res = app.try_sign_in("front.desk@example.com", password).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "names are case-insensitive");
    // A taken name is refused with a message.
    let res = b
        .post_form("/settings/users", &[("login", "front.desk@example.com")])
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("is taken"));
    // Users of another workspace are not listed.
    let (other, _) = app.other_workspace("other").await;
    let theirs = app.browser_of(&other, "them@example.com").await;
    let list = theirs.page("/settings/users").await;
    assert!(!list.contains("front.desk@example.com") && list.contains("them@example.com"));
}

#[tokio::test]
async fn pages_forbid_inline_script_and_framing_and_are_not_cached() {
    let app = spawn_app().await;
    let b = app.browser().await;
    for path in ["/login", "/settings/api-keys"] {
        let res = if path == "/login" {
            no_redirects().get(app.url(path)).send().await.unwrap()
        } else {
            b.get(path).await
        };
        let h = res.headers();
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"),
            "{csp}"
        );
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["cache-control"], "no-store", "{path}");
    }
    // The assets are embedded and served from here.
    for (path, kind) in [("/static/app.css", "text/css"), ("/static/app.js", "text/javascript")] {
        let res = no_redirects().get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), 200, "{path}");
        assert!(res.headers()[CONTENT_TYPE].to_str().unwrap().starts_with(kind));
    }
    let res = no_redirects().get(app.url("/static/nope.js")).send().await.unwrap();
    assert_eq!(res.status(), 404);
}

/// Every state-changing dashboard route (ids need not exist: the guard runs first).
const POSTS: &[&str] = &[
    "/logout",
    "/settings/api-keys",
    "/settings/api-keys/key_01JD3Q2W8M6Y7Z0ABCDEF12345/revoke",
    "/settings/users",
    "/agents",
    "/agents/agt_01JD3Q2W8M6Y7Z0ABCDEF12345",
    "/agents/numbers",
    "/agents/numbers/num_01JD3Q2W8M6Y7Z0ABCDEF12345",
    "/agents/numbers/num_01JD3Q2W8M6Y7Z0ABCDEF12345/remove",
    "/test-call/start",
    "/test-call/call_01JD3Q2W8M6Y7Z0ABCDEF12345/say",
    "/test-call/call_01JD3Q2W8M6Y7Z0ABCDEF12345/hangup",
    "/webhooks",
    "/webhooks/preview",
    "/webhooks/wh_01JD3Q2W8M6Y7Z0ABCDEF12345/edit",
    "/webhooks/wh_01JD3Q2W8M6Y7Z0ABCDEF12345/test",
    "/webhooks/wh_01JD3Q2W8M6Y7Z0ABCDEF12345/rotate-secret",
    "/webhooks/wh_01JD3Q2W8M6Y7Z0ABCDEF12345/active",
    "/webhooks/wh_01JD3Q2W8M6Y7Z0ABCDEF12345/delete",
    "/webhooks/wh_01JD3Q2W8M6Y7Z0ABCDEF12345/recover",
    "/webhooks/wh_01JD3Q2W8M6Y7Z0ABCDEF12345/replay",
    "/deliveries/dlv_01JD3Q2W8M6Y7Z0ABCDEF12345/retry",
];

#[tokio::test]
async fn every_form_needs_the_csrf_token_and_a_session() {
    let app = spawn_app().await;
    let b = app.browser().await;
    for path in POSTS {
        let form = b
            .client
            .post(b.url(path))
            .header(COOKIE, &b.cookie)
            .form(&[("name", "x")])
            .send()
            .await
            .unwrap();
        assert_eq!(form.status(), StatusCode::FORBIDDEN, "form to {path}");
        let json = b
            .client
            .post(b.url(path))
            .header(COOKIE, &b.cookie)
            .json(&serde_json::json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(json.status(), StatusCode::FORBIDDEN, "script post to {path}");
        let anonymous = no_redirects()
            .post(app.url(path))
            .form(&[("csrf", &b.csrf)])
            .send()
            .await
            .unwrap();
        assert_eq!(anonymous.status(), StatusCode::SEE_OTHER, "no session: {path}");
    }
}
