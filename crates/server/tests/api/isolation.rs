//! Nothing crosses workspaces: another workspace's id is a 404.

use crate::helpers::{error_of, spawn_app};

#[tokio::test]
async fn a_key_sees_only_its_own_workspace() {
    let app = spawn_app().await;
    let (mine_id, _) = app.create_key("mine").await;
    let (_, other_key) = app.other_workspace("other").await;

    let list: serde_json::Value = app
        .client
        .get(app.url("/v1/api-keys"))
        .bearer_auth(&other_key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let names: Vec<_> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, vec!["other"]);

    let res = app
        .client
        .get(app.url(&format!("/v1/api-keys/{mine_id}")))
        .bearer_auth(&other_key)
        .send()
        .await
        .unwrap();
    let (status, code, _) = error_of(res).await;
    assert_eq!((status, code.as_str()), (404, "not_found"));

    let res = app
        .client
        .delete(app.url(&format!("/v1/api-keys/{mine_id}")))
        .bearer_auth(&other_key)
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(res).await.0, 404);

    // Still alive in its own workspace.
    let k: serde_json::Value = app
        .get(&format!("/v1/api-keys/{mine_id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(k["revoked_at"].is_null());
}
