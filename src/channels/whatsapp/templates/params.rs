//! A send's parameters against its template: every parameter the template names gets a value of
//! the right kind (text, header file, button suffix or code), nothing more, in the shape Meta's
//! send API takes; and the text the thread shows, with the values filled in.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::rules::{Component, Problem, params_of, render};

/// The values of a send. Positional templates take lists (`["Ana", "1042"]`), named ones take
/// objects (`{"first_name": "Ana"}`).
#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Parameters {
    /// The body's parameters.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub body: Option<Value>,
    /// The text header's parameter (a list of one, or an object of one).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub header: Option<Value>,
    /// A public https link for a media header, instead of the template's stored file.
    #[serde(default)]
    pub header_link: Option<String>,
    /// A location header: `{latitude, longitude, name, address}`.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub header_location: Option<Value>,
    /// Per button, by its position among the template's buttons: the URL's suffix, the copy
    /// code, or the one-time password (`null` for buttons that take nothing).
    #[serde(default)]
    pub buttons: Vec<Option<String>>,
}

/// Where a template takes a value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Slot {
    /// `header`, `body` or `button`.
    pub place: &'static str,
    /// The parameter's name (`1`, `2`… or a named parameter); for a button, its kind.
    pub name: String,
    /// For a button: its position among the buttons.
    pub index: Option<usize>,
    /// The example the template was submitted with.
    pub example: Option<String>,
}

/// The header's format (TEXT, IMAGE, VIDEO, DOCUMENT, LOCATION), if the template has a header.
pub fn header_format(components: &[Component]) -> Option<String> {
    components
        .iter()
        .find(|c| c.kind.eq_ignore_ascii_case("HEADER"))
        .map(|c| c.format.clone().unwrap_or_else(|| "TEXT".into()).to_ascii_uppercase())
}

fn component<'a>(components: &'a [Component], kind: &str) -> Option<&'a Component> {
    components.iter().find(|c| c.kind.eq_ignore_ascii_case(kind))
}

/// The distinct parameters of a text, numbered ones in numeric order, named ones as they appear.
fn distinct_params(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for p in params_of(text).unwrap_or_default() {
        if !out.contains(&p) {
            out.push(p);
        }
    }
    if out.iter().all(|p| p.parse::<u32>().is_ok()) {
        out.sort_by_key(|p| p.parse::<u32>().unwrap_or(0));
    }
    out
}

/// The example of parameter `i` (named `name`) of a component, if the template gave one.
fn example_of(c: &Component, key: &str, i: usize, name: &str) -> Option<String> {
    let e = c.example.as_ref()?;
    if let Some(named) = e.get(format!("{key}_named_params")).and_then(Value::as_array) {
        return named
            .iter()
            .find(|p| p.get("param_name").and_then(Value::as_str) == Some(name))
            .and_then(|p| p.get("example").and_then(Value::as_str))
            .map(str::to_owned);
    }
    let list = e.get(key)?.as_array()?;
    let values = match list.first() {
        Some(Value::Array(inner)) => inner,
        _ => list,
    };
    values.get(i).and_then(Value::as_str).map(str::to_owned)
}

/// Every value a send of this template needs.
pub fn slots(components: &[Component]) -> Vec<Slot> {
    let mut out = Vec::new();
    if let Some(h) = component(components, "HEADER")
        && header_format(components).as_deref() == Some("TEXT")
    {
        for (i, p) in distinct_params(h.text.as_deref().unwrap_or_default()).into_iter().enumerate() {
            out.push(Slot { place: "header", example: example_of(h, "header_text", i, &p), name: p, index: None });
        }
    }
    if let Some(b) = component(components, "BODY") {
        for (i, p) in distinct_params(b.text.as_deref().unwrap_or_default()).into_iter().enumerate() {
            out.push(Slot { place: "body", example: example_of(b, "body_text", i, &p), name: p, index: None });
        }
    }
    if let Some(bs) = component(components, "BUTTONS") {
        for (j, b) in bs.buttons.iter().enumerate() {
            let kind = b.kind.to_ascii_uppercase();
            let takes = match kind.as_str() {
                "URL" => b.url.as_deref().is_some_and(|u| u.contains("{{")),
                "COPY_CODE" | "OTP" => true,
                _ => false,
            };
            if takes {
                let example = b.example.as_ref().and_then(|e| match e {
                    Value::Array(a) => a.first().and_then(Value::as_str).map(str::to_owned),
                    Value::String(s) => Some(s.clone()),
                    _ => None,
                });
                out.push(Slot { place: "button", name: kind.to_ascii_lowercase(), index: Some(j), example });
            }
        }
    }
    out
}

