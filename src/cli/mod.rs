//! Command-line arguments and the commands they run. Each command reads its input, calls the core and
//! hands the result to `render`; nothing here decides what an answer is.

mod quiz;
mod render;
mod serve;

use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};

use tsumiage::config::{Config, Locale};
use tsumiage::index::{Freshness, NoteIndex};
use tsumiage::notes::{NoteSet, load_dir};
use tsumiage::search::SectionSearcher;
use tsumiage::synonyms::Synonyms;
use tsumiage::{answer, check};

#[derive(Parser)]
#[command(name = "tsumiage", version, about = "Search study notes, rank exam answers, run quizzes", long_about = None)]
struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args)]
struct GlobalArgs {
    /// Config file (default: config/tsumiage.toml when present).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Notes folder (overrides the config).
    #[arg(long, global = true, value_name = "DIR")]
    notes: Option<PathBuf>,
    /// Index folder (overrides the config).
    #[arg(long, global = true, value_name = "DIR")]
    index: Option<PathBuf>,
    /// Store of scores, review cards and flags (overrides the config).
    #[arg(long, global = true, value_name = "FILE")]
    store: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Build the search index now (other commands build it when missing or stale).
    Index {
        /// Rebuild even when the index is up to date.
        #[arg(long)]
        force: bool,
    },
    /// Show the note sections that answer a question.
    Ask {
        /// How many sections to show.
        #[arg(long, value_name = "N")]
        top: Option<usize>,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
        /// The question, in any words.
        #[arg(required = true, num_args = 1.., value_name = "QUERY")]
        query: Vec<String>,
    },
    /// Rank the choices of a multiple-choice question by the evidence in the notes.
    Answer {
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
        /// A file holding the question and its choices; `-` or nothing reads standard input.
        #[arg(value_name = "FILE|-")]
        file: Option<PathBuf>,
    },
    /// Play a quiz in the terminal: bank questions, topped up with questions generated from the notes.
    Quiz(quiz::QuizArgs),
    /// Go over due review cards, then recent misses.
    Review(quiz::ReviewArgs),
    /// Show a player's answers, scores and review cards.
    Stats(quiz::UserArgs),
    /// List the questions players flagged as wrong or unclear, with their source file and line.
    Flags,
    /// Run the Discord bot (gateway; or HTTP interactions with --http). Needs DISCORD_TOKEN.
    Serve(serve::ServeArgs),
    /// Validate the notes and questions; exit non-zero on errors.
    Check {
        /// Also print sections and questions per service and exam domain.
        #[arg(long)]
        coverage: bool,
    },
}

/// Settings after config file, environment and flags are merged.
struct App {
    config: Config,
}

pub fn run() -> Result<ExitCode> {
    let cli = Cli::parse();
    let mut config =
        Config::load(cli.global.config.as_deref(), |key| std::env::var(key).ok()).context("loading settings")?;
    if let Some(notes) = cli.global.notes {
        config.paths.notes = notes;
    }
    if let Some(index) = cli.global.index {
        config.paths.index = index;
    }
    if let Some(store) = cli.global.store {
        config.paths.store = store;
    }
    let context = App { config };
    match cli.command {
        Command::Index { force } => index_command(&context, force),
        Command::Ask { top, json, query } => ask_command(&context, top, json, &query.join(" ")),
        Command::Answer { json, file } => answer_command(&context, json, file.as_deref()),
        Command::Check { coverage } => check_command(&context, coverage),
        Command::Quiz(args) => quiz::quiz_command(&context, args),
        Command::Review(args) => quiz::review_command(&context, args),
        Command::Stats(args) => quiz::stats_command(&context, args),
        Command::Flags => quiz::flags_command(&context),
        Command::Serve(args) => serve::serve_command(&context, args),
    }
}

impl App {
    fn locale(&self) -> Locale {
        self.config.locale
    }

    fn load_notes(&self) -> Result<NoteSet> {
        let notes = &self.config.paths.notes;
        load_dir(notes).with_context(|| format!("reading the notes folder {}", notes.display()))
    }

    fn synonyms(&self) -> Result<Synonyms> {
        let path = &self.config.paths.synonyms;
        match std::fs::read_to_string(path) {
            Ok(text) => Synonyms::parse(&text).with_context(|| format!("synonyms file {}", path.display())),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(Synonyms::default()),
            Err(error) => Err(error).with_context(|| format!("reading {}", path.display())),
        }
    }

