//! Sparse nodal analysis: binding a [`Circuit`] to a fixed-pattern matrix, loading the
//! linearised companion models, and Newton-Raphson.
//!
//! The system solved at every Newton iteration is the modified nodal equation
//!
//! ```text
//!   [ G  B ] [ v ]   [ i ]      G: conductances of the linearised elements (S)
//!   [ C  D ] [ j ] = [ e ]      j: branch currents of V, E, L and V-type B elements (A)
//! ```
//!
//! Rows of node k say "current leaving node k through the elements = current injected";
//! a branch row states the element's voltage law.

use std::sync::Arc;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::diode;
use super::elements::*;
use super::matrix::{NodalMatrix, PatternBuilder};
use super::mos1;
use super::stamp::{self, companion_current, inject, NO_SLOT};

/// Most source-stepping solves one operating point may take (successful or not).
const MAX_SOURCE_STEPS: usize = 200;

/// Errors of binding and solving. Each names the element or node at fault.
#[derive(Debug, thiserror::Error, Clone)]
pub enum SimError {
    #[error("{0}")]
    Topology(String),
    #[error("singular matrix: {0}")]
    Singular(String),
    #[error("no convergence: {0}")]
    NoConvergence(String),
    #[error("{0}")]
    Invalid(String),
}

/// `XBAR_NEWTON=1` prints every Newton iteration's worst unknown to stderr (`XBAR_NEWTON_ALL=1`
/// adds the iterate and the diode operating points): a debugging aid, read once.
fn trace_newton() -> bool {
    static T: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *T.get_or_init(|| std::env::var_os("XBAR_NEWTON").is_some())
}

fn trace_newton_all() -> bool {
    static T: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *T.get_or_init(|| std::env::var_os("XBAR_NEWTON_ALL").is_some())
}

/// Unknown index of a node (ground has none).
#[inline]
pub(crate) fn unk(n: NodeId) -> Option<usize> {
    if n == GROUND {
        None
    } else {
        Some(n - 1)
    }
}

/// How the circuit is being evaluated.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Mode {
    /// DC operating point or sweep point. `src` scales independent sources (source
    /// stepping); `gshunt` is a conductance from every node to ground (gmin stepping).
    Dc { src: f64, gshunt: f64 },
    /// Transient time point at `time` with integration coefficient `ag0` (i = ag0·q + hist).
    Tran { time: f64 },
}

/// Integration state of a charge (or flux) element: the present iterate and history.
#[derive(Clone, Debug, Default)]
pub(crate) struct Charges {
    /// charge now (this Newton iterate), and at the last accepted points: q[1] newest.
    pub q: Vec<[f64; 4]>,
    /// charge current now and at the last accepted point.
    pub i: Vec<[f64; 2]>,
    /// The unknowns the charge's current i = dq/dt leaves (first) and enters (second), and
    /// the sign that turns i into that node current (a PMOS's polarity); `(None, None, 0)`
    /// for an inductor's flux, whose derivative is a voltage.
    pub nodes: Vec<(Option<usize>, Option<usize>, f64)>,
}

/// Integration method coefficients for the present step.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Integrator {
    /// i_{n+1} = ag0·(q_{n+1} − q_n) − ag1·i_n
    pub ag0: f64,
    pub ag1: f64,
    pub order: usize,
}

impl Charges {
    fn add(&mut self, from: Option<usize>, to: Option<usize>, sign: f64) -> usize {
        self.q.push([0.0; 4]);
        self.i.push([0.0; 2]);
        self.nodes.push((from, to, sign));
        self.q.len() - 1
    }
    /// Current of charge `k` at value `q` (stored as the present iterate).
    #[inline]
    pub fn integrate(&mut self, k: usize, q: f64, it: &Integrator) -> f64 {
        self.q[k][0] = q;
        let i = it.ag0 * (q - self.q[k][1]) - it.ag1 * self.i[k][1];
        self.i[k][0] = i;
        i
    }
    /// The accepted point becomes history.
    pub fn accept(&mut self) {
        for q in self.q.iter_mut() {
            q[3] = q[2];
            q[2] = q[1];
            q[1] = q[0];
        }
        for i in self.i.iter_mut() {
            i[1] = i[0];
        }
    }
    /// Set the present value as the whole history (start of a transient).
    pub fn init_history(&mut self) {
        for q in self.q.iter_mut() {
            *q = [q[0]; 4];
        }
        for i in self.i.iter_mut() {
            *i = [0.0; 2];
        }
    }
}

// ----- bound elements: node unknowns plus slots into the value array -----

/// A two-terminal element's 2×2 block of slots ([`stamp::Block`]).
#[derive(Clone, Copy, Debug)]
struct Slots4(stamp::Block);

impl Slots4 {
    fn new(pb: &mut PatternBuilder, a: Option<usize>, b: Option<usize>) -> Self {
        Slots4([
            pb.entry(a, a),
            pb.entry(a, b),
            pb.entry(b, a),
            pb.entry(b, b),
        ])
    }
    fn remap(&mut self, map: &[u32]) {
        for s in &mut self.0 {
            *s = remap(*s, map);
        }
    }
    /// Conductance `g` between the two nodes.
    #[inline]
    fn conductance(&self, m: &mut NodalMatrix, g: f64) {
        stamp::conductance(&mut m.values, &self.0, g);
    }
}

#[inline]
fn remap(s: u32, map: &[u32]) -> u32 {
    if s == NO_SLOT {
        NO_SLOT
    } else {
        map[s as usize]
    }
}

#[inline]
fn volt(x: &[f64], n: Option<usize>) -> f64 {
    n.map_or(0.0, |k| x[k])
}

/// A branch (voltage-defined element): rows/cols of its terminals and its current unknown.
#[derive(Clone, Copy, Debug)]
struct Branch {
    j: usize,
    /// (a, j), (b, j), (j, a), (j, b)
    aj: u32,
    bj: u32,
    ja: u32,
    jb: u32,
}

