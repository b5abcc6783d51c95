//! Knowledge documents: stored whole with their chunks, per agent and workspace, and
//! gone with their agent.

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
    let d1 = s.create_document(&a, &front.id, &faq).await.expect("create");
    let notes = NewDocument::parse("Notes", "Parking is behind the shop.", Some("text")).expect("doc");
    let d2 = s.create_document(&a, &front.id, &notes).await.expect("create");
    s.create_document(&a, &back.id, &notes).await.expect("another agent's");

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

    // Delete one; deleting the agent takes the rest.
    assert!(s.delete_document(&a, &d1.id).await.expect("delete"));
    assert!(!s.delete_document(&a, &d1.id).await.expect("again"));
    assert_eq!(s.list_documents(&a, &front.id).await.expect("list"), vec![d2.clone()]);
    assert!(s.delete_agent(&a, &front.id).await.expect("delete agent"));
    assert_eq!(s.get_document(&a, &d2.id).await.expect("get"), None);
    assert_eq!(s.list_documents(&a, &back.id).await.expect("list").len(), 1);
}