/// What a send becomes: Meta's send components, the text for the thread, and whether the
/// template's stored header file goes with it.
#[derive(Debug)]
pub struct Prepared {
    pub components: Value,
    pub text: String,
    pub uses_stored_header: bool,
}

/// Meta's rule for a text parameter: not empty, no new lines or tabs, not more than four spaces
/// in a row.
fn check_value(field: &str, v: &str, problems: &mut Vec<Problem>) {
    if v.trim().is_empty() {
        problems.push(Problem { field: field.into(), message: "a parameter cannot be empty".into() });
    } else if v.contains(['\n', '\t']) || v.contains("     ") {
        problems.push(Problem {
            field: field.into(),
            message: "a parameter cannot hold new lines, tabs or more than four spaces in a row".into(),
        });
    } else if v.chars().count() > 1024 {
        problems.push(Problem { field: field.into(), message: "a parameter is at most 1,024 characters".into() });
    }
}

/// The values given for a text's parameters, by name, checked against what the text names.
fn values_for(
    field: &str,
    names: &[String],
    given: Option<&Value>,
    problems: &mut Vec<Problem>,
) -> Vec<(String, String)> {
    let positional = names.iter().all(|n| n.parse::<u32>().is_ok());
    let mut out = Vec::new();
    match given {
        None | Some(Value::Null) if names.is_empty() => {}
        None | Some(Value::Null) => problems.push(Problem {
            field: field.into(),
            message: format!("the template takes {} parameter(s) here: {}", names.len(), names.join(", ")),
        }),
        Some(Value::Array(values)) if positional || names.is_empty() => {
            if values.len() != names.len() {
                problems.push(Problem {
                    field: field.into(),
                    message: format!("the template takes {} parameter(s) here, {} given", names.len(), values.len()),
                });
            }
            for (i, (name, v)) in names.iter().zip(values).enumerate() {
                match v.as_str() {
                    Some(s) => {
                        check_value(&format!("{field}[{i}]"), s, problems);
                        out.push((name.clone(), s.to_owned()));
                    }
                    None => problems
                        .push(Problem { field: format!("{field}[{i}]"), message: "a parameter is a string".into() }),
                }
            }
        }
        Some(Value::Object(map)) if !positional || names.is_empty() => {
            for key in map.keys().filter(|k| !names.contains(k)) {
                problems.push(Problem {
                    field: format!("{field}.{key}"),
                    message: format!("the template has no parameter {key}"),
                });
            }
            for name in names {
                match map.get(name).and_then(Value::as_str) {
                    Some(s) => {
                        check_value(&format!("{field}.{name}"), s, problems);
                        out.push((name.clone(), s.to_owned()));
                    }
                    None => problems.push(Problem {
                        field: format!("{field}.{name}"),
                        message: format!("give {name} a string value"),
                    }),
                }
            }
        }
        Some(_) if positional => problems.push(Problem {
            field: field.into(),
            message: "the template's parameters are numbered: give a list of strings".into(),
        }),
        Some(_) => problems.push(Problem {
            field: field.into(),
            message: "the template's parameters are named: give an object of strings".into(),
        }),
    }
    out
}

fn text_parameters(values: &[(String, String)], named: bool) -> Vec<Value> {
    values
        .iter()
        .map(|(name, v)| {
            if named {
                json!({ "type": "text", "parameter_name": name, "text": v })
            } else {
                json!({ "type": "text", "text": v })
            }
        })
        .collect()
}

