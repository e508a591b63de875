//! Session logs: the generic click-export reader, the raw formats of the public data sets and
//! SR-GNN's standard preprocessing, through the public API.

mod common;

use std::path::{Path, PathBuf};

use awrsr::data::events::{DEFAULT_SESSION_GAP_SECONDS, SessionLog};
use awrsr::data::preprocess::{SessionCase, test_cases};
use awrsr::data::{
    EventOptions, Preprocessed, RawFormat, Session, Standard, read_events, read_raw,
};

const DAY: f64 = 86_400.0;

/// Writes `text` to `name` in a fresh folder; the folder lives as long as the guard.
fn write(name: &str, text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

fn items(log: &SessionLog) -> Vec<(String, Vec<&str>)> {
    log.sessions
        .iter()
        .map(|s| (s.id.clone(), s.items.iter().map(String::as_str).collect()))
        .collect()
}

fn sessions_of(sessions: &[Session]) -> Vec<(&str, Vec<&str>)> {
    sessions
        .iter()
        .map(|s| (s.id.as_str(), s.items.iter().map(String::as_str).collect()))
        .collect()
}

/// The error message, which must name `path:line`.
fn error_at(
    result: Result<SessionLog, awrsr::data::DataError>,
    path: &Path,
    line: usize,
) -> String {
    let message = result.expect_err("the input must be refused").to_string();
    let at = format!("{}:{line}:", path.display());
    assert!(message.starts_with(&at), "{message:?} does not name {at}");
    message
}

fn note<'a>(notes: &'a [String], start: &str) -> &'a str {
    notes
        .iter()
        .find(|n| n.starts_with(start))
        .unwrap_or_else(|| panic!("no note {start:?} in {notes:?}"))
}

#[test]
fn guesses_columns_and_sorts_clicks_and_sessions_by_time() {
    // Session b starts earlier than a; a's clicks are out of order in the file; the tie of
    // b's two clicks at 200 keeps file order.
    let text = "sessionId,timestamp,itemId,price\n\
                a,1000,x,1\n\
                a,900,y,1\n\
                b,200,p,1\n\
                b,200,q,1\n\
                a,1100,z,1\n";
    let (_dir, path) = write("clicks.csv", text);
    let log = read_events(&path, &EventOptions::default()).unwrap();
    assert_eq!(
        items(&log),
        [
            ("b".into(), vec!["p", "q"]),
            ("a".into(), vec!["y", "x", "z"])
        ]
    );
    assert_eq!(log.sessions[0].time, Some(200.0));
    assert_eq!(log.sessions[1].time, Some(900.0));
    assert_eq!(log.notes[0], "delimiter: ','");
    assert_eq!(
        log.notes[1],
        "columns: session=\"sessionId\" (guessed) item=\"itemId\" (guessed) time=\"timestamp\" (guessed)"
    );
    assert_eq!(
        note(&log.notes, "time:"),
        "time: Unix seconds, detected on line 2"
    );
}

#[test]
fn chooses_columns_by_name_and_detects_the_delimiter() {
    // Tab-separated, with a `session` column the names override, and a quoted field.
    let text = "visit\tsession\twhat\twhen\n1\tz\t\"a\tb\"\t5\n1\tz\tc\t6\n2\tz\td\t1\n";
    let (_dir, path) = write("clicks.tsv", text);
    let options = EventOptions {
        session_column: Some("visit".into()),
        item_column: Some("WHAT".into()),
        time_column: Some("when".into()),
        ..EventOptions::default()
    };
    let log = read_events(&path, &options).unwrap();
    assert_eq!(
        items(&log),
        [("2".into(), vec!["d"]), ("1".into(), vec!["a\tb", "c"])]
    );
    assert_eq!(log.notes[0], "delimiter: tab");
    assert_eq!(
        log.notes[1],
        "columns: session=\"visit\" item=\"what\" time=\"when\""
    );

    // Semicolons; without a time column, file order is time order.
    let (_dir2, path) = write("clicks.txt", "session_id;sku\n1;a\n2;b\n1;c\n");
    let log = read_events(&path, &EventOptions::default()).unwrap();
    assert_eq!(
        items(&log),
        [("1".into(), vec!["a", "c"]), ("2".into(), vec!["b"])]
    );
    assert_eq!(log.sessions[0].time, None);
    assert!(
        log.notes[1].ends_with("time=none (file order is time order)"),
        "{:?}",
        log.notes
    );

    // A named column that does not exist: the error lists the header's columns.
    let options = EventOptions {
        item_column: Some("product".into()),
        ..EventOptions::default()
    };
    let message = error_at(read_events(&path, &options), &path, 1);
    assert!(
        message.contains(
            "no item column \"product\": the header has the columns \"session_id\", \"sku\""
        ),
        "{message}"
    );
}

