//! Knowledge documents: stored whole with their chunks, per agent and workspace, and
//! gone with their agent; adding or deleting one moves the agent's `updated_at`.

use frontdesk_core::knowledge::NewDocument;

use super::{agent, workspace};
use crate::{Store, StoreError};

pub async fn documents_belong_to_their_agent_and_go_with_it(s: &dyn Store) {
    let (a, b) = (workspace(s, "acme").await, workspace(s, "other").await);
    let (front, back) = (agent(s, &a, "front").await, agent(s, &a, "back").await);
    let theirs = agent(s, &b, "front").await;
    let faq = NewDocument::parse(
        "FAQ",
        "# Prices\nCall-out fee is $80.\n\n# Area\nSpringfield only.",
        None,
    )
    .expect("doc");
    let changed = async |agent| s.agent_updated_at(&a, agent).await.expect("updated_at").expect("agent");
    let (front_at, back_at) = (changed(&front.id).await, changed(&back.id).await);
    let d1 = s.create_document(&a, &front.id, &faq).await.expect("create");
    // Created in the agent's own millisecond or not, the agent has changed.
    let after_create = changed(&front.id).await;
    assert!(after_create > front_at, "{after_create} > {front_at}");
    let notes = NewDocument::parse("Notes", "Parking is behind the shop.", Some("text")).expect("doc");
    let d2 = s.create_document(&a, &front.id, &notes).await.expect("create");
    s.create_document(&a, &back.id, &notes).await.expect("another agent's");
    assert!(changed(&back.id).await > back_at);

    // Read back whole, oldest first, chunks included.
    let listed = s.list_documents(&a, &front.id).await.expect("list");
    assert_eq!(listed, vec![d1.clone(), d2.clone()]);
    assert_eq!(listed[0].chunks.len(), 2);
    assert_eq!(listed[0].chunks[1].heading.as_deref(), Some("Area"));
    assert_eq!(s.get_document(&a, &d1.id).await.expect("get"), Some(d1.clone()));

    // Another workspace neither sees nor adds to them.
    assert_eq!(s.get_document(&b, &d1.id).await.expect("get"), None);
    assert!(s.list_documents(&b, &front.id).await.expect("list").is_empty());
    assert!(matches!(
        s.create_document(&b, &front.id, &notes).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(!s.delete_document(&b, &d1.id).await.expect("delete"));
    s.create_document(&b, &theirs.id, &notes).await.expect("their own");

    // Delete one (the agent changes again, the other agent does not); deleting the
    // agent takes the rest.
    let (front_at, back_at) = (changed(&front.id).await, changed(&back.id).await);
    assert!(s.delete_document(&a, &d1.id).await.expect("delete"));
    assert!(changed(&front.id).await > front_at);
    assert_eq!(changed(&back.id).await, back_at);
    let front_at = changed(&front.id).await;
    assert!(!s.delete_document(&a, &d1.id).await.expect("again"));
    assert_eq!(changed(&front.id).await, front_at, "nothing deleted, nothing changed");
    assert_eq!(s.list_documents(&a, &front.id).await.expect("list"), vec![d2.clone()]);
    assert!(s.delete_agent(&a, &front.id).await.expect("delete agent"));
    assert_eq!(s.get_document(&a, &d2.id).await.expect("get"), None);
    assert_eq!(s.list_documents(&a, &back.id).await.expect("list").len(), 1);
}
