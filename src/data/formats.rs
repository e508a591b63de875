//! Readers for the interaction-log formats awrsr understands, chosen by `--format` or
//! detected from the path and the first lines.
//!
//! | format      | file                               | line                                     |
//! |-------------|------------------------------------|------------------------------------------|
//! | `movielens` | `ratings.csv` (+ `movies.csv`)     | `userId,movieId,rating,timestamp`        |
//! | `dat`       | `ratings.dat` (+ `movies.dat`)     | `user::item::rating::timestamp`          |
//! | `atomic`    | RecBole `x.inter` (+ `x.item`)     | tab-separated, typed header `field:type` |
//! | `sequences` | text                               | `user item1 item2 …` (in time order)     |
//! | `pairs`     | text                               | `user item` (lines in time order)        |
//! | `events`    | a shop's click export, CSV or TSV  | header; columns by name ([`EventOptions`]) |
//! | `diginetica`| `train-item-views.csv`             | `session_id;user_id;item_id;timeframe;eventdate` |
//! | `yoochoose` | `yoochoose-clicks.dat`             | `session,timestamp,item,category`        |
//! | `retailrocket` | `events.csv`                    | `timestamp,visitorid,event,itemid,transactionid` |
//!
//! A `.csv`, `.tsv` or `.txt` whose header names a session or visitor column is a click
//! export (one of the three public ones by its exact header); a `.dat` of
//! `digits,ISO-time,…` rows is YooChoose's. Click exports are read as anonymous sessions
//! (`events`), optionally through the standard preprocessing (`preprocess`).
//!
//! Every format, and every title file beside a log: UTF-8 (or Latin-1, but not both in one
//! file), an optional UTF-8 byte-order mark, lines ended by LF,
//! CRLF or a lone CR, blank lines and lines starting with `#` skipped. A malformed line is
//! an error naming `file:line`, quoting at most [`EXCERPT_CHARS`](crate::catalogue::EXCERPT_CHARS) characters of it. A file
//! must be a regular file of at most [`MAX_LOG_BYTES`].

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::events::{EventOptions, RawFormat, read_events, read_raw};
use super::files;
use super::preprocess::{Standard, standard};
use super::{DataError, Event, Interactions, assemble};
use crate::catalogue::excerpt;

/// Largest log or title file read (4 GiB).
pub const MAX_LOG_BYTES: u64 = 1 << 32;

/// A supported log format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// MovieLens CSV with a `userId,movieId,rating,timestamp` header.
    Movielens,
    /// MovieLens `::`-separated `.dat`.
    Dat,
    /// RecBole atomic `.inter` file.
    Atomic,
    /// One user per line: `user item1 item2 …`.
    Sequences,
    /// One interaction per line: `user item`.
    Pairs,
    /// A shop's click export: a CSV or TSV with a header, columns chosen by name
    /// ([`EventOptions`]); every session (or visitor, cut at an inactivity gap) is one
    /// anonymous session.
    Events,
    /// Diginetica's raw `train-item-views.csv`.
    Diginetica,
    /// YooChoose's raw `yoochoose-clicks.dat`.
    Yoochoose,
    /// RetailRocket's raw `events.csv`.
    Retailrocket,
}

impl Format {
    /// Every format.
    pub const ALL: [Self; 9] = [
        Self::Movielens,
        Self::Dat,
        Self::Atomic,
        Self::Sequences,
        Self::Pairs,
        Self::Events,
        Self::Diginetica,
        Self::Yoochoose,
        Self::Retailrocket,
    ];

    /// The format of that [`name`](Self::name).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.name() == name)
    }

    /// The format's name, as `--format` takes it (`movielens`, `pairs`, …).
    pub fn name(self) -> &'static str {
        match self {
            Self::Movielens => "movielens",
            Self::Dat => "dat",
            Self::Atomic => "atomic",
            Self::Sequences => "sequences",
            Self::Pairs => "pairs",
            Self::Events => "events",
            Self::Diginetica => "diginetica",
            Self::Yoochoose => "yoochoose",
            Self::Retailrocket => "retailrocket",
        }
    }

    /// True for the click exports, read as anonymous sessions in time order.
    pub fn is_click_export(self) -> bool {
        matches!(
            self,
            Self::Events | Self::Diginetica | Self::Yoochoose | Self::Retailrocket
        )
    }
}

