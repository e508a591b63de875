//! Shop click exports read into anonymous sessions: a generic header-ed CSV/TSV export with
//! columns chosen by name ([`read_events`]) and the raw files of the public session data sets
//! ([`read_raw`]: Diginetica, YooChoose, RetailRocket).
//!
//! A session is a list of clicks (external item ids) in time order. A log either names the
//! session of each click (a session id column) or only its visitor: then a visitor's clicks
//! are cut into sessions where more than [`EventOptions::session_gap_seconds`] pass between
//! two of them. Times are Unix seconds, Unix milliseconds or ISO 8601, detected from the first
//! data row and required to be the same on every row. Errors name `file:line`; files are read
//! through the same bounded reader as the other logs (at most
//! [`MAX_LOG_BYTES`](super::MAX_LOG_BYTES), UTF-8 or Latin-1).

use std::collections::HashMap;
use std::path::Path;

use super::DataError;
use super::formats::{malformed, numbered_lines, read_text};
use crate::catalogue::excerpt;

/// Default inactivity gap that ends a visitor's session: 30 minutes.
pub const DEFAULT_SESSION_GAP_SECONDS: f64 = 30.0 * 60.0;

/// Timestamps above this are read as milliseconds (1e11 s is the year 5138; 1e11 ms is 1973).
const MILLIS_ABOVE: f64 = 1e11;

/// One anonymous session: its clicks (external item ids) in time order.
#[derive(Clone, Debug, PartialEq)]
pub struct Session {
    /// The session id (for a visitor cut into sessions: `visitor#n`, n counting from 1).
    pub id: String,
    /// External item ids, oldest click first.
    pub items: Vec<String>,
    /// Unix seconds of its first click; `None` when the log has no times (file order is time
    /// order). The raw Diginetica reader gives the session's `eventdate` instead.
    pub time: Option<f64>,
}

/// A session log as read, sessions ordered by time (ties: file order), and what the reader
/// detected, for printing.
#[derive(Clone, Debug, Default)]
pub struct SessionLog {
    /// The sessions, ordered by [`Session::time`] (stable: ties, and logs without times, keep
    /// the order in which each session first appears in the file).
    pub sessions: Vec<Session>,
    /// What the reader chose or detected (columns, delimiter, time format, filters).
    pub notes: Vec<String>,
}

impl SessionLog {
    /// Total number of clicks.
    pub fn clicks(&self) -> usize {
        self.sessions.iter().map(|s| s.items.len()).sum()
    }

    /// Number of distinct items.
    pub fn items(&self) -> usize {
        let mut seen = std::collections::HashSet::new();
        self.sessions
            .iter()
            .flat_map(|s| &s.items)
            .filter(|i| seen.insert(i.as_str()))
            .count()
    }
}

/// How a time column is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeFormat {
    /// Seconds since 1970-01-01 UTC (values up to 1e11).
    UnixSeconds,
    /// Milliseconds since 1970-01-01 UTC (values above 1e11).
    UnixMillis,
    /// `2014-04-06T20:21:58.444Z`, `2016-05-09`, `2016-05-09 10:00:00+02:00`: a date, an
    /// optional time (`T` or a space before it, seconds and fraction optional) and an
    /// optional zone (`Z`, `±HH:MM`, `±HHMM`, `±HH`); no zone means UTC.
    Iso8601,
}

impl TimeFormat {
    /// The format of `value`, or `None` when it is none of them.
    pub fn detect(value: &str) -> Option<Self> {
        match number(value) {
            Some(v) if v > MILLIS_ABOVE => Some(Self::UnixMillis),
            Some(_) => Some(Self::UnixSeconds),
            None => parse_iso8601(value).map(|_| Self::Iso8601),
        }
    }

    /// `value` as Unix seconds, or why it is not in this format.
    pub fn parse(self, value: &str) -> Result<f64, String> {
        let quoted = excerpt(value);
        match self {
            Self::UnixSeconds => match number(value) {
                Some(v) if v <= MILLIS_ABOVE => Ok(v),
                Some(_) => Err(format!(
                    "time {quoted} looks like milliseconds, but the column holds Unix seconds"
                )),
                None => Err(format!("time {quoted} is not Unix seconds")),
            },
            Self::UnixMillis => match number(value) {
                Some(v) if v > MILLIS_ABOVE => Ok(v / 1000.0),
                Some(_) => Err(format!(
                    "time {quoted} looks like seconds, but the column holds Unix milliseconds"
                )),
                None => Err(format!("time {quoted} is not Unix milliseconds")),
            },
            Self::Iso8601 => parse_iso8601(value)
                .ok_or_else(|| format!("time {quoted} is not an ISO 8601 date or time")),
        }
    }

