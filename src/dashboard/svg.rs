//! A drawn screen as an SVG picture: each row's runs of same-styled cells
//! become one text element (and a rectangle where the run has a
//! background), each stretched to its cells' exact width so the columns
//! line up in any monospace font. For the README's screenshot.

use std::fmt::Write;

use ratatui::buffer::{Buffer, Cell};
use ratatui::style::{Color, Modifier};

/// A cell's size in the picture, px.
const CELL_W: f64 = 9.0;
const CELL_H: f64 = 18.0;
const BACKGROUND: &str = "#1b1f27";
const FOREGROUND: &str = "#c8ccd4";

/// The picture of `buffer`, on a dark terminal background.
pub fn buffer_svg(buffer: &Buffer) -> String {
    let area = buffer.area;
    let (w, h) = (
        f64::from(area.width) * CELL_W,
        f64::from(area.height) * CELL_H,
    );
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="DejaVu Sans Mono, Menlo, Consolas, monospace" font-size="15">"#
    );
    let _ = writeln!(
        out,
        r#"<rect width="{w}" height="{h}" fill="{BACKGROUND}"/>"#
    );
    for y in area.top()..area.bottom() {
        let row: Vec<&Cell> = (area.left()..area.right())
            .map(|x| &buffer[(x, y)])
            .collect();
        let top = f64::from(y - area.top()) * CELL_H;
        for run in runs(&row) {
            write_run(&mut out, &run, top);
        }
    }
    out.push_str("</svg>\n");
    out
}

/// Cells side by side with one look.
struct Run {
    column: usize,
    cells: usize,
    text: String,
    look: Look,
}

#[derive(Clone, Copy, PartialEq, Eq)]
struct Look {
    fg: &'static str,
    bg: Option<&'static str>,
    bold: bool,
}

fn look(cell: &Cell) -> Look {
    let (mut fg, mut bg) = (hex(cell.fg), hex(cell.bg));
    if cell.modifier.contains(Modifier::REVERSED) {
        (fg, bg) = (bg.or(Some(BACKGROUND)), fg.or(Some(FOREGROUND)));
    }
    Look {
        fg: fg.unwrap_or(FOREGROUND),
        bg,
        bold: cell.modifier.contains(Modifier::BOLD),
    }
}

fn runs(row: &[&Cell]) -> Vec<Run> {
    let mut out: Vec<Run> = Vec::new();
    for (column, cell) in row.iter().enumerate() {
        let l = look(cell);
        match out.last_mut() {
            Some(run) if run.look == l => {
                run.cells += 1;
                run.text.push_str(cell.symbol());
            }
            _ => out.push(Run {
                column,
                cells: 1,
                text: cell.symbol().to_owned(),
                look: l,
            }),
        }
    }
    out
}

fn write_run(out: &mut String, run: &Run, top: f64) {
    let x = run.column as f64 * CELL_W;
    let width = run.cells as f64 * CELL_W;
    if let Some(bg) = run.look.bg {
        let _ = writeln!(
            out,
            r#"<rect x="{x}" y="{top}" width="{width}" height="{CELL_H}" fill="{bg}"/>"#
        );
    }
    if run.text.trim().is_empty() {
        return;
    }
    let weight = if run.look.bold {
        r#" font-weight="bold""#
    } else {
        ""
    };
    let _ = writeln!(
        out,
        r#"<text x="{x}" y="{}" textLength="{width}" lengthAdjust="spacingAndGlyphs" xml:space="preserve" fill="{}"{weight}>{}</text>"#,
        top + CELL_H * 0.78,
        run.look.fg,
        escape(&run.text)
    );
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A terminal colour as the picture paints it (`None`: the default).
fn hex(color: Color) -> Option<&'static str> {
    Some(match color {
        Color::Reset => return None,
        Color::Black => "#1b1f27",
        Color::Red | Color::LightRed => "#e06c75",
        Color::Green | Color::LightGreen => "#98c379",
        Color::Yellow | Color::LightYellow => "#e5c07b",
        Color::Blue | Color::LightBlue => "#61afef",
        Color::Magenta | Color::LightMagenta => "#c678dd",
        Color::Cyan | Color::LightCyan => "#56b6c2",
        Color::Gray => "#abb2bf",
        Color::DarkGray => "#5c6370",
        Color::White => "#f0f0f0",
        Color::Rgb(..) | Color::Indexed(_) => FOREGROUND,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::layout::Rect;
    use ratatui::style::Style;

    #[test]
    fn runs_of_one_look_become_one_text_each_escaped() {
        let mut buffer = Buffer::empty(Rect::new(0, 0, 8, 2));
        buffer.set_string(0, 0, "a<b", Style::new().fg(Color::Red));
        buffer.set_string(3, 0, "&c", Style::new().add_modifier(Modifier::REVERSED));
        let svg = buffer_svg(&buffer);
        assert!(svg.starts_with("<svg "), "{svg}");
        assert!(svg.contains(r##"fill="#e06c75">a&lt;b</text>"##), "{svg}");
        // Reversed: the default colours swap, the background is painted.
        assert!(
            svg.contains(r##"width="18" height="18" fill="#c8ccd4"/>"##),
            "{svg}"
        );
        assert!(svg.contains(r##"fill="#1b1f27">&amp;c</text>"##), "{svg}");
        // Blank runs draw no text; the second row is all blank.
        assert_eq!(svg.matches("<text").count(), 2);
        assert!(svg.trim_end().ends_with("</svg>"));
    }
}
