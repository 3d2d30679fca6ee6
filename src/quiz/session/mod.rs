//! One quiz in one channel, as a pure state machine: inputs (answers, ticks, reveal, stop) go in with the
//! time they happened, events come out. It asks `question_count` questions, each open for a time limit;
//! a player may change their pick once; an answer after the question closed is refused as late; the quiz
//! ends when the count is reached, when stopped, or after `silence_limit` with no answer from anyone. One
//! point per accepted answer; the scoreboard ranks ties together.
//!
//! Time comes only from the caller, so tests use a fake clock and the adapters sleep until
//! `next_deadline()`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::checker::Verdict;
use super::{Answer, QuizQuestion};
use crate::clock::Timestamp;

mod events;

pub use events::*;

/// A running quiz. It serialises whole, questions included, so a quiz can be saved after every input
/// and continued by another process from exactly where it was.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuizSession {
    questions: Vec<QuizQuestion>,
    settings: SessionSettings,
    phase: Phase,
    pending: BTreeMap<PlayerId, PendingAnswer>,
    totals: BTreeMap<PlayerId, Total>,
    last_activity: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct PendingAnswer {
    answer: Answer,
    changes: u8,
    at: Timestamp,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Total {
    points: u32,
    answered: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
enum Phase {
    Open {
        index: usize,
        asked_at: Timestamp,
        deadline: Timestamp,
    },
    Finished(SessionEnd),
}

impl QuizSession {
    /// Starts a quiz over the first `settings.question_count` of `questions` and asks the first one.
    pub fn start(
        mut questions: Vec<QuizQuestion>,
        settings: SessionSettings,
        now: Timestamp,
    ) -> (QuizSession, Vec<Event>) {
        questions.truncate(settings.question_count);
        let mut session = QuizSession {
            questions,
            settings,
            phase: Phase::Finished(SessionEnd::CountReached),
            pending: BTreeMap::new(),
            totals: BTreeMap::new(),
            last_activity: now,
        };
        let mut events = Vec::new();
        session.ask(0, now, &mut events);
        (session, events)
    }

    pub fn questions(&self) -> &[QuizQuestion] {
        &self.questions
    }

    /// The open question: its index, the question and when it closes.
    pub fn current(&self) -> Option<(usize, &QuizQuestion, Timestamp)> {
        match self.phase {
            Phase::Open { index, deadline, .. } => Some((index, &self.questions[index], deadline)),
            Phase::Finished(_) => None,
        }
    }

    pub fn is_finished(&self) -> bool {
        matches!(self.phase, Phase::Finished(_))
    }

    /// Why the quiz ended, once it has.
    pub fn end_reason(&self) -> Option<SessionEnd> {
        match self.phase {
            Phase::Finished(reason) => Some(reason),
            Phase::Open { .. } => None,
        }
    }

    /// When the next `Tick` has something to do.
    pub fn next_deadline(&self) -> Option<Timestamp> {
        match self.phase {
            Phase::Open { deadline, .. } => Some(deadline),
            Phase::Finished(_) => None,
        }
    }

    /// Handles one input at `now`; a question whose time ran out before `now` is closed first.
    pub fn handle(&mut self, input: Input, now: Timestamp) -> Vec<Event> {
        let mut events = Vec::new();
        self.close_expired(now, &mut events);
        match input {
            Input::Tick => {}
            Input::Join { player } => {
                self.totals.entry(player).or_default();
            }
            Input::Answer {
                player,
                question_index,
                answer,
            } => self.answer(player, question_index, answer, now, &mut events),
            Input::Reveal => {
                if let Phase::Open { .. } = self.phase {
                    self.close(CloseReason::Revealed, now, &mut events);
                }
            }
            Input::Stop => {
                if let Phase::Open { .. } = self.phase {
                    self.close(CloseReason::Stopped, now, &mut events);
                    self.finish(SessionEnd::Stopped, &mut events);
                }
            }
        }
        events
    }

    /// The scores so far, best first.
    pub fn scoreboard(&self) -> Vec<ScoreLine> {
        let mut lines: Vec<(&PlayerId, &Total)> = self.totals.iter().collect();
        lines.sort_by(|a, b| b.1.points.cmp(&a.1.points).then_with(|| a.0.cmp(b.0)));
        let mut board: Vec<ScoreLine> = Vec::with_capacity(lines.len());
        for (i, (player, total)) in lines.into_iter().enumerate() {
            let rank = match board.last() {
                Some(previous) if previous.points == total.points => previous.rank,
                _ => i as u32 + 1,
            };
            board.push(ScoreLine {
                rank,
                player: player.clone(),
                points: total.points,
                answered: total.answered,
            });
        }
        board
    }

    fn answer(
        &mut self,
        player: PlayerId,
        question_index: usize,
        answer: Answer,
        now: Timestamp,
        events: &mut Vec<Event>,
    ) {
        let index = match self.admissible(question_index, &answer) {
            Ok(index) => index,
            Err(reason) => {
                events.push(Event::AnswerRefused {
                    player,
                    index: question_index,
                    reason,
                });
                return;
            }
        };
        self.last_activity = now;
        self.totals.entry(player.clone()).or_default();
        let changed = match self.pending.get_mut(&player) {
            None => {
                self.pending.insert(
                    player.clone(),
                    PendingAnswer {
                        answer,
                        changes: 0,
                        at: now,
                    },
                );
                false
            }
            Some(pending) if pending.answer == answer => false,
            Some(pending) if pending.changes == 0 => {
                *pending = PendingAnswer {
                    answer,
                    changes: 1,
                    at: now,
                };
                true
            }
            Some(_) => {
                events.push(Event::AnswerRefused {
                    player,
                    index,
                    reason: Refusal::AlreadyChanged,
                });
                return;
            }
        };
        events.push(Event::AnswerAccepted { player, index, changed });
    }

    /// The open question's index if `answer` may be taken for question `question_index` now, else why not.
    fn admissible(&self, question_index: usize, answer: &Answer) -> Result<usize, Refusal> {
        let index = match self.phase {
            Phase::Finished(_) => return Err(Refusal::Finished),
            Phase::Open { index, .. } => index,
        };
        if question_index != index {
            return Err(Refusal::Late);
        }
        let question = &self.questions[index];
        let fits = match answer {
            Answer::Picks(labels) => {
                !question.is_cloze() && labels.iter().all(|l| question.choices.iter().any(|c| c.label == *l))
            }
            Answer::Text(_) => question.is_cloze(),
        };
        if !fits {
            return Err(Refusal::Invalid);
        }
        question
            .check_pick_count(answer)
            .map_err(|wrong| Refusal::WrongPickCount { wanted: wrong.wanted })?;
        Ok(index)
    }

    /// Closes every question whose deadline is at or before `now`, each at its own deadline, so a late
    /// tick gives the same result as a punctual one.
    fn close_expired(&mut self, now: Timestamp, events: &mut Vec<Event>) {
        while let Phase::Open { deadline, .. } = self.phase {
            if now < deadline {
                break;
            }
            self.close(CloseReason::TimeUp, deadline, events);
        }
    }

    /// Scores the open question, then asks the next one or ends the quiz.
    fn close(&mut self, reason: CloseReason, at: Timestamp, events: &mut Vec<Event>) {
        let Phase::Open { index, asked_at, .. } = self.phase else {
            return;
        };
        let question = &self.questions[index];
        let mut pending = std::mem::take(&mut self.pending);
        let mut results = Vec::new();
        for (player, total) in self.totals.iter_mut() {
            let result = match pending.remove(player) {
                Some(given) => {
                    let verdict = question.check(&given.answer).verdict;
                    let points = u32::from(verdict.scores());
                    total.points += points;
                    total.answered += 1;
                    PlayerResult {
                        player: player.clone(),
                        answer: Some(given.answer),
                        verdict,
                        points,
                        answered_at: given.at,
                        elapsed_ms: given.at.millis_since(asked_at),
                    }
                }
                None => PlayerResult {
                    player: player.clone(),
                    answer: None,
                    verdict: Verdict::Wrong,
                    points: 0,
                    answered_at: at,
                    elapsed_ms: at.millis_since(asked_at),
                },
            };
            results.push(result);
        }
        events.push(Event::QuestionClosed {
            index,
            reason,
            canonical: question.canonical(),
            results,
        });
        if reason == CloseReason::Stopped {
            return;
        }
        if index + 1 >= self.questions.len() {
            self.finish(SessionEnd::CountReached, events);
        } else if at.millis_since(self.last_activity) >= self.settings.silence_limit_ms {
            self.finish(SessionEnd::Silence, events);
        } else {
            self.ask(index + 1, at, events);
        }
    }

    fn ask(&mut self, index: usize, now: Timestamp, events: &mut Vec<Event>) {
        if index >= self.questions.len() {
            self.finish(SessionEnd::CountReached, events);
            return;
        }
        let deadline = now.plus_millis(self.settings.time_limit_ms);
        self.phase = Phase::Open {
            index,
            asked_at: now,
            deadline,
        };
        events.push(Event::QuestionAsked { index, deadline });
    }

    fn finish(&mut self, reason: SessionEnd, events: &mut Vec<Event>) {
        self.phase = Phase::Finished(reason);
        events.push(Event::Finished {
            reason,
            scoreboard: self.scoreboard(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn question(id: &str, correct: char) -> QuizQuestion {
        QuizQuestion::sample(id, 3, correct)
    }

    fn settings(count: usize) -> SessionSettings {
        SessionSettings {
            question_count: count,
            time_limit_ms: 20_000,
            silence_limit_ms: 120_000,
        }
    }

    fn pick(player: &str, index: usize, label: char) -> Input {
        Input::Answer {
            player: player.into(),
            question_index: index,
            answer: Answer::Picks(vec![label]),
        }
    }

    fn closed(events: &[Event]) -> Vec<&PlayerResult> {
        events
            .iter()
            .flat_map(|e| match e {
                Event::QuestionClosed { results, .. } => results.iter().collect(),
                _ => Vec::new(),
            })
            .collect()
    }

    fn t(seconds: i64) -> Timestamp {
        Timestamp(1_000_000 + seconds * 1000)
    }

    #[test]
    fn a_question_closes_at_its_time_limit_and_the_next_is_asked() {
        let questions = vec![question("q1", 'A'), question("q2", 'B')];
        let (mut session, events) = QuizSession::start(questions, settings(2), t(0));
        assert_eq!(
            events,
            vec![Event::QuestionAsked {
                index: 0,
                deadline: t(20)
            }]
        );
        assert!(
            session
                .handle(pick("alice", 0, 'A'), t(5))
                .contains(&Event::AnswerAccepted {
                    player: "alice".into(),
                    index: 0,
                    changed: false
                })
        );
        assert!(session.handle(Input::Tick, t(19)).is_empty());
        let events = session.handle(Input::Tick, t(20));
        let results = closed(&events);
        assert_eq!(results.len(), 1);
        assert_eq!(
            (results[0].verdict, results[0].points, results[0].elapsed_ms),
            (Verdict::Correct, 1, 5_000)
        );
        assert_eq!(
            events.last(),
            Some(&Event::QuestionAsked {
                index: 1,
                deadline: t(40)
            })
        );
        // Alice lets the second question time out: a miss, recorded as no answer.
        let events = session.handle(Input::Tick, t(41));
        let results = closed(&events);
        assert_eq!((results[0].answer.as_ref(), results[0].verdict), (None, Verdict::Wrong));
        match events.last() {
            Some(Event::Finished {
                reason: SessionEnd::CountReached,
                scoreboard,
            }) => {
                assert_eq!(
                    scoreboard,
                    &[ScoreLine {
                        rank: 1,
                        player: "alice".into(),
                        points: 1,
                        answered: 1
                    }]
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn one_change_of_pick_is_allowed_and_a_second_is_refused() {
        let (mut session, _) = QuizSession::start(vec![question("q1", 'B')], settings(1), t(0));
        session.handle(pick("bob", 0, 'A'), t(1));
        let events = session.handle(pick("bob", 0, 'B'), t(2));
        assert_eq!(
            events,
            vec![Event::AnswerAccepted {
                player: "bob".into(),
                index: 0,
                changed: true
            }]
        );
        let events = session.handle(pick("bob", 0, 'C'), t(3));
        assert_eq!(
            events,
            vec![Event::AnswerRefused {
                player: "bob".into(),
                index: 0,
                reason: Refusal::AlreadyChanged
            }]
        );
        // Repeating the current pick is not a change.
        assert_eq!(session.handle(pick("bob", 0, 'B'), t(4)).len(), 1);
        let events = session.handle(Input::Reveal, t(5));
        let results = closed(&events);
        assert_eq!(
            (results[0].answer.clone(), results[0].verdict),
            (Some(Answer::Picks(vec!['B'])), Verdict::Correct)
        );
        assert_eq!(results[0].elapsed_ms, 2_000, "timed from the pick that counted");
    }

    #[test]
    fn late_answers_are_refused() {
        let (mut session, _) = QuizSession::start(vec![question("q1", 'A'), question("q2", 'A')], settings(2), t(0));
        // Exactly at the deadline the question is closed: the answer is late, for question 0.
        let events = session.handle(pick("carol", 0, 'A'), t(20));
        assert!(matches!(
            events[0],
            Event::QuestionClosed {
                index: 0,
                reason: CloseReason::TimeUp,
                ..
            }
        ));
        assert!(events.contains(&Event::AnswerRefused {
            player: "carol".into(),
            index: 0,
            reason: Refusal::Late
        }));
        // A click on the old question's button while the next one is open is late too.
        let events = session.handle(pick("carol", 0, 'A'), t(25));
        assert_eq!(
            events,
            vec![Event::AnswerRefused {
                player: "carol".into(),
                index: 0,
                reason: Refusal::Late
            }]
        );
        session.handle(Input::Stop, t(26));
        let events = session.handle(pick("carol", 1, 'A'), t(27));
        assert_eq!(
            events,
            vec![Event::AnswerRefused {
                player: "carol".into(),
                index: 1,
                reason: Refusal::Finished
            }]
        );
    }

    #[test]
    fn ties_share_a_rank_with_many_players() {
        let questions = vec![question("q1", 'A'), question("q2", 'B')];
        let (mut session, _) = QuizSession::start(questions, settings(2), t(0));
        for (player, label) in [("ann", 'A'), ("ben", 'A'), ("cat", 'C'), ("dan", 'A')] {
            session.handle(pick(player, 0, label), t(1));
        }
        session.handle(Input::Reveal, t(2));
        for (player, label) in [("ann", 'B'), ("ben", 'B'), ("cat", 'B')] {
            session.handle(pick(player, 1, label), t(3));
        }
        let events = session.handle(Input::Reveal, t(4));
        let Some(Event::Finished { scoreboard, .. }) = events.last() else {
            panic!("{events:?}")
        };
        let board: Vec<(u32, &str, u32)> = scoreboard
            .iter()
            .map(|l| (l.rank, l.player.as_str(), l.points))
            .collect();
        assert_eq!(board, vec![(1, "ann", 2), (1, "ben", 2), (3, "cat", 1), (3, "dan", 1)]);
    }

    #[test]
    fn silence_ends_the_quiz() {
        let questions: Vec<QuizQuestion> = (0..20).map(|i| question(&format!("q{i}"), 'A')).collect();
        let (mut session, _) = QuizSession::start(questions, settings(20), t(0));
        session.handle(pick("eve", 0, 'A'), t(1));
        // Nobody answers after t=1: the question closing at or after t=121 ends the quiz.
        let events = session.handle(Input::Tick, t(119));
        assert!(!events.iter().any(|e| matches!(e, Event::Finished { .. })));
        let events = session.handle(Input::Tick, t(140));
        assert!(
            matches!(
                events.last(),
                Some(Event::Finished {
                    reason: SessionEnd::Silence,
                    ..
                })
            ),
            "{events:?}"
        );
        assert!(session.is_finished());
        assert_eq!(session.scoreboard()[0].points, 1);
    }

    #[test]
    fn a_late_tick_closes_each_question_at_its_own_deadline() {
        let questions = vec![question("q1", 'A'), question("q2", 'A'), question("q3", 'A')];
        let (mut session, _) = QuizSession::start(questions, settings(3), t(0));
        let events = session.handle(Input::Tick, t(45));
        let asked: Vec<&Event> = events
            .iter()
            .filter(|e| matches!(e, Event::QuestionAsked { .. }))
            .collect();
        assert_eq!(
            asked,
            vec![
                &Event::QuestionAsked {
                    index: 1,
                    deadline: t(40)
                },
                &Event::QuestionAsked {
                    index: 2,
                    deadline: t(60)
                }
            ]
        );
    }

    #[test]
    fn a_session_saved_and_loaded_mid_question_continues_exactly_as_the_original() {
        let questions = vec![question("q1", 'A'), question("q2", 'B')];
        let (mut original, _) = QuizSession::start(questions, settings(2), t(0));
        original.handle(pick("ann", 0, 'C'), t(1));
        original.handle(pick("ann", 0, 'A'), t(2));
        original.handle(Input::Join { player: "ben".into() }, t(3));
        let saved = serde_json::to_string(&original).unwrap();
        let mut loaded: QuizSession = serde_json::from_str(&saved).unwrap();
        assert_eq!(loaded, original);
        // The same inputs give the same events: the one change of pick is used up, ben's miss counts.
        for input in [pick("ann", 0, 'B'), Input::Tick, pick("ben", 1, 'B')] {
            assert_eq!(loaded.handle(input.clone(), t(25)), original.handle(input, t(25)));
        }
        assert_eq!(loaded.handle(Input::Tick, t(60)), original.handle(Input::Tick, t(60)));
        assert_eq!(loaded.scoreboard(), original.scoreboard());
    }

    #[test]
    fn stop_scores_the_answers_already_given_and_wrong_kinds_are_invalid() {
        let (mut session, _) = QuizSession::start(vec![question("q1", 'A'), question("q2", 'A')], settings(2), t(0));
        let events = session.handle(
            Input::Answer {
                player: "fay".into(),
                question_index: 0,
                answer: Answer::Text("A".into()),
            },
            t(1),
        );
        assert_eq!(
            events,
            vec![Event::AnswerRefused {
                player: "fay".into(),
                index: 0,
                reason: Refusal::Invalid
            }]
        );
        session.handle(pick("fay", 0, 'A'), t(2));
        let events = session.handle(Input::Stop, t(3));
        assert!(matches!(
            events[0],
            Event::QuestionClosed {
                reason: CloseReason::Stopped,
                ..
            }
        ));
        assert!(matches!(
            events.last(),
            Some(Event::Finished {
                reason: SessionEnd::Stopped,
                ..
            })
        ));
        assert_eq!(session.scoreboard()[0].points, 1);
    }
}