impl Branch {
    fn new(pb: &mut PatternBuilder, a: NodeId, b: NodeId, j: usize) -> Self {
        let (a, b) = (unk(a), unk(b));
        Branch {
            j,
            aj: pb.entry(a, Some(j)),
            bj: pb.entry(b, Some(j)),
            ja: pb.entry(Some(j), a),
            jb: pb.entry(Some(j), b),
        }
    }
    fn remap(&mut self, map: &[u32]) {
        for s in [&mut self.aj, &mut self.bj, &mut self.ja, &mut self.jb] {
            *s = remap(*s, map);
        }
    }
    /// The incidence part: KCL sees the branch current, the branch row sees V(a) − V(b).
    #[inline]
    fn stamp(&self, m: &mut NodalMatrix) {
        m.add(self.aj, 1.0);
        m.add(self.bj, -1.0);
        m.add(self.ja, 1.0);
        m.add(self.jb, -1.0);
    }
}

#[derive(Clone, Debug)]
struct BRes {
    s: Slots4,
    g: f64,
}

#[derive(Clone, Debug)]
struct BCap {
    a: Option<usize>,
    b: Option<usize>,
    s: Slots4,
    c: f64,
    q: usize,
    ic: Option<f64>,
}

#[derive(Clone, Debug)]
struct BInd {
    br: Branch,
    jj: u32,
    l: f64,
    q: usize,
}

#[derive(Clone, Debug)]
struct BVccs {
    /// (a,cp) (a,cn) (b,cp) (b,cn)
    s: [u32; 4],
    gm: f64,
}

#[derive(Clone, Debug)]
struct BVcvs {
    br: Branch,
    /// (j,cp) (j,cn)
    jc: [u32; 2],
    gain: f64,
}

#[derive(Clone, Debug)]
struct BBehav {
    kind: BehaviouralKind,
    a: Option<usize>,
    b: Option<usize>,
    /// For V: the branch; for I: unused.
    br: Option<Branch>,
    /// Controlling unknowns, one per `expr.nodes` entry.
    ctrl: Vec<Option<usize>>,
    /// I: (a,ctrl_k) and (b,ctrl_k); V: (j,ctrl_k) in the first half only.
    s: Vec<u32>,
    volts: Vec<f64>,
    grad: Vec<f64>,
}

#[derive(Clone, Debug)]
struct BDiode {
    /// Internal anode (after RS) and cathode.
    ai: Option<usize>,
    k: Option<usize>,
    rs: Slots4,
    j: Slots4,
    t: diode::DiodeTemp,
    /// Junction voltage of the last iterate (for pnjlim).
    vd_old: f64,
    q: usize,
}

#[derive(Clone, Debug)]
struct BMos {
    /// Internal (after RD/RS) drain and source; gate; bulk.
    di: Option<usize>,
    g: Option<usize>,
    si: Option<usize>,
    b: Option<usize>,
    rd: Slots4,
    rs: Slots4,
    /// Full 4×4 block over (di, g, si, b): slots[row][col].
    blk: [[u32; 4]; 4],
    model: Arc<mos1::Mos1Model>,
    t: mos1::Mos1Temp,
    pol: f64,
    /// Last iterate's (vbs, vgs, vds) in the polarity-normalised frame, and its von.
    old: [f64; 3],
    von: f64,
    /// Meyer half-capacitances at the last accepted point (cgs, cgd, cgb), and the
    /// terminal voltages (vgs, vgd, vgb) at the last accepted point.
    meyer_old: [f64; 3],
    meyer_now: [f64; 3],
    vg_old: [f64; 3],
    /// Charges: gs, gd, gb, bd, bs.
    q: usize,
}

#[derive(Clone, Debug)]
struct BCell {
    a: Option<usize>,
    b: Option<usize>,
    s: Slots4,
}

/// A circuit bound to its matrix: the solver-ready system.
pub struct Simulator {
    pub(crate) circuit: Circuit,
    pub(crate) n_nodes: usize,
    pub(crate) n: usize,
    pub(crate) matrix: NodalMatrix,
    pub(crate) rhs: Vec<f64>,
    /// Per unknown: a voltage (node or device-internal node) or a branch current.
    is_voltage: Vec<bool>,
    diag: Vec<u32>,
    res: Vec<BRes>,
    caps: Vec<BCap>,
    inds: Vec<BInd>,
    vsrc: Vec<Branch>,
    isrc: Vec<(Option<usize>, Option<usize>)>,
    vccs: Vec<BVccs>,
    vcvs: Vec<BVcvs>,
    behav: Vec<BBehav>,
    diodes: Vec<BDiode>,
    mos: Vec<BMos>,
    cells: Vec<BCell>,
    pub(crate) charges: Charges,
    pub(crate) integ: Integrator,
    /// Set by a device whose linearisation point was limited this iteration.
    noncon: bool,
    /// Name of the element that last blocked convergence.
    blame: Option<String>,
    pub(crate) nonlinear: bool,
    /// Last converged solution, the warm start of the next solve.
    pub(crate) last: Option<Vec<f64>>,
    pub(crate) rng: ChaCha8Rng,
    /// During the transient's initial operating point: sources take their waveform value
    /// at this time instead of their DC value.
    pub(crate) source_time: Option<f64>,
}

/// A solved operating point: every unknown, with accessors by node and source.
#[derive(Clone, Debug)]
pub struct Solution {
    pub x: Vec<f64>,
    n_nodes: usize,
}

impl Solution {
    /// Voltage of node `n` (V).
    pub fn voltage(&self, n: NodeId) -> f64 {
        if n == GROUND || n > self.n_nodes {
            0.0
        } else {
            self.x[n - 1]
        }
    }
}

