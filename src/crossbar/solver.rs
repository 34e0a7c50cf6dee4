//! The structured array solver: bind once (merge, number, pattern, slots, symbolic
//! factorisation), then every solve only writes values into known slots and refactorises.
//!
//! Nodal equations of the free nodes, Newton with SPICE companion models:
//! for each nonlinear branch i(v) ≈ i(v⁰) + g·(v − v⁰), stamp g into the Jacobian and the
//! equivalent current i(v⁰) − g·v⁰ into the right-hand side, and solve for v directly (so a
//! linear array is solved exactly in one factorisation).
//! - Passive and 1S1R arrays: the Jacobian is symmetric positive definite (wires and
//!   monotone two-terminal laws), so faer's sparse Cholesky on the upper triangle, with the
//!   unknowns already numbered in geometric nested-dissection order (`Identity` ordering).
//! - 1T1R / 2T2R: the transistor stamp is not symmetric (∂I/∂vs = −gm − gds), so faer's
//!   sparse LU (COLAMD column ordering) with the symbolic analysis reused.

use faer::Par;

use crate::circuit::matrix::{FactorError, Ordering, SparseFactor};
use crate::circuit::stamp::{self, companion_current, conductance, NO_SLOT};

use super::condensed::ChordPool;
use super::config::{CellKind, Crossbar};
use super::law::{CellLaw, Channel, GMIN_BULK};
use super::network::{Bias, End, Network};
use super::CrossbarError;

/// Newton: converged when max |Δv| ≤ VRELTOL·v_scale + VABSTOL (Newton is quadratic, so the
/// error left after such a step is far below it).
pub(crate) const VRELTOL: f64 = 1e-11;
pub(crate) const VABSTOL: f64 = 1e-15;
/// Roundoff floor: a line held only by gmin (a floating line whose transistors are all off)
/// makes the matrix ill-conditioned (wire ~1 S against 1e-12 S), and its voltage then moves by
/// factorisation noise (~1e-10 V) from one iteration to the next. A Newton step that is below
/// FLOOR_VRELTOL·v_scale and no smaller than half the previous one is that noise, not Newton
/// error (which shrinks quadratically), so the iterate is accepted.
const FLOOR_VRELTOL: f64 = 1e-8;
pub(crate) const MAX_NEWTON: usize = 200;
/// Two-block Gauss-Seidel of wire-less linear arrays (`Array::solve_bipartite`): sweeps before
/// leaving it to the factor, and the error accepted, relative to the bias's voltage scale
/// (a few ulp: the factor's own roundoff is no smaller).
const BIPARTITE_SWEEPS: usize = 60;
const BIPARTITE_TOL: f64 = 1e-15;
/// Right-hand sides per block in batched linear solves.
const RHS_BLOCK: usize = 32;

/// Slots of a two-terminal stamp: (aa, ab, ba, bb); [`NO_SLOT`] where an end is fixed or the
/// entry lies in the unstored triangle.
pub(crate) type Slots = stamp::Block;

/// The full nodal system (every node, middle nodes included) with its sparse factor: the
/// reference path, built on first use.
struct Direct {
    col_ptr: Vec<usize>,
    row_idx: Vec<usize>,
    /// Linear (wire, driver, sense) part of the matrix.
    base: Vec<f64>,
    values: Vec<f64>,
    cell_slots: Vec<Slots>,
    sel_slots: Vec<Slots>,
    mos_slots: Vec<Slots>,
    /// Cholesky (symmetric arrays) or LU (with transistors), symbolic analysis done at bind.
    factor: SparseFactor,
    /// Whether `factor` holds a numeric factorisation of the current linear matrix.
    factored_linear: bool,
}

/// Which solver an [`Array`] uses for nonlinear arrays.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Method {
    /// Above `ITERATIVE_ABOVE` condensed unknowns (`LINEAR_ITERATIVE_ABOVE` for linear arrays)
    /// the iterative path, except in batches of `BATCH_FACTOR_MIN`+ vectors up to `FACTOR_MAX`;
    /// otherwise condensed Newton-Krylov on a saved factor for nonlinear arrays and one direct
    /// factor for linear ones.
    #[default]
    Auto,
    /// Newton on the full nodal matrix, refactorised every iteration (Cholesky for symmetric
    /// arrays, LU with transistors): the reference.
    Direct,
    /// Middle nodes eliminated per crosspoint, Newton-GMRES preconditioned by a saved Cholesky
    /// factor of the wire network plus the symmetrised cell conductances (see `condensed`).
    Condensed,
    /// The condensed Newton-GMRES with M⁻¹ applied by conjugate gradients preconditioned by
    /// exact line solves: no factor, memory linear in the array (needs wire resistance on both
    /// line kinds).
    Iterative,
}

