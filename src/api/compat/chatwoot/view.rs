//! The inbox as Chatwoot clients read and write it, and the translation to and from the
//! native settings: `channel.type` names, working hours as one entry per weekday
//! (`day_of_week` 0 = Sunday … 6 = Saturday) instead of slots, and the snake_case CSAT object.

use actors::policy::schedule::{WeeklySchedule, parse_minute_of_day, parse_weekday};
use chrono::Weekday;
use entities::enums::Channel;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::nullable;
use crate::error::ApiError;
use crate::inboxes::{CsatConfig, Inbox, InboxInput, SurveyRule, WidgetSettings};

/// `channel_type` of each kind of inbox.
pub fn channel_type(channel: Channel) -> &'static str {
    match channel {
        Channel::Livechat => "Channel::WebWidget",
        Channel::Api => "Channel::Api",
        Channel::Whatsapp => "Channel::Whatsapp",
    }
}

/// An inbox as this API shows it. Ids are strings (Chatwoot's are integers).
#[derive(Serialize, ToSchema)]
pub struct ChatwootInbox {
    pub id: String,
    pub name: String,
    /// The WhatsApp account of a WhatsApp inbox; the inbox's own id for the others.
    pub channel_id: String,
    /// `Channel::WebWidget`, `Channel::Api` or `Channel::Whatsapp`.
    pub channel_type: String,
    /// Where the inbox's avatar is served; null without one.
    pub avatar_url: Option<String>,
    pub greeting_enabled: bool,
    pub greeting_message: Option<String>,
    pub enable_auto_assignment: bool,
    /// Web widget: visitors are asked for their email before the chat.
    pub enable_email_collect: bool,
    pub working_hours_enabled: bool,
    /// IANA time zone of the working hours.
    pub timezone: Option<String>,
    /// One entry per weekday, Sunday (0) first; empty when no hours were ever set.
    pub working_hours: Vec<ChatwootWorkingHour>,
    pub csat_survey_enabled: bool,
    pub csat_config: Option<ChatwootCsatConfig>,
    /// API channel: where its events are posted.
    pub webhook_url: Option<String>,
    /// Web widget: the token of its script tag.
    pub website_token: Option<String>,
    pub website_url: Option<String>,
    pub widget_color: Option<String>,
    pub welcome_title: Option<String>,
    pub welcome_tagline: Option<String>,
    /// Web widget: a visitor without a valid identifier hash is refused.
    pub hmac_mandatory: bool,
    /// Web widget: the identity-verification secret (admins, one inbox at a time).
    pub hmac_token: Option<String>,
    /// Web widget: the origins allowed to embed it, comma-separated; empty allows any.
    pub allowed_domains: String,
    /// API channel: the first characters of its token.
    pub inbox_identifier: Option<String>,
    /// API channel: its token, in the answer that creates the inbox only. Store it then.
    pub api_token: Option<String>,
    /// WhatsApp: the number.
    pub phone_number: Option<String>,
    /// WhatsApp: `whatsapp_cloud`.
    pub provider: Option<String>,
}

fn stored<T: serde::de::DeserializeOwned>(text: &Option<String>) -> Option<T> {
    text.as_deref().and_then(|t| serde_json::from_str(t).ok())
}