#[test]
fn detects_the_three_time_formats_and_refuses_mixtures() {
    let cases = [
        (
            "session,item,time\ns,a,1462752000\ns,b,1462752060.5\n",
            "Unix seconds",
            [1_462_752_000.0, 1_462_752_060.5],
        ),
        (
            "session,item,time\ns,a,1462752000000\ns,b,1462752060500\n",
            "Unix milliseconds",
            [1_462_752_000.0, 1_462_752_060.5],
        ),
        (
            "session,item,time\ns,a,2016-05-09\ns,b,2016-05-09T00:01:00.5Z\n",
            "ISO 8601",
            [1_462_752_000.0, 1_462_752_060.5],
        ),
    ];
    for (text, format, times) in cases {
        let (_dir, path) = write("log.csv", text);
        let log = read_events(&path, &EventOptions::default()).unwrap();
        assert_eq!(
            note(&log.notes, "time:"),
            format!("time: {format}, detected on line 2")
        );
        assert_eq!(log.sessions[0].time, Some(times[0]), "{format}");
        assert_eq!(log.sessions[0].items, ["a", "b"], "{format}");
        // The second time, through a second session.
        let text2 = text.replacen("s,b", "t,b", 1);
        let (_dir2, path2) = write("log.csv", &text2);
        let log = read_events(&path2, &EventOptions::default()).unwrap();
        assert_eq!(log.sessions[1].time, Some(times[1]), "{format}");
    }

    // Each format, then a value of another on line 4.
    let refused = [
        (
            "1462752000",
            "2016-05-09",
            "is not Unix seconds (Unix seconds as detected on line 2)",
        ),
        ("1462752000", "1462752000000", "looks like milliseconds"),
        ("1462752000000", "1462752000", "looks like seconds"),
        (
            "2016-05-09",
            "1462752000",
            "is not an ISO 8601 date or time (ISO 8601 as detected on line 2)",
        ),
        (
            "2016-05-09",
            "2016-02-30",
            "is not an ISO 8601 date or time",
        ),
    ];
    for (first, bad, reason) in refused {
        let text = format!("session,item,time\ns,a,{first}\ns,b,{first}\n\ns,c,{bad}\n");
        let (_dir, path) = write("log.csv", &text);
        let message = error_at(read_events(&path, &EventOptions::default()), &path, 5);
        assert!(message.contains(reason), "{message}");
    }
    let (_dir, path) = write("log.csv", "session,item,time\ns,a,yesterday\n");
    let message = error_at(read_events(&path, &EventOptions::default()), &path, 2);
    assert!(
        message.contains("neither Unix seconds, Unix milliseconds nor an ISO 8601"),
        "{message}"
    );
}

