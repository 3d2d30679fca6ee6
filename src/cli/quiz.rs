//! The quiz commands: `quiz` (bank questions, topped up with questions generated from the notes), `review`
//! (due cards, then recent misses), `stats` and `flags`. A quiz reads answers line by line from standard
//! input (so it can be piped), drives the core's `QuizSession` with the wall clock, and writes every
//! attempt, card and final score to the store as it goes: a killed process loses at most the answer being
//! written, and the next start closes the interrupted session.

mod render;

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Args;

use tsumiage::clock::{Clock, SystemClock};
use tsumiage::quiz::session::{CloseReason, Event, Input, PlayerResult, QuizSession, SessionSettings};
use tsumiage::quiz::{QuizQuestion, select};
use tsumiage::review::{AnswerRecord, Scheduler, record_answer, review_order};
use tsumiage::store::owner::{still_running, this_process};
use tsumiage::store::{FinalScore, NewFlag, NewSession, SessionId, Store, UserId, is_postgres_url};

use super::App;

#[derive(Args)]
pub struct QuizArgs {
    /// Only questions about this service, tag, exam domain or file (e.g. `kinesis`).
    #[arg(long, value_name = "T")]
    topic: Option<String>,
    /// How many questions (1–100).
    #[arg(long, value_name = "N", default_value_t = 10, value_parser = question_count)]
    count: usize,
    /// Seconds to answer each question (1–3600).
    #[arg(long, value_name = "S", default_value_t = 20, value_parser = seconds_to_answer)]
    seconds: u64,
    /// Who is playing (default: $USER).
    #[arg(long, value_name = "NAME")]
    user: Option<String>,
    /// Use only the question bank, never generated questions.
    #[arg(long)]
    bank_only: bool,
    /// Order questions reproducibly (for tests and shared runs).
    #[arg(long, hide = true)]
    seed: Option<u64>,
}

#[derive(Args)]
pub struct ReviewArgs {
    /// How many cards at most (1–100).
    #[arg(long, value_name = "N", default_value_t = 10, value_parser = question_count)]
    count: usize,
    /// Seconds to answer each question (1–3600).
    #[arg(long, value_name = "S", default_value_t = 20, value_parser = seconds_to_answer)]
    seconds: u64,
    /// Who is reviewing (default: $USER).
    #[arg(long, value_name = "NAME")]
    user: Option<String>,
}

#[derive(Args)]
pub struct UserArgs {
    /// Whose numbers (default: $USER).
    #[arg(long, value_name = "NAME")]
    user: Option<String>,
}

/// `--count`: a whole number of questions, 1 to 100.
fn question_count(value: &str) -> Result<usize, String> {
    in_range(value, 1, 100, "questions")
}

/// `--seconds`: a whole number of seconds, 1 to 3600.
fn seconds_to_answer(value: &str) -> Result<u64, String> {
    in_range(value, 1, 3600, "seconds").map(|n| n as u64)
}

fn in_range(value: &str, min: usize, max: usize, unit: &str) -> Result<usize, String> {
    match value.trim().parse::<usize>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(format!("expected a whole number of {unit} from {min} to {max}")),
    }
}

fn user_name(given: Option<String>) -> String {
    given
        .or_else(|| std::env::var("USER").ok())
        .or_else(|| std::env::var("USERNAME").ok())
        .filter(|name| !name.trim().is_empty())
        .unwrap_or_else(|| "me".to_string())
}

/// Opens the store and closes sessions a killed process left open, saying so.
fn open_store(app: &App) -> Result<Box<dyn Store>> {
    let path = &app.config.paths.store;
    let mut store = super::open_store(path)?;
    close_interrupted(app, &mut *store)?;
    Ok(store)
}

/// Closes the sessions of quizzes whose process died (their answers are kept), and says so.
fn close_interrupted(app: &App, store: &mut dyn Store) -> Result<()> {
    let closed = store
        .close_interrupted_sessions(SystemClock.now(), &still_running)
        .context("closing interrupted sessions")?;
    if !closed.is_empty() {
        eprintln!("{}", render::interrupted_closed(app.locale(), closed.len()));
    }
    Ok(())
}

pub fn quiz_command(app: &App, args: QuizArgs) -> Result<ExitCode> {
    let seed = args.seed.unwrap_or_else(|| SystemClock.now().millis() as u64);
    let topic = args.topic.as_deref().unwrap_or("");
    let library = app.load_library()?;
    let request = select::Request {
        topic: &select::Topic::new(topic),
        count: args.count,
        seed,
        one_pick_only: false,
        bank_only: args.bank_only,
    };
    let questions = select::pick(&library, &request);
    if questions.is_empty() {
        println!("{}", render::no_questions(app.locale(), topic));
        return Ok(ExitCode::FAILURE);
    }
    let mut store = open_store(app)?;
    let settings = settings(questions.len(), args.seconds);
    println!(
        "{}",
        render::quiz_intro(app.locale(), settings.question_count, settings.time_limit_ms / 1000)
    );
    play(app, &mut *store, questions, settings, &user_name(args.user))
}

