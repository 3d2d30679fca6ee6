//! Ranking sections for a weighted bag of index terms by BM25, one posting list at a time into a score
//! array per segment, then the best `top` out of it. A question in Japanese becomes 30 to 100 terms (each
//! bigram in the heading, the body and the tags); tantivy's union scorer merges that many posting lists
//! document by document, and block-max WAND spends its time re-sorting them, both several times slower
//! than adding each list into an array: for a 10,000-section index the array is 40 KB and stays in cache.
//! Scores are tantivy's BM25 (same idf, field-length norms and `k1`, `b`), so they match a `TermQuery`'s.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::collections::hash_map::Entry;

use tantivy::fieldnorm::FieldNormReader;
use tantivy::postings::TermInfo;
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocAddress, Searcher, Term};

/// A query as a bag of weighted terms.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TermBag {
    /// A document must hold one of these to be a result: the query's content.
    pub matching: Vec<(Term, f32)>,
    /// These only add to the score of documents that hold a `matching` term.
    pub boosting: Vec<(Term, f32)>,
}

/// The `top` best documents for `bag`, best first; ties go to the earlier document.
pub fn top_by_bm25(searcher: &Searcher, bag: &TermBag, top: usize) -> tantivy::Result<Vec<(f32, DocAddress)>> {
    if top == 0 || bag.matching.is_empty() {
        return Ok(Vec::new());
    }
    let terms: Vec<&(Term, f32)> = bag.matching.iter().chain(&bag.boosting).collect();
    let segments = searcher.segment_readers();
    let Weighted {
        found,
        weights,
        length_tables,
    } = weigh(searcher, &terms)?;
    let mut best = TopK::new(top);
    for (segment_ord, segment) in segments.iter().enumerate() {
        let mut scores = vec![0.0f32; segment.max_doc() as usize];
        // The few fields' readers, opened once per segment rather than once per term.
        let mut readers = HashMap::new();
        for (index, (((term, _), infos), weight)) in terms.iter().copied().zip(&found).zip(&weights).enumerate() {
            let (Some(info), Some((weight, table))) = (&infos[segment_ord], weight) else {
                continue;
            };
            let length_factor = &length_tables[*table].factor;
            let field = term.field();
            let (inverted, lengths) = match readers.entry(field) {
                Entry::Occupied(open) => open.into_mut(),
                Entry::Vacant(slot) => {
                    slot.insert((segment.inverted_index(field)?, segment.get_fieldnorms_reader(field)?))
                }
            };
            // The matching terms come first: by the time a boosting term is added, a score above zero
            // means a matching term is there.
            let boosting = index >= bag.matching.len();
            let mut postings = inverted.read_block_postings_from_terminfo(info, IndexRecordOption::WithFreqs)?;
            while !postings.docs().is_empty() {
                for (&doc, &freq) in postings.docs().iter().zip(postings.freqs()) {
                    let score = &mut scores[doc as usize];
                    if !boosting || *score > 0.0 {
                        let freq = freq as f32;
                        *score += weight * freq / (freq + length_factor[lengths.fieldnorm_id(doc) as usize]);
                    }
                }
                postings.advance();
            }
        }
        let alive = segment.alive_bitset();
        for (doc, &score) in scores.iter().enumerate() {
            if score > best.threshold() && alive.is_none_or(|a| a.is_alive(doc as u32)) {
                best.offer(score, DocAddress::new(segment_ord as u32, doc as u32));
            }
        }
    }
    Ok(best.into_sorted())
}

/// Each term's postings per segment, looked up once, and its BM25 weight with the length table it uses
/// (`None`: the term is in no document).
struct Weighted {
    found: Vec<Vec<Option<TermInfo>>>,
    weights: Vec<Option<(f32, usize)>>,
    length_tables: Vec<LengthTable>,
}

