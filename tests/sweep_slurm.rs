//! `xbar sweep --slurm` on a real one-node Slurm cluster that this test starts (munged,
//! slurmctld and slurmd, as in `../shared/docs/slurm-local.md`) and stops by pid.
//!
//! - A 4-task job array plus its dependent merge job writes exactly the CSV and figures of a
//!   single-process `xbar sweep` (the oracle, run in another directory).
//! - A shard killed before it ran leaves the merge incomplete (it names the shard); re-running
//!   that one array task completes it, again bit for bit.
//!
//! Skips with a NOTICE where Slurm is not installed or the test is not root (slurmd runs jobs
//! as root here). CI installs `slurm-wlm` and `munge`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

const XBAR: &str = env!("CARGO_BIN_EXE_xbar");

fn sh(script: &str) -> Output {
    Command::new("sh").arg("-c").arg(script).output().unwrap()
}

fn installed(cmd: &str) -> bool {
    sh(&format!(
        "command -v {cmd} >/dev/null 2>&1 || test -x /usr/sbin/{cmd}"
    ))
    .status
    .success()
}

/// A one-node cluster; dropping it stops the daemons it started.
struct Cluster {
    dir: PathBuf,
    conf: PathBuf,
    started_munged: bool,
}

impl Cluster {
    fn start() -> Cluster {
        let dir = std::env::temp_dir().join(format!("xbarsim-slurm-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("state")).unwrap();
        fs::create_dir_all(dir.join("spool")).unwrap();

        // munge: one key, one daemon (reused if one already answers).
        let mut started_munged = false;
        if !sh("munge -n | unmunge >/dev/null 2>&1").status.success() {
            let out = sh("mkdir -p /etc/munge /run/munge /var/log/munge /var/lib/munge && \
                 { [ -f /etc/munge/munge.key ] || dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 2>/dev/null; } && \
                 chown -R munge:munge /etc/munge /run/munge /var/log/munge /var/lib/munge && \
                 chmod 400 /etc/munge/munge.key && su -s /bin/sh munge -c munged");
            assert!(
                out.status.success(),
                "munged: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            started_munged = true;
            assert!(sh("munge -n | unmunge >/dev/null").status.success());
        }

        let host = String::from_utf8(sh("hostname -s").stdout)
            .unwrap()
            .trim()
            .to_string();
        let cpus = String::from_utf8(sh("nproc").stdout)
            .unwrap()
            .trim()
            .to_string();
        let mem_mb: u64 = String::from_utf8(sh("free -m | awk '/^Mem:/{print $2}'").stdout)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        // Ports of our own, so a cluster started elsewhere on this machine does not collide.
        let port = 20000 + (std::process::id() % 20000) as u16 * 2;
        let d = dir.display();
        let conf = dir.join("slurm.conf");
        fs::write(
            &conf,
            format!(
                "ClusterName=xbarsimtest\nSlurmctldHost={host}\nSlurmctldPort={port}\nSlurmdPort={}\n\
                 SlurmUser=root\nSlurmdUser=root\nAuthType=auth/munge\n\
                 StateSaveLocation={d}/state\nSlurmdSpoolDir={d}/spool\n\
                 SlurmctldPidFile={d}/slurmctld.pid\nSlurmdPidFile={d}/slurmd.pid\n\
                 SlurmctldLogFile={d}/ctld.log\nSlurmdLogFile={d}/d.log\n\
                 ProctrackType=proctrack/linuxproc\nTaskPlugin=task/none\n\
                 SchedulerType=sched/backfill\nSelectType=select/cons_tres\nSelectTypeParameters=CR_Core\n\
                 ReturnToService=2\nMpiDefault=none\n\
                 NodeName={host} CPUs={cpus} RealMemory={} State=UNKNOWN\n\
                 PartitionName=debug Nodes={host} Default=YES MaxTime=INFINITE State=UP\n",
                port + 1,
                mem_mb * 8 / 10
            ),
        )
        .unwrap();
        let cluster = Cluster {
            dir,
            conf,
            started_munged,
        };
        for daemon in ["slurmctld", "slurmd"] {
            let out = cluster
                .cmd(daemon)
                .arg("-f")
                .arg(&cluster.conf)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{daemon}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let start = Instant::now();
        loop {
            let out = cluster
                .cmd("sinfo")
                .args(["-h", "-o", "%t"])
                .output()
                .unwrap();
            if String::from_utf8_lossy(&out.stdout).trim() == "idle" {
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "node not idle after 60 s: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            std::thread::sleep(Duration::from_millis(300));
        }
        cluster
    }

    /// A Slurm command talking to this cluster.
    fn cmd(&self, name: &str) -> Command {
        let mut c = Command::new(name);
        c.env("SLURM_CONF", &self.conf);
        c.env(
            "PATH",
            format!("/usr/sbin:{}", std::env::var("PATH").unwrap_or_default()),
        );
        c
    }

    fn run(&self, name: &str, args: &[&str]) -> String {
        let out = self.cmd(name).args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{name} {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Waits until no job is pending or running.
    fn wait_idle(&self, what: &str) {
        let start = Instant::now();
        while !self.run("squeue", &["-h"]).trim().is_empty() {
            assert!(
                start.elapsed() < Duration::from_secs(300),
                "{what}: jobs still queued after 5 min:\n{}",
                self.run("squeue", &[])
            );
            std::thread::sleep(Duration::from_millis(300));
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for pid in ["slurmd.pid", "slurmctld.pid"] {
            if let Ok(p) = fs::read_to_string(self.dir.join(pid)) {
                let _ = Command::new("kill").arg(p.trim()).status();
            }
        }
        if self.started_munged {
            if let Ok(p) = fs::read_to_string("/run/munge/munged.pid") {
                let _ = Command::new("kill").arg(p.trim()).status();
            }
        }
        std::thread::sleep(Duration::from_millis(500));
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// A small sweep (12×12 1T1R, 3 values × 4 trials) in `dir`.
fn sweep_in(dir: &Path) -> PathBuf {
    let _ = fs::remove_dir_all(dir);
    fs::create_dir_all(dir).unwrap();
    let base = fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/configs/crossbar_1t1r_oxram.toml"),
    )
    .unwrap()
    .replace("rows = 64", "rows = 12")
    .replace("cols = 64", "cols = 12");
    fs::write(dir.join("base.toml"), base).unwrap();
    fs::write(
        dir.join("s.toml"),
        "base = \"base.toml\"\nkey = \"wires.resistivity\"\nvalues = [2.2e-9, 2.2e-8, 2.2e-7]\ntrials = 4\nseed = 11\ninputs = 2\n",
    )
    .unwrap();
    dir.join("s.toml")
}

fn outputs(dir: &Path) -> Vec<Vec<u8>> {
    ["s.sweep.csv", "s.sweep.svg", "s.sweep.png"]
        .iter()
        .map(|f| fs::read(dir.join(f)).unwrap_or_else(|e| panic!("{}: {e}", dir.join(f).display())))
        .collect()
}

fn xbar(cluster: &Cluster, args: &[&str]) -> Output {
    let mut c = cluster.cmd(XBAR);
    c.args(args).output().unwrap()
}

#[test]
fn a_slurm_job_array_merges_into_the_single_process_sweep_and_a_killed_shard_rerun_completes_it() {
    if !installed("slurmctld") || !installed("munged") {
        println!("NOTICE: Slurm (slurm-wlm, munge) not installed; skipping the Slurm test");
        return;
    }
    if String::from_utf8_lossy(&sh("id -u").stdout).trim() != "0" {
        println!("NOTICE: the local Slurm cluster needs root; skipping the Slurm test");
        return;
    }
    let cluster = Cluster::start();
    let root = cluster.dir.join("work");

    // The oracle: one process.
    let single = sweep_in(&root.join("single"));
    let out = xbar(&cluster, &["sweep", single.to_str().unwrap()]);
    assert!(out.status.success());

    // 1. --slurm --submit: the array of 4 shards, then the merge after it.
    let sweep = sweep_in(&root.join("array"));
    let out = xbar(
        &cluster,
        &[
            "sweep",
            sweep.to_str().unwrap(),
            "--slurm",
            "--array-size",
            "4",
            "--partition",
            "debug",
            "--submit",
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("(4 tasks)") && stdout.contains("merge job"),
        "{stdout}"
    );
    cluster.wait_idle("array + merge");
    let dir = sweep.parent().unwrap();
    assert_eq!(
        outputs(&single.parent().unwrap()),
        outputs(dir),
        "merged array == single process"
    );
    let logs = fs::read_dir(dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .contains(".slurm-")
        })
        .count();
    assert_eq!(logs, 5, "one log per array task and one for the merge");

    // 2. Shard 2 killed (cancelled while held): the merge names it; its re-run completes it.
    let sweep = sweep_in(&root.join("killed"));
    let out = xbar(
        &cluster,
        &[
            "sweep",
            sweep.to_str().unwrap(),
            "--slurm",
            "--array-size",
            "4",
        ],
    );
    assert!(out.status.success());
    let dir = sweep.parent().unwrap();
    let array = dir.join("s.sweep.array.sbatch");
    let merge = dir.join("s.sweep.merge.sbatch");
    let id = cluster.run("sbatch", &["--parsable", "--hold", array.to_str().unwrap()]);
    let id = id.trim().split(';').next().unwrap().to_string();
    cluster.run("scancel", &[&format!("{id}_2")]);
    cluster.run("scontrol", &["release", &id]);
    cluster.wait_idle("array without shard 2");
    assert!(!dir.join("s.sweep.csv").exists());
    let out = xbar(&cluster, &["sweep", "merge", sweep.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("re-run shard(s) 2/4"),
        "{err}"
    );
    cluster.run("sbatch", &["--wait", "--array=2", array.to_str().unwrap()]);
    cluster.run("sbatch", &["--wait", merge.to_str().unwrap()]);
    assert_eq!(
        outputs(&single.parent().unwrap()),
        outputs(dir),
        "re-run shard completes the merge"
    );
}
