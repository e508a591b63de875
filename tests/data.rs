//! Log readers on the real data sets and on broken files.

mod common;

use std::path::Path;

use awrsr::data::{DataError, Format, LoadOptions, Split, load};

fn load_default(path: &Path) -> awrsr::data::Interactions {
    load(path, &LoadOptions::default()).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn counts(path: &Path) -> (usize, usize, usize) {
    let data = load_default(path);
    (data.users.len(), data.catalogue.len(), data.len())
}

#[test]
fn movielens_csv_with_titles_in_time_order() {
    let folder = common::shipped_movielens();
    let data = load_default(&folder);
    assert_eq!(
        (data.users.len(), data.catalogue.len(), data.len()),
        (610, 9724, 100836)
    );
    let toy_story = data.catalogue.index_of("1").unwrap();
    assert_eq!(data.catalogue.title(toy_story), Some("Toy Story (1995)"));
    let quoted = data.catalogue.index_of("11").unwrap();
    assert_eq!(
        data.catalogue.title(quoted),
        Some("American President, The (1995)"),
        "quoted CSV title"
    );

    // User 1's history must follow the timestamps of ratings.csv, ties in file order.
    let text = std::fs::read_to_string(folder.join("ratings.csv")).unwrap();
    let mut rows: Vec<(u64, String)> = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect::<Vec<_>>())
        .filter(|f| f[0] == "1")
        .map(|f| (f[3].parse().unwrap(), f[1].to_string()))
        .collect();
    rows.sort_by_key(|r| r.0);
    let user = data.users.iter().find(|u| u.user == "1").unwrap();
    let ids: Vec<&str> = user.items.iter().map(|&i| data.catalogue.id(i)).collect();
    let expected: Vec<&str> = rows.iter().map(|r| r.1.as_str()).collect();
    assert_eq!(ids, expected);
}

#[test]
fn recbole_atomic_with_item_titles() {
    let path = common::shared("ml-100k/ml-100k.inter");
    let data = load_default(&path);
    assert_eq!(
        (data.users.len(), data.catalogue.len(), data.len()),
        (943, 1682, 100000)
    );
    assert!(data.catalogue.has_titles());
}

#[test]
fn amazon_sequences_and_ml1m_pairs() {
    assert_eq!(
        counts(&common::shared("amazon/Beauty.txt")),
        (22363, 12101, 198502)
    );
    assert_eq!(
        counts(&common::shared("ml-1m/ml-1m.txt")),
        (6040, 3416, 993059)
    );
}

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn error_of(path: &Path, format: Option<Format>) -> DataError {
    load(
        path,
        &LoadOptions {
            format,
            min_interactions: 1,
            ..LoadOptions::default()
        },
    )
    .expect_err("the file is broken")
}

fn malformed_line(error: DataError) -> (usize, String) {
    match error {
        DataError::Malformed { line, reason, .. } => (line, reason),
        other => panic!("expected a malformed-line error, got {other}"),
    }
}

