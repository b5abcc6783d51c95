//! The dashboard's agents, numbers and test-call pages at the HTTP level: the list and
//! the create form, the configuration form (saved as the API sees it; errors next to
//! their section, input kept), numbers added, routed and removed, a test call talked
//! through the JSON endpoints, and another workspace's ids answered 404.

use reqwest::StatusCode;
use reqwest::header::COOKIE;
use serde_json::{Value, json};

use crate::browser::Browser;
use crate::helpers::{TestApp, agent_file, spawn_app};

/// The demo agent's id (created on first start, answering +15550100000).
async fn demo_agent(app: &TestApp) -> String {
    let list: Value = app.get("/v1/agents").send().await.unwrap().json().await.unwrap();
    list["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "Demo front desk")
        .expect("the demo agent")["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn api_get(app: &TestApp, path: &str) -> (u16, Value) {
    let res = app.get(path).send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// The text of the error shown next to input `key` of the agent form.
fn error_next_to(html: &str, key: &str) -> Option<String> {
    let marker = format!("id=\"cfg-{key}-error\">");
    let at = html.find(&marker)? + marker.len();
    let rest = &html[at..];
    Some(rest[..rest.find("</p>")?].to_owned())
}

/// The agent form's fields as the page would send them for `config` (one JSON box per
/// structured section).
fn form_of(config: &Value) -> Vec<(String, String)> {
    let mut f: Vec<(String, String)> = ["name", "greeting", "closing", "brain"]
        .iter()
        .map(|k| (k.to_string(), config[k].as_str().unwrap_or_default().to_owned()))
        .collect();
    for k in ["owner_name", "website", "booking_url", "hours"] {
        f.push((
            k.to_owned(),
            config["business"][k].as_str().unwrap_or_default().to_owned(),
        ));
    }
    for k in ["data_to_collect", "call_types", "transfer", "knowledge", "tools"] {
        let v = &config[k];
        let text = if v.is_null() {
            String::new()
        } else {
            serde_json::to_string_pretty(v).unwrap()
        };
        f.push((k.to_owned(), text));
    }
    f
}

/// Text as the page shows it (HTML-escaped).
fn escaped(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&#34;")
        .replace('\'', "&#39;")
}

fn with(mut form: Vec<(String, String)>, key: &str, value: &str) -> Vec<(String, String)> {
    for (k, v) in &mut form {
        if k == key {
            *v = value.to_owned();
        }
    }
    form
}

async fn post_agent_form(b: &Browser, path: &str, form: &[(String, String)]) -> reqwest::Response {
    let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    b.post_form(path, &fields).await
}

#[tokio::test]
async fn dashboard_agents_list_shows_the_demo_agent_and_creates_agents() {
    let app = spawn_app().await;
    let b = app.browser().await;
    let demo = demo_agent(&app).await;
    let html = b.page("/agents").await;
    assert!(html.contains("Demo front desk"), "{html}");
    assert!(html.contains(&format!("href=\"/agents/{demo}\"")), "links to the agent");
    assert!(html.contains("+15550100000"), "its number");
    assert!(html.contains("Thanks for calling"), "a greeting excerpt");

    // From a name alone: the default configuration, which the API accepts as is.
    let res = b.post_form("/agents", &[("name", "Night desk"), ("config", "")]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let to = Browser::location(&res);
    let id = to
        .strip_prefix("/agents/")
        .and_then(|r| r.split('?').next())
        .expect("to the new agent")
        .to_owned();
    let (s, a) = api_get(&app, &format!("/v1/agents/{id}")).await;
    assert_eq!(s, 200);
    assert_eq!(a["name"], "Night desk");
    assert_eq!(a["data_to_collect"][0]["field"], "first_name");
    let page = b.page(&to).await;
    assert!(page.contains("Agent created"), "{page}");
    assert!(page.contains(&format!("/test-call?agent={id}")), "a test-call link");

    // From a whole configuration (its own name kept when the name is left empty).
    let dental = agent_file("dental").to_string();
    let res = b.post_form("/agents", &[("name", ""), ("config", &dental)]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let list: Value = app.get("/v1/agents").send().await.unwrap().json().await.unwrap();
    assert!(
        list["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["name"] == "Bright Smile Dental reception"),
        "{list}"
    );

    // Bad JSON: the error next to the box, the input kept.
    let res = b
        .post_form("/agents", &[("name", "Broken"), ("config", "{\"greeting\": oops}")])
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(html.contains("id=\"new-config-error\""), "{html}");
    assert!(html.contains("not valid JSON") && html.contains("line 1"), "{html}");
    assert!(html.contains("oops") && html.contains("value=\"Broken\""), "input kept");
    // No name anywhere: the error next to the name.
    let res = b.post_form("/agents", &[("name", " "), ("config", "")]).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(html.contains("id=\"new-name-error\""), "{html}");
    assert!(html.contains("is required"), "{html}");
}

#[tokio::test]
async fn dashboard_agents_form_edits_the_whole_configuration() {
    let app = spawn_app().await;
    let b = app.browser().await;
    let demo = demo_agent(&app).await;
    let path = format!("/agents/{demo}");
    let html = b.page(&path).await;
    for shown in [
        "Demo front desk",
        "Frontdesk Demo Co",
        "first_name",
        "general_inquiry",
        "+15557654321",
        "What are your hours?",
        "+15550100000",
        "Try it in a test call",
    ] {
        assert!(html.contains(shown), "{shown} in the form");
    }

    // Saved unchanged, the configuration stays what it was (defaults filled in).
    let (_, stored) = api_get(&app, &format!("/v1/agents/{demo}")).await;
    let res = post_agent_form(&b, &path, &form_of(&stored)).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "{}", res.text().await.unwrap());
    let (_, config) = api_get(&app, &format!("/v1/agents/{demo}")).await;
    for key in ["name", "greeting", "transfer", "knowledge", "business", "closing"] {
        assert_eq!(config[key], stored[key], "{key}");
    }
    assert_eq!(config["data_to_collect"][2]["field"], "email");
    assert_eq!(config["data_to_collect"][2]["required"], false, "the default filled in");
    assert_eq!(config["call_types"][2]["name"], "general_inquiry");

    // Change the greeting and a field; add a field.
    let mut fields = config["data_to_collect"].clone();
    fields[2]["required"] = json!(true);
    fields
        .as_array_mut()
        .unwrap()
        .push(json!({"field": "budget", "question": "What's your budget?", "type": "money"}));
    let form = with(form_of(&config), "greeting", "Hello from the form, {{owner_name}}!");
    let form = with(form, "data_to_collect", &fields.to_string());
    let res = post_agent_form(&b, &path, &form).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "{}", res.text().await.unwrap());
    assert_eq!(Browser::location(&res), format!("{path}?notice=saved"));
    let (_, after) = api_get(&app, &format!("/v1/agents/{demo}")).await;
    assert_eq!(after["greeting"], "Hello from the form, {{owner_name}}!");
    assert_eq!(after["data_to_collect"][2]["required"], true);
    assert_eq!(after["data_to_collect"][3]["field"], "budget");
    assert_eq!(after["data_to_collect"][3]["type"], "money");
    // The rest is as it was.
    for kept in [
        "call_types",
        "transfer",
        "knowledge",
        "tools",
        "closing",
        "business",
        "brain",
    ] {
        assert_eq!(after[kept], config[kept], "{kept}");
    }
    let html = b.page(&format!("{path}?notice=saved")).await;
    assert!(html.contains("Saved."), "{html}");
    assert!(html.contains("Hello from the form"), "{html}");

    // Emptying the transfer removes it (no call type needs it once theirs is gone).
    let form = with(form_of(&after), "transfer", "");
    let res = post_agent_form(&b, &path, &form).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, after) = api_get(&app, &format!("/v1/agents/{demo}")).await;
    assert_eq!(after["transfer"], Value::Null);

    // Unknown keys are saved without, and named on the page.
    let mut fields = after["data_to_collect"].clone();
    fields[0]["colour"] = json!("blue");
    let form = with(form_of(&after), "data_to_collect", &fields.to_string());
    let res = post_agent_form(&b, &path, &form).await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = res.text().await.unwrap();
    assert!(html.contains("data_to_collect[0].colour"), "{html}");
}

#[tokio::test]
async fn dashboard_agents_form_shows_errors_next_to_their_section() {
    let app = spawn_app().await;
    let b = app.browser().await;
    let demo = demo_agent(&app).await;
    let path = format!("/agents/{demo}");
    let (_, config) = api_get(&app, &format!("/v1/agents/{demo}")).await;
    let base = form_of(&config);

    let mut empty_name = config["data_to_collect"].clone();
    empty_name[1]["field"] = json!("");
    let mut bad_type = config["data_to_collect"].clone();
    bad_type[0]["type"] = json!("colour");
    let cases: Vec<(&str, String, &str, &[&str])> = vec![
        (
            "data_to_collect",
            empty_name.to_string(),
            "data_to_collect",
            &["data_to_collect[1].field", "is required"],
        ),
        (
            "data_to_collect",
            bad_type.to_string(),
            "data_to_collect",
            &["data_to_collect[0].type", "colour", "not a field type"],
        ),
        (
            "call_types",
            "[{\"name\": \"sales\",\n  \"keywords\": [oops]}]".to_owned(),
            "call_types",
            &["not valid JSON", "line 2"],
        ),
        (
            "greeting",
            "Hi {{frist_name}}".to_owned(),
            "greeting",
            &["frist_name", "not a variable"],
        ),
        (
            "transfer",
            "{\"number\": \"555\"}".to_owned(),
            "transfer",
            &["transfer.number"],
        ),
        ("hours", "x\u{1}y".to_owned(), "hours", &["control characters"]),
        ("brain", "quantum".to_owned(), "brain", &["quantum", "not a brain"]),
    ];
    for (key, value, section, words) in cases {
        let res = post_agent_form(&b, &path, &with(base.clone(), key, &value)).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{key} = {value}");
        let html = res.text().await.unwrap();
        let shown = error_next_to(&html, section).unwrap_or_else(|| panic!("no error next to {section}: {html}"));
        for w in words {
            assert!(shown.contains(w), "{key}: {w} in {shown}");
        }
        assert!(html.contains("Nothing was saved"), "{html}");
        // The input is kept (as the page escapes it).
        if key != "hours" {
            let kept = escaped(&value);
            assert!(html.contains(&kept), "{key}: {kept} kept in {html}");
        }
    }
    // Nothing was saved.
    let (_, after) = api_get(&app, &format!("/v1/agents/{demo}")).await;
    assert_eq!(after["data_to_collect"], config["data_to_collect"]);
    assert_eq!(after["greeting"], config["greeting"]);
}

#[tokio::test]
async fn dashboard_agents_numbers_add_route_and_remove() {
    let app = spawn_app().await;
    let b = app.browser().await;
    let demo = demo_agent(&app).await;
    let res = b.post_form("/agents", &[("name", "Overflow"), ("config", "")]).await;
    let other = Browser::location(&res)
        .strip_prefix("/agents/")
        .and_then(|r| r.split('?').next())
        .unwrap()
        .to_owned();

    let res = b
        .post_form(
            "/agents/numbers",
            &[("number", "+1 555 010 0002"), ("provider", "sim"), ("agent_id", &demo)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(Browser::location(&res).starts_with("/agents?notice=number-added"));
    let (_, numbers) = api_get(&app, "/v1/numbers").await;
    let n = numbers["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["number"] == "+15550100002")
        .expect("added")
        .clone();
    assert_eq!(n["agent_id"], demo.as_str());
    assert_eq!(n["provider"], "sim");
    let nid = n["id"].as_str().unwrap().to_owned();
    let html = b.page("/agents?notice=number-added").await;
    assert!(
        html.contains("Number added.") && html.contains("+15550100002"),
        "{html}"
    );

    // The numbers API's validation, next to the field, the input kept.
    let res = b
        .post_form(
            "/agents/numbers",
            &[("number", "555"), ("provider", "sim"), ("agent_id", &demo)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(html.contains("id=\"add-number-error\""), "{html}");
    assert!(html.contains("value=\"555\""), "kept");
    let res = b
        .post_form(
            "/agents/numbers",
            &[("number", "+15550100003"), ("provider", "pots"), ("agent_id", &demo)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("id=\"add-provider-error\""));
    // Taken: the store's conflict, shown on the page.
    let res = b
        .post_form(
            "/agents/numbers",
            &[("number", "+15550100002"), ("provider", "sim"), ("agent_id", &demo)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(res.text().await.unwrap().contains("class=\"error\" role=\"alert\""));

    // Route it to the other agent.
    let res = b
        .post_form(&format!("/agents/numbers/{nid}"), &[("agent_id", &other)])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, n) = api_get(&app, &format!("/v1/numbers/{nid}")).await;
    assert_eq!(n["agent_id"], other.as_str());
    let html = b.page(&format!("/agents/{other}")).await;
    assert!(html.contains("+15550100002"), "the agent's page lists it");

    // Remove it.
    let res = b.post_form(&format!("/agents/numbers/{nid}/remove"), &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (s, _) = api_get(&app, &format!("/v1/numbers/{nid}")).await;
    assert_eq!(s, 404);
    let res = b.post_form(&format!("/agents/numbers/{nid}/remove"), &[]).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND, "already gone");
}

#[tokio::test]
async fn dashboard_agents_test_call_fills_fields_and_ends() {
    let app = spawn_app().await;
    let b = app.browser().await;
    let demo = demo_agent(&app).await;
    let html = b.page(&format!("/test-call?agent={demo}")).await;
    assert!(html.contains("/static/test-call.js"), "{html}");
    assert!(html.contains("<noscript>"), "says it needs script");
    assert!(
        html.contains("/v1/sim/calls") && html.contains("+15550100000"),
        "{html}"
    );
    assert!(html.contains("aria-live=\"polite\""), "{html}");
    let js = b.get("/static/test-call.js").await;
    assert_eq!(js.status(), StatusCode::OK);
    assert!(js.text().await.unwrap().contains("/test-call/start"));

    let res = b.post_json("/test-call/start", &json!({"agent_id": demo})).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let start: Value = res.json().await.unwrap();
    assert!(start["say"].as_str().unwrap().contains("Frontdesk Demo Co"), "{start}");
    assert_eq!(start["ended"], false);
    assert_eq!(
        start["fields"][0],
        json!({"field": "first_name", "required": true, "value": null})
    );
    let call = start["call_id"].as_str().unwrap().to_owned();

    let say = async |text: &str| -> Value {
        let res = b
            .post_json(&format!("/test-call/{call}/say"), &json!({"text": text}))
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        res.json().await.unwrap()
    };
    let r = say("Hi, I'd like to book an appointment").await;
    assert_eq!(r["awaiting_field"], "first_name", "{r}");
    assert_eq!(r["call_type"], "appointment", "{r}");
    let r = say("John Smith").await;
    assert_eq!(r["fields"][0]["value"], "John Smith", "{r}");
    assert_eq!(r["awaiting_field"], "phone", "{r}");
    assert_eq!(r["caller"]["name"], "John Smith");

    let res = b.post_json(&format!("/test-call/{call}/hangup"), &json!({})).await;
    assert_eq!(res.status(), StatusCode::OK);
    let end: Value = res.json().await.unwrap();
    assert_eq!(end["ended"], true);
    assert_eq!(end["call_url"], format!("/calls/{call}"));
    assert_eq!(end["status"], "completed");
    // The call is on record, as the API shows it.
    let (s, c) = api_get(&app, &format!("/v1/calls/{call}")).await;
    assert_eq!(s, 200);
    assert_eq!(c["custom_fields"]["first_name"], "John Smith");
    assert_eq!(c["to"], "+15550100000");
    assert_eq!(c["caller"]["phone"], "+15555550100");
    // Over: another line is refused with a JSON error.
    let res = b
        .post_json(&format!("/test-call/{call}/say"), &json!({"text": "hello?"}))
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let e: Value = res.json().await.unwrap();
    assert!(e["error"]["message"].is_string(), "{e}");

    // An agent without a number cannot be rung; a bad caller number is named.
    let res = b.post_form("/agents", &[("name", "Unlisted"), ("config", "")]).await;
    let lonely = Browser::location(&res)
        .strip_prefix("/agents/")
        .and_then(|r| r.split('?').next())
        .unwrap()
        .to_owned();
    let res = b.post_json("/test-call/start", &json!({"agent_id": lonely})).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let e: Value = res.json().await.unwrap();
    assert!(e["error"]["message"].as_str().unwrap().contains("no number"), "{e}");
    let res = b
        .post_json("/test-call/start", &json!({"agent_id": demo, "from": "12"}))
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let e: Value = res.json().await.unwrap();
    assert!(e["error"]["message"].as_str().unwrap().starts_with("from"), "{e}");
}

#[tokio::test]
async fn dashboard_agents_another_workspace_gets_404s() {
    let app = spawn_app().await;
    let b = app.browser().await;
    let demo = demo_agent(&app).await;
    let (_, numbers) = api_get(&app, "/v1/numbers").await;
    let nid = numbers["data"][0]["id"].as_str().unwrap().to_owned();
    let res = b.post_json("/test-call/start", &json!({"agent_id": demo})).await;
    let call = res.json::<Value>().await.unwrap()["call_id"]
        .as_str()
        .unwrap()
        .to_owned();

    let (ws, _) = app.other_workspace("rivals").await;
    let them = app.browser_of(&ws, "them@example.com").await;
    let list = them.page("/agents").await;
    assert!(!list.contains("Demo front desk"), "only their own agents");
    for path in [format!("/agents/{demo}"), format!("/test-call?agent={demo}")] {
        assert_eq!(them.get(&path).await.status(), StatusCode::NOT_FOUND, "{path}");
    }
    let res = post_agent_form(&them, &format!("/agents/{demo}"), &[("name".into(), "Mine".into())]).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = them.post_form(&format!("/agents/numbers/{nid}/remove"), &[]).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = them
        .post_form(&format!("/agents/numbers/{nid}"), &[("agent_id", &demo)])
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = them.post_json("/test-call/start", &json!({"agent_id": demo})).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    for step in ["say", "hangup"] {
        let res = them
            .post_json(&format!("/test-call/{call}/{step}"), &json!({"text": "hi"}))
            .await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{step}");
        let e: Value = res.json().await.unwrap();
        assert!(e["error"]["message"].is_string(), "{e}");
    }
    // Nothing of ours changed.
    let (s, n) = api_get(&app, &format!("/v1/numbers/{nid}")).await;
    assert_eq!((s, n["agent_id"].as_str()), (200, Some(demo.as_str())));
    let (_, c) = api_get(&app, &format!("/v1/calls/{call}")).await;
    assert_eq!(c["status"], "in_progress");
}

#[tokio::test]
async fn dashboard_agents_posts_without_the_csrf_token_are_403() {
    let app = spawn_app().await;
    let b = app.browser().await;
    let demo = demo_agent(&app).await;
    let res = b
        .client
        .post(b.url("/test-call/start"))
        .header(COOKIE, &b.cookie)
        .json(&json!({"agent_id": demo}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = b
        .client
        .post(b.url("/test-call/start"))
        .header(COOKIE, &b.cookie)
        .header("x-csrf-token", "forged")
        .json(&json!({"agent_id": demo}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    for path in ["/agents", "/agents/numbers", &format!("/agents/{demo}")] {
        let res = b
            .client
            .post(b.url(path))
            .header(COOKIE, &b.cookie)
            .form(&[("name", "x")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{path}");
    }
    let (_, calls) = api_get(&app, "/v1/calls").await;
    assert_eq!(calls["data"], json!([]), "no call was started");
}
