//! Tables on stdout and `results/<scenario>.json`.

use std::path::PathBuf;

use serde_json::{Map, Value, json};

use crate::Result;
use crate::stats;

/// A text table; a column titled "|" separates the server's figures from the baseline's.
pub struct Table {
    title: String,
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(title: impl Into<String>, header: &[&str]) -> Table {
        Table { title: title.into(), header: header.iter().map(|h| (*h).to_owned()).collect(), rows: Vec::new() }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    pub fn render(&self) -> String {
        let cols = self.header.len();
        let mut width: Vec<usize> = self.header.iter().map(|h| h.chars().count()).collect();
        for r in &self.rows {
            for (i, c) in r.iter().enumerate().take(cols) {
                width[i] = width[i].max(c.chars().count());
            }
        }
        let line = |cells: &[String]| {
            let mut s = String::new();
            for (i, w) in width.iter().enumerate() {
                let c = cells.get(i).map(String::as_str).unwrap_or("");
                // The first column is a label: left-aligned; figures are right-aligned.
                if i == 0 {
                    s.push_str(&format!("{c:<w$}"));
                } else {
                    s.push_str(&format!("  {c:>w$}"));
                }
            }
            s.trim_end().to_owned()
        };
        let mut out = format!("{}\n{}\n", self.title, line(&self.header));
        let total: usize = width.iter().sum::<usize>() + 2 * (cols.saturating_sub(1));
        out.push_str(&"-".repeat(total));
        out.push('\n');
        for r in &self.rows {
            out.push_str(&line(r));
            out.push('\n');
        }
        out
    }
}

/// Everything one scenario found.
#[derive(Default)]
pub struct Report {
    tables: Vec<Table>,
    notes: Vec<String>,
    json: Map<String, Value>,
}

impl Report {
    pub fn table(&mut self, t: Table) {
        self.tables.push(t);
    }

    pub fn note(&mut self, n: impl Into<String>) {
        self.notes.push(n.into());
    }

    pub fn set(&mut self, key: &str, value: Value) {
        self.json.insert(key.to_owned(), value);
    }

    /// Prints the tables and notes, writes `results/<scenario>.json`, returns the tables.
    pub fn finish(self, scenario: &str) -> Result<String> {
        let mut text = String::new();
        for t in &self.tables {
            text.push('\n');
            text.push_str(&t.render());
        }
        let tables = text.clone();
        if !self.notes.is_empty() {
            text.push('\n');
            for n in &self.notes {
                text.push_str(&format!("* {n}\n"));
            }
        }
        println!("{text}");
        let mut doc = Map::new();
        doc.insert("scenario".into(), json!(scenario));
        doc.insert("machine".into(), stats::machine_info());
        for (k, v) in self.json {
            doc.insert(k, v);
        }
        doc.insert("notes".into(), json!(self.notes));
        doc.insert("tables".into(), json!(self.tables.iter().map(Table::render).collect::<Vec<_>>()));
        let dir = results_dir();
        std::fs::create_dir_all(&dir)?;
        let path = dir.join(format!("{scenario}.json"));
        std::fs::write(&path, serde_json::to_string_pretty(&Value::Object(doc))?)?;
        println!("wrote {}", path.display());
        Ok(tables)
    }
}

pub fn results_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("results")
}

/// A rate for a table cell.
pub fn rate(x: f64) -> String {
    if x >= 100.0 { format!("{x:.0}") } else { format!("{x:.1}") }
}
