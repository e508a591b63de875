//! `awrsr ab`, an A/B pilot's verdict: the statistics against published worked examples
//! and hand computations by independent formulas, the command end to end on a generated
//! pilot with known counts, CSV and JSON lines giving the same figures, bad input (exit
//! code 2, `file:line`), and bounded fuzzing of the reader (never a panic).

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use awrsr::ab::{katz_ratio, read_pilot, sample_size, two_proportion_z, two_sided_z, wilson};
use common::{awrsr, ok, read_json};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::Value;

fn failure(output: Output) -> String {
    assert_eq!(
        output.status.code(),
        Some(2),
        "expected exit code 2; stdout {}",
        String::from_utf8_lossy(&output.stdout)
    );
    String::from_utf8_lossy(&output.stderr).to_string()
}

fn close(actual: f64, expected: f64, tolerance: f64, what: &str) {
    assert!(
        (actual - expected).abs() <= tolerance,
        "{what}: {actual} is not within {tolerance} of {expected}"
    );
}

// --- The statistics ---------------------------------------------------------------------

/// Newcombe (1998), "Two-sided confidence intervals for the single proportion: comparison
/// of seven methods", Statistics in Medicine 17, Table I, method 3 (Wilson score, no
/// continuity correction), to the 4 decimals printed there.
#[test]
fn wilson_matches_newcombe_table_one() {
    let z = two_sided_z(0.95).unwrap();
    let table = [
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0000, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ];
    for (x, n, low, high) in table {
        let interval = wilson(x, n, z).unwrap();
        close(interval.low, low, 0.00005, &format!("{x}/{n} low"));
        close(interval.high, high, 0.00005, &format!("{x}/{n} high"));
    }
    // Undefined without trials, or with more successes than trials.
    assert!(wilson(0, 0, z).is_none());
    assert!(wilson(5, 4, z).is_none());
    // All successes: the interval ends at exactly 1.
    assert_eq!(wilson(20, 20, z).unwrap().high, 1.0);
}

/// 120 of 2,000 against 100 of 2,000. By hand, through the Pearson χ² of the 2×2 table
/// (which equals the pooled z squared): a = 120, b = 1880, c = 100, d = 1900, N = 4000;
/// ad − bc = 228,000 − 188,000 = 40,000; χ² = N(ad − bc)² / ((a+b)(c+d)(a+c)(b+d))
/// = 4000 · 1.6e9 / (2000 · 2000 · 220 · 3780) = 6.4e12 / 3.3264e12 = 1.924001924;
/// z = √χ² = 1.387083964. The p-value, P(χ²₁ > 1.924) = 2·(1 − Φ(1.387084)) = 0.165416
/// (tables of the normal distribution).
#[test]
fn z_test_matches_hand_computation() {
    let (a, b, c, d) = (120.0_f64, 1880.0_f64, 100.0_f64, 1900.0_f64);
    let n = a + b + c + d;
    let chi2 = n * (a * d - b * c).powi(2) / ((a + b) * (c + d) * (a + c) * (b + d));
    close(chi2, 1.924_001_924, 1e-9, "χ² by hand");
    let test = two_proportion_z(120, 2000, 100, 2000).unwrap();
    close(test.z, chi2.sqrt(), 1e-9, "z");
    close(test.z, 1.387_083_964, 1e-8, "z");
    close(test.p_value, 0.165_416, 2e-6, "p");
    // Symmetric: the other way round the sign flips and the p-value stays.
    let back = two_proportion_z(100, 2000, 120, 2000).unwrap();
    close(back.z, -test.z, 1e-12, "-z");
    close(back.p_value, test.p_value, 1e-12, "p");
    // Equal rates: z = 0, p = 1.
    let same = two_proportion_z(50, 1000, 100, 2000).unwrap();
    close(same.z, 0.0, 1e-12, "z of equal rates");
    close(same.p_value, 1.0, 2e-7, "p of equal rates");
    // No variance (both rates 0 or both 1), no trials, impossible counts: no test.
    assert!(two_proportion_z(0, 100, 0, 200).is_none());
    assert!(two_proportion_z(100, 100, 200, 200).is_none());
    assert!(two_proportion_z(0, 0, 5, 10).is_none());
    assert!(two_proportion_z(11, 10, 5, 10).is_none());
}

