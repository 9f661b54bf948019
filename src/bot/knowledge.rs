//! The knowledge base: text out of uploaded documents, split into passages, and retrieval that
//! needs no model download. Retrieval ranks the organization's passages with BM25 over their
//! words (accents folded, short stop words dropped); when the active config names an embedding
//! model, passages also carry provider embeddings and the final score blends both rankings.
//! The database's full-text index ([`index`]) finds the passages worth scoring, so a question
//! costs what its words match, not the size of the knowledge base ([`Retriever`]).

use std::collections::HashMap;

pub mod index;
mod retrieve;

pub use retrieve::{Retrieved, Retriever};

use serde::Serialize;
use utoipa::ToSchema;

/// Upload limit of a knowledge document.
pub const MAX_DOCUMENT_BYTES: usize = 10 * 1024 * 1024;
/// Target passage size, in characters.
const CHUNK_CHARS: usize = 800;

enum Kind {
    Html,
    Pdf,
    Text,
}

/// Whether the knowledge base reads documents of this type.
pub fn supported(mime: &str, name: &str) -> Result<(), String> {
    kind(mime, name).map(|_| ())
}

fn kind(mime: &str, name: &str) -> Result<Kind, String> {
    let lower = name.to_lowercase();
    let is = |ext: &str| lower.ends_with(ext);
    if mime == "application/pdf" || is(".pdf") {
        Ok(Kind::Pdf)
    } else if mime == "text/html" || is(".html") || is(".htm") {
        Ok(Kind::Html)
    } else if mime.starts_with("text/") || is(".txt") || is(".md") || is(".markdown") || is(".csv") {
        Ok(Kind::Text)
    } else {
        Err(format!("{mime} documents are not supported: upload text, Markdown, HTML or PDF"))
    }
}

/// The text of a document, by type. CPU-bound (PDF): call it off the async threads.
pub fn extract(mime: &str, name: &str, bytes: &[u8]) -> Result<String, String> {
    let kind = kind(mime, name)?;
    if let Kind::Pdf = kind {
        return pdf_text(bytes);
    }
    let text = String::from_utf8(bytes.to_vec()).map_err(|_| "the document is not UTF-8 text".to_owned())?;
    Ok(match kind {
        Kind::Html => strip_html(&text),
        Kind::Text | Kind::Pdf => text,
    })
}

/// The text of a PDF's pages, a blank line between pages. Scanned PDFs (images only) have none.
fn pdf_text(bytes: &[u8]) -> Result<String, String> {
    let doc = lopdf::Document::load_mem(bytes).map_err(|e| format!("the PDF could not be read: {e}"))?;
    if doc.is_encrypted() {
        return Err("the PDF is encrypted".into());
    }
    let mut out = String::new();
    for page in doc.get_pages().keys() {
        if let Ok(text) = doc.extract_text(&[*page]) {
            out.push_str(text.trim());
            out.push_str("\n\n");
        }
    }
    if out.trim().is_empty() {
        return Err("the PDF has no text layer (a scan?): upload its text instead".into());
    }
    Ok(out)
}

/// The visible text of an HTML page: tags dropped (and `script`/`style` content), entities of
/// the common kind decoded, block ends kept as line breaks.
pub fn strip_html(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        out.push_str(&rest[..start]);
        let Some(end) = rest[start..].find('>') else {
            rest = "";
            break;
        };
        let tag = rest[start + 1..start + end].trim().to_lowercase();
        rest = &rest[start + end + 1..];
        let name: String = tag.trim_start_matches('/').chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
        if (name == "script" || name == "style") && !tag.starts_with('/') {
            let close = format!("</{name}");
            // ASCII lowercasing keeps byte offsets, so the index is valid in `rest`.
            match rest.to_ascii_lowercase().find(&close) {
                Some(i) => rest = &rest[i..],
                None => rest = "",
            }
            continue;
        }
        if matches!(
            name.as_str(),
            "p" | "br" | "div" | "li" | "tr" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "section"
        ) {
            out.push('\n');
        }
    }
    out.push_str(rest);
    for (entity, ch) in
        [("&nbsp;", " "), ("&lt;", "<"), ("&gt;", ">"), ("&quot;", "\""), ("&#39;", "'"), ("&amp;", "&")]
    {
        out = out.replace(entity, ch);
    }
    out
}