fn weigh(searcher: &Searcher, terms: &[&(Term, f32)]) -> tantivy::Result<Weighted> {
    let segments = searcher.segment_readers();
    // Each term's postings per segment, looked up once; their document counts add up to the idf's `n`.
    let mut found: Vec<Vec<Option<TermInfo>>> = Vec::with_capacity(terms.len());
    for (term, _) in terms.iter().copied() {
        let mut per_segment = Vec::with_capacity(segments.len());
        for segment in segments {
            per_segment.push(segment.inverted_index(term.field())?.get_term_info(term)?);
        }
        found.push(per_segment);
    }
    let total_docs = searcher.num_docs();
    // One length table per field (the same for all its terms), then each term's weight from its idf.
    let mut lengths_of: HashMap<Field, usize> = HashMap::new();
    let mut length_tables: Vec<LengthTable> = Vec::new();
    let mut weights: Vec<Option<(f32, usize)>> = Vec::with_capacity(terms.len());
    for ((term, boost), infos) in terms.iter().copied().zip(&found) {
        let doc_freq: u64 = infos.iter().flatten().map(|info| u64::from(info.doc_freq)).sum();
        if doc_freq == 0 || total_docs == 0 {
            weights.push(None);
            continue;
        }
        let field = term.field();
        let table = match lengths_of.get(&field) {
            Some(table) => *table,
            None => {
                let mut tokens = 0;
                for segment in segments {
                    tokens += segment.inverted_index(field)?.total_num_tokens();
                }
                length_tables.push(LengthTable::new(tokens as f32 / total_docs as f32));
                lengths_of.insert(field, length_tables.len() - 1);
                length_tables.len() - 1
            }
        };
        weights.push(Some((boost * idf(doc_freq, total_docs) * (1.0 + K1), table)));
    }
    Ok(Weighted {
        found,
        weights,
        length_tables,
    })
}

/// BM25's parameters, tantivy's values.
const K1: f32 = 1.2;
const B: f32 = 0.75;

/// tantivy's idf: `ln(1 + (N - n + 0.5) / (n + 0.5))`.
fn idf(doc_freq: u64, total_docs: u64) -> f32 {
    let n = doc_freq as f32;
    (1.0 + (total_docs as f32 - n + 0.5) / (n + 0.5)).ln()
}

/// BM25's length normalisation, `k1 · (1 - b + b · length / average)`, for each of the 256 lengths a
/// field-norm byte can stand for: computed once per field and query rather than once per term.
struct LengthTable {
    factor: [f32; 256],
}

impl LengthTable {
    fn new(average_length: f32) -> Self {
        let mut factor = [0.0; 256];
        for (id, slot) in factor.iter_mut().enumerate() {
            let length = FieldNormReader::id_to_fieldnorm(id as u8) as f32;
            *slot = K1 * (1.0 - B + B * length / average_length);
        }
        LengthTable { factor }
    }
}

/// The `k` best of the scores offered, kept sorted best first; `k` is a page of results, so an insertion
/// into a short array beats a heap.
struct TopK {
    k: usize,
    best: Vec<(f32, DocAddress)>,
}

impl TopK {
    fn new(k: usize) -> Self {
        TopK {
            k,
            best: Vec::with_capacity(k + 1),
        }
    }

    /// What a score must beat to be kept: zero (no match) until `k` are held, then the worst of them.
    /// Offered in address order, an equal score loses, so ties go to the earlier document.
    fn threshold(&self) -> f32 {
        if self.best.len() < self.k {
            0.0
        } else {
            self.best.last().map_or(0.0, |worst| worst.0)
        }
    }

    fn offer(&mut self, score: f32, address: DocAddress) {
        let at = self
            .best
            .partition_point(|kept| by_score_then_address(kept, &(score, address)).is_lt());
        self.best.insert(at, (score, address));
        self.best.truncate(self.k);
    }

    fn into_sorted(self) -> Vec<(f32, DocAddress)> {
        self.best
    }
}

fn by_score_then_address(a: &(f32, DocAddress), b: &(f32, DocAddress)) -> Ordering {
    b.0.total_cmp(&a.0).then(a.1.cmp(&b.1))
}

#[cfg(test)]
mod tests {
    use tantivy::collector::TopDocs;
    use tantivy::query::{BooleanQuery, BoostQuery, Occur, Query, TermQuery};
    use tantivy::schema::{Schema, TEXT};
    use tantivy::{Index, IndexWriter, doc};

    use super::*;

