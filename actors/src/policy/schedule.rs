//! Weekly business-hours schedules, evaluated on the wall clock of the schedule's IANA time zone.
//!
//! A slot `MON 09:00-17:00` in `Europe/Berlin` means 09:00 to 17:00 Berlin local time on every
//! Monday, whatever the UTC offset is that week. Daylight-saving changes follow from that:
//!
//! * local times that do not exist (the spring-forward gap) are never "inside" a slot, so a slot
//!   starting at 02:00 on the spring-forward Sunday opens at the first existing instant after it
//!   (03:00 the new offset), and a slot lying wholly inside the gap never opens that day;
//! * local times that occur twice (fall back) are inside a slot both times.
//!
//! Openness only changes when the local wall clock crosses a slot boundary or midnight, or when the
//! zone's UTC offset changes; the next and previous change instants are found by checking just
//! those candidate instants (a few dozen per day), never by stepping minute by minute.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveTime, Offset, SecondsFormat, Timelike, Utc};
use chrono::{TimeZone, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// The most slots one schedule may have.
pub const MAX_SLOTS: usize = 50;
/// The most holidays one schedule may have.
pub const MAX_HOLIDAYS: usize = 365;
/// The longest holiday name, in characters.
pub const MAX_HOLIDAY_NAME_CHARS: usize = 200;
/// How far [`WeeklySchedule::status`] looks ahead for the next change and back for the start of
/// the current closed period.
pub const SEARCH_WINDOW_DAYS: i64 = 14;

const MINUTES_PER_DAY: u32 = 24 * 60;

/// A team's or organization's business hours: open during the slots, closed otherwise and on
/// holidays.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct WeeklySchedule {
    /// IANA time zone name, e.g. `Europe/Berlin`; slots and holidays are in its local time.
    pub timezone: String,
    /// When false, business hours are not enforced: the schedule counts as always open.
    #[serde(default = "yes")]
    pub is_enabled: bool,
    /// Weekly open periods; they may overlap or touch (their union is open).
    #[serde(default)]
    pub slots: Vec<Slot>,
    /// Local dates that are closed all day, whatever the slots say.
    #[serde(default)]
    pub holidays: Vec<Holiday>,
}

fn yes() -> bool {
    true
}

/// One weekly open period, `start` inclusive to `end` exclusive, on one day.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Slot {
    /// Day of the week: `MON` … `SUN` or a full name like `monday`, case-insensitive.
    pub day: String,
    /// Local opening time `HH:MM`, from `00:00` to `23:59`.
    pub start: String,
    /// Local closing time `HH:MM`, after `start`; `24:00` means the end of the day.
    pub end: String,
}

/// A local date on which the schedule is closed all day.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Holiday {
    /// The local date, e.g. `2026-12-25`.
    pub date: NaiveDate,
    /// Optional label shown in the status reason, e.g. `Christmas`.
    #[serde(default)]
    pub name: Option<String>,
}

/// Whether a schedule is open at an instant, and when that changes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ScheduleStatus {
    /// True when inside business hours (or when hours are not enforced).
    pub is_open: bool,
    /// The schedule's time zone name, as configured.
    pub timezone: String,
    /// The instant asked about, in RFC 3339 with the zone's UTC offset at that instant.
    pub local_time: String,
    /// Why it is open or closed: `within working hours`, `outside working hours`,
    /// `holiday: <name>` (the date when unnamed), `schedule disabled`, or, when hours cannot be
    /// enforced, `invalid timezone: business hours not enforced` or
    /// `instant out of range: business hours not enforced`.
    pub reason: String,
    /// The next instant at which the schedule opens or closes, looking up to 14 days ahead;
    /// `None` when it does not change in that window.
    pub next_change_at: Option<DateTime<Utc>>,
    /// When closed: the instant the current closed period began, looking up to 14 days back;
    /// `None` when open, or when it has been closed for that whole window.
    pub closed_since: Option<DateTime<Utc>>,
}

/// A validation failure naming the offending field, e.g. `slots[2].start`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct FieldError {
    /// Path of the offending field, e.g. `timezone`, `slots[0].day`, `conditions[1].operator`.
    pub field: String,
    /// A sentence saying what is wrong and what is accepted.
    pub message: String,
}

impl FieldError {
    /// A field error for `field` with `message`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into() }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for FieldError {}

impl WeeklySchedule {
    /// Checks the time zone, every slot and every holiday; the first problem found is returned.
    pub fn validate(&self) -> Result<(), FieldError> {
        if parse_timezone(&self.timezone).is_none() {
            return Err(FieldError::new("timezone", "unknown time zone; use an IANA name such as Europe/Berlin"));
        }
        if self.slots.len() > MAX_SLOTS {
            return Err(FieldError::new("slots", format!("at most {MAX_SLOTS} slots are allowed")));
        }
        for (index, slot) in self.slots.iter().enumerate() {
            validate_slot(index, slot)?;
        }
        validate_holidays(&self.holidays)
    }

