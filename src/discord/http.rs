//! The HTTP interactions transport (`tsumiage serve --http ADDR`): Discord POSTs each interaction, signed
//! with Ed25519 over timestamp ‖ body. A missing or bad signature gets 401 (Discord tests this on purpose);
//! a PING gets PONG; everything else goes to the same handlers as the gateway, and the first response is
//! the HTTP response's body.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};
use serenity::interactions_endpoint::Verifier;
use tokio::net::TcpListener;

use super::{Bot, FirstReply, handle};

#[derive(Clone)]
struct Endpoint {
    bot: Arc<Bot>,
    verifier: Arc<Verifier>,
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
    let endpoint = Endpoint {
        bot,
        verifier: Arc::new(verifier),
    };
    Router::new()
        .route("/", post(interaction))
        .route("/interactions", post(interaction))
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

async fn interaction(State(endpoint): State<Endpoint>, headers: HeaderMap, body: Bytes) -> Response {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let (Some(signature), Some(timestamp)) = (header("x-signature-ed25519"), header("x-signature-timestamp")) else {
        return (StatusCode::UNAUTHORIZED, "missing signature").into_response();
    };
    if endpoint.verifier.verify(signature, timestamp, &body).is_err() {
        return (StatusCode::UNAUTHORIZED, "invalid request signature").into_response();
    }
    let Ok(value) = serde_json::from_slice::<Value>(&body) else {
        return (StatusCode::BAD_REQUEST, "not JSON").into_response();
    };
    if value["type"].as_u64() == Some(1) {
        return axum::Json(json!({"type": 1})).into_response();
    }
    let interaction = match serde_json::from_value::<serenity::all::Interaction>(value) {
        Ok(interaction) => interaction,
        Err(error) => {
            tracing::warn!("unreadable interaction: {error}");
            return (StatusCode::BAD_REQUEST, "unreadable interaction").into_response();
        }
    };
    let (sender, receiver) = tokio::sync::oneshot::channel();
    tokio::spawn(handle(endpoint.bot.clone(), interaction, FirstReply::Http(sender)));
    match receiver.await {
        Ok(reply) => axum::Json(reply).into_response(),
        Err(_) => StatusCode::NO_CONTENT.into_response(),
    }
}
