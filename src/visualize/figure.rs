//! The data tables behind the charts: exactly the numbers plotted, with
//! titles and axis units. Built and tested apart from the drawing.

use super::style::{nth_colour, policy_style, Colour, Marker, BAND_COLOUR};
use crate::balancer::policy::SchedulerName;
use serde::Serialize;

/// One chart file.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Chart {
    /// File stem (`throughput_latency` → `throughput_latency.svg`).
    pub name: String,
    pub title: String,
    pub body: Body,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Body {
    /// Panels stacked top to bottom.
    Panels(Vec<Panel>),
    Heat(Heat),
    /// Policies × cells, one panel per criterion (`compare_figure`).
    PolicyHeat(super::compare_figure::PolicyHeat),
    /// The winning policy per cell over workers × tests.
    BestMap(super::compare_figure::BestMap),
}

/// One set of axes.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Panel {
    pub title: String,
    pub(crate) x_label: String,
    pub(crate) y_label: String,
    /// How the x axis spaces values: log for counts spanning decades
    /// (workers, tests), linear otherwise.
    pub x_scale: Scale,
    /// A fixed y range (a CDF's 0–100 %); `None`: from 0 to the data's top.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) y_range: Option<(f64, f64)>,
    pub series: Vec<Series>,
    /// Bars instead of lines: one bar per label.
    pub(crate) bars: Vec<Bar>,
    /// Shaded x ranges (load spikes).
    pub(crate) bands: Vec<Band>,
    /// Vertical lines (worker joins and departures).
    pub marks: Vec<Mark>,
}

/// How an axis spaces its values.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scale {
    #[default]
    Linear,
    /// Equal distances for equal ratios (5, 10, 20, … 10 000 workers).
    Log,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Series {
    pub name: String,
    /// Drawn as a staircase (a CDF) rather than straight segments.
    pub step: bool,
    pub points: Vec<(f64, f64)>,
    pub colour: Colour,
    /// Drawn at the points (a policy's own marker); `None`: a plain line.
    pub marker: Option<Marker>,
}

impl Series {
    /// A line of `policy`, in its colour and with its marker.
    pub(crate) fn policy(
        name: String,
        policy: SchedulerName,
        step: bool,
        points: Vec<(f64, f64)>,
    ) -> Series {
        let (colour, marker) = policy_style(policy);
        Series {
            name,
            step,
            points,
            colour,
            marker: Some(marker),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub(crate) struct Bar {
    pub(crate) label: String,
    pub(crate) value: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub(crate) struct Band {
    pub(crate) start: f64,
    pub(crate) end: f64,
    pub(crate) label: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Mark {
    pub(crate) at: f64,
    pub label: String,
    pub(crate) colour: Colour,
}

/// One line of a panel's legend: what it names and how its key is drawn.
#[derive(Clone, Debug, PartialEq)]
pub struct LegendEntry {
    pub label: String,
    pub(crate) key: Key,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Key {
    /// A series: a line in its colour, with its marker if it has one.
    Line(Colour, Option<Marker>),
    /// A vertical mark line.
    Mark(Colour),
    /// A shaded window.
    Band(Colour),
}

/// A heat map: rows × columns of values in 0–1 (`None`: no data).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Heat {
    pub(crate) x_label: String,
    pub(crate) column_seconds: f64,
    pub(crate) rows: Vec<String>,
    pub(crate) cells: Vec<Vec<Option<f64>>>,
}

impl Panel {
    pub(crate) fn new(title: &str, x_label: &str, y_label: &str) -> Panel {
        Panel {
            title: title.into(),
            x_label: x_label.into(),
            y_label: y_label.into(),
            ..Panel::default()
        }
    }

    /// Adds a plain line in the next colour of the palette.
    pub(crate) fn line(mut self, name: &str, points: Vec<(f64, f64)>) -> Panel {
        self.series.push(Series {
            name: name.into(),
            step: false,
            points,
            colour: nth_colour(self.series.len()),
            marker: None,
        });
        self
    }

    /// The legend: every series with points, then one entry for the
    /// shaded windows and one per kind of mark line (each label once, in
    /// the order first met), so nothing drawn goes unexplained.
    pub fn legend(&self) -> Vec<LegendEntry> {
        let mut entries: Vec<LegendEntry> = (self.series.iter())
            .filter(|s| !s.points.is_empty())
            .map(|s| LegendEntry {
                label: s.name.clone(),
                key: Key::Line(s.colour, s.marker),
            })
            .collect();
        if !self.bands.is_empty() {
            entries.push(LegendEntry {
                label: "load spike".into(),
                key: Key::Band(BAND_COLOUR),
            });
        }
        for m in &self.marks {
            if !entries.iter().any(|e| e.label == m.label) {
                entries.push(LegendEntry {
                    label: m.label.clone(),
                    key: Key::Mark(m.colour),
                });
            }
        }
        entries
    }

    /// True when there is nothing to draw.
    pub fn is_empty(&self) -> bool {
        self.bars.is_empty() && self.series.iter().all(|s| s.points.is_empty())
    }
}