impl Simulator {
    /// Bind a circuit: check its topology, build the sparsity pattern and the slot map.
    pub fn new(circuit: Circuit) -> Result<Simulator, SimError> {
        super::topology::check(&circuit)?;
        let n_nodes = circuit.num_nodes() - 1;
        let mut next = n_nodes;
        let mut alloc = || {
            next += 1;
            next - 1
        };
        let mut internal_nodes: Vec<usize> = Vec::new();
        let mut pb = PatternBuilder::default();
        let mut diag = Vec::with_capacity(n_nodes);
        for k in 0..n_nodes {
            diag.push(pb.entry(Some(k), Some(k)));
        }
        let mut res = Vec::new();
        for r in &circuit.resistors {
            if r.r == 0.0 || !r.r.is_finite() {
                return Err(SimError::Invalid(format!(
                    "{}resistor {} has resistance {} Ω",
                    circuit.origin_of(&r.name),
                    r.name,
                    r.r
                )));
            }
            res.push(BRes {
                s: Slots4::new(&mut pb, unk(r.a), unk(r.b)),
                g: 1.0 / r.r,
            });
        }
        let mut charges = Charges::default();
        let caps = circuit
            .capacitors
            .iter()
            .map(|c| BCap {
                a: unk(c.a),
                b: unk(c.b),
                s: Slots4::new(&mut pb, unk(c.a), unk(c.b)),
                c: c.c,
                q: charges.add(unk(c.a), unk(c.b), 1.0),
                ic: c.ic,
            })
            .collect();
        let vsrc = circuit
            .vsources
            .iter()
            .map(|v| Branch::new(&mut pb, v.pos, v.neg, alloc()))
            .collect();
        let isrc = circuit
            .isources
            .iter()
            .map(|i| (unk(i.pos), unk(i.neg)))
            .collect();
        let vcvs = circuit
            .vcvs
            .iter()
            .map(|e| {
                let br = Branch::new(&mut pb, e.pos, e.neg, alloc());
                let jc = [
                    pb.entry(Some(br.j), unk(e.cpos)),
                    pb.entry(Some(br.j), unk(e.cneg)),
                ];
                BVcvs {
                    br,
                    jc,
                    gain: e.gain,
                }
            })
            .collect();
        let inds = circuit
            .inductors
            .iter()
            .map(|l| {
                let br = Branch::new(&mut pb, l.a, l.b, alloc());
                BInd {
                    jj: pb.entry(Some(br.j), Some(br.j)),
                    br,
                    l: l.l,
                    q: charges.add(None, None, 0.0),
                }
            })
            .collect();
        let vccs = circuit
            .vccs
            .iter()
            .map(|g| {
                let (a, b, cp, cn) = (unk(g.pos), unk(g.neg), unk(g.cpos), unk(g.cneg));
                BVccs {
                    s: [
                        pb.entry(a, cp),
                        pb.entry(a, cn),
                        pb.entry(b, cp),
                        pb.entry(b, cn),
                    ],
                    gm: g.gain,
                }
            })
            .collect();
        let behav = circuit
            .behavioural
            .iter()
            .map(|bs| {
                let (a, b) = (unk(bs.pos), unk(bs.neg));
                let ctrl: Vec<Option<usize>> = bs.expr.nodes.iter().map(|&n| unk(n)).collect();
                let mut s = Vec::new();
                let br = match bs.kind {
                    BehaviouralKind::Voltage => {
                        let br = Branch::new(&mut pb, bs.pos, bs.neg, alloc());
                        for &c in &ctrl {
                            s.push(pb.entry(Some(br.j), c));
                        }
                        Some(br)
                    }
                    BehaviouralKind::Current => {
                        for &c in &ctrl {
                            s.push(pb.entry(a, c));
                            s.push(pb.entry(b, c));
                        }
                        None
                    }
                };
                BBehav {
                    kind: bs.kind,
                    a,
                    b,
                    br,
                    volts: vec![0.0; ctrl.len()],
                    grad: vec![0.0; ctrl.len()],
                    ctrl,
                    s,
                }
            })
            .collect();
        let (temp, tnom) = (circuit.options.temp, circuit.options.tnom);
        let mut diodes = Vec::new();
        for d in &circuit.diodes {
            let t = d.model.at_temperature(d.area, d.m, temp, tnom);
            let (a, k) = (unk(d.anode), unk(d.cathode));
            let ai = if t.gspr > 0.0 {
                let u = alloc();
                internal_nodes.push(u);
                Some(u)
            } else {
                a
            };
            diodes.push(BDiode {
                ai,
                k,
                rs: Slots4::new(&mut pb, a, ai),
                j: Slots4::new(&mut pb, ai, k),
                vd_old: 0.0,
                q: charges.add(ai, k, 1.0),
                t,
            });
        }
        let mut mos = Vec::new();
        for m in &circuit.mosfets {
            let t = m
                .model
                .at_temperature(m.w, m.l, m.ad, m.as_, m.pd, m.ps, m.m, temp, tnom);
            let (d, g, s, b) = (unk(m.d), unk(m.g), unk(m.s), unk(m.b));
            let mut internal = |g: f64, ext: Option<usize>| {
                if g > 0.0 {
                    let u = alloc();
                    internal_nodes.push(u);
                    Some(u)
                } else {
                    ext
                }
            };
            let di = internal(t.gdrain, d);
            let si = internal(t.gsource, s);
            let nodes = [di, g, si, b];
            let mut blk = [[NO_SLOT; 4]; 4];
            for (r, row) in blk.iter_mut().enumerate() {
                for (c, slot) in row.iter_mut().enumerate() {
                    *slot = pb.entry(nodes[r], nodes[c]);
                }
            }
            // gs, gd, gb, bd, bs (the branches of the load), in the NMOS frame.
            let pol = m.model.polarity;
            let q = charges.add(g, si, pol);
            charges.add(g, di, pol);
            charges.add(g, b, pol);
            charges.add(b, di, pol);
            charges.add(b, si, pol);
            mos.push(BMos {
                di,
                g,
                si,
                b,
                rd: Slots4::new(&mut pb, d, di),
                rs: Slots4::new(&mut pb, s, si),
                blk,
                pol: m.model.polarity,
                model: m.model.clone(),
                t,
                old: [0.0; 3],
                von: 0.0,
                meyer_old: [0.0; 3],
                meyer_now: [0.0; 3],
                vg_old: [0.0; 3],
                q,
            });
        }
        let cells = circuit
            .memcells
            .iter()
            .map(|c| BCell {
                a: unk(c.pos),
                b: unk(c.neg),
                s: Slots4::new(&mut pb, unk(c.pos), unk(c.neg)),
            })
            .collect();
        let n = next;
        // Which unknowns are voltages (tolerance vntol) rather than currents (abstol).
        let mut is_voltage = vec![false; n];
        is_voltage[..n_nodes].iter_mut().for_each(|v| *v = true);
        for u in internal_nodes {
            is_voltage[u] = true;
        }
        let (matrix, map) = pb.finish(n);
        let nonlinear = !circuit.diodes.is_empty()
            || !circuit.mosfets.is_empty()
            || !circuit.memcells.is_empty()
            || circuit.behavioural.iter().any(|b| !b.expr.nodes.is_empty());
        let rng = ChaCha8Rng::seed_from_u64(circuit.options.seed);
        let mut sim = Simulator {
            n_nodes,
            n,
            is_voltage,
            matrix,
            rhs: vec![0.0; n],
            diag,
            res,
            caps,
            inds,
            vsrc,
            isrc,
            vccs,
            vcvs,
            behav,
            diodes,
            mos,
            cells,
            charges,
            integ: Integrator {
                ag0: 0.0,
                ag1: 0.0,
                order: 1,
            },
            noncon: false,
            blame: None,
            nonlinear,
            last: None,
            rng,
            source_time: None,
            circuit,
        };
        sim.remap(&map);
        Ok(sim)
    }

