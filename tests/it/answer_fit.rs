//! Fits `answer`'s weights (src/answer/model.rs) on the TUNING half of the bank only: a conditional logit
//! (softmax over a question's choices of w · features), L2-penalised, the penalty chosen by 5-fold
//! cross-validation on that half. Prints the weights to paste into `model::WEIGHTS`, then the
//! cross-validated reliability table and answered/right share per confidence threshold (to choose
//! `answer.min_confidence`). Run with
//! `cargo test --test it fit_answer_weights -- --ignored --nocapture`.

// Matrix arithmetic reads best with indices.
#![allow(clippy::needless_range_loop)]

use tsumiage::answer::split::{Half, half_of};
use tsumiage::answer::{FEATURE_COUNT, FEATURE_NAMES, McQuestion, choice_features, model};
use tsumiage::search::SectionSearcher;

use crate::util::shipped;

/// One question as the fit sees it: each choice's features and which choices are correct.
pub struct Example {
    pub features: Vec<[f64; FEATURE_COUNT]>,
    pub correct: Vec<usize>,
}

type Weights = [f64; FEATURE_COUNT];

fn examples_of(half: Half) -> Vec<Example> {
    let shipped = shipped();
    let searcher = SectionSearcher::new(&shipped.index, &shipped.synonyms);
    let mut bank = tsumiage::check::questions(&shipped.notes);
    bank.sort_by(|a, b| a.id.cmp(&b.id));
    bank.iter()
        .filter(|q| half_of(&q.id) == half)
        .map(|q| Example {
            features: choice_features(&searcher, &McQuestion::from_bank(q))
                .iter()
                .map(|f| f.values.map(f64::from))
                .collect(),
            correct: q
                .choices
                .iter()
                .enumerate()
                .filter(|(_, c)| c.correct)
                .map(|(i, _)| i)
                .collect(),
        })
        .collect()
}

/// Each correct choice against the wrong ones: (choices in the softmax, index of the correct one in it).
fn observations(example: &Example) -> Vec<Vec<usize>> {
    example
        .correct
        .iter()
        .map(|&c| {
            let mut set = vec![c];
            set.extend((0..example.features.len()).filter(|i| !example.correct.contains(i)));
            set
        })
        .collect()
}

fn softmax(weights: &Weights, example: &Example, set: &[usize]) -> Vec<f64> {
    let utilities: Vec<f64> = set
        .iter()
        .map(|&i| weights.iter().zip(&example.features[i]).map(|(w, f)| w * f).sum())
        .collect();
    let top = utilities.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let exp: Vec<f64> = utilities.iter().map(|u| (u - top).exp()).collect();
    let total: f64 = exp.iter().sum();
    exp.iter().map(|e| e / total).collect()
}

/// Mean negative log-likelihood per observation (without the penalty).
fn loss(weights: &Weights, examples: &[Example]) -> f64 {
    let mut total = 0.0;
    let mut count = 0.0;
    for example in examples {
        for set in observations(example) {
            total -= softmax(weights, example, &set)[0].max(1e-12).ln();
            count += 1.0;
        }
    }
    total / f64::max(count, 1.0)
}

/// Newton's method on the penalised mean negative log-likelihood (convex: a few steps converge).
fn fit(examples: &[Example], lambda: f64) -> Weights {
    let mut weights = [0.0; FEATURE_COUNT];
    for _ in 0..30 {
        let mut gradient = [0.0; FEATURE_COUNT];
        let mut hessian = [[0.0; FEATURE_COUNT]; FEATURE_COUNT];
        let mut count = 0.0;
        for example in examples {
            for set in observations(example) {
                let p = softmax(&weights, example, &set);
                let mean: Vec<f64> = (0..FEATURE_COUNT)
                    .map(|k| set.iter().zip(&p).map(|(&i, p)| p * example.features[i][k]).sum())
                    .collect();
                for k in 0..FEATURE_COUNT {
                    gradient[k] += mean[k] - example.features[set[0]][k];
                    for l in 0..FEATURE_COUNT {
                        let covariance: f64 = set
                            .iter()
                            .zip(&p)
                            .map(|(&i, p)| p * (example.features[i][k] - mean[k]) * (example.features[i][l] - mean[l]))
                            .sum();
                        hessian[k][l] += covariance;
                    }
                }
                count += 1.0;
            }
        }
        for k in 0..FEATURE_COUNT {
            gradient[k] = gradient[k] / count + lambda * weights[k];
            for l in 0..FEATURE_COUNT {
                hessian[k][l] = hessian[k][l] / count + if k == l { lambda } else { 0.0 };
            }
        }
        let step = solve(hessian, gradient);
        weights.iter_mut().zip(step).for_each(|(w, s)| *w -= s);
    }
    weights
}

