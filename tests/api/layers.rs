//! The layers keep their rules (README, "How the code is organized"), read off the source so a
//! change that breaks one fails here: domain code never imports the HTTP layer, the pure policy
//! names no HTTP or OpenAPI crate outside its feature-gated derives, and handlers stay about a
//! screen each and leave the database to the services.

use std::path::{Path, PathBuf};

/// The Rust files under `dir` (relative to the package root), with their text.
pub fn rust_files(dir: &str) -> Vec<(PathBuf, String)> {
    fn walk(dir: &Path, out: &mut Vec<(PathBuf, String)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                out.push((path, text));
            }
        }
    }
    let mut out = Vec::new();
    walk(&Path::new(env!("CARGO_MANIFEST_DIR")).join(dir), &mut out);
    out
}

fn relative(p: &Path) -> String {
    p.strip_prefix(env!("CARGO_MANIFEST_DIR")).unwrap_or(p).display().to_string()
}

#[test]
fn domain_code_never_imports_the_http_layer() {
    let offenders: Vec<String> = rust_files("src")
        .into_iter()
        .filter(|(p, _)| {
            let r = relative(p);
            // The API itself, and where the router is put together.
            !r.starts_with("src/api/") && r != "src/startup.rs" && r != "src/lib.rs"
        })
        .filter(|(_, text)| text.contains("crate::api"))
        .map(|(p, _)| relative(&p))
        .collect();
    assert!(offenders.is_empty(), "domain code that imports crate::api: {offenders:?}");
}

#[test]
fn the_policy_names_no_http_or_openapi_crate() {
    let files = rust_files("actors/src/policy");
    assert!(!files.is_empty());
    for (p, text) in files {
        for line in text.lines().filter(|l| !l.trim_start().starts_with("#[cfg_attr(feature = \"openapi\"")) {
            for krate in ["actix", "utoipa", "reqwest", "hyper"] {
                assert!(
                    !line.contains(&format!("{krate}::")) && !line.contains(&format!("use {krate}")),
                    "{}: {line}",
                    relative(&p)
                );
            }
        }
    }
}

/// Each handler (a function under a route attribute in src/api): its file, name and lines.
fn handlers() -> Vec<(String, String, Vec<String>)> {
    let mut out = Vec::new();
    for (p, text) in rust_files("src/api") {
        let lines: Vec<&str> = text.lines().collect();
        let mut i = 0;
        while i < lines.len() {
            let l = lines[i].trim_start();
            let is_route = ["#[get(", "#[post(", "#[put(", "#[patch(", "#[delete("].iter().any(|a| l.starts_with(a));
            if !is_route {
                i += 1;
                continue;
            }
            let Some(start) = (i..lines.len()).find(|&j| lines[j].contains("fn ")) else { break };
            let name =
                lines[start].split("fn ").nth(1).and_then(|s| s.split('(').next()).unwrap_or_default().to_owned();
            // The function ends at the first line that closes it at column 0.
            let end = (start..lines.len()).find(|&j| lines[j] == "}").unwrap_or(lines.len() - 1);
            out.push((relative(&p), name, lines[start..=end].iter().map(|s| (*s).to_owned()).collect()));
            i = end + 1;
        }
    }
    out
}

#[test]
fn handlers_are_about_a_screen_each_and_leave_the_database_to_the_services() {
    let all = handlers();
    assert!(all.len() > 150, "only {} handlers found: is the scan right?", all.len());
    let long: Vec<String> =
        all.iter().filter(|(_, _, l)| l.len() > 40).map(|(f, n, l)| format!("{f}::{n} ({} lines)", l.len())).collect();
    assert!(long.is_empty(), "handlers over 40 lines: {long:?}");
    let db_calls = [
        "Entity::find",
        "Entity::delete",
        "Entity::insert",
        "begin_write",
        "update_many",
        ".insert(state.db())",
        ".update(state.db())",
    ];
    let querying: Vec<String> = rust_files("src/api")
        .into_iter()
        .filter(|(_, text)| db_calls.iter().any(|c| text.contains(c)))
        .map(|(p, _)| relative(&p))
        .collect();
    assert!(querying.is_empty(), "HTTP modules that query the database themselves: {querying:?}");
}
