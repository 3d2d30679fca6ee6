//! Command-line arguments and the commands they run. Each command reads its input, calls the core and
//! hands the result to `render`; nothing here decides what an answer is.
//!
//! An adapter, in the binary: imports the library (core and adapters); nothing imports it.

mod echo;
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
use tsumiage::notes::NoteSet;
use tsumiage::quiz::library::{Library, NotesSource};
use tsumiage::search::SectionSearcher;
use tsumiage::search::index::{Freshness, NoteIndex};
use tsumiage::search::synonyms::{Synonyms, load_lists};
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
        /// How many sections to show (1 or more).
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
        top: Option<u16>,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
        /// The question, in any words. Everything from its first word on is the query, even words that
        /// start with `-` (a pasted bullet or `---`).
        #[arg(required = true, num_args = 1.., value_name = "QUERY", trailing_var_arg = true, allow_hyphen_values = true)]
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
        /// Also generate the questions the notes give: print a sample, and what was dropped and why.
        #[arg(long)]
        generated: bool,
    },
}

/// Settings after config file, environment and flags are merged.
struct App {
    config: Config,
}

pub fn run() -> Result<ExitCode> {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return Ok(argument_error(error)),
    };
    if !matches!(cli.command, Command::Serve(_)) {
        die_quietly_on_closed_pipe();
    }
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
        Command::Ask { top, json, query } => {
            let (query, trailing) = split_trailing_options(query)?;
            let top = trailing.top.or(top.map(usize::from));
            ask_command(&context, top, json || trailing.json, &query.join(" "))
        }
        Command::Answer { json, file } => answer_command(&context, json, file.as_deref()),
        Command::Check { coverage, generated } => check_command(&context, coverage, generated),
        Command::Quiz(args) => quiz::quiz_command(&context, args),
        Command::Review(args) => quiz::review_command(&context, args),
        Command::Stats(args) => quiz::stats_command(&context, args),
        Command::Flags => quiz::flags_command(&context),
        Command::Serve(args) => serve::serve_command(&context, args),
    }
}

/// Prints a command-line error (or the help and version, which clap reports the same way) and gives its
/// exit status. An error that would echo a long argument shows only its first line (see `echo`).
fn argument_error(error: clap::Error) -> ExitCode {
    let code = ExitCode::from(u8::try_from(error.exit_code()).unwrap_or(2));
    let rendered = error.render().to_string();
    let shown = echo::without_long_echoes(&rendered, std::env::args());
    if shown == rendered {
        let _ = error.print();
    } else {
        eprint!("{shown}");
    }
    code
}

/// `message` as an error may show it: no argument echoed longer than a line.
pub fn error_message(message: &str) -> String {
    echo::without_long_echoes(message, std::env::args())
}

