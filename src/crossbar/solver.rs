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

use faer::dyn_stack::{MemBuffer, MemStack, StackReq};
use faer::linalg::cholesky::llt::factor::LltRegularization;
use faer::sparse::linalg::cholesky::{
    factorize_symbolic_cholesky, CholeskySymbolicParams, LltRef, SymbolicCholesky,
    SymmetricOrdering,
};
use faer::sparse::linalg::lu::{
    factorize_symbolic_lu, LuRef, LuSymbolicParams, NumericLu, SymbolicLu,
};
use faer::sparse::{SparseColMatRef, SymbolicSparseColMatRef};
use faer::{Conj, MatMut, Par, Side};

use super::config::{CellKind, Crossbar};
use super::law::{CellLaw, Mos1};
use super::network::{Bias, End, Network};
use super::CrossbarError;

const NONE: usize = usize::MAX;
/// Newton: converged when max |Δv| ≤ VRELTOL·v_scale + VABSTOL (Newton is quadratic, so the
/// error left after such a step is far below it).
const VRELTOL: f64 = 1e-11;
const VABSTOL: f64 = 1e-15;
const MAX_NEWTON: usize = 200;
/// Right-hand sides per block in batched linear solves.
const RHS_BLOCK: usize = 32;

enum Factor {
    Chol {
        sym: SymbolicCholesky<usize>,
        l: Vec<f64>,
    },
    Lu {
        sym: SymbolicLu<usize>,
        num: NumericLu<usize, f64>,
    },
}

/// Slots of a two-terminal stamp: (aa, ab, ba, bb); `NONE` where an end is fixed or the entry
/// lies in the unstored triangle.
type Slots = [usize; 4];

/// A bound array: network, matrix pattern, slot maps, symbolic factorisation, work buffers.
pub struct Array {
    pub xb: Crossbar,
    pub net: Network,
    col_ptr: Vec<usize>,
    row_idx: Vec<usize>,
    /// Linear (wire, driver, sense) part of the matrix.
    base: Vec<f64>,
    values: Vec<f64>,
    cell_slots: Vec<Slots>,
    sel_slots: Vec<Slots>,
    mos_slots: Vec<Slots>,
    factor: Factor,
    /// Whether `factor` holds a numeric factorisation of the current linear matrix.
    factored_linear: bool,
    mem: MemBuffer,
    mem_rhs_cols: usize,
    pub(crate) fixed_v: Vec<f64>,
    pub(crate) bias: Bias,
    /// Free-node voltages of the last solution (V); also the warm start.
    pub v: Vec<f64>,
    rhs: Vec<f64>,
    /// Newton iterations of the last solve.
    pub last_iterations: usize,
    pub par: Par,
}

