//! WhatsApp message templates as Meta models them: a name, a language, a category and
//! components (HEADER, BODY, FOOTER, BUTTONS) with `{{1}}` positional or `{{name}}` named
//! parameters and their examples. [`validate`] applies Meta's rules before Meta sees a template,
//! so a client gets a field error at once instead of a rejection minutes later; [`render`] fills
//! the parameters of a send in, for the text the thread shows. (The template endpoints and their
//! storage build on this.)

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

/// Meta's categories (MARKETING, UTILITY, AUTHENTICATION).
pub use entities::enums::TemplateCategory as Category;

/// One component of a template, in Meta's shape.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Component {
    /// HEADER, BODY, FOOTER or BUTTONS.
    #[serde(rename = "type")]
    pub kind: String,
    /// For a HEADER: TEXT, IMAGE, VIDEO, DOCUMENT or LOCATION.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Meta's `example`: `header_text`, `body_text` (a list of one list), `header_handle`, or
    /// `*_named_params` for named parameters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub example: Option<Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub buttons: Vec<Button>,
}

/// A button of a BUTTONS component.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Button {
    /// QUICK_REPLY, URL, PHONE_NUMBER, COPY_CODE or OTP.
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
    /// For an OTP button: COPY_CODE, ONE_TAP or ZERO_TAP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub otp_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub example: Option<Value>,
}

/// A rule a template breaks, with the field as the API names it (`components[1].text`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub field: String,
    pub message: String,
}

fn problem(field: impl Into<String>, message: impl Into<String>) -> Problem {
    Problem { field: field.into(), message: message.into() }
}

/// The parameters a text names, in order of appearance: positional (`{{1}}`) or named
/// (`{{order_id}}`); `Err` names what is malformed.
pub fn params_of(text: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let end = after.find("}}").ok_or("a parameter is opened with {{ and never closed with }}")?;
        let name = after[..end].trim();
        let positional = !name.is_empty() && name.chars().all(|c| c.is_ascii_digit());
        let named = !name.is_empty()
            && name.chars().next().is_some_and(|c| c.is_ascii_lowercase())
            && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !positional && !named {
            return Err(format!("{{{{{name}}}}} is not a parameter: use {{{{1}}}}, {{{{2}}}}… or lowercase names"));
        }
        out.push(name.to_owned());
        rest = &after[end + 2..];
    }
    Ok(out)
}

/// Checks a text's parameters: all positional or all named; positional ones numbered 1, 2, 3…
/// in order without gaps. Answers how many distinct parameters it has.
fn check_params(field: &str, text: &str, problems: &mut Vec<Problem>) -> Vec<String> {
    let params = match params_of(text) {
        Ok(p) => p,
        Err(e) => {
            problems.push(problem(field, e));
            return Vec::new();
        }
    };
    let positional = params.iter().filter(|p| p.chars().all(|c| c.is_ascii_digit())).count();
    if positional != 0 && positional != params.len() {
        problems.push(problem(field, "use either numbered parameters ({{1}}) or named ones ({{name}}), not both"));
        return params;
    }
    if positional != 0 {
        let mut seen: Vec<u32> = Vec::new();
        for p in &params {
            let n: u32 = p.parse().unwrap_or(0);
            if !seen.contains(&n) {
                if n as usize != seen.len() + 1 {
                    problems.push(problem(
                        field,
                        "numbered parameters start at {{1}} and go up by one: {{1}}, {{2}}, {{3}}…",
                    ));
                    break;
                }
                seen.push(n);
            }
        }
    }
    let mut distinct = params.clone();
    distinct.dedup();
    distinct.sort();
    distinct.dedup();
    distinct
}

/// How many example values a component gives for its text (`body_text: [["a", "b"]]`,
/// `header_text: ["a"]`, or `*_named_params: [{param_name, example}]`).
fn example_count(example: Option<&Value>, key: &str) -> usize {
    let Some(e) = example else { return 0 };
    if let Some(v) = e.get(format!("{key}_named_params")).and_then(Value::as_array) {
        return v.len();
    }
    match e.get(key) {
        Some(Value::Array(a)) => match a.first() {
            Some(Value::Array(inner)) => inner.len(),
            _ => a.len(),
        },
        _ => 0,
    }
}