pub fn review_command(app: &App, args: ReviewArgs) -> Result<ExitCode> {
    let mut store = open_store(app)?;
    let name = user_name(args.user);
    let now = SystemClock.now();
    let user = store.user(&name, now)?;
    let due = store.due_cards(user, now, args.count)?;
    let misses = store.recent_misses(user, args.count)?;
    let order = review_order(&due, &misses, args.count);
    if order.is_empty() {
        println!("{}", render::nothing_to_review(app.locale()));
        return Ok(ExitCode::SUCCESS);
    }
    let library = app.load_library()?;
    // A card whose question was deleted from the notes is skipped, not an error.
    // Choices in an order of their own each time, so a card is not remembered by its letter.
    let seed = now.millis() as u64;
    let questions: Vec<QuizQuestion> = order
        .iter()
        .filter_map(|id| library.question(id))
        .map(|question| question.presented(seed))
        .collect();
    if questions.is_empty() {
        println!("{}", render::nothing_to_review(app.locale()));
        return Ok(ExitCode::SUCCESS);
    }
    let settings = settings(questions.len(), args.seconds);
    println!(
        "{}",
        render::review_intro(app.locale(), settings.question_count, settings.time_limit_ms / 1000)
    );
    play(app, &mut *store, questions, settings, &name)
}

/// A player the store does not know is reported, never created (nor is the store file): nothing is
/// written then. For a known player, quizzes a dead process left open are closed first, so they count.
pub fn stats_command(app: &App, args: UserArgs) -> Result<ExitCode> {
    let name = user_name(args.user);
    let path = &app.config.paths.store;
    let store = if is_postgres_url(&path.to_string_lossy()) || path.exists() {
        Some(super::open_store(path)?)
    } else {
        None
    };
    let user = match &store {
        Some(store) => store.find_user(&name)?,
        None => None,
    };
    let (Some(mut store), Some(user)) = (store, user) else {
        eprintln!("{}", render::unknown_player(app.locale(), &name, path));
        return Ok(ExitCode::FAILURE);
    };
    close_interrupted(app, &mut *store)?;
    let now = SystemClock.now();
    let stats = store.stats(user, now)?;
    let misses = store.recent_misses(user, 5)?;
    print!("{}", render::stats(app.locale(), &name, &stats, &misses));
    Ok(ExitCode::SUCCESS)
}

pub fn flags_command(app: &App) -> Result<ExitCode> {
    let store = open_store(app)?;
    let flags = store.flags()?;
    print!("{}", render::flags(app.locale(), &app.config.paths.notes, &flags));
    Ok(ExitCode::SUCCESS)
}

fn settings(count: usize, seconds: u64) -> SessionSettings {
    SessionSettings {
        question_count: count,
        time_limit_ms: seconds.max(1) as i64 * 1000,
        ..SessionSettings::default()
    }
}

/// Standard input, line by line, on a thread: the quiz waits for a line or a deadline, whichever is first.
fn stdin_lines() -> Receiver<String> {
    let (sender, receiver) = channel();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    receiver
}

/// One terminal quiz, from first question to summary.
struct Game<'a> {
    app: &'a App,
    store: &'a mut dyn Store,
    scheduler: Scheduler,
    session_id: SessionId,
    user: UserId,
    name: String,
    time_limit_ms: i64,
    /// The question last revealed: `!flag` once the quiz is over is about it.
    last_revealed: Option<usize>,
    /// Questions asked to the end (a question left unanswered at `!stop` does not count).
    asked: usize,
    terminal: bool,
}