/// Checks a send's values against the template and builds what Meta takes. `has_stored_header`
/// says whether the template keeps a header file that a media header can go out with.
pub fn prepare(
    components: &[Component],
    named: bool,
    p: &Parameters,
    has_stored_header: bool,
) -> Result<Prepared, Vec<Problem>> {
    let mut problems = Vec::new();
    let mut send = Vec::new();
    let mut lines = Vec::new();
    let mut uses_stored_header = false;
    match header_format(components).as_deref() {
        Some("TEXT") => {
            let text = component(components, "HEADER").and_then(|h| h.text.clone()).unwrap_or_default();
            let names = distinct_params(&text);
            let values = values_for("parameters.header", &names, p.header.as_ref(), &mut problems);
            if !values.is_empty() {
                send.push(json!({ "type": "header", "parameters": text_parameters(&values, named) }));
            }
            lines.push(render_with(&text, &values));
        }
        Some(kind @ ("IMAGE" | "VIDEO" | "DOCUMENT")) => {
            let kind = kind.to_ascii_lowercase();
            match p.header_link.as_deref() {
                Some(link) if link.starts_with("https://") => {
                    send.push(
                        json!({ "type": "header", "parameters": [{ "type": kind, kind.clone(): { "link": link } }] }),
                    );
                }
                Some(_) => problems.push(Problem {
                    field: "parameters.headerLink".into(),
                    message: "headerLink is an https address".into(),
                }),
                None if has_stored_header => uses_stored_header = true,
                None => problems.push(Problem {
                    field: "parameters.headerLink".into(),
                    message: format!("the template has a {kind} header and no stored file: give headerLink"),
                }),
            }
            lines.push(format!("[{kind}]"));
        }
        Some("LOCATION") => match &p.header_location {
            Some(loc @ Value::Object(o)) if o.contains_key("latitude") && o.contains_key("longitude") => {
                send.push(json!({ "type": "header", "parameters": [{ "type": "location", "location": loc }] }));
                lines.push("[location]".into());
            }
            _ => problems.push(Problem {
                field: "parameters.headerLocation".into(),
                message: "the template has a location header: give headerLocation {latitude, longitude, name, address}"
                    .into(),
            }),
        },
        _ => {
            if p.header.is_some() || p.header_link.is_some() || p.header_location.is_some() {
                problems.push(Problem {
                    field: "parameters.header".into(),
                    message: "the template has no header to fill".into(),
                });
            }
        }
    }
    if let Some(b) = component(components, "BODY") {
        let text = b.text.clone().unwrap_or_default();
        let names = distinct_params(&text);
        let values = values_for("parameters.body", &names, p.body.as_ref(), &mut problems);
        if !values.is_empty() {
            send.push(json!({ "type": "body", "parameters": text_parameters(&values, named) }));
        }
        lines.push(render_with(&text, &values));
    }
    if let Some(f) = component(components, "FOOTER").and_then(|f| f.text.clone()) {
        lines.push(f);
    }
    let buttons = component(components, "BUTTONS").map(|c| c.buttons.as_slice()).unwrap_or_default();
    if p.buttons.len() > buttons.len() {
        problems.push(Problem {
            field: "parameters.buttons".into(),
            message: format!("the template has {} button(s), {} values given", buttons.len(), p.buttons.len()),
        });
    }
    let slots = slots(components);
    for (j, b) in buttons.iter().enumerate() {
        let field = format!("parameters.buttons[{j}]");
        let value = p.buttons.get(j).cloned().flatten();
        let takes = slots.iter().any(|s| s.place == "button" && s.index == Some(j));
        match (takes, value) {
            (true, Some(v)) => {
                check_value(&field, &v, &mut problems);
                let kind = b.kind.to_ascii_uppercase();
                let (sub_type, parameter) = match kind.as_str() {
                    "COPY_CODE" => ("copy_code", json!({ "type": "coupon_code", "coupon_code": v })),
                    _ => ("url", json!({ "type": "text", "text": v })),
                };
                send.push(json!({ "type": "button", "sub_type": sub_type, "index": j.to_string(), "parameters": [parameter] }));
            }
            (true, None) => problems
                .push(Problem { field, message: format!("the {} button needs a value", b.kind.to_ascii_lowercase()) }),
            (false, Some(_)) => problems.push(Problem { field, message: "this button takes no value".into() }),
            (false, None) => {}
        }
    }
    let labels: Vec<&str> = buttons.iter().map(|b| b.text.as_str()).filter(|t| !t.is_empty()).collect();
    if !labels.is_empty() {
        lines.push(labels.iter().map(|l| format!("[{l}]")).collect::<Vec<_>>().join(" "));
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(Prepared { components: Value::Array(send), text: lines.join("\n"), uses_stored_header })
}

fn render_with(text: &str, values: &[(String, String)]) -> String {
    let positional: Vec<String> = {
        let mut numbered: Vec<(u32, String)> =
            values.iter().filter_map(|(k, v)| k.parse::<u32>().ok().map(|n| (n, v.clone()))).collect();
        numbered.sort_by_key(|(n, _)| *n);
        numbered.into_iter().map(|(_, v)| v).collect()
    };
    render(text, &positional, values)
}

#[cfg(test)]
mod tests {
    use super::super::rules::Button;
    use super::*;

    fn template() -> Vec<Component> {
        vec![
            Component {
                kind: "HEADER".into(),
                format: Some("TEXT".into()),
                text: Some("Order {{1}}".into()),
                example: Some(json!({"header_text": ["1042"]})),
                ..Default::default()
            },
            Component {
                kind: "BODY".into(),
                text: Some("Hi {{1}}, order {{2}} ships today.".into()),
                example: Some(json!({"body_text": [["Ana", "1042"]]})),
                ..Default::default()
            },
            Component { kind: "FOOTER".into(), text: Some("Demo Shop".into()), ..Default::default() },
            Component {
                kind: "BUTTONS".into(),
                buttons: vec![
                    Button { kind: "QUICK_REPLY".into(), text: "Thanks".into(), ..Default::default() },
                    Button {
                        kind: "URL".into(),
                        text: "Track".into(),
                        url: Some("https://shop.test/t/{{1}}".into()),
                        example: Some(json!(["https://shop.test/t/1042"])),
                        ..Default::default()
                    },
                ],
                ..Default::default()
            },
        ]
    }

    #[test]
    fn slots_list_every_value_a_send_needs() {
        let s = slots(&template());
        let names: Vec<(&str, &str)> = s.iter().map(|s| (s.place, s.name.as_str())).collect();
        assert_eq!(names, vec![("header", "1"), ("body", "1"), ("body", "2"), ("button", "url")]);
        assert_eq!(s[2].example.as_deref(), Some("1042"));
        assert_eq!(s[3].index, Some(1));
    }

    #[test]
    fn a_complete_send_is_metas_shape_and_renders() {
        let p = Parameters {
            header: Some(json!(["77"])),
            body: Some(json!(["Ana", "77"])),
            buttons: vec![None, Some("77".into())],
            ..Default::default()
        };
        let out = prepare(&template(), false, &p, false).unwrap();
        assert_eq!(out.components[0], json!({"type": "header", "parameters": [{"type": "text", "text": "77"}]}));
        assert_eq!(out.components[1]["parameters"][1]["text"], "77");
        assert_eq!(
            out.components[2],
            json!({"type": "button", "sub_type": "url", "index": "1", "parameters": [{"type": "text", "text": "77"}]})
        );
        assert_eq!(out.text, "Order 77\nHi Ana, order 77 ships today.\nDemo Shop\n[Thanks] [Track]");
    }

    #[test]
    fn missing_extra_and_malformed_values_name_their_field() {
        let p = Parameters { body: Some(json!(["Ana"])), buttons: vec![Some("x".into())], ..Default::default() };
        let fields: Vec<String> =
            prepare(&template(), false, &p, false).unwrap_err().into_iter().map(|p| p.field).collect();
        assert!(fields.contains(&"parameters.header".to_owned()), "{fields:?}");
        assert!(fields.contains(&"parameters.body".to_owned()), "{fields:?}");
        assert!(fields.contains(&"parameters.buttons[0]".to_owned()), "{fields:?}");
        assert!(fields.contains(&"parameters.buttons[1]".to_owned()), "{fields:?}");
        let p = Parameters { header: Some(json!(["a\nb"])), body: Some(json!({"x": "1"})), ..Default::default() };
        let fields: Vec<String> =
            prepare(&template(), false, &p, false).unwrap_err().into_iter().map(|p| p.field).collect();
        assert!(fields.contains(&"parameters.header[0]".to_owned()), "{fields:?}");
    }

    #[test]
    fn named_parameters_go_by_name() {
        let c = vec![Component {
            kind: "BODY".into(),
            text: Some("Hi {{first_name}}, see you {{day}}.".into()),
            example: Some(
                json!({"body_text_named_params": [{"param_name": "first_name", "example": "Ana"}, {"param_name": "day", "example": "Monday"}]}),
            ),
            ..Default::default()
        }];
        assert_eq!(slots(&c)[1].example.as_deref(), Some("Monday"));
        let p = Parameters { body: Some(json!({"first_name": "Bo", "day": "Friday"})), ..Default::default() };
        let out = prepare(&c, true, &p, false).unwrap();
        assert_eq!(
            out.components[0]["parameters"][0],
            json!({"type": "text", "parameter_name": "first_name", "text": "Bo"})
        );
        assert_eq!(out.text, "Hi Bo, see you Friday.");
        let p = Parameters { body: Some(json!({"first_name": "Bo", "day": "Friday", "x": "1"})), ..Default::default() };
        assert_eq!(prepare(&c, true, &p, false).unwrap_err()[0].field, "parameters.body.x");
    }

    #[test]
    fn a_media_header_goes_with_the_stored_file_or_a_link() {
        let c = vec![
            Component { kind: "HEADER".into(), format: Some("IMAGE".into()), ..Default::default() },
            Component { kind: "BODY".into(), text: Some("New arrivals".into()), ..Default::default() },
        ];
        assert!(prepare(&c, false, &Parameters::default(), true).unwrap().uses_stored_header);
        assert_eq!(prepare(&c, false, &Parameters::default(), false).unwrap_err()[0].field, "parameters.headerLink");
        let p = Parameters { header_link: Some("https://cdn.test/a.jpg".into()), ..Default::default() };
        let out = prepare(&c, false, &p, false).unwrap();
        assert_eq!(out.components[0]["parameters"][0]["image"]["link"], "https://cdn.test/a.jpg");
    }
}
