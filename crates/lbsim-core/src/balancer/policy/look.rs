//! How a policy's lines look in every chart: the colour and marker types its
//! `SCHEDULERS` row names, and the palette the rows draw from.
//!
//! They live beside the policies, not in `visualize`, so a policy's row can
//! carry its own look without the core knowing anything of charts.

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
/// so each policy gets one that tells it apart without colour while the
/// shapes last ([`Marker::ALL`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Marker {
    /// Filled circle.
    Circle,
    /// Filled square.
    Square,
    /// Filled triangle, point up.
    Triangle,
    /// Filled diamond.
    Diamond,
    /// Filled triangle, point down.
    InvertedTriangle,
    /// Circle outline.
    OpenCircle,
    /// Square outline.
    OpenSquare,
    /// Triangle outline, point up.
    OpenTriangle,
    /// Diamond outline.
    OpenDiamond,
    /// Triangle outline, point down.
    OpenInvertedTriangle,
    /// A plus sign.
    Plus,
    /// A diagonal cross.
    Cross,
}

impl Marker {
    /// Every marker once, in declaration order.
    pub const ALL: [Marker; 12] = [
        Marker::Circle,
        Marker::Square,
        Marker::Triangle,
        Marker::Diamond,
        Marker::InvertedTriangle,
        Marker::OpenCircle,
        Marker::OpenSquare,
        Marker::OpenTriangle,
        Marker::OpenDiamond,
        Marker::OpenInvertedTriangle,
        Marker::Plus,
        Marker::Cross,
    ];
}

/// A policy's colour and marker, the same in every chart, so a policy is
/// found by its look across a report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Look {
    /// Its line and marker colour.
    pub colour: Colour,
    /// Its marker shape.
    pub marker: Marker,
}

/// Okabe–Ito (blue, orange, bluish green, vermillion, reddish purple, sky
/// blue, black), which stays distinguishable with the common forms of
/// colour blindness, and a darker yellow than its own, readable on white.
/// The first eight policies take these; lines that are not policies take
/// them in order.
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

/// Four from Paul Tol's muted scheme (indigo, wine, grey, brown), which
/// differ from [`PALETTE`] in hue or lightness: the colours of the policies
/// after the eighth.
pub(crate) const MUTED: [Colour; 4] = [
    Colour(51, 34, 136),
    Colour(136, 34, 85),
    Colour(119, 119, 119),
    Colour(153, 85, 34),
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn all_lists_every_marker_once() {
        let set: BTreeSet<Marker> = Marker::ALL.into_iter().collect();
        assert_eq!(set.len(), Marker::ALL.len());
        // A new variant must join `ALL`: this match stops compiling without it.
        for m in Marker::ALL {
            match m {
                Marker::Circle
                | Marker::Square
                | Marker::Triangle
                | Marker::Diamond
                | Marker::InvertedTriangle
                | Marker::OpenCircle
                | Marker::OpenSquare
                | Marker::OpenTriangle
                | Marker::OpenDiamond
                | Marker::OpenInvertedTriangle
                | Marker::Plus
                | Marker::Cross => {}
            }
        }
    }

    #[test]
    fn colours_are_written_as_hex() {
        let text = serde_json::to_string(&Colour(0, 114, 178)).unwrap();
        assert_eq!(text, "\"#0072b2\"");
    }
}