    /// The name used in notes.
    pub fn describe(self) -> &'static str {
        match self {
            Self::UnixSeconds => "Unix seconds",
            Self::UnixMillis => "Unix milliseconds",
            Self::Iso8601 => "ISO 8601",
        }
    }
}

/// A finite decimal number (no `inf`, `nan`).
fn number(value: &str) -> Option<f64> {
    let value = value.trim();
    if !value
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+' | b'e' | b'E'))
    {
        return None;
    }
    value.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// Days from 1970-01-01 to the given proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Parses an ISO 8601 date or date-time (see [`TimeFormat::Iso8601`]) into Unix seconds.
pub fn parse_iso8601(value: &str) -> Option<f64> {
    let s = value.trim().as_bytes();
    let digits = |range: std::ops::Range<usize>| digits_of(s.get(range)?);
    let (year, month, day) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
    if s[4] != b'-' || s[7] != b'-' || !(1..=12).contains(&month) {
        return None;
    }
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let month_days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if day < 1 || day > month_days[month as usize - 1] {
        return None;
    }
    let mut seconds = days_from_civil(year, month, day) as f64 * 86_400.0;
    let mut rest = &s[10..];
    if let [b'T' | b't' | b' ', time @ ..] = rest {
        let hour = digits_of(time.get(0..2)?)?;
        let minute = match time.get(2) {
            Some(b':') => digits_of(time.get(3..5)?)?,
            _ => return None,
        };
        rest = &time[5..];
        let mut second = 0.0;
        if let [b':', tail @ ..] = rest {
            let whole = digits_of(tail.get(0..2)?)?;
            let mut end = 2;
            let mut fraction = 0.0;
            if tail.get(2) == Some(&b'.') || tail.get(2) == Some(&b',') {
                let count = tail[3..].iter().take_while(|b| b.is_ascii_digit()).count();
                if count == 0 {
                    return None;
                }
                let text = std::str::from_utf8(&tail[3..3 + count]).ok()?;
                fraction = format!("0.{text}").parse::<f64>().ok()?;
                end = 3 + count;
            }
            // 60: a leap second, as ISO 8601 allows.
            if whole > 60 {
                return None;
            }
            second = whole as f64 + fraction;
            rest = &tail[end..];
        }
        if hour > 24 || minute > 59 || (hour == 24 && (minute > 0 || second > 0.0)) {
            return None;
        }
        seconds += (hour * 3600 + minute * 60) as f64 + second;
    }
    let offset = match rest {
        [] | [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), zone @ ..] => {
            let (hours, minutes) = match zone {
                [h1, h2] => (digits_of(&[*h1, *h2])?, 0),
                [h1, h2, m1, m2] => (digits_of(&[*h1, *h2])?, digits_of(&[*m1, *m2])?),
                [h1, h2, b':', m1, m2] => (digits_of(&[*h1, *h2])?, digits_of(&[*m1, *m2])?),
                _ => return None,
            };
            if hours > 23 || minutes > 59 {
                return None;
            }
            let offset = hours * 3600 + minutes * 60;
            if *sign == b'+' { offset } else { -offset }
        }
        _ => return None,
    };
    Some(seconds - offset as f64)
}

fn digits_of(part: &[u8]) -> Option<i64> {
    part.iter()
        .all(u8::is_ascii_digit)
        .then(|| part.iter().fold(0, |n, &d| n * 10 + i64::from(d - b'0')))
}

/// Unix seconds written as ISO 8601 (UTC, to the second), for notes.
pub fn format_time(seconds: f64) -> String {
    let total = seconds.floor() as i64;
    let (days, secs) = (total.div_euclid(86_400), total.rem_euclid(86_400));
    // Inverse of `days_from_civil` (H. Hinnant's civil_from_days).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// How to read a generic click export ([`read_events`]). Column names are matched exactly,
/// else ignoring ASCII case; a column left `None` is guessed from common names.
#[derive(Clone, Debug)]
pub struct EventOptions {
    /// The session id column, or
    pub session_column: Option<String>,
    /// a visitor id column, whose clicks are cut into sessions at an inactivity gap.
    pub visitor_column: Option<String>,
    /// The item id column.
    pub item_column: Option<String>,
    /// The time column (without one, file order is time order).
    pub time_column: Option<String>,
    /// The event type column.
    pub event_column: Option<String>,
    /// Event types kept (compared ignoring ASCII case); `None`: every row (RetailRocket:
    /// `view`).
    pub keep_events: Option<Vec<String>>,
    /// A visitor's session ends where more than this many seconds pass between two clicks.
    pub session_gap_seconds: f64,
}

impl EventOptions {
    /// True when a column or the events to keep are named: that says the file is a click
    /// export.
    pub fn names_columns(&self) -> bool {
        let columns = [
            &self.session_column,
            &self.visitor_column,
            &self.item_column,
            &self.time_column,
            &self.event_column,
        ];
        columns.iter().any(|c| c.is_some()) || self.keep_events.is_some()
    }
}

impl Default for EventOptions {
    fn default() -> Self {
        Self {
            session_column: None,
            visitor_column: None,
            item_column: None,
            time_column: None,
            event_column: None,
            keep_events: None,
            session_gap_seconds: DEFAULT_SESSION_GAP_SECONDS,
        }
    }
}

/// The raw files of the public session data sets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RawFormat {
    /// CIKM Cup 2016 `train-item-views.csv`: `session_id;user_id;item_id;timeframe;eventdate`.
    Diginetica,
    /// RecSys Challenge 2015 `yoochoose-clicks.dat`: `session,timestamp,item,category`, no
    /// header (a `session_id,timestamp,item_id,category` header, as SR-GNN's README has one
    /// add, is skipped).
    Yoochoose,
    /// RetailRocket `events.csv`: `timestamp,visitorid,event,itemid,transactionid`.
    Retailrocket,
}

