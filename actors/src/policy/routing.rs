//! Routing rules: conditions on an incoming conversation, evaluated in priority order to pick the
//! team, and a conservative check for rules that duplicate or hide each other.
//!
//! A condition is `field operator value`, e.g. `message keywords ["refund", "money"]` or
//! `time between "22:00-06:00"`. Text comparisons are case-insensitive and values are trimmed;
//! for `tag` the positive operators hold when any tag satisfies them, and the negated operators
//! (`not_contains`, `not_equals`, `not_in`) hold when no tag satisfies the positive one. A missing
//! optional field (no contact name, no category) satisfies no positive operator and every negated
//! one. An invalid condition matches nothing, so a rule can never fire because of bad data.

use std::collections::BTreeSet;
use std::fmt;

use chrono::{NaiveTime, Timelike, Weekday};
use regex::{Regex, RegexBuilder};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::schedule::{FieldError, parse_minute_of_day, parse_weekday};

/// The most conditions one rule may have.
pub const MAX_CONDITIONS: usize = 20;
/// The longest regular expression, in characters.
pub const MAX_REGEX_CHARS: usize = 500;
/// The most items in an `in`/`not_in` list or a `keywords` list.
pub const MAX_LIST_ITEMS: usize = 200;
/// The longest text value (or list item), in characters.
pub const MAX_TEXT_CHARS: usize = 1000;
/// Compiled-size limit for a regular expression, in bytes.
const REGEX_SIZE_LIMIT: usize = 1 << 20;
const MINUTES_PER_DAY: u32 = 24 * 60;

/// How a rule combines its conditions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum MatchType {
    /// At least one condition holds.
    #[serde(rename = "ANY")]
    Any,
    /// Every condition holds.
    #[serde(rename = "ALL")]
    All,
}

/// One test on the incoming conversation, e.g. `{"field": "message", "operator": "contains",
/// "value": "refund"}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    /// `message`, `contact.name`, `contact.phone`, `contact.category`, `channel`, `inbox`, `tag`,
    /// `category`, `time` or `weekday`.
    pub field: String,
    /// `contains`, `not_contains`, `equals`, `not_equals`, `starts_with`, `regex`, `keywords`,
    /// `in`, `not_in` (text fields; `weekday` takes `equals`, `not_equals`, `in`, `not_in`) or
    /// `between` (`time` only).
    pub operator: String,
    /// A string; for `in`/`not_in` an array of strings; for `keywords` an array of strings or a
    /// comma-separated string; for `between` `"HH:MM-HH:MM"` (may wrap past midnight); for
    /// `weekday` `MON` … `SUN`.
    #[cfg_attr(feature = "openapi", schema(value_type = ConditionValue))]
    pub value: Value,
}

/// What [`Condition::value`] holds, for the API document: a string or a list of strings.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum ConditionValue {
    Text(String),
    List(Vec<String>),
}

/// A routing rule: when it matches, the conversation goes to `team_id`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Rule {
    /// The rule's id.
    pub id: String,
    /// The rule's display name, used in conflict messages.
    pub name: String,
    /// The team a matching conversation is routed to.
    pub team_id: String,
    /// Whether any or all conditions must hold.
    pub match_type: MatchType,
    /// The conditions; none means the rule matches every conversation (a catch-all).
    pub conditions: Vec<Condition>,
}

/// What routing knows about an incoming conversation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct RoutingInput {
    /// Text of the message that opened or reopened the conversation.
    pub message_text: String,
    /// The contact's display name, if known.
    pub contact_name: Option<String>,
    /// The contact's phone number, if known.
    pub contact_phone: Option<String>,
    /// The contact's category, if any.
    pub contact_category: Option<String>,
    /// The channel kind, e.g. `whatsapp`.
    pub channel: String,
    /// The inbox id.
    pub inbox_id: String,
    /// Names of the conversation's tags.
    pub tags: Vec<String>,
    /// The conversation's category, if any.
    pub category: Option<String>,
    /// Local time of day in the organization's time zone.
    pub local_time: NaiveTime,
    /// Local day of the week in the organization's time zone.
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "Mon"))]
    pub weekday: Weekday,
}

/// A problem between a candidate rule and another rule.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Conflict {
    /// The other rule's id.
    pub rule_id: String,
    /// The other rule's name.
    pub rule_name: String,
    /// How the two rules conflict.
    pub kind: ConflictKind,
    /// A sentence explaining the conflict.
    pub message: String,
}

/// How a candidate rule conflicts with another rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ConflictKind {
    /// The other rule has the same match type and conditions.
    #[serde(rename = "DUPLICATE")]
    Duplicate,
    /// An earlier rule matches everything the candidate matches: the candidate never fires.
    #[serde(rename = "SHADOWED_BY")]
    ShadowedBy,
    /// The candidate matches everything a later rule matches: that rule never fires.
    #[serde(rename = "SHADOWS")]
    Shadows,
}

/// Checks a rule's conditions; errors name the field, e.g. `conditions[1].operator`. An empty
/// list is valid (a catch-all rule).
pub fn validate_conditions(conditions: &[Condition]) -> Result<(), FieldError> {
    if conditions.len() > MAX_CONDITIONS {
        return Err(FieldError::new("conditions", format!("at most {MAX_CONDITIONS} conditions are allowed")));
    }
    for (index, condition) in conditions.iter().enumerate() {
        if let Err(error) = parse_condition(condition) {
            return Err(FieldError::new(format!("conditions[{index}].{}", error.part), error.message));
        }
    }
    Ok(())
}

/// Whether `rule` matches `input`: any or all conditions hold, per the match type; a rule without
/// conditions matches everything. Invalid conditions never hold.
pub fn matches(rule: &Rule, input: &RoutingInput) -> bool {
    if rule.conditions.is_empty() {
        return true;
    }
    let holds = |condition: &Condition| parse_condition(condition).is_ok_and(|parsed| parsed.holds(input));
    match rule.match_type {
        MatchType::Any => rule.conditions.iter().any(holds),
        MatchType::All => rule.conditions.iter().all(holds),
    }
}

/// The first rule, in the given priority order, that matches `input`.
pub fn first_match<'a>(rules: &'a [Rule], input: &RoutingInput) -> Option<&'a Rule> {
    rules.iter().find(|rule| matches(rule, input))
}

