//! What goes in and out of a quiz session: its settings, the inputs the adapters feed it, the events it
//! answers with (a question asked, an answer accepted or refused and why, a question closed with each
//! player's result, the quiz finished), and how a session ended.

use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;
use crate::quiz::Answer;
use crate::quiz::checker::Verdict;

/// A player's id in this channel (a user name in the terminal, a user id on Discord).
pub type PlayerId = String;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionSettings {
    pub question_count: usize,
    /// How long each question stays open.
    pub time_limit_ms: i64,
    /// The quiz ends when nobody has answered for this long.
    pub silence_limit_ms: i64,
}

impl Default for SessionSettings {
    fn default() -> Self {
        SessionSettings {
            question_count: 10,
            time_limit_ms: 20_000,
            silence_limit_ms: 120_000,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A player takes part from now on: a question they leave unanswered counts as a miss.
    Join {
        player: PlayerId,
    },
    /// An answer to the question at `question_index` (so a click on an old question's button is late).
    Answer {
        player: PlayerId,
        question_index: usize,
        answer: Answer,
    },
    /// Time passes: closes a question whose time is up, ends a silent quiz.
    Tick,
    /// Close the current question now (the terminal does so once its only player has answered).
    Reveal,
    Stop,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Refusal {
    /// The question was already closed.
    Late,
    /// The pick was already changed once.
    AlreadyChanged,
    /// Not a valid answer to this question (an unknown letter, text for a multiple-choice question).
    Invalid,
    /// The quiz is over.
    Finished,
    /// Another number of picks than the question asks for (`QuizQuestion::check_pick_count`).
    WrongPickCount { wanted: usize },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CloseReason {
    TimeUp,
    Revealed,
    Stopped,
}

/// One player's outcome on one question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlayerResult {
    pub player: PlayerId,
    /// `None` when the player let the time run out.
    pub answer: Option<Answer>,
    pub verdict: Verdict,
    pub points: u32,
    pub answered_at: Timestamp,
    /// From the question being asked to the (final) answer.
    pub elapsed_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScoreLine {
    /// Competition ranking: ties share a rank (1, 1, 3).
    pub rank: u32,
    pub player: PlayerId,
    pub points: u32,
    pub answered: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Event {
    QuestionAsked {
        index: usize,
        deadline: Timestamp,
    },
    AnswerAccepted {
        player: PlayerId,
        index: usize,
        changed: bool,
    },
    AnswerRefused {
        player: PlayerId,
        index: usize,
        reason: Refusal,
    },
    QuestionClosed {
        index: usize,
        reason: CloseReason,
        canonical: String,
        results: Vec<PlayerResult>,
    },
    Finished {
        reason: SessionEnd,
        scoreboard: Vec<ScoreLine>,
    },
}

/// How a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum SessionEnd {
    CountReached,
    Stopped,
    Silence,
    /// The process died mid-session; closed when the store was next opened.
    Interrupted,
}

impl SessionEnd {
    pub fn as_str(self) -> &'static str {
        match self {
            SessionEnd::CountReached => "count_reached",
            SessionEnd::Stopped => "stopped",
            SessionEnd::Silence => "silence",
            SessionEnd::Interrupted => "interrupted",
        }
    }

    pub fn parse(text: &str) -> Option<SessionEnd> {
        Some(match text {
            "count_reached" => SessionEnd::CountReached,
            "stopped" => SessionEnd::Stopped,
            "silence" => SessionEnd::Silence,
            "interrupted" => SessionEnd::Interrupted,
            _ => return None,
        })
    }
}
