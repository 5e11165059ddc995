//! Means and 95 % confidence intervals (Student t), for replications and
//! for paired differences between policies run on the same seeds.

/// Two-sided 95 % quantiles of Student's t, t(0.975, df), for df = 1..=30.
const T975: [f64; 30] = [
    12.706_204_736,
    4.302_652_730,
    3.182_446_305,
    2.776_445_105,
    2.570_581_836,
    2.446_911_851,
    2.364_624_252,
    2.306_004_135,
    2.262_157_163,
    2.228_138_852,
    2.200_985_160,
    2.178_812_830,
    2.160_368_656,
    2.144_786_688,
    2.131_449_546,
    2.119_905_299,
    2.109_815_578,
    2.100_922_040,
    2.093_024_054,
    2.085_963_447,
    2.079_613_845,
    2.073_873_068,
    2.068_657_610,
    2.063_898_562,
    2.059_538_553,
    2.055_529_439,
    2.051_830_516,
    2.048_407_142,
    2.045_229_642,
    2.042_272_456,
];

/// t(0.975, df): the table up to 30, then the Cornish-Fisher expansion
/// around the normal quantile, to the 1/df⁴ term (error below 1e-7 from
/// df = 31).
pub(crate) fn t975(df: usize) -> f64 {
    if df == 0 {
        return f64::NAN;
    }
    if df <= T975.len() {
        return T975[df - 1];
    }
    let z = 1.959_963_984_540_054_f64;
    let n = df as f64;
    // Plain products, not `powi`, whose precision Rust leaves unspecified:
    // the summary file must be the same bytes on every platform.
    let z2 = z * z;
    let (z3, z5, z7, z9) = (z2 * z, z2 * z2 * z, z2 * z2 * z2 * z, z2 * z2 * z2 * z2 * z);
    let (n2, n3, n4) = (n * n, n * n * n, n * n * n * n);
    z + (z3 + z) / (4.0 * n)
        + (5.0 * z5 + 16.0 * z3 + 3.0 * z) / (96.0 * n2)
        + (3.0 * z7 + 19.0 * z5 + 17.0 * z3 - 15.0 * z) / (384.0 * n3)
        + (79.0 * z9 + 776.0 * z7 + 1482.0 * z5 - 1920.0 * z3 - 945.0 * z) / (92_160.0 * n4)
}

/// A sample's mean and its 95 % confidence interval.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Estimate {
    pub(crate) n: usize,
    pub(crate) mean: f64,
    /// Sample standard deviation (n − 1); 0 for a single value.
    pub(crate) stddev: f64,
    /// `None` with fewer than two values: one run says nothing of spread.
    pub(crate) ci95: Option<(f64, f64)>,
}

impl Estimate {
    /// Mean ± t(0.975, n−1) · s/√n. `None` for no data.
    pub(crate) fn of(xs: &[f64]) -> Option<Estimate> {
        let n = xs.len();
        if n == 0 {
            return None;
        }
        let mean = xs.iter().sum::<f64>() / n as f64;
        if n == 1 {
            return Some(Estimate {
                n,
                mean,
                stddev: 0.0,
                ci95: None,
            });
        }
        let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1) as f64;
        let stddev = var.sqrt();
        let half = t975(n - 1) * stddev / (n as f64).sqrt();
        Some(Estimate {
            n,
            mean,
            stddev,
            ci95: Some((mean - half, mean + half)),
        })
    }

    /// Paired differences `a[i] − b[i]`: the estimate of how much a beats
    /// b on the same seeds.
    pub(crate) fn paired(a: &[f64], b: &[f64]) -> Option<Estimate> {
        debug_assert_eq!(a.len(), b.len());
        let d: Vec<f64> = a.iter().zip(b).map(|(x, y)| x - y).collect();
        Estimate::of(&d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-6
    }

    #[test]
    fn one_to_five_has_the_textbook_interval() {
        // mean 3, s² = 2.5, s/√5 = 0.707107, t(4) = 2.776445.
        let e = Estimate::of(&[1.0, 2.0, 3.0, 4.0, 5.0]).unwrap();
        assert_eq!((e.n, e.mean), (5, 3.0));
        assert!(close(e.stddev, 2.5f64.sqrt()));
        let (lo, hi) = e.ci95.unwrap();
        assert!(close(lo, 3.0 - 1.963_243), "{lo}");
        assert!(close(hi, 3.0 + 1.963_243), "{hi}");
    }

    #[test]
    fn constant_data_has_a_zero_width_interval_and_one_value_none() {
        let e = Estimate::of(&[7.0; 4]).unwrap();
        assert_eq!(e.ci95, Some((7.0, 7.0)));
        assert_eq!(Estimate::of(&[7.0]).unwrap().ci95, None);
        assert_eq!(Estimate::of(&[]), None);
    }

    #[test]
    fn paired_differences_cancel_the_shared_noise() {
        // Big seed-to-seed noise, a constant gap of 1: the pair says exactly 1.
        let a = [11.0, 31.0, 21.0, 51.0];
        let b = [10.0, 30.0, 20.0, 50.0];
        let d = Estimate::paired(&a, &b).unwrap();
        assert_eq!((d.mean, d.ci95), (1.0, Some((1.0, 1.0))));
        let unpaired = Estimate::of(&a).unwrap().ci95.unwrap();
        assert!(unpaired.1 - unpaired.0 > 30.0);
    }

    #[test]
    fn the_expansion_joins_the_table_and_tends_to_z() {
        assert!((t975(30) - 2.042_272_456).abs() < 1e-4);
        assert!(close(t975(31), 2.039_513_446));
        assert!(close(t975(60), 2.000_297_822));
        assert!(close(t975(120), 1.979_930_405));
        assert!((t975(1_000_000) - 1.959_964).abs() < 1e-5);
    }
}
