//! Keys as a pure function: a key press changes the view state and says
//! what the driver should do (step, pause, quit). No terminal involved.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::workers::SortOrder;

/// The panes `tab` moves between; the focused one is drawn with a heavy rule.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Pane {
    #[default]
    Charts,
    Workers,
    Events,
}

impl Pane {
    pub(crate) fn next(self) -> Pane {
        match self {
            Pane::Charts => Pane::Workers,
            Pane::Workers => Pane::Events,
            Pane::Events => Pane::Charts,
        }
    }

    pub(crate) fn previous(self) -> Pane {
        self.next().next()
    }
}

/// Simulated seconds per wall second, or as fast as the screen can draw.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Speed {
    Times(f64),
    Max,
}

/// The speeds `+` and `-` step through (`max` lies past the last).
pub(crate) const SPEED_STEPS: [f64; 16] = [
    0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0, 2000.0, 5000.0,
    10000.0,
];

impl Speed {
    /// The next step up (past the last step: `max`).
    pub(crate) fn faster(self) -> Speed {
        match self {
            Speed::Times(x) => SPEED_STEPS
                .iter()
                .find(|&&s| s > x)
                .map_or(Speed::Max, |&s| Speed::Times(s)),
            Speed::Max => Speed::Max,
        }
    }

    /// The next step down (from `max`: the last step; never below the first).
    pub(crate) fn slower(self) -> Speed {
        let x = match self {
            Speed::Times(x) => x,
            Speed::Max => f64::INFINITY,
        };
        let s = SPEED_STEPS
            .iter()
            .rev()
            .find(|&&s| s < x)
            .unwrap_or(&SPEED_STEPS[0]);
        Speed::Times(*s)
    }
}

/// What the screen shows besides the model: pause, speed, focus, filter,
/// sort, help.
#[derive(Clone, Debug, PartialEq)]
pub struct UiState {
    pub paused: bool,
    pub(crate) speed: Speed,
    pub focus: Pane,
    /// Workers whose name or phase contains this (lowercase match).
    pub(crate) filter: String,
    /// True while the filter is being typed.
    pub(crate) editing_filter: bool,
    pub(crate) sort: SortOrder,
    pub(crate) help: bool,
}

impl UiState {
    pub fn new(speed: Speed) -> UiState {
        UiState {
            paused: false,
            speed,
            focus: Pane::default(),
            filter: String::new(),
            editing_filter: false,
            sort: SortOrder::default(),
            help: false,
        }
    }
}

/// What the driver does after a key.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Action {
    /// Nothing changed.
    None,
    /// Only the view changed: draw again.
    Redraw,
    Pause,
    Resume,
    /// Pause (if running) and run the next event.
    StepEvent,
    /// Pause (if running) and run one simulated second.
    StepSecond,
    SetSpeed(Speed),
    Quit,
}

/// Applies one key to `ui` and says what to do.
pub fn handle(key: KeyEvent, ui: &mut UiState) -> Action {
    if key.kind == KeyEventKind::Release {
        return Action::None;
    }
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    if ctrl && matches!(key.code, KeyCode::Char('c' | 'C')) {
        return Action::Quit;
    }
    if ui.editing_filter {
        return edit_filter(key.code, ui);
    }
    if ui.help {
        return match key.code {
            KeyCode::Char('q') => Action::Quit,
            KeyCode::Char('?') | KeyCode::Esc => {
                ui.help = false;
                Action::Redraw
            }
            _ => Action::None,
        };
    }
    match key.code {
        KeyCode::Char('q') => Action::Quit,
        KeyCode::Char(' ') => {
            ui.paused = !ui.paused;
            if ui.paused {
                Action::Pause
            } else {
                Action::Resume
            }
        }
        KeyCode::Char('s') => {
            ui.paused = true;
            Action::StepEvent
        }
        KeyCode::Char('n') => {
            ui.paused = true;
            Action::StepSecond
        }
        KeyCode::Char('+' | '=') => set_speed(ui, ui.speed.faster()),
        KeyCode::Char('-' | '_') => set_speed(ui, ui.speed.slower()),
        _ => view_key(key.code, ui),
    }
}

/// Keys that change only the view.
fn view_key(code: KeyCode, ui: &mut UiState) -> Action {
    match code {
        KeyCode::Tab => ui.focus = ui.focus.next(),
        KeyCode::BackTab => ui.focus = ui.focus.previous(),
        KeyCode::Char('/') => ui.editing_filter = true,
        KeyCode::Char('o') => ui.sort = ui.sort.next(),
        KeyCode::Char('?') => ui.help = true,
        KeyCode::Esc if !ui.filter.is_empty() => ui.filter.clear(),
        _ => return Action::None,
    }
    Action::Redraw
}

fn set_speed(ui: &mut UiState, speed: Speed) -> Action {
    if speed == ui.speed {
        return Action::None;
    }
    ui.speed = speed;
    Action::SetSpeed(speed)
}