    /// Whether the schedule is open at `at`. A disabled schedule, or one whose time zone is
    /// unknown, is always open (business hours are not enforced); invalid slots are ignored.
    pub fn is_open(&self, at: DateTime<Utc>) -> bool {
        match self.enforced(at) {
            Some(hours) => hours.is_open(at),
            None => true,
        }
    }

    /// The full status at `at`: open or closed, why, and the surrounding change instants.
    pub fn status(&self, at: DateTime<Utc>) -> ScheduleStatus {
        let tz = parse_timezone(&self.timezone).filter(|_| is_evaluable(at));
        let local_time = match tz {
            Some(tz) => format_local(at, tz),
            None => format_utc(at),
        };
        let not_enforced = |reason: &str| ScheduleStatus {
            is_open: true,
            timezone: self.timezone.clone(),
            local_time: local_time.clone(),
            reason: reason.to_owned(),
            next_change_at: None,
            closed_since: None,
        };
        if !self.is_enabled {
            return not_enforced("schedule disabled");
        }
        if !is_evaluable(at) {
            return not_enforced("instant out of range: business hours not enforced");
        }
        let Some(hours) = self.enforced(at) else {
            return not_enforced("invalid timezone: business hours not enforced");
        };
        let is_open = hours.is_open(at);
        let local_date = at.with_timezone(&hours.tz).date_naive();
        let reason = match hours.holidays.get(&local_date) {
            Some(name) => format!("holiday: {}", name.unwrap_or(&local_date.to_string())),
            None if is_open => "within working hours".to_owned(),
            None => "outside working hours".to_owned(),
        };
        ScheduleStatus {
            is_open,
            timezone: self.timezone.clone(),
            local_time,
            reason,
            next_change_at: hours.next_change(at),
            closed_since: if is_open { None } else { hours.closed_since(at) },
        }
    }

    /// When closed at `at`, the instant the current closed period began (searched back up to 14
    /// days); `None` when open or closed for that whole window. Use it as the key for "send the
    /// off-hours auto-reply at most once per closed period".
    pub fn closed_period_start(&self, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let hours = self.enforced(at)?;
        if hours.is_open(at) { None } else { hours.closed_since(at) }
    }

    /// The compiled hours when they are enforced at `at`: enabled, with a known time zone, and
    /// `at` not at the far ends of the representable range.
    fn enforced(&self, at: DateTime<Utc>) -> Option<CompiledHours<'_>> {
        if !self.is_enabled || !is_evaluable(at) {
            return None;
        }
        CompiledHours::new(self)
    }
}

/// Parses an IANA time zone name exactly as spelled (e.g. `America/New_York`, `UTC`).
pub fn parse_timezone(name: &str) -> Option<Tz> {
    name.parse::<Tz>().ok()
}

/// Parses a day of the week: `MON` … `SUN` or a full English name, case-insensitive, trimmed.
pub fn parse_weekday(text: &str) -> Option<Weekday> {
    let day = match text.trim().to_ascii_lowercase().as_str() {
        "mon" | "monday" => Weekday::Mon,
        "tue" | "tuesday" => Weekday::Tue,
        "wed" | "wednesday" => Weekday::Wed,
        "thu" | "thursday" => Weekday::Thu,
        "fri" | "friday" => Weekday::Fri,
        "sat" | "saturday" => Weekday::Sat,
        "sun" | "sunday" => Weekday::Sun,
        _ => return None,
    };
    Some(day)
}

/// Parses a local time of day `H:MM` or `HH:MM` into minutes after midnight; `24:00` gives 1440
/// (the end of the day). Anything else, including seconds, gives `None`.
pub fn parse_minute_of_day(text: &str) -> Option<u32> {
    let (hours, minutes) = text.trim().split_once(':')?;
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(hours) || hours.len() > 2 || !all_digits(minutes) || minutes.len() != 2 {
        return None;
    }
    let hours: u32 = hours.parse().ok()?;
    let minutes: u32 = minutes.parse().ok()?;
    match (hours, minutes) {
        (0..=23, 0..=59) => Some(hours * 60 + minutes),
        (24, 0) => Some(MINUTES_PER_DAY),
        _ => None,
    }
}

fn validate_slot(index: usize, slot: &Slot) -> Result<(), FieldError> {
    let field = |name: &str| format!("slots[{index}].{name}");
    const TIME_FORMAT: &str = "expected a local time HH:MM from 00:00 to 24:00";
    if parse_weekday(&slot.day).is_none() {
        return Err(FieldError::new(field("day"), "unknown day; use MON, TUE, WED, THU, FRI, SAT or SUN"));
    }
    let start = parse_minute_of_day(&slot.start).ok_or_else(|| FieldError::new(field("start"), TIME_FORMAT))?;
    let end = parse_minute_of_day(&slot.end).ok_or_else(|| FieldError::new(field("end"), TIME_FORMAT))?;
    if start >= MINUTES_PER_DAY {
        return Err(FieldError::new(field("start"), "start must be before 24:00"));
    }
    if start >= end {
        return Err(FieldError::new(field("end"), "end must be after start; split an overnight shift into two slots"));
    }
    Ok(())
}