impl ChatwootInbox {
    /// The view of `inbox`; its secret only when `reveal` (an admin reading one inbox).
    pub fn of(inbox: &Inbox, reveal: bool) -> ChatwootInbox {
        let m = &inbox.model;
        let widget: WidgetSettings = stored(&m.widget_settings).unwrap_or_default();
        let origins: Vec<String> = stored(&m.allowed_origins).unwrap_or_default();
        ChatwootInbox {
            id: m.id.clone(),
            name: m.name.clone(),
            channel_id: inbox.account.as_ref().map_or_else(|| m.id.clone(), |a| a.id.clone()),
            channel_type: channel_type(m.channel).to_owned(),
            avatar_url: m
                .avatar_path
                .as_ref()
                .map(|_| format!("/api/v1/accounts/{}/inboxes/{}/avatar", m.org_id, m.id)),
            greeting_enabled: m.greeting_enabled,
            greeting_message: m.greeting_message.clone(),
            enable_auto_assignment: m.enable_auto_assignment,
            enable_email_collect: widget.enable_email_collect.unwrap_or(false),
            working_hours_enabled: m.working_hours_enabled,
            timezone: m.timezone.clone(),
            working_hours: stored::<WeeklySchedule>(&m.working_hours).map(|s| hours_of(&s)).unwrap_or_default(),
            csat_survey_enabled: m.csat_survey_enabled,
            csat_config: stored::<CsatConfig>(&m.csat_config).map(ChatwootCsatConfig::from),
            webhook_url: m.webhook_url.clone(),
            website_token: m.website_token.clone(),
            website_url: widget.website_url,
            widget_color: widget.widget_color,
            welcome_title: widget.welcome_title,
            welcome_tagline: widget.welcome_tagline,
            hmac_mandatory: m.hmac_mandatory,
            hmac_token: inbox.hmac_secret.clone().filter(|_| reveal),
            allowed_domains: origins.join(","),
            inbox_identifier: m.api_token_prefix.clone(),
            api_token: None,
            phone_number: inbox.account.as_ref().and_then(|a| a.display_phone_number.clone()),
            provider: inbox.account.as_ref().map(|_| "whatsapp_cloud".to_owned()),
        }
    }
}

/// `{"payload": [inbox…]}`.
#[derive(Serialize, ToSchema)]
pub struct ChatwootInboxList {
    pub payload: Vec<ChatwootInbox>,
}

/// The hours of one weekday.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChatwootWorkingHour {
    /// 0 = Sunday … 6 = Saturday.
    pub day_of_week: u32,
    /// Closed that day (the hours are then null).
    #[serde(default)]
    pub closed_all_day: bool,
    /// Open the whole day (shown as 0:00 to 23:59).
    #[serde(default)]
    pub open_all_day: bool,
    #[serde(default)]
    pub open_hour: Option<u32>,
    #[serde(default)]
    pub open_minutes: Option<u32>,
    #[serde(default)]
    pub close_hour: Option<u32>,
    #[serde(default)]
    pub close_minutes: Option<u32>,
}

const DAYS: [(Weekday, &str); 7] = [
    (Weekday::Sun, "SUN"),
    (Weekday::Mon, "MON"),
    (Weekday::Tue, "TUE"),
    (Weekday::Wed, "WED"),
    (Weekday::Thu, "THU"),
    (Weekday::Fri, "FRI"),
    (Weekday::Sat, "SAT"),
];

const DAY_MINUTES: u32 = 24 * 60;

/// A schedule as seven weekdays. A day with several slots shows its first opening to its last
/// closing (this form has one period a day).
fn hours_of(s: &WeeklySchedule) -> Vec<ChatwootWorkingHour> {
    DAYS.iter()
        .enumerate()
        .map(|(i, (day, _))| {
            let spans = s
                .slots
                .iter()
                .filter(|slot| parse_weekday(&slot.day) == Some(*day))
                .filter_map(|slot| Some((parse_minute_of_day(&slot.start)?, parse_minute_of_day(&slot.end)?)));
            let span = spans
                .fold(None, |acc: Option<(u32, u32)>, (a, b)| Some(acc.map_or((a, b), |(x, y)| (x.min(a), y.max(b)))));
            let day_of_week = i as u32;
            match span {
                None => ChatwootWorkingHour {
                    day_of_week,
                    closed_all_day: true,
                    open_all_day: false,
                    open_hour: None,
                    open_minutes: None,
                    close_hour: None,
                    close_minutes: None,
                },
                Some((open, close)) => {
                    let all_day = open == 0 && close == DAY_MINUTES;
                    let close = if close == DAY_MINUTES { DAY_MINUTES - 1 } else { close };
                    ChatwootWorkingHour {
                        day_of_week,
                        closed_all_day: false,
                        open_all_day: all_day,
                        open_hour: Some(open / 60),
                        open_minutes: Some(open % 60),
                        close_hour: Some(close / 60),
                        close_minutes: Some(close % 60),
                    }
                }
            }
        })
        .collect()
}