/// The terminal commands end at once, silently, when their output is closed (`tsumiage ask … | head -1`):
/// SIGPIPE's default action, as `cat` and `grep` have; the shell sees status 141. Rust ignores SIGPIPE,
/// which turns every later `println!` into a panic. `serve` keeps ignoring it: a client closing its socket
/// must never end the bot.
fn die_quietly_on_closed_pipe() {
    #[cfg(unix)]
    // SAFETY: called once, on the main thread, before any other thread exists; SIG_DFL is a valid
    // disposition for SIGPIPE.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

impl App {
    fn locale(&self) -> Locale {
        self.config.locale
    }

    /// Where the notes, index, synonyms and glossary are, as configured.
    fn notes_source(&self) -> NotesSource {
        let paths = &self.config.paths;
        NotesSource {
            notes: paths.notes.clone(),
            index: paths.index.clone(),
            synonyms: paths.synonyms.clone(),
            glossary: paths.glossary.clone(),
        }
    }

    fn load_notes(&self) -> Result<NoteSet> {
        Ok(self.notes_source().read_notes()?)
    }

    /// The synonyms file and the glossary, merged.
    fn synonyms(&self) -> Result<Synonyms> {
        let paths = &self.config.paths;
        Ok(load_lists(&paths.synonyms, Some(&paths.glossary))?)
    }

    /// The index for the notes, built first when missing or stale, with progress on stderr.
    fn open_index(&self, set: &NoteSet) -> Result<NoteIndex> {
        let started = self.announce_build(set);
        let root = &self.config.paths.index;
        let (index, built) = NoteIndex::open_or_build(root, set, &mut |progress| {
            render::build_progress(self.locale(), progress)
        })
        .with_context(|| format!("opening the index in {}", root.display()))?;
        self.report_build(built, index.meta.sections, started);
        Ok(index)
    }

    /// The notes as a library (index, synonyms, every question), loaded as the bot loads it, with the
    /// index's build progress on stderr.
    fn load_library(&self) -> Result<Library> {
        let set = self.load_notes()?;
        let started = self.announce_build(&set);
        let (library, built) = self
            .notes_source()
            .library(set, &mut |progress| render::build_progress(self.locale(), progress))?;
        self.report_build(built, library.index.meta.sections, started);
        Ok(library)
    }

    /// Says why the index is about to be built, if it is.
    fn announce_build(&self, set: &NoteSet) -> Instant {
        let root = &self.config.paths.index;
        let freshness = NoteIndex::freshness(root, set);
        if freshness != Freshness::Fresh {
            eprintln!("{}", render::build_reason(self.locale(), freshness, root));
        }
        Instant::now()
    }

    fn report_build(&self, built: Freshness, sections: usize, started: Instant) {
        if built != Freshness::Fresh {
            eprintln!("{}", render::build_done(self.locale(), sections, started.elapsed()));
        }
    }
}

/// Opens the store the settings name: an SQLite file (named in an error) or a PostgreSQL URL (whose
/// errors name host, port and database, never the URL itself: it may hold a password).
fn open_store(spec: &Path) -> Result<Box<dyn tsumiage::store::Store>> {
    let text = spec.to_string_lossy();
    if tsumiage::store::is_postgres_url(&text) {
        Ok(tsumiage::store::open(&text)?)
    } else {
        tsumiage::store::open(&text).with_context(|| format!("opening the store {}", spec.display()))
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

/// `ask`'s options written after the query.
#[derive(Debug, Default, PartialEq)]
struct TrailingOptions {
    top: Option<usize>,
    json: bool,
}

/// Takes `--json`, `--top N` and `--top=N` off the end of `ask`'s query words. The query swallows every
/// word from its first one on (so a pasted `- bullet` or `---` is text, not an option), yet most tools let
/// options follow the operands, and `ask "…" --top 3` is what people type. Only separate words that are
/// exactly these options are taken; the query keeps at least one word.
fn split_trailing_options(mut words: Vec<String>) -> Result<(Vec<String>, TrailingOptions)> {
    let mut options = TrailingOptions::default();
    let parse_top = |value: &str| -> Result<usize> {
        match value.parse::<usize>() {
            Ok(n) if n >= 1 => Ok(n),
            _ => bail!("--top takes a whole number of 1 or more, not `{}`", echo::short(value)),
        }
    };
    while words.len() > 1 {
        let last = words[words.len() - 1].as_str();
        if last == "--json" {
            options.json = true;
            words.pop();
        } else if let Some(value) = last.strip_prefix("--top=") {
            options.top = Some(parse_top(value)?);
            words.pop();
        } else if words.len() > 2 && words[words.len() - 2] == "--top" {
            options.top = Some(parse_top(last)?);
            words.truncate(words.len() - 2);
        } else {
            break;
        }
    }
    Ok((words, options))
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

fn check_command(context: &App, coverage: bool, generated: bool) -> Result<ExitCode> {
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
    if generated {
        let index = context.open_index(&set)?;
        let searcher = SectionSearcher::new(&index, &context.synonyms()?);
        let (questions, dropped) = tsumiage::quiz::generate::generate_noting(&set, &searcher);
        print!("{}", render::generated(context.locale(), &questions, &dropped));
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

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        text.split(' ').map(str::to_string).collect()
    }

    #[test]
    fn options_after_the_query_are_taken_off_its_end_and_only_there() {
        let (query, options) = split_trailing_options(words("Kinesis の保持期間 --top 3 --json")).unwrap();
        assert_eq!(query, words("Kinesis の保持期間"));
        assert_eq!(
            options,
            TrailingOptions {
                top: Some(3),
                json: true
            }
        );

        let (query, options) = split_trailing_options(words("- --top は --json の前 --top=2")).unwrap();
        assert_eq!(query, words("- --top は --json の前"));
        assert_eq!(options.top, Some(2));
        assert!(!options.json);

        // A query that is nothing but an option word stays a query.
        let (query, options) = split_trailing_options(words("--json")).unwrap();
        assert_eq!((query, options), (words("--json"), TrailingOptions::default()));

        let error = split_trailing_options(words("Kinesis --top 0"))
            .unwrap_err()
            .to_string();
        assert!(error.contains("1 or more"), "{error}");
    }
}