fn validate_holidays(holidays: &[Holiday]) -> Result<(), FieldError> {
    if holidays.len() > MAX_HOLIDAYS {
        return Err(FieldError::new("holidays", format!("at most {MAX_HOLIDAYS} holidays are allowed")));
    }
    for (index, holiday) in holidays.iter().enumerate() {
        if holidays[..index].iter().any(|earlier| earlier.date == holiday.date) {
            return Err(FieldError::new(format!("holidays[{index}].date"), "this date is already a holiday"));
        }
        if holiday.name.as_ref().is_some_and(|name| name.chars().count() > MAX_HOLIDAY_NAME_CHARS) {
            return Err(FieldError::new(
                format!("holidays[{index}].name"),
                format!("a holiday name has at most {MAX_HOLIDAY_NAME_CHARS} characters"),
            ));
        }
    }
    Ok(())
}

/// Whether `at` is far enough from the ends of the representable date range that it, the search
/// window around it and their local times can all be computed (any instant from year -200000 to
/// 200000 or so is).
fn is_evaluable(at: DateTime<Utc>) -> bool {
    let margin = Duration::days(SEARCH_WINDOW_DAYS + 3);
    at.checked_sub_signed(margin).is_some() && at.checked_add_signed(margin).is_some()
}

fn format_local(at: DateTime<Utc>, tz: Tz) -> String {
    at.with_timezone(&tz).fixed_offset().to_rfc3339_opts(SecondsFormat::Secs, false)
}

fn format_utc(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, false)
}

/// A schedule parsed once for evaluation: the zone, per-weekday open intervals and holidays.
struct CompiledHours<'a> {
    tz: Tz,
    /// Open intervals `[start, end)` in minutes after local midnight, indexed Monday = 0.
    open: [Vec<(u32, u32)>; 7],
    /// Minutes after local midnight at which openness may change, indexed Monday = 0; always
    /// includes 0 (midnight: the day, and so the slots and holiday, change).
    boundaries: [Vec<u32>; 7],
    holidays: BTreeMap<NaiveDate, Option<&'a String>>,
}

impl<'a> CompiledHours<'a> {
    /// Compiles `schedule`, skipping invalid slots; `None` when the time zone is unknown.
    fn new(schedule: &'a WeeklySchedule) -> Option<Self> {
        let tz = parse_timezone(&schedule.timezone)?;
        let mut open: [Vec<(u32, u32)>; 7] = Default::default();
        let mut boundaries: [Vec<u32>; 7] = Default::default();
        for day in &mut boundaries {
            day.push(0);
        }
        for (weekday, start, end) in schedule.slots.iter().filter_map(parse_slot) {
            let index = weekday.num_days_from_monday() as usize;
            open[index].push((start, end));
            boundaries[index].push(start);
            if end < MINUTES_PER_DAY {
                boundaries[index].push(end);
            }
        }
        for day in &mut boundaries {
            day.sort_unstable();
            day.dedup();
        }
        let holidays = schedule.holidays.iter().map(|h| (h.date, h.name.as_ref())).collect();
        Some(Self { tz, open, boundaries, holidays })
    }

    fn is_open(&self, at: DateTime<Utc>) -> bool {
        let local = at.with_timezone(&self.tz);
        if self.holidays.contains_key(&local.date_naive()) {
            return false;
        }
        let minute = local.hour() * 60 + local.minute();
        let day = local.weekday().num_days_from_monday() as usize;
        self.open[day].iter().any(|&(start, end)| start <= minute && minute < end)
    }

    /// The first instant after `at`, within the search window, where openness differs from `at`.
    fn next_change(&self, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let current = self.is_open(at);
        let until = at.checked_add_signed(Duration::days(SEARCH_WINDOW_DAYS))?;
        self.candidates(at, until).into_iter().filter(|&c| c > at).find(|&c| self.is_open(c) != current)
    }

    /// For a closed `at`: the latest instant at or before `at`, within the search window, just
    /// before which the schedule was open.
    fn closed_since(&self, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let since = at.checked_sub_signed(Duration::days(SEARCH_WINDOW_DAYS))?;
        let just_before = |c: DateTime<Utc>| c.checked_sub_signed(Duration::seconds(1));
        self.candidates(since, at)
            .into_iter()
            .rev()
            .find(|&c| just_before(c).is_some_and(|before| self.is_open(before)))
    }

    /// Every instant in `[from, until]` at which openness may change, sorted: each local slot
    /// boundary and midnight (all instants showing that wall-clock time; none inside a DST gap),
    /// plus each change of the zone's UTC offset. All are whole seconds.
    fn candidates(&self, from: DateTime<Utc>, until: DateTime<Utc>) -> Vec<DateTime<Utc>> {
        let mut out = offset_changes(self.tz, from, until);
        let first_day = from.with_timezone(&self.tz).date_naive().pred_opt();
        let last_day = until.with_timezone(&self.tz).date_naive().succ_opt();
        if let (Some(first_day), Some(last_day)) = (first_day, last_day) {
            for date in first_day.iter_days().take_while(|d| *d <= last_day) {
                self.push_boundaries_of(date, &mut out);
            }
        }
        out.retain(|c| from <= *c && *c <= until);
        out.sort_unstable();
        out.dedup();
        out
    }