fn bad(field: String, message: &str) -> ApiError {
    ApiError::validation(field.clone(), format!("{field} {message}"))
}

/// The opening and closing minute of a day entry; `None` when closed.
fn span_of(i: usize, h: &ChatwootWorkingHour) -> Result<Option<(u32, u32)>, ApiError> {
    if h.closed_all_day {
        return Ok(None);
    }
    if h.open_all_day {
        return Ok(Some((0, DAY_MINUTES)));
    }
    let at = |name: &str| format!("working_hours[{i}].{name}");
    let hour = |v: Option<u32>, name: &str| match v {
        Some(h) if h <= 23 => Ok(h),
        _ => Err(bad(at(name), "is an hour from 0 to 23 (unless closed_all_day or open_all_day)")),
    };
    let minute = |v: Option<u32>, name: &str| match v.unwrap_or(0) {
        m if m <= 59 => Ok(m),
        _ => Err(bad(at(name), "is a minute from 0 to 59")),
    };
    let open = hour(h.open_hour, "open_hour")? * 60 + minute(h.open_minutes, "open_minutes")?;
    let close = hour(h.close_hour, "close_hour")? * 60 + minute(h.close_minutes, "close_minutes")?;
    // 23:59 is Chatwoot's end of the day.
    let close = if close == DAY_MINUTES - 1 { DAY_MINUTES } else { close };
    if close <= open {
        return Err(bad(at("close_hour"), "must be after the opening time"));
    }
    Ok(Some((open, close)))
}

/// The schedule after a change of the working-hours fields: the days listed replace those
/// days' hours, the others keep theirs. `None` when none of the fields is given.
pub fn schedule(
    current: Option<WeeklySchedule>,
    enabled: Option<bool>,
    timezone: Option<String>,
    days: Option<Vec<ChatwootWorkingHour>>,
) -> Result<Option<serde_json::Value>, ApiError> {
    if enabled.is_none() && timezone.is_none() && days.is_none() {
        return Ok(None);
    }
    let mut s = current.unwrap_or_else(|| WeeklySchedule {
        timezone: "UTC".into(),
        is_enabled: false,
        slots: Vec::new(),
        holidays: Vec::new(),
    });
    if let Some(on) = enabled {
        s.is_enabled = on;
    }
    if let Some(tz) = timezone {
        s.timezone = tz;
    }
    for (i, h) in days.unwrap_or_default().iter().enumerate() {
        let Some((day, name)) = DAYS.get(h.day_of_week as usize) else {
            return Err(bad(format!("working_hours[{i}].day_of_week"), "is 0 (Sunday) to 6 (Saturday)"));
        };
        s.slots.retain(|slot| parse_weekday(&slot.day) != Some(*day));
        if let Some((open, close)) = span_of(i, h)? {
            let hhmm = |m: u32| format!("{:02}:{:02}", m / 60, m % 60);
            s.slots.push(actors::policy::schedule::Slot { day: (*name).into(), start: hhmm(open), end: hhmm(close) });
        }
    }
    serde_json::to_value(&s).map(Some).map_err(|e| ApiError::Internal(format!("schedule: {e}")))
}

/// The CSAT survey settings.
#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChatwootCsatConfig {
    /// `emoji` or `star`.
    #[serde(default)]
    pub display_type: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub button_text: Option<String>,
    #[serde(default)]
    pub language: Option<String>,
    /// Which resolved conversations get the survey, by their labels (tags).
    #[serde(default)]
    pub survey_rules: Option<ChatwootSurveyRules>,
}

/// `contains`: the conversation has one of `values`; `does_not_contain`: none of them.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChatwootSurveyRules {
    pub operator: String,
    pub values: Vec<String>,
}

impl From<CsatConfig> for ChatwootCsatConfig {
    fn from(c: CsatConfig) -> Self {
        ChatwootCsatConfig {
            display_type: c.display_type,
            message: c.message,
            button_text: c.button_text,
            language: c.language,
            survey_rules: c.survey_rule.map(|r| ChatwootSurveyRules { operator: r.operator, values: r.values }),
        }
    }
}

