//! The quiz in the terminal, end to end through the real binary: a full quiz played through standard
//! input, flags, review and stats; and the kill test: a quiz killed with SIGKILL mid-session keeps the
//! answer it recorded, exactly once, and the next start closes the session without counting twice.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use tsumiage::clock::Timestamp;
use tsumiage::questions::rebalance::key_positions;
use tsumiage::quiz::session::SessionEnd;
use tsumiage::quiz::{QuizQuestion, draw_questions};
use tsumiage::store::{Sessions, SqliteStore};

use crate::util::{Workspace, shipped};

const NOTES: &str = "---\nservice: Kinesis\n---\n# Kinesis\n\n## データ保持期間\n\n- 既定の保持期間は 24 時間\n- 最大 365 日まで延長できる\n\n## シャード\n\n- 1 シャードの書き込みは毎秒 1 MB まで\n";

/// Three questions whose right answer is B, pinned there (`<!-- pin -->` on every choice, see `pinned`),
/// so the order does not matter to the test.
const BANK: &str = "---\nkind: questions\nservice: Kinesis\n---\n# Kinesis の問題\n\n## kin-t1\n\n既定の保持期間は?\n\n- [ ] 1 時間\n- [x] 24 時間\n- [ ] 7 日\n\n解説: 既定は 24 時間。\n\n参照: kinesis.md#データ保持期間\n\n## kin-t2\n\n最大の保持期間は?\n\n- [ ] 7 日\n- [x] 365 日\n- [ ] 30 日\n\n解説: 365 日まで延長できる。\n\n参照: kinesis.md#データ保持期間\n\n## kin-t3\n\n1 シャードの書き込み上限は?\n\n- [ ] 10 MB/秒\n- [x] 1 MB/秒\n- [ ] 100 KB/秒\n\n解説: 毎秒 1 MB。\n\n参照: kinesis.md#シャード\n";

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn line_of(path: &Path, needle: &str) -> usize {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .position(|l| l.contains(needle))
        .unwrap()
        + 1
}

#[test]
fn a_full_quiz_plays_through_stdin_and_ends_with_a_summary() {
    let workspace = workspace();
    let output = workspace.run(
        &["quiz", "--count", "3", "--bank-only", "--user", "alice", "--seed", "1"],
        "b\nB\n b \n",
    );
    let stdout = text(&output.stdout);
    assert!(output.status.success(), "{stdout}\n{}", text(&output.stderr));
    assert!(stdout.contains("Quiz: 3 questions, 20 s each."), "{stdout}");
    assert!(stdout.contains("[1/3] 20 s to answer"), "{stdout}");
    assert!(
        stdout.contains("  B. 24 時間") && stdout.contains("  A. 7 日"),
        "{stdout}"
    );
    assert_eq!(stdout.matches("✓ Correct").count(), 3, "{stdout}");
    assert!(stdout.contains("Answer: B. 24 時間"), "{stdout}");
    assert!(stdout.contains("Why: 既定は 24 時間。"), "{stdout}");
    // The reveal cites the section that answers the question, by file and line.
    assert!(stdout.contains("Source: notes/kinesis.md:6"), "{stdout}");
    assert!(stdout.contains("Source: notes/kinesis.md:11"), "{stdout}");
    assert!(stdout.contains("== Results ==\n1. alice  score 3/3\n"), "{stdout}");
    assert!(!stdout.contains("Missed:"), "{stdout}");

    // `--store` points elsewhere: no store there knows alice, and `stats` creates nothing.
    let elsewhere = workspace.run(&["--store", "other/s.sqlite", "stats", "--user", "alice"], "");
    assert_eq!(elsewhere.status.code(), Some(1));
    assert!(
        text(&elsewhere.stderr).contains("No player named `alice` in the store (other/s.sqlite)"),
        "{}",
        text(&elsewhere.stderr)
    );
    assert!(!workspace.dir.path().join("other").exists());

    let stats = workspace.run(&["stats", "--user", "alice"], "");
    assert!(
        text(&stats.stdout).starts_with("alice: 3 answers, 3 correct (100%), 1 quiz, 3 points\n3 cards"),
        "{}",
        text(&stats.stdout)
    );
}

