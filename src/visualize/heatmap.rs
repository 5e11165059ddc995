//! Drawing the policy-comparison heat map: one panel per criterion, a row
//! per policy (keyed by its colour and marker), a column per cell grouped
//! by workers, each square coloured by how many times worse than the
//! cell's best the policy is (viridis, bright = best; equal steps for
//! equal factors), the best outlined. The scale sits right of the panels.

use super::compare_figure::{heat_level, PolicyHeat, WORST_SHOWN};
use super::render::{draw_marker, err, rgb, Area, WIDTH};
use crate::error::Result;
use plotters::prelude::*;
use plotters::style::colors::colormaps::ViridisRGB;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// Pixels: the policy names' band, the colour scale's band, a row's height.
const LEFT: i32 = 190;
const RIGHT: i32 = 110;
const ROW: i32 = 16;
/// A panel's title above its rows, and the column labels below them.
const TITLE: i32 = 26;
const BELOW: i32 = 68;

/// One panel's height.
fn panel_height(h: &PolicyHeat) -> i32 {
    TITLE + ROW * h.rows.len().max(1) as i32 + BELOW
}

/// The chart's height below its title.
pub(super) fn height(h: &PolicyHeat) -> u32 {
    (panel_height(h) * h.panels.len().max(1) as i32) as u32
}

/// The colour of a ratio: bright yellow for the best, dark for ×8 or more.
fn colour(ratio: f64) -> RGBColor {
    ViridisRGB::get_color(1.0 - heat_level(ratio))
}

pub(super) fn draw(root: &Area, h: &PolicyHeat) -> Result<()> {
    let width = WIDTH as i32 - LEFT - RIGHT;
    let n = h.columns.len().max(1) as i32;
    let cell = (width / n).max(1);
    for (i, panel) in h.panels.iter().enumerate() {
        let top = i as i32 * panel_height(h);
        let title = Text::new(
            panel.title.clone(),
            (LEFT, top + 6),
            ("sans-serif", 14).into_font(),
        );
        root.draw(&title).map_err(err)?;
        let y0 = top + TITLE;
        draw_keys(root, h, y0)?;
        for (r, row) in panel.ratio.iter().enumerate() {
            for (c, ratio) in row.iter().enumerate() {
                let x = LEFT + c as i32 * cell;
                let y = y0 + r as i32 * ROW;
                let corners = [(x, y), (x + cell - 1, y + ROW - 1)];
                let fill = ratio.map_or(RGBColor(225, 225, 225), colour);
                root.draw(&Rectangle::new(corners, fill.filled()))
                    .map_err(err)?;
                if ratio.is_some_and(|v| v <= 1.0) {
                    let outline = [(x, y), (x + cell - 2, y + ROW - 2)];
                    root.draw(&Rectangle::new(outline, BLACK.stroke_width(1)))
                        .map_err(err)?;
                }
            }
        }
        draw_columns(root, h, y0 + ROW * h.rows.len() as i32, cell)?;
    }
    draw_scale(root)
}

/// Each row's policy: its marker in its colour, then its name.
fn draw_keys(root: &Area, h: &PolicyHeat, y0: i32) -> Result<()> {
    let font = ("sans-serif", 12).into_font();
    for (r, key) in h.rows.iter().enumerate() {
        let y = y0 + r as i32 * ROW + ROW / 2;
        draw_marker(root, (14, y), key.colour, key.marker)?;
        let style = font.clone().color(&rgb(key.colour));
        let anchor = style.pos(Pos::new(HPos::Left, VPos::Center));
        root.draw(&Text::new(key.name.clone(), (26, y), anchor))
            .map_err(err)?;
    }
    Ok(())
}

/// Column labels (tests) under each column, the group (workers) centred
/// under its columns with a tick between groups, and what they count.
fn draw_columns(root: &Area, h: &PolicyHeat, y: i32, cell: i32) -> Result<()> {
    let small = ("sans-serif", 10).into_font();
    let centred = |f: FontDesc<'static>| {
        f.into_text_style(root)
            .pos(Pos::new(HPos::Center, VPos::Top))
    };
    // Narrow columns take their labels on two staggered lines; columns
    // narrower still label every few.
    let stagger = cell < 28;
    let label_step = (14 / cell.max(1) + 1) as usize;
    for (c, col) in h.columns.iter().enumerate() {
        if c % label_step == 0 {
            let x = LEFT + c as i32 * cell + cell / 2;
            let line = if stagger {
                (c / label_step) as i32 % 2
            } else {
                0
            };
            let at = (x, y + 3 + 11 * line);
            root.draw(&Text::new(col.label.clone(), at, centred(small.clone())))
                .map_err(err)?;
        }
    }
    let mut start = 0;
    for c in 1..=h.columns.len() {
        let ends = c == h.columns.len() || h.columns[c].group != h.columns[start].group;
        if !ends {
            continue;
        }
        let group = &h.columns[start].group;
        if !group.is_empty() {
            let mid = LEFT + (start as i32 * cell + c as i32 * cell) / 2;
            let text = Text::new(
                group.clone(),
                (mid, y + 27),
                centred(("sans-serif", 12).into_font()),
            );
            root.draw(&text).map_err(err)?;
            let x = LEFT + c as i32 * cell - 1;
            let tick = PathElement::new(vec![(x, y - 2), (x, y + 40)], RGBColor(120, 120, 120));
            root.draw(&tick).map_err(err)?;
        }
        start = c;
    }
    let what = if h.group_label.is_empty() {
        h.column_label.clone()
    } else {
        format!(
            "columns: {} (upper labels), grouped by {} (lower labels)",
            h.column_label, h.group_label
        )
    };
    let text = Text::new(what, (LEFT, y + 46), ("sans-serif", 12).into_font());
    root.draw(&text).map_err(err)
}

/// The colour scale: ×1 (best) at the top to ×8 or more at the bottom,
/// and the grey of a policy that did not run in a cell.
fn draw_scale(root: &Area) -> Result<()> {
    let (left, top, height) = (WIDTH as i32 - RIGHT + 14, TITLE + 20, 160);
    let font = ("sans-serif", 12).into_font();
    root.draw(&Text::new("×best", (left, top - 20), font.clone()))
        .map_err(err)?;
    for i in 0..height {
        let ratio = WORST_SHOWN.powf(f64::from(i) / f64::from(height));
        let bar = Rectangle::new(
            [(left, top + i), (left + 16, top + i + 1)],
            colour(ratio).filled(),
        );
        root.draw(&bar).map_err(err)?;
    }
    for (label, ratio) in [("×1 best", 1.0f64), ("×2", 2.0), ("×4", 4.0), ("×8 +", 8.0)] {
        let y = top + (f64::from(height) * ratio.log2() / WORST_SHOWN.log2()) as i32;
        root.draw(&Text::new(label, (left + 20, y - 6), font.clone()))
            .map_err(err)?;
    }
    let grey = Rectangle::new(
        [(left, top + height + 18), (left + 16, top + height + 30)],
        RGBColor(225, 225, 225).filled(),
    );
    root.draw(&grey).map_err(err)?;
    root.draw(&Text::new(
        "did not run",
        (left + 20, top + height + 18),
        font,
    ))
    .map_err(err)
}