/// Common names of each column, tried in order.
const SESSION_NAMES: &[&str] = &["session_id", "sessionId", "session"];
const VISITOR_NAMES: &[&str] = &[
    "visitorid",
    "visitor_id",
    "visitor",
    "user_id",
    "userId",
    "user",
];
const ITEM_NAMES: &[&str] = &["item_id", "itemid", "itemId", "product_id", "item", "sku"];
const TIME_NAMES: &[&str] = &["timestamp", "time", "ts", "eventdate", "date"];
const EVENT_NAMES: &[&str] = &["event", "event_type", "type"];

/// Reads a header-ed CSV or TSV click export (delimiter from the header line: a tab, else
/// `;`, else `,`; quoted fields allowed) into sessions, with the columns `options` names or,
/// where it names none, guessed from common names. Clicks in a session are sorted by time
/// (stable), sessions by the time of their first click.
pub fn read_events(path: &Path, options: &EventOptions) -> Result<SessionLog, DataError> {
    let text = read_log(path)?;
    let Some((_, header_line)) = numbered_lines(&text).next() else {
        return Err(malformed(
            path,
            1,
            "the file is empty: expected a header line naming the columns",
        ));
    };
    let delimiter = [b'\t', b';', b',']
        .into_iter()
        .find(|&d| header_line.as_bytes().contains(&d))
        .unwrap_or(b',');
    let mut records = Records::new(path, &text, delimiter);
    let (header_number, header) = records
        .next()
        .transpose()?
        .ok_or_else(|| malformed(path, 1, "the file is empty"))?;
    let names: Vec<String> = header.iter().map(str::to_string).collect();
    let layout = Layout::choose(path, header_number, &names, options)?;
    let mut notes = vec![
        format!("delimiter: {}", delimiter_name(delimiter)),
        layout.describe(&names),
    ];
    let sessions = layout.read(path, records, options, None, &mut notes)?;
    Ok(SessionLog { sessions, notes })
}

/// Reads one of the public data sets' raw click files (see [`RawFormat`]). Column options
/// are ignored (the format fixes them); `keep_events` (default `view`) and
/// `session_gap_seconds` apply to RetailRocket.
pub fn read_raw(
    path: &Path,
    format: RawFormat,
    options: &EventOptions,
) -> Result<SessionLog, DataError> {
    match format {
        RawFormat::Diginetica => read_diginetica(path),
        RawFormat::Yoochoose => read_yoochoose(path),
        RawFormat::Retailrocket => read_retailrocket(path, options),
    }
}

/// The file's text (see [`read_text`]) with each lone `\r` line end made a `\n`, in place:
/// the csv crate ends a comment line at `\n` only. Byte offsets and line numbers stay as
/// they were.
fn read_log(path: &Path) -> Result<String, DataError> {
    let text = read_text(path)?;
    if !text.contains('\r') {
        return Ok(text);
    }
    let mut bytes = text.into_bytes();
    for i in 0..bytes.len() {
        if bytes[i] == b'\r' && bytes.get(i + 1) != Some(&b'\n') {
            bytes[i] = b'\n';
        }
    }
    // One ASCII byte replaced by another: still UTF-8.
    Ok(String::from_utf8(bytes).expect("ASCII replaced by ASCII"))
}

fn delimiter_name(delimiter: u8) -> &'static str {
    match delimiter {
        b'\t' => "tab",
        b';' => "';'",
        _ => "','",
    }
}

