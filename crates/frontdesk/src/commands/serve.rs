//! `frontdesk serve`: bind, bootstrap an empty database, serve until SIGINT or SIGTERM,
//! then finish in-flight requests and exit.

use anyhow::Context;
use frontdesk_core::user::{Login, Password};
use frontdesk_server::Application;
use frontdesk_server::bootstrap::{FirstStart, bootstrap};
use frontdesk_store::Store;

use super::open_store;
use crate::cli::ServeArgs;
use crate::config::Config;

pub async fn run(mut config: Config, args: ServeArgs) -> anyhow::Result<()> {
    if let Some(listen) = args.listen {
        config.listen = listen;
    }
    if let Some(url) = args.llm_base_url {
        config.llm_base_url = Some(url);
    }
    if let Some(model) = args.llm_model {
        config.llm_model = Some(model);
    }
    if let Some(timeout) = args.llm_timeout {
        config.llm_timeout = timeout;
    }
    config.validate()?;
    let settings = config.server_settings()?;
    match (&settings.models.base_url, &settings.models.model) {
        (Some(url), Some(model)) => tracing::info!(
            base_url = %url,
            model = %model,
            key = settings.models.api_key.is_some(),
            first_token_timeout = ?settings.models.first_token_timeout,
            "language model endpoint"
        ),
        _ => tracing::info!(
            "no language model endpoint (FRONTDESK_LLM_BASE_URL): agents without their own use the rules brain"
        ),
    }
    let (store, _) = open_store(&config).await?;
    check_secrets(&*store, config.master_key.is_some()).await?;
    let app = Application::build(settings, store.clone())
        .await
        .with_context(|| format!("could not listen on {}", config.listen))?;
    let addr = app.local_addr()?;
    let base = config.public_url.clone().unwrap_or_else(|| format!("http://{addr}"));
    // Bootstrap only once the port is ours, so the key is never created unseen.
    if let Some(first) = bootstrap(&*store).await.context("could not bootstrap the database")? {
        let admin = create_admin(&*store, &first)
            .await
            .context("could not create the dashboard user `admin`")?;
        print_first_start(&first, &admin, &base);
    }
    tracing::info!(%addr, version = env!("CARGO_PKG_VERSION"), "listening");
    println!("Frontdesk listening on http://{addr}");
    app.run_until(shutdown_signal()).await.context("the server failed")?;
    tracing::info!("stopped");
    Ok(())
}

/// Seals secrets stored in clear before a master key was set; refuses to start when the
/// database holds secrets this server cannot open (no key, or another one), rather than
/// fail every delivery and call that needs them; without a key, says that secrets are
/// stored in clear.
async fn check_secrets(store: &dyn Store, keyed: bool) -> anyhow::Result<()> {
    let report = store
        .seal_secrets()
        .await
        .context("could not check the stored secrets")?;
    if report.sealed_now > 0 {
        tracing::info!(
            sealed = report.sealed_now,
            "sealed secrets stored in clear with FRONTDESK_MASTER_KEY"
        );
    }
    if report.unreadable > 0 {
        anyhow::bail!(
            "{} stored secrets are sealed with {}; start with FRONTDESK_MASTER_KEY set to the key they were stored with",
            report.unreadable,
            if keyed {
                "another master key"
            } else {
                "a master key, and none is set"
            }
        );
    }
    if !keyed {
        tracing::warn!(
            in_clear = report.clear,
            "no FRONTDESK_MASTER_KEY: webhook secrets, custom headers and kept responses are stored in clear; \
             set one (openssl rand -base64 32) to seal them at rest"
        );
    }
    Ok(())
}

/// The first dashboard user, `admin` in the first workspace, with a generated password
/// (SPEC section 7), printed once beside the bootstrap key.
async fn create_admin(store: &dyn Store, first: &FirstStart) -> anyhow::Result<Password> {
    let password = Password::generate();
    let p = password.clone();
    // Argon2id is slow on purpose: off the async workers.
    let hashed = tokio::task::spawn_blocking(move || p.hash()).await?;
    let login = Login::parse("admin").map_err(|e| anyhow::anyhow!(e.message))?;
    store.create_user(&first.created.workspace.id, &login, &hashed).await?;
    Ok(password)
}

fn print_first_start(first: &FirstStart, admin: &Password, base: &str) {
    let c = &first.created;
    println!(
        "First start: created workspace `{}`, demo agent {} and demo number {} (provider sim).",
        c.workspace.name, c.agent.id, c.number.number
    );
    println!("Bootstrap API key (shown only this once; store it now):");
    println!("  {}", first.secret.expose());
    println!(
        "Dashboard user `admin`, password (shown only this once): {}",
        admin.expose()
    );
    println!("Dashboard: {base}/  (sign in as `admin` with the password above)");
    println!(
        "Try it:    curl -H 'Authorization: Bearer {}' {base}/v1/api-keys",
        first.secret.expose()
    );
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "could not listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "could not listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}
