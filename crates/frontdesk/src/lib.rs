//! The `frontdesk` binary's library: the clap CLI ([`cli`]), configuration layered from
//! defaults, `frontdesk.toml` and `FRONTDESK_*` variables ([`config`]), logging
//! ([`telemetry`]) and one module per command ([`commands`]). It wires the other crates
//! together and holds no business rules of its own.

pub mod cli;
pub mod commands;
pub mod config;
pub mod telemetry;
