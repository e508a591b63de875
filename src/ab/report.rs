//! The pilot's verdict: per arm its CTR and conversion rate with Wilson intervals, and per
//! arm against the control the relative uplift with its Katz interval, the z-test's p-value
//! and the sample size the pilot needs; as text lines and as JSON (its shape: README,
//! "Running a pilot: A/B test and its verdict").

use serde::Serialize;

use super::{ALPHA, ArmCounts, CONFIDENCE, POWER, Pilot};
use super::{katz_ratio, sample_size, two_proportion_z, two_sided_z, wilson};
use crate::catalogue::excerpt;
use crate::data::events::format_time;

/// How the pilot is judged.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The control arm's name.
    pub control: String,
    /// The relative uplift the sample size is for (0.1: +10 % over the control's rate).
    pub uplift: f64,
}

impl Settings {
    /// Checks the settings before any work.
    pub fn check(&self) -> Result<(), String> {
        match self.uplift.is_finite() && self.uplift > 0.0 && self.uplift <= 100.0 {
            true => Ok(()),
            false => Err(format!(
                "--uplift {} is not a relative uplift in (0, 100] (0.1 means +10 %)",
                self.uplift
            )),
        }
    }
}

/// A rate with its 95 % Wilson interval.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Rate {
    /// successes / trials.
    pub rate: f64,
    /// The interval's lower bound.
    pub low: f64,
    /// The interval's upper bound.
    pub high: f64,
}

/// One arm's figures.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ArmSummary {
    /// The arm's name.
    pub arm: String,
    /// Distinct visitors.
    pub visitors: u64,
    /// Impression events.
    pub impressions: u64,
    /// Click events.
    pub clicks: u64,
    /// clicks / impressions (`None`: no impressions, or more clicks than impressions).
    pub ctr: Option<Rate>,
    /// Distinct visitors with a conversion.
    pub converting_visitors: u64,
    /// converting visitors / visitors.
    pub conversion: Option<Rate>,
    /// Why a figure is missing.
    pub notes: Vec<String>,
}

/// One metric of an arm against the control. Missing figures are `None`, and `notes`
/// says why.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Difference {
    /// What the metric counts per arm: `impressions` (CTR) or `visitors` (conversion).
    pub unit: &'static str,
    /// rate_arm / rate_control − 1.
    pub uplift: Option<f64>,
    /// The uplift's 95 % interval, lower bound (Katz log method).
    pub low: Option<f64>,
    /// The uplift's 95 % interval, upper bound.
    pub high: Option<f64>,
    /// The two-proportion z statistic (pooled variance; arm minus control).
    pub z: Option<f64>,
    /// Its two-sided p-value.
    pub p_value: Option<f64>,
    /// `unit`s per arm needed to detect the planned uplift over the control's rate.
    pub required_per_arm: Option<u64>,
    /// How many more than the smaller of the two arms has (0: reached).
    pub more_per_arm: Option<u64>,
    /// Why a figure is missing.
    pub notes: Vec<String>,
}

/// An arm against the control.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Comparison {
    /// The arm.
    pub arm: String,
    /// The control.
    pub control: String,
    /// Click-through rate.
    pub ctr: Difference,
    /// Conversion rate.
    pub conversion: Difference,
    /// The verdict on the conversion rate, in words.
    pub verdict: String,
}

/// The pilot's figures, as `awrsr ab` prints them and writes them with `--json`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Verdict {
    /// Event rows read.
    pub events: u64,
    /// The first event's time (ISO 8601, UTC), when the file has times.
    pub first_event: Option<String>,
    /// The last event's time.
    pub last_event: Option<String>,
    /// Days from the first event to the last.
    pub days: Option<f64>,
    /// The confidence level of the intervals (0.95).
    pub confidence: f64,
    /// The two-sided level of the sample size (0.05).
    pub alpha: f64,
    /// The power of the sample size (0.8).
    pub power: f64,
    /// The relative uplift the sample size is for.
    pub uplift: f64,
    /// The control arm.
    pub control: String,
    /// Every arm, the control first, then by name.
    pub arms: Vec<ArmSummary>,
    /// Every other arm against the control.
    pub comparisons: Vec<Comparison>,
}