/// Typing a filter: characters add, Backspace removes, Enter keeps it,
/// Esc drops it.
fn edit_filter(code: KeyCode, ui: &mut UiState) -> Action {
    match code {
        KeyCode::Char(c) => ui.filter.extend(c.to_lowercase()),
        KeyCode::Backspace => {
            ui.filter.pop();
        }
        KeyCode::Enter => ui.editing_filter = false,
        KeyCode::Esc => {
            ui.editing_filter = false;
            ui.filter.clear();
        }
        _ => return Action::None,
    }
    Action::Redraw
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    fn press(ui: &mut UiState, codes: &[KeyCode]) -> Vec<Action> {
        codes.iter().map(|&c| handle(key(c), ui)).collect()
    }

    fn chars(s: &str) -> Vec<KeyCode> {
        s.chars().map(KeyCode::Char).collect()
    }

    #[test]
    fn space_pauses_and_resumes() {
        let mut ui = UiState::new(Speed::Times(1.0));
        assert_eq!(press(&mut ui, &chars(" ")), [Action::Pause]);
        assert!(ui.paused);
        assert_eq!(press(&mut ui, &chars(" ")), [Action::Resume]);
        assert!(!ui.paused);
    }

    #[test]
    fn stepping_pauses_first() {
        let mut ui = UiState::new(Speed::Times(1.0));
        assert_eq!(press(&mut ui, &chars("s")), [Action::StepEvent]);
        assert!(ui.paused);
        assert_eq!(press(&mut ui, &chars("n")), [Action::StepSecond]);
        assert!(ui.paused);
    }

    #[test]
    fn plus_and_minus_walk_the_speed_steps_up_to_max() {
        let mut ui = UiState::new(Speed::Times(3.0));
        assert_eq!(
            press(&mut ui, &chars("+")),
            [Action::SetSpeed(Speed::Times(5.0))]
        );
        assert_eq!(
            press(&mut ui, &chars("--")),
            [
                Action::SetSpeed(Speed::Times(2.0)),
                Action::SetSpeed(Speed::Times(1.0))
            ]
        );
        ui.speed = Speed::Times(10000.0);
        assert_eq!(
            press(&mut ui, &chars("++")),
            [Action::SetSpeed(Speed::Max), Action::None]
        );
        assert_eq!(
            press(&mut ui, &chars("-")),
            [Action::SetSpeed(Speed::Times(10000.0))]
        );
        ui.speed = Speed::Times(0.1);
        assert_eq!(press(&mut ui, &chars("-")), [Action::None]);
    }

    #[test]
    fn tab_cycles_the_panes_both_ways() {
        let mut ui = UiState::new(Speed::Max);
        press(&mut ui, &[KeyCode::Tab, KeyCode::Tab]);
        assert_eq!(ui.focus, Pane::Events);
        press(&mut ui, &[KeyCode::Tab]);
        assert_eq!(ui.focus, Pane::Charts);
        press(&mut ui, &[KeyCode::BackTab]);
        assert_eq!(ui.focus, Pane::Events);
    }

    #[test]
    fn a_filter_is_typed_kept_with_enter_and_dropped_with_esc() {
        let mut ui = UiState::new(Speed::Max);
        let mut keys = chars("/Gpu q");
        keys.extend([KeyCode::Backspace, KeyCode::Backspace, KeyCode::Enter]);
        press(&mut ui, &keys);
        assert_eq!(ui.filter, "gpu");
        assert!(!ui.editing_filter);
        // Once kept, `q` quits again; Esc clears the kept filter.
        assert_eq!(press(&mut ui, &[KeyCode::Esc]), [Action::Redraw]);
        assert_eq!(ui.filter, "");
        press(&mut ui, &chars("/abc"));
        assert_eq!(press(&mut ui, &[KeyCode::Esc]), [Action::Redraw]);
        assert_eq!((ui.filter.as_str(), ui.editing_filter), ("", false));
        assert_eq!(press(&mut ui, &chars("q")), [Action::Quit]);
    }

    #[test]
    fn o_cycles_the_sort_order() {
        let mut ui = UiState::new(Speed::Max);
        press(&mut ui, &chars("o"));
        assert_eq!(ui.sort, SortOrder::Running);
        press(&mut ui, &chars("oo"));
        assert_eq!(ui.sort, SortOrder::Load);
    }

    #[test]
    fn help_swallows_keys_until_closed_but_q_still_quits() {
        let mut ui = UiState::new(Speed::Times(1.0));
        press(&mut ui, &chars("?"));
        assert!(ui.help);
        assert_eq!(press(&mut ui, &chars(" s")), [Action::None, Action::None]);
        assert!(!ui.paused);
        assert_eq!(press(&mut ui, &chars("?")), [Action::Redraw]);
        assert!(!ui.help);
        press(&mut ui, &chars("?"));
        assert_eq!(press(&mut ui, &chars("q")), [Action::Quit]);
    }

    #[test]
    fn ctrl_c_quits_even_while_typing_a_filter() {
        let mut ui = UiState::new(Speed::Max);
        press(&mut ui, &chars("/"));
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(handle(ctrl_c, &mut ui), Action::Quit);
    }

    #[test]
    fn key_releases_are_ignored() {
        let mut ui = UiState::new(Speed::Max);
        let mut release = key(KeyCode::Char('q'));
        release.kind = KeyEventKind::Release;
        assert_eq!(handle(release, &mut ui), Action::None);
    }
}