#[test]
fn cuts_visitors_into_sessions_at_the_gap() {
    // Gaps: 1000 s, 1800 s (exactly 30 min: same session), 1801 s (new session); the
    // visitor column is guessed (no session column).
    let text = "user_id,item_id,timestamp\nv,a,0\nv,b,1000\nw,z,100\nv,c,2800\nv,d,4601\n";
    let (_dir, path) = write("log.csv", text);
    let log = read_events(&path, &EventOptions::default()).unwrap();
    assert_eq!(DEFAULT_SESSION_GAP_SECONDS, 1800.0);
    assert_eq!(
        items(&log),
        [
            ("v#1".into(), vec!["a", "b", "c"]),
            ("w#1".into(), vec!["z"]),
            ("v#2".into(), vec!["d"])
        ]
    );
    assert_eq!(log.sessions[2].time, Some(4601.0));
    assert_eq!(
        note(&log.notes, "sessions cut"),
        "sessions cut at 30 min inactivity"
    );
    assert!(
        log.notes[1].starts_with("columns: visitor=\"user_id\" (guessed)"),
        "{:?}",
        log.notes
    );

    let options = EventOptions {
        session_gap_seconds: 999.0,
        ..EventOptions::default()
    };
    let log = read_events(&path, &options).unwrap();
    let ids: Vec<(String, Vec<&str>)> = items(&log);
    assert_eq!(
        ids,
        [
            ("v#1".into(), vec!["a"]),
            ("w#1".into(), vec!["z"]),
            ("v#2".into(), vec!["b"]),
            ("v#3".into(), vec!["c"]),
            ("v#4".into(), vec!["d"])
        ]
    );
    assert_eq!(
        note(&log.notes, "sessions cut"),
        "sessions cut at 999 s inactivity"
    );

    // A named visitor column wins over a session column the header also has.
    let text = "session,visitor,item,ts\n1,v,a,0\n2,v,b,10\n";
    let (_dir2, path) = write("log.csv", text);
    let options = EventOptions {
        visitor_column: Some("visitor".into()),
        ..EventOptions::default()
    };
    assert_eq!(
        items(&read_events(&path, &options).unwrap()),
        [("v#1".into(), vec!["a", "b"])]
    );
    // Cutting needs times; a gap must be positive.
    let (_dir3, path) = write("log.csv", "visitorid,itemid\nv,a\n");
    let message = error_at(read_events(&path, &EventOptions::default()), &path, 1);
    assert!(message.contains("needs a time column"), "{message}");
    let (_dir4, path) = write("log.csv", "visitorid,itemid,ts\nv,a,1\n");
    let options = EventOptions {
        session_gap_seconds: 0.0,
        ..EventOptions::default()
    };
    assert!(
        read_events(&path, &options)
            .unwrap_err()
            .to_string()
            .contains("positive")
    );
}

#[test]
fn keeps_the_chosen_events() {
    let text = "session_id,item_id,ts,event_type\n\
                s,a,1,view\ns,b,2,addtocart\ns,c,3,transaction\ns,d,4,VIEW\n";
    let (_dir, path) = write("log.csv", text);
    let all = read_events(&path, &EventOptions::default()).unwrap();
    assert_eq!(all.sessions[0].items, ["a", "b", "c", "d"]);
    let options = EventOptions {
        keep_events: Some(vec!["view".into(), "addtocart".into()]),
        ..EventOptions::default()
    };
    let log = read_events(&path, &options).unwrap();
    assert_eq!(log.sessions[0].items, ["a", "b", "d"]);
    assert_eq!(
        note(&log.notes, "kept events"),
        "kept events: view,addtocart (3 of 4 rows)"
    );
    let options = EventOptions {
        keep_events: Some(vec!["click".into()]),
        ..EventOptions::default()
    };
    let message = read_events(&path, &options).unwrap_err().to_string();
    assert!(
        message.contains("events seen: view, addtocart, transaction"),
        "{message}"
    );
    // Keeping events needs an event column.
    let (_dir2, path) = write("log.csv", "session_id,item_id\ns,a\n");
    let options = EventOptions {
        keep_events: Some(vec!["view".into()]),
        ..EventOptions::default()
    };
    let message = error_at(read_events(&path, &options), &path, 1);
    assert!(message.contains("needs an event column"), "{message}");
}

