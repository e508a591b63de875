//! Vector-multiplication session kNN (V-SKNN, Ludewig & Jannach 2018), as session-rec's
//! `algorithms/knn/vsknn.py` (`VMContextKNN`, `rn5l/session-rec` commit `5dcd583`) computes
//! it with its default `vec` similarity and `recent` sampling.
//!
//! For a session of `L` clicks (line numbers in vsknn.py):
//! 1. Position weights (487–496, 637–650): the click at 1-based position `i` weighs
//!    `weighting(i, L)`; an item clicked twice takes the weight of its later click.
//! 2. Candidates (434–470, 401–431): the training sessions sharing an item with the session;
//!    beyond `sample_size` of them, only the most recent (here: the latest in the file).
//! 3. Similarity `vec` (296–323): the summed weights of the shared items over the number of
//!    distinct items in the session; the `k` most similar with similarity > 0 are the
//!    neighbours (525–548, 571–572; ties here go to the more recent session, where Python's
//!    order is that of a set).
//! 4. Item scores (577–619): each neighbour adds to each of its items its similarity times
//!    `weighting_score(step)`, `step` the distance from the end of the session (1 = last
//!    click) of the latest session click the neighbour contains, times
//!    `1 + idf(item) · idf_weighting` when that is on; `idf(item) = ln(sessions / clicks of
//!    item)` (145–149). Session items are scored too (`remind`, default on). The final
//!    division by the maximum (237–238) does not change a ranking and is left out.
//!
//! [`KnnParams::default`] is session-rec's Diginetica configuration
//! (`conf/save/diginetica/single split/single_digi_baselines.yml`, line 45): `k` 1500,
//! `sample_size` 10000, `weighting` `quadratic`, `weighting_score` `linear`, `idf_weighting`
//! 10. [`KnnParams::session_rec_defaults`] is the constructor's (line 52; `k` 100 from its
//! docstring). Not carried over: `dwelling_time`, `last_n_days`, `last_n_clicks`, `extend`,
//! `push_reminders`, `add_reminders`, `weighting_time`, `idf_weighting_session` (all off).

use super::{Baseline, GapWeighting, valid};

/// How the session's clicks weigh by position `i` (1 = oldest) of `L` (vsknn.py 637–650).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PositionWeighting {
    /// `1 − 0.1 (L − i)` while `i ≤ 10`, else 0 (`linear`, as session-rec writes it).
    Linear,
    /// 1 (`same`).
    Same,
    /// `i / L` (`div`).
    Div,
    /// `1 / log10(L − i + 1.7)` (`log`).
    Log,
    /// `(i / L)²` (`quadratic`).
    Quadratic,
}

impl PositionWeighting {
    /// The weight of the click at 1-based position `i` of `length`.
    pub fn weight(self, i: usize, length: usize) -> f64 {
        let (x, l) = (i as f64, length as f64);
        match self {
            Self::Linear if i <= 10 => 1.0 - 0.1 * (l - x),
            Self::Linear => 0.0,
            Self::Same => 1.0,
            Self::Div => x / l,
            Self::Log => 1.0 / (l - x + 1.7).log10(),
            Self::Quadratic => (x / l) * (x / l),
        }
    }
}

/// Parameters of [`SessionKnn`]; the defaults are session-rec's Diginetica configuration.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct KnnParams {
    /// Neighbours kept (1500).
    pub k: usize,
    /// Most recent candidate sessions compared; 0 compares all (10000).
    pub sample_size: usize,
    /// Weight of the session's clicks by position (`Quadratic`).
    pub weighting: PositionWeighting,
    /// Decay of a neighbour's score by how far back its latest shared click is (`Linear`).
    pub weighting_score: GapWeighting,
    /// Scale of the idf boost `1 + idf · x` of neighbour items; 0 turns it off (10).
    pub idf_weighting: f64,
}

impl Default for KnnParams {
    fn default() -> Self {
        Self {
            k: 1500,
            sample_size: 10000,
            weighting: PositionWeighting::Quadratic,
            weighting_score: GapWeighting::Linear,
            idf_weighting: 10.0,
        }
    }
}

impl KnnParams {
    /// `VMContextKNN`'s constructor defaults (vsknn.py line 52, `k` 100 from its docstring):
    /// 1000 samples, `div` position weights, `div` score decay, no idf.
    pub fn session_rec_defaults() -> Self {
        Self {
            k: 100,
            sample_size: 1000,
            weighting: PositionWeighting::Div,
            weighting_score: GapWeighting::Div,
            idf_weighting: 0.0,
        }
    }
}

/// V-SKNN over the training sessions: each session's distinct items, each item's sessions.
#[derive(Clone, Debug)]
pub struct SessionKnn {
    params: KnnParams,
    /// Session `s`'s distinct items, ascending: `session_items[session_starts[s]..]` up to
    /// `session_starts[s + 1]`.
    session_starts: Vec<usize>,
    session_items: Vec<u32>,
    /// Item `a`'s sessions, oldest first: `item_sessions[item_starts[a - 1]..item_starts[a]]`.
    item_starts: Vec<usize>,
    item_sessions: Vec<u32>,
    /// `ln(sessions / clicks)` of item `j + 1` (0 for an item never clicked).
    idf: Vec<f64>,
}

impl SessionKnn {
    /// Indexes `sessions` with the default [`KnnParams`].
    pub fn fit(sessions: &[Vec<u32>], num_items: usize) -> Self {
        Self::fit_with(sessions, num_items, KnnParams::default())
    }