/// The verdict on `pilot`; an error when the control arm is missing or the settings are
/// out of range.
pub fn verdict(pilot: &Pilot, settings: &Settings) -> Result<Verdict, String> {
    settings.check()?;
    let mut arms: Vec<&ArmCounts> = pilot.arms.iter().collect();
    arms.sort_by(|a, b| {
        (a.name != settings.control, &a.name).cmp(&(b.name != settings.control, &b.name))
    });
    let Some(control) = arms.first().filter(|a| a.name == settings.control) else {
        let names: Vec<String> = arms.iter().take(10).map(|a| excerpt(&a.name)).collect();
        return Err(format!(
            "no control arm {} (--control): the arms are {}",
            excerpt(&settings.control),
            names.join(", ")
        ));
    };
    let comparisons = arms[1..]
        .iter()
        .map(|arm| compare(arm, control, settings.uplift))
        .collect();
    let days = match (pilot.first_time, pilot.last_time) {
        (Some(first), Some(last)) => Some((last - first) / 86_400.0),
        _ => None,
    };
    Ok(Verdict {
        events: pilot.events,
        first_event: pilot.first_time.map(format_time),
        last_event: pilot.last_time.map(format_time),
        days,
        confidence: CONFIDENCE,
        alpha: ALPHA,
        power: POWER,
        uplift: settings.uplift,
        control: control.name.clone(),
        arms: arms.iter().map(|a| summary(a)).collect(),
        comparisons,
    })
}

/// The z of the reported intervals.
fn z95() -> f64 {
    two_sided_z(CONFIDENCE).unwrap_or(1.959_964)
}

/// A rate with its Wilson interval, or why there is none.
fn rate(successes: u64, trials: u64, what: &str, of: &str) -> Result<Rate, String> {
    match wilson(successes, trials, z95()) {
        Some(interval) => Ok(Rate {
            rate: successes as f64 / trials as f64,
            low: interval.low,
            high: interval.high,
        }),
        None if trials == 0 => Err(format!("no {of}")),
        None => Err(format!(
            "more {what} than {of}, so the rate is not a proportion"
        )),
    }
}

fn summary(arm: &ArmCounts) -> ArmSummary {
    let mut notes = Vec::new();
    let mut keep = |result: Result<Rate, String>, what: &str| {
        result
            .map_err(|reason| notes.push(format!("{what} n/a: {reason}")))
            .ok()
    };
    let ctr = keep(
        rate(arm.clicks, arm.impressions, "clicks", "impressions"),
        "CTR",
    );
    let conversion = keep(
        rate(
            arm.converting_visitors,
            arm.visitors,
            "conversions",
            "visitors",
        ),
        "conversion",
    );
    if arm.impressions == 0 {
        notes.push(
            "conversion rate not comparable with the arms that show a rail: without \
             impressions, only visitors with a click or a conversion are in the export"
                .into(),
        );
    }
    ArmSummary {
        arm: arm.name.clone(),
        visitors: arm.visitors,
        impressions: arm.impressions,
        clicks: arm.clicks,
        ctr,
        converting_visitors: arm.converting_visitors,
        conversion,
        notes,
    }
}

/// Successes and trials of one metric in one arm.
#[derive(Clone, Copy)]
struct Counts {
    x: u64,
    n: u64,
}

/// What a metric counts: its successes and its trials.
struct Metric {
    successes: &'static str,
    unit: &'static str,
}

const CTR: Metric = Metric {
    successes: "clicks",
    unit: "impressions",
};
const CONVERSION: Metric = Metric {
    successes: "conversions",
    unit: "visitors",
};

fn compare(arm: &ArmCounts, control: &ArmCounts, uplift: f64) -> Comparison {
    let clicks = |a: &ArmCounts| Counts {
        x: a.clicks,
        n: a.impressions,
    };
    let converts = |a: &ArmCounts| Counts {
        x: a.converting_visitors,
        n: a.visitors,
    };
    let ctr = difference(clicks(arm), clicks(control), &CTR, uplift);
    let mut conversion = difference(converts(arm), converts(control), &CONVERSION, uplift);
    for (who, a) in [("the arm", arm), ("the control", control)] {
        if a.impressions == 0 {
            conversion.notes.push(format!(
                "{who} has no impressions (no rail, as in a holdout): its visitors are only \
                 those with a click or a conversion, so this comparison is biased"
            ));
        }
    }
    let verdict = in_words(&conversion);
    Comparison {
        arm: arm.name.clone(),
        control: control.name.clone(),
        ctr,
        conversion,
        verdict,
    }
}

