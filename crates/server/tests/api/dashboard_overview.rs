//! The overview `/` (first-call guide, headline numbers, charts) and the event catalog
//! `/events`.

use std::time::Duration;

use frontdesk_core::event::EventType;
use serde_json::{Value, json};

use crate::helpers::{TestApp, agent_file, post_json, spawn_app};
use crate::receiver::{Receiver, Reply};

/// HTML text unescaped (the entities askama writes).
fn unescape(s: &str) -> String {
    s.replace("&#34;", "\"")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// A page's text: tags removed (a space for each but inline ones), entities unescaped,
/// whitespace collapsed.
fn text(html: &str) -> String {
    const INLINE: &[&str] = &["code", "a", "span", "strong", "em", "time"];
    let mut out = String::new();
    let mut tag: Option<String> = None;
    for ch in html.chars() {
        match (&mut tag, ch) {
            (None, '<') => tag = Some(String::new()),
            (Some(t), '>') => {
                let name = t.trim_start_matches('/').split_whitespace().next().unwrap_or("");
                if !INLINE.contains(&name) {
                    out.push(' ');
                }
                tag = None;
            }
            (Some(t), c) => t.push(c),
            (None, c) => out.push(c),
        }
    }
    unescape(&out).split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The inner HTML of the first element that starts with `open` (up to `close`).
fn between<'a>(html: &'a str, open: &str, close: &str) -> &'a str {
    let start = html.find(open).unwrap_or_else(|| panic!("no {open} in\n{html}"));
    let rest = &html[start..];
    let inner = &rest[rest.find('>').unwrap() + 1..];
    &inner[..inner.find(close).unwrap_or_else(|| panic!("no {close}"))]
}

/// Runs the guide's `curl` commands as written, with the app's key for `YOUR_KEY` and
/// the ids the earlier answers gave for `AGENT_ID` and `CALL_ID`.
async fn run_guide(app: &TestApp, key: &str, commands: &str) -> Vec<Value> {
    let joined = commands.replace("\\\n", " ");
    let mut answers = Vec::new();
    let (mut agent, mut call) = (String::new(), String::new());
    for line in joined.lines().map(str::trim).filter(|l| l.starts_with("curl ")) {
        assert!(line.contains("-H \"Authorization: Bearer YOUR_KEY\""), "{line}");
        let url = line
            .split_whitespace()
            .skip_while(|w| *w != "POST")
            .nth(1)
            .unwrap_or_else(|| panic!("no URL in {line}"))
            .replace("AGENT_ID", &agent)
            .replace("CALL_ID", &call);
        assert!(url.starts_with(&app.address), "{url} is this server");
        let mut req = app.client.post(&url).bearer_auth(key);
        if let Some(i) = line.find("-d '") {
            let body = &line[i + 4..];
            let body = &body[..body.find('\'').unwrap()].replace("AGENT_ID", &agent);
            assert!(line.contains("-H \"Content-Type: application/json\""), "{line}");
            req = req.header("content-type", "application/json").body(body.to_owned());
        }
        let res = req.send().await.unwrap();
        let status = res.status();
        let answer: Value = res.json().await.unwrap_or(Value::Null);
        assert!(status.is_success(), "{line}: {status} {answer}");
        if let Some(id) = answer["id"].as_str().filter(|id| id.starts_with("agt_")) {
            agent = id.to_owned();
        }
        if let Some(id) = answer["call_id"].as_str() {
            call = id.to_owned();
        }
        answers.push(answer);
    }
    answers
}

