//! A signed-in dashboard user for HTTP-level tests: follows no redirects, keeps the
//! session cookie, and puts the CSRF token in every form and script request.

use frontdesk_core::id::WorkspaceId;
use frontdesk_core::user::{Login, Password};
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use reqwest::{Client, Response, StatusCode};
use serde_json::Value;

use crate::helpers::TestApp;

/// A password every test user gets.
pub const PASSWORD: &str = "correct horse battery staple";

pub struct Browser {
    pub address: String,
    pub client: Client,
    /// `frontdesk_session=...`
    pub cookie: String,
    /// The session's CSRF token (read from a page).
    pub csrf: String,
}

/// A client that shows redirects instead of following them.
pub fn no_redirects() -> Client {
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// The value of `name="csrf" value="..."` (or the meta tag) in a page.
pub fn csrf_in(html: &str) -> String {
    for marker in ["name=\"csrf\" value=\"", "name=\"csrf-token\" content=\""] {
        if let Some(i) = html.find(marker) {
            let rest = &html[i + marker.len()..];
            return rest[..rest.find('"').expect("closing quote")].to_owned();
        }
    }
    panic!("no CSRF token in the page:\n{html}")
}

/// The `name=value` of a `Set-Cookie` for `name`, if the response sets it.
pub fn set_cookie(res: &Response, name: &str) -> Option<String> {
    res.headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(str::to_owned)
}

impl TestApp {
    /// Adds a dashboard user to `workspace` with [`PASSWORD`].
    pub async fn add_user(&self, workspace: &WorkspaceId, login: &str) {
        let hash = Password::parse(PASSWORD).expect("password").hash();
        self.store
            .create_user(workspace, &Login::parse(login).expect("login"), &hash)
            .await
            .expect("user");
    }

    /// Posts the sign-in form as a browser would (after opening `/login`).
    pub async fn try_sign_in(&self, login: &str, password: &str) -> Response {
        let client = no_redirects();
        let page = client.get(self.url("/login")).send().await.expect("login page");
        let bound = set_cookie(&page, "frontdesk_login").expect("the login form's cookie");
        let bound = bound.split(';').next().unwrap_or_default().to_owned();
        let csrf = csrf_in(&page.text().await.expect("body"));
        client
            .post(self.url("/login"))
            .header(COOKIE, bound)
            .form(&[("login", login), ("password", password), ("csrf", &csrf), ("next", "/")])
            .send()
            .await
            .expect("sign in")
    }

    /// A user of the default workspace, signed in.
    pub async fn browser(&self) -> Browser {
        self.browser_of(&self.workspace, "owner@example.com").await
    }

    /// A new user of `workspace`, signed in.
    pub async fn browser_of(&self, workspace: &WorkspaceId, login: &str) -> Browser {
        self.add_user(workspace, login).await;
        let res = self.try_sign_in(login, PASSWORD).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "signed in");
        let cookie = set_cookie(&res, "frontdesk_session").expect("session cookie");
        let cookie = cookie.split(';').next().unwrap_or_default().to_owned();
        let mut b = Browser {
            address: self.address.clone(),
            client: no_redirects(),
            cookie,
            csrf: String::new(),
        };
        let home = b.get("/").await;
        assert_eq!(home.status(), StatusCode::OK);
        b.csrf = csrf_in(&home.text().await.expect("body"));
        b
    }
}

impl Browser {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client
            .get(self.url(path))
            .header(COOKIE, &self.cookie)
            .send()
            .await
            .expect("get")
    }

    /// GETs a page that must be 200 and returns its HTML.
    pub async fn page(&self, path: &str) -> String {
        let res = self.get(path).await;
        let status = res.status();
        let body = res.text().await.expect("body");
        assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
        body
    }

    /// Posts a form with the session's CSRF token.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Response {
        let mut all: Vec<(&str, &str)> = fields.to_vec();
        all.push(("csrf", &self.csrf));
        self.client
            .post(self.url(path))
            .header(COOKIE, &self.cookie)
            .form(&all)
            .send()
            .await
            .expect("post")
    }

    /// Posts JSON as the page scripts do (CSRF token in `X-CSRF-Token`).
    #[allow(dead_code, reason = "used by the page tests that post JSON")]
    pub async fn post_json(&self, path: &str, body: &Value) -> Response {
        self.client
            .post(self.url(path))
            .header(COOKIE, &self.cookie)
            .header("x-csrf-token", &self.csrf)
            .json(body)
            .send()
            .await
            .expect("post")
    }

    /// Where a redirect points.
    pub fn location(res: &Response) -> String {
        res.headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    }
}
