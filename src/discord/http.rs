//! The HTTP interactions transport (`tsumiage serve --http ADDR`): Discord POSTs each interaction, signed
//! with Ed25519 over timestamp ‖ body. A missing or bad signature gets 401 (Discord tests this on purpose),
//! and so does a timestamp further than `discord.http_timestamp_window_secs` from this machine's clock (a
//! stale or pre-signed request); a PING gets PONG; everything else goes to the same handlers as the
//! gateway, and the first response is the HTTP response's body. An interaction id seen again inside the
//! window (a replay) is not run again: it gets the first response once more (see `replay`).
//!
//! For operators, unsigned: `GET /healthz` (200 `ok` when ready, else 503 and the reason: `health`) and
//! `GET /metrics` (the Prometheus text format: `metrics`). Expose only `/interactions` to the internet.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use serenity::interactions_endpoint::Verifier;
use tokio::net::TcpListener;

use super::interaction::ResponseKind;
use super::metrics::{self, Rejected};
use super::replay::{Handled, Seen};
use super::{Bot, FirstReply, handle};

/// The most interaction ids remembered for replay detection (the oldest are forgotten first).
const REMEMBERED_IDS: usize = 4096;
/// How long a replay waits for the first request's response (Discord waits 3 s for one).
const REPLAY_WAIT: Duration = Duration::from_secs(3);

#[derive(Clone)]
struct Endpoint {
    bot: Arc<Bot>,
    verifier: Arc<Verifier>,
    /// Seconds a request's timestamp may differ from this machine's clock.
    window_secs: i64,
    handled: Arc<Mutex<Handled>>,
}

/// Reads a hex public key (64 hex digits).
pub fn verifier(public_key_hex: &str) -> anyhow::Result<Verifier> {
    let hex = public_key_hex.trim();
    anyhow::ensure!(
        hex.len() == 64 && hex.chars().all(|c| c.is_ascii_hexdigit()),
        "DISCORD_PUBLIC_KEY must be 64 hex digits (the application's public key)"
    );
    let mut key = [0u8; 32];
    for (i, byte) in key.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16)?;
    }
    Verifier::try_new(key).map_err(|_| anyhow::anyhow!("DISCORD_PUBLIC_KEY is not a valid Ed25519 key"))
}

pub fn router(bot: Arc<Bot>, verifier: Verifier) -> Router {
    let window = bot.config.discord.http_timestamp_window_secs;
    let endpoint = Endpoint {
        bot,
        verifier: Arc::new(verifier),
        window_secs: i64::try_from(window).unwrap_or(i64::MAX),
        handled: Arc::new(Mutex::new(Handled::new(
            Duration::from_secs(window.saturating_mul(2)),
            REMEMBERED_IDS,
        ))),
    };
    Router::new()
        .route("/", post(interaction))
        .route("/interactions", post(interaction))
        .route("/healthz", get(healthz))
        .route("/metrics", get(exposition))
        .with_state(endpoint)
}

/// Serves interactions on `listener` until `shutdown` completes.
pub async fn run(
    bot: Arc<Bot>,
    verifier: Verifier,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let application = bot.rest.get("/applications/@me").await;
    match application
        .ok()
        .and_then(|a| a["id"].as_str().and_then(|id| id.parse::<u64>().ok()))
    {
        Some(id) => bot.on_ready(id).await,
        None => tracing::warn!("could not read the application id: commands not registered"),
    }
    let app = router(bot.clone(), verifier);
    let bot_for_shutdown = bot.clone();
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            shutdown.await;
            bot_for_shutdown.shutdown(Duration::from_secs(10)).await;
        })
        .await?;
    Ok(())
}

/// Whether a request's `X-Signature-Timestamp` (Unix seconds) is within `window_secs` of `now_secs`.
fn timestamp_is_fresh(timestamp: &str, now_secs: i64, window_secs: i64) -> bool {
    timestamp
        .trim()
        .parse::<i64>()
        .is_ok_and(|at| now_secs.abs_diff(at) <= window_secs.unsigned_abs())
}

/// 200 `ok` once notes, index and store are up; 503 and the reason otherwise.
async fn healthz(State(endpoint): State<Endpoint>) -> Response {
    match super::health::readiness(&endpoint.bot).await {
        Ok(()) => (StatusCode::OK, "ok").into_response(),
        Err(reason) => (StatusCode::SERVICE_UNAVAILABLE, reason).into_response(),
    }
}

async fn exposition(State(endpoint): State<Endpoint>) -> Response {
    let bot = &endpoint.bot;
    let text = bot.metrics.exposition(bot.quizzes.driving());
    ([(axum::http::header::CONTENT_TYPE, metrics::CONTENT_TYPE)], text).into_response()
}

async fn interaction(State(endpoint): State<Endpoint>, headers: HeaderMap, body: Bytes) -> Response {
    let rejected = |reason: Rejected| endpoint.bot.metrics.rejected(reason);
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let (Some(signature), Some(timestamp)) = (header("x-signature-ed25519"), header("x-signature-timestamp")) else {
        rejected(Rejected::Signature);
        return (StatusCode::UNAUTHORIZED, "missing signature").into_response();
    };
    if endpoint.verifier.verify(signature, timestamp, &body).is_err() {
        rejected(Rejected::Signature);
        return (StatusCode::UNAUTHORIZED, "invalid request signature").into_response();
    }
    let now_secs = endpoint.bot.clock.now().millis().div_euclid(1000);
    if !timestamp_is_fresh(timestamp, now_secs, endpoint.window_secs) {
        tracing::debug!(
            timestamp,
            now_secs,
            "refused a request whose timestamp is outside the window"
        );
        rejected(Rejected::Timestamp);
        return (
            StatusCode::UNAUTHORIZED,
            "request timestamp outside the accepted window",
        )
            .into_response();
    }
    let Ok(value) = serde_json::from_slice::<Value>(&body) else {
        rejected(Rejected::Malformed);
        return (StatusCode::BAD_REQUEST, "not JSON").into_response();
    };
    // Interaction type 1 is Discord's ping.
    if value["type"].as_u64() == Some(1) {
        return axum::Json(json!({"type": ResponseKind::Pong})).into_response();
    }
    let id = value["id"].as_str().unwrap_or_default().to_string();
    let interaction = match serde_json::from_value::<serenity::all::Interaction>(value) {
        Ok(interaction) => interaction,
        Err(error) => {
            tracing::warn!("unreadable interaction: {error}");
            rejected(Rejected::Malformed);
            return (StatusCode::BAD_REQUEST, "unreadable interaction").into_response();
        }
    };
    let seen = endpoint
        .handled
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .see(&id, Instant::now());
    let published = match seen {
        Seen::Replay(mut first) => {
            tracing::info!(interaction = %id, "replayed interaction: sent its first response again, not run again");
            let response = tokio::time::timeout(REPLAY_WAIT, first.wait_for(Option::is_some))
                .await
                .ok()
                .and_then(|found| found.ok().map(|r| r.clone().flatten()));
            return reply_response(response.flatten());
        }
        Seen::First(published) => published,
    };
    let (sender, receiver) = tokio::sync::oneshot::channel();
    tokio::spawn(handle(endpoint.bot.clone(), interaction, FirstReply::Http(sender)));
    let reply = receiver.await.ok();
    published.send_replace(Some(reply.clone()));
    reply_response(reply)
}

fn reply_response(reply: Option<Value>) -> Response {
    match reply {
        Some(reply) => axum::Json(reply).into_response(),
        None => StatusCode::NO_CONTENT.into_response(),
    }
}