/// How to read a log.
#[derive(Clone, Debug)]
pub struct LoadOptions {
    /// The format; detected when `None`.
    pub format: Option<Format>,
    /// Users with fewer interactions are dropped.
    pub min_interactions: usize,
    /// How a click export's columns, events and sessions are read.
    pub events: EventOptions,
    /// The standard preprocessing of a click export (SR-GNN's), or none.
    pub preprocess: Option<Standard>,
}

impl Default for LoadOptions {
    fn default() -> Self {
        Self {
            format: None,
            min_interactions: 1,
            events: EventOptions::default(),
            preprocess: None,
        }
    }
}

/// A log as read: the interactions to train on and, for a click export, what else the
/// session protocol needs.
#[derive(Clone, Debug)]
pub struct Log {
    /// The training interactions: per user, or per session of a click export (in time order).
    pub interactions: Interactions,
    /// The format read.
    pub format: Format,
    /// The test sessions the standard preprocessing held out (external ids), if it ran.
    pub held_out: Option<Vec<Vec<String>>>,
    /// For a click export whose sessions have times, each session's time (Unix seconds of
    /// its first click, or the day a raw export dates it by), aligned with
    /// `interactions.users`, ascending; `None` otherwise (file order is then time order).
    pub starts: Option<Vec<f64>>,
    /// What the reader detected and the preprocessing did, to print.
    pub notes: Vec<String>,
    /// When the format was detected (not given): what it was detected from, e.g.
    /// `"its .csv extension"` or `"two fields a line"`.
    pub detected: Option<&'static str>,
}

impl Log {
    /// Whether the sessions are in time order by time stamps (not merely by file order).
    pub fn timed(&self) -> bool {
        self.starts.is_some()
    }
}

/// Reads the log at `path` like [`load`], keeping what the session protocol needs.
pub fn read(path: &Path, options: &LoadOptions) -> Result<Log, DataError> {
    let file = resolve(path)?;
    if let Some(format) = options.format.filter(|f| f.is_click_export()) {
        return read_click_export(&file, format, options, None);
    }
    let text = read_text(&file)?;
    let (format, detected) = match options.format {
        Some(format) => (format, None),
        None => {
            let (format, why) = detect(&file, &text)?;
            (format, Some(why))
        }
    };
    if format.is_click_export() {
        drop(text);
        return read_click_export(&file, format, options, detected);
    }
    let events = match format {
        Format::Movielens => parse_movielens_csv(&file, &text)?,
        Format::Dat => parse_dat(&file, &text)?,
        Format::Atomic => parse_atomic(&file, &text)?,
        Format::Sequences => parse_sequences(&file, &text)?,
        _ => parse_pairs(&file, &text)?,
    };
    let titles = load_titles(&file, format)?;
    let interactions = non_empty_log(
        &file,
        assemble(events, &titles, options.min_interactions),
        options,
    )?;
    Ok(Log {
        interactions,
        format,
        held_out: None,
        starts: None,
        notes: Vec::new(),
        detected,
    })
}

fn non_empty_log(
    file: &Path,
    interactions: Interactions,
    options: &LoadOptions,
) -> Result<Interactions, DataError> {
    if interactions.is_empty() {
        let reason = format!(
            "no user has {} or more interactions",
            options.min_interactions
        );
        return Err(DataError::Empty {
            path: file.into(),
            reason,
        });
    }
    Ok(interactions)
}