/// `Auto` switches to the iterative path above this many condensed unknowns (word- and
/// bit-line nodes, 2·rows·bit lines), i.e. from about 142×142 on: with CG running in line order
/// it beats the Cholesky factor from there up (bench_peers, 2-core machine: passive 256×256
/// 0.35 s vs 0.60 s, 1T1R 256×256 0.39 s vs 0.89 s, 1T1R 512×512 2.1 s vs 3.2 s; 128×128 a
/// tie), and its memory is linear in the array instead of the factor's ~n^1.5.
pub const ITERATIVE_ABOVE: usize = 40_000;
/// The same for linear arrays (0T1R, linear cells), from about 71×71: they take one CG solve
/// to roundoff (no Newton-GMRES, see `Condensed::solve_linear`), which beats the Cholesky
/// factor from there up (2-core machine, CPU time of the solve: 64×64 a tie at 2.4 ms, 128×128
/// 16 ms vs 44 ms, 256×256 0.08 s vs 0.17 s).
const LINEAR_ITERATIVE_ABOVE: usize = 10_000;
/// Linear arrays on the iterative path up to this many line unknowns (~362×362) solve on one
/// thread: ~20 CG iterations of a few hundred µs each, where waking a second thread for every
/// parallel loop costs more than it saves, above all on a loaded machine (256×256 passive,
/// `xbar mvm` whole process, 2 threads vs 1: no less CPU time). The chunked sums give the
/// same bits either way.
const LINEAR_SERIAL_MAX: usize = 1 << 18;
/// Batches of at least this many input vectors keep `Auto` on a factor (the direct Cholesky of
/// a linear array, the condensed path's saved factor otherwise) up to `FACTOR_MAX` condensed
/// unknowns: the factor is then paid once and shared by all vectors (multi-column triangular
/// solves, chord sweeps), where CG would pay its iterations again for every vector.
const BATCH_FACTOR_MIN: usize = 8;
/// Condensed unknowns up to which a batch still factors (~2450×2450, a ~7 GB factor).
const FACTOR_MAX: usize = 12_000_000;

/// A bound array: network, matrix pattern, slot maps, symbolic factorisation, work buffers.
pub struct Array {
    /// Private: the cached factorisations depend on it (change it with [`Array::set_crossbar`]).
    xb: Crossbar,
    /// Private for the same reason: the factorisations are bound to it (read it with
    /// [`Array::net`]).
    pub(crate) net: Network,
    direct: Option<Direct>,
    cond: Option<super::condensed::Condensed>,
    pub(crate) fixed_v: Vec<f64>,
    pub(crate) bias: Bias,
    /// Free-node voltages of the last solution (V); also the warm start.
    pub v: Vec<f64>,
    rhs: Vec<f64>,
    /// Newton iterations of the last solve.
    pub last_iterations: usize,
    /// Krylov iterations of the last solve (condensed path; 0 on the direct path).
    pub last_krylov_iterations: usize,
    /// Numeric factorisations done by the last solve.
    pub last_factorizations: usize,
    pub par: Par,
    /// Solver choice for nonlinear arrays (default `Auto`).
    pub method: Method,
    /// Inside a batch of at least `BATCH_FACTOR_MIN` vectors (see `use_iterative`).
    batch: bool,
    /// The elements with an end on a fixed node, the only ones whose currents reach the
    /// sources (`fixed_class_currents`); found once per bound network.
    at_sources: AtSources,
}

/// Indices of the resistors, cells, selectors and transistors that touch a fixed node.
struct AtSources {
    res: Vec<u32>,
    cells: Vec<u32>,
    sels: Vec<u32>,
    mos: Vec<u32>,
}

impl AtSources {
    fn of(net: &Network) -> AtSources {
        let touches = |a: End, b: End| a != b && (a.free().is_none() || b.free().is_none());
        let pick = |ends: &mut dyn Iterator<Item = (End, End)>| -> Vec<u32> {
            ends.enumerate()
                .filter(|(_, (a, b))| touches(*a, *b))
                .map(|(k, _)| k as u32)
                .collect()
        };
        AtSources {
            res: pick(&mut net.res.iter().map(|r| (r.a, r.b))),
            cells: pick(&mut net.cells.iter().map(|t| (t.a, t.b))),
            sels: pick(&mut net.sels.iter().map(|t| (t.a, t.b))),
            mos: pick(&mut net.mos.iter().map(|t| (t.d, t.s))),
        }
    }
}

impl Array {
    /// The bound network: merged nodes, elements and their ends (read-only).
    pub fn net(&self) -> &Network {
        &self.net
    }

    /// Binds `xb` for the topology of `bias` (which lines are driven, sensed or floating).
    pub fn bind(xb: &Crossbar, bias: &Bias) -> Result<Array, CrossbarError> {
        let net = Network::build(xb, bias)?;
        let n = net.n_free;
        let at_sources = AtSources::of(&net);
        let mut arr = Array {
            xb: xb.clone(),
            net,
            direct: None,
            cond: None,
            fixed_v: Vec::new(),
            bias: bias.clone(),
            v: vec![0.0; n],
            rhs: vec![0.0; n],
            last_iterations: 0,
            last_krylov_iterations: 0,
            last_factorizations: 0,
            par: Par::Seq,
            method: Method::Auto,
            batch: false,
            at_sources,
        };
        arr.set_bias(bias)?;
        Ok(arr)
    }

    fn direct(&mut self) -> Result<&mut Direct, CrossbarError> {
        if self.direct.is_none() {
            self.direct = Some(Direct::build(&self.xb, &self.net, self.par)?);
        }
        Ok(self.direct.as_mut().expect("built above"))
    }

    /// Whether the condensed Newton-Krylov path serves the next nonlinear solve.
    fn use_condensed(&self) -> bool {
        match self.method {
            Method::Direct => false,
            Method::Condensed | Method::Iterative | Method::Auto => true,
        }
    }