    fn push_boundaries_of(&self, date: NaiveDate, out: &mut Vec<DateTime<Utc>>) {
        let day = date.weekday().num_days_from_monday() as usize;
        for &minute in &self.boundaries[day] {
            let Some(time) = NaiveTime::from_hms_opt(minute / 60, minute % 60, 0) else { continue };
            match self.tz.from_local_datetime(&date.and_time(time)) {
                LocalResult::Single(t) => out.push(t.with_timezone(&Utc)),
                LocalResult::Ambiguous(first, second) => {
                    out.push(first.with_timezone(&Utc));
                    out.push(second.with_timezone(&Utc));
                }
                LocalResult::None => {}
            }
        }
    }
}

fn parse_slot(slot: &Slot) -> Option<(Weekday, u32, u32)> {
    let day = parse_weekday(&slot.day)?;
    let start = parse_minute_of_day(&slot.start)?;
    let end = parse_minute_of_day(&slot.end)?;
    (start < end).then_some((day, start, end))
}

/// The UTC offset of `tz` at `at`, in seconds.
fn offset_seconds(tz: Tz, at: DateTime<Utc>) -> i32 {
    tz.offset_from_utc_datetime(&at.naive_utc()).fix().local_minus_utc()
}

/// Instants in about `[from, until]` at which the UTC offset of `tz` changes: the offset is
/// sampled hourly and each change located to the second by bisection. (Real zones never change
/// offset twice within an hour.)
fn offset_changes(tz: Tz, from: DateTime<Utc>, until: DateTime<Utc>) -> Vec<DateTime<Utc>> {
    let mut changes = Vec::new();
    let Some(mut low) = from.with_nanosecond(0) else { return changes };
    let mut low_offset = offset_seconds(tz, low);
    while low < until {
        let Some(high) = low.checked_add_signed(Duration::hours(1)) else { break };
        let high_offset = offset_seconds(tz, high);
        if high_offset != low_offset {
            changes.push(bisect_offset_change(tz, low, high, high_offset));
        }
        low = high;
        low_offset = high_offset;
    }
    changes
}

