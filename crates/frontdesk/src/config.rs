//! Configuration: defaults, then `frontdesk.toml` (or `--config FILE`), then environment
//! variables `FRONTDESK_<SETTING>`. Every setting is validated at start; an error names
//! the setting, its environment variable, and what a good value looks like.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::Figment;
use figment::providers::{Format, Serialized, Toml};
use frontdesk_core::duration::{parse_duration, parse_duration_list};
use frontdesk_core::net::TargetPolicy;
use frontdesk_core::retry::RetryPolicy;
use frontdesk_server::settings::{ConnectionLimits, DeliverySettings, ModelSettings, TwilioSettings};
use frontdesk_server::{RateLimitSettings, ServerSettings};
use serde::{Deserialize, Serialize};

/// Upper bounds that keep time arithmetic far from overflow.
const MAX_RETRY_DELAY: Duration = Duration::from_secs(30 * 86_400);
const MAX_DELIVERY_TIMEOUT: Duration = Duration::from_secs(600);
const MAX_DISABLE_AFTER: Duration = Duration::from_secs(365 * 86_400);
const MAX_REQUEST_TIMEOUT: Duration = Duration::from_secs(600);
const MIN_RETENTION: Duration = Duration::from_secs(3600);
const MAX_RETENTION: Duration = Duration::from_secs(36_500 * 86_400);
const MIN_LLM_TIMEOUT: Duration = Duration::from_millis(100);
const MAX_LLM_TIMEOUT: Duration = Duration::from_secs(60);
const MAX_LLM_OVERALL_TIMEOUT: Duration = Duration::from_secs(300);

/// Settings whose values are numbers or booleans; every other setting is text, taken
/// as written (a numeric-looking API key stays a string).
const TYPED_SETTINGS: &[&str] = &[
    "allow_private_targets",
    "delivery_concurrency",
    "rate_limit_per_hour",
    "rate_limit_per_second",
    "max_body_bytes",
    "max_connections",
    "database_pool_size",
];

/// The default configuration file, read from the working directory when present.
pub const DEFAULT_FILE: &str = "frontdesk.toml";

