//! How every line looks, in one place: each scheduling policy's own colour
//! and marker (the same in every chart, so a policy is found by its look
//! across a report), the colours of lines that are not policies, and those
//! of the worker join and departure marks.

use crate::balancer::policy::SchedulerName;
use serde::{Serialize, Serializer};

/// An sRGB colour; written as `#rrggbb` in the chart data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Colour(pub u8, pub u8, pub u8);

impl Serialize for Colour {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("#{:02x}{:02x}{:02x}", self.0, self.1, self.2))
    }
}

/// A point marker: five shapes filled and open, and two made of strokes,
/// so twelve policies each get one that tells them apart without colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Marker {
    Circle,
    Square,
    Triangle,
    Diamond,
    InvertedTriangle,
    OpenCircle,
    OpenSquare,
    OpenTriangle,
    OpenDiamond,
    OpenInvertedTriangle,
    Plus,
    Cross,
}

/// Okabe–Ito (blue, orange, bluish green, vermillion, reddish purple, sky
/// blue, black), which stays distinguishable with the common forms of
/// colour blindness, and a darker yellow than its own, readable on white.
/// Lines that are not policies take these in order.
pub const PALETTE: [Colour; 8] = [
    Colour(0, 114, 178),
    Colour(230, 159, 0),
    Colour(0, 158, 115),
    Colour(213, 94, 0),
    Colour(204, 121, 167),
    Colour(86, 180, 233),
    Colour(0, 0, 0),
    Colour(181, 160, 0),
];

/// The colour of the `i`-th line of a panel that is not a policy.
pub(super) fn nth_colour(i: usize) -> Colour {
    PALETTE[i % PALETTE.len()]
}

/// Each policy's colour and marker: the palette's eight, then four from
/// Paul Tol's muted scheme (indigo, wine, grey, brown) that differ from
/// them in hue or lightness; each marker once.
const POLICY_STYLES: [(SchedulerName, Colour, Marker); 12] = [
    (SchedulerName::PerformanceBased, PALETTE[0], Marker::Circle),
    (SchedulerName::RoundRobin, PALETTE[1], Marker::Square),
    (
        SchedulerName::WeightedRoundRobin,
        PALETTE[2],
        Marker::Triangle,
    ),
    (SchedulerName::PriorityBased, PALETTE[3], Marker::Diamond),
    (
        SchedulerName::AffinityBased,
        PALETTE[4],
        Marker::InvertedTriangle,
    ),
    (SchedulerName::Composite, PALETTE[5], Marker::OpenCircle),
    (SchedulerName::Adaptive, PALETTE[6], Marker::OpenSquare),
    (SchedulerName::Random, PALETTE[7], Marker::OpenTriangle),
    (
        SchedulerName::LeastLoaded,
        Colour(51, 34, 136),
        Marker::OpenDiamond,
    ),
    (
        SchedulerName::PowerOfTwo,
        Colour(136, 34, 85),
        Marker::OpenInvertedTriangle,
    ),
    (SchedulerName::BestFit, Colour(119, 119, 119), Marker::Plus),
    (SchedulerName::Fifo, Colour(153, 85, 34), Marker::Cross),
];

/// The colour and marker of `policy`'s lines in every chart.
pub fn policy_style(policy: SchedulerName) -> (Colour, Marker) {
    POLICY_STYLES
        .iter()
        .find(|s| s.0 == policy)
        .map_or((PALETTE[6], Marker::Circle), |s| (s.1, s.2))
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

    #[test]
    fn every_policy_has_its_own_colour_and_marker() {
        let styles: Vec<(Colour, Marker)> =
            SCHEDULERS.iter().map(|s| policy_style(s.name)).collect();
        assert_eq!(styles.len(), 12);
        let colours: BTreeSet<Colour> = styles.iter().map(|s| s.0).collect();
        let markers: BTreeSet<Marker> = styles.iter().map(|s| s.1).collect();
        assert_eq!((colours.len(), markers.len()), (12, 12), "{styles:?}");
        for s in SCHEDULERS {
            assert!(
                POLICY_STYLES.iter().any(|p| p.0 == s.name),
                "{} has no row",
                s.id
            );
        }
    }

    #[test]
    fn colours_are_written_as_hex() {
        let text = serde_json::to_string(&Colour(0, 114, 178)).unwrap();
        assert_eq!(text, "\"#0072b2\"");
    }
}