/// 140 of 2,000 against 116 of 2,000. By hand: p₁ = 0.07, p₂ = 0.058, RR = 140/116 =
/// 1.2068966, log RR = 0.1880522; SE = √((1 − 0.07)/140 + (1 − 0.058)/116) =
/// √(0.0066429 + 0.0081207) = √0.0147635 = 0.1215053; log RR ± 1.959964·SE =
/// −0.0500939 … 0.4261983, so RR in [0.951140, 1.531424], the uplift −4.9 % … +53.1 %.
#[test]
fn katz_interval_matches_hand_computation() {
    let z = two_sided_z(0.95).unwrap();
    let interval = katz_ratio(140, 2000, 116, 2000, z).unwrap();
    let se = ((1.0 - 0.07) / 140.0 + (1.0 - 0.058) / 116.0_f64).sqrt();
    close(se, 0.121_505_3, 1e-7, "SE by hand");
    close(interval.low, 0.951_140, 2e-6, "low");
    close(interval.high, 1.531_424, 2e-6, "high");
    // The point estimate is the interval's geometric centre.
    close(
        (interval.low * interval.high).sqrt(),
        140.0 / 116.0,
        1e-12,
        "centre",
    );
    // A zero count leaves the logarithm undefined.
    assert!(katz_ratio(0, 2000, 116, 2000, z).is_none());
    assert!(katz_ratio(140, 2000, 0, 2000, z).is_none());
}

/// p₁ = 0.10, p₂ = 0.11 at α = 0.05 (two-sided) and power 0.8. By hand: p̄ = 0.105;
/// z_{α/2}·√(2·0.105·0.895) = 1.959964 · √0.18795 = 1.959964 · 0.4335320 = 0.8497071;
/// z_β·√(0.10·0.90 + 0.11·0.89) = 0.841621 · √0.1879 = 0.841621 · 0.4334743 = 0.3648211;
/// (0.8497071 + 0.3648211)² / 0.01² = 1.2145282² / 0.0001 = 14,750.79 → 14,751 per arm.
/// And the textbook 5 % → 10 %: (1.959964·√(2·0.075·0.925) + 0.841621·√(0.0475 + 0.09))²
/// / 0.05² = (0.7300701 + 0.3120814)² / 0.0025 = 434.4 → 435 per arm (Fleiss, without the
/// continuity correction).
#[test]
fn sample_size_matches_hand_computation() {
    let by_hand = |p1: f64, p2: f64| {
        let mean = (p1 + p2) / 2.0;
        let root = 1.959_964 * (2.0 * mean * (1.0 - mean)).sqrt()
            + 0.841_621 * (p1 * (1.0 - p1) + p2 * (1.0 - p2)).sqrt();
        (root / (p2 - p1)).powi(2)
    };
    close(by_hand(0.10, 0.11), 14_750.79, 0.01, "by hand");
    assert_eq!(sample_size(0.10, 0.11, 0.05, 0.8), Some(14_751));
    assert_eq!(sample_size(0.11, 0.10, 0.05, 0.8), Some(14_751));
    assert_eq!(sample_size(0.05, 0.10, 0.05, 0.8), Some(435));
    // Undefined: a rate of 0 or 1, equal rates, α or power out of range.
    for (p1, p2, alpha, power) in [
        (0.0, 0.1, 0.05, 0.8),
        (0.5, 1.0, 0.05, 0.8),
        (0.1, 0.1, 0.05, 0.8),
        (0.1, 0.2, 0.0, 0.8),
        (0.1, 0.2, 0.05, 1.0),
        (f64::NAN, 0.2, 0.05, 0.8),
    ] {
        assert_eq!(sample_size(p1, p2, alpha, power), None, "{p1} {p2}");
    }
}

// --- The command ------------------------------------------------------------------------