/// Every setting, as read (see [`Config::validate`] for what is checked).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address the server listens on.
    pub listen: String,
    /// `sqlite://PATH` (embedded default) or, in a later release, `postgres://...`.
    pub database_url: String,
    /// The URL Twilio and browsers reach this server at (needed for Twilio signatures).
    pub public_url: Option<String>,
    /// Webhook retry delays after the first attempt.
    pub retry_schedule: String,
    /// Time a webhook target has to answer.
    pub delivery_timeout: String,
    /// Allow webhook and tool targets on private, loopback and link-local addresses.
    pub allow_private_targets: bool,
    /// Networks (comma-separated CIDRs) allowed as targets even though not public.
    pub allowed_target_cidrs: String,
    /// Webhook attempts in flight at once.
    pub delivery_concurrency: usize,
    /// A webhook failing without a success for longer than this is disabled.
    pub webhook_disable_after: String,
    /// The OpenAI-compatible endpoint, up to `/v1` (OpenAI, Ollama, vLLM, llama.cpp).
    pub llm_base_url: Option<String>,
    /// The model asked (`gpt-4o-mini`, `llama3.1:8b`, ...).
    pub llm_model: Option<String>,
    /// Sent as a bearer token to that endpoint only.
    pub llm_api_key: Option<String>,
    /// Time to the model's first token before the next endpoint is tried.
    pub llm_timeout: String,
    /// The longest one completion may take.
    pub llm_overall_timeout: String,
    /// Environment variables (comma-separated names) an agent's `llm.api_key_env` may
    /// name.
    pub llm_key_envs: String,
    pub twilio_auth_token: Option<String>,
    /// Twilio's REST API base URL (outbound calls).
    pub twilio_api_base_url: String,
    /// ConversationRelay: how long the caller may say nothing before it counts as
    /// silence.
    pub twilio_relay_silence: String,
    /// Key that encrypts stored provider credentials.
    pub master_key: Option<String>,
    /// Requests per hour per API key (0 = no limit).
    pub rate_limit_per_hour: u32,
    /// Requests per second per API key (0 = no limit).
    pub rate_limit_per_second: u32,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Time a client has to send a request's headers (and the longest a keep-alive
    /// connection stays idle).
    pub request_header_timeout: String,
    /// Time a client has to send a request's body.
    pub request_body_timeout: String,
    /// Open connections at most.
    pub max_connections: usize,
    /// PostgreSQL: connections per node for queries.
    pub database_pool_size: u32,
    /// PostgreSQL: longest a statement may run (`0` or `off`: no limit).
    pub database_statement_timeout: String,
    /// How long transcripts, event payloads and delivery logs are kept (`90d`); unset
    /// keeps them.
    pub retention: Option<String>,
    /// `text` or `json`.
    pub log_format: String,
    /// Log filter, `tracing` syntax (`info`, `debug`, `frontdesk_server=debug,info`).
    pub log: String,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            database_url: "sqlite://./frontdesk-data/frontdesk.db".into(),
            public_url: None,
            retry_schedule: "5m,15m,1h".into(),
            delivery_timeout: "5s".into(),
            allow_private_targets: false,
            allowed_target_cidrs: String::new(),
            delivery_concurrency: 256,
            webhook_disable_after: "5d".into(),
            llm_base_url: None,
            llm_model: None,
            llm_api_key: None,
            llm_timeout: "2s".into(),
            llm_overall_timeout: "15s".into(),
            llm_key_envs: String::new(),
            twilio_auth_token: None,
            twilio_api_base_url: frontdesk_server::settings::TWILIO_API_BASE_URL.into(),
            twilio_relay_silence: "10s".into(),
            master_key: None,
            rate_limit_per_hour: 1000,
            rate_limit_per_second: 50,
            max_body_bytes: frontdesk_server::settings::DEFAULT_MAX_BODY_BYTES,
            request_header_timeout: "10s".into(),
            request_body_timeout: "30s".into(),
            max_connections: 10_000,
            database_pool_size: 16,
            database_statement_timeout: "30s".into(),
            retention: None,
            log_format: "text".into(),
            log: "info".into(),
        }
    }
}

const SETTINGS: &[&str] = &[
    "listen",
    "database_url",
    "public_url",
    "retry_schedule",
    "delivery_timeout",
    "allow_private_targets",
    "allowed_target_cidrs",
    "delivery_concurrency",
    "webhook_disable_after",
    "llm_base_url",
    "llm_model",
    "llm_api_key",
    "llm_timeout",
    "llm_overall_timeout",
    "llm_key_envs",
    "twilio_auth_token",
    "twilio_api_base_url",
    "twilio_relay_silence",
    "master_key",
    "rate_limit_per_hour",
    "rate_limit_per_second",
    "max_body_bytes",
    "request_header_timeout",
    "request_body_timeout",
    "max_connections",
    "database_pool_size",
    "database_statement_timeout",
    "retention",
    "log_format",
    "log",
];

/// `FRONTDESK_*` variables that are not server settings (client and test tooling).
const OTHER_VARS: &[&str] = &["url", "api_key", "test_postgres_url", "test_database", "config"];

/// A setting that is missing, unreadable or invalid.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration file {0} does not exist; pass an existing file to --config")]
    MissingFile(PathBuf),
    #[error("configuration could not be read: {0}")]
    Read(String),
    #[error("invalid setting `{setting}` (env FRONTDESK_{env}): {message}")]
    Invalid {
        setting: &'static str,
        env: String,
        message: String,
    },
}

fn invalid(setting: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        setting,
        env: setting.to_ascii_uppercase(),
        message: message.into(),
    }
}

/// The loaded configuration and anything worth warning about.
#[derive(Debug)]
pub struct Loaded {
    pub config: Config,
    /// Notes for the log once logging is up (for example unknown `FRONTDESK_` variables).
    pub warnings: Vec<String>,
}

