//! The question bank split once, for good, into a tuning half and a held-out half by a fixed hash of each
//! question's id. A question keeps its half as others are added, renamed files notwithstanding, so the
//! held-out figure stays a measure of questions the weights were never fitted on.

/// Which half of the bank a question belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Half {
    /// Weights and thresholds may be chosen on these.
    Tuning,
    /// Only ever measured.
    HeldOut,
}

/// The half of the bank the question with this id belongs to: even hashes tune, odd ones are held out.
pub fn half_of(question_id: &str) -> Half {
    // FNV-1a (`stable_hash` from seed 0): fixed by its definition, unlike `std`'s hasher, which may change
    // between releases.
    if crate::order::stable_hash(0, question_id).is_multiple_of(2) {
        Half::Tuning
    } else {
        Half::HeldOut
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_split_hash_is_fnv1a_by_its_reference_values() {
        use crate::order::stable_hash;
        assert_eq!(stable_hash(0, ""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(stable_hash(0, "a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn the_split_of_two_ids_is_pinned() {
        // Changing the hash would move questions between the halves: the held-out figure would be void.
        assert_eq!(half_of("kinesis-001"), Half::HeldOut);
        assert_eq!(half_of("lambda-001"), Half::Tuning);
    }
}
