//! The `tsumiage` binary as a user runs it: index built on first use and on change, `ask` in text and
//! JSON, `answer` from standard input, `check` exit codes, and clear errors for bad input.

use crate::util::Workspace;

const KINESIS: &str = "---\nservice: Kinesis\n---\n# Kinesis\n\n## データ保持期間\n\n- 既定は 24 時間、最大 365 日\n\n出典: https://docs.aws.amazon.com/streams/latest/dev/kinesis-extended-retention.html\n\n## シャードの分割\n\n- トラフィックが増えたらシャードを分割する\n";

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn ask_builds_the_index_once_and_again_when_notes_change() {
    let workspace = workspace();
    let first = workspace.run(&["ask", "Kinesis", "のデータ保持期間の最大は?"], "");
    assert!(first.status.success(), "{}", text(&first.stderr));
    assert!(
        text(&first.stderr).contains("No index yet: building it"),
        "{}",
        text(&first.stderr)
    );
    assert!(text(&first.stderr).contains("indexing 2/2"), "{}", text(&first.stderr));
    let stdout = text(&first.stdout);
    assert!(stdout.starts_with("1. **Kinesis > データ保持期間**"), "{stdout}");
    assert!(stdout.contains("notes/kinesis.md:6"), "{stdout}");
    assert!(stdout.contains("**最大**"), "{stdout}");
    assert!(stdout.contains("source: https://docs.aws.amazon.com/"), "{stdout}");

    let second = workspace.run(&["ask", "シャード"], "");
    assert!(
        text(&second.stderr).is_empty(),
        "no rebuild expected: {}",
        text(&second.stderr)
    );

    std::fs::write(
        workspace.dir.path().join("notes/sqs.md"),
        "# SQS\n\n## 可視性タイムアウト\n\n- 既定 30 秒\n",
    )
    .unwrap();
    let third = workspace.run(&["ask", "可視性タイムアウト"], "");
    assert!(
        text(&third.stderr).contains("Notes changed: rebuilding the index"),
        "{}",
        text(&third.stderr)
    );
    assert!(
        text(&third.stdout).contains("SQS > 可視性タイムアウト"),
        "{}",
        text(&third.stdout)
    );
}

#[test]
fn ask_json_has_the_documented_shape() {
    let workspace = workspace();
    let output = workspace.run(&["ask", "--json", "--top", "1", "shard", "シャード"], "");
    assert!(output.status.success(), "{}", text(&output.stderr));
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(value["query"], "shard シャード");
    assert!(value["took_us"].is_u64());
    let hits = value["hits"].as_array().unwrap();
    assert_eq!(hits.len(), 1);
    let hit = &hits[0];
    assert_eq!(hit["id"], "kinesis.md#シャードの分割");
    assert_eq!(hit["title"], "シャードの分割");
    assert_eq!(hit["heading_path"], "Kinesis > シャードの分割");
    assert_eq!(hit["path"], "kinesis.md");
    assert_eq!(hit["line"], 12);
    assert_eq!(hit["text"], "- トラフィックが増えたらシャードを分割する");
    assert_eq!(hit["snippet"], "- トラフィックが増えたら**シャード**を分割する");
    assert!(hit["score"].as_f64().unwrap() > 0.0);
}

#[test]
fn any_query_text_is_accepted_and_no_hits_is_said_plainly() {
    let workspace = workspace();
    for query in ["\"(", "🙂", "AND OR", "field:value*"] {
        let output = workspace.run(&["ask", query], "");
        assert!(output.status.success(), "{query}: {}", text(&output.stderr));
    }
    let output = workspace.run(&["ask", "Kenesis"], "");
    let stdout = text(&output.stdout);
    assert!(stdout.contains("No notes match."), "{stdout}");
    assert!(stdout.contains("Did you mean: kinesis"), "{stdout}");
}

#[test]
fn answer_reads_a_question_from_stdin() {
    let workspace = workspace();
    let question = "Kinesis Data Streams のデータ保持期間の最大は?\nA. 24 時間\nB. 365 日\nC. 14 日\n";
    let output = workspace.run(&["answer", "--json", "-"], question);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(value["best"], serde_json::json!(["B"]));
    let choices = value["choices"].as_array().unwrap();
    assert_eq!(choices.len(), 3);
    assert_eq!(choices[1]["evidence"]["id"], "kinesis.md#データ保持期間");
    assert_eq!(choices[1]["evidence"]["line"], 6);
    assert_eq!(value["abstained"], false);
    assert!(value["confidence"].as_f64().unwrap() >= 0.7, "{value}");

    let human = workspace.run(&["answer"], question);
    assert!(
        text(&human.stdout).contains("Best supported: B"),
        "{}",
        text(&human.stdout)
    );
}

#[test]
fn answer_abstains_when_the_notes_do_not_settle_the_question() {
    let workspace = workspace();
    let question = "Which colour is the logo of the study group?\nA. Blue\nB. Red\nC. Green\n";
    let output = workspace.run(&["answer", "--json"], question);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(value["abstained"], true, "{value}");
    assert_eq!(value["best"], serde_json::json!([]));
    assert!(value["confidence"].as_f64().unwrap() < 0.7, "{value}");
    assert_eq!(value["choices"].as_array().unwrap().len(), 3);
    let human = text(&workspace.run(&["answer"], question).stdout);
    assert!(human.contains("The notes don't settle this question"), "{human}");
}

#[test]
fn answer_explains_what_is_wrong_with_its_input() {
    let workspace = workspace();
    let output = workspace.run(&["answer"], "What is the retention period?");
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("no choices found"), "{stderr}");
    assert!(stderr.contains("one choice per line"), "{stderr}");
}

#[test]
fn check_names_file_and_line_and_fails_on_errors() {
    let workspace = workspace();
    let ok = workspace.run(&["check"], "");
    assert!(ok.status.success(), "{}", text(&ok.stdout));
    std::fs::write(
        workspace.dir.path().join("notes/broken.md"),
        "---\ntitle: x\nnot a pair\n---\n# A\n\n## Empty\n",
    )
    .unwrap();
    std::fs::write(workspace.dir.path().join("notes/blob.md"), b"\x00\x01\x02").unwrap();
    let bad = workspace.run(&["check"], "");
    assert_eq!(bad.status.code(), Some(1));
    let stdout = text(&bad.stdout);
    assert!(
        stdout.contains("notes/broken.md:3: error: front matter line `not a pair`"),
        "{stdout}"
    );
    assert!(
        stdout.contains("notes/broken.md:7: warning: section `Empty` is empty"),
        "{stdout}"
    );
    assert!(stdout.contains("notes/blob.md:1: error: binary file"), "{stdout}");
    // The good note is still searchable.
    let ask = workspace.run(&["ask", "シャード"], "");
    assert!(
        text(&ask.stdout).contains("Kinesis > シャードの分割"),
        "{}",
        text(&ask.stdout)
    );
}

fn workspace() -> Workspace {
    Workspace::with_notes(&[("kinesis.md", KINESIS)])
}