    fn remap(&mut self, map: &[u32]) {
        for s in self.diag.iter_mut() {
            *s = remap(*s, map);
        }
        self.res.iter_mut().for_each(|r| r.s.remap(map));
        self.caps.iter_mut().for_each(|c| c.s.remap(map));
        self.inds.iter_mut().for_each(|l| {
            l.br.remap(map);
            l.jj = remap(l.jj, map);
        });
        self.vsrc.iter_mut().for_each(|v| v.remap(map));
        self.vccs.iter_mut().for_each(|g| {
            for s in g.s.iter_mut() {
                *s = remap(*s, map)
            }
        });
        self.vcvs.iter_mut().for_each(|e| {
            e.br.remap(map);
            for s in e.jc.iter_mut() {
                *s = remap(*s, map)
            }
        });
        self.behav.iter_mut().for_each(|b| {
            if let Some(br) = b.br.as_mut() {
                br.remap(map)
            }
            for s in b.s.iter_mut() {
                *s = remap(*s, map)
            }
        });
        self.diodes.iter_mut().for_each(|d| {
            d.rs.remap(map);
            d.j.remap(map);
        });
        self.mos.iter_mut().for_each(|m| {
            m.rd.remap(map);
            m.rs.remap(map);
            for row in m.blk.iter_mut() {
                for s in row.iter_mut() {
                    *s = remap(*s, map)
                }
            }
        });
        self.cells.iter_mut().for_each(|c| c.s.remap(map));
    }

    pub fn circuit(&self) -> &Circuit {
        &self.circuit
    }

    /// Change element values (not topology) between solves; the pattern and symbolic
    /// analysis are kept. Call [`Simulator::refresh_values`] after changing resistors.
    pub fn circuit_mut(&mut self) -> &mut Circuit {
        &mut self.circuit
    }

    /// Re-read linear element values (R, C, L, E, G) from the circuit tables.
    pub fn refresh_values(&mut self) {
        for (b, r) in self.res.iter_mut().zip(&self.circuit.resistors) {
            b.g = 1.0 / r.r;
        }
        for (b, c) in self.caps.iter_mut().zip(&self.circuit.capacitors) {
            b.c = c.c;
        }
        for (b, l) in self.inds.iter_mut().zip(&self.circuit.inductors) {
            b.l = l.l;
        }
        for (b, e) in self.vcvs.iter_mut().zip(&self.circuit.vcvs) {
            b.gain = e.gain;
        }
        for (b, g) in self.vccs.iter_mut().zip(&self.circuit.vccs) {
            b.gm = g.gain;
        }
    }

    /// Number of unknowns (node voltages, branch currents, internal nodes).
    pub fn num_unknowns(&self) -> usize {
        self.n
    }

    pub fn matrix_nnz(&self) -> usize {
        self.matrix.nnz()
    }

    pub fn solution(&self, x: Vec<f64>) -> Solution {
        Solution {
            x,
            n_nodes: self.n_nodes,
        }
    }

    /// Branch current unknown of voltage source `k` (A, ngspice sign).
    pub fn vsource_current(&self, sol: &Solution, k: usize) -> f64 {
        sol.x[self.vsrc[k].j]
    }

    /// Names of the output vectors, as ngspice names them: `v(node)` for every node, then
    /// `i(name)` for every V source, E source, inductor and V-type B source.
    pub fn output_names(&self) -> Vec<String> {
        let c = &self.circuit;
        let mut names: Vec<String> = (1..=self.n_nodes)
            .map(|k| format!("v({})", c.node_names[k]))
            .collect();
        let cur = |n: &str| format!("i({})", n.to_ascii_lowercase());
        names.extend(c.vsources.iter().map(|v| cur(&v.name)));
        names.extend(c.vcvs.iter().map(|v| cur(&v.name)));
        names.extend(c.inductors.iter().map(|v| cur(&v.name)));
        names.extend(
            c.behavioural
                .iter()
                .filter(|b| b.kind == BehaviouralKind::Voltage)
                .map(|v| cur(&v.name)),
        );
        names
    }

    /// Output vector values in the order of [`Simulator::output_names`].
    pub fn output_values(&self, x: &[f64]) -> Vec<f64> {
        let mut out: Vec<f64> = x[..self.n_nodes].to_vec();
        out.extend(self.vsrc.iter().map(|b| x[b.j]));
        out.extend(self.vcvs.iter().map(|b| x[b.br.j]));
        out.extend(self.inds.iter().map(|b| x[b.br.j]));
        out.extend(self.behav.iter().filter_map(|b| b.br.map(|br| x[br.j])));
        out
    }

