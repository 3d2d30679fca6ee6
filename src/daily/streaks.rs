//! Each member's streaks. They count posted slots only: a slot the bot never posted (it was down) is not a
//! miss. A posted slot that a member did not answer ends both streaks; a wrong answer ends the correct
//! streak only. The slot still open for answers does not count against anyone yet.

use std::collections::{BTreeMap, HashMap};

/// A member's current streaks, in posted slots.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Streak {
    /// Consecutive posted slots answered correctly.
    pub correct: u32,
    /// Consecutive posted slots answered at all.
    pub answered: u32,
}

/// Every member's streaks. `posted` is the server's posted slots, oldest first; `answers` is (slot, user,
/// correct), the user being any key (the store's user id); `open` is the slot still taking answers, if any.
pub fn streaks<User: Ord + Copy>(
    posted: &[String],
    answers: &[(String, User, bool)],
    open: Option<&str>,
) -> BTreeMap<User, Streak> {
    let mut by_user: BTreeMap<User, HashMap<&str, bool>> = BTreeMap::new();
    for (slot, user, correct) in answers {
        by_user.entry(*user).or_default().insert(slot.as_str(), *correct);
    }
    by_user
        .into_iter()
        .map(|(user, answered)| (user, streak(posted, &answered, open)))
        .collect()
}

/// One member's streaks from their answers by slot.
pub fn streak(posted: &[String], answers: &HashMap<&str, bool>, open: Option<&str>) -> Streak {
    let mut streak = Streak::default();
    let mut correct_run = true;
    for slot in posted.iter().rev() {
        match answers.get(slot.as_str()) {
            None if open == Some(slot.as_str()) => continue,
            None => break,
            Some(&correct) => {
                streak.answered += 1;
                correct_run &= correct;
                if correct_run {
                    streak.correct += 1;
                }
            }
        }
    }
    streak
}

#[cfg(test)]
mod tests {
    use super::*;
    fn slots(n: usize) -> Vec<String> {
        (1..=n).map(|d| format!("2026-11-{d:02}")).collect()
    }

    #[test]
    fn streaks_count_posted_slots_and_a_miss_resets() {
        let posted = slots(5);
        let answers = vec![
            // user 1: right every day
            ("2026-11-01".to_string(), 1, true),
            ("2026-11-02".to_string(), 1, true),
            ("2026-11-03".to_string(), 1, true),
            ("2026-11-04".to_string(), 1, true),
            ("2026-11-05".to_string(), 1, true),
            // user 2: wrong on the 4th, answered every day
            ("2026-11-01".to_string(), 2, true),
            ("2026-11-02".to_string(), 2, true),
            ("2026-11-03".to_string(), 2, true),
            ("2026-11-04".to_string(), 2, false),
            ("2026-11-05".to_string(), 2, true),
            // user 3: missed the 3rd
            ("2026-11-01".to_string(), 3, true),
            ("2026-11-02".to_string(), 3, true),
            ("2026-11-04".to_string(), 3, true),
            ("2026-11-05".to_string(), 3, true),
        ];
        let all = streaks(&posted, &answers, None);
        assert_eq!(
            all[&1],
            Streak {
                correct: 5,
                answered: 5
            }
        );
        assert_eq!(
            all[&2],
            Streak {
                correct: 1,
                answered: 5
            }
        );
        assert_eq!(
            all[&3],
            Streak {
                correct: 2,
                answered: 2
            }
        );
    }

    #[test]
    fn an_outage_does_not_reset_and_the_open_slot_does_not_count_yet() {
        // The 3rd was never posted (the bot was down): not in `posted`, so not a miss.
        let posted: Vec<String> = ["2026-11-01", "2026-11-02", "2026-11-04"].map(String::from).to_vec();
        let answers = vec![
            ("2026-11-01".to_string(), 1, true),
            ("2026-11-02".to_string(), 1, true),
            ("2026-11-04".to_string(), 1, true),
        ];
        assert_eq!(
            streaks(&posted, &answers, None)[&1],
            Streak {
                correct: 3,
                answered: 3
            }
        );
        // Today's slot is posted and open: not answered yet is not a miss…
        let mut posted = posted;
        posted.push("2026-11-05".into());
        assert_eq!(
            streaks(&posted, &answers, Some("2026-11-05"))[&1],
            Streak {
                correct: 3,
                answered: 3
            }
        );
        // …but once it is revealed, it is.
        assert_eq!(streaks(&posted, &answers, None)[&1], Streak::default());
    }
}