/// A click export as sessions, preprocessed when asked; items are numbered in order of
/// first appearance in the (training) sessions, as SR-GNN numbers them.
fn read_click_export(
    file: &Path,
    format: Format,
    options: &LoadOptions,
    detected: Option<&'static str>,
) -> Result<Log, DataError> {
    let log = match format {
        Format::Diginetica => read_raw(file, RawFormat::Diginetica, &options.events)?,
        Format::Yoochoose => read_raw(file, RawFormat::Yoochoose, &options.events)?,
        Format::Retailrocket => read_raw(file, RawFormat::Retailrocket, &options.events)?,
        _ => read_events(file, &options.events)?,
    };
    let mut notes = log.notes.clone();
    let (train, held_out) = match &options.preprocess {
        Some(settings) => {
            let done = standard(log, settings).map_err(|reason| DataError::Unrecognised {
                path: file.into(),
                reason,
            })?;
            notes.extend(done.notes);
            (
                done.train,
                Some(done.test.into_iter().map(|s| s.items).collect()),
            )
        }
        None => (log.sessions, None),
    };
    let times: Option<HashMap<String, f64>> = train
        .iter()
        .map(|s| Some((s.id.clone(), s.time?)))
        .collect();
    let events = train
        .into_iter()
        .flat_map(|s| {
            s.items.into_iter().map(move |item| Event {
                user: s.id.clone(),
                item,
                time: None,
            })
        })
        .collect();
    let interactions = non_empty_log(
        file,
        assemble(events, &HashMap::new(), options.min_interactions),
        options,
    )?;
    let starts = times.map(|times| {
        let users = interactions.users.iter();
        users.map(|u| times[&u.user]).collect()
    });
    Ok(Log {
        interactions,
        format,
        held_out,
        starts,
        notes,
        detected,
    })
}

/// Reads the log at `path` (a file, or a folder holding `ratings.csv`, `ratings.dat` or one
/// `.inter` file), with item titles from the companion file when there is one.
pub fn load(path: &Path, options: &LoadOptions) -> Result<Interactions, DataError> {
    Ok(read(path, options)?.interactions)
}

/// The files [`load`] reads for `path`: the log and the companion title files that exist.
/// Writers use it to refuse overwriting their own input.
pub fn input_files(path: &Path) -> Result<Vec<PathBuf>, DataError> {
    let log = resolve(path)?;
    let companions = [
        log.with_file_name("movies.csv"),
        log.with_file_name("movies.dat"),
        log.with_extension("item"),
    ];
    let mut files = vec![log];
    files.extend(companions.into_iter().filter(|c| files::is_file(c)));
    Ok(files)
}

/// A folder stands for the log inside it: `ratings.csv`, else `ratings.dat`, else its one
/// `.inter` file (two or more are an error naming them: which is the log is not guessed).
fn resolve(path: &Path) -> Result<PathBuf, DataError> {
    if !files::is_dir(path) {
        return Ok(path.to_path_buf());
    }
    for name in ["ratings.csv", "ratings.dat"] {
        if files::is_file(&path.join(name)) {
            return Ok(path.join(name));
        }
    }
    let mut inter: Vec<PathBuf> = files::list(path)
        .map_err(|source| DataError::Io {
            path: path.into(),
            source,
        })?
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "inter"))
        .collect();
    inter.sort();
    let unrecognised = |reason: String| DataError::Unrecognised {
        path: path.into(),
        reason,
    };
    match inter.len() {
        0 => Err(unrecognised(
            "folder holds no ratings.csv, ratings.dat or .inter file".into(),
        )),
        1 => Ok(inter.remove(0)),
        n => {
            let names: Vec<String> = inter
                .iter()
                .take(3)
                .map(|p| excerpt(&p.file_name().unwrap_or_default().to_string_lossy()))
                .collect();
            let more = if n > 3 { ", …" } else { "" };
            Err(unrecognised(format!(
                "folder holds {n} .inter files ({}{more}): give --data the one to read",
                names.join(", ")
            )))
        }
    }
}