#[test]
fn bad_files_are_refused_naming_file_and_line() {
    // Empty, or comments and blank lines only.
    for text in ["", "\n\n", "# nothing here\n"] {
        let (_dir, path) = write("log.csv", text);
        let message = error_at(read_events(&path, &EventOptions::default()), &path, 1);
        assert!(message.contains("empty"), "{message}");
    }
    // A header only.
    let (_dir, path) = write("log.csv", "session_id,item_id\n");
    let message = read_events(&path, &EventOptions::default())
        .unwrap_err()
        .to_string();
    assert!(message.contains("no clicks"), "{message}");
    // No item column: listed with the header's columns.
    let (_dir, path) = write("log.csv", "# exported\nsession_id,name,ts\n1,a,1\n");
    let message = error_at(read_events(&path, &EventOptions::default()), &path, 2);
    assert!(
        message.contains("no item column") && message.contains("\"session_id\", \"name\", \"ts\""),
        "{message}"
    );
    // No session or visitor column.
    let (_dir, path) = write("log.csv", "item_id,ts\na,1\n");
    let message = error_at(read_events(&path, &EventOptions::default()), &path, 1);
    assert!(message.contains("no session column"), "{message}");
    // A short row, an empty id, an unterminated quote.
    let (_dir, path) = write("log.csv", "session_id,item_id,ts\n1,a,1\n1,b\n");
    let message = error_at(read_events(&path, &EventOptions::default()), &path, 3);
    assert!(message.contains("expected 3 fields"), "{message}");
    let (_dir, path) = write("log.csv", "session_id,item_id,ts\n1,a,1\r\n1,,2\r\n");
    let message = error_at(read_events(&path, &EventOptions::default()), &path, 3);
    assert!(message.contains("empty item id"), "{message}");
    // Lines counted as the other readers count them: comments, blank lines, lone CRs and
    // a quoted field across two lines.
    let (_dir, path) = write("log.csv", "session_id,item_id,ts\r1,a,1\r\r# c\r1,b,x\r");
    let message = error_at(read_events(&path, &EventOptions::default()), &path, 5);
    assert!(
        message.contains("time \"x\" is not Unix seconds"),
        "{message}"
    );
    let (_dir, path) = write("log.csv", "session_id,item_id,ts\n1,\"a\nb\",1\n\n1,c,-\n");
    let message = error_at(read_events(&path, &EventOptions::default()), &path, 5);
    assert!(
        message.contains("time \"-\" is not Unix seconds"),
        "{message}"
    );
    // A bad time in each raw format.
    let (_dir, path) = write(
        "train-item-views.csv",
        "session_id;user_id;item_id;timeframe;eventdate\n1;NA;5;10;2016-05-09\n1;NA;6;x;2016-05-09\n",
    );
    let message = error_at(
        read_raw(&path, RawFormat::Diginetica, &EventOptions::default()),
        &path,
        3,
    );
    assert!(
        message.contains("timeframe \"x\" is not an integer"),
        "{message}"
    );
    let (_dir, path) = write(
        "yoochoose-clicks.dat",
        "1,2014-04-07T10:51:09.277Z,214536502,0\n1,2014-04-07 morning,214536500,0\n",
    );
    let message = error_at(
        read_raw(&path, RawFormat::Yoochoose, &EventOptions::default()),
        &path,
        2,
    );
    assert!(message.contains("not an ISO 8601"), "{message}");
    let (_dir, path) = write(
        "events.csv",
        "timestamp,visitorid,event,itemid,transactionid\n1433221332,1,view,5,\n",
    );
    let message = error_at(
        read_raw(&path, RawFormat::Retailrocket, &EventOptions::default()),
        &path,
        2,
    );
    assert!(message.contains("looks like seconds"), "{message}");
    // A raw file of another format.
    let (_dir, path) = write("events.csv", "session_id;item_id\n1;2\n");
    let message = error_at(
        read_raw(&path, RawFormat::Retailrocket, &EventOptions::default()),
        &path,
        1,
    );
    assert!(
        message.contains("not a RetailRocket events.csv header"),
        "{message}"
    );
}