/// Meta's rules for a template, before it is submitted: the name, the language, and each
/// component (exactly one BODY of at most 1,024 characters, a HEADER of at most 60 characters
/// with one parameter, a FOOTER of at most 60 characters without any, at most 10 buttons with
/// their own limits), parameters numbered or named consistently and each with an example, and
/// no parameter at the very start or end of the body. Answers every problem found.
pub fn validate(name: &str, language: &str, category: Category, components: &[Component]) -> Vec<Problem> {
    let mut problems = Vec::new();
    let name_ok = !name.is_empty()
        && name.len() <= 512
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !name_ok {
        problems.push(problem("name", "name is 1-512 characters of a-z, 0-9 and _"));
    }
    let lang_ok = {
        let (base, region) = language.split_once('_').unwrap_or((language, ""));
        (2..=3).contains(&base.len())
            && base.chars().all(|c| c.is_ascii_lowercase())
            && (region.is_empty() || (region.len() == 2 && region.chars().all(|c| c.is_ascii_uppercase())))
    };
    if !lang_ok {
        problems.push(problem("language", "language is a code such as en or en_US"));
    }
    let count = |kind: &str| components.iter().filter(|c| c.kind.eq_ignore_ascii_case(kind)).count();
    if count("BODY") != 1 {
        problems.push(problem("components", "a template has exactly one BODY"));
    }
    for kind in ["HEADER", "FOOTER", "BUTTONS"] {
        if count(kind) > 1 {
            problems.push(problem("components", format!("a template has at most one {kind}")));
        }
    }
    for (i, c) in components.iter().enumerate() {
        let field = |f: &str| format!("components[{i}].{f}");
        let text = c.text.as_deref().unwrap_or_default();
        match c.kind.to_ascii_uppercase().as_str() {
            "BODY" => {
                let len = text.chars().count();
                if len == 0 || len > 1024 {
                    problems.push(problem(field("text"), "the body is 1 to 1,024 characters"));
                }
                let params = check_params(&field("text"), text, &mut problems);
                let trimmed = text.trim();
                if !params.is_empty() && (trimmed.starts_with("{{") || trimmed.ends_with("}}")) {
                    problems.push(problem(field("text"), "the body cannot start or end with a parameter"));
                }
                if params.len() != example_count(c.example.as_ref(), "body_text") {
                    problems.push(problem(
                        field("example"),
                        format!("give one example for each of the body's {} parameters", params.len()),
                    ));
                }
            }
            "HEADER" => {
                let format = c.format.as_deref().unwrap_or("TEXT").to_ascii_uppercase();
                match format.as_str() {
                    "TEXT" => {
                        let len = text.chars().count();
                        if len == 0 || len > 60 {
                            problems.push(problem(field("text"), "a text header is 1 to 60 characters"));
                        }
                        let params = check_params(&field("text"), text, &mut problems);
                        if params.len() > 1 {
                            problems.push(problem(field("text"), "a header has at most one parameter"));
                        } else if params.len() != example_count(c.example.as_ref(), "header_text") {
                            problems.push(problem(field("example"), "give an example for the header's parameter"));
                        }
                    }
                    "IMAGE" | "VIDEO" | "DOCUMENT" => {
                        let handle = c.example.as_ref().and_then(|e| e.get("header_handle")).and_then(Value::as_array);
                        if handle.is_none_or(|h| h.is_empty()) {
                            problems.push(problem(
                                field("example"),
                                "a media header needs an example file (upload it first)",
                            ));
                        }
                    }
                    "LOCATION" => {}
                    _ => problems.push(problem(field("format"), "format is TEXT, IMAGE, VIDEO, DOCUMENT or LOCATION")),
                }
            }
            "FOOTER" => {
                let len = text.chars().count();
                if len == 0 || len > 60 {
                    problems.push(problem(field("text"), "the footer is 1 to 60 characters"));
                }
                if text.contains("{{") {
                    problems.push(problem(field("text"), "the footer takes no parameters"));
                }
            }
            "BUTTONS" => check_buttons(i, &c.buttons, category, &mut problems),
            other => problems
                .push(problem(field("type"), format!("{other:?} is not a component: HEADER, BODY, FOOTER or BUTTONS"))),
        }
    }
    if category == Category::Authentication {
        let has_otp = components.iter().flat_map(|c| &c.buttons).any(|b| b.kind.eq_ignore_ascii_case("OTP"));
        if !has_otp {
            problems.push(problem("components", "an AUTHENTICATION template has an OTP button"));
        }
    }
    problems
}

