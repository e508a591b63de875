//! Full-ranking metrics: HR@K, NDCG@K, MRR@K (K = 5, 10, 20) and MRR, from 0-based target
//! ranks. MRR@K counts a target ranked below K as 0 (the session-based field's MRR@20).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The cut-offs reported.
pub const CUTOFFS: [usize; 3] = [5, 10, 20];

/// Running sums of the metrics over evaluation cases.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Metrics {
    count: usize,
    hits: [f64; 3],
    ndcg: [f64; 3],
    /// Sums of 1/(rank + 1) over the targets within each cut-off (checkpoints from before
    /// these figures have zeros).
    #[serde(default)]
    reciprocal_rank_at: [f64; 3],
    reciprocal_rank: f64,
    ranks: Vec<u32>,
}

impl Metrics {
    /// Adds one case whose target has 0-based `rank` (0 = first).
    pub fn add(&mut self, rank: usize) {
        self.count += 1;
        for (i, &k) in CUTOFFS.iter().enumerate() {
            if rank < k {
                self.hits[i] += 1.0;
                self.ndcg[i] += 1.0 / ((rank + 2) as f64).log2();
                self.reciprocal_rank_at[i] += 1.0 / (rank + 1) as f64;
            }
        }
        self.reciprocal_rank += 1.0 / (rank + 1) as f64;
        self.ranks.push(rank.min(u32::MAX as usize) as u32);
    }

    /// The 0-based rank of every case added, in order (for paired tests between models).
    pub fn ranks(&self) -> &[u32] {
        &self.ranks
    }

    /// Number of cases added.
    pub fn count(&self) -> usize {
        self.count
    }

    /// Averages by name: `HR@K`, `NDCG@K` and `MRR@K` for K in [`CUTOFFS`], and `MRR`.
    pub fn averages(&self) -> BTreeMap<String, f64> {
        let n = self.count.max(1) as f64;
        let mut out = BTreeMap::new();
        for (i, k) in CUTOFFS.iter().enumerate() {
            out.insert(format!("HR@{k}"), self.hits[i] / n);
            out.insert(format!("NDCG@{k}"), self.ndcg[i] / n);
            out.insert(format!("MRR@{k}"), self.reciprocal_rank_at[i] / n);
        }
        out.insert("MRR".into(), self.reciprocal_rank / n);
        out
    }

    /// Average of one metric by name (0 when the name is unknown).
    pub fn get(&self, name: &str) -> f64 {
        self.averages().get(name).copied().unwrap_or(0.0)
    }

    /// One line: `HR@10 0.1234  NDCG@10 0.0567  MRR 0.0456`.
    pub fn summary(&self) -> String {
        format!(
            "HR@10 {:.4}  NDCG@10 {:.4}  HR@20 {:.4}  MRR {:.4}  (n={})",
            self.get("HR@10"),
            self.get("NDCG@10"),
            self.get("HR@20"),
            self.get("MRR"),
            self.count
        )
    }
}