#[test]
fn reads_the_diginetica_sample() {
    let path = common::shared("sessions/raw_samples/diginetica_sample_train-item-views.csv");
    let log = read_raw(&path, RawFormat::Diginetica, &EventOptions::default()).unwrap();
    // 12,391 rows in 2,986 sessions (counted by SR-GNN's reading code too).
    assert_eq!((log.sessions.len(), log.clicks()), (2986, 12391));
    // Session 1 (2016-05-09), ordered by timeframe: 75848 (9654), 173912 (33043), 243569 (32118)
    let first = log.sessions.iter().find(|s| s.id == "1").unwrap();
    assert_eq!(first.time, Some(1_462_752_000.0));
    assert_eq!(
        &first.items[..3],
        ["9654", "33043", "32118"].map(String::from)
    );
    assert!(log.sessions.windows(2).all(|w| w[0].time <= w[1].time));
    // The generic reader takes the same file by its header (time = eventdate, file order
    // within a day).
    let generic = read_events(&path, &EventOptions::default()).unwrap();
    assert_eq!(generic.notes[0], "delimiter: ';'");
    assert!(
        generic.notes[1].contains("session=\"session_id\" (guessed)")
            && generic.notes[1].contains("time=\"eventdate\"")
    );
    assert_eq!(generic.sessions.len(), 2986);
}

#[test]
fn reads_the_yoochoose_sample() {
    let path = common::shared("sessions/raw_samples/yoochoose_sample_clicks_SR-GTM.dat");
    let log = read_raw(&path, RawFormat::Yoochoose, &EventOptions::default()).unwrap();
    assert_eq!(log.clicks(), 1913);
    let s832 = log.sessions.iter().find(|s| s.id == "832").unwrap();
    assert_eq!(s832.items, ["214717095", "214717095"]);
    assert_eq!(s832.time, Some(1_396_815_718.444));
    assert!(log.sessions.windows(2).all(|w| w[0].time <= w[1].time));
    // SR-GNN's README has a header added: it is skipped.
    let (_dir, with_header) = write(
        "yoochoose-clicks.dat",
        "session_id,timestamp,item_id,category\n1,2014-04-07T10:54:09.868Z,214536500,0\n1,2014-04-07T10:51:09.277Z,214536502,0\n",
    );
    let log = read_raw(&with_header, RawFormat::Yoochoose, &EventOptions::default()).unwrap();
    assert_eq!(items(&log), [("1".into(), vec!["214536502", "214536500"])]);
    assert_eq!(note(&log.notes, "header"), "header on line 1 skipped");
}

#[test]
fn reads_retailrocket_events_and_the_sessionised_sample() {
    // Raw events.csv: milliseconds, views kept by default, visitors cut at 30 min.
    let text = "timestamp,visitorid,event,itemid,transactionid\n\
                1433221332117,257597,view,355908,\n\
                1433221337000,257597,addtocart,355908,\n\
                1433221400000,257597,view,248676,\n\
                1433224000000,257597,view,1,\n\
                1433221000000,992329,view,111016,\n\
                1433221500000,992329,transaction,111016,4000\n";
    let (_dir, path) = write("events.csv", text);
    let log = read_raw(&path, RawFormat::Retailrocket, &EventOptions::default()).unwrap();
    assert_eq!(
        items(&log),
        [
            ("992329#1".into(), vec!["111016"]),
            ("257597#1".into(), vec!["355908", "248676"]),
            ("257597#2".into(), vec!["1"])
        ]
    );
    assert_eq!(log.sessions[1].time, Some(1_433_221_332.117));
    assert_eq!(
        note(&log.notes, "kept events"),
        "kept events: view (4 of 6 rows)"
    );
    let options = EventOptions {
        keep_events: Some(vec!["view".into(), "addtocart".into()]),
        ..EventOptions::default()
    };
    let log = read_raw(&path, RawFormat::Retailrocket, &options).unwrap();
    assert_eq!(log.sessions[1].items, ["355908", "355908", "248676"]);

    // The shared sample is already sessionised (`timestamp user_id item_id session_id`).
    let path = common::shared("sessions/raw_samples/retailrocket_sample_SR-GTM.tsv");
    let options = EventOptions {
        session_column: Some("session_id".into()),
        ..EventOptions::default()
    };
    let log = read_events(&path, &options).unwrap();
    assert_eq!(log.clicks(), 10_080);
    assert_eq!(log.notes[0], "delimiter: tab");
    let s0 = log.sessions.iter().find(|s| s.id == "0").unwrap();
    assert_eq!(
        (s0.items.as_slice(), s0.time),
        (
            ["285930", "357564", "67045"].map(String::from).as_slice(),
            Some(1_442_004_589.0)
        )
    );
}

