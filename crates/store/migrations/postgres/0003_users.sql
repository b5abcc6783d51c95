-- Dashboard users (sign-in names unique across workspaces), their wrong passwords
-- (the lock-out rule counts them), and their sessions (found by the token's digest).
-- Additive: nodes of the previous level ignore these tables.
CREATE TABLE IF NOT EXISTS users (
    id TEXT COLLATE "C" PRIMARY KEY,
    workspace_id TEXT COLLATE "C" NOT NULL REFERENCES workspaces (id),
    login TEXT COLLATE "C" NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS users_workspace ON users (workspace_id, id);

CREATE TABLE IF NOT EXISTS sign_in_failures (
    user_id TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    at BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS sign_in_failures_user ON sign_in_failures (user_id, at);

CREATE TABLE IF NOT EXISTS sessions (
    digest TEXT COLLATE "C" PRIMARY KEY,
    user_id TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_user ON sessions (user_id);
CREATE INDEX IF NOT EXISTS sessions_seen ON sessions (last_seen_at);
