//! Rebalances the answer key of question files in place (`tsumiage::questions::rebalance`): only choice
//! lines move, pinned choices (`<!-- pin -->`) never do, a balanced file is left as it is, and a second
//! run changes nothing. Prints where the right choices sat before and after, over the files given.
//!
//! `cargo run --example rebalance_keys -- [--check] [FILE_OR_DIR …]` (default: `notes/aws-dva/questions`).
//! Only files whose front matter says `kind: questions` are touched. `--check` writes nothing and exits 1
//! when some file would change.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use tsumiage::notes::{NoteKind, parse_note};
use tsumiage::questions::parse_bank;
use tsumiage::questions::rebalance::{key_positions, rebalance};

fn main() -> Result<ExitCode> {
    let mut check_only = false;
    let mut roots = Vec::new();
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--check" => check_only = true,
            "-h" | "--help" => {
                println!("usage: rebalance_keys [--check] [FILE_OR_DIR ...]");
                return Ok(ExitCode::SUCCESS);
            }
            _ => roots.push(PathBuf::from(arg)),
        }
    }
    if roots.is_empty() {
        roots.push(PathBuf::from("notes/aws-dva/questions"));
    }
    let mut files = Vec::new();
    for root in &roots {
        collect(root, &mut files).with_context(|| format!("reading {}", root.display()))?;
    }
    files.sort();
    let (mut before, mut after) = (Tally::default(), Tally::default());
    let mut changed = 0;
    for file in &files {
        let text = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
        let path = file.to_string_lossy();
        let (note, _) = parse_note(&path, &text);
        if note.front.kind != NoteKind::Questions {
            continue;
        }
        let result = rebalance(&path, &text);
        before.add(&path, &text);
        after.add(&path, &result.text);
        if result.text != text {
            changed += 1;
            println!("{path}: moved the choices of {}", result.moved.join(", "));
            if !check_only {
                std::fs::write(file, &result.text).with_context(|| format!("writing {}", file.display()))?;
            }
        }
    }
    println!("single-answer keys before: {}", before.singles());
    println!("single-answer keys after:  {}", after.singles());
    println!("multi-answer keys before:  {}", before.multis());
    println!("multi-answer keys after:   {}", after.multis());
    let verb = if check_only { "would change" } else { "changed" };
    println!("{changed} of {} question files {verb}", files.len());
    Ok(if check_only && changed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn collect(path: &Path, files: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if path.is_dir() {
        for entry in std::fs::read_dir(path)? {
            collect(&entry?.path(), files)?;
        }
    } else if path.extension().is_some_and(|e| e == "md") {
        files.push(path.to_path_buf());
    }
    Ok(())
}

/// Where right choices sit: single-answer keys by letter, multi-answer keys by their set of letters.
#[derive(Default)]
struct Tally {
    singles: BTreeMap<char, usize>,
    multis: BTreeMap<String, usize>,
}

impl Tally {
    fn add(&mut self, path: &str, text: &str) {
        let (note, _) = parse_note(path, text);
        let (questions, _) = parse_bank(&[note]);
        for (label, n) in key_positions(&questions) {
            *self.singles.entry(label).or_default() += n;
        }
        for question in questions.iter().filter(|q| q.correct_labels().len() > 1) {
            let key: String = question.correct_labels().into_iter().collect();
            *self.multis.entry(key).or_default() += 1;
        }
    }

    fn singles(&self) -> String {
        let total: usize = self.singles.values().sum();
        let parts: Vec<String> = self
            .singles
            .iter()
            .map(|(label, n)| format!("{label} {n} ({:.1}%)", *n as f64 * 100.0 / total.max(1) as f64))
            .collect();
        format!("{} of {total}", parts.join(", "))
    }

    fn multis(&self) -> String {
        let parts: Vec<String> = self.multis.iter().map(|(key, n)| format!("{key} {n}")).collect();
        parts.join(", ")
    }
}
