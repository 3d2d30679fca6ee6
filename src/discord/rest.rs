//! Discord's REST API as the bot uses it: JSON bodies to `/api/v10/...` on the configured base, with
//! 429 `retry_after` honoured here (serenity's own rate limiter cannot be used with a custom base URL, and
//! serenity drops the 429 body). A request refused with 429 was not carried out, so retrying it never
//! sends a message twice. The token is sent, never logged or shown in an error.

use std::time::Duration;

use reqwest::Method;
use serde_json::Value;

pub const DISCORD: &str = "https://discord.com";
/// 429s in a row before giving up.
const MAX_RETRIES: usize = 5;
/// A `retry_after` longer than this is not waited for.
const MAX_WAIT: Duration = Duration::from_secs(60);
/// Start-up: the first wait before trying an unreachable API base again, doubled up to `MAX_BACK_OFF`.
const FIRST_BACK_OFF: Duration = Duration::from_secs(1);
const MAX_BACK_OFF: Duration = Duration::from_secs(60);

#[derive(Debug, thiserror::Error)]
pub enum RestError {
    #[error("Discord answered {status} to {method} {route}: {message} (code {code})")]
    Status {
        status: u16,
        method: String,
        route: String,
        code: i64,
        message: String,
    },
    #[error("Discord kept rate-limiting {route} ({retries} tries)")]
    RateLimited { route: String, retries: usize },
    #[error("cannot reach Discord for {route}: {detail}")]
    Transport { route: String, detail: String },
}

impl RestError {
    /// Discord's JSON error code, when it sent one (10062 unknown interaction, 40060 already acknowledged).
    pub fn code(&self) -> Option<i64> {
        match self {
            RestError::Status { code, .. } => Some(*code),
            _ => None,
        }
    }
}

#[derive(Clone)]
pub struct Rest {
    client: reqwest::Client,
    base: String,
    authorization: String,
}

impl std::fmt::Debug for Rest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rest").field("base", &self.base).finish_non_exhaustive()
    }
}

/// An error with its causes (`error sending request: … : Connection refused`): reqwest's own message
/// alone does not say what went wrong. Without the URL, which is the base plus the route.
fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(inner) = cause {
        let inner_text = inner.to_string();
        if !text.contains(&inner_text) {
            text.push_str(": ");
            text.push_str(&inner_text);
        }
        cause = inner.source();
    }
    text
}

/// How long a 429 asks to wait: the body's `retry_after` (float seconds), else the `Retry-After` header.
pub fn retry_after(body: &Value, header: Option<&str>) -> Duration {
    let seconds = body["retry_after"]
        .as_f64()
        .or_else(|| header.and_then(|h| h.trim().parse::<f64>().ok()))
        .unwrap_or(1.0);
    Duration::from_secs_f64(seconds.clamp(0.0, MAX_WAIT.as_secs_f64()))
}

impl Rest {
    pub fn new(base: Option<&str>, token: &str) -> Rest {
        let token = token.trim();
        let token = token.strip_prefix("Bot ").unwrap_or(token);
        Rest {
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("an HTTP client without TLS options always builds"),
            base: base.unwrap_or(DISCORD).trim_end_matches('/').to_string(),
            authorization: format!("Bot {token}"),
        }
    }

    /// The API base this client talks to (never the token).
    pub fn base(&self) -> &str {
        &self.base
    }

    /// Start-up check: waits until the API base answers `GET /users/@me` with the token. While it cannot be
    /// reached (or answers with anything but 401), says so once, naming the base, and tries again with
    /// back-off (1 s, doubled each time, at most 60 s); the retries are logged at debug level. A 401 (the
    /// token is rejected) is returned at once: retrying cannot fix it.
    pub async fn wait_until_reachable(&self) -> Result<(), RestError> {
        let mut back_off = FIRST_BACK_OFF;
        let mut said = false;
        loop {
            match self.get("/users/@me").await {
                Ok(_) => {
                    if said {
                        tracing::info!(base = %self.base, "reached the Discord API");
                    }
                    return Ok(());
                }
                Err(error @ RestError::Status { status: 401, .. }) => return Err(error),
                Err(error) if !said => {
                    said = true;
                    tracing::warn!(
                        "cannot reach the Discord API at {} ({error}); retrying with back-off (up to every {} s) until it answers",
                        self.base,
                        MAX_BACK_OFF.as_secs()
                    );
                }
                Err(error) => {
                    tracing::debug!(base = %self.base, next_try_ms = back_off.as_millis() as u64, "still cannot reach the Discord API: {error}");
                }
            }
            tokio::time::sleep(back_off).await;
            back_off = (back_off * 2).min(MAX_BACK_OFF);
        }
    }