fn check_buttons(i: usize, buttons: &[Button], category: Category, problems: &mut Vec<Problem>) {
    let field = |j: usize, f: &str| format!("components[{i}].buttons[{j}].{f}");
    if buttons.is_empty() || buttons.len() > 10 {
        problems.push(problem(format!("components[{i}].buttons"), "1 to 10 buttons"));
    }
    let of = |kind: &str| buttons.iter().filter(|b| b.kind.eq_ignore_ascii_case(kind)).count();
    if of("URL") > 2 {
        problems.push(problem(format!("components[{i}].buttons"), "at most 2 URL buttons"));
    }
    if of("PHONE_NUMBER") > 1 {
        problems.push(problem(format!("components[{i}].buttons"), "at most 1 phone number button"));
    }
    if of("COPY_CODE") > 1 {
        problems.push(problem(format!("components[{i}].buttons"), "at most 1 copy code button"));
    }
    for (j, b) in buttons.iter().enumerate() {
        let kind = b.kind.to_ascii_uppercase();
        if !["QUICK_REPLY", "URL", "PHONE_NUMBER", "COPY_CODE", "OTP"].contains(&kind.as_str()) {
            problems.push(problem(field(j, "type"), "type is QUICK_REPLY, URL, PHONE_NUMBER, COPY_CODE or OTP"));
            continue;
        }
        if kind == "OTP" && category != Category::Authentication {
            problems.push(problem(field(j, "type"), "OTP buttons are for AUTHENTICATION templates"));
        }
        let len = b.text.chars().count();
        if kind != "OTP" && kind != "COPY_CODE" && (len == 0 || len > 25) {
            problems.push(problem(field(j, "text"), "a button's text is 1 to 25 characters"));
        }
        match kind.as_str() {
            "URL" => {
                let url = b.url.as_deref().unwrap_or_default();
                let params = params_of(url).unwrap_or_default();
                if !(url.starts_with("https://") || url.starts_with("http://")) {
                    problems.push(problem(field(j, "url"), "url is an http(s) address"));
                } else if params.len() > 1 || (params.len() == 1 && !url.ends_with("}}")) {
                    problems.push(problem(field(j, "url"), "a URL takes at most one parameter, at its end"));
                } else if params.len() == 1
                    && b.example.as_ref().is_none_or(|e| e.as_array().is_none_or(|a| a.is_empty()))
                {
                    problems.push(problem(field(j, "example"), "give an example of the URL's parameter"));
                }
            }
            "PHONE_NUMBER" => {
                let phone = b.phone_number.as_deref().unwrap_or_default();
                let digits = phone.trim_start_matches('+');
                if !phone.starts_with('+')
                    || digits.len() < 6
                    || digits.len() > 15
                    || !digits.chars().all(|c| c.is_ascii_digit())
                {
                    problems
                        .push(problem(field(j, "phone_number"), "phone_number is in E.164, such as +4915112345678"));
                }
            }
            _ => {}
        }
    }
}

