//! Query latency and index build rate, over the shipped notes and over a generated corpus of 10,000
//! sections, beside SQLite FTS5 (trigram tokenizer) on the same sections and queries: the peer a bot author
//! would reach for instead. Figures are compared as ratios within one run (see README).

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use criterion::{BatchSize, BenchmarkId, Criterion};
use rusqlite::Connection;

use tsumiage::answer::{McQuestion, parse_question, rank as rank_answer};
use tsumiage::notes::{NoteSet, load_dir};
use tsumiage::search::SectionSearcher;
use tsumiage::search::analysis::{Script, Token, bigram_tokens, word_part_tokens, words};
use tsumiage::search::index::{IndexedTexts, NoteIndex, searchable_sections};
use tsumiage::search::synonyms::{Synonyms, load_lists};

/// The paraphrased questions of the retrieval test: realistic queries.
fn queries() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/retrieval");
    let mut files: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    files
        .iter()
        .flat_map(|f| {
            std::fs::read_to_string(f)
                .unwrap()
                .lines()
                .filter_map(|l| l.split_once('\t'))
                .map(|(q, _)| q.to_string())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The questions of tests/data/answer, as `answer` reads them: realistic exam questions.
fn exam_questions() -> Vec<McQuestion> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/answer");
    let mut files: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    let notes: Vec<_> = files
        .iter()
        .map(|f| tsumiage::notes::parse_note("answer.md", &std::fs::read_to_string(f).unwrap()).0)
        .collect();
    tsumiage::questions::parse_bank(&notes)
        .0
        .iter()
        .map(McQuestion::from_bank)
        .collect()
}

/// The seed study log's CodeDeploy question (issue #11): one question for criterion.
const SEED_QUESTION: &str = "CodeDeploy のデプロイで、デプロイが正常に完了したことを確認するために最後に実行されるライフサイクルイベントはどれか。\nA. BeforeInstall\nB. ApplicationStart\nC. ValidateService\nD. AfterInstall";

/// 10,000 sections made of the shipped notes' lines, recombined deterministically (a small LCG), so the
/// vocabulary and the line lengths are those of real notes.
fn generated_corpus(shipped: &NoteSet, sections: usize) -> NoteSet {
    // Fence and heading lines are left out: a stray ``` would swallow the sections after it.
    let lines: Vec<&str> = searchable_sections(shipped)
        .flat_map(|(_, s)| s.text.lines())
        .filter(|l| {
            let t = l.trim_start();
            !t.is_empty() && !t.starts_with("```") && !t.starts_with("~~~") && !t.starts_with('#')
        })
        .collect();
    let titles: Vec<&str> = searchable_sections(shipped).map(|(_, s)| s.title.as_str()).collect();
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = |bound: usize| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) as usize % bound
    };
    let mut files = Vec::new();
    for file in 0..sections / 50 {
        let mut text = format!("# 生成ノート {file}\n\n");
        for section in 0..50 {
            text.push_str(&format!("## {} ({file}-{section})\n\n", titles[next(titles.len())]));
            for _ in 0..3 + next(4) {
                text.push_str(lines[next(lines.len())]);
                text.push('\n');
            }
            text.push('\n');
        }
        files.push((format!("generated/{file}.md"), text));
    }
    let set = NoteSet::from_texts(files.iter().map(|(p, t)| (p.as_str(), t.as_str())));
    let made = searchable_sections(&set).count();
    assert!(
        made >= sections * 99 / 100,
        "the generated corpus has {made} sections, not {sections}"
    );
    set
}

fn fts5(set: &NoteSet) -> Connection {
    let connection = Connection::open_in_memory().unwrap();
    connection
        .execute_batch("CREATE VIRTUAL TABLE sections USING fts5(id UNINDEXED, heading, body, tokenize = 'trigram');")
        .unwrap();
    let transaction = connection.unchecked_transaction().unwrap();
    {
        let mut insert = transaction
            .prepare("INSERT INTO sections (id, heading, body) VALUES (?1, ?2, ?3)")
            .unwrap();
        for (_, section) in searchable_sections(set) {
            insert
                .execute((&section.id, section.heading_path_display(), &section.text))
                .unwrap();
        }
    }
    transaction.commit().unwrap();
    connection
}

/// The same query for FTS5: the query's words of three or more characters (trigram's minimum), ORed,
/// ranked by bm25 with the heading weighted as tsumiage weights it.
fn fts5_query(text: &str) -> Option<String> {
    let terms: Vec<String> = words(text)
        .into_iter()
        .filter(|w| w.script != Script::Hiragana && w.text.chars().count() >= 3)
        .map(|w| format!("\"{}\"", w.text.replace('"', "")))
        .collect();
    (!terms.is_empty()).then(|| terms.join(" OR "))
}