    /// Whether the condensed path applies M⁻¹ iteratively (line-preconditioned CG).
    fn use_iterative(&self) -> bool {
        match self.method {
            Method::Iterative => true,
            Method::Auto => {
                let n = self.net.rows * self.net.pcols * 2;
                let above = if self.is_linear() {
                    LINEAR_ITERATIVE_ABOVE
                } else {
                    ITERATIVE_ABOVE
                };
                self.xb.r_row > 0.0
                    && self.xb.r_col > 0.0
                    && n > above
                    && !(self.batch && n <= FACTOR_MAX)
            }
            _ => false,
        }
    }

    /// Sets new bias voltages (same topology as bound).
    pub fn set_bias(&mut self, bias: &Bias) -> Result<(), CrossbarError> {
        if !self.net.same_topology(bias) {
            return Err(CrossbarError::Input(
                "bias changes which lines are connected; bind a new Array".into(),
            ));
        }
        self.net.fixed_voltages(bias, &mut self.fixed_v)?;
        if !self.xb.cg.is_empty() {
            // Control gates driven by the word lines' gate lines (pulse programming).
            self.xb.cg.clone_from(&bias.gates);
        }
        self.bias = bias.clone();
        Ok(())
    }

    /// Replaces the cells' conductances and device states by those of `xb` (the same array
    /// after device effects: same size, law and periphery); the next solve refactorises.
    pub fn set_cells_from(&mut self, xb: &Crossbar) {
        self.xb.g.clone_from(&xb.g);
        self.xb.cells.clone_from(&xb.cells);
        self.invalidate_factors();
    }

    /// Marks the one-shot factor of a linear array stale after the cells changed. (The
    /// condensed path's factor is only GMRES's preconditioner, rebuilt when it slows down, and
    /// every Newton iteration re-linearises the cells, so it stays.)
    /// Drops the cached solver structures (condensed system, direct factor) to free memory;
    /// the next solve rebuilds them.
    pub(crate) fn release_caches(&mut self) {
        self.cond = None;
        self.direct = None;
    }

    fn invalidate_factors(&mut self) {
        if let Some(d) = self.direct.as_mut() {
            d.factored_linear = false;
        }
    }

    /// The cells' device instances, for changing their states in place (pulse programming);
    /// the next solve uses the new states.
    pub fn cells_mut(&mut self) -> &mut [crate::device::Cell] {
        self.invalidate_factors();
        &mut self.xb.cells
    }

    /// The crossbar this array solves.
    pub fn crossbar(&self) -> &Crossbar {
        &self.xb
    }

    /// Replaces the crossbar description, invalidating what depends on it: a change of cell
    /// states, law, selector, transistor, DAC/ADC or read settings keeps the bound network and
    /// drops the cached numeric factors; a change of geometry, line resistances, line ends or
    /// gate voltage rebinds for the present bias.
    pub fn set_crossbar(&mut self, xb: Crossbar) -> Result<(), CrossbarError> {
        let same_network = |a: &Crossbar, b: &Crossbar| {
            a.rows == b.rows
                && a.cols == b.cols
                && a.cell == b.cell
                && a.line_ends == b.line_ends
                && a.r_row == b.r_row
                && a.r_col == b.r_col
                && a.r_driver == b.r_driver
                && a.r_sense == b.r_sense
                && a.v_gate == b.v_gate
        };
        if same_network(&self.xb, &xb) {
            xb.validate()?;
            self.xb = xb;
            self.invalidate_factors();
        } else {
            let (par, method) = (self.par, self.method);
            *self = Array::bind(&xb, &self.bias)?;
            self.par = par;
            self.method = method;
        }
        Ok(())
    }

    /// True when every element is linear (one factorisation serves every input).
    pub fn is_linear(&self) -> bool {
        self.xb.law.is_linear() && self.net.sels.is_empty() && self.net.mos.is_empty()
    }

    #[inline]
    fn volt(&self, e: End) -> f64 {
        match e {
            End::Free(i) => self.v[i as usize],
            End::Fixed(f) => self.fixed_v[f as usize],
        }
    }

    /// Voltage of a raw node (V).
    pub fn raw_voltage(&self, raw: usize) -> f64 {
        self.volt(self.net.class_of[raw])
    }

    /// Voltage of an element end (V).
    pub fn end_voltage(&self, e: End) -> f64 {
        self.volt(e)
    }

    /// Right-hand side of the linear part: currents injected by fixed classes through resistors.
    fn linear_rhs(&self, out: &mut [f64]) {
        out.fill(0.0);
        for r in &self.net.res {
            match (r.a, r.b) {
                (End::Free(a), End::Fixed(f)) => out[a as usize] += r.g * self.fixed_v[f as usize],
                (End::Fixed(f), End::Free(b)) => out[b as usize] += r.g * self.fixed_v[f as usize],
                _ => {}
            }
        }
    }