    /// The same scores as tantivy's own disjunction of boosted term queries, over several segments.
    #[test]
    fn scores_match_a_boolean_disjunction_of_term_queries() {
        let mut builder = Schema::builder();
        let title = builder.add_text_field("title", TEXT);
        let body = builder.add_text_field("body", TEXT);
        let index = Index::create_in_ram(builder.build());
        let mut writer: IndexWriter = index.writer_with_num_threads(1, 15_000_000).unwrap();
        let texts = [
            ("kinesis shards", "a stream has shards and a retention period"),
            ("lambda", "retention of logs is set in cloudwatch"),
            ("kinesis retention", "retention retention up to 365 days"),
            ("sqs", "a queue, not a stream"),
        ];
        for (round, (t, b)) in texts.iter().cycle().take(40).enumerate() {
            writer.add_document(doc!(title => *t, body => *b)).unwrap();
            if round % 13 == 12 {
                writer.commit().unwrap(); // several segments
            }
        }
        writer.commit().unwrap();
        let searcher = index.reader().unwrap().searcher();
        assert!(searcher.segment_readers().len() > 1);
        let terms = vec![
            (Term::from_field_text(title, "kinesis"), 1.5),
            (Term::from_field_text(body, "retention"), 1.0),
            (Term::from_field_text(body, "stream"), 0.3),
            (Term::from_field_text(body, "absent"), 9.0),
        ];
        let bag = TermBag {
            matching: terms.clone(),
            boosting: Vec::new(),
        };
        let ours = top_by_bm25(&searcher, &bag, 40).unwrap();
        let clauses: Vec<(Occur, Box<dyn Query>)> = terms
            .iter()
            .map(|(term, boost)| {
                let query = TermQuery::new(term.clone(), IndexRecordOption::WithFreqs);
                (
                    Occur::Should,
                    Box::new(BoostQuery::new(Box::new(query), *boost)) as Box<dyn Query>,
                )
            })
            .collect();
        let theirs = searcher
            .search(&BooleanQuery::new(clauses), &TopDocs::with_limit(40).order_by_score())
            .unwrap();
        assert_eq!(ours.len(), 40, "every document holds one of the terms");
        assert_eq!(ours.len(), theirs.len());
        let mut theirs_by_address: Vec<_> = theirs.iter().map(|(s, a)| (*a, *s)).collect();
        theirs_by_address.sort_by_key(|(a, _)| *a);
        for (score, address) in &ours {
            let (_, expected) = theirs_by_address.iter().find(|(a, _)| a == address).unwrap();
            assert!((score - expected).abs() < 1e-4, "{address:?}: {score} vs {expected}");
        }
        assert!(ours.windows(2).all(|w| w[0].0 >= w[1].0), "best first");

        // As boosting terms, `stream` no longer brings in the documents that only it matches.
        let bag = TermBag {
            matching: terms[..2].to_vec(),
            boosting: terms[2..].to_vec(),
        };
        let boosted = top_by_bm25(&searcher, &bag, 40).unwrap();
        assert_eq!(boosted.len(), 30, "kinesis or retention");
        let stream_only = theirs
            .iter()
            .filter(|(_, a)| !boosted.iter().any(|(_, b)| a == b))
            .count();
        assert_eq!(stream_only, 10, "the sqs documents, which only say stream");
        assert!(
            boosted.iter().all(|hit| ours.contains(hit)),
            "the same scores where they match"
        );
    }

    #[test]
    fn keeps_only_the_top_and_nothing_for_no_terms() {
        let mut builder = Schema::builder();
        let body = builder.add_text_field("body", TEXT);
        let index = Index::create_in_ram(builder.build());
        let mut writer: IndexWriter = index.writer_with_num_threads(1, 15_000_000).unwrap();
        for n in 1..=300 {
            writer.add_document(doc!(body => "word ".repeat(n % 7 + 1))).unwrap();
        }
        writer.commit().unwrap();
        let searcher = index.reader().unwrap().searcher();
        let bag = TermBag {
            matching: vec![(Term::from_field_text(body, "word"), 1.0)],
            boosting: Vec::new(),
        };
        let best = top_by_bm25(&searcher, &bag, 5).unwrap();
        assert_eq!(best.len(), 5);
        let all = top_by_bm25(&searcher, &bag, 1000).unwrap();
        assert_eq!(all.len(), 300, "every block of a long posting list is read");
        assert_eq!(best, all[..5]);
        assert!(top_by_bm25(&searcher, &TermBag::default(), 5).unwrap().is_empty());
        assert!(top_by_bm25(&searcher, &bag, 0).unwrap().is_empty());
    }
}
