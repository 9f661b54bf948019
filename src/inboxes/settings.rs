//! The JSON settings of an inbox, as a client sends them and as they are stored: each is checked
//! here, and a fault names its field the way the client spelled it (`csatConfig.surveyRule`).

use actors::policy::schedule::WeeklySchedule;
use entities::enums::Channel;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::{Error, Result};

/// The CSAT survey of an inbox: how it looks and which resolved conversations get it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CsatConfig {
    /// `emoji` (default) or `star`.
    #[serde(default)]
    pub display_type: Option<String>,
    /// The question the customer sees; at most 500 characters.
    #[serde(default)]
    pub message: Option<String>,
    /// The label of the rating button (widget); at most 50 characters.
    #[serde(default)]
    pub button_text: Option<String>,
    /// Language code of the survey, e.g. `en`.
    #[serde(default)]
    pub language: Option<String>,
    /// Which resolved conversations get the survey, by their tags; all when absent.
    #[serde(default)]
    pub survey_rule: Option<SurveyRule>,
}

/// A rule on a resolved conversation's tag names (compared in any case).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SurveyRule {
    /// `contains`: the conversation carries one of `values`; `does_not_contain`: none of them.
    pub operator: String,
    pub values: Vec<String>,
}

impl SurveyRule {
    /// Whether a conversation with these tag names gets the survey.
    pub fn matches(&self, tags: &[String]) -> bool {
        let hit = tags.iter().any(|t| self.values.iter().any(|v| v.to_lowercase() == t.to_lowercase()));
        if self.operator == "does_not_contain" { !hit } else { hit }
    }
}

/// How the live-chat widget looks on the business's site.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WidgetSettings {
    /// The site the widget is on (`http(s)://…`).
    #[serde(default)]
    pub website_url: Option<String>,
    /// The widget's color, `#RRGGBB`.
    #[serde(default)]
    pub widget_color: Option<String>,
    /// The title of the chat window; at most 100 characters.
    #[serde(default)]
    pub welcome_title: Option<String>,
    /// The line under the title; at most 255 characters.
    #[serde(default)]
    pub welcome_tagline: Option<String>,
    /// Ask visitors for their email before the chat.
    #[serde(default)]
    pub enable_email_collect: Option<bool>,
}

/// The channel a create names: `livechat` (also `webchat`), `api` or `whatsapp`.
pub fn parse_channel(channel: Option<&str>) -> Result<Channel> {
    let name = channel.map(|c| c.trim().to_lowercase()).unwrap_or_default();
    match name.as_str() {
        "livechat" | "webchat" => Ok(Channel::Livechat),
        "api" => Ok(Channel::Api),
        "whatsapp" => Ok(Channel::Whatsapp),
        "" => Err(Error::invalid("channel", "channel is required: livechat, api or whatsapp")),
        other => Err(Error::invalid("channel", format!("channel {other:?} is not one of livechat, api, whatsapp"))),
    }
}

fn too_long(field: &str, value: &Option<String>, max: usize) -> Result<()> {
    match value {
        Some(v) if v.chars().count() > max => {
            Err(Error::invalid(field, format!("{field} is at most {max} characters")))
        }
        _ => Ok(()),
    }
}

/// A JSON object read as `T`; a fault names `field` (and the inner field serde names).
fn read<T: serde::de::DeserializeOwned>(field: &str, value: serde_json::Value) -> Result<T> {
    serde_json::from_value(value).map_err(|e| {
        let msg = e.to_string();
        let inner =
            msg.split('`').nth(1).filter(|_| msg.starts_with("unknown field") || msg.starts_with("missing field"));
        let at = inner.map(|f| format!("{field}.{f}")).unwrap_or_else(|| field.to_owned());
        Error::invalid(at, format!("{field} is not valid: {msg}"))
    })
}

/// Working hours as a weekly schedule (time zone, slots, holidays), checked.
pub fn parse_working_hours(value: serde_json::Value) -> Result<WeeklySchedule> {
    let schedule: WeeklySchedule = read("workingHours", value)?;
    schedule.validate().map_err(|e| Error::invalid(format!("workingHours.{}", e.field), e.message))?;
    Ok(schedule)
}

/// A CSAT configuration, checked.
pub fn parse_csat(value: serde_json::Value) -> Result<CsatConfig> {
    let c: CsatConfig = read("csatConfig", value)?;
    if let Some(t) = &c.display_type
        && !["emoji", "star"].contains(&t.as_str())
    {
        return Err(Error::invalid("csatConfig.displayType", "displayType is emoji or star"));
    }
    too_long("csatConfig.message", &c.message, 500)?;
    too_long("csatConfig.buttonText", &c.button_text, 50)?;
    too_long("csatConfig.language", &c.language, 10)?;
    if let Some(rule) = &c.survey_rule {
        if !["contains", "does_not_contain"].contains(&rule.operator.as_str()) {
            return Err(Error::invalid("csatConfig.surveyRule.operator", "operator is contains or does_not_contain"));
        }
        if rule.values.is_empty() || rule.values.iter().any(|v| v.trim().is_empty()) {
            return Err(Error::invalid("csatConfig.surveyRule.values", "values lists at least one tag name"));
        }
    }
    Ok(c)
}