#[test]
fn broken_files_are_reported_with_file_line_and_reason() {
    let dir = tempfile::tempdir().unwrap();
    let header = "userId,movieId,rating,timestamp\n";

    let short = write(
        dir.path(),
        "short.csv",
        &format!("{header}1,2,3.0,10\n1,5,4.0\n"),
    );
    let error = error_of(&short, None);
    assert!(
        error
            .to_string()
            .starts_with(&format!("{}:3:", short.display())),
        "{error}"
    );
    assert_eq!(
        malformed_line(error),
        (3, "expected 4 fields, found 3".to_string())
    );

    let time = write(
        dir.path(),
        "time.csv",
        &format!("{header}1,2,3.0,yesterday\n"),
    );
    let (line, reason) = malformed_line(error_of(&time, None));
    assert_eq!(line, 2);
    assert!(reason.contains("timestamp \"yesterday\""), "{reason}");

    let empty_id = write(dir.path(), "id.csv", &format!("{header}1,,3.0,10\n"));
    assert_eq!(
        malformed_line(error_of(&empty_id, None)),
        (2, "empty item id".to_string())
    );

    let header_only = write(dir.path(), "hdr.csv", "user,item,when\n1,2,3\n");
    let (line, reason) = malformed_line(error_of(&header_only, None));
    assert_eq!(line, 1);
    assert!(
        reason.contains("lacks the columns userId and movieId"),
        "{reason}"
    );

    let pairs = write(dir.path(), "pairs.txt", "1 2\n1 3\n2 4 5\n");
    let (line, reason) = malformed_line(error_of(&pairs, Some(Format::Pairs)));
    assert_eq!(
        (line, reason.as_str()),
        (3, "expected `user item`, found 3 fields")
    );

    let sequences = write(dir.path(), "seq.txt", "1 2 3\n7\n");
    let (line, reason) = malformed_line(error_of(&sequences, Some(Format::Sequences)));
    assert_eq!((line, reason.as_str()), (2, "user \"7\" has no items"));

    let dat = write(
        dir.path(),
        "ratings.dat",
        "1::2::5::978300760\n1::3::5::soon\n",
    );
    assert_eq!(malformed_line(error_of(&dat, None)).0, 2);

    let empty = write(dir.path(), "empty.txt", "\n\n");
    assert!(matches!(error_of(&empty, None), DataError::Empty { .. }));

    let missing = dir.path().join("absent.csv");
    let error = error_of(&missing, None);
    assert!(matches!(error, DataError::Io { .. }));
    assert!(error.to_string().contains("absent.csv"));

    let folder = tempfile::tempdir().unwrap();
    let error = error_of(folder.path(), None);
    assert!(matches!(error, DataError::Unrecognised { .. }), "{error}");
}

#[test]
fn ties_keep_file_order_and_short_users_are_dropped_on_request() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "ratings.csv",
        "userId,movieId,rating,timestamp\n1,b,1,20\n1,a,1,10\n1,c,1,20\n2,a,1,5\n",
    );
    let data = load_default(&path);
    let user = &data.users[0];
    let ids: Vec<&str> = user.items.iter().map(|&i| data.catalogue.id(i)).collect();
    assert_eq!(ids, ["a", "b", "c"]);

    let options = LoadOptions {
        format: None,
        min_interactions: 2,
        ..LoadOptions::default()
    };
    assert_eq!(load(&path, &options).unwrap().users.len(), 1);
    let options = LoadOptions {
        format: None,
        min_interactions: 10,
        ..LoadOptions::default()
    };
    assert!(matches!(
        load(&path, &options),
        Err(DataError::Empty { .. })
    ));
}

#[test]
fn leave_one_out_holds_out_the_last_two_items() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "seq.txt", "u1 a b c d\nu2 a b\n");
    let data = load(
        &path,
        &LoadOptions {
            format: Some(Format::Sequences),
            min_interactions: 1,
            ..LoadOptions::default()
        },
    )
    .unwrap();
    let split = Split::leave_one_out(&data);
    let id = |i: u32| data.catalogue.id(i).to_string();
    assert_eq!(split.train.len(), 2, "short users still train");
    assert_eq!(split.valid.len(), 1);
    assert_eq!(
        split.valid[0]
            .input
            .iter()
            .map(|&i| id(i))
            .collect::<Vec<_>>(),
        ["a", "b"]
    );
    assert_eq!(id(split.valid[0].target), "c");
    assert_eq!(
        split.test[0]
            .input
            .iter()
            .map(|&i| id(i))
            .collect::<Vec<_>>(),
        ["a", "b", "c"]
    );
    assert_eq!(id(split.test[0].target), "d");
}

/// Each user's item ids, in order.
fn histories(path: &Path, format: Option<Format>) -> Vec<(String, Vec<String>)> {
    let data = load(
        path,
        &LoadOptions {
            format,
            min_interactions: 1,
            ..LoadOptions::default()
        },
    )
    .unwrap_or_else(|e| panic!("{e}"));
    data.users
        .iter()
        .map(|u| {
            (
                u.user.clone(),
                u.items
                    .iter()
                    .map(|&i| data.catalogue.id(i).to_string())
                    .collect(),
            )
        })
        .collect()
}

fn owned(users: &[(&str, &[&str])]) -> Vec<(String, Vec<String>)> {
    users
        .iter()
        .map(|(u, items)| (u.to_string(), items.iter().map(|i| i.to_string()).collect()))
        .collect()
}