/// One event row: visitor, arm, event, item, time.
type Event = (String, String, &'static str, String, String);

/// A pilot with known counts: `control` and `awrsr` with 2,000 visitors each, three
/// impressions apiece, one click for 30 % (control) or 37.5 % (awrsr) of them, a
/// conversion (twice, for some: counted once) for 1 in 20 (control: 100) or 1 in 16
/// (awrsr: 125); a `holdout` of 1,000 visitors without the widget (no impressions), 40 of
/// them converting; a late control visitor 14 days after the start. Times: Unix seconds.
fn generated_pilot() -> Vec<Event> {
    let start = 1_714_521_600_u64; // 2024-05-01T00:00:00Z
    let mut events = Vec::new();
    let mut push = |visitor: &str, arm: &str, event: &'static str, item: &str, t: u64| {
        events.push((
            visitor.to_string(),
            arm.to_string(),
            event,
            item.to_string(),
            t.to_string(),
        ))
    };
    for v in 0..2000_u64 {
        let t = start + v * 600; // 2,000 × 10 minutes ≈ 13.9 days
        for (arm, clicks_below, converts_every) in [("control", 3, 20), ("awrsr", 3, 8)] {
            let visitor = format!("{arm}-{v}");
            for i in 0..3 {
                let event = if i == 0 {
                    "impression"
                } else {
                    "awrsr:impression"
                };
                push(&visitor, arm, event, "", t + i);
            }
            let clicks = match arm {
                "control" => v % 10 < clicks_below,
                _ => v % 8 < clicks_below,
            };
            if clicks {
                push(&visitor, arm, "click", &format!("item{}", v % 7), t + 5);
            }
            let every = if arm == "control" { converts_every } else { 16 };
            if v % every == 0 {
                push(&visitor, arm, "conversion", "", t + 60);
                if v % 3 == 0 {
                    push(&visitor, arm, "awrsr:conversion", "", t + 90);
                }
            }
        }
        if v < 1000 && v % 25 == 0 {
            push(&format!("holdout-{v}"), "holdout", "conversion", "", t + 30);
        } else if v < 1000 {
            // The others leave one click each: no impressions, so the holdout's CTR is n/a.
            push(&format!("holdout-{v}"), "holdout", "click", "", t + 30);
        }
    }
    events.push((
        "late".into(),
        "control".into(),
        "impression",
        String::new(),
        (start + 14 * 86_400).to_string(),
    ));
    events
}

fn write_csv(path: &Path, events: &[Event], delimiter: &str) {
    let mut text = ["visitor", "arm", "event", "item", "time", "extra"].join(delimiter) + "\n";
    for (visitor, arm, event, item, time) in events {
        text += &[visitor.as_str(), arm, event, item, time, "x"].join(delimiter);
        text += "\n";
    }
    std::fs::write(path, text).unwrap();
}

fn write_jsonl(path: &Path, events: &[Event]) {
    let mut text = String::new();
    for (visitor, arm, event, item, time) in events {
        let item = if item.is_empty() {
            Value::Null
        } else {
            Value::from(item.as_str())
        };
        let line = serde_json::json!({
            "time": time.parse::<u64>().unwrap(),
            "visitor": visitor, "arm": arm, "event": event, "item": item, "page": "/p",
        });
        text += &format!("{line}\n");
    }
    std::fs::write(path, text).unwrap();
}

fn run_ab(events: &Path, json: &Path, extra: &[&str]) -> String {
    let mut args = vec![
        "ab",
        "--events",
        events.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
    ];
    args.extend(extra);
    ok(awrsr(&args))
}

fn arm<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["arms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["arm"] == name)
        .unwrap_or_else(|| panic!("no arm {name}"))
}