impl Config {
    /// Loads defaults, then the file (an explicit `--config` must exist; the default
    /// `frontdesk.toml` is optional), then the environment, and validates the result.
    pub fn load(file: Option<&Path>) -> Result<Loaded, ConfigError> {
        Self::load_from(file, std::env::vars())
    }

    /// As [`Config::load`], with the environment given (for tests).
    pub fn load_from(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Loaded, ConfigError> {
        let env: Vec<(String, String)> = env.into_iter().collect();
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        match file {
            Some(path) if !path.exists() => return Err(ConfigError::MissingFile(path.to_owned())),
            Some(path) => figment = figment.merge(Toml::file_exact(path)),
            None if Path::new(DEFAULT_FILE).exists() => figment = figment.merge(Toml::file_exact(DEFAULT_FILE)),
            None => {}
        }
        let mut warnings = Vec::new();
        let mut vars = Vec::new();
        for (k, v) in &env {
            let Some(name) = k.strip_prefix("FRONTDESK_") else {
                continue;
            };
            let name = name.to_ascii_lowercase();
            if SETTINGS.contains(&name.as_str()) {
                vars.push((name, v.clone()));
            } else if !OTHER_VARS.contains(&name.as_str()) {
                warnings.push(format!(
                    "ignoring unknown environment variable {k}; the settings are listed in the README"
                ));
            }
        }
        // Settings are read from the given environment only, never the process's own,
        // so tests can run side by side.
        for (name, value) in vars {
            figment = figment.merge(EnvSetting { name, value });
        }
        let config: Config = figment
            .extract()
            .map_err(|e| ConfigError::Read(describe_figment_error(&e)))?;
        config.validate()?;
        Ok(Loaded { config, warnings })
    }

    /// Checks every setting, naming the first bad one.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.listen_addr()?;
        let db = &self.database_url;
        if !(db.starts_with("sqlite:") || db.starts_with("postgres://") || db.starts_with("postgresql://")) {
            return Err(invalid(
                "database_url",
                "use sqlite://PATH (for example sqlite://./frontdesk-data/frontdesk.db) or postgres://USER@HOST/DB",
            ));
        }
        if let Some(url) = &self.public_url
            && !valid_http_url(url)
        {
            return Err(invalid(
                "public_url",
                format!("`{url}` is not an http(s) URL; write for example https://frontdesk.example.com"),
            ));
        }
        if let Some(url) = &self.llm_base_url
            && !valid_http_url(url)
        {
            return Err(invalid(
                "llm_base_url",
                format!("`{url}` is not an http(s) URL; write for example http://127.0.0.1:11434/v1"),
            ));
        }
        self.model_settings()?;
        if !valid_http_url(&self.twilio_api_base_url) {
            return Err(invalid(
                "twilio_api_base_url",
                format!(
                    "`{}` is not an http(s) URL; the default is https://api.twilio.com",
                    self.twilio_api_base_url
                ),
            ));
        }
        if let Some(k) = &self.master_key
            && k.chars().count() < frontdesk_core::secret::MIN_MASTER_KEY_CHARS
        {
            return Err(invalid(
                "master_key",
                "must be at least 32 characters; generate one with `openssl rand -base64 32`",
            ));
        }
        if self.twilio_auth_token.as_deref().is_some_and(|t| t.trim().is_empty()) {
            return Err(invalid(
                "twilio_auth_token",
                "is empty; leave it unset or give the account's auth token",
            ));
        }
        self.retry_schedule()?;
        self.delivery_timeout()?;
        self.allowed_cidrs()?;
        self.disable_after()?;
        if self.delivery_concurrency == 0 || self.delivery_concurrency > 10_000 {
            return Err(invalid("delivery_concurrency", "must be between 1 and 10000"));
        }
        if self.max_body_bytes < 1024 {
            return Err(invalid("max_body_bytes", "must be at least 1024 bytes"));
        }
        self.request_timeout("request_header_timeout", &self.request_header_timeout)?;
        self.request_timeout("twilio_relay_silence", &self.twilio_relay_silence)?;
        self.request_timeout("request_body_timeout", &self.request_body_timeout)?;
        if self.max_connections == 0 || self.max_connections > 1_000_000 {
            return Err(invalid("max_connections", "must be between 1 and 1000000"));
        }
        self.connect_options()?;
        self.retention()?;
        if !matches!(self.log_format.as_str(), "text" | "json") {
            return Err(invalid(
                "log_format",
                format!("`{}` is not a log format; use `text` or `json`", self.log_format),
            ));
        }
        if tracing_subscriber::EnvFilter::try_new(&self.log).is_err() {
            return Err(invalid(
                "log",
                format!(
                    "`{}` is not a log filter; write for example `info` or `frontdesk_server=debug,info`",
                    self.log
                ),
            ));
        }
        Ok(())
    }

