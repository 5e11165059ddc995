//! Contention: a loaded worker runs a new test more slowly.
//!
//! Off by default (`LoadModel::contention`). With it on, load balancing pays
//! off in run time, as on real machines, which is the regime where the load
//! balancing literature's results (power of two choices) apply.

/// The slowdown factor of a run started at this effective load, from the
/// reference's `WorkStealer`: 1.0 below 0.5, linear to 1.5 at 0.8, then 2.0
/// from 0.9 and 3.0 from 0.95.
pub fn slowdown(load: f64) -> f64 {
    if load >= 0.95 {
        3.0
    } else if load >= 0.9 {
        2.0
    } else if load >= 0.8 {
        1.5
    } else if load > 0.5 {
        1.0 + (load - 0.5) / 0.3 * 0.5
    } else {
        1.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_the_reference_steps() {
        assert_eq!(slowdown(0.0), 1.0);
        assert_eq!(slowdown(0.5), 1.0);
        assert!((slowdown(0.65) - 1.25).abs() < 1e-12);
        assert_eq!(slowdown(0.85), 1.5);
        assert_eq!(slowdown(0.9), 2.0);
        assert_eq!(slowdown(1.0), 3.0);
    }
}