#[tokio::test]
async fn an_empty_workspace_gets_a_first_call_guide_that_works() {
    // A workspace of its own, with no number yet: the guide adds an agent and a number.
    let app = spawn_app().await;
    let (ws, key) = app.other_workspace("second").await;
    let b = app.browser_of(&ws, "them@example.com").await;
    let html = b.page("/").await;
    let page = text(&html);
    assert!(page.contains("No calls yet"), "{page}");
    assert!(html.contains("href=\"/test-call\""));
    assert!(!html.contains("<svg"), "no charts of nothing");
    let commands = unescape(between(&html, "<code id=\"first-call-commands\"", "</code>"));
    assert!(commands.contains("/v1/sim/calls"), "{commands}");
    assert!(
        commands.contains("/v1/agents") && commands.contains("/v1/numbers"),
        "{commands}"
    );
    assert_eq!(
        commands,
        unescape(between(
            &b.page("/").await,
            "<code id=\"first-call-commands\"",
            "</code>"
        )),
        "the same number on every visit"
    );

    // The commands work as written (with that workspace's key): an agent, a number, a
    // call, a turn, a hang-up.
    let answers = run_guide(&app, &key, &commands).await;
    assert_eq!(answers.len(), 5, "{answers:?}");
    assert_eq!(answers[4]["ended"], true, "{answers:?}");

    let page = text(&b.page("/").await);
    assert!(!page.contains("No calls yet"), "{page}");
    assert!(page.contains("Calls today 1"), "{page}");
    assert!(page.contains("Live calls 0"), "{page}");

    // The default workspace saw none of it.
    let mine = app.browser().await;
    let page = text(&mine.page("/").await);
    assert!(page.contains("No calls yet"), "{page}");
}

#[tokio::test]
async fn the_guide_calls_the_workspaces_number() {
    // The default workspace starts with a demo agent on a sim number.
    let app = spawn_app().await;
    let numbers: Value = app.get("/v1/numbers").send().await.unwrap().json().await.unwrap();
    let number = numbers["data"][0]["number"].as_str().unwrap().to_owned();
    let b = app.browser().await;
    let html = b.page("/").await;
    let commands = unescape(between(&html, "<code id=\"first-call-commands\"", "</code>"));
    assert!(!commands.contains("/v1/agents"), "{commands}");
    assert!(commands.contains(&format!("\"to\": \"{number}\"")), "{commands}");
    let answers = run_guide(&app, &app.key, &commands).await;
    assert_eq!(answers.len(), 3, "{answers:?}");
    assert!(text(&b.page("/").await).contains("Calls today 1"));
}

/// `n` items of a `/v1` list, polled until there are at least `n` (bounded).
async fn wait_for_list(app: &TestApp, path: &str, n: usize) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let v: Value = app.get(path).send().await.unwrap().json().await.unwrap();
        let items = v["data"].as_array().cloned().unwrap_or_default();
        if items.len() >= n {
            return items;
        }
        assert!(tokio::time::Instant::now() < deadline, "{path}: {} of {n}", items.len());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn the_overview_counts_calls_and_deliveries_and_draws_them() {
    let app = spawn_app().await;
    let ok = Receiver::start().await;
    let bad = Receiver::start().await;
    bad.reply(Reply {
        status: 500,
        ..Reply::default()
    });
    for rx in [&ok, &bad] {
        let (s, w) = post_json(
            &app,
            "/v1/webhooks",
            json!({"url": rx.url("/hook"), "events": ["call.ended"]}),
        )
        .await;
        assert_eq!(s, 201, "{w}");
    }
    let (s, agent) = post_json(&app, "/v1/agents", agent_file("contractor")).await;
    assert_eq!(s, 201, "{agent}");
    let (s, n) = post_json(
        &app,
        "/v1/numbers",
        json!({"number": "+15553330000", "agent_id": agent["id"], "provider": "sim"}),
    )
    .await;
    assert_eq!(s, 201, "{n}");

    // Three finished calls asking for a quote, and one still on the line.
    let mut calls = Vec::new();
    for i in 0..4 {
        let (s, start) = post_json(
            &app,
            "/v1/sim/calls",
            json!({"from": format!("+1555123000{i}"), "to": "+15553330000"}),
        )
        .await;
        assert_eq!(s, 201, "{start}");
        calls.push(start["call_id"].as_str().unwrap().to_owned());
    }
    for call in &calls[..3] {
        let (s, r) = post_json(
            &app,
            &format!("/v1/sim/calls/{call}/turns"),
            json!({"text": "Hi, I'd like to get a quote for a kitchen remodel."}),
        )
        .await;
        assert_eq!(s, 200, "{r}");
        let (s, r) = post_json(&app, &format!("/v1/sim/calls/{call}/hangup"), json!({})).await;
        assert_eq!(s, 200, "{r}");
    }
    // Each call.ended: delivered once to `ok`; tried 4 times (1 + 3 retries) at `bad`.
    ok.wait_for(3, Duration::from_secs(10)).await;
    wait_for_list(&app, "/v1/deliveries?status=succeeded&limit=100", 3).await;
    wait_for_list(&app, "/v1/deliveries?status=failed&limit=100", 3).await;
    let c: Value = app
        .get(&format!("/v1/calls/{}", calls[0]))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(c["call_type"], "quote_request", "{c}");

    let b = app.browser().await;
    let html = b.page("/").await;
    let page = text(&html);
    assert!(!page.contains("No calls yet"), "{page}");
    for expected in [
        "Calls today 4",
        "Calls, last 14 days 4",
        "Live calls 1",
        "Delivery success 20% (3 of 15 attempts",
        "Failed deliveries 3 failed",
        "Pending deliveries 0",
        "quote_request 3 75%",
        "(no type) 1 25%",
    ] {
        assert!(page.contains(expected), "{expected:?} in {page}");
    }
    assert!(
        html.contains("href=\"/webhooks\""),
        "failed deliveries link to the webhooks"
    );
    // Four charts, each an image with a title and a caption, and their numbers as tables.
    assert_eq!(html.matches("<svg role=\"img\"").count(), 4, "{html}");
    for id in [
        "chart-calls-title",
        "chart-types-title",
        "chart-success-title",
        "chart-latency-title",
    ] {
        assert!(html.contains(&format!("aria-labelledby=\"{id}\"")), "{id}");
        assert!(html.contains(&format!("<title id=\"{id}\">")), "{id}");
    }
    assert_eq!(html.matches("<figcaption>").count(), 4);
    assert!(page.contains("Calls per day: 4 over 14 days"), "{page}");
    assert!(page.contains("3 of 15 attempts succeeded (20%)"), "{page}");
    assert!(html.contains("<polyline"), "the latency lines");
    assert!(html.matches("<th scope=\"col\">").count() >= 10, "the charts' tables");

    // Another workspace sees none of it.
    let (other, _) = app.other_workspace("second").await;
    let them = app.browser_of(&other, "them@example.com").await;
    let page = text(&them.page("/").await);
    assert!(page.contains("No calls yet"), "{page}");
    assert!(page.contains("Failed deliveries 0 failed"), "{page}");
}

