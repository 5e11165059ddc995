//! Sweeps on a real Slurm: a one-node cluster (munged, slurmctld, slurmd)
//! started on this machine runs the recipe of docs/sweeps-on-a-cluster.md
//! (scripts/slurm/) as written: a 4-task array with `--shard auto` and a
//! dependent merge; one task is cancelled mid-run, rerun with --resume,
//! and the merge (stuck on DependencyNeverSatisfied) pointed at the rerun.
//! The merged file must be byte-identical to a single-machine sweep.
//!
//! The daemons and the jobs run as the user running the test (SlurmUser
//! and SlurmdUser are that user; root is not needed). Skipped, saying so,
//! where the daemons are not installed; with `CI` set it fails instead
//! (.ci/run installs them). Every daemon is stopped by its pid; everything
//! listens on 127.0.0.1.

use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The recipe the test runs, shipped for users to copy.
const SCRIPTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/slurm");
const DOC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/sweeps-on-a-cluster.md");
const SCRIPT_NAMES: [&str; 4] = ["sweep.sbatch", "merge.sbatch", "submit.sh", "resubmit.sh"];

/// 16 cells of about a third of a second: each shard runs a second or
/// more, long enough to be cancelled part way.
const GRID: &str = r#"{
    "base": {"stress": {"tests": 150000, "duration": 600}},
    "axes": {"workers": [20, 40]},
    "replications": 8
}"#;

/// The programs the test needs.
const TOOLS: [&str; 8] = [
    "munged",
    "slurmctld",
    "slurmd",
    "sbatch",
    "squeue",
    "scancel",
    "scontrol",
    "sinfo",
];

/// A program on PATH or in the sbin directories Debian puts daemons in.
fn find(tool: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/usr/bin", "/sbin"].map(PathBuf::from))
        .map(|d| d.join(tool))
        .find(|p| p.is_file())
}

/// Why the test cannot run here, if it cannot.
fn missing() -> Option<String> {
    let absent: Vec<&str> = TOOLS
        .iter()
        .copied()
        .filter(|t| find(t).is_none())
        .collect();
    (!absent.is_empty()).then(|| {
        format!(
            "{} not installed (apt-get install slurmctld slurmd munge slurm-client)",
            absent.join(", ")
        )
    })
}