    /// Solves the array at the current bias (warm-started from `self.v`).
    pub fn solve(&mut self) -> Result<(), CrossbarError> {
        let n = self.net.n_free;
        self.last_krylov_iterations = 0;
        self.last_factorizations = 0;
        if n == 0 {
            self.last_iterations = 0;
            return Ok(());
        }
        if self.is_linear() && !self.use_iterative() {
            if self.direct.as_ref().is_none_or(|d| !d.factored_linear) && self.solve_bipartite() {
                self.last_iterations = 1;
                return Ok(());
            }
            let mut rhs = std::mem::take(&mut self.rhs);
            self.linear_rhs(&mut rhs);
            for (idx, t) in self.net.cells.iter().enumerate() {
                let g = self.xb.g[idx];
                inject_fixed(&mut rhs, t.a, t.b, g, &self.fixed_v);
            }
            let (xb, net, par) = (&self.xb, &self.net, self.par);
            if self.direct.as_ref().is_none_or(|d| !d.factored_linear) {
                let d = match self.direct.as_mut() {
                    Some(d) => d,
                    None => self.direct.insert(Direct::build(xb, net, par)?),
                };
                d.values.copy_from_slice(&d.base);
                for (idx, s) in d.cell_slots.iter().enumerate() {
                    let (_, g) = xb.cell_iv(idx, 0.0);
                    conductance(&mut d.values, s, g);
                }
                d.factorize(par)?;
                d.factored_linear = true;
                self.last_factorizations = 1;
            }
            let d = self.direct.as_mut().expect("factored above");
            d.solve_in_place(&mut rhs, 1, par);
            self.v.copy_from_slice(&rhs);
            self.rhs = rhs;
            self.last_iterations = 1;
            if let Some(k) = self.v.iter().position(|x| !x.is_finite()) {
                d.factored_linear = false;
                return Err(CrossbarError::Solve(format!(
                    "node voltage {} at unknown {k}: singular nodal matrix (a line without a DC path?)",
                    self.v[k]
                )));
            }
            return Ok(());
        }
        if self.use_condensed() {
            let it = self.use_iterative();
            let mut c = self.take_condensed(it)?;
            let n_lines = self.net.rows * self.net.pcols * 2;
            let r = if it && self.is_linear() && n_lines <= LINEAR_SERIAL_MAX {
                // A one-thread pool: the CG's parallel loops then run inline instead of
                // handing each of their ~100 short pieces to a second thread and back.
                match rayon::ThreadPoolBuilder::new().num_threads(1).build() {
                    Ok(pool) => pool.install(|| c.solve(self)),
                    Err(_) => c.solve(self),
                }
            } else {
                c.solve(self)
            };
            self.cond = Some(c);
            match r {
                Ok(()) => return Ok(()),
                // E.g. a line isolated by transistors in cutoff makes M singular: the full
                // system decides (and reports its own error if it has none either).
                Err(super::condensed::CondError::Unsuited) => {
                    self.v.fill(0.0);
                }
                Err(super::condensed::CondError::Solve(e)) => return Err(e),
            }
        }
        self.newton()
    }

    /// The condensed system for the direct (`iterative` false) or iterative path, built on
    /// first use or when the path changed; the caller puts it back into `self.cond`.
    fn take_condensed(
        &mut self,
        iterative: bool,
    ) -> Result<super::condensed::Condensed, CrossbarError> {
        match self.cond.take() {
            Some(c) if c.is_iterative() == iterative => Ok(c),
            _ => super::condensed::Condensed::build(&self.xb, &self.net, iterative),
        }
    }

    /// Side of every unknown when the network is bipartite (no wire resistance, so every
    /// resistor has a fixed end and every cell joins a word-line class to a bit-line class):
    /// `Some(is_b)`, `is_b[k]` for the bit-line side; `None` otherwise.
    fn bipartite(&self) -> Option<Vec<bool>> {
        if self
            .net
            .res
            .iter()
            .any(|r| r.a.free().is_some() && r.b.free().is_some())
        {
            return None;
        }
        // 0 = no cell to a free node yet, 1 = word-line side, 2 = bit-line side.
        let mut side = vec![0u8; self.net.n_free];
        for t in &self.net.cells {
            if let (End::Free(a), End::Free(b)) = (t.a, t.b) {
                let (a, b) = (a as usize, b as usize);
                if side[a] == 2 || side[b] == 1 || a == b {
                    return None;
                }
                (side[a], side[b]) = (1, 2);
            }
        }
        Some(side.iter().map(|&s| s == 2).collect())
    }

    /// A linear network without wire resistance (`bipartite`) solved by two-block
    /// Gauss-Seidel: every word-line class from the bit-line classes, then every bit-line class
    /// from the word-line classes, each an exact one-node solve. The sweeps contract by the
    /// spectral radius of D_w⁻¹·G·D_b⁻¹·Gᵀ (≈ (R_driver·ΣG)·(R_sense·ΣG), ~1e-4 for 1 Ω
    /// periphery and 256 cells of 50 µS), so a few sweeps reach roundoff where one dense
    /// factorisation would cost ~n³. Sequential, so the same bits on any thread count. Returns
    /// false (nothing changed but `self.v`) when the structure does not fit or the sweeps do
    /// not contract: the factor then solves.
    fn solve_bipartite(&mut self) -> bool {
        let Some(is_b) = self.bipartite() else {
            return false;
        };
        let n = self.net.n_free;
        let mut rhs = std::mem::take(&mut self.rhs);
        self.linear_rhs(&mut rhs);
        let mut diag = vec![0.0; n];
        for r in &self.net.res {
            for e in [r.a, r.b] {
                if let End::Free(k) = e {
                    diag[k as usize] += r.g;
                }
            }
        }
        for (idx, t) in self.net.cells.iter().enumerate() {
            let g = self.xb.g[idx];
            inject_fixed(&mut rhs, t.a, t.b, g, &self.fixed_v);
            for e in [t.a, t.b] {
                if let End::Free(k) = e {
                    diag[k as usize] += g;
                }
            }
        }
        if diag.iter().any(|&d| !(d > 0.0 && d.is_finite())) {
            self.rhs = rhs;
            return false;
        }
        let vscale = self.v_scale();
        let mut acc = vec![0.0; n];
        let mut prev = f64::INFINITY;
        let mut ok = false;
        for sweep in 1..=BIPARTITE_SWEEPS {
            let mut dmax = 0.0f64;
            for side_b in [false, true] {
                acc.copy_from_slice(&rhs);
                for (idx, t) in self.net.cells.iter().enumerate() {
                    if let (End::Free(a), End::Free(b)) = (t.a, t.b) {
                        let (a, b) = (a as usize, b as usize);
                        let g = self.xb.g[idx];
                        if side_b {
                            acc[b] += g * self.v[a];
                        } else {
                            acc[a] += g * self.v[b];
                        }
                    }
                }
                for k in 0..n {
                    if is_b[k] == side_b {
                        let v = acc[k] / diag[k];
                        dmax = dmax.max((v - self.v[k]).abs());
                        self.v[k] = v;
                    }
                }
            }
            if !dmax.is_finite() {
                break;
            }
            // Error left ≤ ρ/(1 − ρ)·step; at roundoff the step stops shrinking.
            let rho = dmax / prev;
            let vmax = self.v.iter().fold(0.0f64, |m, x| m.max(x.abs()));
            if sweep > 1
                && (dmax <= 4.0 * f64::EPSILON * vmax
                    || (rho < 0.5 && dmax * rho / (1.0 - rho) <= BIPARTITE_TOL * vscale))
            {
                ok = true;
                break;
            }
            if sweep > 2 && rho > 0.5 {
                break;
            }
            prev = dmax;
        }
        self.rhs = rhs;
        if !ok {
            self.v.fill(0.0);
        }
        ok
    }