/// The records of a delimited file with their 1-based line numbers: blank lines and lines
/// starting with `#` skipped, fields trimmed. Lines are numbered as [`numbered_lines`] does
/// (`\n`, `\r\n` and a lone `\r` each end one), from each record's byte offset: the csv
/// crate's own line count leaves out comment lines.
struct Records<'a> {
    path: &'a Path,
    text: &'a [u8],
    reader: csv::Reader<&'a [u8]>,
    record: csv::StringRecord,
    /// Bytes before `cursor` hold `line - 1` line ends.
    cursor: usize,
    line: usize,
}

impl<'a> Records<'a> {
    fn new(path: &'a Path, text: &'a str, delimiter: u8) -> Self {
        let reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .has_headers(false)
            .flexible(true)
            .comment(Some(b'#'))
            .trim(csv::Trim::All)
            .from_reader(text.as_bytes());
        Self {
            path,
            text: text.as_bytes(),
            reader,
            record: csv::StringRecord::new(),
            cursor: 0,
            line: 1,
        }
    }

    /// The line holding byte `offset` (offsets only grow from call to call).
    fn line_at(&mut self, offset: usize) -> usize {
        let end = offset.min(self.text.len());
        for i in self.cursor..end {
            match self.text[i] {
                b'\n' => self.line += 1,
                b'\r' if self.text.get(i + 1) != Some(&b'\n') => self.line += 1,
                _ => {}
            }
        }
        self.cursor = self.cursor.max(end);
        self.line
    }

    /// Where the record read from `offset` on starts: the csv crate gives the end of the
    /// previous record, before the line ends, blank lines and comment lines it skipped.
    fn record_start(&self, mut offset: usize) -> usize {
        let text = self.text;
        loop {
            while offset < text.len() && matches!(text[offset], b'\r' | b'\n') {
                offset += 1;
            }
            if text.get(offset) != Some(&b'#') {
                return offset;
            }
            while offset < text.len() && !matches!(text[offset], b'\r' | b'\n') {
                offset += 1;
            }
        }
    }

    /// The next record (borrowed until the next call) and its line.
    fn next(&mut self) -> Option<Result<(usize, &csv::StringRecord), DataError>> {
        loop {
            match self.reader.read_record(&mut self.record) {
                Ok(false) => return None,
                Ok(true) => {
                    // A line of spaces is one empty field: skip it as a blank line.
                    if self.record.len() == 1 && self.record[0].is_empty() {
                        continue;
                    }
                    let offset = self.record.position().map_or(0, |p| p.byte() as usize);
                    let line = self.line_at(self.record_start(offset));
                    return Some(Ok((line, &self.record)));
                }
                Err(e) => {
                    let offset = e.position().map_or(self.cursor, |p| p.byte() as usize);
                    let line = self.line_at(offset);
                    return Some(Err(malformed(self.path, line, e.to_string())));
                }
            }
        }
    }
}

/// How clicks are grouped into sessions.
#[derive(Clone, Copy, Debug)]
enum Grouping {
    /// By a session id column.
    Session(usize),
    /// By a visitor id column, cut at inactivity gaps.
    Visitor(usize),
}

/// The columns of a generic export, resolved against its header.
struct Layout {
    grouping: Grouping,
    item: usize,
    time: Option<usize>,
    event: Option<usize>,
    /// Which columns were guessed rather than named.
    guessed: Vec<usize>,
    width: usize,
    header_line: usize,
    /// A time format fixed in advance (raw formats), else detected.
    time_format: Option<TimeFormat>,
}

/// The column called `name`: exactly, else the only one equal ignoring ASCII case.
pub(crate) fn find_column(names: &[String], name: &str) -> Option<usize> {
    names.iter().position(|n| n == name).or_else(|| {
        let mut matches = names
            .iter()
            .enumerate()
            .filter(|(_, n)| n.eq_ignore_ascii_case(name));
        match (matches.next(), matches.next()) {
            (Some((i, _)), None) => Some(i),
            _ => None,
        }
    })
}

/// A header's columns for a message, each quoted by [`excerpt`], at most [`LISTED_CHARS`]
/// characters of them.
pub(crate) fn list_columns(names: &[String]) -> String {
    let listed = names
        .iter()
        .map(|n| excerpt(n))
        .collect::<Vec<_>>()
        .join(", ");
    // A header of binary junk escapes to several characters a byte: keep the message short.
    match listed.char_indices().nth(LISTED_CHARS) {
        Some((end, _)) => format!("{}… ({} columns)", &listed[..end], names.len()),
        None => listed,
    }
}

/// Most characters of a header's column list that an error message quotes.
const LISTED_CHARS: usize = 160;

