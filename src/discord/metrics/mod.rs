//! What an operator watches on a running bot, in the Prometheus text format (`GET /metrics` in HTTP mode):
//! interactions by command and outcome, the latency from receipt to the first response, the quizzes this
//! replica drives, daily posts sent, store errors, and requests the HTTP endpoint turned away. One
//! `Metrics` per `Bot`, with its own registry (no global): two bots in one process (the tests) count apart.
//! Label values are fixed words chosen by the code (a route's name, an outcome), never user input, so the
//! number of series stays small and bounded. `store` wraps the store so that every failed call is counted,
//! whichever part of the bot made it.

mod store;

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

use super::interaction::{Outcome, Refusal};
pub(crate) use store::CountedStore;

/// The `Content-Type` of the exposition (Prometheus text format 0.0.4).
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// Upper bounds (seconds) of the reply latency buckets: fine below 10 ms where replies usually are, and
/// Discord's 3 s limit for a first response as a bound of its own.
const LATENCY_BUCKETS: [f64; 13] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0,
];

/// How an interaction ended, as the handler saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Served {
    /// Answered as asked.
    Ok,
    /// Refused with a reason the user reads (no quiz running, no permission, an unknown button…).
    Refused,
    /// The bot's own failure (a store error, a handler that panicked): "something went wrong".
    Failed,
}

impl Served {
    pub fn of(outcome: &Outcome) -> Served {
        match outcome {
            Ok(_) => Served::Ok,
            Err(Refusal::Told(_)) => Served::Refused,
            Err(Refusal::Internal) => Served::Failed,
        }
    }

    fn label(self) -> &'static str {
        match self {
            Served::Ok => "ok",
            Served::Refused => "refused",
            Served::Failed => "failed",
        }
    }
}

