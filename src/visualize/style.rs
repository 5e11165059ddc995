//! How every line looks, in one place: each scheduling policy's own colour
//! and marker (read from its `SCHEDULERS` row, so a policy is found by its
//! look across a report), the colours of lines that are not policies, and
//! those of the worker join and departure marks.

use crate::balancer::policy::SchedulerName;
pub use crate::balancer::policy::{Colour, Marker, PALETTE};

/// The colour of the `i`-th line of a panel that is not a policy.
pub(super) fn nth_colour(i: usize) -> Colour {
    PALETTE[i % PALETTE.len()]
}

/// The colour and marker of `policy`'s lines in every chart (its row's).
pub(crate) fn policy_style(policy: SchedulerName) -> (Colour, Marker) {
    let look = policy.info().look;
    (look.colour, look.marker)
}

/// Worker joins are drawn in bluish green, departures in vermillion.
pub(super) const JOIN_COLOUR: Colour = PALETTE[2];
pub(super) const LEAVE_COLOUR: Colour = PALETTE[3];
/// The grey of a shaded load-spike window (drawn at 10 % opacity).
pub(super) const BAND_COLOUR: Colour = Colour(0, 0, 0);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::balancer::policy::SCHEDULERS;
    use std::collections::BTreeSet;

    /// Every policy has its own colour, and its own marker while the
    /// shapes last (a policy past `Marker::ALL` shares a shape, never a
    /// colour).
    #[test]
    fn every_policy_has_its_own_colour_and_marker() {
        let styles: Vec<(Colour, Marker)> =
            SCHEDULERS.iter().map(|s| policy_style(s.name)).collect();
        let colours: BTreeSet<Colour> = styles.iter().map(|s| s.0).collect();
        let markers: BTreeSet<Marker> = styles.iter().map(|s| s.1).collect();
        assert_eq!(colours.len(), SCHEDULERS.len(), "{styles:?}");
        let shapes = SCHEDULERS.len().min(Marker::ALL.len());
        assert_eq!(markers.len(), shapes, "{styles:?}");
    }
}