fn fts5_search(connection: &Connection, query: &str) -> Vec<String> {
    let Some(expression) = fts5_query(query) else {
        return Vec::new();
    };
    let mut statement = connection
        .prepare_cached("SELECT id, snippet(sections, 2, '**', '**', '…', 16) FROM sections WHERE sections MATCH ?1 ORDER BY bm25(sections, 0.0, 2.0, 1.0) LIMIT 5")
        .unwrap();
    statement
        .query_map([expression], |row| row.get::<_, String>(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// The floor of any build on tantivy: the four indexed fields of each section as tsumiage's analysers cut
/// them, computed beforehand and joined by spaces, so that tantivy's whitespace tokenizer reads them back
/// for almost nothing. Timing `tantivy_alone` on these measures tantivy's own indexing of the same tokens
/// with the same postings options, and nothing else (no analysis, no stored fields, no side data).
fn pre_tokenized(set: &NoteSet) -> Vec<[String; 4]> {
    let joined = |tokens: Vec<Token>| tokens.into_iter().map(|t| t.text).collect::<Vec<_>>().join(" ");
    searchable_sections(set)
        .map(|(note, section)| {
            let texts = IndexedTexts::of(note, section);
            [
                joined(bigram_tokens(&texts.heading)),
                joined(bigram_tokens(&texts.body)),
                joined(word_part_tokens(&texts.parts)),
                joined(bigram_tokens(&texts.tags)),
            ]
        })
        .collect()
}

fn tantivy_alone(documents: Vec<[String; 4]>, threads: usize) -> tantivy::Index {
    use tantivy::schema::{IndexRecordOption, Schema, TextFieldIndexing, TextOptions};
    let mut builder = Schema::builder();
    let field = |builder: &mut tantivy::schema::SchemaBuilder, name: &str, record: IndexRecordOption| {
        let indexing = TextFieldIndexing::default()
            .set_tokenizer("whitespace")
            .set_index_option(record);
        builder.add_text_field(name, TextOptions::default().set_indexing_options(indexing))
    };
    let fields = [
        field(&mut builder, "heading", IndexRecordOption::WithFreqs),
        field(&mut builder, "body", IndexRecordOption::WithFreqsAndPositions),
        field(&mut builder, "parts", IndexRecordOption::WithFreqs),
        field(&mut builder, "tags", IndexRecordOption::WithFreqs),
    ];
    let index = tantivy::Index::create_in_ram(builder.build());
    let mut writer: tantivy::IndexWriter = index.writer_with_num_threads(threads, 64 * 1024 * 1024).unwrap();
    for texts in documents {
        let mut document = tantivy::TantivyDocument::new();
        for (field, text) in fields.iter().zip(texts) {
            document.add_text(*field, text);
        }
        writer.add_document(document).unwrap();
    }
    writer.commit().unwrap();
    writer.wait_merging_threads().unwrap();
    index
}

/// The synonyms and the English ↔ Japanese glossary, as `ask` loads them.
fn shipped_synonyms() -> Synonyms {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    load_lists(
        &root.join("config/synonyms.txt"),
        Some(&root.join("config/glossary-en-ja.txt")),
    )
    .unwrap()
}

fn benches(c: &mut Criterion) {
    let shipped = load_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("notes")).unwrap();
    let synonyms = shipped_synonyms();
    let generated = generated_corpus(&shipped, 10_000);
    let queries = queries();

    for (name, set) in [("shipped", &shipped), ("10k", &generated)] {
        let index = NoteIndex::in_memory(set).unwrap();
        let searcher = SectionSearcher::new(&index, &synonyms);
        let connection = fts5(set);
        let mut group = c.benchmark_group(format!("query/{name}"));
        group.bench_function(BenchmarkId::new("tsumiage_rank", queries.len()), |b| {
            b.iter(|| {
                queries
                    .iter()
                    .map(|q| searcher.rank(black_box(q), 5).len())
                    .sum::<usize>()
            })
        });
        group.bench_function(BenchmarkId::new("tsumiage_ask", queries.len()), |b| {
            b.iter(|| {
                queries
                    .iter()
                    .map(|q| searcher.search(black_box(q), 5).hits.len())
                    .sum::<usize>()
            })
        });
        let seed = parse_question(SEED_QUESTION).unwrap();
        group.bench_function("tsumiage_answer_one_question", |b| {
            b.iter(|| rank_answer(&searcher, black_box(&seed), 0.0).choices.len())
        });
        group.bench_function("tsumiage_ask_its_stem", |b| {
            b.iter(|| searcher.search(black_box(&seed.stem), 5).hits.len())
        });
        group.bench_function(BenchmarkId::new("fts5_trigram", queries.len()), |b| {
            b.iter(|| {
                queries
                    .iter()
                    .map(|q| fts5_search(&connection, black_box(q)).len())
                    .sum::<usize>()
            })
        });
        group.finish();
    }

    let mut group = c.benchmark_group("build/10k");
    group.sample_size(10);
    group.bench_function("tsumiage_index", |b| {
        b.iter(|| NoteIndex::in_memory(black_box(&generated)).unwrap().meta.sections)
    });
    group.bench_function("fts5_trigram", |b| b.iter(|| fts5(black_box(&generated))));
    let documents = pre_tokenized(&generated);
    for threads in [1, 2] {
        group.bench_function(BenchmarkId::new("tantivy_alone_threads", threads), |b| {
            b.iter_batched(
                || documents.clone(),
                |documents| tantivy_alone(documents, threads),
                BatchSize::PerIteration,
            )
        });
    }
    group.finish();
}

/// p50 and p99 of single queries (criterion reports means of batches): every query, many times, each
/// timed alone, for tsumiage's ranking, its whole `ask`, and FTS5, on the same corpus in the same run.
fn percentiles(name: &str, set: &NoteSet, synonyms: &Synonyms, queries: &[String]) {
    const ROUNDS: usize = 30;
    let index = NoteIndex::in_memory(set).unwrap();
    let searcher = SectionSearcher::new(&index, synonyms);
    let connection = fts5(set);
    let time = |run: &dyn Fn(&str) -> usize| {
        let mut samples: Vec<Duration> = Vec::with_capacity(ROUNDS * queries.len());
        for _ in 0..ROUNDS {
            for query in queries {
                let started = Instant::now();
                black_box(run(black_box(query)));
                samples.push(started.elapsed());
            }
        }
        samples.sort_unstable();
        let at = |q: f64| samples[((samples.len() - 1) as f64 * q) as usize];
        (at(0.5), at(0.99))
    };
    let rank = time(&|q| searcher.rank(q, 5).len());
    let ask = time(&|q| searcher.search(q, 5).hits.len());
    let sqlite = time(&|q| fts5_search(&connection, q).len());
    let micros = |d: Duration| d.as_secs_f64() * 1e6;
    println!(
        "\n{name}: {} sections, {} queries × {ROUNDS}",
        index.meta.sections,
        queries.len()
    );
    println!("  {:<22} {:>10} {:>10}", "", "p50 µs", "p99 µs");
    for (label, (p50, p99)) in [("tsumiage rank", rank), ("tsumiage ask", ask), ("FTS5 trigram", sqlite)] {
        println!("  {label:<22} {:>10.0} {:>10.0}", micros(p50), micros(p99));
    }
    println!(
        "  FTS5 / tsumiage ask: p50 {:.1}×, p99 {:.1}×",
        micros(sqlite.0) / micros(ask.0),
        micros(sqlite.1) / micros(ask.1)
    );
}

/// p50 and p99 of `answer` on single exam questions, beside `ask` on the same questions' stems (the
/// baseline: `answer` searches the stem, then each choice with it).
fn answer_percentiles(name: &str, set: &NoteSet, synonyms: &Synonyms, questions: &[McQuestion]) {
    const ROUNDS: usize = 20;
    let index = NoteIndex::in_memory(set).unwrap();
    let searcher = SectionSearcher::new(&index, synonyms);
    let time = |run: &dyn Fn(&McQuestion) -> usize| {
        let mut samples: Vec<Duration> = Vec::with_capacity(ROUNDS * questions.len());
        for _ in 0..ROUNDS {
            for question in questions {
                let started = Instant::now();
                black_box(run(black_box(question)));
                samples.push(started.elapsed());
            }
        }
        samples.sort_unstable();
        let at = |q: f64| samples[((samples.len() - 1) as f64 * q) as usize];
        (at(0.5), at(0.99))
    };
    let answer = time(&|q| rank_answer(&searcher, q, 0.0).choices.len());
    let ask = time(&|q| searcher.search(&q.stem, 5).hits.len());
    let micros = |d: Duration| d.as_secs_f64() * 1e6;
    println!("\n{name}: answer on {} exam questions × {ROUNDS}", questions.len());
    println!("  {:<22} {:>10} {:>10}", "", "p50 µs", "p99 µs");
    for (label, (p50, p99)) in [("tsumiage answer", answer), ("tsumiage ask (stem)", ask)] {
        println!("  {label:<22} {:>10.0} {:>10.0}", micros(p50), micros(p99));
    }
    println!(
        "  answer / ask: p50 {:.1}×, p99 {:.1}×",
        micros(answer.0) / micros(ask.0),
        micros(answer.1) / micros(ask.1)
    );
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    benches(&mut criterion);
    criterion.final_summary();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let shipped = load_dir(&root.join("notes")).unwrap();
    let synonyms = shipped_synonyms();
    let queries = queries();
    percentiles("shipped notes", &shipped, &synonyms, &queries);
    let generated = generated_corpus(&shipped, 10_000);
    percentiles("generated", &generated, &synonyms, &queries);
    let questions = exam_questions();
    answer_percentiles("shipped notes", &shipped, &synonyms, &questions);
    answer_percentiles("generated", &generated, &synonyms, &questions);
}