/// The first instant in `(low, high]` carrying `high_offset`, given `low` does not carry it and
/// `high` does; `low` and `high` are whole seconds.
fn bisect_offset_change(tz: Tz, mut low: DateTime<Utc>, mut high: DateTime<Utc>, high_offset: i32) -> DateTime<Utc> {
    while high - low > Duration::seconds(1) {
        let middle = low + (high - low) / 2;
        if offset_seconds(tz, middle) == high_offset {
            high = middle;
        } else {
            low = middle;
        }
    }
    high
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    fn slot(day: &str, start: &str, end: &str) -> Slot {
        Slot { day: day.to_owned(), start: start.to_owned(), end: end.to_owned() }
    }

    fn schedule(timezone: &str, slots: Vec<Slot>) -> WeeklySchedule {
        WeeklySchedule { timezone: timezone.to_owned(), is_enabled: true, slots, holidays: Vec::new() }
    }

    fn weekdays_nine_to_five(timezone: &str) -> WeeklySchedule {
        let slots = ["MON", "TUE", "WED", "THU", "FRI"].iter().map(|d| slot(d, "09:00", "17:00")).collect();
        schedule(timezone, slots)
    }

    fn monday_nine_to_five(timezone: &str) -> WeeklySchedule {
        schedule(timezone, vec![slot("MON", "09:00", "17:00")])
    }

    // ---- DST: the same local hours map to UTC instants one hour apart across the change ----

    #[test]
    fn berlin_spring_forward_keeps_local_hours() {
        let s = monday_nine_to_five("Europe/Berlin");
        // Monday before (CET, UTC+1): 09:30 local = 08:30Z, 08:30 local = 07:30Z.
        assert!(s.is_open(utc("2026-03-23T08:30:00Z")));
        assert!(!s.is_open(utc("2026-03-23T07:30:00Z")));
        // Monday after (CEST, UTC+2): 09:30 local = 07:30Z, 08:30 local = 06:30Z.
        assert!(s.is_open(utc("2026-03-30T07:30:00Z")));
        assert!(!s.is_open(utc("2026-03-30T06:30:00Z")));
        // 16:30 local is open, 17:00 local is closed.
        assert!(s.is_open(utc("2026-03-30T14:30:00Z")));
        assert!(!s.is_open(utc("2026-03-30T15:00:00Z")));
    }

    #[test]
    fn berlin_fall_back_keeps_local_hours() {
        let s = monday_nine_to_five("Europe/Berlin");
        // Monday before (CEST, UTC+2): 09:30 local = 07:30Z.
        assert!(s.is_open(utc("2026-10-19T07:30:00Z")));
        assert!(!s.is_open(utc("2026-10-19T06:30:00Z")));
        // Monday after (CET, UTC+1): 09:30 local = 08:30Z; 07:30Z is now 08:30 local, closed.
        assert!(s.is_open(utc("2026-10-26T08:30:00Z")));
        assert!(!s.is_open(utc("2026-10-26T07:30:00Z")));
    }

    #[test]
    fn new_york_spring_forward_keeps_local_hours() {
        let s = monday_nine_to_five("America/New_York");
        // Monday before (EST, UTC-5): 09:30 local = 14:30Z, 08:30 local = 13:30Z.
        assert!(s.is_open(utc("2026-03-02T14:30:00Z")));
        assert!(!s.is_open(utc("2026-03-02T13:30:00Z")));
        // Monday after (EDT, UTC-4): 09:30 local = 13:30Z, 08:30 local = 12:30Z.
        assert!(s.is_open(utc("2026-03-09T13:30:00Z")));
        assert!(!s.is_open(utc("2026-03-09T12:30:00Z")));
    }

    #[test]
    fn new_york_fall_back_keeps_local_hours() {
        let s = monday_nine_to_five("America/New_York");
        // Monday before (EDT, UTC-4): 09:30 local = 13:30Z.
        assert!(s.is_open(utc("2026-10-26T13:30:00Z")));
        assert!(!s.is_open(utc("2026-10-26T12:30:00Z")));
        // Monday after (EST, UTC-5): 09:30 local = 14:30Z; 13:30Z is 08:30 local, closed.
        assert!(s.is_open(utc("2026-11-02T14:30:00Z")));
        assert!(!s.is_open(utc("2026-11-02T13:30:00Z")));
    }

    #[test]
    fn berlin_slot_starting_in_the_spring_forward_gap_opens_when_the_clock_jumps() {
        // 2026-03-29: 02:00 CET jumps to 03:00 CEST at 01:00Z.
        let s = schedule("Europe/Berlin", vec![slot("SUN", "02:00", "04:00")]);
        assert!(!s.is_open(utc("2026-03-29T00:59:59Z"))); // 01:59:59 CET
        assert!(s.is_open(utc("2026-03-29T01:00:00Z"))); // 03:00 CEST
        assert!(s.is_open(utc("2026-03-29T01:59:00Z"))); // 03:59 CEST
        assert!(!s.is_open(utc("2026-03-29T02:00:00Z"))); // 04:00 CEST
        assert_eq!(s.status(utc("2026-03-29T00:30:00Z")).next_change_at, Some(utc("2026-03-29T01:00:00Z")));
        assert_eq!(s.status(utc("2026-03-29T01:30:00Z")).next_change_at, Some(utc("2026-03-29T02:00:00Z")));
        // The Sunday before it was open 02:00-04:00 CET = 01:00Z-03:00Z.
        assert_eq!(s.closed_period_start(utc("2026-03-29T00:30:00Z")), Some(utc("2026-03-22T03:00:00Z")));
    }

    #[test]
    fn new_york_slot_starting_in_the_spring_forward_gap_opens_when_the_clock_jumps() {
        // 2026-03-08: 02:00 EST jumps to 03:00 EDT at 07:00Z.
        let s = schedule("America/New_York", vec![slot("SUN", "02:00", "04:00")]);
        assert!(!s.is_open(utc("2026-03-08T06:59:59Z"))); // 01:59:59 EST
        assert!(s.is_open(utc("2026-03-08T07:00:00Z"))); // 03:00 EDT
        assert!(!s.is_open(utc("2026-03-08T08:00:00Z"))); // 04:00 EDT
        assert_eq!(s.status(utc("2026-03-08T06:00:00Z")).next_change_at, Some(utc("2026-03-08T07:00:00Z")));
        assert_eq!(s.status(utc("2026-03-08T07:10:00Z")).next_change_at, Some(utc("2026-03-08T08:00:00Z")));
    }

    #[test]
    fn slot_wholly_inside_the_gap_never_opens_that_day() {
        let s = schedule("Europe/Berlin", vec![slot("SUN", "02:15", "02:45")]);
        for minute in 0..=120 {
            let at = utc("2026-03-29T00:00:00Z") + Duration::minutes(minute);
            assert!(!s.is_open(at), "open at {at}");
        }
        // Next opening: the following Sunday, 02:15 CEST = 00:15Z.
        assert_eq!(s.status(utc("2026-03-29T00:00:00Z")).next_change_at, Some(utc("2026-04-05T00:15:00Z")));
    }

    #[test]
    fn fall_back_repeated_hour_is_open_both_times() {
        // 2026-11-01 in New York: 01:00-01:59 EDT (05:00Z-05:59Z) then 01:00-01:59 EST (06:00Z-06:59Z).
        let s = schedule("America/New_York", vec![slot("SUN", "01:00", "01:30")]);
        assert!(s.is_open(utc("2026-11-01T05:10:00Z")));
        assert!(!s.is_open(utc("2026-11-01T05:40:00Z")));
        assert!(s.is_open(utc("2026-11-01T06:10:00Z")));
        assert!(!s.is_open(utc("2026-11-01T06:40:00Z")));
        assert_eq!(s.status(utc("2026-11-01T05:10:00Z")).next_change_at, Some(utc("2026-11-01T05:30:00Z")));
        assert_eq!(s.status(utc("2026-11-01T05:40:00Z")).next_change_at, Some(utc("2026-11-01T06:00:00Z")));
        assert_eq!(s.closed_period_start(utc("2026-11-01T05:45:00Z")), Some(utc("2026-11-01T05:30:00Z")));
        assert_eq!(s.closed_period_start(utc("2026-11-01T07:00:00Z")), Some(utc("2026-11-01T06:30:00Z")));
    }

    #[test]
    fn berlin_fall_back_slot_spanning_the_repeated_hour_lasts_an_hour_longer() {
        // 2026-10-25: 03:00 CEST falls back to 02:00 CET at 01:00Z. 01:00-04:00 local is
        // 23:00Z (Saturday) to 03:00Z: four real hours.
        let s = schedule("Europe/Berlin", vec![slot("SUN", "01:00", "04:00")]);
        let status = s.status(utc("2026-10-24T23:30:00Z"));
        assert!(status.is_open);
        assert_eq!(status.next_change_at, Some(utc("2026-10-25T03:00:00Z")));
        assert!(s.is_open(utc("2026-10-25T01:30:00Z"))); // second 02:30
    }

    // ---- weekend and DST: next change and start of the closed period ----

    #[test]
    fn weekend_across_berlin_spring_forward() {
        let s = weekdays_nine_to_five("Europe/Berlin");
        let status = s.status(utc("2026-03-28T12:00:00Z")); // Saturday
        assert!(!status.is_open);
        assert_eq!(status.reason, "outside working hours");
        // Friday 17:00 CET = 16:00Z; Monday 09:00 CEST = 07:00Z.
        assert_eq!(status.closed_since, Some(utc("2026-03-27T16:00:00Z")));
        assert_eq!(status.next_change_at, Some(utc("2026-03-30T07:00:00Z")));
        assert_eq!(s.closed_period_start(utc("2026-03-28T12:00:00Z")), status.closed_since);
    }

    #[test]
    fn weekend_across_new_york_fall_back() {
        let s = weekdays_nine_to_five("America/New_York");
        let status = s.status(utc("2026-10-31T16:00:00Z")); // Saturday
        assert!(!status.is_open);
        // Friday 17:00 EDT = 21:00Z; Monday 09:00 EST = 14:00Z.
        assert_eq!(status.closed_since, Some(utc("2026-10-30T21:00:00Z")));
        assert_eq!(status.next_change_at, Some(utc("2026-11-02T14:00:00Z")));
    }

    #[test]
    fn open_status_has_next_close_and_no_closed_since() {
        let s = weekdays_nine_to_five("Europe/Berlin");
        let status = s.status(utc("2026-03-27T10:00:00Z")); // Friday 11:00 CET
        assert!(status.is_open);
        assert_eq!(status.reason, "within working hours");
        assert_eq!(status.local_time, "2026-03-27T11:00:00+01:00");
        assert_eq!(status.timezone, "Europe/Berlin");
        assert_eq!(status.next_change_at, Some(utc("2026-03-27T16:00:00Z")));
        assert_eq!(status.closed_since, None);
        assert_eq!(s.closed_period_start(utc("2026-03-27T10:00:00Z")), None);
    }

    #[test]
    fn closed_since_at_the_exact_closing_instant() {
        let s = weekdays_nine_to_five("Europe/Berlin");
        let closing = utc("2026-03-27T16:00:00Z");
        assert!(!s.is_open(closing));
        assert_eq!(s.closed_period_start(closing), Some(closing));
        assert_eq!(s.status(utc("2026-03-27T15:59:59Z")).next_change_at, Some(closing));
    }

    #[test]
    fn early_morning_closed_period_began_the_evening_before() {
        let s = weekdays_nine_to_five("America/New_York");
        // Tuesday 2026-03-10 07:00 EDT = 11:00Z; it closed Monday 17:00 EDT = 21:00Z.
        assert_eq!(s.closed_period_start(utc("2026-03-10T11:00:00Z")), Some(utc("2026-03-09T21:00:00Z")));
    }

    // ---- whole days ----

    #[test]
    fn slot_from_midnight_to_24_00_covers_the_whole_day() {
        let s = schedule("Europe/Berlin", vec![slot("SAT", "00:00", "24:00")]);
        assert!(s.validate().is_ok());
        // Saturday 2026-04-04 00:00 CEST = Friday 22:00Z; Sunday 00:00 CEST = Saturday 22:00Z.
        assert!(!s.is_open(utc("2026-04-03T21:59:59Z")));
        assert!(s.is_open(utc("2026-04-03T22:00:00Z")));
        assert!(s.is_open(utc("2026-04-04T21:59:59Z")));
        assert!(!s.is_open(utc("2026-04-04T22:00:00Z")));
        let status = s.status(utc("2026-04-04T10:00:00Z"));
        assert_eq!(status.next_change_at, Some(utc("2026-04-04T22:00:00Z")));
        assert_eq!(status.closed_since, None);
    }

    #[test]
    fn adjacent_whole_days_do_not_change_at_midnight() {
        let s = schedule("Europe/Berlin", vec![slot("SAT", "00:00", "24:00"), slot("SUN", "00:00", "24:00")]);
        // Open from Saturday 00:00 to Monday 00:00 CEST (Sunday 22:00Z).
        assert_eq!(s.status(utc("2026-04-04T10:00:00Z")).next_change_at, Some(utc("2026-04-05T22:00:00Z")));
    }

    #[test]
    fn always_open_and_never_open_have_no_changes() {
        let days = ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"];
        let always = schedule("Europe/Berlin", days.iter().map(|d| slot(d, "00:00", "24:00")).collect());
        let status = always.status(utc("2026-03-29T01:00:00Z"));
        assert!(status.is_open);
        assert_eq!((status.next_change_at, status.closed_since), (None, None));

        let never = schedule("Europe/Berlin", Vec::new());
        let status = never.status(utc("2026-03-29T01:00:00Z"));
        assert!(!status.is_open);
        assert_eq!((status.next_change_at, status.closed_since), (None, None));
    }

    // ---- holidays, disabled, invalid ----

    #[test]
    fn holiday_closes_the_whole_day() {
        let mut s = weekdays_nine_to_five("Europe/Berlin");
        let christmas = NaiveDate::from_ymd_opt(2026, 12, 25).unwrap(); // a Friday
        s.holidays.push(Holiday { date: christmas, name: Some("Christmas".to_owned()) });
        let status = s.status(utc("2026-12-25T10:00:00Z")); // 11:00 CET
        assert!(!status.is_open);
        assert_eq!(status.reason, "holiday: Christmas");
        // Closed since Thursday 17:00 CET, open again Monday 09:00 CET.
        assert_eq!(status.closed_since, Some(utc("2026-12-24T16:00:00Z")));
        assert_eq!(status.next_change_at, Some(utc("2026-12-28T08:00:00Z")));
        assert!(s.is_open(utc("2026-12-24T10:00:00Z")));
    }

    #[test]
    fn holiday_uses_the_local_date_and_unnamed_holiday_shows_the_date() {
        let days = ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"];
        let mut s = schedule("America/New_York", days.iter().map(|d| slot(d, "00:00", "24:00")).collect());
        s.holidays.push(Holiday { date: NaiveDate::from_ymd_opt(2026, 12, 25).unwrap(), name: None });
        // 03:00Z on the 25th is still the 24th (22:00 EST) in New York.
        assert!(s.is_open(utc("2026-12-25T03:00:00Z")));
        let status = s.status(utc("2026-12-25T06:00:00Z")); // 01:00 EST on the 25th
        assert!(!status.is_open);
        assert_eq!(status.reason, "holiday: 2026-12-25");
        assert_eq!(status.closed_since, Some(utc("2026-12-25T05:00:00Z")));
        assert_eq!(status.next_change_at, Some(utc("2026-12-26T05:00:00Z")));
    }

    #[test]
    fn disabled_schedule_is_always_open() {
        let mut s = schedule("Europe/Berlin", Vec::new());
        s.is_enabled = false;
        let at = utc("2026-03-28T12:00:00Z");
        assert!(s.is_open(at));
        let status = s.status(at);
        assert!(status.is_open);
        assert_eq!(status.reason, "schedule disabled");
        assert_eq!(status.local_time, "2026-03-28T13:00:00+01:00");
        assert_eq!((status.next_change_at, status.closed_since), (None, None));
        assert_eq!(s.closed_period_start(at), None);
    }

    #[test]
    fn unknown_timezone_is_open_and_does_not_panic() {
        let s = schedule("Mars/Olympus_Mons", vec![slot("MON", "09:00", "17:00")]);
        let at = utc("2026-03-28T12:00:00Z");
        assert!(s.is_open(at));
        let status = s.status(at);
        assert!(status.is_open);
        assert_eq!(status.reason, "invalid timezone: business hours not enforced");
        assert_eq!(status.local_time, "2026-03-28T12:00:00+00:00");
        assert_eq!(s.closed_period_start(at), None);
    }

    #[test]
    fn invalid_slots_are_ignored_when_evaluating() {
        let s = schedule(
            "Europe/Berlin",
            vec![slot("FUNDAY", "09:00", "17:00"), slot("MON", "22:00", "06:00"), slot("MON", "9am", "5pm")],
        );
        assert!(!s.is_open(utc("2026-03-30T08:00:00Z")));
        assert!(!s.is_open(utc("2026-03-30T21:00:00Z")));
    }

    #[test]
    fn extreme_instants_do_not_panic() {
        let s = weekdays_nine_to_five("Europe/Berlin");
        let mut disabled = s.clone();
        disabled.is_enabled = false;
        let margin = Duration::days(SEARCH_WINDOW_DAYS + 3);
        let (min, max) = (DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC);
        for at in [min, max, min + margin, max - margin, min + Duration::days(1), max - Duration::days(1)] {
            for schedule in [&s, &disabled] {
                let status = schedule.status(at);
                assert_eq!(status.is_open, schedule.is_open(at));
                let _ = schedule.closed_period_start(at);
            }
        }
        assert_eq!(s.status(max).reason, "instant out of range: business hours not enforced");
    }

    // ---- validation ----

    fn validation_error(s: &WeeklySchedule) -> FieldError {
        s.validate().unwrap_err()
    }

    #[test]
    fn valid_schedule_passes_and_days_are_case_insensitive() {
        let s = schedule(
            "America/New_York",
            vec![slot("mon", "9:00", "17:30"), slot("Tuesday", "00:00", "24:00"), slot(" SUN ", "08:00", "08:01")],
        );
        assert_eq!(s.validate(), Ok(()));
        assert!(schedule("UTC", Vec::new()).validate().is_ok());
    }

    #[test]
    fn validation_names_the_timezone() {
        let error = validation_error(&schedule("Europe/Atlantis", Vec::new()));
        assert_eq!(error.field, "timezone");
        assert_eq!(validation_error(&schedule("", Vec::new())).field, "timezone");
    }

    #[test]
    fn validation_names_the_bad_day() {
        let s = schedule("Europe/Berlin", vec![slot("MON", "09:00", "17:00"), slot("MOON", "09:00", "17:00")]);
        assert_eq!(validation_error(&s).field, "slots[1].day");
    }

    #[test]
    fn validation_names_bad_times() {
        for (start, end, field) in [
            ("9am", "17:00", "slots[0].start"),
            ("25:00", "26:00", "slots[0].start"),
            ("09:60", "17:00", "slots[0].start"),
            ("09:00:00", "17:00", "slots[0].start"),
            ("-1:00", "17:00", "slots[0].start"),
            ("24:00", "24:00", "slots[0].start"),
            ("09:00", "24:01", "slots[0].end"),
            ("09:00", "", "slots[0].end"),
        ] {
            let s = schedule("Europe/Berlin", vec![slot("MON", start, end)]);
            assert_eq!(validation_error(&s).field, field, "{start}-{end}");
        }
    }

    #[test]
    fn validation_refuses_overnight_and_empty_slots() {
        for (start, end) in [("22:00", "06:00"), ("09:00", "09:00")] {
            let s = schedule("Europe/Berlin", vec![slot("FRI", "09:00", "17:00"), slot("FRI", start, end)]);
            let error = validation_error(&s);
            assert_eq!(error.field, "slots[1].end");
            assert!(error.message.contains("split an overnight shift into two slots"), "{}", error.message);
        }
    }

    #[test]
    fn validation_limits_counts_and_duplicate_holidays() {
        let too_many = schedule("Europe/Berlin", (0..=MAX_SLOTS).map(|_| slot("MON", "09:00", "10:00")).collect());
        assert_eq!(validation_error(&too_many).field, "slots");

        let mut s = schedule("Europe/Berlin", Vec::new());
        let first = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        s.holidays = first.iter_days().take(MAX_HOLIDAYS + 1).map(|date| Holiday { date, name: None }).collect();
        assert_eq!(validation_error(&s).field, "holidays");

        s.holidays = vec![Holiday { date: first, name: None }, Holiday { date: first, name: Some("again".to_owned()) }];
        assert_eq!(validation_error(&s).field, "holidays[1].date");

        s.holidays = vec![Holiday { date: first, name: Some("x".repeat(MAX_HOLIDAY_NAME_CHARS + 1)) }];
        assert_eq!(validation_error(&s).field, "holidays[0].name");
    }

    #[test]
    fn field_error_displays_field_and_message() {
        assert_eq!(FieldError::new("slots[0].day", "unknown day").to_string(), "slots[0].day: unknown day");
    }

    // ---- serde ----

    #[test]
    fn json_is_camel_case_with_defaults() {
        let s: WeeklySchedule = serde_json::from_str(
            r#"{"timezone":"Europe/Berlin","slots":[{"day":"monday","start":"09:00","end":"17:00"}],
                "holidays":[{"date":"2026-12-25"}]}"#,
        )
        .unwrap();
        assert!(s.is_enabled);
        assert_eq!(s.holidays[0].name, None);
        assert!(s.validate().is_ok());

        let minimal: WeeklySchedule = serde_json::from_str(r#"{"timezone":"UTC","isEnabled":false}"#).unwrap();
        assert!(!minimal.is_enabled && minimal.slots.is_empty() && minimal.holidays.is_empty());

        let status = serde_json::to_value(s.status(utc("2026-03-30T07:30:00Z"))).unwrap();
        assert_eq!(status["isOpen"], true);
        assert_eq!(status["localTime"], "2026-03-30T09:30:00+02:00");
        assert_eq!(status["nextChangeAt"], "2026-03-30T15:00:00Z");
        assert!(status["closedSince"].is_null());
    }

    #[test]
    fn parse_helpers() {
        assert_eq!(parse_minute_of_day("00:00"), Some(0));
        assert_eq!(parse_minute_of_day("7:05"), Some(425));
        assert_eq!(parse_minute_of_day("23:59"), Some(1439));
        assert_eq!(parse_minute_of_day("24:00"), Some(1440));
        for bad in ["", ":", "24:30", "1:5", "123:00", "+1:00", "09:0a", "٠٩:٠٠"] {
            assert_eq!(parse_minute_of_day(bad), None, "{bad}");
        }
        assert_eq!(parse_weekday("SUN"), Some(Weekday::Sun));
        assert_eq!(parse_weekday("Wednesday"), Some(Weekday::Wed));
        assert_eq!(parse_weekday("Wed."), None);
    }
}
