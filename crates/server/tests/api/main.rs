//! Integration tests: the real server on port 0 against a fresh SQLite database,
//! driven over HTTP. One test binary (modules below) keeps link time down.

#![allow(clippy::unwrap_used, reason = "test helpers fail loudly by design")]

mod abuse;
mod auth;
mod browser;
mod dashboard;
mod dashboard_agents;
mod dashboard_calls;
mod dashboard_deliveries;
mod dashboard_overview;
mod dashboard_webhooks;
mod delivery;
mod documents;
mod errors;
mod helpers;
mod idempotency;
mod isolation;
mod llm;
mod meta;
mod nodes;
mod openapi;
mod rate_limit;
mod receiver;
mod receptionist;
mod twilio;
mod twilio_relay;
mod twilio_support;
mod webhooks;
