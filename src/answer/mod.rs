//! Ranking the choices of an exam-style multiple-choice question by the evidence in the notes, with a
//! calibrated confidence, and abstaining when the notes don't settle the question.
//!
//! Word overlap between a choice and the notes barely beats chance: distractors name real services too.
//! So the stem is searched first and the sections that match it best decide (`features`); each choice
//! is described by a handful of numbers (named in those sections, marked `×` there, named in a heading,
//! BM25 of stem and choice, fit to what the stem asks, length), and a conditional logit fitted on the
//! tuning half of the bank (`model`, `split`) turns them into probabilities. The probability of the picked
//! choice(s) is the confidence; below the configured minimum, `answer` abstains. A negated question
//! (`誤っているもの`, `NOT`) flips the evidence, so the least supported choice is picked.
//!
//! Core: imports `notes`, `questions`, `search`, `order` and `locale`; never the quiz, the store or an
//! adapter.

pub mod features;
pub mod model;
mod parse;
pub mod split;
mod units;

use serde::Serialize;

pub(crate) use features::is_marked_wrong;
pub use features::{ChoiceFeatures, FEATURE_COUNT, FEATURE_NAMES, choice_features};
pub use parse::{MAX_CHOICES, McChoice, McQuestion, ParseError, parse_question, shown_label};

use crate::search::{Hit, SectionSearcher};

/// The confidence below which `answer` abstains unless configured otherwise (`answer.min_confidence`).
/// Chosen on the tuning half: see README's `answer` section for what it gives on the held-out half.
pub const DEFAULT_MIN_CONFIDENCE: f32 = 0.7;

/// Every choice with its support, the picks and how sure they are.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Ranking {
    /// The picked labels; empty when abstaining.
    pub best: Vec<String>,
    /// The model's probability that `likeliest` is exactly the answer, 0 to 1.
    pub confidence: f32,
    /// True when the confidence is below the minimum: the notes don't settle the question.
    pub abstained: bool,
    /// The labels the model would pick, abstaining or not.
    #[serde(skip)]
    pub likeliest: Vec<String>,
    pub choices: Vec<RankedChoice>,
    #[serde(skip)]
    pub negated: bool,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RankedChoice {
    pub label: String,
    pub text: String,
    /// The model's probability that this choice is (one of) the answer(s), 0 to 1.
    pub score: f32,
    pub evidence: Option<Evidence>,
}

/// The section that supports a choice most.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Evidence {
    pub id: String,
    pub title: String,
    pub path: String,
    pub line: u64,
    /// The line of the section that matches the choice best.
    #[serde(skip)]
    pub fact: String,
}

impl Evidence {
    fn from_hit(hit: &Hit, fact: String) -> Evidence {
        Evidence {
            id: hit.id.clone(),
            title: hit.title.clone(),
            path: hit.path.clone(),
            line: hit.line,
            fact,
        }
    }
}