    pub fn listen_addr(&self) -> Result<SocketAddr, ConfigError> {
        self.listen.parse().map_err(|_| {
            invalid(
                "listen",
                format!(
                    "`{}` is not an address; write IP:PORT, for example 127.0.0.1:8080",
                    self.listen
                ),
            )
        })
    }

    pub fn retry_schedule(&self) -> Result<Vec<Duration>, ConfigError> {
        let list = parse_duration_list(&self.retry_schedule).map_err(|e| invalid("retry_schedule", e.message))?;
        if list.len() > 50 || list.iter().any(|d| *d > MAX_RETRY_DELAY) {
            return Err(invalid("retry_schedule", "at most 50 delays, each at most 30d"));
        }
        Ok(list)
    }

    pub fn delivery_timeout(&self) -> Result<Duration, ConfigError> {
        let d = parse_duration(&self.delivery_timeout).map_err(|e| invalid("delivery_timeout", e.message))?;
        if d.is_zero() || d > MAX_DELIVERY_TIMEOUT {
            return Err(invalid(
                "delivery_timeout",
                "must be more than zero and at most 10m, for example 5s",
            ));
        }
        Ok(d)
    }

    pub fn allowed_cidrs(&self) -> Result<Vec<ipnet::IpNet>, ConfigError> {
        TargetPolicy::parse_cidrs(&self.allowed_target_cidrs).map_err(|e| invalid("allowed_target_cidrs", e.message))
    }

    pub fn disable_after(&self) -> Result<Duration, ConfigError> {
        let d = parse_duration(&self.webhook_disable_after).map_err(|e| invalid("webhook_disable_after", e.message))?;
        if d > MAX_DISABLE_AFTER {
            return Err(invalid("webhook_disable_after", "must be at most 365d"));
        }
        Ok(d)
    }

    fn request_timeout(&self, setting: &'static str, value: &str) -> Result<Duration, ConfigError> {
        let d = parse_duration(value).map_err(|e| invalid(setting, e.message))?;
        if d < Duration::from_secs(1) || d > MAX_REQUEST_TIMEOUT {
            return Err(invalid(setting, "must be from 1s to 10m, for example 10s"));
        }
        Ok(d)
    }

    /// How nodes connect to a shared database (PostgreSQL).
    pub fn connect_options(&self) -> Result<frontdesk_store::ConnectOptions, ConfigError> {
        if self.database_pool_size == 0 || self.database_pool_size > 1_000 {
            return Err(invalid("database_pool_size", "must be between 1 and 1000"));
        }
        let t = self.database_statement_timeout.trim();
        let statement_timeout = if t == "0" || t.eq_ignore_ascii_case("off") {
            None
        } else {
            let d = parse_duration(t).map_err(|e| invalid("database_statement_timeout", e.message))?;
            if d < Duration::from_secs(1) {
                return Err(invalid(
                    "database_statement_timeout",
                    "must be at least 1s (or `off`), for example 30s",
                ));
            }
            Some(d)
        };
        Ok(frontdesk_store::ConnectOptions {
            pool_size: self.database_pool_size,
            statement_timeout,
        })
    }