    /// The index for the notes, built first when missing or stale, with progress on stderr.
    fn open_index(&self, set: &NoteSet) -> Result<NoteIndex> {
        let root = &self.config.paths.index;
        let freshness = NoteIndex::freshness(root, set);
        if freshness != Freshness::Fresh {
            eprintln!("{}", render::build_reason(self.locale(), freshness, root));
        }
        let started = Instant::now();
        let (index, built) = NoteIndex::open_or_build(root, set, &mut |progress| {
            render::build_progress(self.locale(), progress)
        })
        .with_context(|| format!("opening the index in {}", root.display()))?;
        if built != Freshness::Fresh {
            eprintln!(
                "{}",
                render::build_done(self.locale(), index.meta.sections, started.elapsed())
            );
        }
        Ok(index)
    }
}

fn index_command(context: &App, force: bool) -> Result<ExitCode> {
    let set = context.load_notes()?;
    report_problems(context, &set, false);
    let root = &context.config.paths.index;
    let started = Instant::now();
    let index = if force {
        eprintln!("{}", render::build_reason(context.locale(), Freshness::Stale, root));
        NoteIndex::build(root, &set, &mut |progress| {
            render::build_progress(context.locale(), progress)
        })?
    } else {
        context.open_index(&set)?
    };
    println!(
        "{}",
        render::index_summary(context.locale(), &index, root, started.elapsed())
    );
    Ok(ExitCode::SUCCESS)
}

fn ask_command(context: &App, top: Option<usize>, json: bool, query: &str) -> Result<ExitCode> {
    let set = context.load_notes()?;
    report_problems(context, &set, true);
    let index = context.open_index(&set)?;
    let mut searcher = SectionSearcher::new(&index, &context.synonyms()?);
    searcher.snippet_lines = context.config.search.snippet_lines;
    let started = Instant::now();
    let results = searcher.search(query, top.unwrap_or(context.config.search.top));
    let took = started.elapsed();
    if json {
        println!("{}", render::ask_json(query, took, &results));
    } else {
        print!(
            "{}",
            render::ask_text(
                context.locale(),
                &context.config.paths.notes,
                &results,
                std::io::stdout().is_terminal()
            )
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn answer_command(context: &App, json: bool, file: Option<&Path>) -> Result<ExitCode> {
    let text = match file {
        Some(path) if path != Path::new("-") => {
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?
        }
        _ => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .context("reading the question from standard input")?;
            text
        }
    };
    let question = match answer::parse_question(&text) {
        Ok(question) => question,
        Err(error) => bail!("{}", render::answer_parse_error(context.locale(), &error)),
    };
    let set = context.load_notes()?;
    report_problems(context, &set, true);
    let index = context.open_index(&set)?;
    let searcher = SectionSearcher::new(&index, &context.synonyms()?);
    let ranking = answer::rank(&searcher, &question, context.config.answer.min_confidence);
    if json {
        println!("{}", render::answer_json(&ranking));
    } else {
        print!(
            "{}",
            render::answer_text(context.locale(), &context.config.paths.notes, &question, &ranking)
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn check_command(context: &App, coverage: bool) -> Result<ExitCode> {
    let set = context.load_notes()?;
    let report = check::check(&set);
    let notes_root = &context.config.paths.notes;
    for problem in &report.problems {
        println!("{}", render::problem(notes_root, problem));
    }
    println!("{}", render::check_summary(context.locale(), &report));
    if coverage {
        print!("{}", render::coverage(context.locale(), &check::coverage(&set)));
    }
    Ok(if report.errors() > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Notes that could not be read are named on stderr, so a search that misses them is explained.
fn report_problems(context: &App, set: &NoteSet, errors_only: bool) {
    let notes_root = &context.config.paths.notes;
    let shown: Vec<_> = set
        .problems
        .iter()
        .filter(|p| !errors_only || p.severity == tsumiage::notes::Severity::Error)
        .collect();
    for problem in shown.iter().take(10) {
        eprintln!("{}", render::problem(notes_root, problem));
    }
    if shown.len() > 10 {
        eprintln!("… {} more (run `tsumiage check`)", shown.len() - 10);
    }
}