/// Reads a regular file of at most [`MAX_LOG_BYTES`] as text, without a leading UTF-8
/// byte-order mark; a file that is not UTF-8 (old MovieLens `.dat` files are Latin-1) is
/// read as Latin-1, unless it also holds UTF-8 text. UTF-16 is refused.
pub(crate) fn read_text(path: &Path) -> Result<String, DataError> {
    let io = |source| DataError::Io {
        path: path.into(),
        source,
    };
    let refuse = |reason: &str| DataError::Unrecognised {
        path: path.into(),
        reason: reason.into(),
    };
    let mut bytes = files::read_up_to(path, MAX_LOG_BYTES).map_err(|e| match e {
        Some(source) => io(source),
        None => refuse("not a regular file"),
    })?;
    if bytes.len() as u64 > MAX_LOG_BYTES {
        return Err(refuse(&format!(
            "larger than the limit of {MAX_LOG_BYTES} bytes"
        )));
    }
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(refuse(
            "UTF-16 text is not supported: save the file as UTF-8",
        ));
    }
    if bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
        bytes.drain(..3);
    }
    String::from_utf8(bytes).or_else(|e| {
        let invalid_at = e.utf8_error().valid_up_to();
        latin1(e.into_bytes(), invalid_at).map_err(|reason| refuse(&reason))
    })
}

/// Decodes a file that is not UTF-8 (its first such byte at `invalid_at`) as Latin-1, unless
/// it also holds UTF-8 text: then either reading garbles some ids, so the lines are named.
fn latin1(bytes: Vec<u8>, invalid_at: usize) -> Result<String, String> {
    // Line ends as `lines` counts them: `\n`, `\r\n` and a lone `\r`.
    let ends_line =
        |i: usize| bytes[i] == b'\n' || (bytes[i] == b'\r' && bytes.get(i + 1) != Some(&b'\n'));
    let line = |offset: usize| (0..offset).filter(|&i| ends_line(i)).count() + 1;
    let mut offset = 0;
    for chunk in bytes.utf8_chunks() {
        if let Some(i) = chunk.valid().find(|c: char| !c.is_ascii()) {
            let (bad, good) = (line(invalid_at), line(offset + i));
            return Err(match bad == good {
                true => format!(
                    "mixes encodings: line {bad} holds both UTF-8 text and bytes that are not UTF-8; save the file as UTF-8"
                ),
                false => format!(
                    "mixes encodings: line {bad} is not UTF-8 but line {good} is; save the file as UTF-8"
                ),
            });
        }
        offset += chunk.valid().len() + chunk.invalid().len();
    }
    Ok(bytes.iter().map(|&b| b as char).collect())
}

/// True when `header` is a click export's: delimited column names, one of them a session or
/// visitor column.
fn is_click_header(header: &str) -> bool {
    let names: Vec<String> = header
        .split([',', ';', '\t'])
        .map(|n| n.trim().trim_matches('"').to_ascii_lowercase())
        .collect();
    names.len() >= 2
        && names.iter().any(|n| {
            matches!(
                n.as_str(),
                "session_id" | "sessionid" | "session" | "visitorid" | "visitor_id" | "visitor"
            )
        })
}

/// The click-export format of a header [`is_click_header`] accepts: a public data set's raw
/// file by its exact header, else the generic export.
fn click_format(header: &str) -> Format {
    match header.trim() {
        "session_id;user_id;item_id;timeframe;eventdate" => Format::Diginetica,
        "timestamp,visitorid,event,itemid,transactionid" => Format::Retailrocket,
        _ => Format::Events,
    }
}

/// True for a YooChoose click row: `session,2014-04-06T20:21:58.444Z,item,category`.
fn is_yoochoose_row(line: &str) -> bool {
    let fields: Vec<&str> = line.split(',').collect();
    fields.len() == 4
        && fields[0].bytes().all(|b| b.is_ascii_digit())
        && fields[1].len() > 10
        && fields[1].as_bytes()[10] == b'T'
}

