//! The verdict of an A/B pilot: did the recommender's arm convert better than the control?
//!
//! A shop assigns each visitor to an arm (`awrsr`, `control`, maybe `holdout`) and exports
//! the widget's `impression`, `click` and `conversion` events; [`events`] reads that export
//! into counts per arm, [`report`] turns them into the figures `awrsr ab` prints. This
//! module holds the statistics, each a short function with its formula:
//!
//! - [`wilson`]: the Wilson score interval of one proportion (CTR, conversion rate);
//! - [`katz_ratio`]: the Katz log interval of a ratio of two independent proportions, the
//!   relative uplift's interval (the ratio minus 1);
//! - [`two_proportion_z`]: the two-sided two-proportion z-test with the pooled variance;
//! - [`sample_size`]: visitors (or impressions) per arm needed to detect a given
//!   difference at two-sided level α with a given power;
//! - beneath them, the normal distribution through `erfc` (the Numerical Recipes Chebyshev
//!   fit, fractional error below 1.2e-7 everywhere) and `normal_quantile` (P. J. Acklam's
//!   rational approximation, relative error below 1.15e-9), tested against tables here.
//!
//! Every function answers `None` where its figure is undefined (no trials, a zero count
//! under a logarithm, a zero variance), so that callers print "n/a" instead of NaN.

pub mod events;
pub mod report;

pub use events::{ArmCounts, Pilot, PilotFormat, read_pilot};
pub use report::{Settings, Verdict, verdict};

/// The two-sided 95 % confidence level of every interval `awrsr ab` reports.
pub const CONFIDENCE: f64 = 0.95;

/// The significance level of the sample-size calculation (two-sided).
pub const ALPHA: f64 = 0.05;

/// The power of the sample-size calculation.
pub const POWER: f64 = 0.8;

/// A confidence interval `[low, high]`.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Interval {
    /// The lower bound.
    pub low: f64,
    /// The upper bound.
    pub high: f64,
}

/// The outcome of a two-proportion z-test.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ZTest {
    /// The statistic: (p₁ − p₂) / its pooled standard error.
    pub z: f64,
    /// The two-sided p-value, 2·(1 − Φ(|z|)).
    pub p_value: f64,
}

/// The complementary error function erfc(x) = 1 − erf(x), by the Chebyshev fit of
/// Numerical Recipes (`erfcc`, 2nd ed. §6.2): fractional error below 1.2e-7 for every x.
fn erfc(x: f64) -> f64 {
    const C: [f64; 10] = [
        -1.265_512_23,
        1.000_023_68,
        0.374_091_96,
        0.096_784_18,
        -0.186_288_06,
        0.278_868_07,
        -1.135_203_98,
        1.488_515_87,
        -0.822_152_23,
        0.170_872_77,
    ];
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = C.iter().rev().fold(0.0, |acc, &c| c + t * acc);
    let tail = t * (-z * z + poly).exp();
    if x >= 0.0 { tail } else { 2.0 - tail }
}

/// The standard normal quantile Φ⁻¹(p) for p in (0, 1), by P. J. Acklam's rational
/// approximation (relative error below 1.15e-9); `None` outside (0, 1).
fn normal_quantile(p: f64) -> Option<f64> {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const LOW: f64 = 0.02425;
    if !(p > 0.0 && p < 1.0) {
        return None;
    }
    if p < LOW {
        return Some(acklam_tail(p));
    }
    if p > 1.0 - LOW {
        return Some(-acklam_tail(1.0 - p));
    }
    let q = p - 0.5;
    let r = q * q;
    let numerator = A.iter().fold(0.0, |acc, &a| acc * r + a);
    let denominator = B.iter().fold(0.0, |acc, &b| acc * r + b) * r + 1.0;
    Some(numerator * q / denominator)
}

/// Acklam's lower-tail branch: Φ⁻¹(p) for 0 < p < 0.02425.
fn acklam_tail(p: f64) -> f64 {
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    let q = (-2.0 * p.ln()).sqrt();
    let numerator = C.iter().fold(0.0, |acc, &c| acc * q + c);
    let denominator = D.iter().fold(0.0, |acc, &d| acc * q + d) * q + 1.0;
    numerator / denominator
}

/// The z of a two-sided interval at `confidence` (0.95 → 1.959964).
pub fn two_sided_z(confidence: f64) -> Option<f64> {
    normal_quantile(0.5 + confidence / 2.0)
}

/// The Wilson score interval of `successes` out of `trials` at the normal quantile `z`:
/// (p + z²/2n ± z·√(p(1−p)/n + z²/4n²)) / (1 + z²/n). `None` without trials or with more
/// successes than trials.
pub fn wilson(successes: u64, trials: u64, z: f64) -> Option<Interval> {
    if trials == 0 || successes > trials {
        return None;
    }
    let n = trials as f64;
    let p = successes as f64 / n;
    let z2 = z * z;
    let denominator = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denominator;
    let half = z / denominator * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    Some(Interval {
        low: (centre - half).max(0.0),
        high: (centre + half).min(1.0),
    })
}