#[test]
fn misses_flags_and_review() {
    let workspace = workspace();
    // A wrong pick, a flag on it after the reveal, a letter that is not a choice, then two right answers.
    let output = workspace.run(
        &["quiz", "--count", "3", "--bank-only", "--user", "bob", "--seed", "1"],
        "a\n!flag the key looks wrong\nz\nb\nb\n",
    );
    let stdout = text(&output.stdout);
    assert!(output.status.success(), "{stdout}\n{}", text(&output.stderr));
    assert!(stdout.contains("✗ Wrong"), "{stdout}");
    assert!(stdout.contains("Type one of the letters a, b, c."), "{stdout}");
    assert!(stdout.contains("1. bob  score 2/3"), "{stdout}");
    assert!(stdout.contains("Missed:\n  kin-t"), "{stdout}");

    let flags = text(&workspace.run(&["flags"], "").stdout);
    let flagged_line = flags.lines().next().unwrap();
    // The flag names the question file and line, where the answer key would be fixed.
    let id = flagged_line.split_whitespace().nth(1).unwrap();
    let bank = workspace.dir.path().join("notes/questions/kinesis.md");
    let expected = format!(
        "notes/questions/kinesis.md:{}: {id}  bob: the key looks wrong",
        line_of(&bank, &format!("## {id}"))
    );
    assert_eq!(flagged_line, expected);

    let review = workspace.run(&["review", "--user", "bob"], "b\n");
    let stdout = text(&review.stdout);
    assert!(
        stdout.contains("Review: 1 card, 20 s each.") && !stdout.contains("Quiz:"),
        "{stdout}"
    );
    assert!(
        stdout.contains("✓ Correct") && stdout.contains("1. bob  score 1/1"),
        "{stdout}"
    );
    let again = workspace.run(&["review", "--user", "bob"], "");
    assert!(
        text(&again.stdout).contains("Nothing to review right now."),
        "{}",
        text(&again.stdout)
    );
}

#[test]
fn a_topic_without_bank_questions_is_quizzed_from_the_notes() {
    let workspace = workspace();
    let sqs = "---\nservice: SQS\n---\n# SQS\n\n## 可視性タイムアウト\n\n- 既定の可視性タイムアウトは 30 秒\n- 処理中のメッセージは他のコンシューマーから見えない\n\n## メッセージ保持期間\n\n- 既定の保持期間は 4 日、最大 14 日\n- 期限を過ぎたメッセージは削除される\n\n## ロングポーリング\n\n- ReceiveMessage の待ち時間を最大 20 秒にして空の応答を減らす\n- WaitTimeSeconds で指定する\n";
    std::fs::write(workspace.dir.path().join("notes/sqs.md"), sqs).unwrap();
    let output = workspace.run(
        &["quiz", "--topic", "sqs", "--count", "2", "--user", "gen", "--seed", "3"],
        "a\n30\n",
    );
    let stdout = text(&output.stdout);
    assert!(output.status.success(), "{stdout}\n{}", text(&output.stderr));
    assert_eq!(stdout.matches("(generated from the notes)").count(), 2, "{stdout}");
    assert!(stdout.contains("Source: notes/sqs.md:"), "{stdout}");
    assert!(!stdout.contains("kinesis"), "only the topic's notes: {stdout}");
    assert!(stdout.contains("== Results ==\n1. gen  score "), "{stdout}");
}

/// Lines of a child's output, with a timeout so a hung child fails the test instead of hanging it.
fn lines_of(stdout: std::process::ChildStdout) -> mpsc::Receiver<String> {
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    receiver
}

#[test]
fn a_quiz_killed_mid_session_keeps_its_answer_once_and_is_closed_on_restart() {
    let workspace = workspace();
    let mut child = workspace
        .command(&["quiz", "--count", "3", "--bank-only", "--user", "kim", "--seed", "1"])
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let lines = lines_of(child.stdout.take().unwrap());
    stdin.write_all(b"b\n").unwrap();
    stdin.flush().unwrap();
    // The second question is shown only after the first answer was committed.
    let mut seen = Vec::new();
    loop {
        let line = lines
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("no second question: {seen:#?}"));
        let second = line.starts_with("[2/3]");
        seen.push(line);
        if second {
            break;
        }
    }
    child.kill().unwrap(); // SIGKILL on Unix: no destructor, no clean shutdown
    child.wait().unwrap();
    drop(stdin);

    {
        let store = SqliteStore::open(&store_path(&workspace)).unwrap();
        let unfinished = store.unfinished_sessions().unwrap();
        assert_eq!(unfinished.len(), 1, "the killed session is still open");
        let attempts = store.attempts(unfinished[0].id).unwrap();
        assert_eq!(attempts.len(), 1, "{attempts:?}");
        assert_eq!(
            (
                attempts[0].question_index,
                attempts[0].answer.as_str(),
                attempts[0].correct
            ),
            (0, "B", true)
        );
    }

    // The next command closes the interrupted session and counts its score once.
    let stats = workspace.run(&["stats", "--user", "kim"], "");
    assert!(
        text(&stats.stderr).contains("Closed 1 interrupted quiz session(s)"),
        "{}",
        text(&stats.stderr)
    );
    assert!(
        text(&stats.stdout).starts_with("kim: 1 answer, 1 correct (100%), 1 quiz, 1 point"),
        "{}",
        text(&stats.stdout)
    );
    let again = workspace.run(&["stats", "--user", "kim"], "");
    assert!(!text(&again.stderr).contains("interrupted"), "{}", text(&again.stderr));
    assert!(
        text(&again.stdout).starts_with("kim: 1 answer, 1 correct (100%), 1 quiz, 1 point"),
        "{}",
        text(&again.stdout)
    );

    let mut store = SqliteStore::open(&store_path(&workspace)).unwrap();
    assert!(store.unfinished_sessions().unwrap().is_empty());
    assert!(
        store
            .close_interrupted_sessions(Timestamp(0), &|_| false)
            .unwrap()
            .is_empty()
    );
    let session = store.session(1).unwrap().unwrap();
    assert_eq!(session.end, Some(SessionEnd::Interrupted));
    let scores = store.scores(1).unwrap();
    assert_eq!(scores.len(), 1);
    assert_eq!((scores[0].points, scores[0].rank), (1, 1));
    assert_eq!(store.attempts(1).unwrap().len(), 1);
}