#[test]
fn generated_pilot_gives_exactly_the_expected_counts() {
    let dir = tempfile::tempdir().unwrap();
    let events = dir.path().join("events.csv");
    let json = dir.path().join("verdict.json");
    write_csv(&events, &generated_pilot(), ",");
    let stdout = run_ab(&events, &json, &[]);
    println!("{stdout}");
    let report = read_json(&json);

    // Control first, then by name.
    let names: Vec<&str> = report["arms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["arm"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["control", "awrsr", "holdout"]);
    let expected = [
        // arm, visitors, impressions, clicks, converting visitors
        ("control", 2001, 6001, 600, 100),
        ("awrsr", 2000, 6000, 750, 125),
        ("holdout", 1000, 0, 960, 40),
    ];
    for (name, visitors, impressions, clicks, converting) in expected {
        let a = arm(&report, name);
        assert_eq!(a["visitors"], visitors, "{name}");
        assert_eq!(a["impressions"], impressions, "{name}");
        assert_eq!(a["clicks"], clicks, "{name}");
        assert_eq!(a["converting_visitors"], converting, "{name}");
    }
    let events_read = 6001 + 600 + 100 + 34 + 6000 + 750 + 125 + 42 + 1000;
    assert_eq!(report["events"], events_read);
    assert_eq!(report["first_event"], "2024-05-01T00:00:00Z");
    assert_eq!(report["last_event"], "2024-05-15T00:00:00Z");
    assert_eq!(report["days"], 14.0);
    assert_eq!(report["control"], "control");

    // The figures are the library's on those counts.
    let z = two_sided_z(0.95).unwrap();
    let control = arm(&report, "control");
    let ctr = wilson(600, 6001, z).unwrap();
    close(
        control["ctr"]["rate"].as_f64().unwrap(),
        600.0 / 6001.0,
        1e-15,
        "rate",
    );
    close(
        control["ctr"]["low"].as_f64().unwrap(),
        ctr.low,
        1e-15,
        "low",
    );
    close(
        control["ctr"]["high"].as_f64().unwrap(),
        ctr.high,
        1e-15,
        "high",
    );
    let comparisons = report["comparisons"].as_array().unwrap();
    assert_eq!(comparisons.len(), 2);
    let awrsr_vs = &comparisons[0];
    assert_eq!(awrsr_vs["arm"], "awrsr");
    let conversion = &awrsr_vs["conversion"];
    let test = two_proportion_z(125, 2000, 100, 2001).unwrap();
    close(
        conversion["p_value"].as_f64().unwrap(),
        test.p_value,
        1e-15,
        "p",
    );
    close(
        conversion["uplift"].as_f64().unwrap(),
        (125.0 / 2000.0) / (100.0 / 2001.0) - 1.0,
        1e-12,
        "uplift",
    );
    let katz = katz_ratio(125, 2000, 100, 2001, z).unwrap();
    close(
        conversion["low"].as_f64().unwrap(),
        katz.low - 1.0,
        1e-15,
        "low",
    );
    close(
        conversion["high"].as_f64().unwrap(),
        katz.high - 1.0,
        1e-15,
        "high",
    );
    let base = 100.0 / 2001.0;
    let needed = sample_size(base, base * 1.1, 0.05, 0.8).unwrap();
    assert_eq!(conversion["required_per_arm"], needed);
    assert_eq!(conversion["more_per_arm"], needed - 2000);
    assert_eq!(conversion["unit"], "visitors");
    assert_eq!(awrsr_vs["ctr"]["unit"], "impressions");
    assert!(awrsr_vs["verdict"].as_str().unwrap().starts_with("not yet"));

    // The holdout has no impressions: its CTR and the CTR comparison are n/a, explained.
    let holdout = arm(&report, "holdout");
    assert!(holdout["ctr"].is_null());
    assert!(
        holdout["notes"][0]
            .as_str()
            .unwrap()
            .contains("no impressions")
    );
    let holdout_vs = &comparisons[1];
    assert!(holdout_vs["ctr"]["uplift"].is_null());
    assert!(holdout_vs["ctr"]["p_value"].is_null());
    assert!(!holdout_vs["ctr"]["notes"].as_array().unwrap().is_empty());
    assert!(holdout_vs["conversion"]["p_value"].is_number());

    // The text says the same.
    assert!(stdout.contains("2024-05-01T00:00:00Z to 2024-05-15T00:00:00Z (14.0 days)"));
    assert!(stdout.contains("awrsr vs control"));
    assert!(stdout.contains(&format!("needs {needed} visitors per arm")));
    assert!(stdout.contains("note: the arm has no impressions"));
    for bad in ["NaN", "nan", "inf"] {
        assert!(!stdout.contains(bad), "{bad} in\n{stdout}");
    }
}

#[test]
fn csv_tsv_and_json_lines_give_identical_figures() {
    let dir = tempfile::tempdir().unwrap();
    let events = generated_pilot();
    let mut outputs = Vec::new();
    for (name, write) in [
        ("e.csv", 0),
        ("e.tsv", 1),
        ("e.semicolon.txt", 2),
        ("e.jsonl", 3),
    ] {
        let path = dir.path().join(name);
        match write {
            0 => write_csv(&path, &events, ","),
            1 => write_csv(&path, &events, "\t"),
            2 => write_csv(&path, &events, ";"),
            _ => write_jsonl(&path, &events),
        }
        let json = dir.path().join(format!("{name}.json"));
        let stdout = run_ab(&path, &json, &["--control", "control", "--uplift", "0.2"]);
        let format = if write == 3 { "(jsonl)" } else { "(csv)" };
        assert!(stdout.lines().next().unwrap().ends_with(format), "{stdout}");
        outputs.push(std::fs::read(&json).unwrap());
    }
    for other in &outputs[1..] {
        assert_eq!(other, &outputs[0]);
    }
    let report: Value = serde_json::from_slice(&outputs[0]).unwrap();
    assert_eq!(report["uplift"], 0.2);
    // --format forces the reader: a JSON-lines file read as CSV has no header columns.
    let path = dir.path().join("e.jsonl");
    let error = failure(awrsr(&[
        "ab",
        "--events",
        path.to_str().unwrap(),
        "--format",
        "csv",
    ]));
    assert!(error.contains("e.jsonl:1: no visitor column"), "{error}");
}

#[test]
fn another_control_and_zero_counts_give_na_not_nan() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("z.csv");
    // Arm `base` (the control here) has impressions but no clicks and no conversions.
    let text = "Visitor;ARM;Event;time\n\
                a;base;impression;2024-05-01T10:00:00Z\n\
                b;base;impression;2024-05-02T10:00:00+02:00\n\
                c;new;impression;\n\
                c;new;click;\n\
                c;new;conversion;2024-05-03\n";
    std::fs::write(&path, text).unwrap();
    let json = dir.path().join("z.json");
    let stdout = run_ab(&path, &json, &["--control", "base"]);
    let report = read_json(&json);
    let d = &report["comparisons"][0]["conversion"];
    assert!(d["uplift"].is_null() && d["low"].is_null() && d["required_per_arm"].is_null());
    assert!(d["p_value"].is_number());
    let notes = d["notes"].to_string();
    assert!(notes.contains("the control has no conversions"), "{notes}");
    assert!(stdout.contains("uplift n/a"), "{stdout}");
    assert!(stdout.contains("no verdict"), "{stdout}");
    assert_eq!(report["first_event"], "2024-05-01T10:00:00Z");
    assert_eq!(report["last_event"], "2024-05-03T00:00:00Z");
    for bad in ["NaN", "inf"] {
        assert!(!stdout.contains(bad), "{stdout}");
    }
}