/// A `http(s)://host[:port]` origin, or a URL under it when `path` is allowed.
fn web_url(field: &str, value: &str, path: bool) -> Result<reqwest::Url> {
    let bad = || Error::invalid(field, format!("{field} must be an http or https URL, not {value:?}"));
    let url = reqwest::Url::parse(value.trim()).map_err(|_| bad())?;
    if !["http", "https"].contains(&url.scheme()) || url.host_str().is_none() {
        return Err(bad());
    }
    if !path && (url.path() != "/" || url.query().is_some() || url.fragment().is_some()) {
        return Err(Error::invalid(field, format!("{field} is an origin (scheme, host, port) without a path")));
    }
    Ok(url)
}

/// The widget's look, checked.
pub fn parse_widget(value: serde_json::Value) -> Result<WidgetSettings> {
    let w: WidgetSettings = read("widgetSettings", value)?;
    if let Some(u) = &w.website_url {
        web_url("widgetSettings.websiteUrl", u, true)?;
    }
    if let Some(c) = &w.widget_color
        && !(c.len() == 7 && c.starts_with('#') && c[1..].chars().all(|ch| ch.is_ascii_hexdigit()))
    {
        return Err(Error::invalid("widgetSettings.widgetColor", "widgetColor is a color like #1F93FF"));
    }
    too_long("widgetSettings.welcomeTitle", &w.welcome_title, 100)?;
    too_long("widgetSettings.welcomeTagline", &w.welcome_tagline, 255)?;
    Ok(w)
}

/// The origins allowed to embed the widget, as `scheme://host[:port]`, each once.
pub fn parse_origins(origins: &[String]) -> Result<Vec<String>> {
    if origins.len() > 50 {
        return Err(Error::invalid("allowedOrigins", "allowedOrigins lists at most 50 origins"));
    }
    let mut out: Vec<String> = Vec::new();
    for o in origins {
        let url = web_url("allowedOrigins", o, false)?;
        let origin = url.origin().ascii_serialization();
        if !out.contains(&origin) {
            out.push(origin);
        }
    }
    Ok(out)
}

/// Where an API inbox posts its events. (The guard against private addresses is the
/// delivery's: it must hold at every connection, not only here.)
pub fn parse_webhook_url(value: &str) -> Result<String> {
    if value.len() > 2048 {
        return Err(Error::invalid("webhookUrl", "webhookUrl is at most 2048 characters"));
    }
    Ok(web_url("webhookUrl", value, true)?.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn field(r: Result<impl std::fmt::Debug>) -> String {
        match r {
            Err(Error::Invalid { field, .. }) => field,
            other => panic!("expected a field error, got {other:?}"),
        }
    }

    #[test]
    fn csat_rule_contains_and_does_not_contain() {
        let tags = vec!["Billing".to_owned(), "vip".to_owned()];
        let rule = |op: &str| SurveyRule { operator: op.into(), values: vec!["billing".into()] };
        assert!(rule("contains").matches(&tags));
        assert!(!rule("does_not_contain").matches(&tags));
        assert!(!rule("contains").matches(&[]));
        assert!(rule("does_not_contain").matches(&[]));
    }

    #[test]
    fn settings_faults_name_the_field_at_fault() {
        assert_eq!(field(parse_csat(json!({"displayType": "stars"}))), "csatConfig.displayType");
        assert_eq!(
            field(parse_csat(json!({"surveyRule": {"operator": "is", "values": ["x"]}}))),
            "csatConfig.surveyRule.operator"
        );
        assert_eq!(field(parse_csat(json!({"colour": 1}))), "csatConfig.colour");
        assert_eq!(field(parse_widget(json!({"widgetColor": "blue"}))), "widgetSettings.widgetColor");
        assert_eq!(field(parse_origins(&["https://shop.example/cart".into()])), "allowedOrigins");
        assert_eq!(field(parse_webhook_url("ftp://x.example")), "webhookUrl");
        assert_eq!(field(parse_working_hours(json!({"timezone": "Mars/Base"}))), "workingHours.timezone");
        assert_eq!(field(parse_channel(Some("email"))), "channel");
    }

    #[test]
    fn origins_are_normalized_and_deduplicated() {
        let o = parse_origins(&[
            "https://Shop.example".into(),
            "https://shop.example/".into(),
            "http://localhost:3000".into(),
        ]);
        assert_eq!(o.ok(), Some(vec!["https://shop.example".to_owned(), "http://localhost:3000".to_owned()]));
        assert_eq!(parse_channel(Some("webchat")).ok(), Some(Channel::Livechat));
    }
}