/// The body with a send's parameters filled in (positional by number, named by name); a
/// parameter without a value stays as written. This is the text the thread shows.
pub fn render(text: &str, positional: &[String], named: &[(String, String)]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            out.push_str(&rest[start..]);
            return out;
        };
        let key = after[..end].trim();
        let value = match key.parse::<usize>() {
            Ok(n) if n >= 1 => positional.get(n - 1).cloned(),
            _ => named.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone()),
        };
        match value {
            Some(v) => out.push_str(&v),
            None => out.push_str(&rest[start..start + 2 + end + 2]),
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn body(text: &str, examples: Value) -> Component {
        Component { kind: "BODY".into(), text: Some(text.into()), example: Some(examples), ..Default::default() }
    }

    fn fields(p: &[Problem]) -> Vec<&str> {
        p.iter().map(|p| p.field.as_str()).collect()
    }

    #[test]
    fn a_well_formed_template_passes() {
        let components = vec![
            Component {
                kind: "HEADER".into(),
                format: Some("TEXT".into()),
                text: Some("Order {{1}}".into()),
                example: Some(json!({"header_text": ["1042"]})),
                ..Default::default()
            },
            body("Hi {{1}}, your order {{2}} ships today.", json!({"body_text": [["Ana", "1042"]]})),
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
        ];
        assert_eq!(validate("order_shipped", "en_US", Category::Utility, &components), vec![]);
    }

    #[test]
    fn names_languages_and_the_body_follow_metas_rules() {
        let p = validate("Order Shipped", "english", Category::Utility, &[]);
        assert_eq!(fields(&p), vec!["name", "language", "components"]);
        let p = validate("x", "en", Category::Marketing, &[body("{{1}} is here", json!({"body_text": [["Ana"]]}))]);
        assert_eq!(p[0].message, "the body cannot start or end with a parameter");
    }

    #[test]
    fn parameters_are_numbered_from_one_without_gaps_and_each_has_an_example() {
        let p = validate(
            "x",
            "en",
            Category::Marketing,
            &[body("Hi {{1}} and {{3}}.", json!({"body_text": [["a", "b"]]}))],
        );
        assert!(p.iter().any(|p| p.message.contains("go up by one")), "{p:?}");
        let p = validate("x", "en", Category::Marketing, &[body("Hi {{1}} and {{2}}.", json!({"body_text": [["a"]]}))]);
        assert_eq!(fields(&p), vec!["components[0].example"]);
        let p = validate("x", "en", Category::Marketing, &[body("Hi {{1}} and {{name}}.", json!({}))]);
        assert!(p.iter().any(|p| p.message.contains("not both")), "{p:?}");
        let named = body(
            "Hi {{first_name}}!",
            json!({"body_text_named_params": [{"param_name": "first_name", "example": "Ana"}]}),
        );
        assert_eq!(validate("x", "en", Category::Marketing, &[named]), vec![]);
    }

    #[test]
    fn buttons_have_their_limits() {
        let many =
            (0..11).map(|_| Button { kind: "QUICK_REPLY".into(), text: "ok".into(), ..Default::default() }).collect();
        let c = vec![
            body("Hello there.", json!({})),
            Component { kind: "BUTTONS".into(), buttons: many, ..Default::default() },
        ];
        assert!(validate("x", "en", Category::Marketing, &c).iter().any(|p| p.message == "1 to 10 buttons"));
        let bad = vec![
            Button {
                kind: "URL".into(),
                text: "Go".into(),
                url: Some("https://a.test/{{1}}/x".into()),
                ..Default::default()
            },
            Button {
                kind: "PHONE_NUMBER".into(),
                text: "Call".into(),
                phone_number: Some("0151".into()),
                ..Default::default()
            },
            Button { kind: "OTP".into(), ..Default::default() },
        ];
        let c = vec![
            body("Hello there.", json!({})),
            Component { kind: "BUTTONS".into(), buttons: bad, ..Default::default() },
        ];
        let p = validate("x", "en", Category::Marketing, &c);
        assert_eq!(
            fields(&p),
            vec![
                "components[1].buttons[0].url",
                "components[1].buttons[1].phone_number",
                "components[1].buttons[2].type"
            ]
        );
    }

    #[test]
    fn authentication_templates_need_an_otp_button_and_media_headers_an_example() {
        let p = validate(
            "code",
            "en",
            Category::Authentication,
            &[body("Your code is {{1}}.", json!({"body_text": [["123456"]]}))],
        );
        assert_eq!(p[0].message, "an AUTHENTICATION template has an OTP button");
        let header = Component { kind: "HEADER".into(), format: Some("IMAGE".into()), ..Default::default() };
        let p = validate("x", "en", Category::Marketing, &[header, body("Hello there.", json!({}))]);
        assert_eq!(fields(&p), vec!["components[0].example"]);
    }

    #[test]
    fn render_fills_positional_and_named_parameters() {
        assert_eq!(render("Hi {{1}}, order {{2}}.", &["Ana".into(), "1042".into()], &[]), "Hi Ana, order 1042.");
        assert_eq!(render("Hi {{name}}!", &[], &[("name".into(), "Ana".into())]), "Hi Ana!");
        assert_eq!(render("Hi {{1}} {{2}}", &["Ana".into()], &[]), "Hi Ana {{2}}");
        assert_eq!(render("broken {{1", &["x".into()], &[]), "broken {{1");
    }
}