fn play(
    app: &App,
    store: &mut dyn Store,
    questions: Vec<QuizQuestion>,
    settings: SessionSettings,
    name: &str,
) -> Result<ExitCode> {
    let now = SystemClock.now();
    let user = store.user(name, now)?;
    let channel = format!("terminal:{name}");
    let session_id = store.start_session(&NewSession {
        channel,
        started_at: now,
        question_count: questions.len(),
        owner: this_process(),
    })?;
    let mut game = Game {
        app,
        store,
        scheduler: Scheduler::default(),
        session_id,
        user,
        name: name.to_string(),
        time_limit_ms: settings.time_limit_ms,
        last_revealed: None,
        asked: 0,
        terminal: std::io::stdin().is_terminal() && std::io::stdout().is_terminal(),
    };
    let (mut session, events) = QuizSession::start(questions, settings, now);
    session.handle(
        Input::Join {
            player: name.to_string(),
        },
        now,
    );
    game.show(&session, events)?;
    let lines = stdin_lines();
    while !session.is_finished() {
        let now = SystemClock.now();
        let deadline = session.next_deadline().unwrap_or(now);
        // On a terminal the countdown is redrawn every second; piped, the quiz just waits.
        let wait = deadline
            .millis_since(now)
            .min(if game.terminal { 1000 } else { i64::MAX })
            .max(1);
        let input = match lines.recv_timeout(Duration::from_millis(wait as u64)) {
            Ok(line) => game.read_line(&session, &line)?,
            Err(RecvTimeoutError::Timeout) => {
                if game.terminal
                    && let Some(deadline) = session.next_deadline()
                {
                    eprint!(
                        "\r{} ",
                        render::remaining(app.locale(), deadline.millis_since(SystemClock.now()))
                    );
                }
                vec![Input::Tick]
            }
            // End of input: stop cleanly, as `!stop` would.
            Err(RecvTimeoutError::Disconnected) => vec![Input::Stop],
        };
        for input in input {
            let events = session.handle(input, SystemClock.now());
            game.show(&session, events)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

impl Game<'_> {
    /// Turns a typed line into inputs; commands (`!flag`, `!stop`) are handled here.
    fn read_line(&mut self, session: &QuizSession, line: &str) -> Result<Vec<Input>> {
        let line = line.trim();
        let locale = self.app.locale();
        if line.is_empty() {
            return Ok(Vec::new());
        }
        if let Some(reason) = line.strip_prefix("!flag") {
            // The question on screen; once the quiz is over, the last one revealed.
            let index = session.current().map(|(index, _, _)| index).or(self.last_revealed);
            if let Some(question) = index.and_then(|i| session.questions().get(i)) {
                let flag = NewFlag {
                    question_id: question.id.clone(),
                    user: self.user,
                    reason: reason.trim().to_string(),
                    path: question.origin.path.clone(),
                    line: question.origin.line,
                    session: Some(self.session_id),
                    created_at: SystemClock.now(),
                };
                self.store.add_flag(&flag)?;
                println!("{}", render::flagged(locale, &self.app.config.paths.notes, question));
            }
            return Ok(Vec::new());
        }
        if matches!(line, "!stop" | "!quit" | "!q") {
            return Ok(vec![Input::Stop]);
        }
        let Some((index, question, _)) = session.current() else {
            return Ok(Vec::new());
        };
        match question.parse_answer(line) {
            Some(answer) if question.check_pick_count(&answer).is_err() => {
                println!("{}", render::pick_count(locale, question.picks_wanted()));
                Ok(Vec::new())
            }
            // The only player has answered: reveal at once.
            Some(answer) => Ok(vec![
                Input::Answer {
                    player: self.name.clone(),
                    question_index: index,
                    answer,
                },
                Input::Reveal,
            ]),
            None => {
                println!("{}", render::answer_hint(locale, question));
                Ok(Vec::new())
            }
        }
    }

    fn show(&mut self, session: &QuizSession, events: Vec<Event>) -> Result<()> {
        let locale = self.app.locale();
        let notes_root = self.app.config.paths.notes.clone();
        for event in events {
            match event {
                Event::QuestionAsked { index, .. } => {
                    let question = &session.questions()[index];
                    print!(
                        "{}",
                        render::question(
                            locale,
                            index,
                            session.questions().len(),
                            question,
                            self.time_limit_ms / 1000
                        )
                    );
                }
                Event::QuestionClosed {
                    index, reason, results, ..
                } => {
                    let question = &session.questions()[index];
                    for result in &results {
                        // Leaving a quiz is not a wrong answer: an unanswered question at `!stop` is not recorded.
                        if reason == CloseReason::Stopped && result.answer.is_none() {
                            continue;
                        }
                        self.record(index, question, result)?;
                        if self.terminal {
                            eprint!("\r");
                        }
                        print!("{}", render::reveal(locale, &notes_root, question, result, reason));
                    }
                    self.last_revealed = Some(index);
                    if reason != CloseReason::Stopped || results.iter().any(|r| r.answer.is_some()) {
                        self.asked += 1;
                    }
                }
                Event::Finished { reason, scoreboard } => {
                    let mut scores = Vec::with_capacity(scoreboard.len());
                    for line in &scoreboard {
                        let user = self.store.user(&line.player, SystemClock.now())?;
                        scores.push(FinalScore {
                            user,
                            points: line.points,
                            rank: line.rank,
                        });
                    }
                    self.store
                        .finish_session(self.session_id, reason, SystemClock.now(), &scores)?;
                    let attempts = self.store.attempts(self.session_id)?;
                    print!(
                        "{}",
                        render::summary(
                            locale,
                            &notes_root,
                            session.questions(),
                            &scoreboard,
                            &attempts,
                            self.asked,
                            reason
                        )
                    );
                }
                Event::AnswerAccepted { .. } => {}
                Event::AnswerRefused { reason, .. } => println!("{}", render::refused(locale, reason)),
            }
        }
        std::io::stdout().flush()?;
        Ok(())
    }

    /// The attempt and the updated card, in one transaction.
    fn record(&mut self, index: usize, question: &QuizQuestion, result: &PlayerResult) -> Result<()> {
        let record = AnswerRecord {
            session: self.session_id,
            index,
            question,
            player: &result.player,
            result,
            time_limit_ms: self.time_limit_ms,
        };
        record_answer(self.store, &self.scheduler, &record).context("recording the answer")
    }
}
