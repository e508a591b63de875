//! Reading a pilot's event export into counts per arm.
//!
//! The file is a CSV or TSV with a header naming the columns `visitor`, `arm` and `event`
//! (and optionally `item` and `time`; other columns are ignored; names matched exactly,
//! else ignoring ASCII case; delimiter from the header line: a tab, else `;`, else `,`),
//! or JSON lines, one object a line with those keys. Events are `impression`, `click` and
//! `conversion`, also with the `awrsr:` prefix of the widget's DOM events. Times are Unix
//! seconds, Unix milliseconds or ISO 8601 (see [`TimeFormat`]), the format detected from
//! the first one and the same on every row. A visitor stays in one arm.
//!
//! The file goes through the log readers' bounded reader (a regular file of at most
//! [`MAX_LOG_BYTES`](crate::data::MAX_LOG_BYTES), UTF-8 or Latin-1); blank lines and lines
//! starting with `#` are skipped; every error names `file:line`.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::path::Path;

use serde_json::Value;

use crate::catalogue::excerpt;
use crate::data::DataError;
use crate::data::TimeFormat;
use crate::data::events::{find_column, list_columns};
use crate::data::formats::{malformed, numbered_lines, read_text};

/// Most distinct visitors a pilot file may hold (a bound on the memory it takes).
pub const MAX_VISITORS: usize = 50_000_000;

/// Most arms a pilot may have.
pub const MAX_ARMS: usize = 1000;

/// How the events are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PilotFormat {
    /// CSV or TSV with a header line.
    Csv,
    /// JSON lines: one object a line.
    Jsonl,
}

impl PilotFormat {
    /// The format of a file whose first content line is `first`: JSON lines when it starts
    /// with `{`, else CSV.
    pub fn detect(first: &str) -> Self {
        match first.trim_start().starts_with('{') {
            true => Self::Jsonl,
            false => Self::Csv,
        }
    }

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Jsonl => "jsonl",
        }
    }
}

/// What one arm's visitors did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ArmCounts {
    /// The arm's name.
    pub name: String,
    /// Distinct visitors with any event in the arm.
    pub visitors: u64,
    /// `impression` events.
    pub impressions: u64,
    /// `click` events.
    pub clicks: u64,
    /// Distinct visitors with at least one `conversion`.
    pub converting_visitors: u64,
}

/// A pilot as read: the arms in order of first appearance, and when it ran.
#[derive(Clone, Debug, PartialEq)]
pub struct Pilot {
    /// The arms' counts.
    pub arms: Vec<ArmCounts>,
    /// Event rows read.
    pub events: u64,
    /// Unix seconds of the earliest event with a time (`None`: no times).
    pub first_time: Option<f64>,
    /// Unix seconds of the latest event with a time.
    pub last_time: Option<f64>,
    /// How the file was read.
    pub format: PilotFormat,
}

/// An event type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Impression,
    Click,
    Conversion,
}

impl Kind {
    /// `impression`, `click` or `conversion`, with or without `awrsr:`, ignoring ASCII case.
    fn parse(value: &str) -> Option<Self> {
        let value = value.trim();
        let bare = match value.get(..6) {
            Some(prefix) if prefix.eq_ignore_ascii_case("awrsr:") => &value[6..],
            _ => value,
        };
        [
            ("impression", Self::Impression),
            ("click", Self::Click),
            ("conversion", Self::Conversion),
        ]
        .into_iter()
        .find(|(name, _)| bare.eq_ignore_ascii_case(name))
        .map(|(_, kind)| kind)
    }
}

/// One row's fields (the item is not used by the verdict).
struct Row {
    visitor: String,
    arm: String,
    event: String,
    time: Option<String>,
}

/// Where a visitor was first seen.
struct Seen {
    arm: usize,
    line: usize,
    converted: bool,
}

/// The counts being gathered.
struct Tally<'a> {
    path: &'a Path,
    arms: Vec<ArmCounts>,
    arm_index: HashMap<String, usize>,
    visitors: HashMap<String, Seen>,
    events: u64,
    time_format: Option<TimeFormat>,
    first_time: Option<f64>,
    last_time: Option<f64>,
}