    /// How long call contents are kept; `None` keeps them.
    pub fn retention(&self) -> Result<Option<Duration>, ConfigError> {
        let Some(r) = self.retention.as_deref().map(str::trim).filter(|r| !r.is_empty()) else {
            return Ok(None);
        };
        let d = parse_duration(r).map_err(|e| invalid("retention", e.message))?;
        if d < MIN_RETENTION || d > MAX_RETENTION {
            return Err(invalid(
                "retention",
                "must be from 1h to 36500d, for example 90d; leave it unset to keep everything",
            ));
        }
        Ok(Some(d))
    }

    /// The language model endpoint. A base URL and a model go together; the timeouts
    /// are from 100ms (first token: up to 60s; a whole completion: up to 5m, and not
    /// shorter than the first token's).
    pub fn model_settings(&self) -> Result<ModelSettings, ConfigError> {
        let text = |v: &Option<String>| v.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
        let base_url = text(&self.llm_base_url);
        let model = text(&self.llm_model);
        match (&base_url, &model) {
            (Some(_), None) => {
                return Err(invalid(
                    "llm_model",
                    "is not set but llm_base_url is; name the model to ask, for example gpt-4o-mini or llama3.1:8b",
                ));
            }
            (None, Some(_)) => {
                return Err(invalid(
                    "llm_base_url",
                    "is not set but llm_model is; give the server's address up to /v1, for example http://127.0.0.1:11434/v1",
                ));
            }
            _ => {}
        }
        let first_token = parse_duration(&self.llm_timeout).map_err(|e| invalid("llm_timeout", e.message))?;
        if first_token < MIN_LLM_TIMEOUT || first_token > MAX_LLM_TIMEOUT {
            return Err(invalid("llm_timeout", "must be from 100ms to 60s, for example 2s"));
        }
        let overall =
            parse_duration(&self.llm_overall_timeout).map_err(|e| invalid("llm_overall_timeout", e.message))?;
        if overall < first_token || overall > MAX_LLM_OVERALL_TIMEOUT {
            return Err(invalid(
                "llm_overall_timeout",
                format!(
                    "must be from llm_timeout ({}) to 5m, for example 15s",
                    self.llm_timeout.trim()
                ),
            ));
        }
        Ok(ModelSettings {
            base_url,
            model,
            api_key: text(&self.llm_api_key),
            first_token_timeout: first_token,
            overall_timeout: overall,
            key_envs: self
                .llm_key_envs
                .split(',')
                .map(str::trim)
                .filter(|k| !k.is_empty())
                .map(str::to_owned)
                .collect(),
        })
    }

    /// The server's settings.
    pub fn server_settings(&self) -> Result<ServerSettings, ConfigError> {
        Ok(ServerSettings {
            listen: self.listen_addr()?,
            public_url: self.public_url.clone(),
            rate_limit: RateLimitSettings {
                per_hour: self.rate_limit_per_hour,
                per_second: self.rate_limit_per_second,
            },
            max_body_bytes: self.max_body_bytes,
            body_timeout: self.request_timeout("request_body_timeout", &self.request_body_timeout)?,
            connections: ConnectionLimits {
                header_timeout: self.request_timeout("request_header_timeout", &self.request_header_timeout)?,
                max_connections: self.max_connections,
            },
            retention: self.retention()?,
            delivery: DeliverySettings {
                retry: RetryPolicy {
                    schedule: self.retry_schedule()?,
                    ..RetryPolicy::default()
                },
                timeout: self.delivery_timeout()?,
                policy: TargetPolicy {
                    allow_private: self.allow_private_targets,
                    allowed: self.allowed_cidrs()?,
                },
                concurrency: self.delivery_concurrency,
                disable_after: self.disable_after()?,
                ..DeliverySettings::default()
            },
            twilio: TwilioSettings {
                auth_token: self.twilio_auth_token.clone(),
                api_base_url: self.twilio_api_base_url.clone(),
                relay_silence: self.request_timeout("twilio_relay_silence", &self.twilio_relay_silence)?,
                ..TwilioSettings::default()
            },
            models: self.model_settings()?,
            master_key: self.master_key.clone(),
        })
    }
}

/// One `FRONTDESK_*` variable, typed as figment's `Env` provider would type it (so
/// `FRONTDESK_RATE_LIMIT_PER_HOUR=10` is a number and `...=true` a boolean).
struct EnvSetting {
    name: String,
    value: String,
}

