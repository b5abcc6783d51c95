//! `spawn_app`: a server with its own temporary database and a bootstrap key.
//!
//! The database is SQLite in a temporary folder, or, with
//! `FRONTDESK_TEST_DATABASE=postgres` and `FRONTDESK_TEST_POSTGRES_URL` set, a fresh
//! PostgreSQL database of its own (dropped when the test ends): `scripts/test` runs this
//! whole suite both ways when PostgreSQL is there.

use std::sync::Arc;
use std::time::Duration;

use frontdesk_core::api_key::{ApiKeyName, ApiKeySecret};
use frontdesk_core::id::WorkspaceId;
use frontdesk_core::workspace::WorkspaceName;
use frontdesk_server::bootstrap::bootstrap;
use frontdesk_server::{Application, RateLimitSettings, ServerSettings};
use frontdesk_store::{NewApiKey, Store};
use reqwest::{Client, RequestBuilder, Response};
use serde_json::Value;

pub struct TestApp {
    pub address: String,
    /// The bootstrap key of workspace `default`.
    pub key: String,
    /// The default workspace (the bootstrap key's).
    pub workspace: WorkspaceId,
    pub store: Arc<dyn Store>,
    pub client: Client,
    db: TestDatabase,
}

/// Where a test's data lives; removed when the test ends.
enum TestDatabase {
    Sqlite(tempfile::TempDir),
    Postgres(Box<frontdesk_store::testing::TestDb>),
    /// Another node's view of a database the first node's test owns.
    Shared,
}

impl TestDatabase {
    async fn new() -> Self {
        if std::env::var("FRONTDESK_TEST_DATABASE").is_ok_and(|d| d == "postgres") {
            let db = frontdesk_store::testing::TestDb::create()
                .await
                .expect("FRONTDESK_TEST_DATABASE=postgres needs FRONTDESK_TEST_POSTGRES_URL");
            return Self::Postgres(Box::new(db));
        }
        Self::Sqlite(tempfile::tempdir().expect("temp dir"))
    }

    fn url(&self) -> String {
        match self {
            Self::Sqlite(dir) => format!("sqlite://{}/frontdesk.db", dir.path().display()),
            Self::Postgres(db) => db.url().to_owned(),
            Self::Shared => panic!("ask the first node for the database"),
        }
    }
}

/// A server with rate limits off (tests that need them use [`spawn_app_with`]).
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|s| {
        s.rate_limit = RateLimitSettings {
            per_hour: 0,
            per_second: 0,
        }
    })
    .await
}

/// The settings every test server starts from, with `configure` applied.
fn test_settings(configure: impl FnOnce(&mut ServerSettings)) -> ServerSettings {
    let mut settings = ServerSettings {
        listen: "127.0.0.1:0".parse().expect("addr"),
        rate_limit: RateLimitSettings {
            per_hour: 0,
            per_second: 0,
        },
        ..ServerSettings::default()
    };
    settings.delivery.policy.allow_private = true;
    settings.delivery.retry.schedule = vec![Duration::from_millis(100); 3];
    settings.delivery.retry.jitter = 0.0;
    settings.delivery.timeout = Duration::from_secs(2);
    configure(&mut settings);
    settings
}

/// Starts a server on `store` in the background; returns its address.
async fn serve(settings: ServerSettings, store: Arc<dyn Store>) -> String {
    let app = Application::build(settings, store).await.expect("build app");
    let address = format!("http://{}", app.local_addr().expect("local addr"));
    tokio::spawn(app.run_until(std::future::pending()));
    address
}

pub async fn spawn_app_with(configure: impl FnOnce(&mut ServerSettings)) -> TestApp {
    let db = TestDatabase::new().await;
    let url = db.url();
    let settings = test_settings(configure);
    // The store seals with the server's master key, as `frontdesk serve` wires it.
    let store = open_store(&url, settings.master_key.as_deref()).await;
    let first = bootstrap(&*store)
        .await
        .expect("bootstrap")
        .expect("fresh database bootstraps");
    let address = serve(settings, store.clone()).await;
    TestApp {
        address,
        key: first.secret.expose().to_owned(),
        workspace: first.created.workspace.id.clone(),
        store,
        client: {
            frontdesk_delivery::install_crypto();
            Client::new()
        },
        db,
    }
}

/// Opens (and migrates) the database at `url`, sealing with `master_key` when given.
pub async fn open_store(url: &str, master_key: Option<&str>) -> Arc<dyn Store> {
    let key = master_key.map(|k| Arc::new(frontdesk_core::secret::MasterKey::new(k).expect("master key")));
    let store = frontdesk_store::open(url, frontdesk_store::Secrets::new(key))
        .await
        .expect("open store");
    store.migrate().await.expect("migrate");
    store
}

/// A second node on a test's database (PostgreSQL: several nodes share one database).
pub struct Node {
    pub address: String,
    pub store: Arc<dyn Store>,
}

impl TestApp {
    /// Whether this test runs on PostgreSQL (where several nodes can share the database).
    pub fn on_postgres(&self) -> bool {
        matches!(self.db, TestDatabase::Postgres(_))
    }