/// Reads a pilot's events (`format`, else detected from the first content line).
pub fn read_pilot(path: &Path, format: Option<PilotFormat>) -> Result<Pilot, DataError> {
    let text = read_text(path)?;
    let mut lines = numbered_lines(&text);
    let Some((first_number, first)) = lines.next() else {
        return Err(malformed(
            path,
            1,
            "the file is empty: expected a header line naming the columns visitor, arm, event, \
             item, time, or JSON lines",
        ));
    };
    let format = format.unwrap_or_else(|| PilotFormat::detect(first));
    let mut tally = Tally::new(path);
    match format {
        PilotFormat::Csv => {
            let columns = Columns::from_header(path, first_number, first)?;
            for (number, line) in lines {
                tally.add(number, columns.row(path, number, line)?)?;
            }
        }
        PilotFormat::Jsonl => {
            let first = std::iter::once((first_number, first));
            for (number, line) in first.chain(lines) {
                tally.add(number, json_row(path, number, line)?)?;
            }
        }
    }
    tally.finish(format)
}

impl<'a> Tally<'a> {
    fn new(path: &'a Path) -> Self {
        Self {
            path,
            arms: Vec::new(),
            arm_index: HashMap::new(),
            visitors: HashMap::new(),
            events: 0,
            time_format: None,
            first_time: None,
            last_time: None,
        }
    }

    /// Counts one row read from `line`.
    fn add(&mut self, line: usize, row: Row) -> Result<(), DataError> {
        let kind = Kind::parse(&row.event).ok_or_else(|| {
            malformed(
                self.path,
                line,
                format!(
                    "unknown event {}: expected impression, click or conversion (optionally \
                     prefixed awrsr:)",
                    excerpt(&row.event)
                ),
            )
        })?;
        let arm = self.arm(line, &row.arm)?;
        self.time(line, row.time.as_deref())?;
        let converts = kind == Kind::Conversion;
        let first_conversion = self.visitor(line, row.visitor, arm, converts)?;
        let counts = &mut self.arms[arm];
        match kind {
            Kind::Impression => counts.impressions += 1,
            Kind::Click => counts.clicks += 1,
            Kind::Conversion => counts.converting_visitors += u64::from(first_conversion),
        }
        self.events += 1;
        Ok(())
    }

    /// The index of the arm called `name`, added on first sight.
    fn arm(&mut self, line: usize, name: &str) -> Result<usize, DataError> {
        if let Some(&index) = self.arm_index.get(name) {
            return Ok(index);
        }
        if self.arms.len() >= MAX_ARMS {
            let reason = format!("more than {MAX_ARMS} arms: is the arm column right?");
            return Err(malformed(self.path, line, reason));
        }
        self.arms.push(ArmCounts {
            name: name.to_string(),
            ..ArmCounts::default()
        });
        self.arm_index.insert(name.to_string(), self.arms.len() - 1);
        Ok(self.arms.len() - 1)
    }

    /// Records the visitor's event in `arm`, checking that its arm never changes; true when
    /// it `converts` for the first time.
    fn visitor(
        &mut self,
        line: usize,
        visitor: String,
        arm: usize,
        converts: bool,
    ) -> Result<bool, DataError> {
        let count = self.visitors.len();
        let (path, arms) = (self.path, &mut self.arms);
        match self.visitors.entry(visitor) {
            Entry::Occupied(entry) if entry.get().arm != arm => {
                let reason = format!(
                    "visitor {} is in arm {} here but in arm {} on line {}: a visitor's arm \
                     must stay the same for the whole pilot",
                    excerpt(entry.key()),
                    excerpt(&arms[arm].name),
                    excerpt(&arms[entry.get().arm].name),
                    entry.get().line
                );
                Err(malformed(path, line, reason))
            }
            Entry::Occupied(mut entry) => {
                let first = converts && !entry.get().converted;
                entry.get_mut().converted |= converts;
                Ok(first)
            }
            Entry::Vacant(_) if count >= MAX_VISITORS => Err(malformed(
                path,
                line,
                format!("more than {MAX_VISITORS} visitors"),
            )),
            Entry::Vacant(entry) => {
                arms[arm].visitors += 1;
                entry.insert(Seen {
                    arm,
                    line,
                    converted: converts,
                });
                Ok(converts)
            }
        }
    }

    /// Notes the row's time, if it has one.
    fn time(&mut self, line: usize, value: Option<&str>) -> Result<(), DataError> {
        let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else {
            return Ok(());
        };
        let format = match self.time_format {
            Some(format) => format,
            None => TimeFormat::detect(value).ok_or_else(|| {
                let reason = format!(
                    "time {} is not Unix seconds, Unix milliseconds or ISO 8601",
                    excerpt(value)
                );
                malformed(self.path, line, reason)
            })?,
        };
        self.time_format = Some(format);
        let seconds = format
            .parse(value)
            .map_err(|reason| malformed(self.path, line, reason))?;
        self.first_time = Some(self.first_time.map_or(seconds, |t| t.min(seconds)));
        self.last_time = Some(self.last_time.map_or(seconds, |t| t.max(seconds)));
        Ok(())
    }