#[test]
fn line_ends_byte_order_marks_and_comments_do_not_change_what_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let expected = owned(&[("1", &["a", "b"]), ("2", &["c"])]);
    let cases = [
        (
            "ratings.csv",
            "userId,movieId,rating,timestamp\n1,a,5,1\n1,b,5,2\n2,c,5,3\n",
        ),
        ("ratings.dat", "1::a::5::1\n1::b::5::2\n2::c::5::3\n"),
        (
            "x.inter",
            "user_id:token\titem_id:token\ttimestamp:float\n1\ta\t1\n1\tb\t2\n2\tc\t3\n",
        ),
        ("seq.txt", "1 a b\n2 c\n"),
        ("pairs.txt", "1 a\n1 b\n2 c\n"),
    ];
    for (name, text) in cases {
        for (variant, transformed) in [
            ("CRLF", text.replace('\n', "\r\n")),
            ("CR", text.replace('\n', "\r")),
            ("BOM", format!("\u{feff}{text}")),
            (
                "comments",
                format!(
                    "# exported 2024\n{}\n  # the end\n",
                    text.replacen('\n', "\n# between\n", 2)
                ),
            ),
        ] {
            let path = write(dir.path(), name, &transformed);
            let format = if name == "seq.txt" {
                Some(Format::Sequences)
            } else {
                None
            };
            assert_eq!(histories(&path, format), expected, "{name} with {variant}");
        }
    }
    // Line numbers count CR-only lines too.
    let path = write(
        dir.path(),
        "ratings.csv",
        "userId,movieId,rating,timestamp\r1,a,5,1\r1,b,5\r",
    );
    assert_eq!(
        malformed_line(error_of(&path, None)),
        (3, "expected 4 fields, found 3".to_string())
    );
}

#[test]
fn mixed_formats_and_missing_timestamps_are_errors_naming_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let pairs = write(dir.path(), "log.txt", "1 a\n1 b\n2 c\n2 d e\n3 f\n");
    assert_eq!(
        malformed_line(error_of(&pairs, None)),
        (4, "expected `user item`, found 3 fields".to_string())
    );

    let sequences = write(dir.path(), "seq.txt", "1 a b c\n2 d\n1 e f\n");
    let (line, reason) = malformed_line(error_of(&sequences, None));
    assert_eq!(line, 3);
    assert!(reason.contains("already had line 1"), "{reason}");

    let dat = write(dir.path(), "ratings.dat", "1::a::5::20\n1::b::5\n");
    let (line, reason) = malformed_line(error_of(&dat, None));
    assert_eq!(line, 2);
    assert!(
        reason.contains("expected 4 `::`-separated fields as on line 1, found 3"),
        "{reason}"
    );

    let csv = write(
        dir.path(),
        "ratings.csv",
        "userId,movieId,rating,timestamp\n1,a,5,20\n1,b,5,\n",
    );
    let (line, reason) = malformed_line(error_of(&csv, None));
    assert_eq!(line, 3);
    assert!(
        reason.contains("timestamp \"\" is not a number"),
        "{reason}"
    );
}

#[test]
fn error_messages_quote_only_a_short_excerpt() {
    let dir = tempfile::tempdir().unwrap();
    let long = "9".repeat(10_000_000);
    let path = write(
        dir.path(),
        "ratings.csv",
        &format!("userId,movieId,rating,timestamp\n1,a,5,x{long}\n"),
    );
    let message = error_of(&path, None).to_string();
    assert!(
        message.len() < 400 && message.contains('…'),
        "{} chars",
        message.len()
    );
    let path = write(dir.path(), "seq.txt", &format!("u{long}\n"));
    let message = error_of(&path, Some(Format::Sequences)).to_string();
    assert!(
        message.len() < 400 && message.contains("has no items"),
        "{} chars",
        message.len()
    );
}

