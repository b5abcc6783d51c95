-- Dashboard users (sign-in names unique across workspaces), their wrong passwords
-- (the lock-out rule counts them), and their sessions (found by the token's digest).
CREATE TABLE users (
    id TEXT PRIMARY KEY NOT NULL,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    login TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX users_workspace ON users (workspace_id, id);

CREATE TABLE sign_in_failures (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    at INTEGER NOT NULL
);
CREATE INDEX sign_in_failures_user ON sign_in_failures (user_id, at);

CREATE TABLE sessions (
    digest TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_seen ON sessions (last_seen_at);
