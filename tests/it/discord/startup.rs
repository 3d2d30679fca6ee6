//! `tsumiage serve` starting against a Discord it cannot use: an API base that refuses connections (said
//! once, naming the base, retried with back-off, SIGTERM still exits 0) and a token Discord rejects (a
//! clear error and a non-zero exit at once). Logs go to stderr, plain (no colours) into a file, without
//! the token.

use super::WAIT;
use super::process::ServeProcess;
use super::server::{FakeDiscord, REJECTED_TOKEN};

/// An API base on 127.0.0.1 where nothing listens: connections are refused.
fn refused_base() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    format!("http://{}", listener.local_addr().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_api_base_is_named_once_and_retried_with_back_off() {
    let base = refused_base();
    let token = "unreachable-test-token-never-logged";
    let mut serve = ServeProcess::start(&[], &base, token, &[("RUST_LOG", "tsumiage=debug,info")]);
    let said = format!("cannot reach the Discord API at {base}");
    serve.wait_log(&said, WAIT).await;
    // Three tries later (1 s, then 2 s of back-off) it is still said once.
    let log = serve.wait_log("next_try_ms=4000", WAIT).await;
    assert_eq!(log.matches(&said).count(), 1, "{log}");
    assert!(log.contains("retrying with back-off"), "{log}");
    assert!(!log.contains("\x1b["), "colours in a log file:\n{log}");
    assert!(!log.contains(token), "the token leaked:\n{log}");
    assert_eq!(serve.stdout(), "", "logs belong on stderr");
    let status = serve.terminate(WAIT).await;
    assert!(status.success(), "{status}:\n{}", serve.stderr());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_token_ends_serve_at_start_up_with_a_clear_error() {
    let discord = FakeDiscord::start().await;
    let mut serve = ServeProcess::start(&[], &discord.base_url(), REJECTED_TOKEN, &[]);
    let status = serve.wait_exit(WAIT).await;
    let log = serve.stderr();
    assert!(!status.success(), "{status}:\n{log}");
    assert!(
        log.contains(&format!(
            "the Discord API at {} rejected the token (401 Unauthorized)",
            discord.base_url()
        )),
        "{log}"
    );
    assert!(!log.contains(REJECTED_TOKEN), "the token leaked:\n{log}");
    assert!(discord.identifies() == 0 && !log.contains("\x1b["), "{log}");
}