/// Ranks the choices of `question` by the evidence in the notes `searcher` searches; abstains (empty
/// `best`) when the confidence is below `min_confidence`.
pub fn rank(searcher: &SectionSearcher, question: &McQuestion, min_confidence: f32) -> Ranking {
    let features = choice_features(searcher, question);
    let utilities: Vec<f32> = features
        .iter()
        .map(|f| model::utility(&model::WEIGHTS, &f.values))
        .collect();
    let probabilities = model::probabilities(&utilities);
    let mut order: Vec<usize> = (0..probabilities.len()).collect();
    order.sort_by(|&a, &b| probabilities[b].total_cmp(&probabilities[a]).then(a.cmp(&b)));
    let picked: Vec<usize> = if question.all_that_apply {
        // As many as are likelier than a uniform guess, at least one.
        let uniform = 1.0 / probabilities.len().max(1) as f32;
        let above = order.iter().take_while(|&&i| probabilities[i] > uniform).count();
        order[..above.max(1)].to_vec()
    } else {
        order[..question.picks.min(order.len())].to_vec()
    };
    let confidence = model::set_probability(&probabilities, &picked);
    let choices: Vec<RankedChoice> = question
        .choices
        .iter()
        .zip(features)
        .zip(&probabilities)
        .enumerate()
        .map(|(index, ((choice, features), probability))| RankedChoice {
            label: if choice.label.is_empty() {
                ((b'A' + index as u8) as char).to_string()
            } else {
                choice.label.clone()
            },
            text: choice.text.clone(),
            score: *probability,
            evidence: features.evidence,
        })
        .collect();
    let likeliest: Vec<String> = picked.iter().map(|&i| choices[i].label.clone()).collect();
    let abstained = confidence < min_confidence;
    Ranking {
        best: if abstained { Vec::new() } else { likeliest.clone() },
        confidence,
        abstained,
        likeliest,
        choices,
        negated: question.negated,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notes::NoteSet;
    use crate::search::index::NoteIndex;
    use crate::search::synonyms::Synonyms;

    const NOTES: &str = "# Lambda\n\n## Lambda の環境変数を平文で見せたくない場合\n\n- KMS の暗号化ヘルパーで環境変数を暗号化する\n- × Secrets Manager のローテーションは平文表示を防ぐ仕組みではない\n\n## Lambda の一時ファイル\n\n- /tmp に書く (既定 512 MB、最大 10 GB)\n\n# Kinesis\n\n## データ保持期間\n\n- 既定 24 時間、最大 365 日\n- 保持期間を過ぎたレコードは読めない\n\n## シャードの分割\n\n- トラフィック増には シャード を分割する\n\n# DynamoDB\n\n## 多数の項目をまとめて書く\n\n- BatchWriteItem で最大 25 項目をまとめて書く\n";

    fn ranking_with(text: &str, min_confidence: f32) -> Ranking {
        let index = NoteIndex::in_memory(&NoteSet::from_texts([("aws.md", NOTES)])).unwrap();
        let searcher = SectionSearcher::new(&index, &Synonyms::default());
        rank(&searcher, &parse_question(text).unwrap(), min_confidence)
    }

    fn ranking(text: &str) -> Ranking {
        ranking_with(text, 0.0)
    }

    #[test]
    fn the_choice_the_scenario_section_states_wins() {
        let ranking = ranking(
            "Lambda の環境変数に DB パスワードがある。チーム外の人に平文で見せないには?\nA. KMS の暗号化ヘルパーで暗号化する\nB. Secrets Manager のローテーションを有効にする\nC. /tmp に保存する\nD. シャードを分割する",
        );
        assert_eq!(ranking.best, ["A"]);
        let evidence = ranking.choices[0].evidence.as_ref().unwrap();
        assert_eq!(evidence.id, "aws.md#lambda-の環境変数を平文で見せたくない場合");
        assert!(ranking.choices[0].score > ranking.choices[1].score);
        assert!((0.0..=1.0).contains(&ranking.confidence));
        let total: f32 = ranking.choices.iter().map(|c| c.score).sum();
        assert!((total - 1.0).abs() < 1e-4);
    }

    #[test]
    fn negated_questions_pick_the_unsupported_choice() {
        let ranking = ranking(
            "Kinesis Data Streams の保持期間について誤っているものはどれか\nA. 既定は 24 時間\nB. 最大 365 日まで延ばせる\nC. 保持期間を過ぎても読める",
        );
        assert_eq!(ranking.best, ["C"]);
    }

    #[test]
    fn a_mistyped_api_name_still_finds_its_evidence() {
        let ranking =
            ranking("多数の項目をまとめて書き込む API はどれか\nA. BatchWriteltem\nB. PutRecords\nC. GetShardIterator");
        assert_eq!(ranking.best, ["A"]);
        let evidence = ranking.choices[0].evidence.as_ref().unwrap();
        assert_eq!(evidence.id, "aws.md#多数の項目をまとめて書く");
    }

    #[test]
    fn a_mistyped_api_name_in_the_stem_is_searched_as_the_notes_spell_it() {
        let ranking = ranking("BatchWriteltem で一度に書ける項目数の上限は?\nA. 25 項目\nB. 365 日\nC. 512 MB");
        assert_eq!(ranking.best, ["A"]);
        let evidence = ranking.choices[0].evidence.as_ref().unwrap();
        assert_eq!(evidence.id, "aws.md#多数の項目をまとめて書く");
    }

    #[test]
    fn below_the_minimum_confidence_it_abstains_but_keeps_the_evidence() {
        let text = "Lambda の環境変数に DB パスワードがある。平文で見せないには?\nA. KMS の暗号化ヘルパーで暗号化する\nB. Secrets Manager のローテーションを有効にする";
        let sure = ranking_with(text, 0.0);
        assert!(!sure.abstained && sure.best == ["A"]);
        let unsure = ranking_with(text, 1.01);
        assert!(unsure.abstained && unsure.best.is_empty());
        assert_eq!(unsure.likeliest, ["A"]);
        assert!(unsure.choices[0].evidence.is_some());
    }
}
