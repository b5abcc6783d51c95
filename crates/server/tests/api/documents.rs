//! `/v1/agents/{id}/documents` (an agent's knowledge documents) and `/v1/agents/{id}/prompt`.

use serde_json::{Value, json};

use crate::helpers::{error_of, post_json, spawn_app};

#[tokio::test]
async fn documents_are_chunked_listed_and_deleted_per_agent() {
    let app = spawn_app().await;
    let (s, agent) = post_json(&app, "/v1/agents", json!({"name": "Front"})).await;
    assert_eq!(s, 201, "{agent}");
    let id = agent["id"].as_str().unwrap();
    let path = format!("/v1/agents/{id}/documents");

    let md =
        "# Prices\nThe call-out fee is $80.\n\n## Nights\nDouble after 8 pm.\n\n# Area\nSpringfield and Shelbyville.";
    let (s, doc) = post_json(&app, &path, json!({"title": "FAQ", "content": md})).await;
    assert_eq!(s, 201, "{doc}");
    assert_eq!(doc["format"], "markdown");
    assert_eq!(doc["chunk_count"], 3);
    assert_eq!(
        doc["chunks"][1],
        json!({"heading": "Prices > Nights", "text": "Double after 8 pm."})
    );
    let doc_id = doc["id"].as_str().unwrap().to_owned();
    assert!(doc_id.starts_with("doc_"));

    let (s, _) = post_json(
        &app,
        &path,
        json!({"title": "Parking", "content": "Behind the shop.", "format": "text"}),
    )
    .await;
    assert_eq!(s, 201);
    let list: Value = app.get(&path).send().await.unwrap().json().await.unwrap();
    let titles: Vec<&str> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["FAQ", "Parking"]);
    assert!(list["data"][0].get("content").is_none(), "lists leave the content out");

    let one: Value = app
        .get(&format!("{path}/{doc_id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(one["content"], md);

    // Bad input names the field; unknown agents and documents are 404.
    let res = app
        .post(&path)
        .json(&json!({"title": "", "content": "x"}))
        .send()
        .await
        .unwrap();
    let (status, _, message) = error_of(res).await;
    assert_eq!(status, 422);
    assert!(message.contains("title"), "{message}");
    let res = app
        .post(&path)
        .json(&json!({"title": "t", "content": "x", "format": "pdf"}))
        .send()
        .await
        .unwrap();
    assert!(error_of(res).await.2.contains("markdown"));
    let res = app
        .post("/v1/agents/agt_01JD3Q2W8M6Y7Z0ABCDEF12345/documents")
        .json(&json!({"title": "t", "content": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(res).await.0, 404);
    let res = app
        .get("/v1/agents/agt_01JD3Q2W8M6Y7Z0ABCDEF12345/documents")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);

    // Another workspace cannot read or delete it.
    let (_, other_key) = app.other_workspace("other").await;
    let res = app
        .client
        .get(app.url(&format!("{path}/{doc_id}")))
        .bearer_auth(&other_key)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let res = app
        .client
        .delete(app.url(&format!("{path}/{doc_id}")))
        .bearer_auth(&other_key)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);

    let res = app.delete(&format!("{path}/{doc_id}")).send().await.unwrap();
    assert_eq!(res.status(), 204);
    let res = app.get(&format!("{path}/{doc_id}")).send().await.unwrap();
    assert_eq!(res.status(), 404);
}

#[tokio::test]
async fn the_prompt_shows_what_a_model_gets() {
    let app = spawn_app().await;
    let config = crate::helpers::agent_file("contractor");
    let (s, agent) = post_json(&app, "/v1/agents", config).await;
    assert_eq!(s, 201, "{agent}");
    let id = agent["id"].as_str().unwrap();
    let res = app.get(&format!("/v1/agents/{id}/prompt")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let p: Value = res.json().await.unwrap();
    let system = p["system"].as_str().unwrap();
    assert!(system.contains("receptionist of"), "{system}");
    assert!(system.contains("Are you licensed and insured?"), "{system}");
    let names: Vec<&str> = p["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["function"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names[..6],
        [
            "set_field",
            "set_call_type",
            "transfer_call",
            "take_message",
            "search_knowledge",
            "end_call"
        ]
    );
    assert_eq!(p["tools"][0]["type"], "function");
    let res = app
        .get("/v1/agents/agt_01JD3Q2W8M6Y7Z0ABCDEF12345/prompt")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
}

/// Starts a sim call to `number`, asks `question`, hangs up; returns what was said.
async fn ask(app: &crate::helpers::TestApp, number: &str, question: &str) -> String {
    let (s, start) = post_json(app, "/v1/sim/calls", json!({"from": "+15551230002", "to": number})).await;
    assert_eq!(s, 201, "{start}");
    let call = start["call_id"].as_str().unwrap().to_owned();
    let (s, r) = post_json(app, &format!("/v1/sim/calls/{call}/turns"), json!({"text": question})).await;
    assert_eq!(s, 200, "{r}");
    let (s, _) = post_json(app, &format!("/v1/sim/calls/{call}/hangup"), json!({})).await;
    assert_eq!(s, 200);
    r["say"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn the_receptionist_answers_from_documents_until_they_are_deleted() {
    let app = spawn_app().await;
    let (s, agent) = post_json(&app, "/v1/agents", crate::helpers::agent_file("dental")).await;
    assert_eq!(s, 201, "{agent}");
    let id = agent["id"].as_str().unwrap();
    let number = "+15554440000";
    let (s, n) = post_json(
        &app,
        "/v1/numbers",
        json!({"number": number, "agent_id": id, "provider": "sim"}),
    )
    .await;
    assert_eq!(s, 201, "{n}");
    let question = "Can I pay with a credit card?";
    // Nothing in the agent's entries answers it.
    let before = ask(&app, number, question).await;
    assert!(!before.contains("Mastercard"), "{before}");

    let md = "# New patients\nYour first visit takes about ninety minutes.\n\n\
              # Payment\nPayment is due at the visit. We take Visa, Mastercard and cash. \
              Our parking lot is shared with the bank.";
    let (s, doc) = post_json(
        &app,
        &format!("/v1/agents/{id}/documents"),
        json!({"title": "Patient guide", "content": md}),
    )
    .await;
    assert_eq!(s, 201, "{doc}");
    let said = ask(&app, number, question).await;
    assert!(said.contains("We take Visa, Mastercard and cash."), "{said}");
    assert!(!said.contains("ninety minutes"), "only the chunk that answers: {said}");
    assert!(!said.contains("parking lot"), "only the sentences that answer: {said}");

    let doc_id = doc["id"].as_str().unwrap();
    let res = app
        .delete(&format!("/v1/agents/{id}/documents/{doc_id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let after = ask(&app, number, question).await;
    assert!(!after.contains("Mastercard"), "{after}");
}