/// Splits text into passages of about [`CHUNK_CHARS`], at paragraph, then sentence, boundaries.
pub fn chunk(text: &str) -> Vec<String> {
    let mut chunks = Vec::new();
    let mut current = String::new();
    // Control characters (a PDF's NULs among them, which PostgreSQL text refuses) are not text.
    let text: String = text.chars().filter(|c| !c.is_control() || matches!(c, '\n' | '\t' | '\r')).collect();
    let paragraphs = text.split("\n\n").map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "));
    for para in paragraphs.filter(|p| !p.is_empty()) {
        let pieces: Vec<String> = if para.chars().count() > CHUNK_CHARS { sentences(&para) } else { vec![para] };
        for piece in pieces {
            if !current.is_empty() && current.chars().count() + piece.chars().count() + 1 > CHUNK_CHARS {
                chunks.push(std::mem::take(&mut current));
            }
            if !current.is_empty() {
                current.push('\n');
            }
            current.push_str(&piece);
        }
    }
    if !current.trim().is_empty() {
        chunks.push(current);
    }
    chunks
}

/// Sentences of a long paragraph; a sentence longer than a passage is cut at word boundaries.
fn sentences(para: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for word in para.split(' ') {
        if cur.chars().count() + word.chars().count() + 1 > CHUNK_CHARS && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(word);
        if word.ends_with(['.', '!', '?']) && cur.chars().count() > CHUNK_CHARS / 2 {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

const STOP: &[&str] = &[
    "the", "and", "for", "are", "but", "not", "you", "your", "with", "have", "this", "that", "what", "when", "how",
    "can", "was", "from", "los", "las", "del", "que", "por", "para", "con", "una", "est", "les", "des", "und", "der",
    "die", "das",
];

/// Lower-cased words with accents folded; words under 3 characters and stop words dropped.
pub fn terms(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .map(|w| w.chars().flat_map(char::to_lowercase).map(fold).collect::<String>())
        .filter(|w| w.chars().count() >= 3 && !STOP.contains(&w.as_str()))
        .collect()
}

fn fold(c: char) -> char {
    match c {
        'á' | 'à' | 'â' | 'ä' | 'ã' => 'a',
        'é' | 'è' | 'ê' | 'ë' => 'e',
        'í' | 'ì' | 'î' | 'ï' => 'i',
        'ó' | 'ò' | 'ô' | 'ö' | 'õ' => 'o',
        'ú' | 'ù' | 'û' | 'ü' => 'u',
        'ñ' => 'n',
        'ç' => 'c',
        other => other,
    }
}

/// A passage and how well it answers the query.
#[derive(Clone, Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Hit {
    pub chunk_id: String,
    pub document_id: String,
    pub text: String,
    pub score: f64,
    /// The BM25 part of the score, before blending.
    pub keyword_score: f64,
    /// Cosine similarity with the query, when embeddings are on.
    pub vector_score: Option<f64>,
}

/// What BM25 needs to know about all of the organization's passages, not only those scored.
#[derive(Clone, Debug, Default)]
pub struct Corpus {
    /// How many passages the organization has (N).
    pub passages: f64,
    /// Their average number of terms.
    pub avg_len: f64,
    /// How many passages have each query term.
    pub df: HashMap<String, f64>,
}

impl Corpus {
    /// The figures of exactly `passages`: retrieval as it was when every passage was loaded,
    /// and the reference the index-backed retrieval is tested against.
    pub fn of(passages: &[Passage]) -> Corpus {
        let mut df: HashMap<String, f64> = HashMap::new();
        for p in passages {
            let mut seen: Vec<&str> = p.terms.iter().map(String::as_str).collect();
            seen.sort_unstable();
            seen.dedup();
            for t in seen {
                *df.entry(t.to_owned()).or_default() += 1.0;
            }
        }
        let n = passages.len() as f64;
        let total = passages.iter().map(|p| p.terms.len()).sum::<usize>() as f64;
        Corpus { passages: n, avg_len: total / n.max(1.0), df }
    }
}

/// A passage to score.
#[derive(Clone, Debug)]
pub struct Passage {
    pub id: String,
    pub document_id: String,
    pub text: String,
    /// `terms(text)`, in order.
    pub terms: Vec<String>,
    pub embedding: Option<Vec<f32>>,
}

impl Passage {
    /// A passage of `text`, its terms computed here.
    pub fn new(id: &str, document_id: &str, text: &str, embedding: Option<Vec<f32>>) -> Passage {
        Passage {
            id: id.to_owned(),
            document_id: document_id.to_owned(),
            text: text.to_owned(),
            terms: terms(text),
            embedding,
        }
    }
}

/// Ranks `passages` for `query` and keeps the best `k` that match at all: BM25 over their
/// terms with the organization's figures (`corpus`), blended half and half with the cosine
/// similarity to `query_vector` when there is one. A passage sharing no word is kept when its
/// cosine is above 0.3. Equal scores are ordered by passage id.
pub fn rank(query: &str, query_vector: Option<&[f32]>, passages: &[Passage], corpus: &Corpus, k: usize) -> Vec<Hit> {
    let q = terms(query);
    let (n, avg) = (corpus.passages, corpus.avg_len);
    let (k1, b) = (1.2, 0.75);
    let bm25: Vec<f64> = passages
        .iter()
        .map(|p| {
            let d = &p.terms;
            let len = d.len() as f64;
            let mut score = 0.0;
            let mut q_seen: Vec<&str> = Vec::new();
            for t in &q {
                if q_seen.contains(&t.as_str()) {
                    continue;
                }
                q_seen.push(t);
                let tf = d.iter().filter(|w| *w == t).count() as f64;
                if tf == 0.0 {
                    continue;
                }
                let dft = corpus.df.get(t.as_str()).copied().unwrap_or(0.0);
                let idf = ((n - dft + 0.5) / (dft + 0.5) + 1.0).ln();
                score += idf * tf * (k1 + 1.0) / (tf + k1 * (1.0 - b + b * len / avg.max(1.0)));
            }
            score
        })
        .collect();
    let max = bm25.iter().copied().fold(0.0, f64::max);
    let mut hits: Vec<Hit> = passages
        .iter()
        .zip(bm25)
        .map(|(p, kw)| {
            let vector = match (query_vector, &p.embedding) {
                (Some(q), Some(e)) => Some(cosine(q, e)),
                _ => None,
            };
            let normal = if max > 0.0 { kw / max } else { 0.0 };
            let score = match vector {
                Some(v) => 0.5 * normal + 0.5 * v.max(0.0),
                None => normal,
            };
            Hit {
                chunk_id: p.id.clone(),
                document_id: p.document_id.clone(),
                text: p.text.clone(),
                score,
                keyword_score: kw,
                vector_score: vector,
            }
        })
        .filter(|h| h.keyword_score > 0.0 || h.vector_score.is_some_and(|v| v > 0.3))
        .collect();
    hits.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.chunk_id.cmp(&b.chunk_id)));
    hits.truncate(k);
    hits
}