/// Conflicts of `candidate` with `existing` (the other rules, in priority order, not including
/// the candidate) when the candidate is placed at `candidate_position` among them (`None`: last).
///
/// Reports `DUPLICATE` for a rule with the same conditions (order, case and surrounding spaces
/// ignored) and match type; otherwise `SHADOWED_BY` for an earlier rule that certainly matches
/// everything the candidate matches, and `SHADOWS` for a later rule the candidate certainly
/// hides. Only certain implications are claimed; rules with invalid conditions are not compared.
/// Priorities in the messages are 1-based positions in the order after the candidate is placed.
pub fn conflicts(candidate: &Rule, existing: &[Rule], candidate_position: Option<usize>) -> Vec<Conflict> {
    let Some(new) = ParsedRule::parse(candidate) else { return Vec::new() };
    let position = candidate_position.unwrap_or(existing.len()).min(existing.len());
    let mut found = Vec::new();
    for (index, other) in existing.iter().enumerate() {
        if other.id == candidate.id {
            continue;
        }
        let Some(parsed) = ParsedRule::parse(other) else { continue };
        let is_earlier = index < position;
        let priority = if is_earlier { index + 1 } else { index + 2 };
        let kind = if new.is_duplicate_of(&parsed) {
            ConflictKind::Duplicate
        } else if is_earlier && parsed.covers(&new) {
            ConflictKind::ShadowedBy
        } else if !is_earlier && new.covers(&parsed) {
            ConflictKind::Shadows
        } else {
            continue;
        };
        found.push(Conflict {
            rule_id: other.id.clone(),
            rule_name: other.name.clone(),
            kind,
            message: conflict_message(kind, &other.name, priority),
        });
    }
    found
}

fn conflict_message(kind: ConflictKind, name: &str, priority: usize) -> String {
    match kind {
        ConflictKind::Duplicate => {
            format!("rule \"{name}\" (priority {priority}) has the same match type and conditions as this rule")
        }
        ConflictKind::ShadowedBy => format!(
            "rule \"{name}\" (priority {priority}) already matches every conversation this rule matches, \
             so this rule never fires"
        ),
        ConflictKind::Shadows => format!(
            "this rule matches every conversation that rule \"{name}\" (priority {priority}) matches, \
             so that rule would never fire"
        ),
    }
}

// ---------------------------------------------------------------------------------------------
// Parsing: a condition is checked once and turned into a normalized, typed form.

/// A condition's field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Field {
    Message,
    ContactName,
    ContactPhone,
    ContactCategory,
    Channel,
    Inbox,
    Tag,
    Category,
    Time,
    Weekday,
}

impl Field {
    fn parse(name: &str) -> Option<Self> {
        let field = match name.trim().to_ascii_lowercase().as_str() {
            "message" => Self::Message,
            "contact.name" => Self::ContactName,
            "contact.phone" => Self::ContactPhone,
            "contact.category" => Self::ContactCategory,
            "channel" => Self::Channel,
            "inbox" => Self::Inbox,
            "tag" => Self::Tag,
            "category" => Self::Category,
            "time" => Self::Time,
            "weekday" => Self::Weekday,
            _ => return None,
        };
        Some(field)
    }

    fn accepts(self, operator: Operator) -> bool {
        match self {
            Self::Time => operator == Operator::Between,
            Self::Weekday => {
                matches!(operator, Operator::Equals | Operator::NotEquals | Operator::In | Operator::NotIn)
            }
            _ => operator != Operator::Between,
        }
    }

    /// The text values the field has for `input` (none for `time`).
    fn values(self, input: &RoutingInput) -> Vec<&str> {
        fn optional(value: &Option<String>) -> Vec<&str> {
            value.as_deref().into_iter().collect()
        }
        match self {
            Self::Message => vec![input.message_text.as_str()],
            Self::ContactName => optional(&input.contact_name),
            Self::ContactPhone => optional(&input.contact_phone),
            Self::ContactCategory => optional(&input.contact_category),
            Self::Channel => vec![input.channel.as_str()],
            Self::Inbox => vec![input.inbox_id.as_str()],
            Self::Tag => input.tags.iter().map(String::as_str).collect(),
            Self::Category => optional(&input.category),
            Self::Weekday => vec![weekday_key(input.weekday)],
            Self::Time => Vec::new(),
        }
    }
}

/// A condition's operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Operator {
    Contains,
    NotContains,
    Equals,
    NotEquals,
    StartsWith,
    Regex,
    Keywords,
    In,
    NotIn,
    Between,
}

impl Operator {
    fn parse(name: &str) -> Option<Self> {
        let operator = match name.trim().to_ascii_lowercase().as_str() {
            "contains" => Self::Contains,
            "not_contains" => Self::NotContains,
            "equals" => Self::Equals,
            "not_equals" => Self::NotEquals,
            "starts_with" => Self::StartsWith,
            "regex" => Self::Regex,
            "keywords" => Self::Keywords,
            "in" => Self::In,
            "not_in" => Self::NotIn,
            "between" => Self::Between,
            _ => return None,
        };
        Some(operator)
    }

    fn is_negated(self) -> bool {
        matches!(self, Self::NotContains | Self::NotEquals | Self::NotIn)
    }
}

/// The positive test of a condition, with normalized (trimmed, lowercased) values.
#[derive(Clone, Debug, PartialEq)]
enum Test {
    /// The lowercased value contains the text.
    Contains(String),
    /// The trimmed, lowercased value starts with the text.
    StartsWith(String),
    /// The trimmed, lowercased value is one of these (`equals` is a one-item list).
    OneOf(BTreeSet<String>),
    /// One of these words or phrases occurs as a whole word, case-insensitively.
    Keywords(BTreeSet<String>),
    /// The value matches the regular expression, case-insensitively.
    Pattern(Pattern),
    /// The local time of day is in the range.
    Between(TimeRange),
}

/// A compiled case-insensitive regular expression, compared by its source text.
#[derive(Clone, Debug)]
struct Pattern {
    source: String,
    regex: Regex,
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

/// A local time-of-day range in minutes after midnight, start inclusive, end exclusive; wraps
/// past midnight when `end < start`; `0..1440` is the whole day.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct TimeRange {
    start: u32,
    end: u32,
}

impl TimeRange {
    /// Parses `"HH:MM-HH:MM"`; start and end must differ, `24:00` is allowed as the end.
    fn parse(text: &str) -> Option<Self> {
        let (start, end) = text.split_once('-')?;
        let start = parse_minute_of_day(start)?;
        let mut end = parse_minute_of_day(end)?;
        if start >= MINUTES_PER_DAY || start == end {
            return None;
        }
        if end == MINUTES_PER_DAY && start > 0 {
            end = 0; // "22:00-24:00" is the same range as "22:00-00:00"
        }
        Some(Self { start, end })
    }

    fn contains(self, minute: u32) -> bool {
        if self.start < self.end {
            self.start <= minute && minute < self.end
        } else {
            minute >= self.start || minute < self.end
        }
    }