    /// Describe an unknown for error messages: a node name, or the element owning a branch.
    pub(crate) fn describe_unknown(&self, u: usize) -> String {
        if u < self.n_nodes {
            let node = u + 1;
            let name = &self.circuit.node_names[node];
            match self.circuit.node_origins.get(&node) {
                Some(o) => format!("node {name} ({o})"),
                None => format!("node {name}"),
            }
        } else {
            let owner = self
                .vsrc
                .iter()
                .zip(&self.circuit.vsources)
                .map(|(b, e)| (b.j, &e.name))
                .chain(
                    self.vcvs
                        .iter()
                        .zip(&self.circuit.vcvs)
                        .map(|(b, e)| (b.br.j, &e.name)),
                )
                .chain(
                    self.inds
                        .iter()
                        .zip(&self.circuit.inductors)
                        .map(|(b, e)| (b.br.j, &e.name)),
                )
                .chain(
                    self.behav
                        .iter()
                        .zip(&self.circuit.behavioural)
                        .filter_map(|(b, e)| b.br.map(|br| (br.j, &e.name))),
                )
                .find(|(j, _)| *j == u)
                .map(|(_, n)| n.clone());
            match owner {
                Some(n) => format!("branch current of {}{}", self.circuit.origin_of(&n), n),
                None => format!("internal node {u} of a device with series resistance"),
            }
        }
    }

    /// Value of an independent source at this mode (DC value scaled by source stepping,
    /// or the transient waveform).
    fn source_value(src: &Source, mode: Mode, source_time: Option<f64>) -> f64 {
        match (mode, source_time, &src.wave) {
            (Mode::Dc { src: f, .. }, Some(t), Some(w)) => f * super::waveform::value(w, src.dc, t),
            (Mode::Dc { src: f, .. }, _, _) => src.dc * f,
            (Mode::Tran { time }, _, wave) => match wave {
                Some(w) => super::waveform::value(w, src.dc, time),
                None => src.dc,
            },
        }
    }

    /// Assemble the linearised system at iterate `x` into the matrix and right-hand side.
    pub(crate) fn load(&mut self, x: &[f64], mode: Mode) {
        self.matrix.clear();
        self.rhs.iter_mut().for_each(|v| *v = 0.0);
        self.noncon = false;
        let m = &mut self.matrix;
        let rhs = &mut self.rhs;
        let gmin = self.circuit.options.gmin;
        let (tran, time) = match mode {
            Mode::Tran { time } => (true, time),
            Mode::Dc { gshunt, .. } => {
                if gshunt > 0.0 {
                    for &d in &self.diag {
                        m.add(d, gshunt);
                    }
                }
                (false, 0.0)
            }
        };
        if self.source_time.is_some() {
            // `.ic` without `uic`: the initial operating point holds each node at its value
            // through a 1e10 S tie (ngspice's CKTic handling).
            for &(node, v) in &self.circuit.initial_conditions {
                if let Some(u) = unk(node) {
                    m.add(self.diag[u], 1e10);
                    rhs[u] += 1e10 * v;
                }
            }
        }
        let it = self.integ;
        for r in &self.res {
            r.s.conductance(m, r.g);
        }
        for (b, s) in self.vsrc.iter().zip(&self.circuit.vsources) {
            b.stamp(m);
            rhs[b.j] += Self::source_value(s, mode, self.source_time);
        }
        for (&(a, b), s) in self.isrc.iter().zip(&self.circuit.isources) {
            inject(rhs, a, b, Self::source_value(s, mode, self.source_time));
        }
        for e in &self.vcvs {
            e.br.stamp(m);
            m.add(e.jc[0], -e.gain);
            m.add(e.jc[1], e.gain);
        }
        for g in &self.vccs {
            stamp::controlled(&mut m.values, &g.s, g.gm, -g.gm);
        }
        for c in &self.caps {
            if !tran {
                continue;
            }
            let v = volt(x, c.a) - volt(x, c.b);
            let q = c.c * v;
            let i = self.charges.integrate(c.q, q, &it);
            let geq = it.ag0 * c.c;
            c.s.conductance(m, geq);
            inject(rhs, c.a, c.b, companion_current(i, geq, v));
        }
        for l in &self.inds {
            l.br.stamp(m);
            if tran {
                // v = dφ/dt with φ = L·i: branch row V(a) − V(b) − ag0·L·i = hist.
                let i = x[l.br.j];
                let vl = self.charges.integrate(l.q, l.l * i, &it);
                let req = it.ag0 * l.l;
                m.add(l.jj, -req);
                rhs[l.br.j] += vl - req * i;
            }
        }
        for (b, e) in self.behav.iter_mut().zip(&self.circuit.behavioural) {
            for (k, c) in b.ctrl.iter().enumerate() {
                b.volts[k] = volt(x, *c);
            }
            let mut f = e.expr.eval(&b.volts, time, &mut b.grad);
            if !f.is_finite() || b.grad.iter().any(|g| !g.is_finite()) {
                // Outside the expression's domain at this iterate (e.g. ln(0) from the zero
                // start): contribute nothing and keep iterating; if the iterate never leaves
                // the bad region, Newton fails naming this source.
                f = 0.0;
                b.grad.iter_mut().for_each(|g| *g = 0.0);
                self.noncon = true;
                self.blame = Some(format!(
                    "{}{} (expression not finite)",
                    self.circuit.origin_of(&e.name),
                    e.name
                ));
            }
            let lin: f64 = f - b.grad.iter().zip(&b.volts).map(|(g, v)| g * v).sum::<f64>();
            match b.kind {
                BehaviouralKind::Current => {
                    for k in 0..b.ctrl.len() {
                        m.add(b.s[2 * k], b.grad[k]);
                        m.add(b.s[2 * k + 1], -b.grad[k]);
                    }
                    inject(rhs, b.a, b.b, lin);
                }
                BehaviouralKind::Voltage => {
                    let br = b.br.unwrap();
                    br.stamp(m);
                    for k in 0..b.ctrl.len() {
                        m.add(b.s[k], -b.grad[k]);
                    }
                    rhs[br.j] += lin;
                }
            }
        }
        let temp = self.circuit.options.temp;
        for (d, e) in self.diodes.iter_mut().zip(&self.circuit.diodes) {
            if d.t.gspr > 0.0 {
                d.rs.conductance(m, d.t.gspr);
            }
            let vnew = volt(x, d.ai) - volt(x, d.k);
            let (vd, limited) = diode::limit(&d.t, vnew, d.vd_old);
            if limited {
                self.noncon = true;
                self.blame = Some(e.name.clone());
            }
            d.vd_old = vd;
            let ev = diode::eval(&d.t, vd, gmin);
            let (mut id, mut gd) = (ev.id, ev.gd);
            if tran {
                let ic = self.charges.integrate(d.q, ev.q, &it);
                id += ic;
                gd += it.ag0 * ev.cap;
            }
            if trace_newton_all() {
                eprintln!(
                    "  {} vnew {vnew:e} vd {vd:e} id {id:e} gd {gd:e} q {:e} cap {:e}",
                    e.name, ev.q, ev.cap
                );
            }
            d.j.conductance(m, gd);
            inject(rhs, d.ai, d.k, companion_current(id, gd, vd));
        }
        for (b, c) in self.cells.iter().zip(&self.circuit.memcells) {
            let v = volt(x, b.a) - volt(x, b.b);
            let (i, g) = c.cell.current(v, temp);
            b.s.conductance(m, g);
            inject(rhs, b.a, b.b, companion_current(i, g, v));
        }
        self.load_mosfets(x, tran, gmin);
    }