impl ChatwootCsatConfig {
    /// The native settings object (checked by the domain).
    fn native(self) -> serde_json::Value {
        let c = CsatConfig {
            display_type: self.display_type,
            message: self.message,
            button_text: self.button_text,
            language: self.language,
            survey_rule: self.survey_rules.map(|r| SurveyRule { operator: r.operator, values: r.values }),
        };
        serde_json::to_value(c).unwrap_or_default()
    }
}

/// The `channel` object: its `type` on create, and the channel's own settings.
#[derive(Deserialize, ToSchema, Default)]
pub struct ChatwootChannel {
    /// `web_widget`, `api` or `whatsapp` (`email`, `line`, `telegram` and `sms` are refused);
    /// read on create only.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Web widget.
    pub website_url: Option<String>,
    pub welcome_title: Option<String>,
    pub welcome_tagline: Option<String>,
    /// `#RRGGBB`.
    pub widget_color: Option<String>,
    pub hmac_mandatory: Option<bool>,
    /// API channel: where its events are posted; `null` stops posting.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub webhook_url: Option<Option<String>>,
    /// WhatsApp: the number (informative; Meta's `phone_number_id` identifies it).
    pub phone_number: Option<String>,
    /// WhatsApp: `whatsapp_cloud` (or `default`).
    pub provider: Option<String>,
    /// WhatsApp: the access token, when not in `provider_config`.
    pub api_key: Option<String>,
    /// WhatsApp Cloud API: Meta's ids and the access token.
    pub provider_config: Option<ChatwootProviderConfig>,
}

/// Meta's ids of the number and its business account, and the access token.
#[derive(Deserialize, ToSchema, Default)]
pub struct ChatwootProviderConfig {
    pub api_key: Option<String>,
    pub phone_number_id: Option<String>,
    pub business_account_id: Option<String>,
}

/// The settings of a create or an update; absent fields are kept, `null` clears a nullable one.
/// Fields this API does not know are ignored, as Chatwoot does.
#[derive(Deserialize, ToSchema, Default)]
pub struct ChatwootInboxBody {
    /// 1 to 100 characters; required on create.
    pub name: Option<String>,
    pub channel: Option<ChatwootChannel>,
    pub greeting_enabled: Option<bool>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub greeting_message: Option<Option<String>>,
    pub enable_auto_assignment: Option<bool>,
    /// Web widget only.
    pub enable_email_collect: Option<bool>,
    pub working_hours_enabled: Option<bool>,
    /// IANA time zone, e.g. `America/New_York` (UTC until one is given).
    pub timezone: Option<String>,
    /// Weekdays to set; the days not listed keep their hours.
    pub working_hours: Option<Vec<ChatwootWorkingHour>>,
    pub csat_survey_enabled: Option<bool>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<ChatwootCsatConfig>)]
    pub csat_config: Option<Option<ChatwootCsatConfig>>,
}

/// The widget settings after a change of some of them (the others kept); `None` when none is
/// given.
fn widget(current: Option<&Inbox>, b: &ChatwootInboxBody) -> Option<serde_json::Value> {
    let c = b.channel.as_ref();
    let given = c.is_some_and(|c| {
        c.website_url.is_some() || c.welcome_title.is_some() || c.welcome_tagline.is_some() || c.widget_color.is_some()
    }) || b.enable_email_collect.is_some();
    if !given {
        return None;
    }
    let mut w: WidgetSettings = current.and_then(|i| stored(&i.model.widget_settings)).unwrap_or_default();
    if let Some(c) = c {
        w.website_url = c.website_url.clone().or(w.website_url);
        w.welcome_title = c.welcome_title.clone().or(w.welcome_title);
        w.welcome_tagline = c.welcome_tagline.clone().or(w.welcome_tagline);
        w.widget_color = c.widget_color.clone().or(w.widget_color);
    }
    w.enable_email_collect = b.enable_email_collect.or(w.enable_email_collect);
    serde_json::to_value(w).ok()
}