    /// The range as non-wrapping, non-empty `[start, end)` pieces.
    fn pieces(self) -> Vec<(u32, u32)> {
        if self.start < self.end {
            vec![(self.start, self.end)]
        } else {
            [(self.start, MINUTES_PER_DAY), (0, self.end)].into_iter().filter(|(s, e)| s < e).collect()
        }
    }

    /// Whether every minute of `self` is in `other`.
    fn is_within(self, other: Self) -> bool {
        let outer = other.pieces();
        self.pieces().iter().all(|&(s, e)| outer.iter().any(|&(os, oe)| os <= s && e <= oe))
    }
}

/// A valid condition in normalized form: the positive test, possibly negated.
#[derive(Clone, Debug, PartialEq)]
struct ParsedCondition {
    field: Field,
    negated: bool,
    test: Test,
}

impl ParsedCondition {
    fn holds(&self, input: &RoutingInput) -> bool {
        let positive = match &self.test {
            Test::Between(range) => range.contains(input.local_time.hour() * 60 + input.local_time.minute()),
            test => self.field.values(input).into_iter().any(|value| test.holds_for(value)),
        };
        positive != self.negated
    }
}

impl Test {
    fn holds_for(&self, value: &str) -> bool {
        match self {
            Self::Contains(text) => value.to_lowercase().contains(text.as_str()),
            Self::StartsWith(text) => value.trim_start().to_lowercase().starts_with(text.as_str()),
            Self::OneOf(items) => items.contains(&normalize(value)),
            Self::Keywords(keywords) => {
                let value = value.to_lowercase();
                keywords.iter().any(|keyword| contains_whole_word(&value, keyword))
            }
            Self::Pattern(pattern) => pattern.regex.is_match(value),
            Self::Between(_) => false,
        }
    }
}

/// Which part of a condition is wrong.
#[derive(Clone, Copy, Debug)]
enum Part {
    Field,
    Operator,
    Value,
}

impl fmt::Display for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Field => "field",
            Self::Operator => "operator",
            Self::Value => "value",
        })
    }
}

struct ConditionError {
    part: Part,
    message: String,
}

fn value_error(message: impl Into<String>) -> ConditionError {
    ConditionError { part: Part::Value, message: message.into() }
}

fn parse_condition(condition: &Condition) -> Result<ParsedCondition, ConditionError> {
    let field = Field::parse(&condition.field).ok_or_else(|| ConditionError {
        part: Part::Field,
        message: "unknown field; use message, contact.name, contact.phone, contact.category, channel, inbox, \
                  tag, category, time or weekday"
            .to_owned(),
    })?;
    let operator = Operator::parse(&condition.operator).ok_or_else(|| ConditionError {
        part: Part::Operator,
        message: "unknown operator; use contains, not_contains, equals, not_equals, starts_with, regex, \
                  keywords, in, not_in or between"
            .to_owned(),
    })?;
    if !field.accepts(operator) {
        let message = match field {
            Field::Time => "the time field only takes the between operator",
            Field::Weekday => "the weekday field takes equals, not_equals, in or not_in",
            _ => "between is only for the time field",
        };
        return Err(ConditionError { part: Part::Operator, message: message.to_owned() });
    }
    let test = parse_test(field, operator, &condition.value)?;
    Ok(ParsedCondition { field, negated: operator.is_negated(), test })
}

fn parse_test(field: Field, operator: Operator, value: &Value) -> Result<Test, ConditionError> {
    let test = match operator {
        Operator::Contains | Operator::NotContains => Test::Contains(parse_text(value)?),
        Operator::StartsWith => Test::StartsWith(parse_text(value)?),
        Operator::Equals | Operator::NotEquals => Test::OneOf(BTreeSet::from([parse_item(field, value)?])),
        Operator::In | Operator::NotIn => Test::OneOf(parse_list(field, value)?),
        Operator::Keywords => Test::Keywords(parse_keywords(value)?),
        Operator::Regex => Test::Pattern(parse_pattern(value)?),
        Operator::Between => {
            let text = value.as_str().ok_or_else(|| value_error("value must be a string \"HH:MM-HH:MM\""))?;
            let range = TimeRange::parse(text).ok_or_else(|| {
                value_error("value must be a time range \"HH:MM-HH:MM\" with different start and end, e.g. 22:00-06:00")
            })?;
            Test::Between(range)
        }
    };
    Ok(test)
}

/// A non-empty text value, normalized.
fn parse_text(value: &Value) -> Result<String, ConditionError> {
    let text = value.as_str().ok_or_else(|| value_error("value must be a string"))?;
    normalized_text(text)
}

fn normalized_text(text: &str) -> Result<String, ConditionError> {
    let text = normalize(text);
    if text.is_empty() {
        return Err(value_error("value must not be empty"));
    }
    if text.chars().count() > MAX_TEXT_CHARS {
        return Err(value_error(format!("a text value has at most {MAX_TEXT_CHARS} characters")));
    }
    Ok(text)
}

/// One item for `equals`/`in`: normalized text, or for `weekday` its canonical key (`mon`…).
fn parse_item(field: Field, value: &Value) -> Result<String, ConditionError> {
    if field != Field::Weekday {
        return parse_text(value);
    }
    value
        .as_str()
        .and_then(parse_weekday)
        .map(|day| weekday_key(day).to_owned())
        .ok_or_else(|| value_error("value must be a day of the week: MON, TUE, WED, THU, FRI, SAT or SUN"))
}

fn parse_list(field: Field, value: &Value) -> Result<BTreeSet<String>, ConditionError> {
    let items = value.as_array().ok_or_else(|| value_error("value must be an array of strings"))?;
    if items.is_empty() || items.len() > MAX_LIST_ITEMS {
        return Err(value_error(format!("value must list 1 to {MAX_LIST_ITEMS} items")));
    }
    items.iter().map(|item| parse_item(field, item)).collect()
}

/// Keywords from an array of strings or a comma-separated string; blank entries are skipped.
fn parse_keywords(value: &Value) -> Result<BTreeSet<String>, ConditionError> {
    const SHAPE: &str = "value must be an array of strings or a comma-separated string";
    let raw: Vec<&str> = match value {
        Value::String(text) => text.split(',').collect(),
        Value::Array(items) => {
            items.iter().map(|item| item.as_str().ok_or_else(|| value_error(SHAPE))).collect::<Result<_, _>>()?
        }
        _ => return Err(value_error(SHAPE)),
    };
    let keywords: BTreeSet<String> =
        raw.into_iter().filter(|k| !k.trim().is_empty()).map(normalized_text).collect::<Result<_, _>>()?;
    if keywords.is_empty() || keywords.len() > MAX_LIST_ITEMS {
        return Err(value_error(format!("value must list 1 to {MAX_LIST_ITEMS} keywords")));
    }
    Ok(keywords)
}