    pub async fn get(&self, route: &str) -> Result<Value, RestError> {
        self.call(Method::GET, route, None).await
    }

    pub async fn post(&self, route: &str, body: &Value) -> Result<Value, RestError> {
        self.call(Method::POST, route, Some(body)).await
    }

    /// POSTs on a task of its own, for a best-effort request nothing waits for: a failure is logged as
    /// `what failed: …`.
    pub fn post_in_background(&self, route: String, body: Value, what: &'static str) {
        let rest = self.clone();
        tokio::spawn(async move {
            if let Err(error) = rest.post(&route, &body).await {
                tracing::warn!("{what} failed: {error}");
            }
        });
    }

    pub async fn patch(&self, route: &str, body: &Value) -> Result<Value, RestError> {
        self.call(Method::PATCH, route, Some(body)).await
    }

    pub async fn put(&self, route: &str, body: &Value) -> Result<Value, RestError> {
        self.call(Method::PUT, route, Some(body)).await
    }

    /// One API call (`route` like `/channels/1/messages`), retried after each 429's `retry_after`.
    pub async fn call(&self, method: Method, route: &str, body: Option<&Value>) -> Result<Value, RestError> {
        let url = format!("{}/api/v10{route}", self.base);
        // Interaction tokens are secrets too: logs show the route's first part only.
        let shown = route.split('/').take(3).collect::<Vec<_>>().join("/");
        for attempt in 0..=MAX_RETRIES {
            let mut request = self
                .client
                .request(method.clone(), &url)
                .header("authorization", &self.authorization)
                .header("user-agent", "DiscordBot (https://github.com/tsumiage, 0.1)");
            if let Some(body) = body {
                request = request
                    .header("content-type", "application/json")
                    .body(body.to_string());
            }
            let response = request.send().await.map_err(|e| RestError::Transport {
                route: shown.clone(),
                detail: with_causes(&e.without_url()),
            })?;
            let status = response.status().as_u16();
            let header = response
                .headers()
                .get("retry-after")
                .and_then(|h| h.to_str().ok())
                .map(str::to_string);
            let bytes = response.bytes().await.map_err(|e| RestError::Transport {
                route: shown.clone(),
                detail: with_causes(&e.without_url()),
            })?;
            let json: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            if status == 429 {
                let wait = retry_after(&json, header.as_deref());
                tracing::warn!(route = %shown, attempt, wait_ms = wait.as_millis() as u64, "rate limited by Discord; retrying");
                tokio::time::sleep(wait).await;
                continue;
            }
            if (200..300).contains(&status) {
                return Ok(json);
            }
            return Err(RestError::Status {
                status,
                method: method.to_string(),
                route: shown,
                code: json["code"].as_i64().unwrap_or(0),
                message: json["message"].as_str().unwrap_or("").to_string(),
            });
        }
        Err(RestError::RateLimited {
            route: shown,
            retries: MAX_RETRIES,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn retry_after_prefers_the_body_then_the_header() {
        assert_eq!(
            retry_after(&json!({"retry_after": 0.25}), Some("3")),
            Duration::from_millis(250)
        );
        assert_eq!(retry_after(&Value::Null, Some("2")), Duration::from_secs(2));
        assert_eq!(retry_after(&Value::Null, None), Duration::from_secs(1));
        assert_eq!(retry_after(&json!({"retry_after": 9999.0}), None), MAX_WAIT);
    }

    #[test]
    fn the_token_never_shows_in_debug_output() {
        let rest = Rest::new(None, "secret-token");
        assert!(!format!("{rest:?}").contains("secret-token"));
    }
}
