//! A campaign's recipients from a list or a CSV upload: each row's number in E.164 and its
//! parameters checked against the template (and rendered) before anything is stored; rows with
//! problems are reported with the field at fault; a number that appears twice is sent once.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::channels::whatsapp::templates::params::{self, Parameters, Prepared, Slot};
use crate::channels::whatsapp::templates::rules::Component;
use crate::channels::whatsapp::templates::send::wa_id_of;

/// Most recipients one campaign may have.
pub const MAX_RECIPIENTS: usize = 100_000;

/// One recipient as a list gives it.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RecipientInput {
    /// E.164, such as `+4915112345678`.
    pub phone: Option<String>,
    pub name: Option<String>,
    /// This recipient's values; the campaign's `parameters` when absent.
    pub parameters: Option<Parameters>,
}

/// A row that cannot be sent, and why.
#[derive(Clone, Debug, Serialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct RowProblem {
    /// 1-based position in the list (or data row of the CSV).
    pub row: usize,
    pub phone: Option<String>,
    /// The field at fault, e.g. `phone` or `parameters.body[1]`.
    pub field: String,
    pub message: String,
}

/// A recipient ready to store.
#[derive(Debug)]
pub struct Checked {
    pub row: usize,
    pub wa_id: String,
    pub name: Option<String>,
    pub parameters: Parameters,
    pub prepared: Prepared,
}

/// The outcome of checking every row.
#[derive(Debug, Default)]
pub struct Checks {
    pub valid: Vec<Checked>,
    pub invalid: Vec<RowProblem>,
    /// Rows whose number an earlier row already has.
    pub duplicates: usize,
}

/// Checks every row against the template.
pub fn check(
    components: &[Component],
    named: bool,
    has_stored_header: bool,
    defaults: Option<&Parameters>,
    rows: Vec<RecipientInput>,
) -> Checks {
    let mut out = Checks::default();
    let mut seen = HashSet::new();
    for (i, r) in rows.into_iter().enumerate() {
        let row = i + 1;
        let phone = r.phone.as_deref().map(str::trim).unwrap_or_default().to_owned();
        let wa_id = match wa_id_of("phone", &phone) {
            Ok(w) => w,
            Err(e) => {
                out.invalid.push(RowProblem { row, phone: Some(phone), field: "phone".into(), message: e.to_string() });
                continue;
            }
        };
        if !seen.insert(wa_id.clone()) {
            out.duplicates += 1;
            continue;
        }
        let parameters = r.parameters.or_else(|| defaults.cloned()).unwrap_or_default();
        match params::prepare(components, named, &parameters, has_stored_header) {
            Ok(prepared) => out.valid.push(Checked {
                row,
                wa_id,
                name: r.name.map(|n| n.trim().chars().take(200).collect()).filter(|n: &String| !n.is_empty()),
                parameters,
                prepared,
            }),
            Err(problems) => out.invalid.extend(problems.into_iter().map(|p| RowProblem {
                row,
                phone: Some(phone.clone()),
                field: p.field,
                message: p.message,
            })),
        }
    }
    out
}

/// Splits CSV text into rows of fields (RFC 4180: quoted fields may hold commas, quotes
/// doubled, and line breaks; CRLF or LF).
pub fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.trim_start_matches('\u{feff}').chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') if field.is_empty() => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => field.push(c),
        }
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    rows.retain(|r| r.iter().any(|f| !f.trim().is_empty()));
    rows
}

/// The column a slot's value is read from: `header` (or `header_<name>`), the body
/// parameter's name (`1`, `2`… or `first_name`; `body_1` also works), `button_<index>`.
fn columns_for(slot: &Slot) -> Vec<String> {
    match slot.place {
        "header" => vec![format!("header_{}", slot.name), "header".into()],
        "body" => vec![slot.name.clone(), format!("body_{}", slot.name)],
        _ => vec![format!("button_{}", slot.index.unwrap_or_default())],
    }
}

/// The CSV columns a template's recipients take, for a downloadable example.
pub fn csv_header(components: &[Component]) -> Vec<String> {
    let mut cols = vec!["phone".to_owned(), "name".to_owned()];
    cols.extend(params::slots(components).iter().map(|s| columns_for(s).remove(0)));
    cols
}