/// Picks the format from the extension, then from the shape of the first lines: `::`
/// means `.dat`, a `userId,` header MovieLens CSV, a typed tab-separated header RecBole;
/// else whitespace-separated text is `pairs` when every sampled line has two fields, or
/// most do and a user appears on two lines, and `sequences` otherwise. Lines that do not
/// fit the chosen format are then errors naming the line. Returns the format and what it
/// was detected from (for the user to check).
fn detect(path: &Path, text: &str) -> Result<(Format, &'static str), DataError> {
    let sample: Vec<&str> = numbered_lines(text).take(1000).map(|(_, l)| l).collect();
    let first = sample.first().copied().unwrap_or_default();
    match path.extension().and_then(|e| e.to_str()) {
        Some("csv" | "tsv" | "txt") if is_click_header(first) => {
            let format = click_format(first);
            let why = match format {
                Format::Events => "its header names a session or visitor column",
                _ => "its header",
            };
            return Ok((format, why));
        }
        Some("csv") => return Ok((Format::Movielens, "its .csv extension")),
        Some("dat") if is_yoochoose_row(first) => {
            return Ok((Format::Yoochoose, "its first row: digits, ISO time"));
        }
        Some("dat") => return Ok((Format::Dat, "its .dat extension")),
        Some("inter") => return Ok((Format::Atomic, "its .inter extension")),
        _ => {}
    }
    if sample.is_empty() {
        return Err(DataError::Empty {
            path: path.into(),
            reason: "the file is empty".into(),
        });
    }
    if first.contains("::") {
        return Ok((Format::Dat, "`::` in its first line"));
    }
    if first.starts_with("userId,") {
        return Ok((Format::Movielens, "its `userId,` header"));
    }
    if first.split('\t').any(|f| f.contains(':')) {
        return Ok((Format::Atomic, "its typed header `name:type`"));
    }
    let mut users = std::collections::HashSet::new();
    let repeated = sample
        .iter()
        .any(|l| !users.insert(l.split_whitespace().next().unwrap_or_default()));
    let two_fields = sample
        .iter()
        .filter(|l| l.split_whitespace().count() == 2)
        .count();
    if two_fields == sample.len() {
        Ok((Format::Pairs, "every line has two fields"))
    } else if repeated && 2 * two_fields > sample.len() {
        Ok((Format::Pairs, "most lines have two fields and users repeat"))
    } else {
        Ok((Format::Sequences, "lines of one user and their items"))
    }
}

pub(crate) fn malformed(path: &Path, line: usize, reason: impl Into<String>) -> DataError {
    DataError::Malformed {
        path: path.into(),
        line,
        reason: reason.into(),
    }
}

/// The lines of `text`: `\n`, `\r\n` and a lone `\r` each end one.
pub(crate) fn lines(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let Some(end) = rest.find(['\r', '\n']) else {
            return Some(std::mem::take(&mut rest));
        };
        let line = &rest[..end];
        rest = &rest[end
            + if rest[end..].starts_with("\r\n") {
                2
            } else {
                1
            }..];
        Some(line)
    })
}

/// Lines with content (not blank, not a `#` comment) with their 1-based numbers.
pub(crate) fn numbered_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    lines(text)
        .enumerate()
        .map(|(i, l)| (i + 1, l))
        .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
}

fn parse_time(path: &Path, line: usize, field: &str) -> Result<f64, DataError> {
    field
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|t| t.is_finite())
        .ok_or_else(|| {
            malformed(
                path,
                line,
                format!("timestamp {} is not a number", excerpt(field)),
            )
        })
}

fn non_empty<'a>(
    path: &Path,
    line: usize,
    what: &str,
    field: &'a str,
) -> Result<&'a str, DataError> {
    let field = field.trim();
    if field.is_empty() {
        return Err(malformed(path, line, format!("empty {what}")));
    }
    Ok(field)
}

