//! A Discord of our own on 127.0.0.1: the REST routes the bot uses (`/api/v10/...`) and the gateway
//! (HELLO, IDENTIFY → READY, heartbeat ACK, RESUME with replay, op 7). It works on plain JSON values, never
//! on serenity's types, records every request, can answer the next matching request with a 429, and writes
//! every request body to `$TSUMIAGE_DISCORD_CAPTURE_DIR` for the spec check.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::serve::ListenerExt;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::{Notify, mpsc};

pub const APPLICATION_ID: &str = "800000000000000001";
pub const BOT_USER_ID: &str = "800000000000000002";
pub const GUILD_ID: &str = "810000000000000001";
pub const CHANNEL_ID: &str = "820000000000000001";
/// A bot token this Discord rejects with 401 on every route, as Discord does a revoked token.
pub const REJECTED_TOKEN: &str = "rejected-token-never-logged";

/// One request as the server received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub body: Value,
    pub status: u16,
    pub at: Instant,
}

#[derive(Default)]
struct Gateway {
    /// The open connection's outbox.
    outbox: Option<mpsc::UnboundedSender<Message>>,
    /// Closes the open connection abruptly.
    kill: Option<tokio::sync::oneshot::Sender<()>>,
    seq: u64,
    /// Every dispatch sent, for replay on RESUME.
    sent: Vec<(u64, Value)>,
    session: u64,
    identifies: usize,
    resumes: usize,
}

struct Shared {
    addr: SocketAddr,
    requests: Mutex<Vec<Recorded>>,
    changed: Notify,
    rate_limits: Mutex<Vec<(String, f64)>>,
    /// Requests whose path contains the part are refused with the status and Discord's error body.
    failures: Mutex<Vec<(String, u16)>>,
    /// Threads started from messages, in order (a thread's id is its message's).
    threads: Mutex<Vec<Value>>,
    gateway: Mutex<Gateway>,
    next_id: AtomicU64,
    capture: Option<PathBuf>,
    captured: AtomicUsize,
    commands: Mutex<Value>,
    /// Messages created per channel, newest last (for `GET /channels/{id}/messages`).
    channels: Mutex<std::collections::HashMap<String, Vec<Value>>>,
    /// Requests whose path contains the part are carried out, but answered only after the delay.
    /// (method or any, path part, delay).
    holds: Mutex<Vec<(Option<String>, String, Duration)>>,
}

pub struct FakeDiscord {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeDiscord {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeDiscord {
    pub async fn start() -> FakeDiscord {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let capture = std::env::var_os("TSUMIAGE_DISCORD_CAPTURE_DIR").map(PathBuf::from);
        if let Some(dir) = &capture {
            std::fs::create_dir_all(dir).unwrap();
        }
        let shared = Arc::new(Shared {
            addr,
            requests: Mutex::new(Vec::new()),
            changed: Notify::new(),
            rate_limits: Mutex::new(Vec::new()),
            failures: Mutex::default(),
            threads: Mutex::default(),
            gateway: Mutex::new(Gateway::default()),
            next_id: AtomicU64::new(900_000_000_000_000_000),
            capture,
            captured: AtomicUsize::new(0),
            commands: Mutex::new(json!([])),
            channels: Mutex::default(),
            holds: Mutex::default(),
        });
        let app = Router::new()
            .route("/gateway", any(gateway))
            .fallback(rest)
            .with_state(shared.clone());
        // As Discord's servers do: with Nagle's algorithm on, a gateway frame sent right after another
        // waits for the client's delayed ACK (tens of milliseconds), which load figures would show.
        let listener = listener.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        FakeDiscord { addr, shared, task }
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn next_id(&self) -> String {
        self.shared.next_id.fetch_add(1, Ordering::Relaxed).to_string()
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.requests.lock().unwrap().clone()
    }

    /// How many requests received so far satisfy `test`, without copying them.
    pub fn count_requests(&self, test: impl Fn(&Recorded) -> bool) -> usize {
        self.shared.requests.lock().unwrap().iter().filter(|r| test(r)).count()
    }

    /// The next request whose path contains `path_part` gets a 429 with `retry_after` seconds.
    pub fn rate_limit_next(&self, path_part: &str, retry_after: f64) {
        self.shared
            .rate_limits
            .lock()
            .unwrap()
            .push((path_part.to_string(), retry_after));
    }

    /// The next request whose path contains `path_part` is refused with `status` (403: Missing Permissions,
    /// as Discord answers a bot that may not create threads), and not carried out.
    pub fn fail_next(&self, path_part: &str, status: u16) {
        self.shared
            .failures
            .lock()
            .unwrap()
            .push((path_part.to_string(), status));
    }

    /// The next request whose path contains `path_part` is carried out at once but answered only after
    /// `delay`: the window in which a client can die after Discord acted.
    pub fn hold_next(&self, path_part: &str, delay: Duration) {
        self.shared
            .holds
            .lock()
            .unwrap()
            .push((None, path_part.to_string(), delay));
    }

    /// As `hold_next`, for the next request with this method only (a POST to a channel's messages, not the
    /// PATCH of one of them).
    pub fn hold_next_method(&self, method: &str, path_part: &str, delay: Duration) {
        self.shared
            .holds
            .lock()
            .unwrap()
            .push((Some(method.to_string()), path_part.to_string(), delay));
    }

    pub fn identifies(&self) -> usize {
        self.shared.gateway.lock().unwrap().identifies
    }

    pub fn resumes(&self) -> usize {
        self.shared.gateway.lock().unwrap().resumes
    }

    /// Waits until `find` returns something for the requests so far, or panics after `timeout`.
    pub async fn wait_for<T>(&self, what: &str, timeout: Duration, find: impl Fn(&[Recorded]) -> Option<T>) -> T {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.shared.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if let Some(found) = find(&self.shared.requests.lock().unwrap()) {
                return found;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                let seen: Vec<String> = self
                    .requests()
                    .iter()
                    .map(|r| format!("{} {} {} {}", r.status, r.method, r.path, r.body))
                    .collect();
                panic!("timed out waiting for {what}; requests:\n{}", seen.join("\n"));
            }
        }
    }