impl Layout {
    fn choose(
        path: &Path,
        line: usize,
        names: &[String],
        options: &EventOptions,
    ) -> Result<Self, DataError> {
        let mut guessed = Vec::new();
        // A named column must exist; an unnamed one is guessed (and may be absent).
        let mut pick = |given: &Option<String>,
                        candidates: &[&str],
                        what: &str|
         -> Result<Option<usize>, DataError> {
            if let Some(name) = given {
                return match find_column(names, name) {
                    Some(i) => Ok(Some(i)),
                    None => {
                        let reason = format!(
                            "no {what} column {}: the header has the columns {}",
                            excerpt(name),
                            list_columns(names)
                        );
                        Err(malformed(path, line, reason))
                    }
                };
            }
            let found = candidates.iter().find_map(|c| find_column(names, c));
            guessed.extend(found);
            Ok(found)
        };
        let grouping = match (&options.session_column, &options.visitor_column) {
            (Some(_), Some(_)) => {
                return Err(malformed(
                    path,
                    line,
                    "give a session column or a visitor column, not both",
                ));
            }
            // A named visitor column is never overruled by a guessed session column.
            (session, visitor) => match if visitor.is_some() {
                None
            } else {
                pick(session, SESSION_NAMES, "session")?
            } {
                Some(i) => Grouping::Session(i),
                None => match pick(visitor, VISITOR_NAMES, "visitor")? {
                    Some(i) => Grouping::Visitor(i),
                    None => {
                        let reason = format!(
                            "no session column ({}) nor visitor column ({}): the header has the columns {}; name one",
                            SESSION_NAMES.join(", "),
                            VISITOR_NAMES.join(", "),
                            list_columns(names)
                        );
                        return Err(malformed(path, line, reason));
                    }
                },
            },
        };
        let Some(item) = pick(&options.item_column, ITEM_NAMES, "item")? else {
            let reason = format!(
                "no item column ({}): the header has the columns {}; name one",
                ITEM_NAMES.join(", "),
                list_columns(names)
            );
            return Err(malformed(path, line, reason));
        };
        let time = pick(&options.time_column, TIME_NAMES, "time")?;
        let event = pick(&options.event_column, EVENT_NAMES, "event")?;
        if let (Grouping::Visitor(_), None) = (grouping, time) {
            let reason = format!(
                "cutting a visitor's clicks into sessions needs a time column ({}): the header has the columns {}",
                TIME_NAMES.join(", "),
                list_columns(names)
            );
            return Err(malformed(path, line, reason));
        }
        if options.keep_events.is_some() && event.is_none() {
            let reason = format!(
                "keeping some events needs an event column ({}): the header has the columns {}",
                EVENT_NAMES.join(", "),
                list_columns(names)
            );
            return Err(malformed(path, line, reason));
        }
        Ok(Self {
            grouping,
            item,
            time,
            event,
            guessed,
            width: names.len(),
            header_line: line,
            time_format: None,
        })
    }

    /// `columns: session=session_id (guessed) item=… time=…`, for the notes.
    fn describe(&self, names: &[String]) -> String {
        let column = |role: &str, i: usize| {
            let how = if self.guessed.contains(&i) {
                " (guessed)"
            } else {
                ""
            };
            format!(" {role}={}{how}", excerpt(&names[i]))
        };
        let mut text = String::from("columns:");
        text += &match self.grouping {
            Grouping::Session(i) => column("session", i),
            Grouping::Visitor(i) => column("visitor", i),
        };
        text += &column("item", self.item);
        match self.time {
            Some(i) => text += &column("time", i),
            None => text += " time=none (file order is time order)",
        }
        if let Some(i) = self.event {
            text += &column("event", i);
        }
        text
    }

