//! Drawing the winners' map: for each criterion a panel over workers (x)
//! and tests (y), both on log axes, with the winning policy's marker in its
//! colour at every cell (a grey dot where policies tie), and one key of
//! the policies that win somewhere below the panels.

use super::axis::{format_tick, Axis};
use super::compare_figure::{BestMap, MapPanel, PolicyKey, TIE_COLOUR};
use super::render::{draw_marker, err, rgb, Area, WIDTH};
use crate::error::Result;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// Pixels: a panel's plot square and the margins around it.
const PLOT: i32 = 230;
const MARGIN_LEFT: i32 = 58;
const MARGIN_TOP: i32 = 26;
const MARGIN_BOTTOM: i32 = 44;
/// Key entries per line, and a key line's height.
const KEYS_PER_LINE: usize = 4;
const KEY_LINE: i32 = 18;

fn key_lines(m: &BestMap) -> i32 {
    (m.keys.len() + 1).div_ceil(KEYS_PER_LINE) as i32
}

/// The chart's height below its title.
pub(super) fn height(m: &BestMap) -> u32 {
    (MARGIN_TOP + PLOT + MARGIN_BOTTOM + 12 + key_lines(m) * KEY_LINE) as u32
}

/// A log axis over the values (the same for every panel).
fn axis(values: impl Iterator<Item = f64>) -> Axis {
    let (lo, hi) = values
        .filter(|v| *v > 0.0 && v.is_finite())
        .fold((f64::MAX, f64::MIN), |(a, b), v| (a.min(v), b.max(v)));
    if lo > hi {
        Axis::log(1.0, 10.0)
    } else {
        Axis::log(lo, hi.max(lo * 1.0001))
    }
}

/// Where `v` falls on `axis` across `pixels`, 0 at the axis' low end.
fn place(axis: &Axis, v: f64, pixels: i32) -> i32 {
    let r = axis.plot_range();
    ((axis.to_plot(v) - r.start) / (r.end - r.start) * f64::from(pixels)).round() as i32
}

pub(super) fn draw(root: &Area, m: &BestMap) -> Result<()> {
    let points = || m.panels.iter().flat_map(|p| p.points.iter());
    let x = axis(points().map(|p| p.workers));
    let y = axis(points().map(|p| p.tests));
    let width = WIDTH as i32 / m.panels.len().max(1) as i32;
    for (i, panel) in m.panels.iter().enumerate() {
        let origin = (i as i32 * width + MARGIN_LEFT, MARGIN_TOP);
        draw_panel(root, panel, m, (&x, &y), origin)?;
    }
    draw_key(root, &m.keys, MARGIN_TOP + PLOT + MARGIN_BOTTOM + 12)
}

/// One panel: the frame, the ticks, then a marker per cell.
fn draw_panel(
    root: &Area,
    p: &MapPanel,
    m: &BestMap,
    (x, y): (&Axis, &Axis),
    (left, top): (i32, i32),
) -> Result<()> {
    let bottom = top + PLOT;
    let font = ("sans-serif", 11).into_font();
    let title = Text::new(
        p.title.clone(),
        (left, top - 20),
        ("sans-serif", 13).into_font(),
    );
    root.draw(&title).map_err(err)?;
    let frame = Rectangle::new(
        [(left, top), (left + PLOT, bottom)],
        RGBColor(160, 160, 160),
    );
    root.draw(&frame).map_err(err)?;
    let below = font
        .clone()
        .into_text_style(root)
        .pos(Pos::new(HPos::Center, VPos::Top));
    let beside = font
        .clone()
        .into_text_style(root)
        .pos(Pos::new(HPos::Right, VPos::Center));
    for &t in &x.ticks {
        let px = left + place(x, t, PLOT);
        root.draw(&PathElement::new(
            vec![(px, bottom), (px, bottom + 4)],
            BLACK,
        ))
        .map_err(err)?;
        root.draw(&Text::new(format_tick(t), (px, bottom + 6), below.clone()))
            .map_err(err)?;
    }
    for &t in &y.ticks {
        let py = bottom - place(y, t, PLOT);
        root.draw(&PathElement::new(vec![(left - 4, py), (left, py)], BLACK))
            .map_err(err)?;
        root.draw(&Text::new(format_tick(t), (left - 6, py), beside.clone()))
            .map_err(err)?;
    }
    let desc = Text::new(
        "workers (log)",
        (left + PLOT / 2, bottom + 22),
        below.clone(),
    );
    root.draw(&desc).map_err(err)?;
    root.draw(&Text::new("tests (log)", (left - 52, top - 8), font))
        .map_err(err)?;
    for pt in &p.points {
        let at = (
            left + place(x, pt.workers, PLOT),
            bottom - place(y, pt.tests, PLOT),
        );
        match winner(m, &pt.winners) {
            Some(k) => draw_marker(root, at, k.colour, k.marker)?,
            None => root
                .draw(&Circle::new(at, 3, rgb(TIE_COLOUR).filled()))
                .map_err(err)?,
        }
    }
    Ok(())
}

/// The key of a sole winner; `None` for a tie (or no figure).
fn winner<'a>(m: &'a BestMap, winners: &[String]) -> Option<&'a PolicyKey> {
    match winners {
        [one] => m.keys.iter().find(|k| &k.name == one),
        _ => None,
    }
}

/// The policies that win somewhere, then the tie's grey dot.
fn draw_key(root: &Area, keys: &[PolicyKey], top: i32) -> Result<()> {
    let font = ("sans-serif", 12).into_font();
    let column = WIDTH as i32 / KEYS_PER_LINE as i32;
    for i in 0..=keys.len() {
        let x = 20 + (i % KEYS_PER_LINE) as i32 * column;
        let y = top + (i / KEYS_PER_LINE) as i32 * KEY_LINE;
        let label = match keys.get(i) {
            Some(k) => {
                draw_marker(root, (x, y), k.colour, k.marker)?;
                k.name.clone()
            }
            None => {
                root.draw(&Circle::new((x, y), 3, rgb(TIE_COLOUR).filled()))
                    .map_err(err)?;
                "tie (several policies at the best)".into()
            }
        };
        let anchor = font
            .clone()
            .into_text_style(root)
            .pos(Pos::new(HPos::Left, VPos::Center));
        root.draw(&Text::new(label, (x + 12, y), anchor))
            .map_err(err)?;
    }
    Ok(())
}