fn session(id: &str, day: f64, items: &str) -> Session {
    Session {
        id: id.into(),
        items: items.split_whitespace().map(String::from).collect(),
        time: Some(day * DAY),
    }
}

/// A log where every step can be followed by hand (support 3, 2 test days).
#[test]
fn standard_preprocessing_step_by_step() {
    let log = SessionLog {
        sessions: vec![
            session("s1", 0.0, "a b"),
            session("s2", 1.0, "a b c"),
            session("s3", 1.0, "q"),         // length 1: dropped first
            session("s4", 0.0, "b a r"),     // r: 2 clicks, rare
            session("s5", 2.0, "r a"),       // only `a` left: dropped
            session("s6", 3.0, "c a b"), // exactly at the split date (day 5 − 2): in neither set
            session("s7", 5.0, "a t c b"), // t rare
            session("s8", 5.0, "c d d d b"), // d: 4 clicks, all in test sessions
            session("s9", 4.0, "e c"),   // e rare: dropped
            session("s10", 4.0, "d c"),  // test, d unknown in training: dropped
        ],
        notes: Vec::new(),
    };
    // Clicks after step 1: a 6, b 6, c 6, d 4, r 2, t 1, e 1.
    let settings = Standard {
        min_item_support: 3,
        test_days: 2.0,
        ..Standard::default()
    };
    let Preprocessed { train, test, notes } =
        awrsr::data::preprocess::standard(log, &settings).unwrap();
    for n in &notes {
        println!("{n}");
    }
    // Sorted by day, ties in log order: s1, s4 (day 0), s2 (day 1).
    assert_eq!(
        sessions_of(&train),
        [
            ("s1", vec!["a", "b"]),
            ("s4", vec!["b", "a"]),
            ("s2", vec!["a", "b", "c"])
        ]
    );
    assert_eq!(
        sessions_of(&test),
        [("s7", vec!["a", "c", "b"]), ("s8", vec!["c", "b"])]
    );
    assert_eq!(
        notes,
        [
            "read: 10 sessions, 27 clicks, 8 items",
            "dropped 1 sessions shorter than 2: 9 sessions, 26 clicks, 7 items",
            "dropped 3 items seen fewer than 3 times (4 clicks), then 2 sessions left shorter than 2: 7 sessions, 20 clicks, 4 items",
            "split date 1970-01-04T00:00:00Z (latest session 1970-01-06T00:00:00Z minus 2 days): 3 training sessions before it, 3 test sessions after it, 1 sessions at it dropped",
            "test: dropped 4 clicks on items not in training, then 1 sessions shorter than 2: 2 sessions, 5 clicks, 3 items, 3 test cases",
            "train: 3 sessions, 7 clicks, 3 items",
        ]
    );
    // SR-GNN's process_seqs order: per session, the longest input first.
    let case = |input: &[&str], target: &str| SessionCase {
        input: input.iter().map(|s| s.to_string()).collect(),
        target: target.into(),
    };
    assert_eq!(
        test_cases(&test),
        [case(&["a", "c"], "b"), case(&["a"], "c"), case(&["c"], "b")]
    );

    // Defaults are SR-GNN's.
    assert_eq!(
        Standard::default(),
        Standard {
            min_session_length: 2,
            min_item_support: 5,
            test_days: 7.0,
            test_fraction: 0.1
        }
    );
}

