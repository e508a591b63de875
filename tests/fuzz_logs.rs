//! Bounded fuzzing of the log readers (proptest): for each format (ratings.csv, .dat,
//! .inter, sequences, pairs, click exports by columns and the three public raw formats), files built from valid lines mixed with hostile pieces —
//! CR/CRLF/LF, byte-order marks, comments, separators, empty and long fields, non-numbers
//! as timestamps, invalid UTF-8. `load` must never panic; what it reads must be coherent;
//! an error names the file and stays short. `AWRSR_FUZZ_CASES=100000` runs deeper
//! (docs/fuzzing.md).

use std::path::Path;

use awrsr::data::{Format, LoadOptions, Split, load};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

/// Cases per format: `AWRSR_FUZZ_CASES`, else a few seconds' worth.
fn cases() -> u32 {
    std::env::var("AWRSR_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000)
}

/// A piece of a line: mostly plausible, sometimes hostile.
fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(vec!["1", "2", "3", "42", "a", "b", "978300760", "5", "4.5"]).prop_map(String::from),
        1 => prop::sample::select(vec![
            "", " ", "\t", ",", "::", ":", "#", "\r", "\n", "\r\n", "\u{feff}", "NaN", "inf", "-1e309", "1e400",
            "\"", "é", "\u{0}", "userId", "user_id:token", "x".repeat(300).leak(),
        ])
        .prop_map(String::from),
    ]
}

/// A valid line: `fields` (user, item, rating, timestamp; the first `width`) joined by
/// `separator`, with extra items for sequences.
fn valid(separator: &'static str, width: usize, users: u32) -> impl Strategy<Value = String> {
    (
        0..users,
        prop::collection::vec(0u32..15, 1..5),
        1u32..6,
        0u64..2_000_000_000,
    )
        .prop_map(move |(u, items, r, t)| {
            let mut fields = vec![
                u.to_string(),
                items[0].to_string(),
                r.to_string(),
                t.to_string(),
            ];
            fields.truncate(width);
            if width == 0 {
                fields = std::iter::once(u.to_string())
                    .chain(items.iter().map(u32::to_string))
                    .collect();
            }
            fields.join(separator)
        })
}

/// Mostly valid lines, some of random pieces (joined by `separator` or not).
fn line(separator: &'static str, width: usize, users: u32) -> impl Strategy<Value = String> {
    prop_oneof![
        12 => valid(separator, width, users),
        1 => prop::collection::vec(piece(), 0..6).prop_map(move |p| p.join(separator)),
        1 => prop::collection::vec(piece(), 0..6).prop_map(|p| p.concat()),
    ]
}

/// A whole file: optional BOM, a header (usually, when the format has one), lines with
/// random line ends, comments; sometimes raw bytes.
fn file(
    header: &'static str,
    separator: &'static str,
    width: usize,
    users: u32,
) -> impl Strategy<Value = Vec<u8>> {
    let ends = prop::sample::select(vec!["\n", "\n", "\n", "\r\n", "\r", "\n# note\n"]);
    let lines = prop::collection::vec((line(separator, width, users), ends), 0..30);
    let text = (any::<bool>(), prop::bool::weighted(0.9), lines).prop_map(
        move |(bom, with_header, lines)| {
            let mut text = String::new();
            if bom {
                text.push('\u{feff}');
            }
            if with_header && !header.is_empty() {
                text += header;
                text.push('\n');
            }
            for (line, end) in lines {
                text += &line;
                text += end;
            }
            text.into_bytes()
        },
    );
    prop_oneof![12 => text, 1 => prop::collection::vec(any::<u8>(), 0..200)]
}

/// Loads `bytes` written as `name`; checks the invariants of whatever comes back.
fn check(
    dir: &Path,
    name: &str,
    format: Option<Format>,
    bytes: &[u8],
    min: usize,
) -> Result<bool, TestCaseError> {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    match load(
        &path,
        &LoadOptions {
            format,
            min_interactions: min,
            ..LoadOptions::default()
        },
    ) {
        Err(e) => {
            let message = e.to_string();
            prop_assert!(
                message.starts_with(&path.display().to_string()),
                "{message}"
            );
            prop_assert!(
                message.len() < path.display().to_string().len() + 400,
                "a {}-byte message",
                message.len()
            );
            Ok(false)
        }
        Ok(data) => {
            prop_assert!(!data.users.is_empty());
            let n = data.catalogue.len() as u32;
            for user in &data.users {
                prop_assert!(user.items.len() >= min.max(1));
                prop_assert!(user.items.iter().all(|&i| (1..=n).contains(&i)));
                prop_assert!(!user.user.is_empty() && !user.user.starts_with('#'));
            }
            prop_assert!(data.len() <= bytes.len());
            let split = Split::leave_one_out(&data);
            let _ = awrsr::train::check_trainable(&split);
            let _ = awrsr::eval::check_evaluable(&split);
            Ok(true)
        }
    }
}

fn fuzz(name: &str, format: Option<Format>, strategy: impl Strategy<Value = Vec<u8>>) {
    let dir = tempfile::tempdir().unwrap();
    let total = cases();
    let mut runner = TestRunner::new(Config {
        cases: total,
        failure_persistence: None,
        ..Config::default()
    });
    let read = std::cell::Cell::new(0u32);
    let outcome = runner.run(&(strategy, 1usize..4), |(bytes, min)| {
        read.set(read.get() + u32::from(check(dir.path(), name, format, &bytes, min)?));
        Ok(())
    });
    eprintln!(
        "fuzz_logs {name}: {total} cases, {} read, the rest refused",
        read.get()
    );
    outcome.unwrap();
}

#[test]
fn movielens_csv() {
    fuzz(
        "ratings.csv",
        None,
        file("userId,movieId,rating,timestamp", ",", 4, 5),
    );
}

#[test]
fn movielens_dat() {
    fuzz("ratings.dat", None, file("", "::", 4, 5));
}

#[test]
fn recbole_inter() {
    fuzz(
        "x.inter",
        None,
        file(
            "user_id:token\titem_id:token\trating:float\ttimestamp:float",
            "\t",
            4,
            5,
        ),
    );
}

#[test]
fn sequences() {
    fuzz(
        "seq.txt",
        Some(Format::Sequences),
        file("", " ", 0, 1_000_000),
    );
}

#[test]
fn pairs_and_detection() {
    fuzz("log.txt", None, file("", " ", 2, 5));
}

#[test]
fn click_export_with_sessions() {
    fuzz(
        "events.csv",
        None,
        file("session_id,item_id,rating,timestamp", ",", 4, 5),
    );
}

#[test]
fn click_export_with_visitors_cut_at_gaps() {
    fuzz(
        "clicks.tsv",
        Some(Format::Events),
        file("visitorid\titemid\tevent\ttimestamp", "\t", 4, 5),
    );
}

#[test]
fn raw_diginetica_yoochoose_and_retailrocket() {
    fuzz(
        "train-item-views.csv",
        Some(Format::Diginetica),
        file("session_id;user_id;item_id;timeframe;eventdate", ";", 4, 5),
    );
    fuzz(
        "yoochoose-clicks.dat",
        Some(Format::Yoochoose),
        file("", ",", 4, 5),
    );
    fuzz(
        "events.csv",
        Some(Format::Retailrocket),
        file("timestamp,visitorid,event,itemid,transactionid", ",", 4, 5),
    );
}