    /// Linear arrays only: solves many biases (same topology) on one factorisation.
    /// Returns the free-node voltages, column-major `n_free × biases.len()`.
    pub fn solve_batch_linear(&mut self, biases: &[Bias]) -> Result<Vec<Vec<f64>>, CrossbarError> {
        self.batch = biases.len() >= BATCH_FACTOR_MIN;
        let r = self.solve_batch_linear_in(biases);
        self.batch = false;
        r
    }

    fn solve_batch_linear_in(&mut self, biases: &[Bias]) -> Result<Vec<Vec<f64>>, CrossbarError> {
        assert!(self.is_linear());
        let n = self.net.n_free;
        let mut out = Vec::with_capacity(biases.len());
        if n == 0 {
            for b in biases {
                self.set_bias(b)?;
                out.push(Vec::new());
            }
            return Ok(out);
        }
        if self.use_iterative() || self.bipartite().is_some() {
            for b in biases {
                self.set_bias(b)?;
                self.solve()?;
                out.push(self.v.clone());
            }
            return Ok(out);
        }
        if self.direct.as_ref().is_none_or(|d| !d.factored_linear) {
            self.solve()?; // factorises
        }
        let mut block = vec![0.0; n * RHS_BLOCK];
        let mut tmp = vec![0.0; n];
        for chunk in biases.chunks(RHS_BLOCK) {
            for (k, b) in chunk.iter().enumerate() {
                self.set_bias(b)?;
                self.linear_rhs(&mut tmp);
                for (idx, t) in self.net.cells.iter().enumerate() {
                    inject_fixed(&mut tmp, t.a, t.b, self.xb.g[idx], &self.fixed_v);
                }
                block[k * n..(k + 1) * n].copy_from_slice(&tmp);
            }
            let m = chunk.len();
            let par = self.par;
            let d = self.direct.as_mut().expect("factored above");
            d.solve_in_place(&mut block[..n * m], m, par);
            for k in 0..m {
                out.push(block[k * n..(k + 1) * n].to_vec());
            }
        }
        Ok(out)
    }

    /// Solves every bias of `biases` (same topology) and calls `record(self, iterations)`
    /// after each, in order, with `self` holding that bias and its solution. Nonlinear arrays on
    /// the condensed direct path solve them in blocks of `RHS_BLOCK` by lock-step chord sweeps
    /// on one factor, every vector starting from zero line voltages (see
    /// `Condensed::chord_start` and `Condensed::chord_batch`). A vector whose sweeps do not
    /// contract is solved by Newton-GMRES; the first such solution becomes the start of every
    /// later block (as does the first vector's where M cannot be factorised at the start).
    /// Each result thus depends only on its own bias and the start, not on the thread count.
    pub fn solve_each(
        &mut self,
        biases: &[Bias],
        record: impl FnMut(&Array, usize),
    ) -> Result<(), CrossbarError> {
        self.batch = biases.len() >= BATCH_FACTOR_MIN;
        let r = self.solve_each_in(biases, record);
        self.batch = false;
        r
    }