    /// Indexes `sessions` over items 1..=`num_items` for `params`.
    pub fn fit_with(sessions: &[Vec<u32>], num_items: usize, params: KnnParams) -> Self {
        let (mut session_starts, mut session_items) = (vec![0], Vec::new());
        let mut clicks = vec![0usize; num_items];
        for session in sessions {
            let mut items: Vec<u32> = session
                .iter()
                .copied()
                .filter(|&i| valid(i, num_items))
                .collect();
            items.iter().for_each(|&i| clicks[i as usize - 1] += 1);
            items.sort_unstable();
            items.dedup();
            session_items.extend(items);
            session_starts.push(session_items.len());
        }
        let (item_starts, item_sessions) = invert(&session_starts, &session_items, num_items);
        let count = session_starts.windows(2).filter(|w| w[1] > w[0]).count() as f64;
        let idf = clicks
            .iter()
            .map(|&c| if c > 0 { (count / c as f64).ln() } else { 0.0 })
            .collect();
        Self {
            params,
            session_starts,
            session_items,
            item_starts,
            item_sessions,
            idf,
        }
    }

    /// Session `s`'s distinct items, ascending.
    fn items_of(&self, s: u32) -> &[u32] {
        let s = s as usize;
        &self.session_items[self.session_starts[s]..self.session_starts[s + 1]]
    }

    /// Item `a`'s sessions, oldest first (`a` valid).
    fn sessions_of(&self, a: u32) -> &[u32] {
        let a = a as usize;
        &self.item_sessions[self.item_starts[a - 1]..self.item_starts[a]]
    }

    /// The session's distinct items with their position weights (step 1).
    fn position_weights(&self, clicks: &[u32]) -> Vec<(u32, f64)> {
        let mut last: Vec<(u32, usize)> = clicks
            .iter()
            .enumerate()
            .map(|(p, &i)| (i, p + 1))
            .collect();
        last.sort_unstable();
        last.dedup_by(|later, earlier| {
            let same = later.0 == earlier.0;
            if same {
                earlier.1 = later.1;
            }
            same
        });
        last.iter()
            .map(|&(i, p)| (i, self.params.weighting.weight(p, clicks.len())))
            .collect()
    }

    /// The most recent candidate sessions, newest first, with their summed shared weights
    /// (steps 2 and 3 before the division).
    fn candidates(&self, weights: &[(u32, f64)]) -> Vec<(u32, f64)> {
        let sample = if self.params.sample_size == 0 {
            usize::MAX
        } else {
            self.params.sample_size
        };
        let mut hits: Vec<(u32, f64)> = Vec::new();
        for &(item, w) in weights {
            let sessions = self.sessions_of(item);
            let recent = &sessions[sessions.len().saturating_sub(sample)..];
            hits.extend(recent.iter().map(|&s| (s, w)));
        }
        hits.sort_unstable_by_key(|h| std::cmp::Reverse(h.0));
        hits.dedup_by(|later, earlier| {
            let same = later.0 == earlier.0;
            if same {
                earlier.1 += later.1;
            }
            same
        });
        hits.truncate(sample);
        hits
    }

    /// The `k` most similar candidates with similarity > 0 (step 3), in no order.
    fn neighbours(&self, weights: &[(u32, f64)]) -> Vec<(u32, f64)> {
        let distinct = weights.len() as f64;
        let mut found: Vec<(u32, f64)> = self
            .candidates(weights)
            .into_iter()
            .map(|(s, w)| (s, w / distinct))
            .filter(|n| n.1 > 0.0)
            .collect();
        let k = self.params.k;
        if k > 0 && found.len() > k {
            found.select_nth_unstable_by(k - 1, |a, b| b.1.total_cmp(&a.1).then(b.0.cmp(&a.0)));
        }
        found.truncate(k);
        found
    }

    /// Adds neighbour `s`'s items to `scores` (step 4).
    fn add_neighbour(&self, (s, similarity): (u32, f64), clicks: &[u32], scores: &mut [f32]) {
        let items = self.items_of(s);
        let Some(step) = clicks
            .iter()
            .rev()
            .position(|i| items.binary_search(i).is_ok())
        else {
            return;
        };
        let decayed = similarity * self.params.weighting_score.weight(step + 1);
        for &item in items {
            let j = item as usize - 1;
            let x = self.params.idf_weighting;
            let boost = if x == 0.0 { 1.0 } else { 1.0 + self.idf[j] * x };
            scores[j] += (decayed * boost) as f32;
        }
    }
}

/// Each item's sessions, oldest first, from each session's distinct items (compressed rows).
fn invert(
    session_starts: &[usize],
    session_items: &[u32],
    num_items: usize,
) -> (Vec<usize>, Vec<u32>) {
    let mut starts = vec![0usize; num_items + 1];
    for &i in session_items {
        starts[i as usize] += 1;
    }
    for a in 1..=num_items {
        starts[a] += starts[a - 1];
    }
    let mut next = starts.clone();
    let mut sessions = vec![0u32; session_items.len()];
    for (s, w) in session_starts.windows(2).enumerate() {
        for &i in &session_items[w[0]..w[1]] {
            sessions[next[i as usize - 1]] = s as u32;
            next[i as usize - 1] += 1;
        }
    }
    (starts, sessions)
}

impl Baseline for SessionKnn {
    fn name(&self) -> &'static str {
        "V-SKNN"
    }

    fn score(&self, input: &[u32], scores: &mut [f32]) {
        scores.fill(0.0);
        let num_items = self.item_starts.len() - 1;
        let clicks: Vec<u32> = input
            .iter()
            .copied()
            .filter(|&i| valid(i, num_items))
            .collect();
        if clicks.is_empty() || scores.len() < num_items {
            return;
        }
        let weights = self.position_weights(&clicks);
        for neighbour in self.neighbours(&weights) {
            self.add_neighbour(neighbour, &clicks, scores);
        }
    }
}