/// The arm against the control on one metric.
fn difference(arm: Counts, control: Counts, metric: &Metric, uplift: f64) -> Difference {
    let mut notes = Vec::new();
    let mut d = Difference {
        unit: metric.unit,
        uplift: None,
        low: None,
        high: None,
        z: None,
        p_value: None,
        required_per_arm: None,
        more_per_arm: None,
        notes: Vec::new(),
    };
    for (who, c) in [("the arm", arm), ("the control", control)] {
        if c.n == 0 {
            notes.push(format!("{who} has no {}", metric.unit));
        } else if c.x > c.n {
            notes.push(format!(
                "{who} has more {} than {}",
                metric.successes, metric.unit
            ));
        }
    }
    if !notes.is_empty() {
        d.notes = notes;
        return d;
    }
    ratio(&mut d, arm, control, metric, &mut notes);
    match two_proportion_z(arm.x, arm.n, control.x, control.n) {
        Some(test) => (d.z, d.p_value) = (Some(test.z), Some(test.p_value)),
        None => notes.push(format!(
            "no test: both arms' rates are {}, there is no variance",
            if arm.x == 0 { "0" } else { "1" }
        )),
    }
    plan(&mut d, arm, control, uplift, &mut notes);
    d.notes = notes;
    d
}

/// The uplift and its Katz interval.
fn ratio(
    d: &mut Difference,
    arm: Counts,
    control: Counts,
    metric: &Metric,
    notes: &mut Vec<String>,
) {
    if control.x == 0 {
        notes.push(format!(
            "no uplift: the control has no {}, and an uplift over a rate of 0 is not defined",
            metric.successes
        ));
        return;
    }
    let rate = |c: Counts| c.x as f64 / c.n as f64;
    d.uplift = Some(rate(arm) / rate(control) - 1.0);
    match katz_ratio(arm.x, arm.n, control.x, control.n, z95()) {
        Some(interval) => (d.low, d.high) = (Some(interval.low - 1.0), Some(interval.high - 1.0)),
        None => notes.push(format!(
            "no interval: the arm has no {}, and the log method needs at least one",
            metric.successes
        )),
    }
}

/// The sample size per arm for `uplift` over the control's rate, and how far the pilot is.
fn plan(d: &mut Difference, arm: Counts, control: Counts, uplift: f64, notes: &mut Vec<String>) {
    let base = control.x as f64 / control.n as f64;
    let target = base * (1.0 + uplift);
    d.required_per_arm = sample_size(base, target, ALPHA, POWER);
    match d.required_per_arm {
        Some(n) => d.more_per_arm = Some(n.saturating_sub(arm.n.min(control.n))),
        None if base <= 0.0 => notes.push(
            "no sample size: the control's rate is 0, and a relative uplift of 0 is 0".into(),
        ),
        None => notes.push(format!(
            "no sample size: {:+.0}% over the control's {:.2}% is not a rate below 100%",
            uplift * 100.0,
            base * 100.0
        )),
    }
}

/// The verdict on the conversion rate, in words: not before the planned sample size.
fn in_words(d: &Difference) -> String {
    let (Some(required), Some(more)) = (d.required_per_arm, d.more_per_arm) else {
        return "no verdict: the conversion rate's sample size is not defined (see its notes)"
            .into();
    };
    if more > 0 {
        return format!(
            "not yet: keep the pilot running to {required} visitors per arm ({more} more), \
             then read the p-value"
        );
    }
    match (d.p_value, d.uplift) {
        (Some(p), Some(uplift)) if p < ALPHA => format!(
            "the conversion rate differs significantly ({}, {}): the arm {}",
            signed(uplift),
            p_text(p),
            if uplift > 0.0 { "wins" } else { "loses" }
        ),
        (Some(p), _) => format!(
            "no significant difference in the conversion rate at the planned size ({})",
            p_text(p)
        ),
        (None, _) => "no verdict: the conversion rates cannot be tested (see its notes)".into(),
    }
}

