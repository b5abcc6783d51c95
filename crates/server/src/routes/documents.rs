//! `/v1/agents/{id}/documents`: an agent's knowledge documents (SPEC section 8), text or
//! Markdown, cut into chunks on the way in (`frontdesk_core::knowledge`). Add, list,
//! get (with the chunks), delete.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use frontdesk_core::id::{AgentId, DocumentId};
use frontdesk_core::knowledge::{Chunk, Document, NewDocument};
use frontdesk_store::Store;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{found, path_id};
use crate::ApiError;
use crate::auth::Caller;
use crate::error::ErrorBody;
use crate::extract::ApiJson;
use crate::state::{AppState, StoreState};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_documents, create_document))
        .routes(routes!(get_document, delete_document))
}

/// A document without its content (lists).
#[derive(Debug, Serialize, ToSchema)]
pub struct DocumentSummary {
    #[schema(example = "doc_01JD3Q2W8M6Y7Z0ABCDEF12345")]
    pub id: String,
    pub agent_id: String,
    pub title: String,
    /// `text` or `markdown`.
    #[schema(example = "markdown")]
    pub format: String,
    /// The content's size in bytes.
    pub bytes: usize,
    /// How many chunks retrieval works on.
    pub chunk_count: usize,
    pub created_at: DateTime<Utc>,
}

/// A chunk of a document.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChunkView {
    /// The headings above it (`Prices > Emergencies`), if any.
    pub heading: Option<String>,
    pub text: String,
}

/// A document with its content and chunks.
#[derive(Debug, Serialize, ToSchema)]
pub struct DocumentView {
    #[serde(flatten)]
    pub summary: DocumentSummary,
    pub content: String,
    pub chunks: Vec<ChunkView>,
}

impl From<&Document> for DocumentSummary {
    fn from(d: &Document) -> Self {
        Self {
            id: d.id.to_string(),
            agent_id: d.agent_id.to_string(),
            title: d.title.clone(),
            format: d.format.as_str().to_owned(),
            bytes: d.content.len(),
            chunk_count: d.chunks.len(),
            created_at: d.created_at,
        }
    }
}

impl From<Document> for DocumentView {
    fn from(d: Document) -> Self {
        Self {
            summary: (&d).into(),
            chunks: d
                .chunks
                .into_iter()
                .map(|Chunk { heading, text }| ChunkView { heading, text })
                .collect(),
            content: d.content,
        }
    }
}

/// The documents of an agent.
#[derive(Debug, Serialize, ToSchema)]
pub struct DocumentList {
    pub data: Vec<DocumentSummary>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateDocument {
    pub title: String,
    /// The text, plain or Markdown (at most 512 KiB).
    pub content: String,
    /// `text` or `markdown`; by default Markdown when the content has `#` headings.
    pub format: Option<String>,
}

fn agent_id(id: &str) -> Result<AgentId, ApiError> {
    path_id(id, AgentId::parse, "agent")
}

/// The document `doc` of agent `agent` in the caller's workspace, or the 404.
async fn load(store: &dyn Store, caller: &Caller, agent: &str, doc: &str) -> Result<Document, ApiError> {
    let aid = agent_id(agent)?;
    let did = path_id(doc, DocumentId::parse, "document")?;
    found(
        store
            .get_document(&caller.workspace_id, &did)
            .await?
            .filter(|d| d.agent_id == aid),
        "document",
        doc,
    )
}

/// List an agent's documents, oldest first.
#[utoipa::path(get, path = "/v1/agents/{id}/documents", tag = "agents", params(("id" = String, Path)),
    responses((status = 200, body = DocumentList), (status = 404, body = ErrorBody)))]
async fn list_documents(
    State(store): StoreState,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<DocumentList>, ApiError> {
    let aid = agent_id(&id)?;
    found(store.get_agent(&caller.workspace_id, &aid).await?, "agent", &id)?;
    let docs = store.list_documents(&caller.workspace_id, &aid).await?;
    Ok(Json(DocumentList {
        data: docs.iter().map(Into::into).collect(),
    }))
}

/// Add a document to an agent's knowledge: text or Markdown, cut into chunks (a
/// Markdown heading starts a chunk; paragraphs are packed up to about 800 characters).
#[utoipa::path(post, path = "/v1/agents/{id}/documents", tag = "agents", params(("id" = String, Path)), request_body = CreateDocument,
    responses((status = 201, body = DocumentView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_document(
    State(store): StoreState,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<CreateDocument>,
) -> Result<(StatusCode, Json<DocumentView>), ApiError> {
    let aid = agent_id(&id)?;
    let doc =
        NewDocument::parse(&body.title, &body.content, body.format.as_deref()).map_err(|e| ApiError::invalid(&e))?;
    let stored = store.create_document(&caller.workspace_id, &aid, &doc).await?;
    Ok((StatusCode::CREATED, Json(stored.into())))
}

/// Get a document with its content and chunks.
#[utoipa::path(get, path = "/v1/agents/{id}/documents/{document_id}", tag = "agents",
    params(("id" = String, Path), ("document_id" = String, Path)),
    responses((status = 200, body = DocumentView), (status = 404, body = ErrorBody)))]
async fn get_document(
    State(store): StoreState,
    caller: Caller,
    Path((id, doc)): Path<(String, String)>,
) -> Result<Json<DocumentView>, ApiError> {
    Ok(Json(load(&*store, &caller, &id, &doc).await?.into()))
}

/// Delete a document.
#[utoipa::path(delete, path = "/v1/agents/{id}/documents/{document_id}", tag = "agents",
    params(("id" = String, Path), ("document_id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
async fn delete_document(
    State(store): StoreState,
    caller: Caller,
    Path((id, doc)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let d = load(&*store, &caller, &id, &doc).await?;
    store.delete_document(&caller.workspace_id, &d.id).await?;
    Ok(StatusCode::NO_CONTENT)
}