    /// Waits for the gateway session to be ready (IDENTIFY answered).
    /// Waits until the commands were registered (a bulk overwrite, `PUT …/commands`) `times` times: once
    /// per bot started against this server.
    pub async fn wait_commands_registered(&self, times: usize, timeout: Duration) {
        self.wait_for("commands registered", timeout, |r| {
            let registrations = r
                .iter()
                .filter(|r| r.method == "PUT" && r.path.ends_with("/commands"))
                .count();
            (registrations >= times).then_some(())
        })
        .await
    }

    pub async fn wait_ready(&self, timeout: Duration) {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.shared.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            {
                let gateway = self.shared.gateway.lock().unwrap();
                if gateway.outbox.is_some() && gateway.session > 0 {
                    return;
                }
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                panic!("the bot never identified on the gateway");
            }
        }
    }

    /// Sends a dispatch (op 0) with the next sequence number; kept for replay if the connection is down.
    pub fn dispatch(&self, event: &str, data: Value) {
        let mut gateway = self.shared.gateway.lock().unwrap();
        gateway.seq += 1;
        let seq = gateway.seq;
        let payload = json!({"op": 0, "s": seq, "t": event, "d": data});
        gateway.sent.push((seq, payload.clone()));
        if let Some(outbox) = &gateway.outbox {
            let _ = outbox.send(Message::Text(payload.to_string().into()));
        }
    }

    /// Closes the gateway connection without a close frame, as a network drop does.
    pub fn drop_gateway(&self) {
        let mut gateway = self.shared.gateway.lock().unwrap();
        gateway.outbox = None;
        if let Some(kill) = gateway.kill.take() {
            let _ = kill.send(());
        }
    }

    /// Asks the bot to reconnect and resume (op 7).
    pub fn send_reconnect(&self) {
        let gateway = self.shared.gateway.lock().unwrap();
        if let Some(outbox) = &gateway.outbox {
            let _ = outbox.send(Message::Text(json!({"op": 7, "d": null}).to_string().into()));
        }
    }

    /// Invalidates the session (op 9 with `d: false`): the bot must identify again and gets a second READY.
    pub fn send_invalid_session(&self) {
        let gateway = self.shared.gateway.lock().unwrap();
        if let Some(outbox) = &gateway.outbox {
            let _ = outbox.send(Message::Text(json!({"op": 9, "d": false}).to_string().into()));
        }
    }

    /// The messages created in a channel, oldest first (a post repeated with an enforced nonce is one).
    pub fn messages(&self, channel: &str) -> Vec<Value> {
        self.shared
            .channels
            .lock()
            .unwrap()
            .get(channel)
            .cloned()
            .unwrap_or_default()
    }

    /// The threads started from messages, oldest first.
    pub fn threads(&self) -> Vec<Value> {
        self.shared.threads.lock().unwrap().clone()
    }