    /// Reads the data rows into sessions. `default_keep`: the events kept when the options
    /// keep none (RetailRocket's `view`).
    fn read(
        &self,
        path: &Path,
        mut records: Records<'_>,
        options: &EventOptions,
        default_keep: Option<&[&str]>,
        notes: &mut Vec<String>,
    ) -> Result<Vec<Session>, DataError> {
        let keep: Option<Vec<String>> = options
            .keep_events
            .clone()
            .or_else(|| default_keep.map(|k| k.iter().map(|s| s.to_string()).collect()));
        if let Grouping::Visitor(_) = self.grouping {
            let gap = options.session_gap_seconds;
            if !(gap.is_finite() && gap > 0.0) {
                return Err(DataError::Unrecognised {
                    path: path.into(),
                    reason: format!(
                        "the session gap must be a positive number of seconds, not {gap}"
                    ),
                });
            }
        }
        let mut time_format = self.time_format.map(|f| (f, 0));
        let mut groups = Groups::default();
        let (mut rows, mut kept) = (0usize, 0usize);
        let mut events_seen: Vec<String> = Vec::new();
        while let Some(record) = records.next() {
            let (line, record) = record?;
            if record.len() != self.width {
                let reason = format!(
                    "expected {} fields as in the header on line {}, found {}",
                    self.width,
                    self.header_line,
                    record.len()
                );
                return Err(malformed(path, line, reason));
            }
            rows += 1;
            if let (Some(keep), Some(e)) = (&keep, self.event) {
                let event = &record[e];
                if !keep.iter().any(|k| k.eq_ignore_ascii_case(event)) {
                    if events_seen.len() < 20 && !events_seen.iter().any(|s| s == event) {
                        events_seen.push(event.to_string());
                    }
                    continue;
                }
            }
            kept += 1;
            let key = match self.grouping {
                Grouping::Session(i) | Grouping::Visitor(i) => {
                    non_empty(path, line, "session or visitor id", &record[i])?
                }
            };
            let item = non_empty(path, line, "item id", &record[self.item])?;
            let order = match self.time {
                Some(t) => {
                    let value = &record[t];
                    let (format, _) = match time_format {
                        Some(known) => known,
                        None => {
                            let format = TimeFormat::detect(value).ok_or_else(|| {
                                let reason = format!(
                                    "time {} is neither Unix seconds, Unix milliseconds nor an ISO 8601 date or time",
                                    excerpt(value)
                                );
                                malformed(path, line, reason)
                            })?;
                            *time_format.insert((format, line))
                        }
                    };
                    let detected_on = time_format.map_or(0, |(_, l)| l);
                    format.parse(value).map_err(|reason| {
                        let origin = if detected_on == 0 {
                            format!("{} for this format", format.describe())
                        } else {
                            format!("{} as detected on line {detected_on}", format.describe())
                        };
                        malformed(path, line, format!("{reason} ({origin})"))
                    })?
                }
                None => groups.len_clicks() as f64,
            };
            groups.push(key, order, item, None);
        }
        if let Some((format, line)) = time_format {
            let origin = if line == 0 {
                String::new()
            } else {
                format!(", detected on line {line}")
            };
            notes.push(format!("time: {}{origin}", format.describe()));
        }
        if let (Some(keep), Some(_)) = (&keep, self.event) {
            notes.push(format!(
                "kept events: {} ({kept} of {rows} rows)",
                keep.join(",")
            ));
            if kept == 0 && rows > 0 {
                let reason = format!(
                    "no row has the event {}; events seen: {}",
                    keep.join(" or "),
                    events_seen.join(", ")
                );
                return Err(DataError::Empty {
                    path: path.into(),
                    reason,
                });
            }
        }
        if kept == 0 {
            return Err(DataError::Empty {
                path: path.into(),
                reason: "no clicks after the header".into(),
            });
        }
        let cut = match self.grouping {
            Grouping::Visitor(_) => {
                notes.push(format!(
                    "sessions cut at {} inactivity",
                    gap_name(options.session_gap_seconds)
                ));
                Some(options.session_gap_seconds)
            }
            Grouping::Session(_) => None,
        };
        Ok(groups.finish(self.time.is_some(), cut))
    }
}

fn gap_name(seconds: f64) -> String {
    if seconds % 60.0 == 0.0 {
        format!("{} min", seconds / 60.0)
    } else {
        format!("{seconds} s")
    }
}

fn non_empty<'a>(
    path: &Path,
    line: usize,
    what: &str,
    field: &'a str,
) -> Result<&'a str, DataError> {
    if field.is_empty() {
        return Err(malformed(path, line, format!("empty {what}")));
    }
    Ok(field)
}

/// Clicks gathered by session (or visitor) id, in order of first appearance.
#[derive(Default)]
struct Groups {
    slots: HashMap<String, usize>,
    groups: Vec<Group>,
    clicks: usize,
}

struct Group {
    key: String,
    /// (order key, item): the time, or the row's position when the log has none.
    clicks: Vec<(f64, String)>,
    /// A session time that is not its first click's (Diginetica's `eventdate`).
    date: Option<f64>,
}

impl Groups {
    fn len_clicks(&self) -> usize {
        self.clicks
    }

    /// Adds a click; `date`, when given, replaces the session's time (the last one wins).
    fn push(&mut self, key: &str, order: f64, item: &str, date: Option<f64>) {
        let slot = match self.slots.get(key) {
            Some(&slot) => slot,
            None => {
                self.slots.insert(key.to_string(), self.groups.len());
                self.groups.push(Group {
                    key: key.to_string(),
                    clicks: Vec::new(),
                    date: None,
                });
                self.groups.len() - 1
            }
        };
        let group = &mut self.groups[slot];
        group.clicks.push((order, item.to_string()));
        if date.is_some() {
            group.date = date;
        }
        self.clicks += 1;
    }