/// Writes `text` as `name` in `dir` and runs `awrsr ab` on it, expecting exit code 2.
fn refused(dir: &Path, name: &str, text: &[u8], extra: &[&str]) -> (PathBuf, String) {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    let mut args = vec!["ab", "--events", path.to_str().unwrap()];
    args.extend(extra);
    let error = failure(awrsr(&args));
    assert!(error.starts_with("error: "), "{error}");
    assert!(error.lines().count() == 1, "{error}");
    (path, error)
}

#[test]
fn bad_input_names_the_file_and_line_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let header = "visitor,arm,event,item,time\n";
    let cases: Vec<(&str, Vec<u8>, Vec<&str>)> = vec![
        (
            "two-arms.csv",
            format!("{header}v1,control,impression,,\nv2,awrsr,impression,,\n\n# c\nv1,awrsr,click,i,\n")
                .into_bytes(),
            vec!["two-arms.csv:6:", "\"v1\"", "\"awrsr\"", "\"control\"", "line 2"],
        ),
        (
            "two-arms.jsonl",
            b"{\"visitor\":7,\"arm\":\"a\",\"event\":\"click\"}\n{\"visitor\":\"7\",\"arm\":\"control\",\"event\":\"click\"}\n".to_vec(),
            vec!["two-arms.jsonl:2:", "\"7\"", "line 1"],
        ),
        (
            "unknown.csv",
            format!("{header}v1,control,impression,,\nv1,control,purchase,,\n").into_bytes(),
            vec!["unknown.csv:3:", "unknown event \"purchase\""],
        ),
        (
            "unknown.jsonl",
            b"{\"visitor\":\"v\",\"arm\":\"control\",\"event\":\"awrsr:hover\"}\n".to_vec(),
            vec!["unknown.jsonl:1:", "unknown event \"awrsr:hover\""],
        ),
        (
            "missing.csv",
            b"visitor,event,item,time\nv1,impression,,\n".to_vec(),
            vec!["missing.csv:1:", "no arm column"],
        ),
        (
            "missing.jsonl",
            b"{\"visitor\":\"v\",\"event\":\"click\"}\n".to_vec(),
            vec!["missing.jsonl:1:", "no arm"],
        ),
        (
            "empty.csv",
            b"".to_vec(),
            vec!["empty.csv:1:", "empty"],
        ),
        (
            "blank.csv",
            b"\n  \n# nothing\n".to_vec(),
            vec!["blank.csv:1:", "empty"],
        ),
        (
            "header-only.csv",
            header.as_bytes().to_vec(),
            vec!["header-only.csv:1:", "no events"],
        ),
        (
            "junk.bin",
            (0..=255u8).cycle().take(3000).collect(),
            vec!["junk.bin:1:", "no visitor column"],
        ),
        (
            "bad-json.jsonl",
            b"{\"visitor\":\"v\",\"arm\":\"control\",\"event\":\"click\"}\n{\"visitor\":\n".to_vec(),
            vec!["bad-json.jsonl:2:", "not a JSON object"],
        ),
        (
            "short.csv",
            format!("{header}v1,control\n").into_bytes(),
            vec!["short.csv:2:", "2 fields"],
        ),
        (
            "empty-visitor.csv",
            format!("{header} ,control,click,,\n").into_bytes(),
            vec!["empty-visitor.csv:2:", "empty visitor"],
        ),
        (
            "bad-time.csv",
            format!("{header}v1,control,click,,1714521600\nv2,control,click,,yesterday\n")
                .into_bytes(),
            vec!["bad-time.csv:3:", "\"yesterday\""],
        ),
        (
            "no-control.csv",
            format!("{header}v1,a,click,,\nv2,b,click,,\n").into_bytes(),
            vec!["no-control.csv:", "no control arm \"control\"", "\"a\", \"b\""],
        ),
    ];
    for (name, text, needles) in cases {
        let (_, error) = refused(d, name, &text, &[]);
        for needle in needles {
            assert!(error.contains(needle), "{name}: {needle:?} not in {error}");
        }
    }
    // Bad settings are refused before the file is read.
    let good = format!("{header}v1,control,click,,\n");
    for uplift in ["0", "-0.1", "nan", "inf"] {
        let (_, error) = refused(d, "good.csv", good.as_bytes(), &["--uplift", uplift]);
        assert!(error.contains("--uplift"), "{error}");
    }
    // The JSON output may not overwrite the input.
    let input = d.join("good.csv");
    let error = failure(awrsr(&[
        "ab",
        "--events",
        input.to_str().unwrap(),
        "--control",
        "control",
        "--json",
        input.to_str().unwrap(),
    ]));
    assert!(error.contains("--json"), "{error}");
    // A missing file and a folder.
    let error = failure(awrsr(&[
        "ab",
        "--events",
        d.join("nope.csv").to_str().unwrap(),
    ]));
    assert!(error.contains("nope.csv"), "{error}");
    let error = failure(awrsr(&["ab", "--events", d.to_str().unwrap()]));
    assert!(error.contains("not a regular file"), "{error}");
}