    fn finish(self, format: PilotFormat) -> Result<Pilot, DataError> {
        if self.events == 0 {
            return Err(malformed(self.path, 1, "the file holds no events"));
        }
        Ok(Pilot {
            arms: self.arms,
            events: self.events,
            first_time: self.first_time,
            last_time: self.last_time,
            format,
        })
    }
}

/// The columns of a CSV or TSV export, found in its header.
struct Columns {
    delimiter: u8,
    visitor: usize,
    arm: usize,
    event: usize,
    time: Option<usize>,
}

impl Columns {
    /// The columns named in `header` (line `number`): `visitor`, `arm` and `event` must be
    /// there, `time` may be (`item` is not used).
    fn from_header(path: &Path, number: usize, header: &str) -> Result<Self, DataError> {
        let delimiter = [b'\t', b';', b',']
            .into_iter()
            .find(|&d| header.as_bytes().contains(&d))
            .unwrap_or(b',');
        let names = split(header, delimiter).map_err(|e| malformed(path, number, e))?;
        let required = |name: &str| {
            find_column(&names, name).ok_or_else(|| {
                let reason = format!(
                    "no {name} column: the header must name the columns visitor, arm, event \
                     (and item, time), but has {}",
                    list_columns(&names)
                );
                malformed(path, number, reason)
            })
        };
        Ok(Self {
            delimiter,
            visitor: required("visitor")?,
            arm: required("arm")?,
            event: required("event")?,
            time: find_column(&names, "time"),
        })
    }

    /// The row on line `number`.
    fn row(&self, path: &Path, number: usize, line: &str) -> Result<Row, DataError> {
        let fields = split(line, self.delimiter).map_err(|e| malformed(path, number, e))?;
        let needed = self.visitor.max(self.arm).max(self.event);
        if fields.len() <= needed {
            let reason = format!(
                "{} fields, but the header puts a column in field {}",
                fields.len(),
                needed + 1
            );
            return Err(malformed(path, number, reason));
        }
        let field = |i: usize, what: &str| required(path, number, what, &fields[i]);
        Ok(Row {
            visitor: field(self.visitor, "visitor")?,
            arm: field(self.arm, "arm")?,
            event: field(self.event, "event")?,
            time: self.time.and_then(|i| fields.get(i).cloned()),
        })
    }
}

/// A non-empty field, or an error naming `what`.
fn required(path: &Path, line: usize, what: &str, value: &str) -> Result<String, DataError> {
    match value.trim() {
        "" => Err(malformed(path, line, format!("empty {what}"))),
        value => Ok(value.to_string()),
    }
}

/// The fields of one delimited line (quoted fields allowed, fields trimmed).
fn split(line: &str, delimiter: u8) -> Result<Vec<String>, String> {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(line.as_bytes());
    let mut record = csv::StringRecord::new();
    match reader.read_record(&mut record) {
        Ok(_) => Ok(record.iter().map(str::to_string).collect()),
        Err(e) => Err(e.to_string()),
    }
}

/// The row of a JSON line: an object with `visitor`, `arm`, `event` and optionally `item`
/// and `time` (strings or numbers; `null` or absent for the optional ones).
fn json_row(path: &Path, number: usize, line: &str) -> Result<Row, DataError> {
    let bad = |reason: String| malformed(path, number, reason);
    let value: Value =
        serde_json::from_str(line).map_err(|e| bad(format!("not a JSON object: {e}")))?;
    let Value::Object(object) = value else {
        return Err(bad("not a JSON object".into()));
    };
    let text = |key: &str| -> Result<Option<String>, DataError> {
        match object.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(_) => Err(bad(format!("{key} must be a string or a number"))),
        }
    };
    let required_key = |key: &str| match text(key)? {
        Some(value) => required(path, number, key, &value),
        None => Err(bad(format!(
            "no {key}: each line needs visitor, arm and event"
        ))),
    };
    text("item")?;
    Ok(Row {
        visitor: required_key("visitor")?,
        arm: required_key("arm")?,
        event: required_key("event")?,
        time: text("time")?,
    })
}