/// `bank` with every choice pinned in place: shown in file order whatever the seed.
fn pinned(bank: &str) -> String {
    bank.lines()
        .map(|line| {
            if line.starts_with("- [") {
                format!("{line} <!-- pin -->\n")
            } else {
                format!("{line}\n")
            }
        })
        .collect()
}

fn workspace() -> Workspace {
    Workspace::with_notes(&[("kinesis.md", NOTES), ("questions/kinesis.md", &pinned(BANK))])
}

fn store_path(workspace: &Workspace) -> PathBuf {
    workspace.dir.path().join("data/tsumiage.sqlite")
}

/// The choices of question `[n/…]` as shown: `(label, text)` in order.
fn shown_choices(stdout: &str, n: usize) -> Vec<(String, String)> {
    let header = format!("[{n}/");
    stdout
        .lines()
        .skip_while(|line| !line.starts_with(&header))
        .skip(2)
        .map_while(|line| {
            let (label, text) = line.strip_prefix("  ")?.split_once(". ")?;
            Some((label.to_string(), text.to_string()))
        })
        .collect()
}

#[test]
fn choices_are_shown_in_an_order_drawn_from_the_seed_and_picks_map_back_to_the_key() {
    // Five choices, unpinned, the right one last in the file.
    let bank = "---\nkind: questions\nservice: Kinesis\n---\n# 問題\n\n## kin-s1\n\n既定の保持期間は?\n\n- [ ] 1 時間\n- [ ] 7 日\n- [ ] 30 日\n- [ ] 365 日\n- [x] 24 時間\n\n解説: 既定は 24 時間。\n\n参照: kinesis.md#データ保持期間\n";
    let workspace = Workspace::with_notes(&[("kinesis.md", NOTES), ("questions/kinesis.md", bank)]);
    let run = |seed: &str, input: &str| {
        let output = workspace.run(
            &["quiz", "--count", "1", "--bank-only", "--user", "s", "--seed", seed],
            input,
        );
        assert!(output.status.success(), "{}", text(&output.stderr));
        text(&output.stdout)
    };
    let mut orders = std::collections::BTreeSet::new();
    for seed in 1..=6 {
        let first = run(&seed.to_string(), "!stop\n");
        let order = shown_choices(&first, 1);
        assert_eq!(order.len(), 5, "{first}");
        assert_eq!(
            shown_choices(&run(&seed.to_string(), "!stop\n"), 1),
            order,
            "same seed, same order"
        );
        orders.insert(order.iter().map(|(_, t)| t.clone()).collect::<Vec<_>>());
        // Typing the letter shown next to the right text is right, whatever letter that is.
        let right = &order.iter().find(|(_, t)| t == "24 時間").unwrap().0;
        let played = run(&seed.to_string(), &format!("{}\n", right.to_lowercase()));
        assert!(played.contains("✓ Correct"), "{played}");
        assert!(played.contains(&format!("Answer: {right}. 24 時間")), "{played}");
    }
    assert!(
        orders.len() >= 3,
        "six seeds gave only {} orders: {orders:?}",
        orders.len()
    );
}