#[tokio::test]
async fn the_event_catalog_lists_every_event_with_a_real_example_and_its_variables() {
    let app = spawn_app().await;
    let b = app.browser().await;
    let html = b.page("/events").await;
    assert_eq!(html.matches("<h1>").count(), 1);
    for kind in EventType::ALL {
        let name = kind.as_str();
        assert!(html.contains(&format!("href=\"#{name}\"")), "{name} in the contents");
        let section = between(&html, &format!("<section class=\"card\" id=\"{name}\""), "</section>");
        assert!(
            text(section).contains(&kind.description().replace('`', "")),
            "{name}'s description"
        );
        let payload: Value = serde_json::from_str(&unescape(
            between(section, "<pre", "</pre>")
                .trim_start_matches("<code>")
                .trim_end_matches("</code>"),
        ))
        .unwrap_or_else(|e| panic!("{name}'s example is JSON: {e}\n{section}"));
        assert_eq!(payload["event"], name);
        assert!(payload["id"].as_str().unwrap().starts_with("evt_"));
        assert_eq!(payload["data"]["caller"]["name"], "John Doe");
        let vars = text(between(section, "<tbody>", "</tbody>"));
        assert!(vars.contains("{{caller_name}} John Doe"), "{name}: {vars}");
        assert!(vars.contains(&format!("{{{{event}}}} {name}")), "{name}: {vars}");
        assert!(vars.contains("{{budget}} $15,000-$20,000"), "{name}: {vars}");
        assert!(section.contains("href=\"/webhooks\""), "{name}: send it somewhere");
    }
    let collected = between(&html, "<section class=\"card\" id=\"data.collected\"", "</section>");
    assert!(text(collected).contains("{{field}} budget"), "{collected}");
    let transferred = between(&html, "<section class=\"card\" id=\"call.transferred\"", "</section>");
    assert!(text(transferred).contains("{{transferred_to}} +15557654321"));
    let ended = between(&html, "<section class=\"card\" id=\"call.ended\"", "</section>");
    assert!(text(ended).contains("{{duration_seconds}} 180"));
    assert!(text(ended).contains("{{owner_name}} Acme Contracting"));
}