// --- Fuzzing ----------------------------------------------------------------------------

/// A valid event line, CSV or JSON.
fn valid_line(json: bool) -> impl Strategy<Value = String> {
    let visitor = 0u32..40;
    let arm = prop::sample::select(vec!["control", "awrsr", "holdout"]);
    let event = prop::sample::select(vec![
        "impression",
        "click",
        "conversion",
        "awrsr:click",
        "Click",
        "view",
    ]);
    let time = prop::sample::select(vec![
        "",
        "1714521600",
        "1714521600123",
        "2024-05-01T10:00:00Z",
        "x",
    ]);
    (visitor, arm, event, time).prop_map(move |(v, a, e, t)| {
        // A visitor's arm follows from its id, so that most files are consistent.
        let a = if v % 3 == 0 {
            a
        } else {
            ["control", "awrsr"][v as usize % 2]
        };
        match json {
            true => {
                format!(r#"{{"visitor":"v{v}","arm":"{a}","event":"{e}","item":1,"time":"{t}"}}"#)
            }
            false => format!("v{v},{a},{e},i,{t}"),
        }
    })
}

/// A hostile piece inserted into a line.
fn piece() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "", ",", ";", "\t", "\"", "{", "}", "\n", "\r", "\r\n", "#", "\u{feff}", "\u{0}", "é",
        "null", "[1]", "1e999", "awrsr:", "NaN",
    ])
    .prop_map(String::from)
}