    fn load_mosfets(&mut self, x: &[f64], tran: bool, gmin: f64) {
        let it = self.integ;
        for (k, bm) in self.mos.iter_mut().enumerate() {
            let m = &mut self.matrix;
            let rhs = &mut self.rhs;
            let p = bm.pol;
            if bm.t.gdrain > 0.0 {
                bm.rd.conductance(m, bm.t.gdrain);
            }
            if bm.t.gsource > 0.0 {
                bm.rs.conductance(m, bm.t.gsource);
            }
            let (vd, vg, vs, vb) = (volt(x, bm.di), volt(x, bm.g), volt(x, bm.si), volt(x, bm.b));
            // Polarity-normalised terminal voltages (mos1load.c works in the NMOS frame),
            // limited against the last iterate: fetlim/limvds on the channel, pnjlim on the
            // bulk junctions (only the latter blocks convergence, as in ngspice).
            let raw = (p * (vb - vs), p * (vg - vs), p * (vd - vs));
            let [vbs_o, vgs_o, vds_o] = bm.old;
            let ((vbs, vgs, vds), limited) =
                mos1::limit(&bm.t, raw, (vbs_o, vgs_o, vds_o), bm.von, false);
            if limited {
                self.noncon = true;
                self.blame = Some(self.circuit.mosfets[k].name.clone());
            }
            bm.old = [vbs, vgs, vds];
            let ev = mos1::eval(&bm.t, &bm.model, vbs, vgs, vds, gmin);
            bm.von = ev.von;
            // Indices in the 4×4 block: 0 = drain, 1 = gate, 2 = source, 3 = bulk.
            let (dd, gg, ss, bb) = (0usize, 1usize, 2usize, 3usize);
            let mut a = [[0.0f64; 4]; 4];
            let mut i = [0.0f64; 4];
            let vbd = vbs - vds;
            // Channel current: flows drain → source in normal mode (NMOS frame).
            let (xnrm, xrev) = if ev.mode > 0.0 {
                (1.0, 0.0)
            } else {
                (0.0, 1.0)
            };
            // mos1load.c: normal mode p·(cdrain − …); reverse mode −p·(cdrain − …).
            let cdreq = p
                * ev.mode
                * (ev.cdrain
                    - ev.gds * vds * ev.mode
                    - ev.gm * (if ev.mode > 0.0 { vgs } else { vgs - vds })
                    - ev.gmbs * (if ev.mode > 0.0 { vbs } else { vbd }));
            let ceqbs = p * (ev.cbs - ev.gbs * vbs);
            let ceqbd = p * (ev.cbd - ev.gbd * vbd);
            // Jacobian (same in both polarities: conductances are even in p²).
            a[dd][dd] += ev.gds + ev.gbd + xrev * (ev.gm + ev.gmbs);
            a[ss][ss] += ev.gds + ev.gbs + xnrm * (ev.gm + ev.gmbs);
            a[bb][bb] += ev.gbd + ev.gbs;
            a[dd][bb] += -ev.gbd + (xnrm - xrev) * ev.gmbs;
            a[dd][gg] += (xnrm - xrev) * ev.gm;
            a[dd][ss] += -ev.gds - xnrm * (ev.gm + ev.gmbs);
            a[ss][gg] += -(xnrm - xrev) * ev.gm;
            a[ss][bb] += -ev.gbs - (xnrm - xrev) * ev.gmbs;
            a[ss][dd] += -ev.gds - xrev * (ev.gm + ev.gmbs);
            a[bb][dd] += -ev.gbd;
            a[bb][ss] += -ev.gbs;
            // Currents leaving each terminal into the device, as equivalent sources.
            i[bb] -= ceqbs + ceqbd;
            i[dd] += ceqbd - cdreq;
            i[ss] += cdreq + ceqbs;
            if tran {
                // Meyer gate capacitances (averaged with the last accepted point) plus overlap,
                // and the bulk depletion charges, integrated as charges.
                bm.meyer_now = [ev.cgs, ev.cgd, ev.cgb];
                let vgs_t = vgs;
                let vgd_t = vgs - vds;
                let vgb_t = vgs - vbs;
                let capgs = ev.cgs + bm.meyer_old[0] + bm.t.cgso;
                let capgd = ev.cgd + bm.meyer_old[1] + bm.t.cgdo;
                let capgb = ev.cgb + bm.meyer_old[2] + bm.t.cgbo;
                let q0 = self.charges.q[bm.q][1];
                let q1 = self.charges.q[bm.q + 1][1];
                let q2 = self.charges.q[bm.q + 2][1];
                let qgs = q0 + capgs * (vgs_t - bm.vg_old[0]);
                let qgd = q1 + capgd * (vgd_t - bm.vg_old[1]);
                let qgb = q2 + capgb * (vgb_t - bm.vg_old[2]);
                let igs = self.charges.integrate(bm.q, qgs, &it);
                let igd = self.charges.integrate(bm.q + 1, qgd, &it);
                let igb = self.charges.integrate(bm.q + 2, qgb, &it);
                let ibd = self.charges.integrate(bm.q + 3, ev.qbd, &it);
                let ibs = self.charges.integrate(bm.q + 4, ev.qbs, &it);
                let (gcgs, gcgd, gcgb) = (it.ag0 * capgs, it.ag0 * capgd, it.ag0 * capgb);
                let (gcbd, gcbs) = (it.ag0 * ev.capbd, it.ag0 * ev.capbs);
                // Two-terminal capacitive branches between (x, y) in the NMOS frame.
                let mut branch = |x: usize, y: usize, g: f64, icur: f64, v: f64| {
                    a[x][x] += g;
                    a[y][y] += g;
                    a[x][y] -= g;
                    a[y][x] -= g;
                    let ieq = p * (icur - g * v);
                    i[x] -= ieq;
                    i[y] += ieq;
                };
                branch(gg, ss, gcgs, igs, vgs_t);
                branch(gg, dd, gcgd, igd, vgd_t);
                branch(gg, bb, gcgb, igb, vgb_t);
                branch(bb, dd, gcbd, ibd, vbd);
                branch(bb, ss, gcbs, ibs, vbs);
            }
            for r in 0..4 {
                for c in 0..4 {
                    if a[r][c] != 0.0 {
                        m.add(bm.blk[r][c], a[r][c]);
                    }
                }
            }
            let nodes = [bm.di, bm.g, bm.si, bm.b];
            for t in 0..4 {
                if let Some(u) = nodes[t] {
                    rhs[u] += i[t];
                }
            }
        }
    }