#[test]
fn latin1_logs_are_read_and_mixed_encodings_refused() {
    let dir = tempfile::tempdir().unwrap();
    let lines = |second: &[u8]| [b"u1 caf\xe9 a b\n".as_slice(), second, b"u3 a b c\n"].concat();
    let latin1 = dir.path().join("latin1.txt");
    std::fs::write(&latin1, lines(b"u2 a b caf\xe9\n")).unwrap();
    let read = load(
        &latin1,
        &LoadOptions {
            format: Some(Format::Sequences),
            min_interactions: 1,
            ..LoadOptions::default()
        },
    )
    .unwrap();
    assert!(
        (1..=read.catalogue.len() as u32).any(|i| read.catalogue.id(i) == "caf\u{e9}"),
        "the Latin-1 id reads as café"
    );
    let mixed = dir.path().join("mixed.txt");
    std::fs::write(&mixed, lines("u2 a b café\n".as_bytes())).unwrap();
    let message = error_of(&mixed, Some(Format::Sequences)).to_string();
    assert!(
        message.contains("mixes encodings: line 1 is not UTF-8 but line 2 is"),
        "{message}"
    );
    let old_mac = dir.path().join("mixed-cr.txt"); // lone CRs end lines too
    std::fs::write(
        &old_mac,
        lines("u2 a b café\n".as_bytes())
            .iter()
            .map(|&b| if b == b'\n' { b'\r' } else { b })
            .collect::<Vec<u8>>(),
    )
    .unwrap();
    let message = error_of(&old_mac, Some(Format::Sequences)).to_string();
    assert!(
        message.contains("mixes encodings: line 1 is not UTF-8 but line 2 is"),
        "{message}"
    );
    // Both on one line: that line is named once.
    let one_line = dir.path().join("mixed-one-line.txt");
    let mut bytes = b"u1 caf\xe9 ".to_vec();
    bytes.extend("café\n".as_bytes());
    std::fs::write(&one_line, bytes).unwrap();
    let message = error_of(&one_line, Some(Format::Sequences)).to_string();
    assert!(
        message
            .contains("mixes encodings: line 1 holds both UTF-8 text and bytes that are not UTF-8"),
        "{message}"
    );
}

#[test]
fn devices_folders_and_utf16_are_refused() {
    let error = error_of(Path::new("/dev/zero"), Some(Format::Pairs));
    assert!(error.to_string().contains("not a regular file"), "{error}");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("utf16.txt");
    std::fs::write(&path, [0xFF, 0xFE, b'1', 0, b' ', 0, b'a', 0]).unwrap();
    assert!(error_of(&path, None).to_string().contains("UTF-16"));
}

#[test]
fn a_folder_with_two_inter_files_is_an_error_not_a_choice() {
    let dir = tempfile::tempdir().unwrap();
    let inter = "user_id:token\titem_id:token\n1\ta\n1\tb\n";
    write(dir.path(), "b.inter", inter);
    assert_eq!(
        load_default(dir.path()).len(),
        2,
        "one .inter file is the log"
    );
    write(dir.path(), "a.inter", inter);
    let error = error_of(dir.path(), None).to_string();
    assert!(
        error.contains("folder holds 2 .inter files (\"a.inter\", \"b.inter\")"),
        "{error}"
    );
}

#[test]
fn movies_csv_takes_comments_and_line_ends_like_the_logs() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "ratings.csv",
        "userId,movieId,rating,timestamp\n1,a,5,1\n1,b,5,2\n",
    );
    let movies = "movieId,title,genres\na,Alpha,Drama\nb,\"Beta, The\",Comedy\n";
    for (variant, text) in [
        ("LF", movies.to_string()),
        ("CR", movies.replace('\n', "\r")),
        ("CRLF", movies.replace('\n', "\r\n")),
        (
            "comments",
            format!(
                "# exported 2024\n{}\n  # the end\n",
                movies.replacen('\n', "\n# between\n\n", 1)
            ),
        ),
        (
            "comments, CR",
            format!("# exported\r{}", movies.replace('\n', "\r#\r")),
        ),
    ] {
        write(dir.path(), "movies.csv", &text);
        let data = load_default(dir.path());
        let title = |id| data.catalogue.title(data.catalogue.index_of(id).unwrap());
        assert_eq!(
            (title("a"), title("b")),
            (Some("Alpha"), Some("Beta, The")),
            "{variant}"
        );
    }
    // A broken line is named by its number in the file, CR-only lines counted.
    write(
        dir.path(),
        "movies.csv",
        "movieId,title,genres\r# note\ra,Alpha,Drama\rb,\"Beta,Comedy\r",
    );
    let error = error_of(dir.path(), None).to_string();
    assert!(error.contains("movies.csv:4:"), "{error}");
}
