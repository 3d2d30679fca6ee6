//! What a question's wording asks for, read from its stem: how many choices to pick ("2 つ選択",
//! "Choose two") and whether it asks for the false statement ("誤っているもの", "NOT").

use unicode_normalization::UnicodeNormalization;

/// How many answers the stem asks for; 1 unless it says otherwise.
pub fn picks_requested(stem: &str) -> usize {
    let text: String = stem.nfkc().collect::<String>().to_lowercase();
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    const JA_NUMBERS: [(&str, usize); 4] = [("二", 2), ("三", 3), ("2", 2), ("3", 3)];
    for (number, count) in JA_NUMBERS {
        for suffix in ["つ選", "つを選", "個選", "つ答"] {
            if compact.contains(&format!("{number}{suffix}")) {
                return count;
            }
        }
    }
    // Exam sites often end the stem with the bare count: "…どれか。２つ", "(3つ)".
    let tail = compact.trim_end_matches(['。', '.', ')', '）', ']', '】']);
    for (number, count) in JA_NUMBERS {
        if tail.ends_with(&format!("{number}つ")) {
            return count;
        }
    }
    const EN_NUMBERS: [(&str, usize); 4] = [("two", 2), ("three", 3), ("2", 2), ("3", 3)];
    for (number, count) in EN_NUMBERS {
        for verb in ["choose", "select", "pick"] {
            if text.contains(&format!("{verb} {number}")) || text.contains(&format!("({verb} {number}")) {
                return count;
            }
        }
    }
    1
}

/// Whether the stem asks for every choice that applies, however many (`すべて選択`, "Select all that apply").
pub fn asks_all_that_apply(stem: &str) -> bool {
    let text: String = stem.nfkc().collect::<String>().to_lowercase();
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    ["すべて選", "全て選", "すべてを選", "全てを選"]
        .iter()
        .any(|marker| compact.contains(marker))
        || text.contains("all that apply")
}

/// Whether the stem asks for the choice that is *not* true / not suitable.
pub fn is_negated(stem: &str) -> bool {
    let text: String = stem.nfkc().collect();
    const JA: [&str; 10] = [
        "誤っている",
        "誤りは",
        "間違っている",
        "正しくない",
        "適切でない",
        "適切ではない",
        "当てはまらない",
        "該当しない",
        "できないもの",
        "ではないもの",
    ];
    if JA.iter().any(|marker| text.contains(marker)) {
        return true;
    }
    // "指定できない読み込み先はどれか" asks for the impossible one; "参照できないようにするには" is a goal.
    let asks_which = text.contains("どれ");
    let cannot = text.match_indices("できない").any(|(at, marker)| {
        let after = &text[at + marker.len()..];
        !after.starts_with("よう") && !after.starts_with("ため") && !after.starts_with("場合")
    });
    if asks_which && cannot {
        return true;
    }
    // English exam style capitalises the negation: "Which is NOT …", "… EXCEPT".
    text.split(|c: char| !c.is_ascii_alphabetic())
        .any(|word| word == "NOT" || word == "EXCEPT")
        || text.to_lowercase().contains("which is not")
        || text.to_lowercase().contains("which of the following is not")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_requested_picks_in_japanese_and_english() {
        assert_eq!(picks_requested("正しいものを 2 つ選択してください。"), 2);
        assert_eq!(picks_requested("正しいものを２つ選びなさい"), 2);
        assert_eq!(picks_requested("二つ選べ"), 2);
        assert_eq!(picks_requested("Which steps should be taken? (Choose two.)"), 2);
        assert_eq!(picks_requested("Select THREE"), 3);
        assert_eq!(picks_requested("最も適切なものはどれか"), 1);
        assert_eq!(picks_requested("Kinesis のシャード 2 つを分割する"), 1);
        assert_eq!(picks_requested("2 つのスタックで出力値を共有するには"), 1);
        assert_eq!(picks_requested("正しいものはどれか。２つ"), 2);
        assert_eq!(picks_requested("適切なものはどれか (3つ)"), 3);
        assert_eq!(picks_requested("(Choose 3)"), 3);
        assert!(asks_all_that_apply("当てはまるものをすべて選択してください"));
        assert!(asks_all_that_apply("Select all that apply."));
        assert!(!asks_all_that_apply("すべてのリージョンで使えるものはどれか"));
    }

    #[test]
    fn recognises_negated_questions() {
        assert!(is_negated("Lambda について誤っているものはどれか"));
        assert!(is_negated("適切ではないものを選べ"));
        assert!(is_negated("Which of these is NOT a valid hook?"));
        assert!(is_negated("All of the following are true EXCEPT"));
        assert!(!is_negated("Which service should be used?"));
        assert!(!is_negated("最も適切なものはどれか"));
        assert!(is_negated("強い整合性の読み込みを指定できない読み込み先はどれか"));
        assert!(!is_negated(
            "チーム外のメンバーが平文で見られないようにしたい。どれが最も適切か"
        ));
        assert!(!is_negated("関数が実行できない場合に備えるにはどれを使うか"));
        assert!(!is_negated("Do not expose secrets. Which option is best?"));
    }
}
