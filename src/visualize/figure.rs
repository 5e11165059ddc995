//! The data tables behind the charts: exactly the numbers plotted, with
//! titles and axis units. Built and tested apart from the drawing.

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
}

/// One set of axes.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Panel {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub series: Vec<Series>,
    /// Bars instead of lines: one bar per label.
    pub bars: Vec<Bar>,
    /// Shaded x ranges (load spikes).
    pub bands: Vec<Band>,
    /// Vertical lines (worker joins and departures).
    pub marks: Vec<Mark>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Series {
    pub name: String,
    /// Drawn as a staircase (a CDF) rather than straight segments.
    pub step: bool,
    pub points: Vec<(f64, f64)>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Bar {
    pub label: String,
    pub value: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Band {
    pub start: f64,
    pub end: f64,
    pub label: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Mark {
    pub at: f64,
    pub label: String,
}

/// A heat map: rows × columns of values in 0–1 (`None`: no data).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Heat {
    pub x_label: String,
    pub column_seconds: f64,
    pub rows: Vec<String>,
    pub cells: Vec<Vec<Option<f64>>>,
}

impl Panel {
    pub fn new(title: &str, x_label: &str, y_label: &str) -> Panel {
        Panel {
            title: title.into(),
            x_label: x_label.into(),
            y_label: y_label.into(),
            ..Panel::default()
        }
    }

    pub fn line(mut self, name: &str, points: Vec<(f64, f64)>) -> Panel {
        self.series.push(Series {
            name: name.into(),
            step: false,
            points,
        });
        self
    }

    /// True when there is nothing to draw.
    pub fn is_empty(&self) -> bool {
        self.bars.is_empty() && self.series.iter().all(|s| s.points.is_empty())
    }
}