pub(crate) fn cosine(a: &[f32], b: &[f32]) -> f64 {
    if a.len() != b.len() || a.is_empty() {
        return 0.0;
    }
    let dot: f64 = a.iter().zip(b).map(|(x, y)| f64::from(*x) * f64::from(*y)).sum();
    let na: f64 = a.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
    let nb: f64 = b.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
    if na == 0.0 || nb == 0.0 { 0.0 } else { dot / (na * nb) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_passage_that_shares_rare_words_ranks_first() {
        let p = |id: &str, text: &str| Passage::new(id, "d", text, None);
        let passages = vec![
            p("a", "Our store opens at nine in the morning every weekday."),
            p("b", "Refunds: you can return any product within 30 days for a full refund."),
            p("c", "Shipping takes three to five days within the country."),
        ];
        let hits = rank("How do I get a refund for a product?", None, &passages, &Corpus::of(&passages), 2);
        assert_eq!(hits[0].chunk_id, "b");
        assert!(hits.iter().all(|h| h.chunk_id != "a"), "no shared words, no hit: {hits:?}");
    }

    fn refund_corpus(n: f64, avg_len: f64, df_refund: f64) -> Corpus {
        Corpus { passages: n, avg_len, df: HashMap::from([("refund".to_owned(), df_refund)]) }
    }

    #[test]
    fn bm25_uses_the_organizations_figures_it_is_given() {
        let passages = vec![Passage::new("a", "d", "refund refund policy", None)];
        let score = |corpus: &Corpus| rank("refund?", None, &passages, corpus, 1)[0].keyword_score;
        // tf 2, length 3 at an average of 3: the length factor is 1.
        let idf = ((100.0 - 1.0 + 0.5) / (1.0 + 0.5) + 1.0_f64).ln();
        let expected = idf * 2.0 * 2.2 / (2.0 + 1.2);
        assert!((score(&refund_corpus(100.0, 3.0, 1.0)) - expected).abs() < 1e-12);
        assert!(score(&refund_corpus(100.0, 3.0, 1.0)) > score(&refund_corpus(100.0, 3.0, 90.0)), "rarer weighs more");
        assert!(score(&refund_corpus(100.0, 30.0, 1.0)) > score(&refund_corpus(100.0, 3.0, 1.0)), "shorter than usual");
        assert!(score(&refund_corpus(1000.0, 3.0, 1.0)) > score(&refund_corpus(100.0, 3.0, 1.0)), "more passages");
    }

    #[test]
    fn scoring_the_matching_passages_with_the_whole_corpus_figures_equals_ranking_them_all() {
        let p = |id: &str, text: &str| Passage::new(id, "d", text, None);
        let all = vec![
            p("a", "Refunds within thirty days, a full refund."),
            p("b", "Shipping takes three days."),
            p("c", "Gift cards never expire."),
            p("d", "Refund of shipping costs for damaged parcels."),
            p("e", "Our stores open at nine."),
        ];
        let corpus = Corpus::of(&all);
        assert_eq!((corpus.passages, corpus.df.get("shipping").copied()), (5.0, Some(2.0)));
        let query = "refund for shipping";
        let everything = rank(query, None, &all, &corpus, 10);
        let matching: Vec<Passage> =
            all.iter().filter(|p| p.terms.iter().any(|t| t == "refund" || t == "shipping")).cloned().collect();
        let scored = rank(query, None, &matching, &corpus, 10);
        let view = |h: &[Hit]| h.iter().map(|h| (h.chunk_id.clone(), h.score)).collect::<Vec<_>>();
        assert_eq!(view(&scored), view(&everything));
        assert_eq!(view(&everything).iter().map(|v| v.0.as_str()).collect::<Vec<_>>(), ["d", "b", "a"]);
    }

    #[test]
    fn a_passage_close_in_meaning_is_kept_without_a_shared_word_and_ties_go_by_id() {
        let all = vec![
            Passage::new("z", "d", "Gift cards never expire.", Some(vec![1.0, 0.0])),
            Passage::new("y", "d", "Vouchers stay valid.", Some(vec![1.0, 0.0])),
            Passage::new("x", "d", "Our stores open at nine.", Some(vec![0.0, 1.0])),
        ];
        let hits = rank("does my coupon lapse", Some(&[1.0, 0.1]), &all, &Corpus::of(&all), 5);
        let ids: Vec<&str> = hits.iter().map(|h| h.chunk_id.as_str()).collect();
        assert_eq!(ids, ["y", "z"], "{hits:?}");
        assert_eq!(hits[0].keyword_score, 0.0);
    }

    #[test]
    fn control_characters_do_not_reach_the_passages() {
        assert_eq!(chunk("Re\u{0}funds\u{7} in\tthirty days"), vec!["Refunds in thirty days".to_owned()]);
    }

    #[test]
    fn accents_and_case_do_not_matter() {
        assert_eq!(terms("Devolución RÁPIDA"), vec!["devolucion", "rapida"]);
    }

    #[test]
    fn chunks_stay_near_the_target_size_and_keep_all_words() {
        let text = (0..300).map(|i| format!("Sentence number {i} is here.")).collect::<Vec<_>>().join(" ");
        let chunks = chunk(&text);
        assert!(chunks.len() > 5);
        assert!(chunks.iter().all(|c| c.chars().count() <= CHUNK_CHARS + 40), "{chunks:?}");
        let words: usize = chunks.iter().map(|c| c.split_whitespace().count()).sum();
        assert_eq!(words, text.split_whitespace().count());
    }

    #[test]
    fn html_with_letters_that_change_length_when_lowercased_does_not_panic() {
        let t = strip_html("<script>İİİ</script>after<STYLE>İ</STYLE>end");
        assert_eq!(t, "afterend");
    }

    #[test]
    fn html_keeps_the_visible_text_only() {
        let t = strip_html("<html><style>p{}</style><p>Hello &amp; welcome</p><script>x()</script>bye</html>");
        assert!(t.contains("Hello & welcome") && t.contains("bye") && !t.contains("x()") && !t.contains("p{}"));
    }
}