    fn solve_each_in(
        &mut self,
        biases: &[Bias],
        mut record: impl FnMut(&Array, usize),
    ) -> Result<(), CrossbarError> {
        let Some(first) = biases.first() else {
            return Ok(());
        };
        self.set_bias(first)?;
        let chord = !self.is_linear()
            && self.use_condensed()
            && !self.use_iterative()
            && self.xb.cg.is_empty()
            && biases.len() > 1;
        if !chord {
            for b in biases {
                self.set_bias(b)?;
                self.solve()?;
                record(self, self.last_iterations);
            }
            return Ok(());
        }
        let mut c = self.take_condensed(false)?;
        let start = c.chord_start(self);
        self.cond = Some(c);
        // Warm: the start is a converged solution.
        let (mut v0, todo, mut warm) = match start? {
            Some(v0) => (v0, biases, false),
            None => {
                self.solve()?;
                record(self, self.last_iterations);
                (self.v.clone(), &biases[1..], true)
            }
        };
        let mut pool = ChordPool::default();
        for chunk in todo.chunks(RHS_BLOCK) {
            let mut c = self.cond.take().expect("built above");
            let r = c.chord_batch(self, chunk, &v0, &mut pool);
            self.cond = Some(c);
            r?;
            for (k, b) in chunk.iter().enumerate() {
                self.set_bias(b)?;
                let c = self.cond.as_ref().expect("put back above");
                match c.chord_solution(&pool, k, &mut self.v) {
                    Some(it) => {
                        self.last_iterations = it;
                        self.last_krylov_iterations = 0;
                        self.last_factorizations = 0;
                    }
                    None => {
                        self.v.copy_from_slice(&v0);
                        self.solve()?;
                        if !warm {
                            // Later blocks start from this solution (and the factor its
                            // Newton-GMRES left) instead.
                            v0.copy_from_slice(&self.v);
                            warm = true;
                        }
                    }
                }
                record(self, self.last_iterations);
            }
        }
        Ok(())
    }

    /// Newton on the full nodal matrix, refactorised every iteration (the reference path).
    fn newton(&mut self) -> Result<(), CrossbarError> {
        let n = self.net.n_free;
        let vscale = self.v_scale();
        let step_limit = vscale;
        let mut rhs = std::mem::take(&mut self.rhs);
        let sel = self.xb.selector;
        // β resolved once, not per transistor and iteration.
        let mos1 = self.xb.transistor.map(|m| m.channel());
        let par = self.par;
        let mut prev_dmax = f64::INFINITY;
        self.direct()?;
        let mut d = self.direct.take().expect("built above");
        let r = (|| {
            for it in 1..=MAX_NEWTON {
                d.values.copy_from_slice(&d.base);
                self.linear_rhs(&mut rhs);
                for idx in 0..self.net.cells.len() {
                    let t = self.net.cells[idx];
                    let (va, vb) = (self.volt(t.a), self.volt(t.b));
                    let (i, g) = self.xb.cell_iv(idx, va - vb);
                    stamp_two(
                        &mut d.values,
                        &mut rhs,
                        &d.cell_slots[idx],
                        t,
                        g,
                        companion_current(i, g, va - vb),
                        &self.fixed_v,
                    );
                }
                if let Some(s) = sel {
                    for idx in 0..self.net.sels.len() {
                        let t = self.net.sels[idx];
                        let (va, vb) = (self.volt(t.a), self.volt(t.b));
                        let (i, g) = super::law::sinh_law(s.i_s, s.v_s, va - vb);
                        stamp_two(
                            &mut d.values,
                            &mut rhs,
                            &d.sel_slots[idx],
                            t,
                            g,
                            companion_current(i, g, va - vb),
                            &self.fixed_v,
                        );
                    }
                }
                if let Some(m) = mos1 {
                    for idx in 0..self.net.mos.len() {
                        self.stamp_mos(&mut d, &m, idx, &mut rhs);
                    }
                }
                d.factorize(par)?;
                d.factored_linear = false;
                self.last_factorizations += 1;
                d.solve_in_place(&mut rhs, 1, par);
                // rhs now holds the new iterate.
                // A NaN step must not be lost: f64::max ignores NaN operands.
                let mut dmax = 0.0f64;
                for k in 0..n {
                    let d = (rhs[k] - self.v[k]).abs();
                    dmax = if d.is_nan() { f64::NAN } else { dmax.max(d) };
                    if dmax.is_nan() {
                        break;
                    }
                }
                let limited = dmax > step_limit;
                if limited {
                    let a = step_limit / dmax;
                    for k in 0..n {
                        self.v[k] += a * (rhs[k] - self.v[k]);
                    }
                } else {
                    self.v.copy_from_slice(&rhs);
                }
                if !dmax.is_finite() {
                    self.v.fill(0.0);
                    return Err(CrossbarError::Solve(format!(
                        "Newton diverged (non-finite step) at iteration {it}"
                    )));
                }
                let at_floor = dmax <= FLOOR_VRELTOL * vscale && dmax >= 0.5 * prev_dmax;
                prev_dmax = dmax;
                if !limited && (dmax <= VRELTOL * vscale + VABSTOL || at_floor) {
                    self.last_iterations = it;
                    return Ok(());
                }
            }
            Err(CrossbarError::Solve(format!(
                "Newton did not converge in {MAX_NEWTON} iterations"
            )))
        })();
        self.direct = Some(d);
        self.rhs = rhs;
        r
    }

    /// Voltage scale of the bias (V): largest |fixed or gate voltage|, at least 1 mV. Newton's
    /// step limit and its convergence test are relative to it.
    pub(crate) fn v_scale(&self) -> f64 {
        self.fixed_v
            .iter()
            .chain(self.bias.gates.iter())
            .fold(0.0f64, |a, &x| a.max(x.abs()))
            .max(1e-3)
    }