/// Gaussian elimination with partial pivoting (the Hessian is positive definite with the penalty).
fn solve(mut a: [[f64; FEATURE_COUNT]; FEATURE_COUNT], mut b: [f64; FEATURE_COUNT]) -> [f64; FEATURE_COUNT] {
    let n = FEATURE_COUNT;
    for col in 0..n {
        let pivot = (col..n)
            .max_by(|&x, &y| a[x][col].abs().total_cmp(&a[y][col].abs()))
            .unwrap();
        a.swap(col, pivot);
        b.swap(col, pivot);
        for row in col + 1..n {
            let factor = a[row][col] / a[col][col];
            for k in col..n {
                a[row][k] -= factor * a[col][k];
            }
            b[row] -= factor * b[col];
        }
    }
    let mut x = [0.0; FEATURE_COUNT];
    for row in (0..n).rev() {
        let rest: f64 = (row + 1..n).map(|k| a[row][k] * x[k]).sum();
        x[row] = (b[row] - rest) / a[row][row];
    }
    x
}

/// (confidence, right) of each question as `rank` would answer it with these weights.
fn predictions(weights: &Weights, examples: &[Example]) -> Vec<(f32, bool)> {
    let weights = weights.map(|w| w as f32);
    examples
        .iter()
        .map(|example| {
            let utilities: Vec<f32> = example
                .features
                .iter()
                .map(|f| model::utility(&weights, &f.map(|v| v as f32)))
                .collect();
            let probabilities = model::probabilities(&utilities);
            let mut order: Vec<usize> = (0..probabilities.len()).collect();
            order.sort_by(|&a, &b| probabilities[b].total_cmp(&probabilities[a]).then(a.cmp(&b)));
            let mut picked: Vec<usize> = order[..example.correct.len().max(1)].to_vec();
            let confidence = model::set_probability(&probabilities, &picked);
            picked.sort();
            (confidence, picked == example.correct)
        })
        .collect()
}

const FOLDS: usize = 5;

#[test]
#[ignore = "fits the weights; run by hand (see the module comment)"]
fn fit_answer_weights() {
    let examples = examples_of(Half::Tuning);
    println!("tuning questions: {}", examples.len());
    let mut best = (f64::INFINITY, 0.0);
    for lambda in [0.0001, 0.001, 0.01, 0.03, 0.1, 0.3, 1.0] {
        let mut held_loss = 0.0;
        for fold in 0..FOLDS {
            let (train, test): (Vec<_>, Vec<_>) = examples.iter().enumerate().partition(|(i, _)| i % FOLDS != fold);
            let train: Vec<Example> = train.into_iter().map(|(_, e)| clone(e)).collect();
            let test: Vec<Example> = test.into_iter().map(|(_, e)| clone(e)).collect();
            held_loss += loss(&fit(&train, lambda), &test) / FOLDS as f64;
        }
        println!("lambda {lambda:<7} cross-validated loss {held_loss:.4}");
        if held_loss < best.0 {
            best = (held_loss, lambda);
        }
    }
    let lambda = best.1;
    let weights = fit(&examples, lambda);
    println!(
        "lambda {lambda}: pub const WEIGHTS: [f32; FEATURE_COUNT] = {:?};",
        weights.map(|w| (w * 1000.0).round() / 1000.0)
    );
    for (name, weight) in FEATURE_NAMES.iter().zip(weights) {
        println!("  {name:<12} {weight:+.3}");
    }
    // Cross-validated predictions for the calibration and the threshold.
    let mut cross: Vec<(f32, bool)> = Vec::new();
    for fold in 0..FOLDS {
        let train: Vec<Example> = examples
            .iter()
            .enumerate()
            .filter(|(i, _)| i % FOLDS != fold)
            .map(|(_, e)| clone(e))
            .collect();
        let test: Vec<Example> = examples
            .iter()
            .enumerate()
            .filter(|(i, _)| i % FOLDS == fold)
            .map(|(_, e)| clone(e))
            .collect();
        cross.extend(predictions(&fit(&train, lambda), &test));
    }
    crate::answer_eval::print_reliability("tuning (cross-validated)", &cross);
    for threshold in [0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7] {
        let answered: Vec<_> = cross.iter().filter(|(c, _)| *c >= threshold).collect();
        let right = answered.iter().filter(|(_, r)| *r).count();
        println!(
            "min_confidence {threshold:.2}: answered {:.0}%, right {:.0}% of those",
            100.0 * answered.len() as f64 / cross.len() as f64,
            100.0 * right as f64 / answered.len().max(1) as f64
        );
    }
}

fn clone(example: &Example) -> Example {
    Example {
        features: example.features.clone(),
        correct: example.correct.clone(),
    }
}