/// Why the HTTP endpoint turned a request away before any handler saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rejected {
    /// Missing or invalid Ed25519 signature.
    Signature,
    /// Signed too far from this machine's clock.
    Timestamp,
    /// Not JSON, or not an interaction.
    Malformed,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct InteractionLabels {
    command: &'static str,
    outcome: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RejectedLabels {
    reason: &'static str,
}

/// The bot's metrics and the registry that exposes them.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    interactions: Family<InteractionLabels, Counter>,
    reply_latency: Histogram,
    quizzes_running: Gauge,
    daily_posts: Counter,
    store_errors: Counter,
    rejected: Family<RejectedLabels, Counter>,
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("tsumiage");
        let interactions = Family::<InteractionLabels, Counter>::default();
        registry.register(
            "interactions",
            "Interactions handled, by command (or button, modal, autocomplete) and outcome (ok, refused, failed)",
            interactions.clone(),
        );
        let reply_latency = Histogram::new(LATENCY_BUCKETS);
        registry.register_with_unit(
            "reply_latency",
            "Time from an interaction's receipt to its first response (a deferral counts)",
            Unit::Seconds,
            reply_latency.clone(),
        );
        let quizzes_running = Gauge::default();
        registry.register(
            "quizzes_running",
            "Quizzes whose deadlines this replica drives now",
            quizzes_running.clone(),
        );
        let daily_posts = Counter::default();
        registry.register("daily_posts", "Daily question posts sent", daily_posts.clone());
        let store_errors = Counter::default();
        registry.register(
            "store_errors",
            "Store calls that failed (a busy channel is a refusal, not counted)",
            store_errors.clone(),
        );
        let rejected = Family::<RejectedLabels, Counter>::default();
        registry.register(
            "http_rejected",
            "HTTP requests turned away before any handler, by reason (signature, timestamp, malformed)",
            rejected.clone(),
        );
        Metrics {
            registry,
            interactions,
            reply_latency,
            quizzes_running,
            daily_posts,
            store_errors,
            rejected,
        }
    }

    /// Counts one interaction of `command` (a route's fixed name) that ended as `served`.
    pub(crate) fn interaction(&self, command: &'static str, served: Served) {
        let labels = InteractionLabels {
            command,
            outcome: served.label(),
        };
        self.interactions.get_or_create(&labels).inc();
    }

    pub(crate) fn reply_latency(&self, latency: Duration) {
        self.reply_latency.observe(latency.as_secs_f64());
    }

    pub(crate) fn daily_post_sent(&self) {
        self.daily_posts.inc();
    }

    pub(crate) fn rejected(&self, reason: Rejected) {
        let reason = match reason {
            Rejected::Signature => "signature",
            Rejected::Timestamp => "timestamp",
            Rejected::Malformed => "malformed",
        };
        self.rejected.get_or_create(&RejectedLabels { reason }).inc();
    }

    /// The counter `CountedStore` moves (shared: a clone counts into the same value).
    pub(crate) fn store_errors(&self) -> Counter {
        self.store_errors.clone()
    }

    /// The exposition in the Prometheus text format, with the gauge of quizzes driven read now.
    pub fn exposition(&self, quizzes_running: usize) -> String {
        self.quizzes_running
            .set(i64::try_from(quizzes_running).unwrap_or(i64::MAX));
        let mut text = String::new();
        // Writing into a `String` cannot fail; an encoder error would leave the text cut short, not panic.
        if let Err(error) = prometheus_client::encoding::prometheus_text::encode(&mut text, &self.registry) {
            tracing::error!("encoding the metrics failed: {error}");
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The value of the sample line that starts with `series` (name and labels), if there is one.
    fn sample(text: &str, series: &str) -> Option<f64> {
        text.lines()
            .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
            .and_then(|value| value.trim().parse().ok())
    }

    #[test]
    fn every_metric_is_exposed_under_its_prefixed_name_with_help_and_type() {
        let metrics = Metrics::new();
        // A family (a metric with labels) shows from its first series on.
        metrics.interaction("help", Served::Ok);
        metrics.rejected(Rejected::Timestamp);
        let text = metrics.exposition(0);
        for (name, kind) in [
            ("tsumiage_interactions_total", "counter"),
            ("tsumiage_reply_latency_seconds", "histogram"),
            ("tsumiage_quizzes_running", "gauge"),
            ("tsumiage_daily_posts_total", "counter"),
            ("tsumiage_store_errors_total", "counter"),
            ("tsumiage_http_rejected_total", "counter"),
        ] {
            assert!(text.contains(&format!("# TYPE {name} {kind}\n")), "{name}:\n{text}");
            assert!(text.contains(&format!("# HELP {name} ")), "{name}:\n{text}");
        }
        assert_eq!(sample(&text, "tsumiage_daily_posts_total"), Some(0.0), "{text}");
        assert_eq!(
            sample(&text, "tsumiage_reply_latency_seconds_count"),
            Some(0.0),
            "{text}"
        );
    }

    #[test]
    fn an_interaction_moves_its_counter_and_the_latency_histogram() {
        let metrics = Metrics::new();
        metrics.interaction("ask", Served::Ok);
        metrics.interaction("ask", Served::Ok);
        metrics.interaction("quiz_pick", Served::Refused);
        metrics.reply_latency(Duration::from_millis(4));
        metrics.reply_latency(Duration::from_millis(2500));
        let text = metrics.exposition(3);
        let ask = r#"tsumiage_interactions_total{command="ask",outcome="ok"}"#;
        assert_eq!(sample(&text, ask), Some(2.0), "{text}");
        let pick = r#"tsumiage_interactions_total{command="quiz_pick",outcome="refused"}"#;
        assert_eq!(sample(&text, pick), Some(1.0), "{text}");
        // No series for a pair that never happened.
        assert!(!text.contains(r#"command="ask",outcome="failed""#), "{text}");
        let bucket = |le: &str| sample(&text, &format!("tsumiage_reply_latency_seconds_bucket{{le=\"{le}\"}}"));
        assert_eq!(bucket("0.005"), Some(1.0), "{text}");
        assert_eq!(bucket("3"), Some(2.0), "{text}");
        assert_eq!(sample(&text, "tsumiage_reply_latency_seconds_count"), Some(2.0));
        assert_eq!(sample(&text, "tsumiage_quizzes_running"), Some(3.0));
    }

    #[test]
    fn outcomes_follow_the_handlers_refusals() {
        assert_eq!(Served::of(&Ok(serde_json::json!({}))), Served::Ok);
        assert_eq!(Served::of(&Err(Refusal::Told("no".into()))), Served::Refused);
        assert_eq!(Served::of(&Err(Refusal::Internal)), Served::Failed);
        let metrics = Metrics::new();
        metrics.rejected(Rejected::Signature);
        metrics.daily_post_sent();
        metrics.store_errors().inc();
        let text = metrics.exposition(0);
        assert_eq!(
            sample(&text, r#"tsumiage_http_rejected_total{reason="signature"}"#),
            Some(1.0)
        );
        assert_eq!(sample(&text, "tsumiage_daily_posts_total"), Some(1.0));
        assert_eq!(sample(&text, "tsumiage_store_errors_total"), Some(1.0));
    }
}
