//! What a new user trips over at the terminal, through the real binary: a closed pipe, a query that starts
//! with `-`, a long paste in an error, `--top 0`, a missing config file, `stats` for an unknown player, a
//! bank question with too many choices, and README's sample output (generated here, so it cannot drift).

use std::process::{Command, Stdio};

use tsumiage::clock::Timestamp;
use tsumiage::store::{SqliteStore, Users};

use crate::util::{Workspace, binary, repo_root};

const KINESIS: &str = "---\nservice: Kinesis\n---\n# Kinesis\n\n## データ保持期間\n\n- 既定は 24 時間、最大 365 日\n\n## シャードの分割\n\n- トラフィックが増えたらシャードを分割する\n";

const BANK: &str = "---\nkind: questions\nservice: Kinesis\n---\n# 問題\n\n## kin-x1\n\n既定の保持期間は?\n\n- [ ] 1 時間\n- [x] 24 時間\n- [ ] 7 日\n\n解説: 既定は 24 時間。\n\n参照: kinesis.md#データ保持期間\n";

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn workspace() -> Workspace {
    Workspace::with_notes(&[("kinesis.md", KINESIS), ("questions/kinesis.md", BANK)])
}

/// Runs the CLI with its standard output closed before it writes a byte (as `| head -1` leaves it).
fn run_into_closed_pipe(workspace: &Workspace, args: &[&str], stdin: &str) -> std::process::Output {
    let mut child = workspace.command(args).spawn().unwrap();
    drop(child.stdout.take());
    {
        use std::io::Write;
        let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
    }
    child.wait_with_output().unwrap()
}

#[test]
fn a_closed_output_pipe_ends_the_command_quietly() {
    use std::os::unix::process::ExitStatusExt;
    let workspace = workspace();
    // Built once first, so the index messages on stderr do not hide a panic message.
    assert!(workspace.run(&["index"], "").status.success());
    for (args, stdin) in [
        (&["ask", "--top", "400", "Kinesis の保持期間"][..], ""),
        (&["answer"][..], "既定の保持期間は?\nA. 24 時間\nB. 365 日\n"),
        (&["quiz", "--count", "1", "--bank-only", "--user", "pipe"][..], "b\n"),
    ] {
        let output = run_into_closed_pipe(&workspace, args, stdin);
        let stderr = text(&output.stderr);
        assert!(
            output.status.success() || output.status.signal() == Some(libc::SIGPIPE),
            "{args:?}: {:?}\n{stderr}",
            output.status
        );
        assert!(
            !stderr.contains("panicked") && !stderr.contains("Broken pipe"),
            "{args:?}: {stderr}"
        );
    }
}

#[test]
fn a_query_may_start_with_a_hyphen_and_errors_echo_one_short_line() {
    let workspace = workspace();
    let output = workspace.run(&["ask", "- Kinesis の保持期間"], "");
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(
        text(&output.stdout).contains("Kinesis > データ保持期間"),
        "{}",
        text(&output.stdout)
    );

    // A 100 KB paste that starts like a YAML front matter: a query like any other ...
    let paste = format!("---\n{}", "Kinesis の保持期間は何日まで延ばせるか\n".repeat(2_000));
    assert!(paste.len() > 100_000);
    let output = workspace.run(&["ask", &paste], "");
    assert!(output.status.success(), "{}", text(&output.stderr));
    // ... and where it is an error (no command before it), the error shows its first line only.
    for args in [vec![paste.as_str()], vec!["ask", "--top", paste.as_str(), "x"]] {
        let output = workspace.run(&args, "");
        assert_eq!(output.status.code(), Some(2));
        let stderr = text(&output.stderr);
        assert!(stderr.len() < 400, "{} bytes:\n{}", stderr.len(), &stderr[..400]);
        assert!(stderr.contains("'---…'"), "{stderr}");
        assert!(stderr.lines().all(|l| l.chars().count() <= 100), "{stderr}");
    }
}

#[test]
fn top_zero_is_refused_with_a_clear_error() {
    let output = workspace().run(&["ask", "--top", "0", "Kinesis"], "");
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("invalid value '0' for '--top <N>'"), "{stderr}");
    assert!(
        !text(&output.stdout).contains("No notes match"),
        "{}",
        text(&output.stdout)
    );
}

#[test]
fn a_missing_config_file_is_named_once() {
    let output = workspace().run(&["--config", "nope.toml", "ask", "x"], "");
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("cannot read config file nope.toml"), "{stderr}");
    assert_eq!(stderr.matches("No such file or directory").count(), 1, "{stderr}");
}

