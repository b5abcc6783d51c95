//! The dependency rules of ARCHITECTURE.md, checked against `cargo metadata` (what the
//! build really links, transitively, not what a comment says):
//!
//! - `frontdesk-core` and `frontdesk-agent` depend on no I/O crate (no tokio, sqlx,
//!   reqwest, hyper, axum);
//! - the application layer (`frontdesk-app`, in its normal build) and Twilio's
//!   protocol crate on no web framework (no axum, no OpenAPI server glue);
//! - nothing above the store (app, delivery, server, the binary) depends on sqlx
//!   directly;
//! - the model client (`frontdesk-llm`) stands on the brains' types only (agent, core),
//!   links no web framework in its normal build (axum comes only with its `stand-in`
//!   test feature), and nothing below the application layer depends on it;
//! - the server names no store backend (its code reaches data through `dyn Store`);
//! - the server's modules import each other in no circle.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use serde_json::Value;

/// Normal (non-dev, non-build) dependencies of every workspace package, transitively.
struct Graph {
    names: BTreeMap<String, String>,
    edges: BTreeMap<String, Vec<String>>,
}

impl Graph {
    fn load() -> Self {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let out = Command::new(cargo)
            .args(["metadata", "--format-version", "1", "--locked"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .expect("cargo metadata runs");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let meta: Value = serde_json::from_slice(&out.stdout).expect("metadata is JSON");
        let mut names = BTreeMap::new();
        for p in meta["packages"].as_array().expect("packages") {
            names.insert(
                p["id"].as_str().expect("id").to_owned(),
                p["name"].as_str().expect("name").to_owned(),
            );
        }
        let mut edges = BTreeMap::new();
        for n in meta["resolve"]["nodes"].as_array().expect("resolve") {
            let deps = n["deps"]
                .as_array()
                .expect("deps")
                .iter()
                .filter(|d| {
                    d["dep_kinds"]
                        .as_array()
                        .expect("dep_kinds")
                        .iter()
                        .any(|k| k["kind"].is_null())
                })
                .map(|d| d["pkg"].as_str().expect("pkg").to_owned())
                .collect();
            edges.insert(n["id"].as_str().expect("id").to_owned(), deps);
        }
        Self { names, edges }
    }

    fn id(&self, name: &str) -> String {
        self.names
            .iter()
            .find(|(_, n)| *n == name)
            .map(|(id, _)| id.clone())
            .unwrap_or_else(|| panic!("no package {name}"))
    }

    fn direct(&self, name: &str) -> BTreeSet<String> {
        self.edges[&self.id(name)]
            .iter()
            .map(|d| self.names[d].clone())
            .collect()
    }

    fn all(&self, name: &str) -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut todo = vec![self.id(name)];
        while let Some(id) = todo.pop() {
            for d in &self.edges[&id] {
                if seen.insert(self.names[d].clone()) {
                    todo.push(d.clone());
                }
            }
        }
        seen
    }
}

fn assert_none(graph: &Graph, package: &str, transitive: bool, forbidden: &[&str]) {
    let deps = if transitive {
        graph.all(package)
    } else {
        graph.direct(package)
    };
    let found: Vec<&&str> = forbidden.iter().filter(|f| deps.contains(**f)).collect();
    assert!(
        found.is_empty(),
        "{package} must not depend on {found:?} ({})",
        if transitive { "even transitively" } else { "directly" }
    );
}

#[test]
fn the_domain_and_the_brains_do_no_io() {
    let g = Graph::load();
    for p in ["frontdesk-core", "frontdesk-agent"] {
        assert_none(
            &g,
            p,
            true,
            &["tokio", "sqlx", "reqwest", "hyper", "axum", "sqlx-core", "mio"],
        );
    }
}

#[test]
fn the_application_layer_knows_no_web_framework() {
    let g = Graph::load();
    // (tower-http may come in under reqwest, the HTTP client: that is not a server.)
    let web = ["axum", "axum-core", "utoipa", "utoipa-axum"];
    assert_none(&g, "frontdesk-twilio", true, &web);
    // The application layer stands on the model client, whose `stand-in` test feature
    // (its tests' and the application's) brings axum into `cargo metadata`'s unified
    // graph: what the application's normal build links is what counts.
    let linked = normal_build("frontdesk-app");
    assert!(linked.contains("frontdesk-llm"), "{linked:?}");
    let found: Vec<&str> = web.into_iter().filter(|w| linked.contains(*w)).collect();
    assert!(found.is_empty(), "frontdesk-app's normal build links {found:?}");
}

/// The packages a package's normal build links, with no optional feature on: what
/// `cargo tree` resolves for it alone (`cargo metadata` unifies features across the
/// workspace, dev-dependencies included, so a test feature would show up there).
fn normal_build(package: &str) -> BTreeSet<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "tree", "--locked", "-e", "normal", "--prefix", "none", "--format", "{p}", "-p", package,
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo tree runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|n| *n != package)
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_model_client_is_a_client_over_the_brains_types() {
    let g = Graph::load();
    let workspace: BTreeSet<String> = g
        .direct("frontdesk-llm")
        .into_iter()
        .filter(|d| d.starts_with("frontdesk"))
        .collect();
    assert!(
        workspace
            .iter()
            .all(|d| d == "frontdesk-agent" || d == "frontdesk-core"),
        "frontdesk-llm may depend on frontdesk-agent and frontdesk-core only: {workspace:?}"
    );
    let linked = normal_build("frontdesk-llm");
    assert!(linked.contains("reqwest"), "{linked:?}");
    let web: Vec<&str> = ["axum", "axum-core", "utoipa", "utoipa-axum", "sqlx", "sqlx-core"]
        .into_iter()
        .filter(|w| linked.contains(*w))
        .collect();
    assert!(web.is_empty(), "frontdesk-llm's normal build links {web:?}");
    for p in [
        "frontdesk-core",
        "frontdesk-agent",
        "frontdesk-store",
        "frontdesk-delivery",
        "frontdesk-twilio",
    ] {
        assert_none(&g, p, true, &["frontdesk-llm"]);
    }
}