impl figment::Provider for EnvSetting {
    fn metadata(&self) -> figment::Metadata {
        figment::Metadata::named(format!(
            "environment variable FRONTDESK_{}",
            self.name.to_ascii_uppercase()
        ))
    }

    fn data(&self) -> Result<figment::value::Map<figment::Profile, figment::value::Dict>, figment::Error> {
        let value: figment::value::Value = if TYPED_SETTINGS.contains(&self.name.as_str()) {
            self.value.parse().unwrap_or_else(|_| self.value.clone().into())
        } else {
            self.value.clone().into()
        };
        let mut dict = figment::value::Dict::new();
        dict.insert(self.name.clone(), value);
        Ok(figment::Profile::Default.collect(dict))
    }
}

fn describe_figment_error(e: &figment::Error) -> String {
    let mut msg = e.to_string();
    if let Some(source) = &e.metadata {
        msg = format!("{msg} (from {})", source.name);
    }
    msg
}

fn valid_http_url(url: &str) -> bool {
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
    rest.is_some_and(|r| !r.is_empty() && !r.starts_with('/') && !r.contains(char::is_whitespace))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn defaults_are_the_documented_ones() {
        let c = Config::load_from(None, env(&[])).unwrap().config;
        assert_eq!(c.listen, "127.0.0.1:8080");
        assert_eq!(c.database_url, "sqlite://./frontdesk-data/frontdesk.db");
        assert_eq!(c.retry_schedule().unwrap().len(), 3);
        assert_eq!(c.delivery_timeout().unwrap(), Duration::from_secs(5));
        assert_eq!((c.rate_limit_per_hour, c.rate_limit_per_second), (1000, 50));
        assert_eq!(c.twilio_api_base_url, "https://api.twilio.com");
    }

    #[test]
    fn database_connection_settings() {
        let c = Config::load_from(
            None,
            env(&[
                ("FRONTDESK_DATABASE_POOL_SIZE", "40"),
                ("FRONTDESK_DATABASE_STATEMENT_TIMEOUT", "5s"),
            ]),
        )
        .expect("valid")
        .config;
        let o = c.connect_options().expect("valid");
        assert_eq!(o.pool_size, 40);
        assert_eq!(o.statement_timeout, Some(Duration::from_secs(5)));
        let off = Config::load_from(None, env(&[("FRONTDESK_DATABASE_STATEMENT_TIMEOUT", "off")]))
            .expect("valid")
            .config;
        assert_eq!(off.connect_options().expect("valid").statement_timeout, None);
        for (var, value, setting) in [
            ("FRONTDESK_DATABASE_POOL_SIZE", "0", "database_pool_size"),
            (
                "FRONTDESK_DATABASE_STATEMENT_TIMEOUT",
                "10ms",
                "database_statement_timeout",
            ),
        ] {
            let e = Config::load_from(None, env(&[(var, value)])).expect_err("refused");
            assert!(e.to_string().contains(setting), "{e}");
        }
    }

    #[test]
    fn twilio_settings_are_checked_and_passed_on() {
        let key = "k".repeat(32);
        let c = Config::load_from(
            None,
            env(&[
                ("FRONTDESK_TWILIO_AUTH_TOKEN", "tok123"),
                ("FRONTDESK_TWILIO_API_BASE_URL", "http://127.0.0.1:9999"),
                ("FRONTDESK_MASTER_KEY", &key),
                ("FRONTDESK_PUBLIC_URL", "https://fd.example.com"),
            ]),
        )
        .unwrap()
        .config;
        let s = c.server_settings().unwrap();
        assert_eq!(s.twilio.auth_token.as_deref(), Some("tok123"));
        assert_eq!(s.twilio.api_base_url, "http://127.0.0.1:9999");
        assert_eq!(s.master_key.as_deref(), Some(key.as_str()));
        let e = Config::load_from(None, env(&[("FRONTDESK_MASTER_KEY", "short")]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("FRONTDESK_MASTER_KEY") && e.contains("32"), "{e}");
        let e = Config::load_from(None, env(&[("FRONTDESK_TWILIO_API_BASE_URL", "api.twilio.com")]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("FRONTDESK_TWILIO_API_BASE_URL"), "{e}");
    }

    #[test]
    fn file_then_env_override_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("fd.toml");
        std::fs::write(&f, "listen = \"0.0.0.0:9000\"\nrate_limit_per_hour = 5\n").unwrap();
        let c = Config::load_from(
            Some(&f),
            env(&[
                ("FRONTDESK_RATE_LIMIT_PER_HOUR", "7"),
                ("FRONTDESK_ALLOW_PRIVATE_TARGETS", "true"),
            ]),
        )
        .unwrap()
        .config;
        assert_eq!(c.listen, "0.0.0.0:9000");
        assert_eq!(c.rate_limit_per_hour, 7);
        assert!(c.allow_private_targets);
    }

    #[test]
    fn bad_settings_are_named() {
        let e = Config::load_from(None, env(&[("FRONTDESK_LISTEN", "nowhere")]))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("`listen`") && e.contains("FRONTDESK_LISTEN") && e.contains("127.0.0.1:8080"),
            "{e}"
        );
        let e = Config::load_from(None, env(&[("FRONTDESK_RETRY_SCHEDULE", "5m,soon")]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("FRONTDESK_RETRY_SCHEDULE"), "{e}");
        let e = Config::load_from(None, env(&[("FRONTDESK_RATE_LIMIT_PER_HOUR", "lots")]))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("rate_limit_per_hour") && e.contains("FRONTDESK_RATE_LIMIT_PER_HOUR"),
            "{e}"
        );
        let e = Config::load_from(None, env(&[("FRONTDESK_DATABASE_URL", "mysql://x")]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("database_url"), "{e}");
        for (var, value) in [
            ("FRONTDESK_REQUEST_HEADER_TIMEOUT", "0s"),
            ("FRONTDESK_REQUEST_BODY_TIMEOUT", "forever"),
            ("FRONTDESK_MAX_CONNECTIONS", "0"),
            ("FRONTDESK_RETENTION", "5m"),
            ("FRONTDESK_RETENTION", "ninety days"),
        ] {
            let e = Config::load_from(None, env(&[(var, value)])).unwrap_err().to_string();
            assert!(e.contains(var), "{var}={value}: {e}");
        }
    }

    #[test]
    fn limits_and_retention_reach_the_server() {
        let c = Config::load_from(
            None,
            env(&[
                ("FRONTDESK_REQUEST_HEADER_TIMEOUT", "5s"),
                ("FRONTDESK_MAX_CONNECTIONS", "500"),
                ("FRONTDESK_RETENTION", "90d"),
            ]),
        )
        .unwrap()
        .config;
        let s = c.server_settings().unwrap();
        assert_eq!(s.connections.header_timeout, Duration::from_secs(5));
        assert_eq!(s.connections.max_connections, 500);
        assert_eq!(s.body_timeout, Duration::from_secs(30));
        assert_eq!(s.retention, Some(Duration::from_secs(90 * 86_400)));
        let keep = Config::load_from(None, env(&[])).unwrap().config;
        assert_eq!(keep.server_settings().unwrap().retention, None);
    }

    #[test]
    fn unknown_file_keys_are_errors_and_unknown_env_vars_warnings() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("fd.toml");
        std::fs::write(&f, "lisen = \"x\"\n").unwrap();
        let e = Config::load_from(Some(&f), env(&[])).unwrap_err().to_string();
        assert!(e.contains("lisen"), "{e}");
        let l = Config::load_from(None, env(&[("FRONTDESK_LISTN", "x"), ("FRONTDESK_API_KEY", "k")])).unwrap();
        assert_eq!(l.warnings.len(), 1);
        assert!(l.warnings[0].contains("FRONTDESK_LISTN"));
    }

    #[test]
    fn numeric_looking_secrets_stay_text_and_huge_durations_are_refused() {
        let c = Config::load_from(
            None,
            env(&[
                ("FRONTDESK_LLM_API_KEY", "1234"),
                ("FRONTDESK_MASTER_KEY", "12345678901234567890123456789012345"),
            ]),
        )
        .unwrap()
        .config;
        assert_eq!(c.llm_api_key.as_deref(), Some("1234"));
        assert_eq!(c.master_key.as_deref(), Some("12345678901234567890123456789012345"));
        for (k, v) in [
            ("FRONTDESK_DELIVERY_TIMEOUT", "200000000000000d"),
            ("FRONTDESK_RETRY_SCHEDULE", "1s,100000000d"),
            ("FRONTDESK_WEBHOOK_DISABLE_AFTER", "9999d"),
        ] {
            let e = Config::load_from(None, env(&[(k, v)])).unwrap_err().to_string();
            assert!(e.contains(k), "{e}");
        }
    }

    #[test]
    fn model_settings_are_checked_and_passed_on() {
        let s = Config::load_from(None, env(&[]))
            .unwrap()
            .config
            .server_settings()
            .unwrap();
        assert_eq!((s.models.base_url.as_deref(), s.models.model.as_deref()), (None, None));
        assert_eq!(s.models.first_token_timeout, Duration::from_secs(2));
        assert_eq!(s.models.overall_timeout, Duration::from_secs(15));
        let c = Config::load_from(
            None,
            env(&[
                ("FRONTDESK_LLM_BASE_URL", "http://127.0.0.1:11434/v1"),
                ("FRONTDESK_LLM_MODEL", "llama3.1:8b"),
                ("FRONTDESK_LLM_API_KEY", "sk-1"),
                ("FRONTDESK_LLM_TIMEOUT", "1500ms"),
                ("FRONTDESK_LLM_OVERALL_TIMEOUT", "20s"),
            ]),
        )
        .unwrap()
        .config;
        let m = c.server_settings().unwrap().models;
        assert_eq!(m.base_url.as_deref(), Some("http://127.0.0.1:11434/v1"));
        assert_eq!(m.model.as_deref(), Some("llama3.1:8b"));
        assert_eq!(m.api_key.as_deref(), Some("sk-1"));
        assert_eq!(m.first_token_timeout, Duration::from_millis(1500));
        assert_eq!(m.overall_timeout, Duration::from_secs(20));
        assert!(!format!("{m:?}").contains("sk-1"));
        for (vars, named) in [
            (
                vec![("FRONTDESK_LLM_BASE_URL", "http://127.0.0.1:11434/v1")],
                "FRONTDESK_LLM_MODEL",
            ),
            (vec![("FRONTDESK_LLM_MODEL", "gpt-4o-mini")], "FRONTDESK_LLM_BASE_URL"),
            (
                vec![("FRONTDESK_LLM_BASE_URL", "localhost:11434")],
                "FRONTDESK_LLM_BASE_URL",
            ),
            (vec![("FRONTDESK_LLM_TIMEOUT", "soon")], "FRONTDESK_LLM_TIMEOUT"),
            (vec![("FRONTDESK_LLM_TIMEOUT", "10ms")], "FRONTDESK_LLM_TIMEOUT"),
            (
                vec![("FRONTDESK_LLM_OVERALL_TIMEOUT", "1h")],
                "FRONTDESK_LLM_OVERALL_TIMEOUT",
            ),
            (
                vec![("FRONTDESK_LLM_TIMEOUT", "5s"), ("FRONTDESK_LLM_OVERALL_TIMEOUT", "3s")],
                "FRONTDESK_LLM_OVERALL_TIMEOUT",
            ),
        ] {
            let e = Config::load_from(None, env(&vars)).unwrap_err().to_string();
            assert!(e.contains(named) && !e.contains('\n'), "{vars:?}: {e}");
        }
    }

    #[test]
    fn missing_explicit_file_is_an_error() {
        let e = Config::load_from(Some(Path::new("/nonexistent/fd.toml")), env(&[])).unwrap_err();
        assert!(matches!(e, ConfigError::MissingFile(_)));
    }
}