    /// Sorts each group's clicks by order (stable), cuts groups at gaps over `cut` seconds
    /// when given, and orders the sessions by time (stable) when `timed`.
    fn finish(self, timed: bool, cut: Option<f64>) -> Vec<Session> {
        let mut sessions = Vec::with_capacity(self.groups.len());
        for mut group in self.groups {
            group.clicks.sort_by(|a, b| a.0.total_cmp(&b.0));
            let Some(gap) = cut else {
                let time = group
                    .date
                    .or(if timed { Some(group.clicks[0].0) } else { None });
                let items = group.clicks.into_iter().map(|(_, item)| item).collect();
                sessions.push(Session {
                    id: group.key,
                    items,
                    time,
                });
                continue;
            };
            let mut number = 0;
            let mut current: Option<Session> = None;
            let mut last = f64::NEG_INFINITY;
            for (time, item) in group.clicks {
                if current.is_none() || time - last > gap {
                    sessions.extend(current.take());
                    number += 1;
                    current = Some(Session {
                        id: format!("{}#{number}", group.key),
                        items: Vec::new(),
                        time: Some(time),
                    });
                }
                current.as_mut().expect("started above").items.push(item);
                last = time;
            }
            sessions.extend(current);
        }
        if timed {
            sessions.sort_by(|a, b| a.time.unwrap_or(0.0).total_cmp(&b.time.unwrap_or(0.0)));
        }
        sessions
    }
}

/// Reads a raw format's header (the file's first record; `full` is the whole header, for
/// the message on an empty file), checks that it has the `expected` columns (by name, in any
/// order) and returns its line, its width and their positions.
fn fixed_columns<const N: usize>(
    path: &Path,
    records: &mut Records,
    full: &str,
    expected: [&str; N],
    format: &str,
) -> Result<(usize, usize, [usize; N]), DataError> {
    let Some(header) = records.next() else {
        return Err(malformed(
            path,
            1,
            format!("the file is empty: expected the header {full}"),
        ));
    };
    let (line, header) = header?;
    let names: Vec<String> = header.iter().map(str::to_string).collect();
    let mut positions = [0; N];
    for (slot, name) in positions.iter_mut().zip(expected) {
        *slot = find_column(&names, name).ok_or_else(|| {
            let reason = format!(
                "not a {format} header: no column {name:?} (expected {}); the header has the columns {}",
                expected.join(", "),
                list_columns(&names)
            );
            malformed(path, line, reason)
        })?;
    }
    Ok((line, header.len(), positions))
}

/// Diginetica `train-item-views.csv`, as SR-GNN's `preprocess.py` reads it: clicks grouped
/// by `session_id` (rows of one session need not be adjacent), ordered by the integer
/// `timeframe` (stable, as Python's `sorted`), and the session's time is the `eventdate` of
/// its last row in the file (SR-GNN sets `sess_date[curid]` from the row before each change
/// of session id, so a later run of the same id overwrites it), read as UTC midnight
/// (SR-GNN's `time.mktime` reads it in local time; only differences of whole days matter).
fn read_diginetica(path: &Path) -> Result<SessionLog, DataError> {
    let text = read_log(path)?;
    let mut records = Records::new(path, &text, b';');
    let (header_line, width, [session, item, timeframe, eventdate]) = fixed_columns(
        path,
        &mut records,
        "session_id;user_id;item_id;timeframe;eventdate",
        ["session_id", "item_id", "timeframe", "eventdate"],
        "Diginetica",
    )?;
    let mut groups = Groups::default();
    while let Some(record) = records.next() {
        let (line, record) = record?;
        if record.len() != width {
            let reason = format!(
                "expected {width} `;`-separated fields as in the header on line {header_line}, found {}",
                record.len()
            );
            return Err(malformed(path, line, reason));
        }
        let key = non_empty(path, line, "session id", &record[session])?;
        let id = non_empty(path, line, "item id", &record[item])?;
        let order = record[timeframe].parse::<i64>().map_err(|_| {
            malformed(
                path,
                line,
                format!(
                    "timeframe {} is not an integer",
                    excerpt(&record[timeframe])
                ),
            )
        })?;
        let date = TimeFormat::Iso8601
            .parse(&record[eventdate])
            .map_err(|reason| malformed(path, line, reason))?;
        groups.push(key, order as f64, id, Some(date));
    }
    if groups.len_clicks() == 0 {
        return Err(DataError::Empty {
            path: path.into(),
            reason: "no clicks after the header".into(),
        });
    }
    let notes = vec![
        "format: Diginetica train-item-views (session_id;user_id;item_id;timeframe;eventdate)".to_string(),
        "clicks ordered by timeframe; session time = eventdate of its last row (as SR-GNN's preprocess.py)".to_string(),
    ];
    Ok(SessionLog {
        sessions: groups.finish(true, None),
        notes,
    })
}