/// A delimited table: the header names the columns, every row must have them all.
fn parse_table(
    path: &Path,
    text: &str,
    split: fn(&str) -> Vec<&str>,
    columns: [&str; 3],
    header_name: fn(&str) -> &str,
) -> Result<Vec<Event>, DataError> {
    let mut lines = numbered_lines(text);
    let (_, header) = lines.next().ok_or_else(|| DataError::Empty {
        path: path.into(),
        reason: "the file is empty".into(),
    })?;
    let names: Vec<&str> = split(header).into_iter().map(header_name).collect();
    let position = |name: &str| names.iter().position(|n| n.trim() == name);
    let [user_col, item_col, time_col] = columns.map(position);
    let (Some(user_col), Some(item_col)) = (user_col, item_col) else {
        let reason = format!(
            "header {} lacks the columns {} and {}",
            excerpt(header),
            columns[0],
            columns[1]
        );
        return Err(malformed(path, 1, reason));
    };
    lines
        .map(|(number, line)| {
            let fields = split(line);
            if fields.len() != names.len() {
                let reason = format!("expected {} fields, found {}", names.len(), fields.len());
                return Err(malformed(path, number, reason));
            }
            Ok(Event {
                user: non_empty(path, number, "user id", fields[user_col])?.to_string(),
                item: non_empty(path, number, "item id", fields[item_col])?.to_string(),
                time: time_col
                    .map(|c| parse_time(path, number, fields[c]))
                    .transpose()?,
            })
        })
        .collect()
}

/// The name part of a RecBole typed header field `name:type`.
fn field_name(field: &str) -> &str {
    field.split(':').next().unwrap_or(field)
}

fn parse_movielens_csv(path: &Path, text: &str) -> Result<Vec<Event>, DataError> {
    parse_table(
        path,
        text,
        |l| l.split(',').collect(),
        ["userId", "movieId", "timestamp"],
        |h| h,
    )
}

fn parse_atomic(path: &Path, text: &str) -> Result<Vec<Event>, DataError> {
    parse_table(
        path,
        text,
        |l| l.split('\t').collect(),
        ["user_id", "item_id", "timestamp"],
        field_name,
    )
}

/// `user::item::rating::timestamp`; every row must have as many fields as the first (so
/// that a row cannot lack the timestamp the others are sorted by).
fn parse_dat(path: &Path, text: &str) -> Result<Vec<Event>, DataError> {
    let mut width = None;
    numbered_lines(text)
        .map(|(number, line)| {
            let fields: Vec<&str> = line.split("::").collect();
            if fields.len() < 2 {
                return Err(malformed(path, number, "expected user::item::rating::timestamp"));
            }
            let (first_line, first_width) = *width.get_or_insert((number, fields.len()));
            if fields.len() != first_width {
                let reason = format!("expected {first_width} `::`-separated fields as on line {first_line}, found {}", fields.len());
                return Err(malformed(path, number, reason));
            }
            Ok(Event {
                user: non_empty(path, number, "user id", fields[0])?.to_string(),
                item: non_empty(path, number, "item id", fields[1])?.to_string(),
                time: fields.get(3).map(|t| parse_time(path, number, t)).transpose()?,
            })
        })
        .collect()
}

/// `user item1 item2 …`, one line per user.
fn parse_sequences(path: &Path, text: &str) -> Result<Vec<Event>, DataError> {
    let mut events = Vec::new();
    let mut users: HashMap<&str, usize> = HashMap::new();
    for (number, line) in numbered_lines(text) {
        let mut fields = line.split_whitespace();
        let user = fields.next().unwrap_or_default();
        let items: Vec<&str> = fields.collect();
        if items.is_empty() {
            return Err(malformed(
                path,
                number,
                format!("user {} has no items", excerpt(user)),
            ));
        }
        if let Some(first) = users.insert(user, number) {
            let reason = format!(
                "user {} already had line {first}: a sequences file has one line per user",
                excerpt(user)
            );
            return Err(malformed(path, number, reason));
        }
        events.extend(items.into_iter().map(|item| Event {
            user: user.to_string(),
            item: item.to_string(),
            time: None,
        }));
    }
    Ok(events)
}