/// The Katz log interval of the ratio p₁/p₂ of two independent proportions x₁/n₁ and
/// x₂/n₂: exp(log(p₁/p₂) ± z·√((1−p₁)/x₁ + (1−p₂)/x₂)). `None` when either count is zero
/// (the logarithm is undefined) or exceeds its trials.
pub fn katz_ratio(x1: u64, n1: u64, x2: u64, n2: u64, z: f64) -> Option<Interval> {
    if x1 == 0 || x2 == 0 || x1 > n1 || x2 > n2 {
        return None;
    }
    let (p1, p2) = (x1 as f64 / n1 as f64, x2 as f64 / n2 as f64);
    let log_ratio = (p1 / p2).ln();
    let se = ((1.0 - p1) / x1 as f64 + (1.0 - p2) / x2 as f64).sqrt();
    Some(Interval {
        low: (log_ratio - z * se).exp(),
        high: (log_ratio + z * se).exp(),
    })
}

/// The two-sided two-proportion z-test of x₁/n₁ against x₂/n₂ with the pooled variance:
/// z = (p₁ − p₂) / √(p̄(1−p̄)(1/n₁ + 1/n₂)), p̄ = (x₁+x₂)/(n₁+n₂). `None` without trials in
/// an arm, with counts above their trials, or when p̄ is 0 or 1 (no variance to test).
pub fn two_proportion_z(x1: u64, n1: u64, x2: u64, n2: u64) -> Option<ZTest> {
    if n1 == 0 || n2 == 0 || x1 > n1 || x2 > n2 {
        return None;
    }
    let (a, b) = (n1 as f64, n2 as f64);
    let pooled = (x1 + x2) as f64 / (a + b);
    let se = (pooled * (1.0 - pooled) * (1.0 / a + 1.0 / b)).sqrt();
    if se <= 0.0 {
        return None;
    }
    let z = (x1 as f64 / a - x2 as f64 / b) / se;
    let p_value = erfc(z.abs() / std::f64::consts::SQRT_2).min(1.0);
    Some(ZTest { z, p_value })
}

/// The sample size per arm to tell the rates `p1` and `p2` apart with a two-sided test at
/// level `alpha` with power `power`: n = (z_{α/2}·√(2p̄(1−p̄)) + z_β·√(p₁(1−p₁) + p₂(1−p₂)))²
/// / (p₂ − p₁)², p̄ = (p₁+p₂)/2, rounded up. `None` unless both rates are in (0, 1) and
/// differ, and α and the power are in (0, 1).
pub fn sample_size(p1: f64, p2: f64, alpha: f64, power: f64) -> Option<u64> {
    let open = |x: f64| x > 0.0 && x < 1.0;
    if !(open(p1) && open(p2) && p1 != p2 && open(alpha) && open(power)) {
        return None;
    }
    let z_alpha = normal_quantile(1.0 - alpha / 2.0)?;
    let z_beta = normal_quantile(power)?;
    let mean = (p1 + p2) / 2.0;
    let root = z_alpha * (2.0 * mean * (1.0 - mean)).sqrt()
        + z_beta * (p1 * (1.0 - p1) + p2 * (1.0 - p2)).sqrt();
    let n = (root / (p2 - p1)).powi(2).ceil();
    (n.is_finite() && n < u64::MAX as f64).then_some(n as u64)
}

#[cfg(test)]
mod tests {
    use super::{erfc, normal_quantile};

    /// The standard normal distribution function Φ(x) = erfc(−x/√2) / 2.
    fn normal_cdf(x: f64) -> f64 {
        0.5 * erfc(-x / std::f64::consts::SQRT_2)
    }

    fn close(actual: f64, expected: f64, tolerance: f64, what: &str) {
        assert!(
            (actual - expected).abs() <= tolerance,
            "{what}: {actual} is not within {tolerance} of {expected}"
        );
    }

    /// Reference values from tables of the normal distribution (and Python's
    /// `statistics.NormalDist`, an independent implementation): erfc(1) = 0.157299207050285,
    /// Φ(1.96) = 0.975002104851780, Φ⁻¹(0.975) = 1.959963984540054, Φ⁻¹(0.8) =
    /// 0.841621233572914, Φ⁻¹(0.0001) = −3.719016485455680.
    #[test]
    fn normal_distribution_matches_tables() {
        close(erfc(1.0), 0.157_299_207_050_285, 2e-8, "erfc(1)");
        close(erfc(-1.0), 2.0 - 0.157_299_207_050_285, 2e-8, "erfc(-1)");
        close(erfc(0.0), 1.0, 2e-7, "erfc(0)");
        close(normal_cdf(1.96), 0.975_002_104_851_780, 1e-7, "Φ(1.96)");
        close(normal_cdf(-1.96), 0.024_997_895_148_220, 1e-8, "Φ(-1.96)");
        close(normal_cdf(0.0), 0.5, 1e-7, "Φ(0)");
        // Far tails: relative accuracy (Φ(-6) = 9.8658765e-10).
        close(normal_cdf(-6.0) / 9.865_876_450e-10, 1.0, 1e-6, "Φ(-6)");
        let quantiles = [
            (0.975, 1.959_963_984_540_054),
            (0.8, 0.841_621_233_572_914),
            (0.5, 0.0),
            (0.0001, -3.719_016_485_455_68),
            (0.9999, 3.719_016_485_455_68),
        ];
        for (p, z) in quantiles {
            close(normal_quantile(p).unwrap(), z, 1e-8, &format!("Φ⁻¹({p})"));
            // The quantile inverts the distribution function.
            close(normal_cdf(z), p, 2e-7, &format!("Φ(Φ⁻¹({p}))"));
        }
        for p in [0.0, 1.0, -0.5, 2.0, f64::NAN] {
            assert!(normal_quantile(p).is_none(), "Φ⁻¹({p})");
        }
    }
}