#[test]
fn flag_reports_the_question_on_screen() {
    let workspace = workspace();
    let output = workspace.run(
        &["quiz", "--count", "3", "--bank-only", "--user", "fl", "--seed", "1"],
        "b\n!flag about the second\nb\n!flag about the third\nb\n",
    );
    let stdout = text(&output.stdout);
    assert!(output.status.success(), "{stdout}\n{}", text(&output.stderr));
    let stem_of = |n: usize| {
        let header = format!("[{n}/3]");
        stdout
            .lines()
            .skip_while(|l| !l.starts_with(&header))
            .nth(1)
            .unwrap()
            .to_string()
    };
    let id_of = |stem: &str| {
        let at = BANK.find(stem).unwrap();
        BANK[..at]
            .rsplit("## ")
            .next()
            .unwrap()
            .lines()
            .next()
            .unwrap()
            .to_string()
    };
    let (second, third) = (id_of(&stem_of(2)), id_of(&stem_of(3)));
    assert!(stdout.contains(&format!("Flagged question {second} ")), "{stdout}");
    let flags = text(&workspace.run(&["flags"], "").stdout);
    assert!(flags.contains(&format!("{second}  fl: about the second")), "{flags}");
    // The last question can be flagged too, while it shows.
    assert!(flags.contains(&format!("{third}  fl: about the third")), "{flags}");
}

#[test]
fn a_wrong_number_of_picks_is_asked_again_not_graded() {
    let bank = "---\nkind: questions\nservice: Kinesis\n---\n# 問題\n\n## kin-m1\n\n正しいものはどれか。2 つ選択してください。\n\n- [x] 既定は 24 時間 <!-- pin -->\n- [ ] 既定は 7 日 <!-- pin -->\n- [x] 最大 365 日 <!-- pin -->\n- [ ] 最大 30 日 <!-- pin -->\n- [ ] 最大 90 日 <!-- pin -->\n\n解説: 既定 24 時間、最大 365 日。\n\n参照: kinesis.md#データ保持期間\n\n## kin-m2\n\n既定の保持期間は?\n\n- [ ] 1 時間 <!-- pin -->\n- [x] 24 時間 <!-- pin -->\n- [ ] 7 日 <!-- pin -->\n\n解説: 既定は 24 時間。\n\n参照: kinesis.md#データ保持期間\n";
    let workspace = Workspace::with_notes(&[("kinesis.md", NOTES), ("questions/kinesis.md", bank)]);
    let play = |id: &str, input: &str| {
        let output = workspace.run(
            &["quiz", "--topic", id, "--count", "1", "--bank-only", "--user", "n"],
            input,
        );
        let stdout = text(&output.stdout);
        assert!(output.status.success(), "{stdout}\n{}", text(&output.stderr));
        stdout
    };
    // One pick, then three, for a question asking for two: asked again each time, then graded.
    let two = play("kin-m1", "a\nb,d,e\na,c\n");
    assert_eq!(two.matches("Choose 2 (letters separated by commas").count(), 2, "{two}");
    assert!(two.contains("✓ Correct") && two.contains("1. n  score 1/1"), "{two}");
    let one = play("kin-m2", "a,b\nb\n");
    assert_eq!(one.matches("Choose 1 (one letter).").count(), 1, "{one}");
    assert!(one.contains("✓ Correct") && !one.contains("✗ Wrong"), "{one}");
}

#[test]
fn nonsense_quiz_flags_get_a_clear_error() {
    let workspace = workspace();
    for args in [
        ["quiz", "--seconds", "0", "--bank-only"],
        ["quiz", "--count", "0", "--bank-only"],
        ["quiz", "--seconds=-5", "--bank-only", "--count=3"],
        ["review", "--count", "100000", "--seconds=5"],
    ] {
        let output = workspace.run(&args, "");
        let stderr = text(&output.stderr);
        assert!(!output.status.success(), "{args:?}");
        assert!(stderr.contains("expected a whole number of"), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn a_ten_question_quiz_over_the_bank_draws_from_at_least_five_files_in_95_percent_of_seeds() {
    let set = &shipped().notes;
    let bank: Vec<QuizQuestion> = tsumiage::check::questions(set)
        .iter()
        .map(|q| QuizQuestion::from_bank(q, set))
        .collect();
    let seeds = 2000;
    let mut spread = 0;
    for seed in 0..seeds {
        let drawn = draw_questions(bank.clone(), 10, seed);
        let files: std::collections::BTreeSet<&str> = drawn.iter().map(|q| q.origin.path.as_str()).collect();
        spread += usize::from(files.len() >= 5);
    }
    assert!(
        spread * 100 >= seeds as usize * 95,
        "{spread} of {seeds} quizzes drew from 5+ files"
    );
}

#[test]
fn the_shipped_answer_key_is_spread_over_the_positions() {
    let set = &shipped().notes;
    let bank = tsumiage::check::questions(set);
    let counts = key_positions(&bank);
    let total: usize = counts.values().sum();
    for (label, n) in &counts {
        assert!(
            n * 100 <= total * 30,
            "{label} is right in {n} of {total} single-answer questions: {counts:?}"
        );
    }
    let multi: std::collections::BTreeSet<Vec<char>> = bank
        .iter()
        .map(|q| q.correct_labels())
        .filter(|k| k.len() > 1)
        .collect();
    assert!(multi.len() >= 3, "multi-answer keys all in a few places: {multi:?}");
}
