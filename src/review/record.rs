//! Recording a quiz answer: the attempt and the player's card it reviewed, in one store transaction, the
//! same way for the terminal quiz and the Discord quiz.

use super::{Answered, Scheduler, Timing, card_after};
use crate::quiz::session::PlayerResult;
use crate::quiz::{Answer, QuizQuestion};
use crate::store::{Attempt, Cards, Result, SessionId, Sessions, Users};

/// One player's answer to one question of a session, as both the terminal and Discord record it.
pub struct AnswerRecord<'a> {
    pub session: SessionId,
    /// Position of the question in the session.
    pub index: usize,
    pub question: &'a QuizQuestion,
    /// The player's name as the store knows it.
    pub player: &'a str,
    pub result: &'a PlayerResult,
    pub time_limit_ms: i64,
}

/// Records an answer: the attempt and the player's updated review card, in one store transaction
/// (a replay of the same answer changes nothing).
pub fn record_answer<S: Users + Sessions + Cards + ?Sized>(
    store: &mut S,
    scheduler: &Scheduler,
    record: &AnswerRecord,
) -> Result<()> {
    let result = record.result;
    let user = store.user(record.player, result.answered_at)?;
    let answered = Answered {
        user,
        question_id: &record.question.id,
        verdict: result.verdict,
        timing: Timing::Limited {
            elapsed_ms: result.elapsed_ms,
            limit_ms: record.time_limit_ms,
        },
        at: result.answered_at,
    };
    let card = card_after(store, scheduler, &answered)?;
    let attempt = Attempt {
        session: record.session,
        question_index: record.index,
        question_id: record.question.id.clone(),
        user,
        answer: result.answer.as_ref().map(Answer::display).unwrap_or_default(),
        picked: result
            .answer
            .as_ref()
            .map(|answer| record.question.picked_keys(answer))
            .unwrap_or_default(),
        correct: result.verdict.scores(),
        answered_at: result.answered_at,
        elapsed_ms: result.elapsed_ms,
    };
    store.record_attempt(&attempt, Some(&card))?;
    Ok(())
}