/// The native settings a body gives, merged into `current`'s where this API changes part of
/// one (working hours by day, the widget's look by field).
pub fn input(b: ChatwootInboxBody, current: Option<&Inbox>) -> Result<InboxInput, ApiError> {
    let schedule_now = current.and_then(|i| stored::<WeeklySchedule>(&i.model.working_hours));
    let working_hours =
        schedule(schedule_now, b.working_hours_enabled, b.timezone.clone(), b.working_hours.clone())?.map(Some);
    let widget_settings = widget(current, &b).map(Some);
    let channel = b.channel.unwrap_or_default();
    Ok(InboxInput {
        name: b.name,
        greeting_enabled: b.greeting_enabled,
        greeting_message: b.greeting_message,
        enable_auto_assignment: b.enable_auto_assignment,
        working_hours,
        csat_survey_enabled: b.csat_survey_enabled,
        csat_config: b.csat_config.map(|c| c.map(ChatwootCsatConfig::native)),
        widget_settings,
        hmac_mandatory: channel.hmac_mandatory,
        webhook_url: channel.webhook_url,
        ..InboxInput::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32, open: (u32, u32), close: (u32, u32)) -> ChatwootWorkingHour {
        ChatwootWorkingHour {
            day_of_week: d,
            closed_all_day: false,
            open_all_day: false,
            open_hour: Some(open.0),
            open_minutes: Some(open.1),
            close_hour: Some(close.0),
            close_minutes: Some(close.1),
        }
    }

    fn read(v: Option<serde_json::Value>) -> WeeklySchedule {
        serde_json::from_value(v.unwrap_or_default()).unwrap_or_else(|e| panic!("not a schedule: {e}"))
    }

    #[test]
    fn a_weekday_round_trips_and_the_days_not_given_keep_their_hours() {
        let first = read(
            schedule(None, Some(true), Some("America/New_York".into()), Some(vec![day(1, (9, 0), (17, 0))]))
                .ok()
                .flatten(),
        );
        assert_eq!((first.timezone.as_str(), first.is_enabled, first.slots.len()), ("America/New_York", true, 1));
        let shown = hours_of(&first);
        assert_eq!(shown.len(), 7);
        assert_eq!(shown[1], day(1, (9, 0), (17, 0)));
        assert!(shown[0].closed_all_day && shown[0].open_hour.is_none());
        let second = read(schedule(Some(first), None, None, Some(vec![day(2, (8, 30), (23, 59))])).ok().flatten());
        let shown = hours_of(&second);
        assert_eq!((shown[1].open_hour, shown[2].open_minutes, shown[2].close_minutes), (Some(9), Some(30), Some(59)));
        assert_eq!(second.slots.iter().find(|s| s.day == "TUE").map(|s| s.end.as_str()), Some("24:00"));
    }

    #[test]
    fn closed_and_all_day_entries_and_faults_name_the_entry() {
        let all = ChatwootWorkingHour { open_all_day: true, ..day(6, (0, 0), (0, 0)) };
        let closed = ChatwootWorkingHour { closed_all_day: true, ..day(1, (0, 0), (0, 0)) };
        let s = read(schedule(None, None, None, Some(vec![all, closed])).ok().flatten());
        let shown = hours_of(&s);
        assert!(shown[6].open_all_day && !shown[6].closed_all_day);
        assert!(shown[1].closed_all_day);
        let field = |r: Result<Option<serde_json::Value>, ApiError>| r.err().and_then(|e| e.field().map(str::to_owned));
        assert_eq!(
            field(schedule(None, None, None, Some(vec![day(7, (9, 0), (17, 0))]))).as_deref(),
            Some("working_hours[0].day_of_week")
        );
        assert_eq!(
            field(schedule(None, None, None, Some(vec![day(1, (9, 0), (8, 0))]))).as_deref(),
            Some("working_hours[0].close_hour")
        );
        assert_eq!(
            field(schedule(None, None, None, Some(vec![day(1, (24, 0), (8, 0))]))).as_deref(),
            Some("working_hours[0].open_hour")
        );
        assert_eq!(schedule(None, None, None, None).ok(), Some(None));
    }
}
