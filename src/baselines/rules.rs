//! Sequential rules (SR, Ludewig & Jannach, "Evaluation of session-based recommendation
//! algorithms", 2018), as session-rec's `algorithms/baselines/sr.py` computes them
//! (`rn5l/session-rec` commit `5dcd583`).
//!
//! Fit (sr.py lines 80–98): for every click `b` in a training session and each of the up to
//! `steps` clicks `a` before it, at gap `i` (1 = the click just before), rule `a → b` gains
//! `weight(i)`; a repeated item makes a rule `a → a` like any other. Pruning (lines 188–205,
//! `Counter.most_common`) then keeps each item's `pruning` heaviest rules, ties to the rule
//! created first. Scoring (lines 159–161): an item's score is the weight of the rule from
//! the session's **last** click to it; the rest of the session is not used.
//!
//! Defaults are sr.py's constructor (line 29): `steps` 10, `weighting` `div` (1/i), `pruning`
//! 20. Pruning to 20 does not change the top 20 (only ties at the 20th place). session-rec's
//! Diginetica configuration (`conf/save/diginetica/single split/single_digi_baselines.yml`,
//! line 39) uses `steps` 15 with `div`. Not carried over: `last_n_days`, `idf_weight`,
//! `last_in_session` (all off by default) and fractional pruning; weights are summed in f64
//! in click order, as Python does, and kept as f32.

use super::{Baseline, valid};

/// How a rule's weight falls with the gap `i` (≥ 1) between its two clicks (sr.py 112–125).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GapWeighting {
    /// `1 − 0.1 i` for `i ≤ 100`, else 0 (`linear`).
    Linear,
    /// 1 (`same`).
    Same,
    /// `1 / i` (`div`).
    Div,
    /// `1 / log10(i + 1.7)` (`log`).
    Log,
    /// `1 / i²` (`quadratic`).
    Quadratic,
}

impl GapWeighting {
    /// The weight at gap `i`.
    pub fn weight(self, i: usize) -> f64 {
        let x = i as f64;
        match self {
            Self::Linear if i <= 100 => 1.0 - 0.1 * x,
            Self::Linear => 0.0,
            Self::Same => 1.0,
            Self::Div => 1.0 / x,
            Self::Log => 1.0 / (x + 1.7).log10(),
            Self::Quadratic => 1.0 / (x * x),
        }
    }
}

/// Parameters of [`SequentialRules`]; the defaults are session-rec's (sr.py line 29).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RulesParams {
    /// How many clicks before `b` make a rule to it (10).
    pub steps: usize,
    /// The weight of a rule at each gap (`Div`, 1/gap).
    pub weighting: GapWeighting,
    /// Rules kept per item, heaviest first; 0 keeps all (20).
    pub pruning: usize,
}

impl Default for RulesParams {
    fn default() -> Self {
        Self {
            steps: 10,
            weighting: GapWeighting::Div,
            pruning: 20,
        }
    }
}

/// Sequential rules `a → b`, stored per item `a` (compressed rows).
#[derive(Clone, Debug)]
pub struct SequentialRules {
    /// Rules of item `a` are `targets[starts[a - 1]..starts[a]]`.
    starts: Vec<usize>,
    /// Each rule's item `b`.
    targets: Vec<u32>,
    /// Each rule's weight.
    weights: Vec<f32>,
}

/// One rule occurrence: (`a`, `b`, its place in click order, weight).
type Occurrence = (u32, u32, usize, f64);

/// A summed rule of one item `a`: (`b`, total weight, place of its first occurrence).
type Rule = (u32, f64, usize);

impl SequentialRules {
    /// Mines the rules of `sessions` with the default [`RulesParams`].
    pub fn fit(sessions: &[Vec<u32>], num_items: usize) -> Self {
        Self::fit_with(sessions, num_items, RulesParams::default())
    }

    /// Mines the rules of `sessions` over items 1..=`num_items` with `params`.
    pub fn fit_with(sessions: &[Vec<u32>], num_items: usize, params: RulesParams) -> Self {
        let mut occurrences = occurrences(sessions, num_items, params);
        occurrences.sort_unstable_by_key(|&(a, b, place, _)| (a, b, place));
        let mut rules = Self {
            starts: vec![0; num_items + 1],
            targets: Vec::new(),
            weights: Vec::new(),
        };
        let mut rest = occurrences.as_slice();
        while let Some(&(a, ..)) = rest.first() {
            let end = rest.iter().position(|o| o.0 != a).unwrap_or(rest.len());
            rules.push_item(a, sum_rules(&rest[..end]), params.pruning);
            rest = &rest[end..];
        }
        for a in 1..=num_items {
            rules.starts[a] = rules.starts[a].max(rules.starts[a - 1]);
        }
        rules
    }

    /// Appends item `a`'s summed rules, pruned and heaviest first (items come in order).
    fn push_item(&mut self, a: u32, mut item_rules: Vec<Rule>, pruning: usize) {
        item_rules.sort_by(|x, y| y.1.total_cmp(&x.1).then(x.2.cmp(&y.2)));
        if pruning > 0 {
            item_rules.truncate(pruning);
        }
        self.targets.extend(item_rules.iter().map(|r| r.0));
        self.weights.extend(item_rules.iter().map(|r| r.1 as f32));
        self.starts[a as usize] = self.targets.len();
    }

    /// The rules from item `a`: (`b`, weight), heaviest first; none for an unknown item.
    pub fn rules(&self, a: u32) -> impl Iterator<Item = (u32, f32)> + '_ {
        let a = a as usize;
        let range = match a {
            1.. if a < self.starts.len() => self.starts[a - 1]..self.starts[a],
            _ => 0..0,
        };
        self.targets[range.clone()]
            .iter()
            .copied()
            .zip(self.weights[range].iter().copied())
    }
}

/// Every rule occurrence in `sessions`, in click order (sr.py lines 80–98).
fn occurrences(sessions: &[Vec<u32>], num_items: usize, params: RulesParams) -> Vec<Occurrence> {
    let mut out = Vec::new();
    for session in sessions {
        for (p, &b) in session.iter().enumerate() {
            for i in 1..=params.steps.min(p) {
                let a = session[p - i];
                if valid(a, num_items) && valid(b, num_items) {
                    out.push((a, b, out.len(), params.weighting.weight(i)));
                }
            }
        }
    }
    out
}

/// Sums one item's occurrences (sorted by `b`, then place) into rules.
fn sum_rules(occurrences: &[Occurrence]) -> Vec<Rule> {
    let mut rules: Vec<Rule> = Vec::new();
    for &(_, b, place, w) in occurrences {
        match rules.last_mut() {
            Some(rule) if rule.0 == b => rule.1 += w,
            _ => rules.push((b, w, place)),
        }
    }
    rules
}

impl Baseline for SequentialRules {
    fn name(&self) -> &'static str {
        "SR"
    }

    fn score(&self, input: &[u32], scores: &mut [f32]) {
        scores.fill(0.0);
        let Some(&last) = input.last() else { return };
        for (b, w) in self.rules(last) {
            if let Some(s) = scores.get_mut(b as usize - 1) {
                *s = w;
            }
        }
    }
}