/// YooChoose `yoochoose-clicks.dat`: `session,timestamp,item,category`, ISO 8601 times, no
/// header (one whose time field is not a time is skipped). Clicks are sorted by time (stable)
/// and the session's time is its first click. SR-GNN's `preprocess.py` differs on both:
/// it keeps file order and dates a session by its last row's time cut to the second.
fn read_yoochoose(path: &Path) -> Result<SessionLog, DataError> {
    let text = read_log(path)?;
    let mut records = Records::new(path, &text, b',');
    let mut groups = Groups::default();
    let mut notes = vec![
        "format: YooChoose clicks (session,timestamp,item,category; times ISO 8601)".to_string(),
    ];
    let mut first = true;
    while let Some(record) = records.next() {
        let (line, record) = record?;
        if first {
            first = false;
            let looks_like_header = record.len() >= 3
                && parse_iso8601(&record[1]).is_none()
                && record[0].bytes().any(|b| b.is_ascii_alphabetic());
            if looks_like_header {
                notes.push(format!("header on line {line} skipped"));
                continue;
            }
        }
        if record.len() < 3 {
            let reason = format!(
                "expected session,timestamp,item,category, found {} fields",
                record.len()
            );
            return Err(malformed(path, line, reason));
        }
        let key = non_empty(path, line, "session id", &record[0])?;
        let time = TimeFormat::Iso8601
            .parse(&record[1])
            .map_err(|reason| malformed(path, line, reason))?;
        let item = non_empty(path, line, "item id", &record[2])?;
        groups.push(key, time, item, None);
    }
    if groups.len_clicks() == 0 {
        return Err(DataError::Empty {
            path: path.into(),
            reason: "the file holds no clicks".into(),
        });
    }
    Ok(SessionLog {
        sessions: groups.finish(true, None),
        notes,
    })
}

/// RetailRocket `events.csv`: `timestamp,visitorid,event,itemid,transactionid`, times in
/// milliseconds, cut into sessions by visitor and inactivity gap; events kept: `view` unless
/// `options.keep_events` says otherwise.
fn read_retailrocket(path: &Path, options: &EventOptions) -> Result<SessionLog, DataError> {
    let text = read_log(path)?;
    let mut records = Records::new(path, &text, b',');
    let (header_line, width, [time, visitor, event, item]) = fixed_columns(
        path,
        &mut records,
        "timestamp,visitorid,event,itemid,transactionid",
        ["timestamp", "visitorid", "event", "itemid"],
        "RetailRocket events.csv",
    )?;
    let layout = Layout {
        grouping: Grouping::Visitor(visitor),
        item,
        time: Some(time),
        event: Some(event),
        guessed: Vec::new(),
        width,
        header_line,
        time_format: Some(TimeFormat::UnixMillis),
    };
    let mut notes = vec!["format: RetailRocket events (timestamp,visitorid,event,itemid,transactionid; milliseconds)".to_string()];
    let sessions = layout.read(path, records, options, Some(&["view"]), &mut notes)?;
    Ok(SessionLog { sessions, notes })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso8601_forms() {
        assert_eq!(parse_iso8601("1970-01-01"), Some(0.0));
        assert_eq!(parse_iso8601("2016-05-09"), Some(1_462_752_000.0));
        assert_eq!(
            parse_iso8601("2014-04-06T20:21:58.444Z"),
            Some(1_396_815_718.444)
        );
        assert_eq!(parse_iso8601("2014-04-06 20:21:58"), Some(1_396_815_718.0));
        assert_eq!(
            parse_iso8601("2014-04-06T22:21:58+02:00"),
            Some(1_396_815_718.0)
        );
        assert_eq!(
            parse_iso8601("2014-04-06T19:21:58-0100"),
            Some(1_396_815_718.0)
        );
        assert_eq!(parse_iso8601("2014-04-06T20:21Z"), Some(1_396_815_660.0));
        assert_eq!(parse_iso8601("2016-02-29"), Some(1_456_704_000.0));
        for bad in [
            "2015-02-29",
            "2016-13-01",
            "2016-5-9",
            "20160509",
            "2016-05-09T25:00",
            "2016-05-09X",
            "",
            "é",
        ] {
            assert_eq!(parse_iso8601(bad), None, "{bad}");
        }
        assert_eq!(format_time(1_396_815_718.444), "2014-04-06T20:21:58Z");
    }
}
