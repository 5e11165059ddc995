//! Starting `lbsim serve` as a child process for a test: port 0, a temp
//! store, the ready line read back, and the child killed when the guard
//! drops (also when the test fails).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// A running server; killed (SIGKILL) on drop.
pub struct Server {
    child: Child,
    pub url: String,
}

impl Server {
    /// Starts `lbsim serve --port 0 --db-path DIR/x.db ARGS` and waits (at
    /// most 30 s) for its ready line. Its stderr goes to `DIR/serve-N.log`.
    pub fn start(dir: &Path, args: &[&str]) -> Server {
        Server::start_with_env(dir, args, &[])
    }

    pub fn start_with_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Server {
        Server::start_on(dir, 0, args, env)
    }

    /// Starts on a given port (0: any), as a restart on the same address.
    pub fn start_on(dir: &Path, port: u16, args: &[&str], env: &[(&str, &str)]) -> Server {
        let db = dir.join("x.db");
        let n = std::fs::read_dir(dir).map_or(0, |d| d.count());
        let log = std::fs::File::create(dir.join(format!("serve-{n}.log"))).expect("log file");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_lbsim"));
        cmd.args(["serve", "--port", &port.to_string(), "--db-path"])
            .arg(&db)
            .args(args)
            .env_remove("LB_TOKEN")
            .env_remove("LB_LOG_LEVEL")
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log));
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("lbsim serve starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let mut server = Server {
            child,
            url: String::new(),
        };
        let line = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("a ready line within 30 s");
        let at = line
            .find("http://")
            .unwrap_or_else(|| panic!("ready line: {line}"));
        let url = line[at..].split_whitespace().next().unwrap_or_default();
        server.url = url.to_string();
        server
    }

    pub fn client(&self) -> lbsim::client::Client {
        lbsim::client::Client::new(&self.url, None)
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        let port = self.url.rsplit(':').next().unwrap_or_default();
        port.trim_end_matches('/')
            .parse()
            .expect("a port in the url")
    }

    /// `kill -9`.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, then the exit status (waits at most 30 s).
    pub fn terminate(&mut self) -> Option<std::process::ExitStatus> {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        for _ in 0..300 {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        None
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// A plain HTTP request (for status codes the client hides): returns the
/// status and the body.
pub fn raw(method: &str, url: &str, headers: &[(&str, &str)], body: &[u8]) -> (u16, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into();
    let mut response = match method {
        "GET" => {
            let mut r = agent.get(url);
            for (k, v) in headers {
                r = r.header(*k, *v);
            }
            r.call()
        }
        _ => {
            let mut r = agent.post(url);
            for (k, v) in headers {
                r = r.header(*k, *v);
            }
            r.send(body)
        }
    }
    .expect("the server answers");
    let status = response.status().as_u16();
    (
        status,
        response.body_mut().read_to_string().unwrap_or_default(),
    )
}