    fn stamp_mos(&self, d: &mut Direct, m: &Channel, idx: usize, rhs: &mut [f64]) {
        let t = self.net.mos[idx];
        let vg = self.bias.gates[t.row];
        let (vd, vs) = (self.volt(t.d), self.volt(t.s));
        let (i, gd, gs) = m.eval(vg, vd, vs);
        let ieq = i - gd * vd - gs * vs;
        // Row d: +I(vd, vs); row s: −I.
        stamp::controlled(&mut d.values, &d.mos_slots[idx], gd, gs);
        stamp::inject(rhs, t.d.free(), t.s.free(), ieq);
        // A fixed end's term gₖ·vₖ is known: it moves to the right-hand side.
        if let (End::Free(dn), End::Fixed(f)) = (t.d, t.s) {
            rhs[dn as usize] -= gs * self.fixed_v[f as usize];
        }
        if let (End::Free(s_), End::Fixed(f)) = (t.s, t.d) {
            rhs[s_ as usize] += gd * self.fixed_v[f as usize];
        }
    }

    /// Current (A) through cell `idx` from its first to its second terminal.
    pub fn cell_current(&self, idx: usize) -> f64 {
        let t = self.net.cells[idx];
        self.xb.cell_iv(idx, self.volt(t.a) - self.volt(t.b)).0
    }

    /// Voltage across cell `idx` (V).
    pub fn cell_voltage(&self, idx: usize) -> f64 {
        let t = self.net.cells[idx];
        self.volt(t.a) - self.volt(t.b)
    }

    pub fn selector_current(&self, idx: usize) -> f64 {
        let t = self.net.sels[idx];
        let s = self.xb.selector.expect("1S1R has a selector");
        super::law::sinh_law(s.i_s, s.v_s, self.volt(t.a) - self.volt(t.b)).0
    }

    /// Drain-to-source current of transistor `idx` (A).
    pub fn mos_current(&self, idx: usize) -> f64 {
        let t = self.net.mos[idx];
        let m = self.xb.transistor.expect("1T1R has a transistor");
        m.eval(self.bias.gates[t.row], self.volt(t.d), self.volt(t.s))
            .0
    }

    /// Current (A) leaving each fixed class into the network (KCL at the ideal sources).
    pub fn fixed_class_currents(&self) -> Vec<f64> {
        let mut out = vec![0.0; self.net.fixed_term.len()];
        let mut leave = |e: End, i: f64| {
            if let End::Fixed(f) = e {
                out[f as usize] += i;
            }
        };
        // Only elements with a fixed end count (`at_sources`): the rest, most of a large
        // array, are not visited.
        let at = &self.at_sources;
        for &k in &at.res {
            let r = &self.net.res[k as usize];
            let i = r.g * (self.volt(r.a) - self.volt(r.b));
            leave(r.a, i);
            leave(r.b, -i);
        }
        for &k in &at.cells {
            let t = self.net.cells[k as usize];
            let i = self.cell_current(k as usize);
            leave(t.a, i);
            leave(t.b, -i);
        }
        for &k in &at.sels {
            let t = self.net.sels[k as usize];
            let i = self.selector_current(k as usize);
            leave(t.a, i);
            leave(t.b, -i);
        }
        for &k in &at.mos {
            let t = &self.net.mos[k as usize];
            let i = self.mos_current(k as usize);
            leave(t.d, i);
            leave(t.s, -i);
        }
        out
    }

    /// Current into the sense/bias ends of each physical bit line (A): positive when current
    /// flows from the array into the periphery. Floating lines read 0.
    pub fn column_currents(&self) -> Vec<f64> {
        let fc = self.fixed_class_currents();
        let mut out = vec![0.0; self.net.pcols];
        for (f, &t) in self.net.fixed_term.iter().enumerate() {
            if let super::network::Line::Col(j) = self.net.terminals[t].line {
                out[j] -= fc[f];
            }
        }
        out
    }

    /// Current delivered by each word-line driver into the array (A).
    pub fn row_currents(&self) -> Vec<f64> {
        let fc = self.fixed_class_currents();
        let mut out = vec![0.0; self.net.rows];
        for (f, &t) in self.net.fixed_term.iter().enumerate() {
            if let super::network::Line::Row(i) = self.net.terminals[t].line {
                out[i] += fc[f];
            }
        }
        out
    }

    pub fn cell_kind(&self) -> CellKind {
        self.xb.cell
    }

    pub fn law(&self) -> CellLaw {
        self.xb.law
    }
}

