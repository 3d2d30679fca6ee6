//! Order that looks random and is reproducible: one seeded permutation (`shuffle`, a ChaCha8 generator
//! from `rand_chacha`) that the terminal quiz, the Discord quiz, the daily pick and the order of a
//! question's choices all use, and `stable_hash` for the places that need a plain hash of a text (nonces,
//! markers, a choice's identity), not an order.
//!
//! A seed is a `u64`; `seed_of` turns a text (a daily slot, a session and a question id) into one, so
//! every replica and every restart that knows the same text draws the same order.

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

/// FNV-1a of `text`, started from `seed`: stable across builds and platforms (std's hasher is not), for
/// ids, nonces and markers. Not for ordering: sorting by it keeps similar texts next to each other.
pub fn stable_hash(seed: u64, text: &str) -> u64 {
    let mut hash = 0xcbf2_9ce4_8422_2325u64 ^ seed;
    for byte in text.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// A seed for `shuffle` drawn from `seed` and a text (a question id, a slot), so that each text gets its
/// own order under one session seed.
pub fn seed_of(seed: u64, text: &str) -> u64 {
    stable_hash(seed, text)
}

/// Puts `items` in an order drawn from `seed`: a uniform permutation, the same for the same seed.
pub fn shuffle<T>(items: &mut [T], seed: u64) {
    items.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
}

/// `items` shuffled by `seed`, then cut to `count`.
pub fn draw<T>(mut items: Vec<T>, count: usize, seed: u64) -> Vec<T> {
    shuffle(&mut items, seed);
    items.truncate(count);
    items
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_order_and_others_differ() {
        let items: Vec<u32> = (0..20).collect();
        let order = |seed| {
            let mut v = items.clone();
            shuffle(&mut v, seed);
            v
        };
        assert_eq!(order(7), order(7));
        assert_ne!(order(7), order(8));
        let mut sorted = order(7);
        sorted.sort_unstable();
        assert_eq!(sorted, items);
    }

    #[test]
    fn neighbours_in_the_input_are_not_kept_together() {
        // The FNV sort this replaced kept `x-001`, `x-002`, `x-003` together: a permutation must not.
        let ids: Vec<String> = (0..8)
            .flat_map(|f| (1..=9).map(move |n| format!("file{f}-{n:03}")))
            .collect();
        let mut together = 0;
        for seed in 0..200 {
            let first: Vec<String> = draw(ids.clone(), 5, seed);
            let file = |id: &String| id.split('-').next().map(str::to_string);
            together += usize::from(first.iter().all(|id| file(id) == file(&first[0])));
        }
        assert!(together <= 2, "{together} of 200 draws came from one file");
    }
}
