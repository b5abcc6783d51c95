-- An agent's knowledge documents (SPEC section 8), with their chunks as JSON; they go
-- with their agent.
CREATE TABLE documents (
    id TEXT PRIMARY KEY NOT NULL,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    agent_id TEXT NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    format TEXT NOT NULL,
    content TEXT NOT NULL,
    chunks TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX documents_agent ON documents (agent_id, id);