#[test]
fn nothing_above_the_store_talks_sql() {
    let g = Graph::load();
    for p in [
        "frontdesk-app",
        "frontdesk-delivery",
        "frontdesk-server",
        "frontdesk",
        "frontdesk-twilio",
    ] {
        assert_none(&g, p, false, &["sqlx", "sqlx-core", "sqlx-sqlite", "libsqlite3-sys"]);
    }
}

#[test]
fn the_server_names_no_store_backend() {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../server/src");
    let mut todo = vec![src];
    let mut offenders = Vec::new();
    while let Some(dir) = todo.pop() {
        for entry in std::fs::read_dir(&dir).expect("server sources") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                todo.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).expect("source");
                if text.contains("SqliteStore") || text.contains("frontdesk_store::sqlite") {
                    offenders.push(path.display().to_string());
                }
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "the server reaches data through dyn Store only: {offenders:?}"
    );
}

/// The server's modules (by file) and the modules of the server each one names
/// (`crate::x`, `super::x`), test modules left out.
fn server_imports() -> BTreeMap<String, BTreeSet<String>> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../server/src");
    let mut files = Vec::new();
    let mut todo = vec![root.clone()];
    while let Some(dir) = todo.pop() {
        for entry in std::fs::read_dir(&dir).expect("server sources") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                todo.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    let name_of = |p: &std::path::Path| {
        let rel = p.strip_prefix(&root).expect("under src").with_extension("");
        let parts: Vec<String> = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .filter(|c| c != "mod")
            .collect();
        parts.join("::")
    };
    let names: BTreeSet<String> = files.iter().map(|f| name_of(f)).filter(|n| n != "lib").collect();
    // The longest module name a path starts with.
    let module = |path: &str| {
        let parts: Vec<&str> = path.split("::").collect();
        (1..=parts.len())
            .rev()
            .map(|k| parts[..k].join("::"))
            .find(|c| names.contains(c))
    };
    let mut graph = BTreeMap::new();
    for f in &files {
        let name = name_of(f);
        if name == "lib" {
            continue;
        }
        let text = std::fs::read_to_string(f).expect("source");
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        let parent = name.rsplit_once("::").map(|(p, _)| p.to_owned());
        let mut deps = BTreeSet::new();
        for (prefix, base) in [("crate::", None), ("super::", parent.as_deref())] {
            for (i, _) in code.match_indices(prefix) {
                let rest: String = code[i + prefix.len()..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':')
                    .collect();
                let full = match base {
                    Some(b) => format!("{b}::{rest}"),
                    None => rest,
                };
                if let Some(m) = module(full.trim_end_matches(':')).filter(|m| *m != name) {
                    deps.insert(m);
                }
            }
        }
        graph.insert(name, deps);
    }
    graph
}

#[test]
fn the_servers_modules_import_no_circle() {
    let graph = server_imports();
    // Depth-first search for a back edge.
    fn visit(
        n: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|p| p == n) {
            let mut cycle = path[at..].to_vec();
            cycle.push(n.to_owned());
            return Some(cycle);
        }
        if done.contains(n) {
            return None;
        }
        path.push(n.to_owned());
        for d in graph.get(n).into_iter().flatten() {
            if let Some(c) = visit(d, graph, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(n.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    for n in graph.keys() {
        if let Some(cycle) = visit(n, &graph, &mut Vec::new(), &mut done) {
            panic!(
                "the server's modules import each other in a circle: {}",
                cycle.join(" -> ")
            );
        }
    }
    assert!(
        graph.contains_key("state") && graph.contains_key("telephony::relay"),
        "{graph:?}"
    );
}