/// `user item`, one interaction per line.
fn parse_pairs(path: &Path, text: &str) -> Result<Vec<Event>, DataError> {
    numbered_lines(text)
        .map(
            |(number, line)| match line.split_whitespace().collect::<Vec<_>>()[..] {
                [user, item] => Ok(Event {
                    user: user.into(),
                    item: item.into(),
                    time: None,
                }),
                ref fields => Err(malformed(
                    path,
                    number,
                    format!("expected `user item`, found {} fields", fields.len()),
                )),
            },
        )
        .collect()
}

/// Titles from the companion file of a log (`movies.csv`, `movies.dat`, `x.item`), if any.
fn load_titles(log: &Path, format: Format) -> Result<HashMap<String, String>, DataError> {
    let companion = match format {
        Format::Movielens => log.with_file_name("movies.csv"),
        Format::Dat => log.with_file_name("movies.dat"),
        Format::Atomic => log.with_extension("item"),
        _ => return Ok(HashMap::new()),
    };
    if !files::is_file(&companion) {
        return Ok(HashMap::new());
    }
    let text = read_text(&companion)?;
    match format {
        Format::Movielens => parse_movies_csv(&companion, &text),
        Format::Dat => Ok(numbered_lines(&text)
            .filter_map(|(_, l)| {
                let mut f = l.split("::");
                Some((f.next()?.to_string(), f.next()?.to_string()))
            })
            .collect()),
        _ => parse_item_titles(&companion, &text),
    }
}

/// `movieId,title,genres`, where titles holding commas are quoted. Read like the logs:
/// blank and `#` lines skipped, any line end, errors naming the line in the file.
fn parse_movies_csv(path: &Path, text: &str) -> Result<HashMap<String, String>, DataError> {
    let content: Vec<(usize, &str)> = numbered_lines(text).collect();
    let joined = content
        .iter()
        .map(|&(_, line)| line)
        .collect::<Vec<_>>()
        .join("\n");
    // The reader counts lines of `joined`; the file's number of the n-th is content[n - 1].
    let file_line = |e: &csv::Error| {
        e.position()
            .and_then(|p| content.get((p.line() as usize).checked_sub(1)?))
            .map_or(0, |&(number, _)| number)
    };
    let mut reader = csv::ReaderBuilder::new().from_reader(joined.as_bytes());
    let mut titles = HashMap::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            let reason = match e.kind() {
                csv::ErrorKind::UnequalLengths {
                    expected_len, len, ..
                } => format!("expected {expected_len} fields, found {len}"),
                _ => crate::catalogue::message_excerpt(&e.to_string()),
            };
            malformed(path, file_line(&e), reason)
        })?;
        if let (Some(id), Some(title)) = (record.get(0), record.get(1)) {
            titles.insert(id.to_string(), title.to_string());
        }
    }
    Ok(titles)
}

/// RecBole `.item`: `item_id` and the first column whose name contains `title`.
fn parse_item_titles(path: &Path, text: &str) -> Result<HashMap<String, String>, DataError> {
    let mut lines = numbered_lines(text);
    let Some((_, header)) = lines.next() else {
        return Ok(HashMap::new());
    };
    let names: Vec<&str> = header
        .split('\t')
        .map(|h| h.split(':').next().unwrap_or(h))
        .collect();
    let id_col = names.iter().position(|n| *n == "item_id");
    let title_col = names.iter().position(|n| n.contains("title"));
    let (Some(id_col), Some(title_col)) = (id_col, title_col) else {
        return Ok(HashMap::new());
    };
    let mut titles = HashMap::new();
    for (number, line) in lines {
        let fields: Vec<&str> = line.split('\t').collect();
        let (Some(id), Some(title)) = (fields.get(id_col), fields.get(title_col)) else {
            return Err(malformed(
                path,
                number,
                format!("expected {} tab-separated fields", names.len()),
            ));
        };
        titles.insert(id.to_string(), title.to_string());
    }
    Ok(titles)
}