#[test]
fn standard_preprocessing_without_times_holds_out_the_last_sessions() {
    let mut sessions: Vec<Session> = (0..10)
        .map(|i| session(&format!("s{i}"), 0.0, "a b"))
        .collect();
    sessions[9].items.push("new".into());
    sessions[9].items.push("a".into());
    sessions.push(Session {
        id: "lone".into(),
        items: vec!["a".into()],
        time: None,
    });
    for s in &mut sessions {
        s.time = None;
    }
    let settings = Standard {
        min_item_support: 1,
        test_fraction: 0.2,
        ..Standard::default()
    };
    let out = awrsr::data::preprocess::standard(
        SessionLog {
            sessions,
            notes: Vec::new(),
        },
        &settings,
    )
    .unwrap();
    // `lone` dropped (length 1); of the 10 left, the last 2 by file order are the test set.
    assert_eq!(out.train.len(), 8);
    assert_eq!(
        sessions_of(&out.test),
        [("s8", vec!["a", "b"]), ("s9", vec!["a", "b", "a"])]
    );
    assert!(
        out.notes.iter().any(|n| n
            == "no times: the last 2 sessions by file order (0.2 of 10) are the test sessions"),
        "{:?}",
        out.notes
    );

    // Mixed times are refused, as are settings out of range.
    let mixed = SessionLog {
        sessions: vec![
            session("x", 0.0, "a b"),
            Session {
                id: "y".into(),
                items: vec!["a".into(), "b".into()],
                time: None,
            },
        ],
        notes: Vec::new(),
    };
    assert!(
        awrsr::data::preprocess::standard(mixed.clone(), &Standard::default())
            .unwrap_err()
            .contains("1 of 2 sessions have a time")
    );
    let bad = Standard {
        test_fraction: 1.0,
        ..Standard::default()
    };
    assert!(awrsr::data::preprocess::standard(mixed, &bad).is_err());
}

/// The counts SR-GNN's `datasets/preprocess.py` gives on the Diginetica sample (run with
/// `TZ=UTC`, its `sample` branch, reading `train-item-views` the same way): 2,986 sessions
/// read; 2,053 after dropping length-1 sessions; 525 sessions, 1,877 clicks, 317 items after
/// the item filter; split date 2016-05-25 (9 sessions at it); 469 training sessions (1,674
/// clicks, 309 items) and 47 test sessions before, 39 after the unknown-item filter (138
/// clicks, 99 test cases).
#[test]
fn standard_preprocessing_of_the_diginetica_sample_matches_sr_gnn() {
    let path = common::shared("sessions/raw_samples/diginetica_sample_train-item-views.csv");
    let log = read_raw(&path, RawFormat::Diginetica, &EventOptions::default()).unwrap();
    let out = awrsr::data::preprocess::standard(log, &Standard::default()).unwrap();
    for n in &out.notes {
        println!("{n}");
    }
    assert_eq!(
        out.notes,
        [
            "read: 2986 sessions, 12391 clicks, 7139 items",
            "dropped 933 sessions shorter than 2: 2053 sessions, 11458 clicks, 6774 items",
            "dropped 6456 items seen fewer than 5 times (9225 clicks), then 1528 sessions left shorter than 2: 525 sessions, 1877 clicks, 317 items",
            "split date 2016-05-25T00:00:00Z (latest session 2016-06-01T00:00:00Z minus 7 days): 469 training sessions before it, 47 test sessions after it, 9 sessions at it dropped",
            "test: dropped 24 clicks on items not in training, then 8 sessions shorter than 2: 39 sessions, 138 clicks, 70 items, 99 test cases",
            "train: 469 sessions, 1674 clicks, 309 items",
        ]
    );
    // The first sessions and cases as SR-GNN orders them.
    assert_eq!(out.train[0].id, "2671");
    assert_eq!(out.train[0].items, ["9617", "41377", "3717"]);
    assert_eq!(
        out.test[..3]
            .iter()
            .map(|s| s.id.as_str())
            .collect::<Vec<_>>(),
        ["1864", "1867", "1868"]
    );
    let cases = test_cases(&out.test);
    assert_eq!(cases.len(), 99);
    assert_eq!(
        (cases[1].input.as_slice(), cases[1].target.as_str()),
        (
            ["58637".to_string(), "176018".to_string()].as_slice(),
            "58637"
        )
    );
}