fn parse_pattern(value: &Value) -> Result<Pattern, ConditionError> {
    let source = value.as_str().ok_or_else(|| value_error("value must be a regular expression string"))?.trim();
    if source.is_empty() {
        return Err(value_error("value must not be empty"));
    }
    if source.chars().count() > MAX_REGEX_CHARS {
        return Err(value_error(format!("a regular expression has at most {MAX_REGEX_CHARS} characters")));
    }
    let regex = RegexBuilder::new(source)
        .case_insensitive(true)
        .size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|error| value_error(format!("invalid regular expression: {error}")))?;
    Ok(Pattern { source: source.to_owned(), regex })
}

/// Trimmed and lowercased (Unicode-aware).
fn normalize(text: &str) -> String {
    text.trim().to_lowercase()
}

fn weekday_key(day: Weekday) -> &'static str {
    match day {
        Weekday::Mon => "mon",
        Weekday::Tue => "tue",
        Weekday::Wed => "wed",
        Weekday::Thu => "thu",
        Weekday::Fri => "fri",
        Weekday::Sat => "sat",
        Weekday::Sun => "sun",
    }
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Whether `keyword` occurs in `text` with no letter, digit or `_` directly before or after it.
/// Both are expected lowercased already.
fn contains_whole_word(text: &str, keyword: &str) -> bool {
    if keyword.is_empty() {
        return false;
    }
    let mut from = 0;
    while let Some(offset) = text.get(from..).and_then(|rest| rest.find(keyword)) {
        let at = from + offset;
        let end = at + keyword.len();
        let before = text[..at].chars().next_back();
        let after = text[end..].chars().next();
        if !before.is_some_and(is_word_char) && !after.is_some_and(is_word_char) {
            return true;
        }
        from = at + text[at..].chars().next().map_or(1, char::len_utf8);
    }
    false
}

// ---------------------------------------------------------------------------------------------
// Conflicts: duplicates and certain shadowing.

/// A rule whose conditions all parsed, with duplicate conditions removed.
struct ParsedRule {
    match_type: MatchType,
    conditions: Vec<ParsedCondition>,
}

impl ParsedRule {
    /// `None` when any condition is invalid.
    fn parse(rule: &Rule) -> Option<Self> {
        let mut conditions: Vec<ParsedCondition> = Vec::with_capacity(rule.conditions.len());
        for condition in &rule.conditions {
            let parsed = parse_condition(condition).ok()?;
            if !conditions.contains(&parsed) {
                conditions.push(parsed);
            }
        }
        Some(Self { match_type: rule.match_type, conditions })
    }

    /// Same set of conditions, and the same match type (which does not matter for one condition
    /// or none).
    fn is_duplicate_of(&self, other: &Self) -> bool {
        let same_conditions = self.conditions.len() == other.conditions.len()
            && self.conditions.iter().all(|c| other.conditions.contains(c));
        same_conditions && (self.match_type == other.match_type || self.conditions.len() <= 1)
    }

    /// Whether every conversation `shadowed` matches is certainly matched by `self`.
    fn covers(&self, shadowed: &Self) -> bool {
        let (e, c) = (&self.conditions, &shadowed.conditions);
        if e.is_empty() {
            return true;
        }
        if c.is_empty() {
            return false;
        }
        match (self.match_type, shadowed.match_type) {
            (MatchType::Any, MatchType::All) => e.iter().any(|ec| c.iter().any(|cc| implies(cc, ec))),
            (MatchType::Any, MatchType::Any) => c.iter().all(|cc| e.iter().any(|ec| implies(cc, ec))),
            (MatchType::All, MatchType::All) => e.iter().all(|ec| c.iter().any(|cc| implies(cc, ec))),
            (MatchType::All, MatchType::Any) => c.iter().all(|cc| e.iter().all(|ec| implies(cc, ec))),
        }
    }
}

/// Whether `a` holding certainly means `b` holds, for every input.
fn implies(a: &ParsedCondition, b: &ParsedCondition) -> bool {
    if a == b {
        return true;
    }
    if a.field != b.field {
        return false;
    }
    // Each positive rule below holds value by value, so for negations the contrapositive holds:
    // "no value satisfies P" implies "no value satisfies Q" when Q implies P.
    match (a.negated, b.negated) {
        (false, false) => test_implies(&a.test, &b.test),
        (true, true) => test_implies(&b.test, &a.test),
        _ => false,
    }
}