impl Array {
    /// Binds `xb` for the topology of `bias` (which lines are driven, sensed or floating).
    pub fn bind(xb: &Crossbar, bias: &Bias) -> Result<Array, CrossbarError> {
        let net = Network::build(xb, bias)?;
        let n = net.n_free;
        let sym = !xb.cell.has_transistor();

        // Pattern: (row, col) pairs of every stamp, plus the diagonal.
        let mut cols: Vec<Vec<usize>> = vec![Vec::new(); n];
        let mut add = |a: End, b: End| {
            if let (End::Free(a), End::Free(b)) = (a, b) {
                let (a, b) = (a as usize, b as usize);
                for (r, c) in [(a, b), (b, a)] {
                    if !sym || r <= c {
                        cols[c].push(r);
                    }
                }
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
        let mut col_ptr = Vec::with_capacity(n + 1);
        let mut row_idx = Vec::new();
        col_ptr.push(0);
        for (c, rows) in cols.iter_mut().enumerate() {
            rows.push(c);
            rows.sort_unstable();
            rows.dedup();
            row_idx.extend_from_slice(rows);
            col_ptr.push(row_idx.len());
        }
        drop(cols);
        let slot = |r: End, c: End| -> usize {
            match (r, c) {
                (End::Free(r), End::Free(c)) => {
                    let (r, c) = (r as usize, c as usize);
                    if sym && r > c {
                        return NONE;
                    }
                    let s = &row_idx[col_ptr[c]..col_ptr[c + 1]];
                    col_ptr[c] + s.binary_search(&r).expect("entry in pattern")
                }
                _ => NONE,
            }
        };
        let slots2 = |a: End, b: End| [slot(a, a), slot(a, b), slot(b, a), slot(b, b)];
        let res_slots: Vec<Slots> = net.res.iter().map(|r| slots2(r.a, r.b)).collect();
        let cell_slots: Vec<Slots> = net.cells.iter().map(|t| slots2(t.a, t.b)).collect();
        let sel_slots: Vec<Slots> = net.sels.iter().map(|t| slots2(t.a, t.b)).collect();
        let mos_slots: Vec<Slots> = net.mos.iter().map(|m| slots2(m.d, m.s)).collect();

        let mut base = vec![0.0; row_idx.len()];
        for (r, s) in net.res.iter().zip(&res_slots) {
            stamp_g(&mut base, s, r.g);
        }

        let symbolic = SymbolicSparseColMatRef::new_checked(n, n, &col_ptr, None, &row_idx);
        let par = Par::Seq;
        let (factor, req) = if sym {
            let ord = if net.nd_ordered {
                SymmetricOrdering::Identity
            } else {
                SymmetricOrdering::Amd
            };
            let s = factorize_symbolic_cholesky(
                symbolic,
                Side::Upper,
                ord,
                CholeskySymbolicParams::default(),
            )
            .map_err(|e| CrossbarError::Solve(format!("symbolic Cholesky: {e:?}")))?;
            let req = s.factorize_numeric_llt_scratch::<f64>(par, Default::default());
            let l = vec![0.0; s.len_val()];
            (Factor::Chol { sym: s, l }, req)
        } else {
            let s = factorize_symbolic_lu(symbolic, LuSymbolicParams::default())
                .map_err(|e| CrossbarError::Solve(format!("symbolic LU: {e:?}")))?;
            let req = s.factorize_numeric_lu_scratch::<f64>(par, Default::default());
            (
                Factor::Lu {
                    sym: s,
                    num: NumericLu::new(),
                },
                req,
            )
        };
        let mut arr = Array {
            xb: xb.clone(),
            net,
            values: base.clone(),
            base,
            col_ptr,
            row_idx,
            cell_slots,
            sel_slots,
            mos_slots,
            factor,
            factored_linear: false,
            mem: MemBuffer::new(req),
            mem_rhs_cols: 0,
            fixed_v: Vec::new(),
            bias: bias.clone(),
            v: vec![0.0; n],
            rhs: vec![0.0; n],
            last_iterations: 0,
            par,
        };
        arr.ensure_mem(1, req);
        arr.set_bias(bias)?;
        Ok(arr)
    }

    fn solve_req(&self, ncols: usize) -> StackReq {
        match &self.factor {
            Factor::Chol { sym, .. } => sym.solve_in_place_scratch::<f64>(ncols, self.par),
            Factor::Lu { sym, .. } => sym.solve_in_place_scratch::<f64>(ncols, self.par),
        }
    }

    fn ensure_mem(&mut self, ncols: usize, factor_req: StackReq) {
        if ncols > self.mem_rhs_cols {
            let req = StackReq::any_of(&[factor_req, self.solve_req(ncols)]);
            self.mem = MemBuffer::new(req);
            self.mem_rhs_cols = ncols;
        }
    }

    fn factor_req(&self) -> StackReq {
        match &self.factor {
            Factor::Chol { sym, .. } => {
                sym.factorize_numeric_llt_scratch::<f64>(self.par, Default::default())
            }
            Factor::Lu { sym, .. } => {
                sym.factorize_numeric_lu_scratch::<f64>(self.par, Default::default())
            }
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
        self.bias = bias.clone();
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

    fn factorize(&mut self) -> Result<(), CrossbarError> {
        let n = self.net.n_free;
        let symbolic =
            SymbolicSparseColMatRef::new_checked(n, n, &self.col_ptr, None, &self.row_idx);
        let a = SparseColMatRef::new(symbolic, &self.values);
        let stack = MemStack::new(&mut self.mem);
        match &mut self.factor {
            Factor::Chol { sym, l } => {
                sym.factorize_numeric_llt(
                    l,
                    a,
                    Side::Upper,
                    LltRegularization::default(),
                    self.par,
                    stack,
                    Default::default(),
                )
                .map_err(|e| {
                    CrossbarError::Solve(format!(
                        "nodal matrix not positive definite ({e:?}): a floating node?"
                    ))
                })?;
            }
            Factor::Lu { sym, num } => {
                sym.factorize_numeric_lu(num, a, self.par, stack, Default::default())
                    .map_err(|e| CrossbarError::Solve(format!("sparse LU: {e:?}")))?;
            }
        }
        Ok(())
    }

    /// Solves in place for `ncols` right-hand sides stored column-major in `b`.
    fn solve_in_place(&mut self, b: &mut [f64], ncols: usize) {
        let n = self.net.n_free;
        let fr = self.factor_req();
        self.ensure_mem(ncols, fr);
        let stack = MemStack::new(&mut self.mem);
        let rhs = MatMut::from_column_major_slice_mut(b, n, ncols);
        match &self.factor {
            Factor::Chol { sym, l } => {
                LltRef::new(sym, l).solve_in_place_with_conj(Conj::No, rhs, self.par, stack)
            }
            Factor::Lu { sym, num } => LuRef::new_unchecked(sym, num).solve_in_place_with_conj(
                Conj::No,
                rhs,
                self.par,
                stack,
            ),
        }
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
        if n == 0 {
            self.last_iterations = 0;
            return Ok(());
        }
        if self.is_linear() {
            if !self.factored_linear {
                self.values.copy_from_slice(&self.base);
                for (idx, s) in self.cell_slots.iter().enumerate() {
                    let (_, g) = self.xb.cell_iv(idx, 0.0);
                    stamp_g(&mut self.values, s, g);
                }
                self.factorize()?;
                self.factored_linear = true;
            }
            let mut rhs = std::mem::take(&mut self.rhs);
            self.linear_rhs(&mut rhs);
            for (idx, t) in self.net.cells.iter().enumerate() {
                let g = self.xb.g[idx];
                inject_fixed(&mut rhs, t.a, t.b, g, &self.fixed_v);
            }
            self.solve_in_place(&mut rhs, 1);
            self.v.copy_from_slice(&rhs);
            self.rhs = rhs;
            self.last_iterations = 1;
            return Ok(());
        }
        self.newton()
    }

    /// Linear arrays only: solves many biases (same topology) on one factorisation.
    /// Returns the free-node voltages, column-major `n_free × biases.len()`.
    pub fn solve_batch_linear(&mut self, biases: &[Bias]) -> Result<Vec<Vec<f64>>, CrossbarError> {
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
        if !self.factored_linear {
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
            self.solve_in_place(&mut block[..n * m], m);
            for k in 0..m {
                out.push(block[k * n..(k + 1) * n].to_vec());
            }
        }
        Ok(out)
    }

    fn newton(&mut self) -> Result<(), CrossbarError> {
        let n = self.net.n_free;
        let vscale = self
            .fixed_v
            .iter()
            .chain(self.bias.gates.iter())
            .fold(0.0f64, |a, &x| a.max(x.abs()))
            .max(1e-3);
        let step_limit = vscale;
        let mut rhs = std::mem::take(&mut self.rhs);
        let sel = self.xb.selector;
        let mos1 = self.xb.transistor;
        let mut prev_dmax = f64::INFINITY;
        for it in 1..=MAX_NEWTON {
            self.values.copy_from_slice(&self.base);
            self.linear_rhs(&mut rhs);
            for idx in 0..self.net.cells.len() {
                let t = self.net.cells[idx];
                let (va, vb) = (self.volt(t.a), self.volt(t.b));
                let (i, g) = self.xb.cell_iv(idx, va - vb);
                stamp_two(
                    &mut self.values,
                    &mut rhs,
                    &self.cell_slots[idx],
                    t,
                    g,
                    i - g * (va - vb),
                    &self.fixed_v,
                );
            }
            if let Some(s) = sel {
                for idx in 0..self.net.sels.len() {
                    let t = self.net.sels[idx];
                    let (va, vb) = (self.volt(t.a), self.volt(t.b));
                    let (i, g) = super::law::sinh_law(s.i_s, s.v_s, va - vb);
                    stamp_two(
                        &mut self.values,
                        &mut rhs,
                        &self.sel_slots[idx],
                        t,
                        g,
                        i - g * (va - vb),
                        &self.fixed_v,
                    );
                }
            }
            if let Some(m) = mos1 {
                for idx in 0..self.net.mos.len() {
                    self.stamp_mos(&m, idx, &mut rhs);
                }
            }
            self.factorize()?;
            self.solve_in_place(&mut rhs, 1);
            // rhs now holds the new iterate.
            let mut dmax = 0.0f64;
            for k in 0..n {
                let d = (rhs[k] - self.v[k]).abs();
                // `!(d <= dmax)` also catches NaN, which `f64::max` would drop.
                if !(d <= dmax) {
                    dmax = d;
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
                self.rhs = rhs;
                self.v.fill(0.0);
                return Err(CrossbarError::Solve(format!(
                    "Newton diverged (non-finite step) at iteration {it}"
                )));
            }
            let tol = VRELTOL * vscale + VABSTOL;
            // Converged; or stalled at roundoff within 10x the tolerance (the step no longer
            // shrinks, as with the engine's Newton).
            if !limited && (dmax <= tol || (dmax <= 10.0 * tol && dmax >= 0.5 * prev_dmax)) {
                self.last_iterations = it;
                self.rhs = rhs;
                return Ok(());
            }
            prev_dmax = dmax;
        }
        self.rhs = rhs;
        Err(CrossbarError::Solve(format!(
            "Newton did not converge in {MAX_NEWTON} iterations"
        )))
    }

    fn stamp_mos(&mut self, m: &Mos1, idx: usize, rhs: &mut [f64]) {
        let t = self.net.mos[idx];
        let vg = self.bias.gates[t.row];
        let (vd, vs) = (self.volt(t.d), self.volt(t.s));
        let (i, gd, gs) = m.eval(vg, vd, vs);
        let ieq = i - gd * vd - gs * vs;
        let s = &self.mos_slots[idx];
        // Row d: +I(vd, vs); row s: −I.
        add(&mut self.values, s[0], gd);
        add(&mut self.values, s[1], gs);
        add(&mut self.values, s[2], -gd);
        add(&mut self.values, s[3], -gs);
        if let End::Free(d) = t.d {
            rhs[d as usize] -= ieq;
            if let End::Fixed(f) = t.s {
                rhs[d as usize] -= gs * self.fixed_v[f as usize];
            }
        }
        if let End::Free(s_) = t.s {
            rhs[s_ as usize] += ieq;
            if let End::Fixed(f) = t.d {
                rhs[s_ as usize] += gd * self.fixed_v[f as usize];
            }
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
        for r in &self.net.res {
            let i = r.g * (self.volt(r.a) - self.volt(r.b));
            if r.a != r.b {
                leave(r.a, i);
                leave(r.b, -i);
            }
        }
        for (idx, t) in self.net.cells.iter().enumerate() {
            if t.a != t.b {
                let i = self.cell_current(idx);
                leave(t.a, i);
                leave(t.b, -i);
            }
        }
        for (idx, t) in self.net.sels.iter().enumerate() {
            if t.a != t.b {
                let i = self.selector_current(idx);
                leave(t.a, i);
                leave(t.b, -i);
            }
        }
        for (idx, t) in self.net.mos.iter().enumerate() {
            if t.d != t.s {
                let i = self.mos_current(idx);
                leave(t.d, i);
                leave(t.s, -i);
            }
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

#[inline]
fn add(values: &mut [f64], slot: usize, x: f64) {
    if slot != NONE {
        values[slot] += x;
    }
}

/// Stamp a conductance g between the ends of a two-terminal element.
#[inline]
fn stamp_g(values: &mut [f64], s: &Slots, g: f64) {
    add(values, s[0], g);
    add(values, s[1], -g);
    add(values, s[2], -g);
    add(values, s[3], g);
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
    stamp_g(values, s, g);
    inject_fixed(rhs, t.a, t.b, g, fixed_v);
    if let End::Free(a) = t.a {
        rhs[a as usize] -= ieq;
    }
    if let End::Free(b) = t.b {
        rhs[b as usize] += ieq;
    }
}