    pub fn commands(&self) -> Value {
        self.shared.commands.lock().unwrap().clone()
    }
}

fn user(id: &str, name: &str, bot: bool) -> Value {
    json!({"id": id, "username": name, "discriminator": "0", "global_name": null, "avatar": null, "bot": bot})
}

fn message(shared: &Shared, id: &str, channel_id: &str, body: &Value) -> Value {
    let mut message = json!({
        "id": id, "channel_id": channel_id, "author": user(BOT_USER_ID, "tsumiage", true),
        "content": "", "timestamp": "2026-01-01T00:00:00.000000+00:00", "edited_timestamp": null,
        "tts": false, "mention_everyone": false, "mentions": [], "mention_roles": [], "attachments": [],
        "embeds": [], "pinned": false, "type": 0, "components": [], "flags": 0
    });
    if let (Some(target), Some(fields)) = (message.as_object_mut(), body.as_object()) {
        for (key, value) in fields {
            if matches!(key.as_str(), "content" | "embeds" | "components" | "flags") {
                target.insert(key.clone(), value.clone());
            }
        }
    }
    let _ = shared;
    message
}

/// Every REST route the bot uses, on plain JSON.
async fn rest(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let rejected = request
        .headers()
        .get("authorization")
        .is_some_and(|h| h.as_bytes() == format!("Bot {REJECTED_TOKEN}").as_bytes());
    let bytes: Bytes = axum::body::to_bytes(request.into_body(), 1 << 24)
        .await
        .unwrap_or_default();
    let body: Value = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()))
    };
    capture(&shared, &method, &path, &body);
    let limited = {
        let mut limits = shared.rate_limits.lock().unwrap();
        limits
            .iter()
            .position(|(part, _)| path.contains(part.as_str()))
            .map(|i| limits.remove(i).1)
    };
    let failed = {
        let mut failures = shared.failures.lock().unwrap();
        failures
            .iter()
            .position(|(part, _)| path.contains(part.as_str()))
            .map(|i| failures.remove(i).1)
    };
    let (status, reply) = match (limited, failed) {
        (Some(retry_after), _) => (
            StatusCode::TOO_MANY_REQUESTS,
            json!({"message": "You are being rate limited.", "retry_after": retry_after, "global": false}),
        ),
        (None, _) if rejected => (
            StatusCode::UNAUTHORIZED,
            json!({"message": "401: Unauthorized", "code": 0}),
        ),
        (None, Some(status)) => (
            StatusCode::from_u16(status).unwrap(),
            json!({"message": "Missing Permissions", "code": 50013}),
        ),
        (None, None) => route(&shared, &method, &path, &body),
    };
    shared.requests.lock().unwrap().push(Recorded {
        method: method.to_string(),
        path: path.clone(),
        body,
        status: status.as_u16(),
        at: Instant::now(),
    });
    shared.changed.notify_waiters();
    let hold = {
        let mut holds = shared.holds.lock().unwrap();
        holds
            .iter()
            .position(|(only, part, _)| {
                only.as_deref().is_none_or(|m| m == method.as_str()) && path.contains(part.as_str())
            })
            .map(|i| holds.remove(i).2)
    };
    if let Some(delay) = hold {
        tokio::time::sleep(delay).await;
    }
    respond(status, &reply)
}

/// Writes a request body the bot sent to the capture folder, if there is one (CI checks them against
/// Discord's OpenAPI description).
fn capture(shared: &Shared, method: &Method, path: &str, body: &Value) {
    if let Some(dir) = &shared.capture
        && !body.is_null()
    {
        // One counter for every server in this test process, so files never overwrite each other.
        static CAPTURED: AtomicUsize = AtomicUsize::new(0);
        let n = CAPTURED.fetch_add(1, Ordering::Relaxed);
        shared.captured.fetch_add(1, Ordering::Relaxed);
        let file = dir.join(format!("{}-{:05}.json", std::process::id(), n));
        let record = json!({"method": method.as_str(), "path": path, "body": body});
        let _ = std::fs::write(file, serde_json::to_vec_pretty(&record).unwrap());
    }
}

/// The HTTP response for a status and JSON reply, with Discord's rate-limit headers on a 429.
fn respond(status: StatusCode, reply: &Value) -> Response {
    let mut response = if status == StatusCode::NO_CONTENT {
        status.into_response()
    } else {
        (status, [("content-type", "application/json")], reply.to_string()).into_response()
    };
    if status == StatusCode::TOO_MANY_REQUESTS {
        let retry = reply["retry_after"].as_f64().unwrap_or(1.0).ceil() as u64;
        response
            .headers_mut()
            .insert("retry-after", retry.to_string().parse().unwrap());
        response
            .headers_mut()
            .insert("x-ratelimit-scope", "user".parse().unwrap());
    }
    response
}