/// Whether, for any single value, test `a` holding means test `b` holds.
fn test_implies(a: &Test, b: &Test) -> bool {
    match (a, b) {
        (Test::OneOf(a), Test::OneOf(b)) => a.is_subset(b),
        (Test::OneOf(a), Test::Contains(y)) => a.iter().all(|x| x.contains(y.as_str())),
        (Test::OneOf(a), Test::StartsWith(y)) => a.iter().all(|x| x.starts_with(y.as_str())),
        (Test::Contains(x), Test::Contains(y)) => x.contains(y.as_str()),
        (Test::StartsWith(x), Test::StartsWith(y)) => x.starts_with(y.as_str()),
        (Test::StartsWith(x), Test::Contains(y)) => x.contains(y.as_str()),
        (Test::Keywords(a), Test::Keywords(b)) => a.is_subset(b),
        (Test::Between(a), Test::Between(b)) => a.is_within(*b),
        (a, b) => a == b,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn input() -> RoutingInput {
        RoutingInput {
            message_text: "Hello, I want a REFUND!".to_owned(),
            contact_name: Some("Ana García".to_owned()),
            contact_phone: Some("+4915112345678".to_owned()),
            contact_category: Some("VIP".to_owned()),
            channel: "whatsapp".to_owned(),
            inbox_id: "inbox-1".to_owned(),
            tags: vec!["billing".to_owned(), "Urgent".to_owned()],
            category: None,
            local_time: NaiveTime::from_hms_opt(10, 30, 0).unwrap(),
            weekday: Weekday::Tue,
        }
    }

    fn cond(field: &str, operator: &str, value: Value) -> Condition {
        Condition { field: field.to_owned(), operator: operator.to_owned(), value }
    }

    fn rule(id: &str, match_type: MatchType, conditions: Vec<Condition>) -> Rule {
        Rule { id: id.to_owned(), name: id.to_owned(), team_id: format!("team-{id}"), match_type, conditions }
    }

    fn holds(condition: Condition, input: &RoutingInput) -> bool {
        matches(&rule("r", MatchType::All, vec![condition]), input)
    }

    fn at(input: &RoutingInput, hour: u32, minute: u32) -> RoutingInput {
        RoutingInput { local_time: NaiveTime::from_hms_opt(hour, minute, 0).unwrap(), ..input.clone() }
    }

    fn kinds(found: &[Conflict]) -> Vec<(&str, ConflictKind)> {
        found.iter().map(|c| (c.rule_id.as_str(), c.kind)).collect()
    }

    // ---- operators ----

    #[test]
    fn contains_and_not_contains_are_case_insensitive() {
        let i = input();
        assert!(holds(cond("message", "contains", json!("refund")), &i));
        assert!(holds(cond("message", "contains", json!(" Want A ")), &i));
        assert!(!holds(cond("message", "contains", json!("cancel")), &i));
        assert!(holds(cond("message", "not_contains", json!("cancel")), &i));
        assert!(!holds(cond("message", "not_contains", json!("REFUND")), &i));
        assert!(holds(cond("contact.name", "contains", json!("GARCÍA")), &i));
    }

    #[test]
    fn equals_and_not_equals() {
        let i = input();
        assert!(holds(cond("channel", "equals", json!("WhatsApp")), &i));
        assert!(holds(cond("contact.category", "equals", json!("vip ")), &i));
        assert!(holds(cond("inbox", "equals", json!("inbox-1")), &i));
        assert!(!holds(cond("channel", "equals", json!("whats")), &i));
        assert!(holds(cond("channel", "not_equals", json!("email")), &i));
        assert!(!holds(cond("channel", "not_equals", json!("WHATSAPP")), &i));
    }

    #[test]
    fn missing_optional_field_fails_positive_and_passes_negated_operators() {
        let i = input(); // no category
        assert!(!holds(cond("category", "equals", json!("sales")), &i));
        assert!(!holds(cond("category", "contains", json!("s")), &i));
        assert!(holds(cond("category", "not_equals", json!("sales")), &i));
        assert!(holds(cond("category", "not_in", json!(["sales"])), &i));
        let with_category = RoutingInput { category: Some("Sales".to_owned()), ..i };
        assert!(holds(cond("category", "equals", json!("sales")), &with_category));
    }

    #[test]
    fn starts_with() {
        let i = input();
        assert!(holds(cond("contact.phone", "starts_with", json!("+49")), &i));
        assert!(!holds(cond("contact.phone", "starts_with", json!("+1")), &i));
        assert!(holds(cond("message", "starts_with", json!("HELLO")), &i));
        let padded = RoutingInput { message_text: "   hello there".to_owned(), ..i };
        assert!(holds(cond("message", "starts_with", json!("hello")), &padded));
    }

    #[test]
    fn regex_is_case_insensitive() {
        let i = input();
        assert!(holds(cond("message", "regex", json!(r"\bref(und|und)\b")), &i));
        assert!(holds(cond("contact.phone", "regex", json!(r"^\+49\d+$")), &i));
        assert!(!holds(cond("contact.phone", "regex", json!(r"^\+1")), &i));
        assert!(holds(cond("tag", "regex", json!("^urg")), &i));
    }

    #[test]
    fn keywords_match_whole_words_only() {
        let i = input();
        assert!(holds(cond("message", "keywords", json!(["refund"])), &i));
        assert!(holds(cond("message", "keywords", json!("money, REFUND")), &i));
        assert!(!holds(cond("message", "keywords", json!(["fund", "want a r"])), &i));
        let refunded = RoutingInput { message_text: "I was refunded already".to_owned(), ..i.clone() };
        assert!(!holds(cond("message", "keywords", json!(["refund"])), &refunded));
        let underscore = RoutingInput { message_text: "order_refund".to_owned(), ..i.clone() };
        assert!(!holds(cond("message", "keywords", json!(["refund"])), &underscore));
        let phrase = RoutingInput { message_text: "My Credit Card was charged twice".to_owned(), ..i.clone() };
        assert!(holds(cond("message", "keywords", json!(["credit card"])), &phrase));
    }

    #[test]
    fn keywords_are_unicode_aware() {
        let i = input();
        let french = RoutingInput { message_text: "Un CAFÉ, s'il vous plaît".to_owned(), ..i.clone() };
        assert!(holds(cond("message", "keywords", json!(["café"])), &french));
        let plural = RoutingInput { message_text: "deux cafés".to_owned(), ..i.clone() };
        assert!(!holds(cond("message", "keywords", json!(["café"])), &plural));
        // "é" is a letter, so "caf" is not a whole word inside "café".
        assert!(!holds(cond("message", "keywords", json!(["caf"])), &french));
        let russian = RoutingInput { message_text: "Верните ДЕНЬГИ!".to_owned(), ..i };
        assert!(holds(cond("message", "keywords", json!("деньги")), &russian));
    }

    #[test]
    fn whole_word_search_tries_every_occurrence() {
        assert!(contains_whole_word("refunded refund", "refund"));
        assert!(contains_whole_word("aaa aa", "aa"));
        assert!(!contains_whole_word("aaa", "aa"));
        assert!(!contains_whole_word("anything", ""));
    }

    #[test]
    fn in_and_not_in() {
        let i = input();
        assert!(holds(cond("channel", "in", json!(["email", "WhatsApp"])), &i));
        assert!(!holds(cond("channel", "in", json!(["email", "sms"])), &i));
        assert!(holds(cond("channel", "not_in", json!(["email", "sms"])), &i));
        assert!(!holds(cond("channel", "not_in", json!(["whatsapp"])), &i));
    }

    #[test]
    fn tag_matches_when_any_tag_satisfies() {
        let i = input();
        assert!(holds(cond("tag", "equals", json!("urgent")), &i));
        assert!(holds(cond("tag", "contains", json!("bill")), &i));
        assert!(holds(cond("tag", "in", json!(["spam", "billing"])), &i));
        // Negations hold when no tag satisfies the positive operator.
        assert!(!holds(cond("tag", "not_in", json!(["urgent"])), &i));
        assert!(!holds(cond("tag", "not_equals", json!("billing")), &i));
        assert!(holds(cond("tag", "not_in", json!(["spam"])), &i));
        let untagged = RoutingInput { tags: Vec::new(), ..i };
        assert!(!holds(cond("tag", "in", json!(["urgent"])), &untagged));
        assert!(holds(cond("tag", "not_contains", json!("urgent")), &untagged));
    }

    #[test]
    fn weekday_conditions() {
        let i = input(); // Tuesday
        assert!(holds(cond("weekday", "equals", json!("TUE")), &i));
        assert!(holds(cond("weekday", "equals", json!("tuesday")), &i));
        assert!(!holds(cond("weekday", "in", json!(["SAT", "SUN"])), &i));
        assert!(holds(cond("weekday", "not_in", json!(["sat", "Sunday"])), &i));
        assert!(holds(cond("weekday", "not_equals", json!("MON")), &i));
    }

    #[test]
    fn time_between_within_a_day() {
        let i = input();
        let office = || cond("time", "between", json!("09:00-17:00"));
        assert!(holds(office(), &at(&i, 9, 0)));
        assert!(holds(office(), &at(&i, 16, 59)));
        assert!(!holds(office(), &at(&i, 17, 0)));
        assert!(!holds(office(), &at(&i, 8, 59)));
    }

    #[test]
    fn time_between_wrapping_midnight() {
        let i = input();
        let night = || cond("time", "between", json!("22:00-06:00"));
        assert!(holds(night(), &at(&i, 22, 0)));
        assert!(holds(night(), &at(&i, 23, 59)));
        assert!(holds(night(), &at(&i, 0, 0)));
        assert!(holds(night(), &at(&i, 5, 59)));
        assert!(!holds(night(), &at(&i, 6, 0)));
        assert!(!holds(night(), &at(&i, 12, 0)));
        assert!(!holds(night(), &at(&i, 21, 59)));
        let late = || cond("time", "between", json!("22:00-24:00"));
        assert!(holds(late(), &at(&i, 23, 59)));
        assert!(!holds(late(), &at(&i, 0, 0)));
        assert!(holds(cond("time", "between", json!("00:00-24:00")), &at(&i, 23, 59)));
    }

    // ---- rules ----

    #[test]
    fn any_needs_one_condition_and_all_needs_every_condition() {
        let i = input();
        let conditions =
            vec![cond("message", "keywords", json!(["refund"])), cond("channel", "equals", json!("email"))];
        assert!(matches(&rule("any", MatchType::Any, conditions.clone()), &i));
        assert!(!matches(&rule("all", MatchType::All, conditions), &i));
        let both = vec![cond("message", "keywords", json!(["refund"])), cond("channel", "equals", json!("whatsapp"))];
        assert!(matches(&rule("all", MatchType::All, both), &i));
    }

    #[test]
    fn empty_conditions_match_everything() {
        assert!(matches(&rule("any", MatchType::Any, Vec::new()), &input()));
        assert!(matches(&rule("all", MatchType::All, Vec::new()), &input()));
    }

    #[test]
    fn invalid_conditions_match_nothing() {
        let i = input();
        let bad = cond("message", "not_contains", json!(42));
        assert!(!holds(bad.clone(), &i));
        assert!(!holds(cond("nope", "contains", json!("x")), &i));
        assert!(!holds(cond("message", "regex", json!("(")), &i));
        assert!(!holds(cond("time", "between", json!("nonsense")), &i));
        let good = cond("channel", "equals", json!("whatsapp"));
        assert!(!matches(&rule("all", MatchType::All, vec![good.clone(), bad.clone()]), &i));
        assert!(matches(&rule("any", MatchType::Any, vec![bad, good]), &i));
    }

    #[test]
    fn first_match_respects_order() {
        let i = input();
        let rules = vec![
            rule("sales", MatchType::All, vec![cond("message", "keywords", json!(["buy"]))]),
            rule("billing", MatchType::Any, vec![cond("message", "keywords", json!(["refund"]))]),
            rule("catch-all", MatchType::Any, Vec::new()),
        ];
        assert_eq!(first_match(&rules, &i).map(|r| r.id.as_str()), Some("billing"));
        let other = RoutingInput { message_text: "hi".to_owned(), ..i.clone() };
        assert_eq!(first_match(&rules, &other).map(|r| r.id.as_str()), Some("catch-all"));
        assert_eq!(first_match(&rules[..2], &other), None);
        let reordered = vec![rules[2].clone(), rules[1].clone()];
        assert_eq!(first_match(&reordered, &i).map(|r| r.id.as_str()), Some("catch-all"));
    }

    // ---- validation ----

    fn error_of(conditions: Vec<Condition>) -> FieldError {
        validate_conditions(&conditions).unwrap_err()
    }

    #[test]
    fn valid_conditions_pass_and_empty_list_is_a_catch_all() {
        assert_eq!(validate_conditions(&[]), Ok(()));
        let all = vec![
            cond("message", "contains", json!("refund")),
            cond("message", "not_contains", json!("spam")),
            cond("contact.name", "equals", json!("Ana")),
            cond("contact.phone", "starts_with", json!("+49")),
            cond("contact.category", "not_equals", json!("blocked")),
            cond("channel", "in", json!(["whatsapp", "email"])),
            cond("inbox", "not_in", json!(["inbox-9"])),
            cond("tag", "regex", json!("^vip")),
            cond("category", "keywords", json!("a, b")),
            cond("time", "between", json!("22:00-06:00")),
            cond("weekday", "in", json!(["SAT", "sunday"])),
            cond(" Message ", "CONTAINS", json!("x")),
        ];
        assert_eq!(validate_conditions(&all), Ok(()));
    }

    #[test]
    fn validation_names_unknown_field_and_operator() {
        let ok = cond("message", "contains", json!("x"));
        assert_eq!(error_of(vec![ok.clone(), cond("subject", "contains", json!("x"))]).field, "conditions[1].field");
        assert_eq!(error_of(vec![ok, cond("message", "like", json!("x"))]).field, "conditions[1].operator");
    }

    #[test]
    fn validation_refuses_operators_not_valid_for_the_field() {
        assert_eq!(error_of(vec![cond("time", "contains", json!("09"))]).field, "conditions[0].operator");
        assert_eq!(error_of(vec![cond("message", "between", json!("09:00-10:00"))]).field, "conditions[0].operator");
        assert_eq!(error_of(vec![cond("weekday", "contains", json!("MON"))]).field, "conditions[0].operator");
    }

    #[test]
    fn validation_refuses_wrong_value_types() {
        for bad in [
            cond("message", "contains", json!(42)),
            cond("message", "contains", json!("   ")),
            cond("message", "equals", json!(["a"])),
            cond("channel", "in", json!("whatsapp")),
            cond("channel", "in", json!([])),
            cond("channel", "in", json!(["ok", 1])),
            cond("message", "keywords", json!(" , ,")),
            cond("message", "keywords", json!([1, 2])),
            cond("message", "keywords", json!({"a": 1})),
            cond("time", "between", json!("9-17")),
            cond("time", "between", json!("09:00-09:00")),
            cond("time", "between", json!("24:00-06:00")),
            cond("time", "between", json!(900)),
            cond("weekday", "equals", json!("Funday")),
            cond("weekday", "in", json!(["MON", "someday"])),
            cond("message", "contains", json!("x".repeat(MAX_TEXT_CHARS + 1))),
        ] {
            let error = error_of(vec![bad.clone()]);
            assert_eq!(error.field, "conditions[0].value", "{bad:?}");
        }
    }

    #[test]
    fn validation_names_an_invalid_regex() {
        let error =
            error_of(vec![cond("message", "contains", json!("ok")), cond("message", "regex", json!("(unclosed"))]);
        assert_eq!(error.field, "conditions[1].value");
        assert!(error.message.starts_with("invalid regular expression"), "{}", error.message);
        let long = error_of(vec![cond("message", "regex", json!("a".repeat(MAX_REGEX_CHARS + 1)))]);
        assert_eq!(long.field, "conditions[0].value");
        // Within the length limit but too big once compiled.
        let huge = error_of(vec![cond("message", "regex", json!(r"\w{1000}\w{1000}\w{1000}"))]);
        assert_eq!(huge.field, "conditions[0].value");
    }

    #[test]
    fn validation_limits_the_number_of_conditions() {
        let many = (0..=MAX_CONDITIONS).map(|_| cond("message", "contains", json!("x"))).collect();
        assert_eq!(error_of(many).field, "conditions");
    }

    // ---- conflicts ----

    #[test]
    fn narrower_keywords_after_broader_any_rule_are_shadowed() {
        let earlier = rule("billing", MatchType::Any, vec![cond("message", "keywords", json!(["refund", "money"]))]);
        let candidate = rule("refunds", MatchType::Any, vec![cond("message", "keywords", json!(["refund"]))]);
        let found = conflicts(&candidate, std::slice::from_ref(&earlier), None);
        assert_eq!(kinds(&found), vec![("billing", ConflictKind::ShadowedBy)]);
        assert_eq!(
            found[0].message,
            "rule \"billing\" (priority 1) already matches every conversation this rule matches, so this rule never fires"
        );
        // Same with the earlier rule's keywords split over two ANY conditions.
        let split = rule(
            "split",
            MatchType::Any,
            vec![cond("message", "keywords", json!("refund")), cond("message", "keywords", json!("money"))],
        );
        assert_eq!(kinds(&conflicts(&candidate, &[split], None)), vec![("split", ConflictKind::ShadowedBy)]);
    }

    #[test]
    fn anything_after_a_catch_all_is_shadowed() {
        let catch_all = rule("everything", MatchType::All, Vec::new());
        let candidate = rule("vip", MatchType::All, vec![cond("contact.category", "equals", json!("vip"))]);
        let other = rule("other", MatchType::Any, vec![cond("channel", "equals", json!("email"))]);
        let found = conflicts(&candidate, &[other, catch_all], None);
        assert_eq!(kinds(&found), vec![("everything", ConflictKind::ShadowedBy)]);
        assert!(found[0].message.contains("(priority 2)"));
    }

    #[test]
    fn duplicates_are_found_regardless_of_order_case_and_list_form() {
        let existing = rule(
            "a",
            MatchType::All,
            vec![cond("message", "keywords", json!(["Refund", "money"])), cond("channel", "equals", json!("WhatsApp"))],
        );
        let candidate = rule(
            "b",
            MatchType::All,
            vec![cond("channel", "equals", json!(" whatsapp ")), cond("message", "keywords", json!("money,refund"))],
        );
        let found = conflicts(&candidate, std::slice::from_ref(&existing), None);
        assert_eq!(kinds(&found), vec![("a", ConflictKind::Duplicate)]);
        // Reported as a duplicate in either position, never also as shadowing.
        assert_eq!(kinds(&conflicts(&candidate, &[existing], Some(0))), vec![("a", ConflictKind::Duplicate)]);
    }

    #[test]
    fn same_conditions_with_other_match_type_are_not_duplicates() {
        let conditions = vec![cond("channel", "equals", json!("email")), cond("tag", "equals", json!("vip"))];
        let any = rule("any", MatchType::Any, conditions.clone());
        let all = rule("all", MatchType::All, conditions);
        // The ANY rule matches everything the ALL rule does, but not the other way round.
        assert_eq!(kinds(&conflicts(&all, std::slice::from_ref(&any), None)), vec![("any", ConflictKind::ShadowedBy)]);
        assert_eq!(kinds(&conflicts(&any, &[all], None)), Vec::new());
        // With a single condition ANY and ALL mean the same.
        let one_any = rule("one-any", MatchType::Any, vec![cond("tag", "equals", json!("vip"))]);
        let one_all = rule("one-all", MatchType::All, vec![cond("tag", "equals", json!("VIP"))]);
        assert_eq!(kinds(&conflicts(&one_all, &[one_any], None)), vec![("one-any", ConflictKind::Duplicate)]);
    }

    #[test]
    fn narrower_earlier_rule_reports_nothing() {
        let earlier = rule("refunds", MatchType::Any, vec![cond("message", "keywords", json!(["refund"]))]);
        let candidate = rule("billing", MatchType::Any, vec![cond("message", "keywords", json!(["refund", "money"]))]);
        assert!(conflicts(&candidate, &[earlier], None).is_empty());
    }

    #[test]
    fn broader_rule_placed_first_shadows_later_rules() {
        let refunds = rule("refunds", MatchType::Any, vec![cond("message", "keywords", json!(["refund"]))]);
        let email = rule("email", MatchType::Any, vec![cond("channel", "equals", json!("email"))]);
        let candidate = rule("billing", MatchType::Any, vec![cond("message", "keywords", json!(["refund", "money"]))]);
        let found = conflicts(&candidate, &[email, refunds], Some(0));
        assert_eq!(kinds(&found), vec![("refunds", ConflictKind::Shadows)]);
        assert_eq!(
            found[0].message,
            "this rule matches every conversation that rule \"refunds\" (priority 3) matches, so that rule would never fire"
        );
        // Placed after the narrower rule instead, nothing is hidden.
        let existing = [rule("refunds", MatchType::Any, vec![cond("message", "keywords", json!(["refund"]))])];
        assert!(conflicts(&candidate, &existing, Some(1)).is_empty());
        assert!(conflicts(&candidate, &existing, Some(99)).is_empty());
    }

    #[test]
    fn catch_all_candidate_first_shadows_everything_after_it() {
        let candidate = rule("everything", MatchType::Any, Vec::new());
        let a = rule("a", MatchType::All, vec![cond("channel", "equals", json!("email"))]);
        let b = rule("b", MatchType::Any, vec![cond("time", "between", json!("22:00-06:00"))]);
        let found = conflicts(&candidate, &[a, b], Some(0));
        assert_eq!(kinds(&found), vec![("a", ConflictKind::Shadows), ("b", ConflictKind::Shadows)]);
        // Two catch-alls are duplicates whatever their match types.
        let other_catch_all = rule("all", MatchType::All, Vec::new());
        assert_eq!(kinds(&conflicts(&candidate, &[other_catch_all], None)), vec![("all", ConflictKind::Duplicate)]);
    }

    #[test]
    fn condition_implications_used_for_shadowing() {
        let shadowed_by = |earlier: Condition, later: Condition| {
            let e = rule("e", MatchType::All, vec![earlier]);
            let c = rule("c", MatchType::All, vec![later]);
            kinds(&conflicts(&c, &[e], None)) == vec![("e", ConflictKind::ShadowedBy)]
        };
        // equals x implies contains / starts_with a part of x
        assert!(shadowed_by(
            cond("contact.name", "contains", json!("ana")),
            cond("contact.name", "equals", json!("Ana García"))
        ));
        assert!(shadowed_by(
            cond("contact.name", "starts_with", json!("ana")),
            cond("contact.name", "equals", json!("Ana García"))
        ));
        // contains x implies contains a part of x
        assert!(shadowed_by(cond("message", "contains", json!("fund")), cond("message", "contains", json!("refund"))));
        assert!(!shadowed_by(cond("message", "contains", json!("refund")), cond("message", "contains", json!("fund"))));
        // in A implies in B when A is a subset of B; equals is a one-item in
        assert!(shadowed_by(cond("channel", "in", json!(["email", "sms"])), cond("channel", "in", json!(["sms"]))));
        assert!(shadowed_by(cond("channel", "in", json!(["email", "sms"])), cond("channel", "equals", json!("sms"))));
        assert!(!shadowed_by(cond("channel", "in", json!(["sms"])), cond("channel", "in", json!(["email", "sms"]))));
        assert!(shadowed_by(cond("weekday", "in", json!(["SAT", "SUN"])), cond("weekday", "equals", json!("sunday"))));
        // not_in B implies not_in A when A is a subset of B
        assert!(shadowed_by(cond("tag", "not_in", json!(["spam"])), cond("tag", "not_in", json!(["spam", "junk"]))));
        assert!(!shadowed_by(cond("tag", "not_in", json!(["spam", "junk"])), cond("tag", "not_in", json!(["spam"]))));
        // between inside between, including across midnight
        assert!(shadowed_by(
            cond("time", "between", json!("20:00-08:00")),
            cond("time", "between", json!("22:00-06:00"))
        ));
        assert!(shadowed_by(
            cond("time", "between", json!("20:00-08:00")),
            cond("time", "between", json!("23:00-24:00"))
        ));
        assert!(shadowed_by(
            cond("time", "between", json!("00:00-24:00")),
            cond("time", "between", json!("22:00-06:00"))
        ));
        assert!(!shadowed_by(
            cond("time", "between", json!("22:00-06:00")),
            cond("time", "between", json!("21:00-23:00"))
        ));
        assert!(!shadowed_by(
            cond("time", "between", json!("09:00-17:00")),
            cond("time", "between", json!("22:00-06:00"))
        ));
        // different fields never imply each other; keywords are not implied by contains
        assert!(!shadowed_by(cond("category", "contains", json!("a")), cond("message", "contains", json!("a"))));
        assert!(!shadowed_by(
            cond("message", "keywords", json!(["refund"])),
            cond("message", "contains", json!("refund"))
        ));
    }

    #[test]
    fn rule_level_shadowing_by_match_type() {
        let a = || cond("channel", "equals", json!("email"));
        let b = || cond("tag", "equals", json!("vip"));
        let c = || cond("weekday", "equals", json!("MON"));
        let shadowed = |e: Rule, candidate: Rule| !conflicts(&candidate, &[e], None).is_empty();
        // earlier ALL [a] covers later ALL [a, b]; earlier ALL [a, b] does not cover later ALL [a]
        assert!(shadowed(rule("e", MatchType::All, vec![a()]), rule("c", MatchType::All, vec![a(), b()])));
        assert!(!shadowed(rule("e", MatchType::All, vec![a(), b()]), rule("c", MatchType::All, vec![a()])));
        // earlier ANY [a, c] covers later ALL [a, b] (some earlier condition is implied)
        assert!(shadowed(rule("e", MatchType::Any, vec![a(), c()]), rule("c", MatchType::All, vec![a(), b()])));
        // earlier ANY [a, b, c] covers later ANY [a, b]; earlier ANY [a] does not cover later ANY [a, b]
        assert!(shadowed(rule("e", MatchType::Any, vec![a(), b(), c()]), rule("c", MatchType::Any, vec![a(), b()])));
        assert!(!shadowed(rule("e", MatchType::Any, vec![a()]), rule("c", MatchType::Any, vec![a(), b()])));
        // earlier ALL [a] does not cover later ANY [a, b]
        assert!(!shadowed(rule("e", MatchType::All, vec![a()]), rule("c", MatchType::Any, vec![a(), b()])));
        // a non-empty earlier rule never covers a later catch-all
        assert!(!shadowed(rule("e", MatchType::Any, vec![a()]), rule("c", MatchType::Any, Vec::new())));
    }

    #[test]
    fn invalid_rules_and_the_candidate_itself_are_not_compared() {
        let candidate = rule("x", MatchType::Any, vec![cond("message", "contains", json!("refund"))]);
        let invalid = rule("bad", MatchType::Any, vec![cond("message", "regex", json!("("))]);
        let itself = candidate.clone();
        assert!(conflicts(&candidate, &[invalid, itself], None).is_empty());
        let invalid_candidate = rule("y", MatchType::Any, vec![cond("nope", "contains", json!("x"))]);
        assert!(conflicts(&invalid_candidate, &[rule("all", MatchType::Any, Vec::new())], None).is_empty());
    }

    // ---- serde ----

    #[test]
    fn json_shapes() {
        let r: Rule = serde_json::from_value(json!({
            "id": "r1", "name": "Billing", "teamId": "t1", "matchType": "ANY",
            "conditions": [{"field": "message", "operator": "keywords", "value": ["refund"]}]
        }))
        .unwrap();
        assert_eq!(r.match_type, MatchType::Any);
        assert_eq!(serde_json::to_value(MatchType::All).unwrap(), json!("ALL"));
        assert_eq!(serde_json::to_value(ConflictKind::ShadowedBy).unwrap(), json!("SHADOWED_BY"));
        let i: RoutingInput = serde_json::from_value(json!({
            "messageText": "hi", "contactName": null, "contactPhone": null, "contactCategory": null,
            "channel": "email", "inboxId": "i1", "tags": [], "category": null,
            "localTime": "23:15:00", "weekday": "Sun"
        }))
        .unwrap();
        assert_eq!(i.weekday, Weekday::Sun);
        assert!(holds(cond("time", "between", json!("22:00-06:00")), &i));
    }
}
