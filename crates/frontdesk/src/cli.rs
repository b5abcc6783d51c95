//! The command line (clap). Every command has `--help`; `--json` makes output
//! machine-readable. Errors are printed as one line on stderr; the exit status is 2 for
//! a configuration or usage error, 1 for any other failure.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::commands;
use crate::config::{Config, ConfigError};
use crate::telemetry::{self, LogFormat};

#[derive(Debug, Parser)]
#[command(
    name = "frontdesk",
    version,
    about = "Frontdesk: a self-hosted AI phone receptionist",
    propagate_version = true
)]
pub struct Cli {
    /// Configuration file (default: ./frontdesk.toml when it exists).
    #[arg(long, global = true, value_name = "FILE", env = "FRONTDESK_CONFIG")]
    pub config: Option<PathBuf>,
    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    /// Log format (overrides the `log_format` setting).
    #[arg(long, global = true, value_enum, value_name = "FORMAT")]
    pub log_format: Option<LogFormat>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server: REST API, telephony endpoints and workers, in one process.
    Serve(ServeArgs),
    /// Apply database migrations, then exit.
    Migrate,
    /// Manage workspaces.
    #[command(subcommand)]
    Workspaces(WorkspacesCommand),
    /// Manage dashboard users.
    #[command(subcommand)]
    Users(UsersCommand),
    /// Manage API keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Run a local webhook receiver that verifies signatures and prints each event.
    Listen(ListenArgs),
    /// Try the receptionist in the terminal: a phone call without a phone line.
    ///
    /// By default the call goes to a running server through its simulator API (`POST
    /// /v1/sim/calls`): the number called (--to) picks the workspace's agent, and the call
    /// is a real one there (events, webhooks, tools, the call record). With --agent FILE no
    /// server is needed: the agent configuration is validated and the conversation engine
    /// runs in this process; tools are not called offline and no events are sent.
    ///
    /// Caller lines come from the keyboard (a `you> ` prompt), from --script FILE or from
    /// piped stdin, one per line; blank lines and lines starting with # are skipped. The
    /// call ends when the receptionist ends it or the input does (Ctrl-D or Ctrl-C hang
    /// up). Then comes a report: call type, collected fields, message, transfer, summary;
    /// with --json the whole call as JSON on stdout, and the conversation on stderr.
    Call(CallArgs),
}

#[derive(Debug, Args)]
pub struct CallArgs {
    /// The Frontdesk server to call through (ignored with --agent).
    #[arg(
        long,
        visible_alias = "server",
        env = "FRONTDESK_URL",
        default_value = "http://127.0.0.1:8080",
        value_name = "URL"
    )]
    pub url: String,
    /// An API key of the workspace that owns the number (ignored with --agent).
    #[arg(long, env = "FRONTDESK_API_KEY", hide_env_values = true, value_name = "KEY")]
    pub key: Option<String>,
    /// The number called: one of the workspace's numbers (the default is a new server's demo number).
    #[arg(long, default_value = "+15550100000", value_name = "NUMBER")]
    pub to: String,
    /// The caller's number.
    #[arg(long, default_value = "+15551234567", value_name = "NUMBER")]
    pub from: String,
    /// Read the caller's lines from FILE, one per line, instead of stdin.
    #[arg(long, value_name = "FILE")]
    pub script: Option<PathBuf>,
    /// Offline: run this agent configuration (JSON, as `POST /v1/agents` takes) in
    /// process, without a server. Tools are not called offline.
    #[arg(long, value_name = "FILE")]
    pub agent: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ListenArgs {
    /// Port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 9000)]
    pub port: u16,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// The webhook's signing secret, `whsec_...`.
    #[arg(long, env = "FRONTDESK_WEBHOOK_SECRET")]
    pub secret: String,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (overrides the `listen` setting), for example 0.0.0.0:8080.
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
    /// The language model's OpenAI-compatible endpoint, up to `/v1` (overrides the
    /// `llm_base_url` setting), for example https://api.openai.com/v1 or
    /// http://127.0.0.1:11434/v1 (Ollama). The key comes from FRONTDESK_LLM_API_KEY.
    #[arg(long, value_name = "URL")]
    pub llm_base_url: Option<String>,
    /// The model to ask (overrides `llm_model`), for example gpt-4o-mini or llama3.1:8b.
    #[arg(long, value_name = "NAME")]
    pub llm_model: Option<String>,
    /// Time to the model's first token before the next endpoint, then the rules, answer
    /// (overrides `llm_timeout`, default 2s).
    #[arg(long, value_name = "DURATION")]
    pub llm_timeout: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum WorkspacesCommand {
    /// Create a workspace.
    Create {
        /// Lower-case letters, digits, `-` and `_`, for example `acme-plumbing`.
        name: String,
    },
    /// List workspaces.
    List,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create an API key and print it alone on stdout (it is shown only this once).
    Create {
        /// Workspace the key belongs to.
        #[arg(long, value_name = "NAME")]
        workspace: String,
        /// A label for the key, for example `crm-sync`.
        #[arg(long, value_name = "LABEL")]
        name: String,
    },
    /// List API keys (prefix, name, created and last-used times), newest first.
    List {
        /// Only this workspace's keys.
        #[arg(long, value_name = "NAME")]
        workspace: Option<String>,
    },
    /// Revoke an API key by id; it stops working at once.
    Revoke {
        /// The key's id, `key_...`.
        id: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Create a dashboard user and print its password alone on stdout (a generated one
    /// unless `--password-stdin` reads it).
    Create {
        /// Workspace the user belongs to.
        #[arg(long, value_name = "NAME")]
        workspace: String,
        /// The sign-in name: an email address (or a plain name like `admin`).
        #[arg(long, value_name = "EMAIL")]
        email: String,
        /// Read the password from standard input (its first line) instead of generating
        /// one.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Set a user's password (ending its sessions) and print it alone on stdout (a
    /// generated one unless `--password-stdin` reads it).
    ResetPassword {
        /// The user's sign-in name.
        #[arg(long, value_name = "EMAIL")]
        email: String,
        #[arg(long)]
        password_stdin: bool,
    },
}

/// A usage error found after parsing (bad workspace name, bad id): exit status 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// Parses the command line, runs the command and maps the outcome to an exit status.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: could not start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            if e.downcast_ref::<ConfigError>().is_some() || e.downcast_ref::<UsageError>().is_some() {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let loaded = Config::load(cli.config.as_deref())?;
    let config = loaded.config;
    let format = cli.log_format.unwrap_or(if config.log_format == "json" {
        LogFormat::Json
    } else {
        LogFormat::Text
    });
    telemetry::init(format, &config.log);
    for w in &loaded.warnings {
        tracing::warn!("{w}");
    }
    let out = commands::Output { json: cli.json };
    match cli.command {
        Command::Serve(args) => commands::serve::run(config, args).await,
        Command::Migrate => commands::migrate::run(&config, out).await,
        Command::Workspaces(cmd) => commands::workspaces::run(&config, out, cmd).await,
        Command::Keys(cmd) => commands::keys::run(&config, out, cmd).await,
        Command::Users(cmd) => commands::users::run(&config, out, cmd).await,
        Command::Listen(args) => commands::listen::run(args, out).await,
        Command::Call(args) => commands::call::run(args, out).await,
    }
}
