//! The terminal dashboard as a person meets it: `lbsim dashboard stress
//! --speed max` in a detached tmux session of a fixed size, keys sent, the
//! pane read back; `q` exits 0, leaves the alternate screen and gives the
//! shell its cooked terminal back. Without tmux the test says so and
//! passes, except on CI (`CI` set), where it must run.

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use super::common::{path_str, temp_dir};

/// Whether tmux can run here; on CI its absence is a failure.
fn tmux_present() -> bool {
    let found = Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "tmux is missing on CI (.ci/run installs it)"
        );
        eprintln!("note: tmux is not installed; the dashboard's tmux smoke test is skipped");
    }
    found
}

/// A tmux server of its own (a private socket), killed on drop.
struct Tmux {
    socket: String,
}

impl Tmux {
    fn run(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .args(["-L", &self.socket])
            .args(args)
            .output()
            .expect("tmux runs")
    }

    fn pane(&self) -> String {
        let out = self.run(&["capture-pane", "-p", "-t", "dash"]);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Whether the pane shows the alternate screen.
    fn alternate_on(&self) -> bool {
        let out = self.run(&["display-message", "-p", "-t", "dash", "#{alternate_on}"]);
        String::from_utf8_lossy(&out.stdout).trim() == "1"
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "dash"];
        args.extend(keys);
        assert!(self.run(&args).status.success());
    }

    /// Waits (at most `limit`) until the pane satisfies `done`; the last
    /// pane read either way.
    fn poll(&self, limit: Duration, done: impl Fn(&str) -> bool) -> Result<String, String> {
        let mut pane = String::new();
        for _ in 0..limit.as_millis() / 100 {
            pane = self.pane();
            if done(&pane) {
                return Ok(pane);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err(pane)
    }

    /// Waits (at most `limit`) until the pane shows `text`.
    fn wait_for(&self, text: &str, limit: Duration) -> String {
        self.poll(limit, |p| p.contains(text))
            .unwrap_or_else(|pane| panic!("no {text:?} within {limit:?}{}:\n{pane}", self.why()))
    }

    /// Sends `key` until the pane satisfies `done`: a key that shows no
    /// effect within 15 s is sent once more, as a person would press it
    /// again (tmux has been known to drop keys sent while a pane prints a
    /// lot; a lost key must not pass as a broken dashboard).
    fn press(&self, key: &str, what: &str, done: impl Fn(&str) -> bool) -> String {
        let mut last = String::new();
        for _ in 0..2 {
            self.keys(&[key]);
            match self.poll(Duration::from_secs(15), &done) {
                Ok(pane) => return pane,
                Err(pane) => last = pane,
            }
        }
        panic!("{key:?} twice, and still no {what}{}:\n{last}", self.why())
    }

    /// What the pane's processes were doing, for a failure message.
    fn why(&self) -> String {
        let out = self.run(&["display-message", "-p", "-t", "dash", "#{pane_pid}"]);
        let pid = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let ps = Command::new("ps")
            .args([
                "-o",
                "pid,stat,wchan:20,etime,args",
                "--ppid",
                &pid,
                "-p",
                &pid,
            ])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default();
        format!(" (the pane's processes:\n{ps})")
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
    }
}

/// The shell line run in the pane: the dashboard, then its exit code and
/// the terminal's settings once it is gone.
fn pane_command(dir: &Path) -> String {
    let bin = env!("CARGO_BIN_EXE_lbsim");
    let stty = dir.join("stty.txt");
    format!(
        "{bin} dashboard stress --speed max --workers 8 --tests 300 --dynamic; \
         echo EXIT=$?; stty -a > {}; sleep 60",
        path_str(&stty)
    )
}

#[test]
fn the_dashboard_runs_in_tmux_answers_keys_and_restores_the_terminal() {
    if !tmux_present() {
        return;
    }
    let dir = temp_dir("dash-tmux");
    let tmux = Tmux {
        socket: format!("lbsim-test-{}", std::process::id()),
    };
    let started = tmux.run(&[
        "new-session",
        "-d",
        "-s",
        "dash",
        "-x",
        "120",
        "-y",
        "40",
        &pane_command(&dir),
    ]);
    assert!(started.status.success(), "{started:?}");
    // A pane read may catch a frame half written (the header's FINISHED
    // before the summary box below it): wait for the whole frame.
    let figures = [
        "FINISHED",
        "submitted 300",
        "completed 300",
        "Run finished: q quits",
    ];
    tmux.poll(Duration::from_secs(60), |p| {
        figures.iter().all(|f| p.contains(f))
    })
    .unwrap_or_else(|pane| panic!("no finished frame within 60 s{}:\n{pane}", tmux.why()));
    assert!(
        tmux.alternate_on(),
        "the dashboard draws on the alternate screen"
    );
    tmux.press("?", "help", |p| {
        p.contains("pause / resume") && p.contains("quit (ctrl-c too)")
    });
    tmux.press("?", "help closed", |p| !p.contains("pause / resume"));
    tmux.press("o", "new order", |p| {
        p.contains("(by running") && !p.contains("(by load)")
    });
    tmux.keys(&["Tab", "/"]);
    tmux.wait_for("filter workers: _", Duration::from_secs(30));
    tmux.keys(&["w", "o", "r", "k", "Enter"]);
    tmux.wait_for("(by running, ", Duration::from_secs(30));
    tmux.wait_for("match 'work')", Duration::from_secs(30));
    tmux.keys(&["q"]);
    let after = tmux.wait_for("EXIT=", Duration::from_secs(30));
    assert!(after.contains("EXIT=0"), "{after}");
    assert!(!tmux.alternate_on(), "the alternate screen was left");
    // The batch summary lands on the normal screen, for the scrollback.
    assert!(
        after.contains("lbsim stress: 8 workers, 300 tests"),
        "{after}"
    );
    let stty = dir.join("stty.txt");
    for _ in 0..100 {
        if stty.exists() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(200));
    let settings = std::fs::read_to_string(&stty).expect("stty ran after the dashboard");
    let words: Vec<&str> = settings.split_whitespace().collect();
    for mode in ["icanon", "echo", "isig"] {
        assert!(words.contains(&mode), "{mode} not restored: {settings}");
    }
    drop(tmux);
    std::fs::remove_dir_all(&dir).unwrap();
}