#[test]
fn stats_for_an_unknown_player_writes_nothing() {
    let workspace = workspace();
    let output = workspace.run(&["stats", "--user", "nobody"], "");
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output.stderr).contains("No player named `nobody`"),
        "{}",
        text(&output.stderr)
    );
    assert!(!workspace.dir.path().join("data").exists(), "the store was created");

    let path = workspace.dir.path().join("data/tsumiage.sqlite");
    SqliteStore::open(&path).unwrap().user("alice", Timestamp(1)).unwrap();
    let output = workspace.run(&["stats", "--user", "nobody"], "");
    assert_eq!(output.status.code(), Some(1));
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.find_user("nobody").unwrap(), None, "stats created the player");
    let known = workspace.run(&["stats", "--user", "alice"], "");
    assert!(
        text(&known.stdout).starts_with("alice: 0 answers, 0 correct (0%), 0 quizzes, 0 points\n0 cards"),
        "{}",
        text(&known.stdout)
    );
}

#[test]
fn a_bank_question_with_seven_choices_fails_check_at_its_line() {
    let choices: String = (1..=7)
        .map(|n| format!("- [{}] 選択肢 {n}\n", if n == 2 { "x" } else { " " }))
        .collect();
    let bank = format!(
        "---\nkind: questions\nservice: Kinesis\n---\n# 問題\n\n## kin-x7\n\n既定の保持期間は?\n\n{choices}\n解説: 既定は 24 時間。\n\n参照: kinesis.md#データ保持期間\n"
    );
    let workspace = Workspace::with_notes(&[("kinesis.md", KINESIS), ("questions/seven.md", &bank)]);
    let output = workspace.run(&["check"], "");
    assert_eq!(output.status.code(), Some(1));
    let stdout = text(&output.stdout);
    assert!(
        stdout.contains("notes/questions/seven.md:7: error: question `kin-x7` has 7 choices; at most 6"),
        "{stdout}"
    );
}

/// The first hit of README's main command on the shipped notes, as README shows it. With
/// `TSUMIAGE_UPDATE_README=1` the test writes the current output into README instead of comparing.
#[test]
fn readme_sample_output_is_what_the_main_command_prints() {
    let index = tempfile::tempdir().unwrap();
    let output = Command::new(binary())
        .args(["--index"])
        .arg(index.path())
        .args(["ask", "Kinesis のデータ保持期間の最大は?"])
        .current_dir(repo_root())
        .env("TSUMIAGE_LOCALE", "ja")
        .env_remove("TSUMIAGE_NOTES")
        .env_remove("TSUMIAGE_INDEX")
        .env_remove("TSUMIAGE_CONFIG")
        .env_remove("TSUMIAGE_SYNONYMS")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    let first_hit = stdout.split("\n\n").next().unwrap().trim_end();
    let readme_path = repo_root().join("README.md");
    let readme = std::fs::read_to_string(&readme_path).unwrap();
    let (before, rest) = readme.split_once("## Two commands").unwrap();
    let (head, block_and_after) = rest.split_once("```text\n").unwrap();
    let (block, after) = block_and_after.split_once("\n```").unwrap();
    if std::env::var_os("TSUMIAGE_UPDATE_README").is_some() {
        let updated = format!("{before}## Two commands{head}```text\n{first_hit}\n```{after}");
        std::fs::write(&readme_path, updated).unwrap();
        return;
    }
    assert_eq!(
        block, first_hit,
        "README's sample output is stale: run `TSUMIAGE_UPDATE_README=1 cargo test --test it readme_sample`"
    );
}

#[test]
fn snippets_show_facts_not_code_lines_and_never_mark_inside_inline_code() {
    let note = "---\nservice: DynamoDB\n---\n# DynamoDB\n\n## 条件付き書き込み\n\n```sh\naws dynamodb update-item \\\n  --condition-expression \"attribute_not_exists(UserId)\"\n```\n\n- `attribute_not_exists(UserId)` を条件にすると、既存の項目を上書きしない。\n- 条件が偽なら ConditionalCheckFailedException になる。\n";
    let workspace = Workspace::with_notes(&[("dynamodb.md", note)]);
    let output = workspace.run(
        &[
            "ask",
            "--json",
            "DynamoDB の条件付き書き込みで上書きを防ぐ attribute_not_exists",
        ],
        "",
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let snippet = value["hits"][0]["snippet"].as_str().unwrap();
    assert!(
        !snippet.contains("aws ") && !snippet.contains("--condition"),
        "{snippet}"
    );
    assert!(snippet.contains("**`attribute_not_exists(UserId)`**"), "{snippet}");
    for span in snippet.split("**`").skip(1) {
        let code = span.split('`').next().unwrap();
        assert!(!code.contains("**"), "marked inside code: {snippet}");
    }
}