fn route(shared: &Shared, method: &Method, path: &str, body: &Value) -> (StatusCode, Value) {
    let Some(rest) = path.strip_prefix("/api/v10/") else {
        return (StatusCode::NOT_FOUND, json!({"message": "404: Not Found", "code": 0}));
    };
    let parts: Vec<&str> = rest.split('/').collect();
    let gateway_url = format!("ws://{}/gateway", shared.addr);
    let new_id = || shared.next_id.fetch_add(1, Ordering::Relaxed).to_string();
    match (method.as_str(), parts.as_slice()) {
        ("GET", ["gateway"]) => (StatusCode::OK, json!({"url": gateway_url})),
        ("GET", ["gateway", "bot"]) => (
            StatusCode::OK,
            json!({"url": gateway_url, "shards": 1,
                   "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}}),
        ),
        ("GET", ["applications", "@me"]) => (
            StatusCode::OK,
            json!({"id": APPLICATION_ID, "name": "tsumiage", "flags": 0}),
        ),
        ("GET", ["users", "@me"]) => (StatusCode::OK, user(BOT_USER_ID, "tsumiage", true)),
        ("PUT", ["applications", _, "commands"]) | ("PUT", ["applications", _, "guilds", _, "commands"]) => {
            let commands: Vec<Value> = body
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .map(|mut command| {
                    command["id"] = json!(new_id());
                    command["application_id"] = json!(APPLICATION_ID);
                    command["version"] = json!("1");
                    command
                })
                .collect();
            *shared.commands.lock().unwrap() = Value::Array(commands.clone());
            (StatusCode::OK, Value::Array(commands))
        }
        ("GET", ["applications", _, "commands"]) | ("GET", ["applications", _, "guilds", _, "commands"]) => {
            (StatusCode::OK, shared.commands.lock().unwrap().clone())
        }
        ("POST", ["interactions", _, _, "callback"]) => (StatusCode::NO_CONTENT, Value::Null),
        ("PATCH", ["webhooks", _, _, "messages", "@original"]) => {
            (StatusCode::OK, message(shared, &new_id(), CHANNEL_ID, body))
        }
        ("POST", ["webhooks", _, _]) => (StatusCode::OK, message(shared, &new_id(), CHANNEL_ID, body)),
        ("POST", ["channels", channel, "messages"]) => {
            let mut channels = shared.channels.lock().unwrap();
            let posted = channels.entry(channel.to_string()).or_default();
            // Discord's enforce_nonce: the same nonce again returns the first message instead of a new one.
            if body["enforce_nonce"] == json!(true)
                && let Some(first) = posted
                    .iter()
                    .find(|m| !body["nonce"].is_null() && m["nonce"] == body["nonce"])
            {
                return (StatusCode::OK, first.clone());
            }
            let mut created = message(shared, &new_id(), channel, body);
            created["nonce"] = body["nonce"].clone();
            posted.push(created.clone());
            (StatusCode::OK, created)
        }
        ("GET", ["channels", channel, "messages"]) => {
            let channels = shared.channels.lock().unwrap();
            let mut newest_first: Vec<Value> = channels.get(*channel).cloned().unwrap_or_default();
            newest_first.reverse();
            newest_first.truncate(50);
            // Discord does not return a message's nonce when listing.
            for message in &mut newest_first {
                if let Some(object) = message.as_object_mut() {
                    object.remove("nonce");
                }
            }
            (StatusCode::OK, Value::Array(newest_first))
        }
        ("PATCH", ["channels", channel, "messages", id]) => (StatusCode::OK, message(shared, id, channel, body)),
        ("POST", ["channels", channel, "messages", id, "threads"]) => start_thread(shared, channel, id, body),
        _ => (StatusCode::NOT_FOUND, json!({"message": "404: Not Found", "code": 0})),
    }
}

/// `POST /channels/{channel}/messages/{message}/threads` (Start Thread from Message): the thread takes the
/// message's id; the message must exist, have no thread yet, and the name be 1 to 100 characters.
fn start_thread(shared: &Shared, channel: &str, message_id: &str, body: &Value) -> (StatusCode, Value) {
    let exists = shared
        .channels
        .lock()
        .unwrap()
        .get(channel)
        .is_some_and(|messages| messages.iter().any(|m| m["id"] == message_id));
    if !exists {
        return (
            StatusCode::NOT_FOUND,
            json!({"message": "Unknown Message", "code": 10008}),
        );
    }
    let name = body["name"].as_str().unwrap_or_default();
    if !(1..=100).contains(&name.chars().count()) {
        return (
            StatusCode::BAD_REQUEST,
            json!({"message": "Invalid Form Body", "code": 50035}),
        );
    }
    let mut threads = shared.threads.lock().unwrap();
    if threads.iter().any(|t| t["id"] == message_id) {
        return (
            StatusCode::BAD_REQUEST,
            json!({"message": "A thread has already been created for this message", "code": 160004}),
        );
    }
    let thread = json!({
        "id": message_id, "type": 11, "flags": 0, "guild_id": GUILD_ID, "parent_id": channel, "name": name,
        "owner_id": BOT_USER_ID, "last_message_id": null, "rate_limit_per_user": 0, "message_count": 0,
        "member_count": 1, "total_message_sent": 0,
        "thread_metadata": {"archived": false, "auto_archive_duration": 1440, "locked": false,
                            "archive_timestamp": "2026-01-01T00:00:00.000000+00:00", "create_timestamp": null},
    });
    threads.push(thread.clone());
    (StatusCode::CREATED, thread)
}

async fn gateway(State(shared): State<Arc<Shared>>, upgrade: WebSocketUpgrade) -> Response {
    upgrade.on_upgrade(move |socket| connection(shared, socket))
}

async fn connection(shared: Arc<Shared>, socket: WebSocket) {
    let (mut sink, mut stream) = socket.split();
    let (outbox, mut inbox) = mpsc::unbounded_channel::<Message>();
    let (kill, mut killed) = tokio::sync::oneshot::channel::<()>();
    let hello = json!({"op": 10, "d": {"heartbeat_interval": 41250}});
    if sink.send(Message::Text(hello.to_string().into())).await.is_err() {
        return;
    }
    loop {
        tokio::select! {
            _ = &mut killed => return,
            out = inbox.recv() => match out {
                Some(message) => if sink.send(message).await.is_err() { return },
                None => return,
            },
            incoming = stream.next() => {
                let Some(Ok(frame)) = incoming else { return };
                let text = match frame {
                    Message::Text(text) => text.to_string(),
                    Message::Binary(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
                    Message::Close(_) => return,
                    _ => continue,
                };
                let Ok(payload) = serde_json::from_str::<Value>(&text) else { continue };
                let mut replies = Vec::new();
                {
                    let mut gateway = shared.gateway.lock().unwrap();
                    match payload["op"].as_u64() {
                        Some(1) => replies.push(json!({"op": 11, "d": null})),
                        Some(2) => {
                            gateway.identifies += 1;
                            gateway.session += 1;
                            gateway.seq += 1;
                            let ready = json!({"op": 0, "s": gateway.seq, "t": "READY", "d": {
                                "v": 10, "user": user(BOT_USER_ID, "tsumiage", true), "guilds": [],
                                "session_id": format!("session-{}", gateway.session),
                                "resume_gateway_url": format!("ws://{}/gateway", shared.addr),
                                "application": {"id": APPLICATION_ID, "flags": 0}}});
                            let seq = gateway.seq;
                            gateway.sent.push((seq, ready.clone()));
                            replies.push(ready);
                            gateway.outbox = Some(outbox.clone());
                            gateway.kill = None;
                        }
                        Some(6) => {
                            gateway.resumes += 1;
                            let from = payload["d"]["seq"].as_u64().unwrap_or(0);
                            for (seq, sent) in &gateway.sent {
                                if *seq > from {
                                    replies.push(sent.clone());
                                }
                            }
                            gateway.seq += 1;
                            let resumed = json!({"op": 0, "s": gateway.seq, "t": "RESUMED", "d": {}});
                            let seq = gateway.seq;
                            gateway.sent.push((seq, resumed.clone()));
                            replies.push(resumed);
                            gateway.outbox = Some(outbox.clone());
                        }
                        _ => {}
                    }
                }
                if matches!(payload["op"].as_u64(), Some(2) | Some(6)) {
                    let (new_kill, new_killed) = tokio::sync::oneshot::channel();
                    shared.gateway.lock().unwrap().kill = Some(new_kill);
                    killed = new_killed;
                    let _ = &kill;
                }
                for reply in replies {
                    if sink.send(Message::Text(reply.to_string().into())).await.is_err() {
                        return;
                    }
                }
                shared.changed.notify_waiters();
            }
        }
    }
}
