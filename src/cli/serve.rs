//! `tsumiage serve`: the Discord bot. Reads the token (never logged), loads the notes and the store, and
//! runs the gateway client or, with `--http ADDR`, the HTTP interactions endpoint, until SIGINT/SIGTERM.

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::Args;

use tsumiage::clock::{Clock, SystemClock};
use tsumiage::discord::Bot;

use super::App;

#[derive(Args)]
pub struct ServeArgs {
    /// Serve HTTP interactions on this address (e.g. 0.0.0.0:8080) instead of the gateway; needs
    /// DISCORD_PUBLIC_KEY.
    #[arg(long, value_name = "ADDR")]
    http: Option<SocketAddr>,
}

fn secret(name: &str) -> Result<String> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .with_context(|| format!("{name} is not set (put it in the environment or in .env; see config/.env.example)"))
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = match signal(SignalKind::terminate()) {
            Ok(term) => term,
            Err(_) => return std::future::pending().await,
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
    tracing::info!("shutdown signal received");
}

pub fn serve_command(app: &App, args: ServeArgs) -> Result<ExitCode> {
    // Logs go to stderr (stdout stays free), coloured only when stderr is a terminal: a log file or a
    // journal gets plain lines.
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let token = secret("DISCORD_TOKEN")?;
    let verifier = match args.http {
        Some(_) => Some(tsumiage::discord::http::verifier(&secret("DISCORD_PUBLIC_KEY")?)?),
        None => None,
    };
    let library = app.load_library()?;
    let path = &app.config.paths.store;
    let mut store = super::open_store(path)?;
    let closed = store.close_interrupted_sessions(SystemClock.now(), &tsumiage::store::owner::still_running)?;
    let mut bot = Bot::new(app.config.clone(), library, store, &token);
    bot.notes_source = Some(app.notes_source());
    if bot.config.discord.retired_quiz_second_ms.is_some() {
        tracing::warn!("`discord.quiz_second_ms` is retired and does nothing: a quiz second is a second");
    }
    let bot = Arc::new(bot);
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(async move {
        if !closed.is_empty() {
            tracing::info!(count = closed.len(), "closed quizzes interrupted by the last stop");
        }
        let (stop, stopped) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            shutdown_signal().await;
            let _ = stop.send(true);
        });
        let shutdown = move || {
            let mut stopped = stopped.clone();
            async move {
                let _ = stopped.wait_for(|stop| *stop).await;
            }
        };
        // Before serving: the API base must answer and accept the token (a rejected token ends here).
        tokio::select! {
            reached = bot.reach_discord() => reached?,
            () = shutdown() => return Ok(()),
        }
        match (args.http, verifier) {
            (Some(addr), Some(verifier)) => {
                let listener = tokio::net::TcpListener::bind(addr)
                    .await
                    .with_context(|| format!("listening on {addr}"))?;
                tracing::info!(%addr, "serving HTTP interactions");
                tsumiage::discord::http::run(bot, verifier, listener, shutdown()).await
            }
            _ => tsumiage::discord::gateway::run(bot, &token, shutdown()).await,
        }
    })?;
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}