    /// Another node on the same database, with its own store (pool) and settings, or
    /// `None` (said on stdout) when the test runs on SQLite, which one node serves.
    pub async fn another_node(&self, configure: impl FnOnce(&mut ServerSettings)) -> Option<Node> {
        if !self.on_postgres() {
            println!("skipped: several nodes need PostgreSQL (FRONTDESK_TEST_DATABASE=postgres)");
            return None;
        }
        let settings = test_settings(configure);
        let store = open_store(&self.db.url(), settings.master_key.as_deref()).await;
        let address = serve(settings, store.clone()).await;
        Some(Node { address, store })
    }

    /// The same app, talking to another node (the same key, the other address).
    pub fn via(&self, node: &Node) -> TestApp {
        TestApp {
            address: node.address.clone(),
            key: self.key.clone(),
            workspace: self.workspace.clone(),
            store: node.store.clone(),
            client: self.client.clone(),
            db: TestDatabase::Shared,
        }
    }

    /// The database's files as they are on disk now: the main file, the write-ahead
    /// log, the shared memory (SQLite).
    fn database_files(dir: &std::path::Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
        let files: Vec<_> = std::fs::read_dir(dir)
            .expect("the test's database folder")
            .flatten()
            .map(|e| e.path())
            .filter_map(|p| std::fs::read(&p).ok().map(|b| (p, b)))
            .collect();
        assert!(
            files.iter().any(|(p, _)| p.ends_with("frontdesk.db")),
            "no database file among {files:?}"
        );
        files
    }

    /// Asserts that the database does not hold `clear`: no file of it (SQLite), no row
    /// of any table (PostgreSQL).
    pub async fn assert_not_at_rest(&self, clear: &str, what: &str) {
        match &self.db {
            TestDatabase::Sqlite(dir) => {
                for (path, bytes) in Self::database_files(dir.path()) {
                    assert!(
                        !bytes.windows(clear.len()).any(|w| w == clear.as_bytes()),
                        "{} holds {what} in clear",
                        path.display()
                    );
                }
            }
            TestDatabase::Postgres(db) => {
                assert!(!db.dump().await.contains(clear), "the database holds {what} in clear");
            }
            TestDatabase::Shared => panic!("check at rest through the first node"),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub fn get(&self, path: &str) -> RequestBuilder {
        self.client.get(self.url(path)).bearer_auth(&self.key)
    }

    pub fn post(&self, path: &str) -> RequestBuilder {
        self.client.post(self.url(path)).bearer_auth(&self.key)
    }

    pub fn delete(&self, path: &str) -> RequestBuilder {
        self.client.delete(self.url(path)).bearer_auth(&self.key)
    }

    /// Creates another workspace with a key of its own; returns its id and the key.
    pub async fn other_workspace(&self, name: &str) -> (WorkspaceId, String) {
        let ws = self
            .store
            .create_workspace(&WorkspaceName::parse(name).expect("name"))
            .await
            .expect("workspace");
        let secret = ApiKeySecret::generate();
        let label = ApiKeyName::parse("other").expect("label");
        self.store
            .create_api_key(&ws.id, &NewApiKey::new(&label, &secret))
            .await
            .expect("key");
        (ws.id, secret.expose().to_owned())
    }

    /// Creates an API key through the API; returns (id, secret).
    pub async fn create_key(&self, name: &str) -> (String, String) {
        let res = self
            .post("/v1/api-keys")
            .json(&serde_json::json!({ "name": name }))
            .send()
            .await
            .expect("send");
        assert_eq!(res.status(), 201);
        let body: Value = res.json().await.expect("json");
        (
            body["id"].as_str().expect("id").to_owned(),
            body["key"].as_str().expect("key").to_owned(),
        )
    }
}

/// Asserts the SPEC error shape and returns (status, code, message).
pub async fn error_of(res: Response) -> (u16, String, String) {
    let status = res.status().as_u16();
    let ct = content_type(&res);
    assert!(
        ct.starts_with("application/json"),
        "error responses are JSON, got {ct:?}"
    );
    let body: Value = res.json().await.expect("error body is JSON");
    let obj = body.as_object().expect("object");
    assert_eq!(obj.len(), 1, "only `error` at the top: {body}");
    let err = body["error"].as_object().expect("error object");
    assert_eq!(err.len(), 2, "error has code and message: {body}");
    let code = err["code"].as_str().expect("code").to_owned();
    assert!(
        code.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
        "snake_case code: {code}"
    );
    let message = err["message"].as_str().expect("message").to_owned();
    assert!(message.len() > 10, "a helpful message: {message}");
    (status, code, message)
}

/// A response's `Content-Type`, or empty.
pub fn content_type(res: &Response) -> String {
    res.headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// An agent configuration from `tests/conversations/agents/`.
pub fn agent_file(name: &str) -> Value {
    let path = format!(
        "{}/../../tests/conversations/agents/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// POSTs JSON with the app's key; returns the status and the JSON body (null if none).
pub async fn post_json(app: &TestApp, path: &str, body: Value) -> (u16, Value) {
    let res = app.post(path).json(&body).send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}
