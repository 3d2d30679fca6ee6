//! HTTP interactions mode: Discord POSTs signed interactions; the reply is the response body.

use std::sync::Arc;

use ed25519_dalek::{Signer, SigningKey};
use serde_json::{Value, json};

use super::server::FakeDiscord;
use super::{WAIT, bot, config, slash};

struct Endpoint {
    url: String,
    key: SigningKey,
    discord: FakeDiscord,
    _dir: tempfile::TempDir,
    client: reqwest::Client,
}

/// The application's key pair in these tests: Discord signs with the private half.
pub(super) fn signing_key() -> SigningKey {
    SigningKey::from_bytes(&[7u8; 32])
}

/// The public key as `DISCORD_PUBLIC_KEY` holds it.
pub(super) fn public_key_hex() -> String {
    signing_key()
        .verifying_key()
        .to_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

const TIMESTAMP: &str = "1767225600";

/// Posts `body` to an interactions endpoint as Discord does (signed when `signature` is given); returns
/// the status and the reply body.
pub(super) async fn post_signed(
    client: &reqwest::Client,
    url: &str,
    body: &Value,
    signature: Option<String>,
) -> (u16, Value) {
    let body = body.to_string();
    let mut request = client.post(url).body(body.clone());
    request = request.header("x-signature-timestamp", TIMESTAMP);
    if let Some(signature) = signature {
        request = request.header("x-signature-ed25519", signature);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

/// Discord's signature of `body`: Ed25519 over timestamp ‖ body.
pub(super) fn sign(key: &SigningKey, body: &Value) -> String {
    let message = format!("{TIMESTAMP}{body}");
    key.sign(message.as_bytes())
        .to_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

async fn endpoint() -> Endpoint {
    let discord = FakeDiscord::start().await;
    let dir = tempfile::tempdir().unwrap();
    let key = signing_key();
    let verifier = tsumiage::discord::http::verifier(&public_key_hex()).unwrap();
    let bot = Arc::new(bot(config(&discord.base_url()), &dir));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/interactions", listener.local_addr().unwrap());
    tokio::spawn(tsumiage::discord::http::run(
        bot,
        verifier,
        listener,
        std::future::pending(),
    ));
    // Commands are registered through REST at start.
    discord.wait_commands_registered(1, WAIT).await;
    Endpoint {
        url,
        key,
        discord,
        _dir: dir,
        client: reqwest::Client::new(),
    }
}

impl Endpoint {
    async fn post(&self, body: &Value, signature: Option<String>) -> (u16, Value) {
        post_signed(&self.client, &self.url, body, signature).await
    }

    fn sign(&self, body: &Value) -> String {
        sign(&self.key, body)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_ping_gets_pong_bad_signatures_get_401_and_a_signed_ask_is_answered() {
    let endpoint = endpoint().await;
    let ping =
        json!({"id": "1", "application_id": super::server::APPLICATION_ID, "type": 1, "token": "t", "version": 1});
    let (status, reply) = endpoint.post(&ping, Some(endpoint.sign(&ping))).await;
    assert_eq!((status, reply), (200, json!({"type": 1})));

    // A signature of another body, a garbage signature, none at all: 401 each.
    let other = json!({"type": 1, "x": 1});
    assert_eq!(endpoint.post(&ping, Some(endpoint.sign(&other))).await.0, 401);
    assert_eq!(endpoint.post(&ping, Some("00".repeat(64))).await.0, 401);
    assert_eq!(endpoint.post(&ping, Some("zz".into())).await.0, 401);
    assert_eq!(endpoint.post(&ping, None).await.0, 401);

    let ask = slash(
        &endpoint.discord,
        "1001",
        "ask",
        json!([{"name": "query", "type": 3, "value": "Kinesis 保持期間"}]),
    );
    let (status, reply) = endpoint.post(&ask, Some(endpoint.sign(&ask))).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["type"], 4, "{reply}");
    assert!(reply["data"].to_string().contains("kinesis.md:"), "{reply}");
}