/// The user running the test, who runs the daemons and the jobs.
fn user() -> String {
    let out = Command::new("id").arg("-un").output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A free TCP port on 127.0.0.1 (bound, read back, released).
fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// Waits up to `secs` seconds for `done`; panics naming `what` after.
// Waiting on daemons and jobs is wall time by nature.
#[allow(clippy::disallowed_methods)]
fn wait_for(what: &str, secs: u64, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if done() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("timed out after {secs} s waiting for {what}");
}

/// The daemons of a one-node cluster in a directory of its own.
struct Cluster {
    dir: PathBuf,
    daemons: Vec<(&'static str, Child)>,
}

impl Cluster {
    fn start() -> Cluster {
        let dir = std::env::temp_dir().join(format!("lbsim-slurm-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        for sub in ["munge", "state", "spool", "work"] {
            std::fs::create_dir_all(dir.join(sub)).unwrap();
        }
        let mut c = Cluster {
            dir,
            daemons: Vec::new(),
        };
        c.start_munge();
        std::fs::write(c.dir.join("slurm.conf"), c.config()).unwrap();
        let conf = c.path("slurm.conf");
        c.spawn("slurmctld", &["-D", "-i", "-f", &conf]);
        c.spawn("slurmd", &["-D", "-N", "localhost", "-f", &conf]);
        wait_for("the node to be idle", 60, || {
            c.check_alive();
            c.ctl("sinfo", &["-h", "-o", "%T"]).trim() == "idle"
        });
        c
    }

    /// Panics with its log if a daemon has exited (a bad config, a port
    /// taken): better than waiting for a node that never comes.
    fn check_alive(&mut self) {
        for (name, child) in &mut self.daemons {
            if let Ok(Some(status)) = child.try_wait() {
                let log = std::fs::read_to_string(self.dir.join(format!("{name}.out")));
                panic!("{name} exited ({status}): {}", log.unwrap_or_default());
            }
        }
    }

    fn path(&self, name: &str) -> String {
        self.dir.join(name).display().to_string()
    }

    fn spawn(&mut self, name: &'static str, args: &[&str]) {
        let log = std::fs::File::create(self.dir.join(format!("{name}.out"))).unwrap();
        let child = Command::new(find(name).unwrap())
            .args(args)
            .env("SLURM_CONF", self.path("slurm.conf"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        self.daemons.push((name, child));
    }

    /// munged in the foreground, with its own key and socket.
    fn start_munge(&mut self) {
        let key = self.dir.join("munge/munge.key");
        let bytes: Vec<u8> = (0..1024u32).map(|i| (i * 7919 % 251) as u8).collect();
        std::fs::write(&key, bytes).unwrap();
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o400)).unwrap();
        let m = |f: &str| format!("{}/munge/{f}", self.dir.display());
        let args = [
            "-F".to_string(),
            "-f".to_string(),
            format!("--socket={}", m("sock")),
            format!("--key-file={}", m("munge.key")),
            format!("--log-file={}", m("log")),
            format!("--pid-file={}", m("pid")),
            format!("--seed-file={}", m("seed")),
        ];
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.spawn("munged", &args);
        let sock = self.dir.join("munge/sock");
        wait_for("munged's socket", 30, || sock.exists());
    }

    fn config(&self) -> String {
        let d = self.dir.display();
        let user = user();
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        format!(
            "ClusterName=lbsimtest\n\
             SlurmctldHost=localhost(127.0.0.1)\n\
             SlurmctldPort={}\nSlurmdPort={}\n\
             SlurmUser={user}\nSlurmdUser={user}\n\
             AuthType=auth/munge\nAuthInfo=socket={d}/munge/sock\nCredType=cred/munge\n\
             StateSaveLocation={d}/state\nSlurmdSpoolDir={d}/spool\n\
             SlurmctldPidFile={d}/slurmctld.pid\nSlurmdPidFile={d}/slurmd.pid\n\
             SlurmctldLogFile={d}/slurmctld.log\nSlurmdLogFile={d}/slurmd.log\n\
             ProctrackType=proctrack/linuxproc\nTaskPlugin=task/none\n\
             SchedulerType=sched/builtin\n\
             SelectType=select/cons_tres\nSelectTypeParameters=CR_Core\n\
             ReturnToService=2\nMpiDefault=none\n\
             JobAcctGatherType=jobacct_gather/none\n\
             AccountingStorageType=accounting_storage/none\n\
             NodeName=localhost NodeAddr=127.0.0.1 CPUs={cpus} State=UNKNOWN\n\
             PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP\n",
            free_port(),
            free_port()
        )
    }

    /// A Slurm client command against this cluster, in its work directory;
    /// its stdout.
    fn ctl(&self, tool: &str, args: &[&str]) -> String {
        let out = self.command(find(tool).unwrap(), args).output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// A command in the work directory, with this cluster's SLURM_CONF and
    /// the recipe's LBSIM (the binary cargo built) and GRID.
    fn command(&self, program: impl AsRef<std::ffi::OsStr>, args: &[&str]) -> Command {
        let mut cmd = Command::new(program);
        cmd.args(args)
            .current_dir(self.dir.join("work"))
            .env("SLURM_CONF", self.path("slurm.conf"))
            .env("LBSIM", env!("CARGO_BIN_EXE_lbsim"))
            .env("GRID", "grid.json")
            .env_remove("LBSIM_SHARDS");
        cmd
    }

    /// Runs one of the recipe's scripts; its stdout, checked for success.
    fn script(&self, name: &str, args: &[&str]) -> String {
        let out = self
            .command(format!("{SCRIPTS}/{name}"), args)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{name} {args:?}: {stderr}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn work(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.join("work").join(name)).unwrap_or_default()
    }
}

impl Drop for Cluster {
    /// Cancels what still runs, then stops each daemon by its pid, newest
    /// first: SIGTERM, and SIGKILL if it has not gone within 10 s.
    #[allow(clippy::disallowed_methods)] // a bounded wait in wall time
    fn drop(&mut self) {
        if !self.daemons.is_empty() {
            let _ = self
                .command(find("scancel").unwrap(), &["-u", &user()])
                .output();
        }
        while let Some((name, mut child)) = self.daemons.pop() {
            // SAFETY: kill(2) on the pid of a child this test started.
            unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
            let deadline = Instant::now() + Duration::from_secs(10);
            while child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
            if child.try_wait().ok().flatten().is_none() {
                let _ = child.kill();
                let _ = child.wait();
                println!("slurm: {name} did not stop on SIGTERM; killed");
            }
        }
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Job ids in the line `submit.sh` prints: "sweep 12 merge 13".
fn job_ids(line: &str) -> (String, String) {
    let words: Vec<&str> = line.split_whitespace().collect();
    assert!(
        words.len() == 4 && words[0] == "sweep" && words[2] == "merge",
        "{line}"
    );
    (words[1].to_string(), words[3].to_string())
}

fn data_rows(text: &str) -> usize {
    text.lines().count().saturating_sub(1)
}

#[test]
// The run's wall time is printed, never asserted.
#[allow(clippy::disallowed_methods)]
fn a_slurm_array_sweep_survives_a_cancelled_task_and_merges_to_the_whole() {
    if let Some(why) = missing() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but the Slurm test cannot run: {why}"
        );
        println!("skipped a_slurm_array_sweep_...: {why}");
        return;
    }
    let started = Instant::now();
    let c = Cluster::start();
    std::fs::write(c.dir.join("work/grid.json"), GRID).unwrap();
    let (sweep, merge) = job_ids(&c.script("submit.sh", &[]));
    // Task 1 (shard 2 of 4) is cancelled once it has written a row.
    let task = format!("{sweep}_1");
    wait_for("task 1's first row", 90, || {
        data_rows(&c.work("results/shard_2.csv")) >= 1
            && c.ctl("squeue", &["-h", "-j", &task, "-o", "%T"]).trim() == "RUNNING"
    });
    c.ctl("scancel", &[&task]);
    wait_for("the merge to be stuck", 90, || {
        c.ctl("squeue", &["-h", "-j", &merge, "-o", "%r"]).trim() == "DependencyNeverSatisfied"
    });
    let cancelled = c.work("results/shard_2.csv");
    assert!(cancelled.ends_with('\n'), "only whole rows: {cancelled}");
    assert!((1..4).contains(&data_rows(&cancelled)), "{cancelled}");
    let log = c.work(&format!("slurm-{sweep}_1.out"));
    assert!(
        log.contains("SIGTERM: stopping after the cells in progress"),
        "{log}"
    );
    let job = c.ctl("scontrol", &["show", "job", &task]);
    assert!(job.contains("ExitCode=143:0"), "{job}");
    let out = c.script("resubmit.sh", &["1", &sweep, &merge]);
    assert!(out.contains(&format!("merge {merge} now waits")), "{out}");
    wait_for("every job to end", 120, || {
        c.ctl("squeue", &["-h", "-o", "%i"]).trim().is_empty()
    });
    let merged_log = c.work(&format!("slurm-{merge}.out"));
    assert!(merged_log.contains("merge: 16 rows"), "{merged_log}");
    let whole = c.dir.join("work/whole.csv").display().to_string();
    let single = c
        .command(
            env!("CARGO_BIN_EXE_lbsim"),
            &["sweep", "grid.json", "--output", &whole],
        )
        .output()
        .unwrap();
    assert!(single.status.success());
    assert_eq!(c.work("results/merged.csv"), c.work("whole.csv"));
    assert_eq!(
        c.work("results/merged.csv.summary.csv"),
        c.work("whole.csv.summary.csv")
    );
    println!(
        "slurm: cluster, array, cancel, resubmit and merge in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

#[test]
fn the_cluster_doc_shows_the_scripts_the_slurm_test_runs() {
    let doc = std::fs::read_to_string(DOC).unwrap();
    for name in SCRIPT_NAMES {
        let script = std::fs::read_to_string(Path::new(SCRIPTS).join(name)).unwrap();
        assert!(
            doc.contains(&script),
            "{DOC} must show scripts/slurm/{name} exactly as shipped"
        );
    }
}