/// Recipients from a CSV upload: a header row naming `phone` (or `phone_number`, `wa_id`),
/// optionally `name`, and one column per template parameter. `Err` says what is wrong with the
/// file as a whole.
pub fn from_csv(text: &str, components: &[Component], named: bool) -> Result<Vec<RecipientInput>, String> {
    let mut rows = parse_csv(text).into_iter();
    let header: Vec<String> =
        rows.next().ok_or("the CSV is empty")?.iter().map(|h| h.trim().to_ascii_lowercase()).collect();
    let col = |names: &[&str]| header.iter().position(|h| names.contains(&h.as_str()));
    let phone = col(&["phone", "phone_number", "wa_id", "number"]).ok_or("the CSV has no phone column")?;
    let name = col(&["name"]);
    let slots = params::slots(components);
    let positions: Vec<(Slot, Option<usize>)> = slots
        .into_iter()
        .map(|s| {
            let at = columns_for(&s).iter().find_map(|c| header.iter().position(|h| h == c));
            (s, at)
        })
        .collect();
    if let Some((s, _)) = positions.iter().find(|(_, at)| at.is_none()) {
        return Err(format!(
            "the CSV has no column for the template's {} parameter {} (name it {})",
            s.place,
            s.name,
            columns_for(s)[0]
        ));
    }
    let mut out = Vec::new();
    for r in rows {
        let get = |i: usize| r.get(i).map(|v| v.trim().to_owned()).unwrap_or_default();
        let mut p = Parameters::default();
        let (mut header_vals, mut body_pos, mut body_named) = (Vec::new(), Vec::new(), Map::new());
        let mut header_named = Map::new();
        for (s, at) in &positions {
            let v = at.map(get).unwrap_or_default();
            match s.place {
                "header" if named => {
                    header_named.insert(s.name.clone(), Value::String(v));
                }
                "header" => header_vals.push(Value::String(v)),
                "body" if named => {
                    body_named.insert(s.name.clone(), Value::String(v));
                }
                "body" => body_pos.push(Value::String(v)),
                _ => {
                    let i = s.index.unwrap_or_default();
                    if p.buttons.len() <= i {
                        p.buttons.resize(i + 1, None);
                    }
                    p.buttons[i] = Some(v);
                }
            }
        }
        if !header_vals.is_empty() {
            p.header = Some(Value::Array(header_vals));
        } else if !header_named.is_empty() {
            p.header = Some(Value::Object(header_named));
        }
        if !body_pos.is_empty() {
            p.body = Some(Value::Array(body_pos));
        } else if !body_named.is_empty() {
            p.body = Some(Value::Object(body_named));
        }
        out.push(RecipientInput {
            phone: Some(get(phone)),
            name: name.map(get).filter(|n| !n.is_empty()),
            parameters: Some(p),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn template() -> Vec<Component> {
        vec![Component {
            kind: "BODY".into(),
            text: Some("Hi {{1}}, {{2}} off today.".into()),
            example: Some(json!({"body_text": [["Ana", "10%"]]})),
            ..Default::default()
        }]
    }

    #[test]
    fn csv_fields_may_be_quoted_with_commas_quotes_and_line_breaks() {
        let rows = parse_csv("phone,name\r\n+4915112345678,\"Doe, \"\"Jo\"\"\"\n\n+4915112345679,\"two\nlines\"\n");
        assert_eq!(
            rows,
            vec![
                vec!["phone".to_owned(), "name".to_owned()],
                vec!["+4915112345678".to_owned(), "Doe, \"Jo\"".to_owned()],
                vec!["+4915112345679".to_owned(), "two\nlines".to_owned()],
            ]
        );
    }

    #[test]
    fn rows_are_checked_deduplicated_and_reported_with_their_field() {
        let csv = "phone,name,1,2\n+4915112345678,Ana,Ana,10%\n+49 151 1234 5678,Again,A,B\n12,Bad,x,y\n+4915112345670,Empty,Bo,\n";
        let rows = from_csv(csv, &template(), false).unwrap();
        let out = check(&template(), false, false, None, rows);
        assert_eq!(out.valid.len(), 1);
        assert_eq!(out.valid[0].prepared.text, "Hi Ana, 10% off today.");
        assert_eq!(out.duplicates, 1);
        let fields: Vec<(usize, &str)> = out.invalid.iter().map(|p| (p.row, p.field.as_str())).collect();
        assert_eq!(fields, vec![(3, "phone"), (4, "parameters.body[1]")]);
    }

    #[test]
    fn a_csv_without_a_parameter_column_is_refused_as_a_whole() {
        let e = from_csv("phone,1\n+4915112345678,Ana\n", &template(), false).unwrap_err();
        assert!(e.contains("body parameter 2"), "{e}");
        assert_eq!(csv_header(&template()), vec!["phone", "name", "1", "2"]);
    }
}