/// A file: a header (CSV), valid lines, some mutated by a hostile piece.
fn file(json: bool) -> impl Strategy<Value = Vec<u8>> {
    let line = (
        valid_line(json),
        prop::option::weighted(0.15, (piece(), 0usize..80)),
    );
    let mutated = line.prop_map(|(mut line, mutation)| {
        if let Some((piece, at)) = mutation {
            let at = (0..=at.min(line.len()))
                .rev()
                .find(|&i| line.is_char_boundary(i))
                .unwrap_or(0);
            line.insert_str(at, &piece);
        }
        line
    });
    (prop::collection::vec(mutated, 0..25), any::<bool>()).prop_map(move |(lines, header)| {
        let mut text = String::new();
        if !json && header {
            text += "visitor,arm,event,item,time\n";
        }
        text += &lines.join("\n");
        text.into_bytes()
    })
}

/// Any bytes at all, or a valid file of either kind with mutations.
fn any_file() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        1 => prop::collection::vec(any::<u8>(), 0..300),
        3 => file(false),
        3 => file(true),
    ]
}

/// Every figure of a verdict is a finite number (missing ones are `None`).
fn all_finite(verdict: &awrsr::ab::Verdict) -> bool {
    let rates = verdict
        .arms
        .iter()
        .flat_map(|a| [a.ctr, a.conversion])
        .flatten();
    let rates_ok = rates
        .flat_map(|r| [r.rate, r.low, r.high])
        .all(|x| (0.0..=1.0).contains(&x));
    let differences = verdict
        .comparisons
        .iter()
        .flat_map(|c| [&c.ctr, &c.conversion]);
    let figures = differences
        .flat_map(|d| [d.uplift, d.low, d.high, d.z, d.p_value])
        .flatten();
    rates_ok && figures.into_iter().all(f64::is_finite)
}

fn fuzz_cases() -> u32 {
    std::env::var("AWRSR_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000)
}

/// The reader never panics; what it reads is coherent; an error names the file and a line.
#[test]
fn fuzzed_files_never_panic_the_reader() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fuzz.txt");
    let mut runner = TestRunner::new(Config {
        cases: fuzz_cases(),
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&any_file(), |bytes| {
            std::fs::write(&path, &bytes).unwrap();
            match read_pilot(&path, None) {
                Ok(pilot) => {
                    let visitors: u64 = pilot.arms.iter().map(|a| a.visitors).sum();
                    prop_assert!(visitors >= 1 && visitors <= pilot.events);
                    for arm in &pilot.arms {
                        prop_assert!(arm.converting_visitors <= arm.visitors);
                    }
                    let settings = awrsr::ab::Settings {
                        control: "control".into(),
                        uplift: 0.1,
                    };
                    if let Ok(verdict) = awrsr::ab::verdict(&pilot, &settings) {
                        prop_assert!(all_finite(&verdict), "{verdict:?}");
                        prop_assert!(!verdict.lines().is_empty());
                    }
                }
                Err(error) => {
                    let message = error.to_string();
                    prop_assert!(
                        message.starts_with(&format!("{}:", path.display())),
                        "{message}"
                    );
                    prop_assert!(message.len() < 600, "{message}");
                }
            }
            Ok(())
        })
        .unwrap();
}

/// The command on fuzzed files exits 0 or 2, never by a panic or a signal.
#[test]
fn fuzzed_files_exit_0_or_2() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fuzz.csv");
    let mut runner = TestRunner::new(Config {
        cases: 40,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&any_file(), |bytes| {
            std::fs::write(&path, &bytes).unwrap();
            let output = awrsr(&["ab", "--events", path.to_str().unwrap()]);
            let code = output.status.code();
            prop_assert!(
                code == Some(0) || code == Some(2),
                "exit {code:?}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            Ok(())
        })
        .unwrap();
}