    /// Branch unknowns of the inductors, in table order.
    /// Branch currents of the independent voltage sources in `x` (A), in netlist order.
    pub(crate) fn vsource_currents(&self, x: &[f64]) -> Vec<f64> {
        self.vsrc.iter().map(|b| x[b.j]).collect()
    }

    /// Per independent voltage source: the charges whose currents enter its branch current
    /// by KCL at its positive node (the negative one when that is ground), each with the
    /// sign of its node current there. Charges behind a series resistance (a device's
    /// internal node) are not seen.
    pub(crate) fn vsource_charges(&self) -> Vec<Vec<(usize, f64)>> {
        self.circuit
            .vsources
            .iter()
            .map(|v| {
                let node = unk(v.pos).or(unk(v.neg));
                let mut out = Vec::new();
                for (k, &(from, to, sign)) in self.charges.nodes.iter().enumerate() {
                    if node.is_none() || sign == 0.0 || from == to {
                        continue;
                    }
                    if from == node {
                        out.push((k, sign));
                    } else if to == node {
                        out.push((k, -sign));
                    }
                }
                out
            })
            .collect()
    }

    pub(crate) fn inds_branches(&self) -> Vec<usize> {
        self.inds.iter().map(|l| l.br.j).collect()
    }

    /// `uic`: capacitors with `ic=` start from that voltage (charge C·ic).
    pub(crate) fn apply_initial_charges(&mut self) {
        for c in &self.caps {
            if let Some(ic) = c.ic {
                self.charges.q[c.q][0] = c.c * ic;
            }
        }
    }

    /// Start of a transient: the Meyer capacitances and gate voltages of the initial point
    /// become history, and gate charges start as C·V (ngspice's MODEINITTRAN).
    pub(crate) fn tran_start(&mut self) {
        for bm in self.mos.iter_mut() {
            bm.meyer_old = bm.meyer_now;
            let [vbs, vgs, vds] = bm.old;
            bm.vg_old = [vgs, vgs - vds, vgs - vbs];
            let ov = [bm.t.cgso, bm.t.cgdo, bm.t.cgbo];
            for k in 0..3 {
                self.charges.q[bm.q + k][0] = (2.0 * bm.meyer_now[k] + ov[k]) * bm.vg_old[k];
            }
        }
    }

    /// Called when a transient point is accepted: device histories move on.
    pub(crate) fn accept_point(&mut self, x: &[f64], dt: f64) {
        self.charges.accept();
        for bm in self.mos.iter_mut() {
            bm.meyer_old = bm.meyer_now;
            let [vbs, vgs, vds] = bm.old;
            bm.vg_old = [vgs, vgs - vds, vgs - vbs];
        }
        let temp = self.circuit.options.temp;
        for (b, c) in self.cells.iter().zip(self.circuit.memcells.iter_mut()) {
            let v = volt(x, b.a) - volt(x, b.b);
            c.cell.advance(v, dt, temp, &mut self.rng);
        }
    }

    /// Solve the linearised system once; returns the new iterate or a singular-matrix error.
    fn linear_step(&mut self) -> Result<Vec<f64>, SimError> {
        self.matrix.factor().map_err(|s| {
            SimError::Singular(match s.unknown {
                Some(u) => format!("no pivot for {}", self.describe_unknown(u)),
                None => "the nodal matrix could not be factorised".into(),
            })
        })?;
        let mut x = self.rhs.clone();
        self.matrix.solve(&mut x);
        if let Some(u) = x.iter().position(|v| !v.is_finite()) {
            return Err(SimError::Singular(format!(
                "the solution is not finite at {} (floating node or loop of voltage sources?)",
                self.describe_unknown(u)
            )));
        }
        Ok(x)
    }