impl Direct {
    fn build(xb: &Crossbar, net: &Network, par: Par) -> Result<Direct, CrossbarError> {
        let n = net.n_free;
        let sym = !xb.cell.has_transistor();

        // Pattern: (row, col) pairs of every stamp, plus the diagonal.
        let mut pairs: Vec<(u32, u32)> = Vec::with_capacity(net.res.len() + 2 * net.cells.len());
        let mut add = |a: End, b: End| {
            if let (End::Free(a), End::Free(b)) = (a, b) {
                pairs.push((a, b));
            }
        };
        for r in &net.res {
            add(r.a, r.b);
        }
        for t in net.cells.iter().chain(&net.sels) {
            add(t.a, t.b);
        }
        for m in &net.mos {
            add(m.d, m.s);
        }
        let (col_ptr, row_idx) = csc_pattern(n, &pairs, sym);
        drop(pairs);
        if row_idx.len() >= NO_SLOT as usize {
            return Err(CrossbarError::Solve(format!(
                "{} matrix entries: more than the 2^32 − 1 slots a stamp can address",
                row_idx.len()
            )));
        }
        let slot = |r: End, c: End| -> u32 {
            match (r, c) {
                (End::Free(r), End::Free(c)) => {
                    let (r, c) = (r as usize, c as usize);
                    if sym && r > c {
                        return NO_SLOT;
                    }
                    let s = &row_idx[col_ptr[c]..col_ptr[c + 1]];
                    (col_ptr[c] + s.binary_search(&r).expect("entry in pattern")) as u32
                }
                _ => NO_SLOT,
            }
        };
        let slots2 = |a: End, b: End| [slot(a, a), slot(a, b), slot(b, a), slot(b, b)];
        let res_slots: Vec<Slots> = net.res.iter().map(|r| slots2(r.a, r.b)).collect();
        let cell_slots: Vec<Slots> = net.cells.iter().map(|t| slots2(t.a, t.b)).collect();
        let sel_slots: Vec<Slots> = net.sels.iter().map(|t| slots2(t.a, t.b)).collect();
        let mos_slots: Vec<Slots> = net.mos.iter().map(|m| slots2(m.d, m.s)).collect();

        let mut base = vec![0.0; row_idx.len()];
        for (r, s) in net.res.iter().zip(&res_slots) {
            conductance(&mut base, s, r.g);
        }
        // Transistor bulk junctions (bulk grounded): GMIN_BULK on the drain and source diagonals.
        for s in &mos_slots {
            stamp::add(&mut base, s[0], GMIN_BULK);
            stamp::add(&mut base, s[3], GMIN_BULK);
        }

        let factor = if sym {
            let ord = if net.nd_ordered {
                Ordering::AsNumbered
            } else {
                Ordering::Amd
            };
            SparseFactor::cholesky(n, &col_ptr, &row_idx, ord, par)
        } else {
            SparseFactor::lu(n, &col_ptr, &row_idx, par)
        }
        .map_err(|e| CrossbarError::Solve(factor_message(e)))?;
        Ok(Direct {
            values: base.clone(),
            base,
            col_ptr,
            row_idx,
            cell_slots,
            sel_slots,
            mos_slots,
            factor,
            factored_linear: false,
        })
    }

    fn factorize(&mut self, par: Par) -> Result<(), CrossbarError> {
        self.factor
            .factorize(&self.col_ptr, &self.row_idx, &self.values, par)
            .map_err(|e| CrossbarError::Solve(factor_message(e)))
    }

    /// Solves in place for `ncols` right-hand sides stored column-major in `b`.
    fn solve_in_place(&mut self, b: &mut [f64], ncols: usize, par: Par) {
        self.factor.solve_in_place(b, ncols, par);
    }
}

/// CSC pattern (sorted rows, no duplicates, every diagonal present) of the n×n matrix with
/// entries (a, b) and (b, a) for every pair, only the upper triangle (row ≤ column) when
/// `upper`. Built by counting per column rather than one vector per column: the arrays have
/// up to millions of columns.
pub(crate) fn csc_pattern(n: usize, pairs: &[(u32, u32)], upper: bool) -> (Vec<usize>, Vec<usize>) {
    let entries = |f: &mut dyn FnMut(usize, usize)| {
        for c in 0..n {
            f(c, c);
        }
        for &(a, b) in pairs {
            let (a, b) = (a as usize, b as usize);
            for (r, c) in [(a, b), (b, a)] {
                if !upper || r <= c {
                    f(r, c);
                }
            }
        }
    };
    let mut count = vec![0usize; n + 1];
    entries(&mut |_, c| count[c + 1] += 1);
    for c in 0..n {
        count[c + 1] += count[c];
    }
    let mut next = count.clone();
    let mut rows = vec![0usize; count[n]];
    entries(&mut |r, c| {
        rows[next[c]] = r;
        next[c] += 1;
    });
    let mut col_ptr = Vec::with_capacity(n + 1);
    col_ptr.push(0);
    let mut row_idx = Vec::with_capacity(rows.len());
    for c in 0..n {
        let seg = &mut rows[count[c]..count[c + 1]];
        seg.sort_unstable();
        let start = row_idx.len();
        for &r in seg.iter() {
            if row_idx.len() == start || *row_idx.last().expect("non-empty") != r {
                row_idx.push(r);
            }
        }
        col_ptr.push(row_idx.len());
    }
    (col_ptr, row_idx)
}

fn factor_message(e: FactorError) -> String {
    match e {
        FactorError::Symbolic(m) => m,
        FactorError::NotPositiveDefinite(m) => {
            format!("nodal matrix not positive definite ({m}): a floating node?")
        }
        FactorError::Singular { detail, .. } => format!("sparse LU: {detail}"),
    }
}

/// Current injected into free ends by a conductance g to a fixed end.
#[inline]
fn inject_fixed(rhs: &mut [f64], a: End, b: End, g: f64, fixed_v: &[f64]) {
    match (a, b) {
        (End::Free(a), End::Fixed(f)) => rhs[a as usize] += g * fixed_v[f as usize],
        (End::Fixed(f), End::Free(b)) => rhs[b as usize] += g * fixed_v[f as usize],
        _ => {}
    }
}

/// Companion stamp of a nonlinear two-terminal branch: conductance g and equivalent current
/// ieq = i(v⁰) − g·v⁰ flowing from a to b.
#[inline]
fn stamp_two(
    values: &mut [f64],
    rhs: &mut [f64],
    s: &Slots,
    t: super::network::Two,
    g: f64,
    ieq: f64,
    fixed_v: &[f64],
) {
    conductance(values, s, g);
    inject_fixed(rhs, t.a, t.b, g, fixed_v);
    stamp::inject(rhs, t.a.free(), t.b.free(), ieq);
}
