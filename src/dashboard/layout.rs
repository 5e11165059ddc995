//! Where each pane goes: fixed rows for the header, figures and footer, and
//! the rest shared so 80×24 shows every pane and a bigger screen gives the
//! extra rows to the charts and the tables.

use ratatui::layout::Rect;

/// The screen's panes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Areas {
    pub(crate) header: Rect,
    pub(crate) figures: Rect,
    pub(crate) throughput: Rect,
    pub(crate) latency: Rect,
    pub(crate) pending: Rect,
    pub(crate) heat: Rect,
    pub(crate) busiest: Rect,
    pub(crate) events: Rect,
    pub(crate) footer: Rect,
    /// Charts to tables: where the finished run's summary goes.
    pub(crate) body: Rect,
}

const HEADER: u16 = 1;
const FIGURES: u16 = 3;
const FOOTER: u16 = 1;
/// The rows each band gets at 80×24 (charts, pending+heat, tables).
const BASE: [u16; 3] = [7, 6, 6];
/// The pending-by-priority column.
const PENDING_WIDTH: u16 = 28;
/// The busiest-workers table on a narrow screen.
const TABLE_WIDTH: u16 = 46;

/// Splits `area` into the panes.
pub(crate) fn areas(area: Rect) -> Areas {
    let rows = column(area, &[HEADER, FIGURES]);
    let (header, figures) = (rows[0], rows[1]);
    let rest = area.height.saturating_sub(HEADER + FIGURES + FOOTER);
    let bands = band_heights(rest);
    let body = Rect {
        y: figures.bottom(),
        height: rest,
        ..area
    };
    let b = column(body, &bands);
    let footer = Rect {
        y: body.bottom(),
        height: area.bottom().saturating_sub(body.bottom()).min(FOOTER),
        ..area
    };
    let [throughput, latency] = split(b[0], b[0].width / 2);
    let [pending, heat] = split(b[1], PENDING_WIDTH.min(b[1].width / 2));
    let table = if b[2].width >= 120 {
        b[2].width / 2
    } else {
        TABLE_WIDTH.min(b[2].width)
    };
    let [busiest, events] = split(b[2], table);
    Areas {
        header,
        figures,
        throughput,
        latency,
        pending,
        heat,
        busiest,
        events,
        footer,
        body,
    }
}

/// The three bands' heights for `rest` rows: the base at 24 rows; above,
/// 3/8 of the extra to the charts, 1/4 to the middle, the rest to the
/// tables; below, the tables shrink first, then the middle.
fn band_heights(rest: u16) -> [u16; 3] {
    let base: u16 = BASE.iter().sum();
    if rest >= base {
        let extra = rest - base;
        let charts = extra * 3 / 8;
        let middle = extra / 4;
        return [
            BASE[0] + charts,
            BASE[1] + middle,
            BASE[2] + extra - charts - middle,
        ];
    }
    let charts = rest.min(BASE[0]);
    let middle = (rest - charts).min(BASE[1]);
    [charts, middle, rest - charts - middle]
}

/// Stacks rows of the given heights from the top of `area` (clipped to it).
fn column(area: Rect, heights: &[u16]) -> Vec<Rect> {
    let mut y = area.y;
    heights
        .iter()
        .map(|&h| {
            let h = h.min(area.bottom().saturating_sub(y));
            let r = Rect {
                y,
                height: h,
                ..area
            };
            y += h;
            r
        })
        .collect()
}

/// A left part `left` wide and the rest, one column apart.
fn split(area: Rect, left: u16) -> [Rect; 2] {
    let left = left.min(area.width);
    let gap = u16::from(area.width > left);
    let right_x = area.x + left + gap;
    [
        Rect {
            width: left,
            ..area
        },
        Rect {
            x: right_x,
            width: area.right().saturating_sub(right_x),
            ..area
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rect(w: u16, h: u16) -> Rect {
        Rect::new(0, 0, w, h)
    }

    #[test]
    fn at_80_by_24_every_pane_has_its_base_rows() {
        let a = areas(rect(80, 24));
        assert_eq!((a.header.height, a.figures.height, a.footer.y), (1, 3, 23));
        assert_eq!(a.throughput.height, 7);
        assert_eq!((a.pending.height, a.heat.height), (6, 6));
        assert_eq!((a.busiest.height, a.events.height), (6, 6));
        assert_eq!(a.busiest.width + 1 + a.events.width, 80);
        assert_eq!(a.body.height, 19);
    }

    #[test]
    fn a_bigger_screen_grows_the_charts_and_tables() {
        let a = areas(rect(160, 48));
        assert_eq!(a.footer.y, 47);
        assert_eq!(a.throughput.height, 16);
        assert_eq!(a.pending.height, 12);
        assert_eq!(a.busiest.height, 15);
        assert_eq!(a.busiest.width, 80);
    }

    #[test]
    fn a_tiny_screen_clips_without_overflow() {
        for (w, h) in [(10, 3), (40, 12), (0, 0)] {
            let area = rect(w, h);
            let a = areas(area);
            for r in [
                a.header,
                a.figures,
                a.throughput,
                a.heat,
                a.events,
                a.footer,
            ] {
                assert!(
                    area.union(r) == area || r.area() == 0,
                    "{r:?} outside {area:?}"
                );
            }
        }
    }
}