    /// Newton-Raphson from `x0` in `mode`. Converged when every node voltage moved by less
    /// than reltol·|v| + vntol, every branch current by less than reltol·|i| + abstol, and
    /// no device limited its step.
    pub(crate) fn newton(
        &mut self,
        x0: &[f64],
        mode: Mode,
        max_iter: usize,
    ) -> Result<Vec<f64>, SimError> {
        let mut x = x0.to_vec();
        // The iterate before last, to recognise a roundoff-limited 2-cycle.
        let mut x_before: Option<Vec<f64>> = None;
        let opts = self.circuit.options.clone();
        for iter in 0..max_iter.max(1) {
            self.load(&x, mode);
            let xn = self.linear_step()?;
            if !self.nonlinear {
                return Ok(xn);
            }
            let tol_of = |u: usize, a: f64, b: f64| {
                opts.reltol * a.abs().max(b.abs())
                    + if self.is_voltage[u] {
                        opts.vntol
                    } else {
                        opts.abstol
                    }
            };
            let mut worst: Option<(usize, f64)> = None;
            for (u, (a, b)) in xn.iter().zip(&x).enumerate() {
                let err = (a - b).abs() / tol_of(u, *a, *b);
                if err > 1.0 && worst.is_none_or(|(_, w)| err > w) {
                    worst = Some((u, err));
                }
            }
            // Roundoff floor: when the update stays within 10× the tolerance and the iterate
            // has come back to where it was two iterations ago (to 1 % of the tolerance), the
            // remaining motion is floating-point noise of the factorisation, not Newton error
            // (seen on branch currents whose tolerance is abstol = 1e-12 A).
            if let (Some((_, w)), Some(xb)) = (worst, &x_before) {
                let cycle = xn
                    .iter()
                    .zip(xb)
                    .enumerate()
                    .all(|(u, (a, b))| (a - b).abs() <= 0.01 * tol_of(u, *a, *b));
                if w < 10.0 && cycle {
                    worst = None;
                }
            }
            if trace_newton() {
                eprintln!(
                    "newton iter {iter}: noncon={} worst={:?}",
                    self.noncon,
                    worst.map(|(u, e)| (self.describe_unknown(u), e, x[u], xn[u]))
                );
                if trace_newton_all() {
                    eprintln!("   x = {:?}", xn);
                }
            }
            let converged = worst.is_none() && !self.noncon && iter > 0;
            x_before = Some(std::mem::replace(&mut x, xn));
            if converged {
                // The update test accepts an iterate whose error is up to its tolerance
                // (reltol·|i| + abstol on a branch current: 1 µA under a deck's `abstol=1u`).
                // One more Newton step from it squares that error where Newton converges
                // quadratically and halves it at a double root (a node sitting exactly at a
                // MOSFET's threshold), for one more factorisation per solve.
                self.load(&x, mode);
                return self.linear_step();
            }
            if let Some((u, _)) = worst {
                self.blame = Some(self.describe_unknown(u));
            }
        }
        Err(SimError::NoConvergence(format!(
            "Newton did not converge in {} iterations{}",
            max_iter,
            self.blame
                .as_ref()
                .map(|b| format!("; last to move: {b}"))
                .unwrap_or_default()
        )))
    }

    /// Reset the per-device limiting memory to a given iterate (before a new solve).
    pub(crate) fn seed_limits(&mut self, x: &[f64]) {
        for d in self.diodes.iter_mut() {
            d.vd_old = volt(x, d.ai) - volt(x, d.k);
        }
        for bm in self.mos.iter_mut() {
            let p = bm.pol;
            let (vd, vg, vs, vb) = (volt(x, bm.di), volt(x, bm.g), volt(x, bm.si), volt(x, bm.b));
            bm.old = [p * (vb - vs), p * (vg - vs), p * (vd - vs)];
        }
    }

    /// DC operating point: plain Newton from the last solution (or zero), then gmin
    /// stepping, then source stepping.
    pub fn op(&mut self) -> Result<Solution, SimError> {
        let x = self.dc_solve()?;
        self.last = Some(x.clone());
        Ok(self.solution(x))
    }

    pub(crate) fn dc_solve(&mut self) -> Result<Vec<f64>, SimError> {
        let itl1 = self.circuit.options.itl1;
        let x0 = self.last.clone().unwrap_or_else(|| vec![0.0; self.n]);
        self.seed_limits(&x0);
        let plain = self.newton(
            &x0,
            Mode::Dc {
                src: 1.0,
                gshunt: 0.0,
            },
            itl1,
        );
        if plain.is_ok() || !self.nonlinear {
            return plain;
        }
        let first_err = plain.unwrap_err();
        if matches!(first_err, SimError::Singular(_)) && !self.nonlinear {
            return Err(first_err);
        }
        // gmin stepping: a shunt from every node to ground, relaxed a decade at a time.
        let mut x = vec![0.0; self.n];
        self.seed_limits(&x);
        let mut g = 1e-2;
        let gmin = self.circuit.options.gmin;
        let mut ok = true;
        while g > gmin * 0.99 {
            match self.newton(
                &x,
                Mode::Dc {
                    src: 1.0,
                    gshunt: g,
                },
                itl1,
            ) {
                Ok(xn) => x = xn,
                Err(_) => {
                    ok = false;
                    break;
                }
            }
            g /= 10.0;
        }
        if ok {
            if let Ok(xn) = self.newton(
                &x,
                Mode::Dc {
                    src: 1.0,
                    gshunt: 0.0,
                },
                itl1,
            ) {
                return Ok(xn);
            }
        }
        // Source stepping: ramp every independent source from 0 to its value.
        let mut x = vec![0.0; self.n];
        self.seed_limits(&x);
        let mut f: f64 = 0.0;
        let mut step: f64 = 0.1;
        let mut attempts = 0usize;
        while f < 1.0 {
            // A bound on the work: a step that fails is quartered and one that succeeds only
            // doubled, so near an unreachable point the ramp can creep on in ever smaller
            // steps (a fuzzed 9-element deck took 2000 solves, 0.4 M Newton iterations).
            attempts += 1;
            if attempts > MAX_SOURCE_STEPS {
                return Err(SimError::NoConvergence(format!(
                    "DC operating point failed (plain Newton, gmin stepping, and source stepping \
                     stopped at {:.1} % after {MAX_SOURCE_STEPS} steps)",
                    f * 100.0
                )));
            }
            let target = (f + step).min(1.0);
            match self.newton(
                &x,
                Mode::Dc {
                    src: target,
                    gshunt: 0.0,
                },
                itl1,
            ) {
                Ok(xn) => {
                    x = xn;
                    f = target;
                    step = (step * 2.0).min(0.25);
                }
                Err(e) => {
                    step /= 4.0;
                    if step < 1e-6 {
                        return Err(SimError::NoConvergence(format!(
                            "DC operating point failed (plain Newton, gmin stepping and source stepping at {:.1} %): {e}",
                            f * 100.0
                        )));
                    }
                    self.seed_limits(&x);
                }
            }
        }
        Ok(x)
    }
}