/// A rate as a percentage.
fn percent(rate: f64) -> String {
    format!("{:.2}%", rate * 100.0)
}

/// An uplift as a signed percentage.
fn signed(uplift: f64) -> String {
    format!("{:+.1}%", uplift * 100.0)
}

/// A p-value for reading.
fn p_text(p: f64) -> String {
    match p < 1e-4 {
        true => "p < 0.0001".into(),
        false => format!("p = {p:.4}"),
    }
}

/// An arm name for the table: as is when short and printable, else quoted and cut.
fn shown(name: &str) -> String {
    match name.chars().count() <= 24 && !name.chars().any(char::is_control) {
        true => name.to_string(),
        false => excerpt(name),
    }
}

/// One line of the table of arms.
fn row(cells: [&str; 7]) -> String {
    let [
        arm,
        visitors,
        impressions,
        clicks,
        ctr,
        converting,
        conversion,
    ] = cells;
    format!(
        "{arm:<24} {visitors:>9} {impressions:>11} {clicks:>9}  {ctr:<26} {converting:>10}  {conversion}"
    )
}

fn rate_text(rate: Option<Rate>) -> String {
    rate.map_or("n/a".into(), |r| {
        format!(
            "{} [{}, {}]",
            percent(r.rate),
            percent(r.low),
            percent(r.high)
        )
    })
}

fn difference_text(d: &Difference) -> String {
    let uplift = match (d.uplift, d.low, d.high) {
        (Some(u), Some(low), Some(high)) => {
            format!(
                "uplift {} [95% CI {}, {}]",
                signed(u),
                signed(low),
                signed(high)
            )
        }
        (Some(u), _, _) => format!("uplift {} [95% CI n/a]", signed(u)),
        _ => "uplift n/a".into(),
    };
    let p = d.p_value.map_or("p n/a".into(), p_text);
    let size = match (d.required_per_arm, d.more_per_arm) {
        (Some(n), Some(more)) => format!("needs {n} {} per arm ({more} more)", d.unit),
        _ => "sample size n/a".into(),
    };
    format!("{uplift}, {p}; {size}")
}

impl Verdict {
    /// The report as text lines: the pilot's span, the table of arms, each comparison.
    pub fn lines(&self) -> Vec<String> {
        let mut lines = vec![self.span()];
        lines.push(row([
            "arm",
            "visitors",
            "impressions",
            "clicks",
            "CTR [95% CI]",
            "converting",
            "conversion [95% CI]",
        ]));
        for arm in &self.arms {
            lines.push(row([
                &shown(&arm.arm),
                &arm.visitors.to_string(),
                &arm.impressions.to_string(),
                &arm.clicks.to_string(),
                &rate_text(arm.ctr),
                &arm.converting_visitors.to_string(),
                &rate_text(arm.conversion),
            ]));
        }
        for arm in &self.arms {
            lines.extend(
                arm.notes
                    .iter()
                    .map(|n| format!("  note: {}: {n}", shown(&arm.arm))),
            );
        }
        if self.comparisons.is_empty() {
            lines.push("only the control arm: nothing to compare".into());
        }
        for c in &self.comparisons {
            lines.extend(self.comparison_lines(c));
        }
        lines
    }

    /// When the pilot ran.
    fn span(&self) -> String {
        match (&self.first_event, &self.last_event, self.days) {
            (Some(first), Some(last), Some(days)) => format!(
                "{} events from {first} to {last} ({days:.1} days)",
                self.events
            ),
            _ => format!("{} events (no times)", self.events),
        }
    }

    fn comparison_lines(&self, c: &Comparison) -> Vec<String> {
        let mut lines = vec![
            String::new(),
            format!(
                "{} vs {} (sample sizes for {} at two-sided α = {}, power {}):",
                shown(&c.arm),
                shown(&c.control),
                signed(self.uplift),
                self.alpha,
                self.power
            ),
        ];
        for (name, d) in [("CTR", &c.ctr), ("conversion", &c.conversion)] {
            lines.push(format!("  {name:<11} {}", difference_text(d)));
            lines.extend(d.notes.iter().map(|n| format!("  {:<11}   note: {n}", "")));
        }
        lines.push(format!("  verdict: {}", c.verdict));
        lines
    }
}
