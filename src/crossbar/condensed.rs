//! Condensed Newton-Krylov solve of nonlinear arrays (issue 9).
//!
//! **Per-crosspoint condensation.** In 1S1R, 1T1R and 2T2R arrays the middle node m of a
//! crosspoint touches only its own two elements (upper: word line r → m; lower: m → bit line
//! c; a transistor's gate sits on a driven word line and draws no current). Given v_r and v_c,
//! KCL at m is one scalar equation I_u(v_r − v_m) = I_l(v_m, v_c), solved locally (safeguarded
//! Newton inside the bracket [min(v_r, v_c), max(v_r, v_c)]: both elements are monotone and pass
//! through the origin). What remains is one element from r to c carrying
//! I(v_r, v_c) with, by the implicit function theorem,
//!   A = ∂I/∂v_r = g_u·g_d / (g_u + g_d),   B = −∂I/∂v_c = −g_u·g_s / (g_u + g_d),
//! (g_u = dI_u/dv, g_d = ∂I_l/∂v_m, g_s = ∂I_l/∂v_c). A ≠ B for a transistor (gm), so the
//! condensed Jacobian J is not symmetric; but it is the symmetric positive definite wire network
//! plus small per-cell terms.
//!
//! **Newton-GMRES on a saved factor.** The preconditioner M is the wire network plus, per
//! crosspoint, the symmetric part of its 2×2 Jacobian block ([[A, −(A+B)/2], [−(A+B)/2, B]]);
//! if that sum is not positive definite (cells' asymmetry not dominated by the wires), the
//! two-terminal conductance (A + B)/2 instead, which always is. M is factorised by sparse
//! Cholesky in the geometric nested-dissection order of the remaining line nodes (the passive
//! path's ordering; symbolic analysis once). Each Newton step solves J·δ = −F inexactly by
//! flexible GMRES (preconditioned directions kept, so no extra solve per step) to a relative
//! residual of 1e-2; convergence is declared on the Newton step (max |δ| ≤ 1e-11·V_scale, as
//! on the direct path), after which the error left is ≤ 1e-2 of that step, so the answer is the
//! exact nodal solution to roundoff. M is refactorised only when GMRES needs many iterations
//! (the cell linearisation has drifted from the one M was built with), so one factor typically
//! serves a whole solve and the following input vectors (warm-started from the previous
//! solution).
//!
//! **Iterative variant** (`Method::Iterative`): M⁻¹ is applied by conjugate gradients
//! preconditioned by exact tridiagonal solves along every word line and every bit line, to a
//! relative residual of 1e-4 (flexible GMRES absorbs the inexactness); no factor is stored.
//!
//! 0T1R and 1S1R arrays use the same machinery (0T1R: no middle node; A = B). A linear
//! array on the iterative path has J = M, so it skips Newton-GMRES: CG solves M·δ = −F
//! directly (`solve_linear`), and its unknowns are numbered in line order.

use faer::Par;
use rayon::prelude::*;

use super::config::{CellKind, Crossbar};
use super::law::{sinh_law, Channel, GMIN_BULK};
use super::network::{Bias, End, Network};
use super::solver::{csc_pattern, Array, Slots, MAX_NEWTON, VABSTOL, VRELTOL};
use super::CrossbarError;
use crate::circuit::matrix::{BlockScratch, FactorError, Ordering, SparseFactor};
use crate::circuit::stamp::{add, conductance, NO_SLOT};

/// GMRES: relative residual reached in every Newton step.
const KRYLOV_RTOL: f64 = 1e-2;
/// Inner CG (iterative path): relative residual of each approximate M⁻¹ application.
const INNER_RTOL: f64 = 1e-4;
const INNER_MAX: usize = 5000;
/// Linear arrays on the iterative path: relative residual of each CG solve of M·δ = −F(x).
/// The residual's 2-norm is dominated by the driver ends (V/R_driver), so one step leaves a
/// far larger relative error on the bit lines (one CG solve to 1e-12: 9e-10 on a 256×256
/// passive array); the second step, on the exactly recomputed residual, takes it to roundoff
/// (there: 9 + 12 CG iterations, within 1e-15 of three steps to 1e-12).
const LINEAR_RTOL: f64 = 1e-8;
const LINEAR_STEPS: usize = 8;
/// GMRES restart length (Krylov vectors kept).
const RESTART: usize = 12;
/// Krylov iterations per Newton step above which M is refactorised for the next step.
const REFACTOR_ITERS: usize = 12;
/// Krylov iterations per Newton step before giving up on the present factor.
const MAX_KRYLOV: usize = 200;
const NO_MID: u32 = u32::MAX;
/// Chord sweeps of a batched solve before a vector is left to Newton-GMRES.
const CHORD_MAX: usize = 40;

pub(crate) enum CondError {
    /// The condensed path does not suit this bias (M not positive definite, GMRES stalled on a
    /// fresh factor, Newton not converged): fall back to Newton on the full system.
    Unsuited,
    Solve(CrossbarError),
}

impl From<CrossbarError> for CondError {
    fn from(e: CrossbarError) -> Self {
        CondError::Solve(e)
    }
}

/// Linearisation of one crosspoint at the present line voltages.
#[derive(Clone, Copy, Default)]
struct Lin {
    /// Middle-node voltage (V); unused without a middle node.
    vm: f64,
    /// Current into the crosspoint at r (A) and out of it at c (A); equal up to the local
    /// solve's roundoff.
    i_r: f64,
    i_c: f64,
    /// ∂I/∂v_r and −∂I/∂v_c (S) of the series pair.
    a: f64,
    b: f64,
    /// Conductances to ground seen at r and at c through the transistor's bulk junctions
    /// (GMIN_BULK at its drain, the middle node, and at its source, c), as in the direct path.
    e_r: f64,
    e_c: f64,
}

pub(crate) struct Condensed {
    /// Condensed unknowns (word- and bit-line nodes).
    n: usize,
    /// Network free index of each condensed unknown.
    free_of: Vec<u32>,
    /// Linear resistors in condensed numbering, (a, b, g): those between two free nodes as
    /// plain indices (no branch on the kind of end in the residual's hot loop), then those
    /// with a fixed end. On the iterative path only the latter: the line segments are
    /// `lines`' `g_next`.
    wires: Vec<(u32, u32, f64)>,
    wires_fixed: Vec<(End, End, f64)>,
    /// Per crosspoint, in the order the loops over them visit (`xk`): word-line end, bit-line
    /// end (condensed numbering), network free index of the middle node (`NO_MID` for 0T1R),
    /// row (for the gate), and its index in the array (i·pcols + j, for the cell's device).
    xr: Vec<End>,
    xc: Vec<End>,
    xm: Vec<u32>,
    xrow: Vec<u32>,
    xk: Vec<u32>,
    col_ptr: Vec<usize>,
    row_idx: Vec<usize>,
    base: Vec<f64>,
    values: Vec<f64>,
    xslots: Vec<Slots>,
    /// Sparse Cholesky of M (direct preconditioner), or `None` on the iterative path.
    chol: Option<SparseFactor>,
    /// Line structure of M for the iterative path (`None` on the direct path).
    lines: Option<Lines>,
    factored: bool,
    lin: Vec<Lin>,
    /// M from two-terminal (A + B)/2 stamps instead of the symmetric part of J (after the
    /// symmetric part failed to be positive definite).
    two_terminal: bool,
    /// Inner CG iterations (iterative path), cumulative.
    pub(crate) inner_iterations: usize,
}

/// Sparse Cholesky of M: the caller's nested-dissection numbering where it has one.
fn build_chol(
    n: usize,
    col_ptr: &[usize],
    row_idx: &[usize],
    nd_ordered: bool,
) -> Result<SparseFactor, CrossbarError> {
    let ord = if nd_ordered {
        Ordering::AsNumbered
    } else {
        Ordering::Amd
    };
    SparseFactor::cholesky(n, col_ptr, row_idx, ord, Par::Seq).map_err(|e| match e {
        FactorError::Symbolic(m) => CrossbarError::Solve(format!("{m} (condensed)")),
        e => CrossbarError::Solve(format!("Cholesky (condensed): {e:?}")),
    })
}

/// The iterative preconditioner: M⁻¹ applied by conjugate gradients on M, preconditioned by
/// exact tridiagonal solves along every word line and every bit line (block Jacobi over lines;
/// the dropped couplings are the cell conductances). Memory is a few vectors instead of a
/// factor. CG runs in line order (every line's nodes contiguous, word lines then bit lines),
/// not in the nested-dissection order of M: the line solves and M·x then stream through
/// memory instead of jumping across it (measured ~6× faster per iteration at 1024×1024).
/// Work is split over fixed chunks and lines, and dot products are summed chunk by chunk in
/// order, so the result is the same bits on any number of threads.
struct Lines {
    /// Line `t` is positions (= condensed nodes) `start[t]..start[t + 1]`.
    start: Vec<usize>,
    /// Wire conductance from each position to the next one on its line (S); 0 at a line's end.
    g_next: Vec<f64>,
    /// Thomas factors per line position: 1/pivot and the eliminated super-diagonal.
    inv_piv: Vec<f64>,
    c_prime: Vec<f64>,
    /// End (exclusive line index) of each group of consecutive lines solved as one task.
    groups: Vec<usize>,
    /// M without the crosspoint couplings is tridiagonal along the lines: per position its
    /// diagonal, and −`g_next` to the next position on its line. The wires' part of the
    /// diagonal (`wire_diag`) is summed once; `factorize` adds the crosspoints'.
    wire_diag: Vec<f64>,
    diag: Vec<f64>,
    /// The word-line–bit-line couplings: every line position is the end of exactly one
    /// crosspoint (no merged nodes on this path), so per position the position at the
    /// crosspoint's other end (itself where that end is fixed) and the coupling there (0 then).
    /// M·x is then one streaming pass over the positions, each gathering one value from the
    /// other line kind.
    partner: Vec<u32>,
    coupling: Vec<f64>,
    /// CG work vectors, kept to avoid reallocating (and faulting in) them.
    work: [Vec<f64>; 3],
}

/// Positions per parallel chunk (fixed, so the summation order does not depend on threads).
const CHUNK: usize = 1 << 14;
/// Lines solved side by side in the line preconditioner.
const LANES: usize = 8;

impl Lines {
    /// The line structure of M straight from the wires and crosspoints (no sparse pattern:
    /// M is never assembled on this path). Fails where M is not tridiagonal along the lines
    /// plus word-line–bit-line couplings (merged lines, a resistor across lines).
    fn build(
        xb: &Crossbar,
        net: &Network,
        n: usize,
        res: impl Iterator<Item = (End, End, f64)>,
        xr: &[End],
        xc: &[End],
    ) -> Result<Lines, CrossbarError> {
        if !(xb.r_row > 0.0 && xb.r_col > 0.0) {
            return Err(CrossbarError::Solve(
                "the iterative path needs wire resistance on both line kinds".into(),
            ));
        }
        let (rows, pcols) = (net.rows, net.pcols);
        let mut start = Vec::with_capacity(rows + pcols + 1);
        start.push(0);
        let mut g_next = Vec::with_capacity(n);
        // CG works in the condensed numbering itself, which on this path is line order
        // (`Condensed::build` numbers the word lines, then the bit lines): the position of
        // node k is k. A node out of that order (merged lines) has no line structure.
        let mut in_order = true;
        let push_line = |g_next: &mut Vec<f64>,
                         start: &mut Vec<usize>,
                         in_order: &mut bool,
                         ends: &mut dyn Iterator<Item = End>,
                         g: f64| {
            for e in ends {
                if let End::Free(k) = e {
                    *in_order &= k as usize == g_next.len();
                    g_next.push(g);
                }
            }
            let len = g_next.len();
            if len > *start.last().expect("non-empty") {
                g_next[len - 1] = 0.0;
                start.push(len);
            }
        };
        for i in 0..rows {
            push_line(
                &mut g_next,
                &mut start,
                &mut in_order,
                &mut (0..pcols).map(|j| xr[i * pcols + j]),
                1.0 / xb.r_row,
            );
        }
        let n_word = g_next.len();
        for j in 0..pcols {
            push_line(
                &mut g_next,
                &mut start,
                &mut in_order,
                &mut (0..rows).map(|i| xc[i * pcols + j]),
                1.0 / xb.r_col,
            );
        }
        if !in_order || g_next.len() != n {
            return Err(CrossbarError::Solve(format!(
                "merged lines or nodes off the lines ({} of {n} nodes in line order): no line \
                 structure for the iterative path",
                g_next.len()
            )));
        }
        // The wires: every resistor between two free nodes must join consecutive positions
        // of one line, one resistor of conductance `g_next` per segment.
        let mut wire_diag = vec![0.0; n];
        let mut wired = vec![false; n];
        let off_lines = || {
            CrossbarError::Solve(
                "a resistor off the lines: no line structure for the iterative path".into(),
            )
        };
        for (a, b, g) in res {
            match (a, b) {
                (End::Free(a), End::Free(b)) => {
                    let (pa, pb) = (a as usize, b as usize);
                    let p = pa.min(pb);
                    if pa.max(pb) != p + 1 || g != g_next[p] || wired[p] {
                        return Err(off_lines());
                    }
                    wired[p] = true;
                    wire_diag[pa] += g;
                    wire_diag[pb] += g;
                }
                (End::Free(a), End::Fixed(_)) | (End::Fixed(_), End::Free(a)) => {
                    wire_diag[a as usize] += g;
                }
                _ => {}
            }
        }
        if g_next.iter().zip(&wired).any(|(&g, &w)| (g != 0.0) != w) {
            return Err(off_lines());
        }
        // Crosspoint couplings: each position's partner across its crosspoint.
        let mut partner: Vec<u32> = (0..n as u32).collect();
        for (&r, &c) in xr.iter().zip(xc) {
            if let (End::Free(a), End::Free(b)) = (r, c) {
                // Distinct lines (checked above): a word-line and a bit-line node.
                let (pa, pb) = (a, b);
                debug_assert!((pa as usize) < n_word && pb as usize >= n_word);
                if partner[pa as usize] != pa || partner[pb as usize] != pb {
                    return Err(CrossbarError::Solve(
                        "a line node at two crosspoints: no line structure for the iterative path"
                            .into(),
                    ));
                }
                partner[pa as usize] = pb;
                partner[pb as usize] = pa;
            }
        }
        let n_lines = start.len() - 1;
        let mut groups = Vec::new();
        for t in 1..=n_lines {
            if t == n_lines || start[t] - start[*groups.last().unwrap_or(&0)] >= CHUNK {
                groups.push(t);
            }
        }
        Ok(Lines {
            groups,
            inv_piv: vec![0.0; n],
            c_prime: vec![0.0; n],
            start,
            g_next,
            wire_diag,
            diag: vec![0.0; n],
            coupling: vec![0.0; n],
            partner,
            work: Default::default(),
        })
    }

    /// Sets M = wires + Σ (A + B)/2 per crosspoint (the two-terminal form) at the
    /// crosspoints' linearisation and does the Thomas factorisation of every line's
    /// tridiagonal block (off-diagonals −g_wire). `cell(k)` gives crosspoint k's bulk
    /// conductances at r and at c and its two-terminal conductance (S). Fails if a pivot is
    /// not positive.
    fn factorize(
        &mut self,
        xr: &[End],
        xc: &[End],
        cell: impl Fn(usize) -> (f64, f64, f64),
    ) -> Result<(), CondError> {
        self.diag.copy_from_slice(&self.wire_diag);
        self.coupling.fill(0.0);
        for k in 0..xr.len() {
            // Per node in crosspoint order: its bulk conductance, then the cell's.
            let (e_r, e_c, g) = cell(k);
            let pr = match xr[k] {
                End::Free(r) => Some(r as usize),
                End::Fixed(_) => None,
            };
            let pc = match xc[k] {
                End::Free(c) => Some(c as usize),
                End::Fixed(_) => None,
            };
            if let Some(p) = pr {
                self.diag[p] += e_r;
            }
            if let Some(p) = pc {
                self.diag[p] += e_c;
            }
            if let Some(p) = pr {
                self.diag[p] += g;
            }
            if let Some(p) = pc {
                self.diag[p] += g;
            }
            if let (Some(pr), Some(pc)) = (pr, pc) {
                self.coupling[pr] = -g;
                self.coupling[pc] = -g;
            }
        }
        for t in 0..self.start.len() - 1 {
            let (a, b) = (self.start[t], self.start[t + 1]);
            // Symmetric tridiagonal: diagonal d_p, off-diagonal e_p = −g_p (p to p + 1).
            // piv_p = d_p − e_{p−1}·c'_{p−1}, c'_p = e_p / piv_p.
            let mut e_c = 0.0;
            for p in a..b {
                let d = self.diag[p];
                let piv = d - e_c;
                if !(piv > 0.0) {
                    return Err(CondError::Unsuited);
                }
                self.inv_piv[p] = 1.0 / piv;
                self.c_prime[p] = -self.g_next[p] / piv;
                e_c = -self.g_next[p] * self.c_prime[p];
            }
        }
        Ok(())
    }

    /// z = P⁻¹ r (line order): independent tridiagonal solves along every line, a group of
    /// whole lines (about CHUNK positions) per task so that short lines do not pay a task
    /// each.
    fn apply(&self, r: &[f64], z: &mut [f64]) {
        let mut parts: Vec<(usize, usize, &mut [f64])> = Vec::with_capacity(self.groups.len());
        let mut rest = z;
        let mut t0 = 0;
        for &t1 in &self.groups {
            let (a, b) = (self.start[t0], self.start[t1]);
            let (head, tail) = rest.split_at_mut(b - a);
            parts.push((t0, t1, head));
            rest = tail;
            t0 = t1;
        }
        parts.into_par_iter().for_each(|(t0, t1, z)| {
            let base = self.start[t0];
            let mut t = t0;
            while t < t1 {
                // LANES lines of equal length at once: their recurrences are independent, so
                // the core overlaps them instead of waiting on one chain (the same operations
                // per line, so the same bits).
                let a = self.start[t];
                let len = self.start[t + 1] - a;
                if t + LANES <= t1
                    && (1..=LANES).all(|l| self.start[t + l] - self.start[t + l - 1] == len)
                {
                    self.thomas_lanes::<LANES>(a, len, r, &mut z[a - base..]);
                    t += LANES;
                    continue;
                }
                self.thomas_lanes::<1>(a, len, r, &mut z[a - base..]);
                t += 1;
            }
        });
    }

    /// Tridiagonal solves of the `L` consecutive lines of length `len` from position `a`,
    /// into `z` (starting at position `a`).
    #[inline(always)]
    fn thomas_lanes<const L: usize>(&self, a: usize, len: usize, r: &[f64], z: &mut [f64]) {
        // Each lane's line as a slice of length `len` (no index checks in the loops).
        fn lane<const L: usize>(v: &[f64], a: usize, len: usize) -> [&[f64]; L] {
            std::array::from_fn(|l| &v[a + l * len..a + (l + 1) * len])
        }
        let (r, inv_piv, g_next, c_prime) = (
            lane::<L>(r, a, len),
            lane::<L>(&self.inv_piv, a, len),
            lane::<L>(&self.g_next, a, len),
            lane::<L>(&self.c_prime, a, len),
        );
        let mut zs = z[..L * len].chunks_exact_mut(len.max(1));
        let z: [&mut [f64]; L] = std::array::from_fn(|_| zs.next().unwrap_or_default());
        // Forward: y_p = (r_p − l_p·y_{p−1}) / piv_p with sub-diagonal l_p = −g_{p−1}.
        let mut y_prev = [0.0; L];
        let mut g_prev = [0.0; L];
        for q in 0..len {
            for l in 0..L {
                let y = (r[l][q] + g_prev[l] * y_prev[l]) * inv_piv[l][q];
                z[l][q] = y;
                y_prev[l] = y;
                g_prev[l] = g_next[l][q];
            }
        }
        // Back: x_p = y_p − c'_p·x_{p+1}.
        let mut x_next = [0.0; L];
        for q in (0..len).rev() {
            for l in 0..L {
                let x = z[l][q] - c_prime[l][q] * x_next[l];
                z[l][q] = x;
                x_next[l] = x;
            }
        }
    }

    /// Adds to `f` the current leaving each position through the wire segments of its line
    /// (A): g·(x_p − x_{p+1}) out of p and into p + 1, segment by segment in line order.
    fn segment_currents(&self, x: &[f64], f: &mut [f64]) {
        for p in 0..x.len().saturating_sub(1) {
            let g = self.g_next[p];
            if g != 0.0 {
                let i = g * (x[p] - x[p + 1]);
                f[p] += i;
                f[p + 1] -= i;
            }
        }
    }

    /// y = M·x (line order); returns x·y (summed as `dot` does).
    fn matvec(&self, x: &[f64], y: &mut [f64]) -> f64 {
        let n = x.len();
        let parts: Vec<f64> = y
            .par_chunks_mut(CHUNK)
            .enumerate()
            .map(|(ch, y)| {
                let o = ch * CHUNK;
                let row = |p: usize| {
                    // Along the line (previous, diagonal, next), then across the crosspoint.
                    let mut acc = 0.0;
                    if p > 0 {
                        acc -= self.g_next[p - 1] * x[p - 1];
                    }
                    acc += self.diag[p] * x[p];
                    if p + 1 < n {
                        acc -= self.g_next[p] * x[p + 1];
                    }
                    acc + self.coupling[p] * x[self.partner[p] as usize]
                };
                // Interior positions [lo, hi) without the end tests, on slices of known
                // length (the same operations in the same order).
                let (lo, hi) = (o.max(1), (o + y.len()).min(n.saturating_sub(1)));
                if lo < hi {
                    let m = hi - lo;
                    let (xs, g) = (&x[lo - 1..hi + 1], &self.g_next[lo - 1..hi]);
                    let (d, c, t) = (
                        &self.diag[lo..hi],
                        &self.coupling[lo..hi],
                        &self.partner[lo..hi],
                    );
                    let ys = &mut y[lo - o..hi - o];
                    for i in 0..m {
                        let mut acc = 0.0;
                        acc -= g[i] * xs[i];
                        acc += d[i] * xs[i + 1];
                        acc -= g[i + 1] * xs[i + 2];
                        ys[i] = acc + c[i] * x[t[i] as usize];
                    }
                }
                for p in (o..lo).chain(hi.max(o)..o + y.len()) {
                    y[p - o] = row(p);
                }
                // x·y of the chunk while it is still in cache.
                x[o..o + y.len()]
                    .iter()
                    .zip(y.iter())
                    .map(|(a, b)| a * b)
                    .sum::<f64>()
            })
            .collect();
        parts.iter().sum()
    }

    /// Solves M·x = b in place (b → x) by CG preconditioned with the line solves,
    /// from x = 0, to ‖r‖ ≤ `rtol`·‖b‖. Returns the iterations.
    fn pcg(&mut self, b: &mut [f64], rtol: f64) -> usize {
        let n = b.len();
        let mut w = std::mem::take(&mut self.work);
        for v in w.iter_mut() {
            v.resize(n, 0.0);
        }
        // b holds the residual r = b − M·x while CG runs, and x at the end. z = P⁻¹r and
        // q = M·p share a buffer: q is dead once r is updated, z once p is.
        let [x, zq, p] = &mut w;
        let r = b;
        let bn = dot(r, r).sqrt();
        let mut it = 0;
        if bn > 0.0 {
            x.fill(0.0);
            self.apply(r, zq);
            p.copy_from_slice(zq);
            let mut rz = dot(r, zq);
            while it < INNER_MAX {
                it += 1;
                let q = &mut *zq;
                let alpha = rz / self.matvec(p, q);
                // r ← r − α·q and x ← x + α·p in one pass, returning r·r.
                let parts: Vec<f64> = r
                    .par_chunks_mut(CHUNK)
                    .zip(x.par_chunks_mut(CHUNK))
                    .zip(q.par_chunks(CHUNK).zip(p.par_chunks(CHUNK)))
                    .map(|((rc, xc), (qc, pc))| {
                        let mut s = 0.0;
                        for (((rk, xk), qk), pk) in rc.iter_mut().zip(xc).zip(qc).zip(pc) {
                            *rk -= alpha * qk;
                            s += *rk * *rk;
                            *xk += alpha * pk;
                        }
                        s
                    })
                    .collect();
                let rr: f64 = parts.iter().sum();
                if rr.sqrt() <= rtol * bn {
                    break;
                }
                let z = &mut *zq;
                self.apply(r, z);
                let rz_new = dot(r, z);
                let beta = rz_new / rz;
                rz = rz_new;
                p.par_chunks_mut(CHUNK)
                    .zip(z.par_chunks(CHUNK))
                    .for_each(|(pc, zc)| {
                        for (pk, zk) in pc.iter_mut().zip(zc) {
                            *pk = zk + beta * *pk;
                        }
                    });
            }
        } else {
            x.fill(0.0);
        }
        r.copy_from_slice(x);
        self.work = w;
        it
    }
}

/// The resistors of `res` between two free nodes, as node indices.
fn free_wires(res: &[(End, End, f64)]) -> Vec<(u32, u32, f64)> {
    res.iter()
        .filter_map(|&(a, b, g)| match (a, b) {
            (End::Free(a), End::Free(b)) => Some((a, b, g)),
            _ => None,
        })
        .collect()
}

/// The resistors of `res` with a fixed end.
fn fixed_wires(res: &[(End, End, f64)]) -> Vec<(End, End, f64)> {
    res.iter()
        .copied()
        .filter(|&(a, b, _)| a.free().is_none() || b.free().is_none())
        .collect()
}

fn to_cond(e: End, cond_of: &[u32]) -> End {
    match e {
        End::Free(k) => End::Free(cond_of[k as usize]),
        f => f,
    }
}

impl Condensed {
    /// `iterative`: precondition with line-preconditioned CG instead of a Cholesky factor.
    pub(crate) fn build(
        xb: &Crossbar,
        net: &Network,
        iterative: bool,
    ) -> Result<Condensed, CrossbarError> {
        let nx = net.rows * net.pcols;
        let mid = net.k == 3;
        // Middle nodes are never merged (only line segments and terminals are), so a free
        // class is a middle node iff it is the class of a raw m node.
        let mut is_mid = vec![false; net.n_free];
        let mut xm = vec![NO_MID; nx];
        if mid {
            for i in 0..net.rows {
                for j in 0..net.pcols {
                    match net.class_of[net.m(i, j)] {
                        End::Free(k) => {
                            is_mid[k as usize] = true;
                            xm[i * net.pcols + j] = k;
                        }
                        End::Fixed(_) => {
                            return Err(CrossbarError::Solve(
                                "a middle node is fixed; condensation does not apply".into(),
                            ))
                        }
                    }
                }
            }
        }
        let mut cond_of = vec![u32::MAX; net.n_free];
        let mut free_of = Vec::with_capacity(net.n_free);
        let mut number = |e: End| {
            if let End::Free(k) = e {
                if !is_mid[k as usize] && cond_of[k as usize] == u32::MAX {
                    cond_of[k as usize] = free_of.len() as u32;
                    free_of.push(k);
                }
            }
        };
        if iterative {
            // Line order (word lines, then bit lines): CG never uses the nested-dissection
            // order, and in line order building M and its line structure walks memory in
            // sequence instead of jumping across it.
            for i in 0..net.rows {
                for j in 0..net.pcols {
                    number(net.class_of[net.r(i, j)]);
                }
            }
            for j in 0..net.pcols {
                for i in 0..net.rows {
                    number(net.class_of[net.c(i, j)]);
                }
            }
        }
        for k in 0..net.n_free {
            number(End::Free(k as u32));
        }
        let n = free_of.len();
        let cond_res = net
            .res
            .iter()
            .map(|r| (to_cond(r.a, &cond_of), to_cond(r.b, &cond_of), r.g));
        let mut xr = Vec::with_capacity(nx);
        let mut xc = Vec::with_capacity(nx);
        let mut xrow = Vec::with_capacity(nx);
        for i in 0..net.rows {
            for j in 0..net.pcols {
                xr.push(to_cond(net.class_of[net.r(i, j)], &cond_of));
                xc.push(to_cond(net.class_of[net.c(i, j)], &cond_of));
                xrow.push(i as u32);
            }
        }
        // On the direct path the condensed numbering is the factor's nested-dissection order,
        // in which each small patch of the array is contiguous: visiting the crosspoints (and
        // below, the wires) in the order of their nodes there keeps the per-vector gathers and
        // scatters of the residual within a few cache lines instead of jumping across the
        // whole vector (the iterative path numbers along the lines, and keeps the array order).
        let pos = |e: End| e.free().unwrap_or(usize::MAX);
        let mut xk: Vec<u32> = (0..nx as u32).collect();
        if !iterative {
            xk.sort_by_key(|&k| pos(xr[k as usize]).min(pos(xc[k as usize])));
            xr = xk.iter().map(|&k| xr[k as usize]).collect();
            xc = xk.iter().map(|&k| xc[k as usize]).collect();
            xrow = xk.iter().map(|&k| xrow[k as usize]).collect();
            xm = xk.iter().map(|&k| xm[k as usize]).collect();
        }

        if iterative {
            let lines = Lines::build(xb, net, n, cond_res.clone(), &xr, &xc)?;
            // Every resistor between two free nodes is a line segment (checked by
            // `Lines::build`).
            let res: Vec<(End, End, f64)> = cond_res
                .filter(|&(a, b, _)| a.free().is_none() || b.free().is_none())
                .collect();
            return Ok(Condensed {
                n,
                free_of,
                wires: free_wires(&res),
                wires_fixed: fixed_wires(&res),
                xr,
                xc,
                xm,
                xrow,
                xk,
                values: Vec::new(),
                base: Vec::new(),
                col_ptr: Vec::new(),
                row_idx: Vec::new(),
                xslots: Vec::new(),
                chol: None,
                lines: Some(lines),
                factored: false,
                // Allocated by the first Newton solve: a linear array never linearises.
                lin: Vec::new(),
                two_terminal: true,
                inner_iterations: 0,
            });
        }

        let mut res: Vec<(End, End, f64)> = cond_res.collect();
        res.sort_by_key(|&(a, b, _)| pos(a).min(pos(b)));
        // Upper-triangle pattern of M: wires and one r–c coupling per crosspoint.
        let mut pairs: Vec<(u32, u32)> = Vec::with_capacity(res.len() + nx);
        let mut add = |a: End, b: End| {
            if let (End::Free(a), End::Free(b)) = (a, b) {
                pairs.push((a, b));
            }
        };
        for &(a, b, _) in &res {
            add(a, b);
        }
        for k in 0..nx {
            add(xr[k], xc[k]);
        }
        let (col_ptr, row_idx) = csc_pattern(n, &pairs, true);
        drop(pairs);
        if row_idx.len() >= NO_SLOT as usize {
            return Err(CrossbarError::Solve(format!(
                "{} matrix entries: more than the 2^32 − 1 slots a stamp can address",
                row_idx.len()
            )));
        }
        let slot = |r: End, c: End| -> u32 {
            match (r, c) {
                (End::Free(r), End::Free(c)) if r <= c => {
                    let (r, c) = (r as usize, c as usize);
                    let s = &row_idx[col_ptr[c]..col_ptr[c + 1]];
                    (col_ptr[c] + s.binary_search(&r).expect("entry in pattern")) as u32
                }
                _ => NO_SLOT,
            }
        };
        let slots2 = |a: End, b: End| [slot(a, a), slot(a, b), slot(b, a), slot(b, b)];
        let mut base = vec![0.0; row_idx.len()];
        for &(a, b, g) in &res {
            conductance(&mut base, &slots2(a, b), g);
        }
        let xslots: Vec<Slots> = (0..nx).map(|k| slots2(xr[k], xc[k])).collect();
        let chol = build_chol(n, &col_ptr, &row_idx, net.nd_ordered)?;
        Ok(Condensed {
            n,
            free_of,
            wires: free_wires(&res),
            wires_fixed: fixed_wires(&res),
            xr,
            xc,
            xm,
            xrow,
            xk,
            values: base.clone(),
            base,
            col_ptr,
            row_idx,
            xslots,
            chol: Some(chol),
            lines: None,
            factored: false,
            lin: vec![Lin::default(); nx],
            two_terminal: false,
            inner_iterations: 0,
        })
    }

    /// Whether M⁻¹ is applied by line-preconditioned CG (no factor).
    pub(crate) fn is_iterative(&self) -> bool {
        self.lines.is_some()
    }

    #[inline]
    fn volt(e: End, x: &[f64], fixed_v: &[f64]) -> f64 {
        match e {
            End::Free(k) => x[k as usize],
            End::Fixed(f) => fixed_v[f as usize],
        }
    }

    /// Linearises every crosspoint at line voltages `x` (condensed numbering), solving each
    /// middle node locally, warm-started from `self.lin[k].vm`. Parallel over crosspoints; each
    /// result depends only on its own inputs, so the outcome does not depend on thread count.
    fn linearise(&mut self, arr: &Array, x: &[f64]) {
        let fixed_v = &arr.fixed_v;
        let cells = Crosspoints::new(arr.crossbar(), &arr.bias.gates);
        let (xr, xc, xrow, xk) = (&self.xr, &self.xc, &self.xrow, &self.xk);
        self.lin.par_iter_mut().enumerate().for_each(|(k, lin)| {
            let vr = Self::volt(xr[k], x, fixed_v);
            let vc = Self::volt(xc[k], x, fixed_v);
            *lin = cells.lin(xrow[k], xk[k] as usize, vr, vc, lin.vm);
        });
    }

    /// KCL residual F(x): current leaving each condensed node (A).
    fn residual(&self, x: &[f64], fixed_v: &[f64], f: &mut [f64]) {
        self.wire_residual(x, fixed_v, f);
        for (k, lin) in self.lin.iter().enumerate() {
            if let End::Free(r) = self.xr[k] {
                f[r as usize] += lin.i_r;
            }
            if let End::Free(c) = self.xc[k] {
                f[c as usize] -= lin.i_c;
            }
        }
    }

    /// `residual` of a linear array, with every cell's current from its conductance
    /// (no linearisation stored).
    fn linear_residual(&self, xb: &Crossbar, x: &[f64], fixed_v: &[f64], f: &mut [f64]) {
        self.wire_residual(x, fixed_v, f);
        for (k, (&r, &c)) in self.xr.iter().zip(&self.xc).enumerate() {
            let i = xb
                .cell_iv(
                    self.xk[k] as usize,
                    Self::volt(r, x, fixed_v) - Self::volt(c, x, fixed_v),
                )
                .0;
            if let End::Free(r) = r {
                f[r as usize] += i;
            }
            if let End::Free(c) = c {
                f[c as usize] -= i;
            }
        }
    }

    /// F(x) of the wires alone: the current leaving each condensed node through the linear
    /// resistors (A); `f` is overwritten.
    fn wire_residual(&self, x: &[f64], fixed_v: &[f64], f: &mut [f64]) {
        self.wire_currents(x, |k| fixed_v[k as usize], f);
    }

    /// The wires' currents leaving each condensed node at `x`, fixed class `k` at `fixed(k)`
    /// (A); `f` is overwritten.
    fn wire_currents(&self, x: &[f64], fixed: impl Fn(u32) -> f64, f: &mut [f64]) {
        f.fill(0.0);
        if let Some(lines) = &self.lines {
            lines.segment_currents(x, f);
        }
        for &(a, b, g) in &self.wires {
            let (a, b) = (a as usize, b as usize);
            let i = g * (x[a] - x[b]);
            f[a] += i;
            f[b] -= i;
        }
        let v = |e: End| match e {
            End::Free(k) => x[k as usize],
            End::Fixed(k) => fixed(k),
        };
        for &(a, b, g) in &self.wires_fixed {
            let i = g * (v(a) - v(b));
            if let End::Free(a) = a {
                f[a as usize] += i;
            }
            if let End::Free(b) = b {
                f[b as usize] -= i;
            }
        }
    }

    /// The crosspoints' part of the residual for one input vector of a batch (fixed voltages
    /// `fixed_v`, word-line gates `gates`), added to `f` in one sequential pass: each middle
    /// node takes one Newton step from `vm` (`Local::OneStep`) and is written back there, only
    /// its currents are kept, and its sensitivities (∂v_m/∂v_r, ∂v_m/∂v_c) go to `sens`. The
    /// batch runs its vectors in parallel instead of the crosspoints, so the sums are in the
    /// same order on any number of threads.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn cell_residual(
        &self,
        xb: &Crossbar,
        fixed_v: &[f64],
        gates: &[f64],
        x: &[f64],
        vm: &mut [f64],
        f: &mut [f64],
        mut sens: impl FnMut(usize, [f64; 2]),
    ) {
        let cells = Crosspoints::new(xb, gates);
        for (k, vmk) in vm.iter_mut().enumerate() {
            let (r, c) = (self.xr[k], self.xc[k]);
            let vr = Self::volt(r, x, fixed_v);
            let vc = Self::volt(c, x, fixed_v);
            let (lin, dvm) = cells.point(
                self.xrow[k],
                self.xk[k] as usize,
                vr,
                vc,
                *vmk,
                Local::OneStep,
            );
            *vmk = lin.vm;
            sens(k, dvm);
            if let End::Free(r) = r {
                f[r as usize] += lin.i_r;
            }
            if let End::Free(c) = c {
                f[c as usize] -= lin.i_c;
            }
        }
    }

    /// y = J·x (condensed Jacobian at the present linearisation).
    fn apply_j(&self, x: &[f64], y: &mut [f64]) {
        // The wires are linear: their part of J·x is their currents with the fixed ends at 0.
        self.wire_currents(x, |_| 0.0, y);
        let v = |e: End| match e {
            End::Free(k) => x[k as usize],
            End::Fixed(_) => 0.0,
        };
        for (k, lin) in self.lin.iter().enumerate() {
            let (r, c) = (self.xr[k], self.xc[k]);
            let d = lin.a * v(r) - lin.b * v(c);
            if let End::Free(r) = r {
                y[r as usize] += d + lin.e_r * v(End::Free(r));
            }
            if let End::Free(c) = c {
                y[c as usize] += lin.e_c * v(End::Free(c)) - d;
            }
        }
    }

    /// Assembles and factorises M = wires + Σ (A + B)/2 per crosspoint.
    fn factorize(&mut self) -> Result<(), CondError> {
        self.factored = false;
        if let Some(lines) = &mut self.lines {
            // Always the two-terminal form: CG needs M symmetric.
            let lin = &self.lin;
            lines.factorize(&self.xr, &self.xc, |k| {
                let l = &lin[k];
                (l.e_r, l.e_c, 0.5 * (l.a + l.b))
            })?;
            self.factored = true;
            return Ok(());
        }
        self.values.copy_from_slice(&self.base);
        for (k, lin) in self.lin.iter().enumerate() {
            let s = &self.xslots[k];
            add(&mut self.values, s[0], lin.e_r);
            add(&mut self.values, s[3], lin.e_c);
            if self.two_terminal {
                conductance(&mut self.values, s, 0.5 * (lin.a + lin.b));
            } else {
                let off = -0.5 * (lin.a + lin.b);
                add(&mut self.values, s[0], lin.a);
                add(&mut self.values, s[1], off);
                add(&mut self.values, s[2], off);
                add(&mut self.values, s[3], lin.b);
            }
        }
        let chol = self.chol.as_mut().expect("direct or iterative");
        // Sequential: faer's parallel supernodal factorisation (Par::rayon) took 0.7–0.8 s
        // instead of 0.3 s on the 512×512 1T1R factor on 2 cores.
        let r = chol.factorize(&self.col_ptr, &self.row_idx, &self.values, Par::Seq);
        match r {
            Ok(_) => {
                self.factored = true;
                Ok(())
            }
            // The symmetric part of J is positive definite when the wires dominate the cells'
            // asymmetry; otherwise symmetrise per crosspoint, which always is.
            Err(_) if !self.two_terminal => {
                self.two_terminal = true;
                self.factorize()
            }
            Err(_) => Err(CondError::Unsuited),
        }
    }

    /// z ← M⁻¹ z: the Cholesky factor, or line-preconditioned CG to `INNER_RTOL`.
    fn precondition(&mut self, z: &mut [f64]) {
        if let Some(lines) = &mut self.lines {
            let it = lines.pcg(z, INNER_RTOL);
            self.inner_iterations += it;
            return;
        }
        let chol = self.chol.as_mut().expect("direct or iterative");
        chol.solve_in_place(z, 1, Par::Seq);
    }

    /// Right-preconditioned restarted GMRES for J·δ = b, from δ = 0. Returns (iterations,
    /// converged to ‖b − J·δ‖ ≤ rtol·‖b‖).
    fn gmres(&mut self, b: &[f64], delta: &mut [f64], rtol: f64) -> (usize, bool) {
        let n = self.n;
        delta.fill(0.0);
        let bnorm = norm(b);
        if bnorm == 0.0 {
            return (0, true);
        }
        let target = rtol * bnorm;
        let mut basis: Vec<Vec<f64>> = Vec::with_capacity(RESTART + 1);
        // Preconditioned directions M⁻¹ v_j, kept so the update needs no further solve.
        let mut zs: Vec<Vec<f64>> = Vec::with_capacity(RESTART);
        let mut h = vec![vec![0.0; RESTART]; RESTART + 1];
        let (mut cs, mut sn) = (vec![0.0; RESTART], vec![0.0; RESTART]);
        let mut g = vec![0.0; RESTART + 1];
        let mut w = vec![0.0; n];
        let mut z = vec![0.0; n];
        let mut r = b.to_vec();
        let mut total = 0;
        loop {
            // r = b − J·δ
            if total > 0 {
                self.apply_j(delta, &mut w);
                for i in 0..n {
                    r[i] = b[i] - w[i];
                }
            }
            let beta = norm(&r);
            if beta <= target {
                return (total, true);
            }
            if total >= MAX_KRYLOV {
                return (total, false);
            }
            basis.clear();
            zs.clear();
            basis.push(r.iter().map(|x| x / beta).collect());
            g.fill(0.0);
            g[0] = beta;
            let mut j_used = 0;
            for j in 0..RESTART {
                z.copy_from_slice(&basis[j]);
                self.precondition(&mut z);
                self.apply_j(&z, &mut w);
                zs.push(z.clone());
                // Modified Gram-Schmidt.
                for (i, vi) in basis.iter().enumerate() {
                    let hij = dot(&w, vi);
                    h[i][j] = hij;
                    for (wk, vk) in w.iter_mut().zip(vi) {
                        *wk -= hij * vk;
                    }
                }
                let hn = norm(&w);
                h[j + 1][j] = hn;
                // Apply previous rotations, then a new one zeroing h[j+1][j].
                for i in 0..j {
                    let t = cs[i] * h[i][j] + sn[i] * h[i + 1][j];
                    h[i + 1][j] = -sn[i] * h[i][j] + cs[i] * h[i + 1][j];
                    h[i][j] = t;
                }
                let den = (h[j][j] * h[j][j] + h[j + 1][j] * h[j + 1][j]).sqrt();
                let (c, s) = if den == 0.0 {
                    (1.0, 0.0)
                } else {
                    (h[j][j] / den, h[j + 1][j] / den)
                };
                cs[j] = c;
                sn[j] = s;
                h[j][j] = den;
                h[j + 1][j] = 0.0;
                g[j + 1] = -s * g[j];
                g[j] *= c;
                total += 1;
                j_used = j + 1;
                if g[j + 1].abs() <= target || hn == 0.0 || total >= MAX_KRYLOV {
                    break;
                }
                basis.push(w.iter().map(|x| x / hn).collect());
            }
            // y = H⁻¹ g (upper triangular), δ += M⁻¹ V y = Z y.
            let mut y = vec![0.0; j_used];
            for i in (0..j_used).rev() {
                let mut t = g[i];
                for k in i + 1..j_used {
                    t -= h[i][k] * y[k];
                }
                y[i] = if h[i][i] != 0.0 { t / h[i][i] } else { 0.0 };
            }
            for (yi, zi) in y.iter().zip(&zs) {
                for (d, zk) in delta.iter_mut().zip(zi) {
                    *d += yi * zk;
                }
            }
        }
    }

    /// The start of lock-step chord sweeps (`chord_batch`): every line node at 0 V, the middle
    /// nodes solved there, and M factorised at that linearisation under `arr`'s bias. Fixed,
    /// so a batch's results do not depend on what the array solved before. `None` on the
    /// iterative path or where M is not positive definite there.
    pub(crate) fn chord_start(&mut self, arr: &Array) -> Result<Option<Vec<f64>>, CrossbarError> {
        if self.lines.is_some() {
            return Ok(None);
        }
        let x = vec![0.0; self.n];
        for lin in &mut self.lin {
            lin.vm = 0.0;
        }
        self.linearise(arr, &x);
        match self.factorize() {
            Ok(()) => {}
            Err(CondError::Unsuited) => return Ok(None),
            Err(CondError::Solve(e)) => return Err(e),
        }
        let mut v0 = vec![0.0; arr.v.len()];
        for (lin, &m) in self.lin.iter().zip(&self.xm) {
            if m != NO_MID {
                v0[m as usize] = lin.vm;
            }
        }
        Ok(Some(v0))
    }

    /// Newton-GMRES to the exact solution; writes every node voltage (middle nodes included)
    /// into `arr.v`.
    pub(crate) fn solve(&mut self, arr: &mut Array) -> Result<(), CondError> {
        if self.lines.is_some() && arr.is_linear() {
            return self.solve_linear(arr);
        }
        let n = self.n;
        let vscale = arr.v_scale();
        let mut x: Vec<f64> = self.free_of.iter().map(|&k| arr.v[k as usize]).collect();
        if self.lin.len() != self.xr.len() {
            self.lin = vec![Lin::default(); self.xr.len()];
        }
        for (k, lin) in self.lin.iter_mut().enumerate() {
            if self.xm[k] != NO_MID {
                lin.vm = arr.v[self.xm[k] as usize];
            }
        }
        let mut f = vec![0.0; n];
        let mut delta = vec![0.0; n];
        let mut refactor = !self.factored;
        let (mut krylov, mut factorizations) = (0usize, 0usize);
        // Not converged in MAX_NEWTON steps: the direct path (and its error) decides.
        let mut result = Err(CondError::Unsuited);
        let mut it = 0;
        while it < MAX_NEWTON {
            it += 1;
            self.linearise(arr, &x);
            self.residual(&x, &arr.fixed_v, &mut f);

            for fi in f.iter_mut() {
                *fi = -*fi;
            }
            let fresh = refactor;
            if refactor {
                self.factorize()?;
                factorizations += 1;
                refactor = false;
            }
            let (k, ok) = self.gmres(&f, &mut delta, KRYLOV_RTOL);

            krylov += k;
            if !ok {
                if fresh {
                    // Even a fresh M does not precondition J well enough (nearly floating
                    // lines): leave it to the direct path.
                    result = Err(CondError::Unsuited);
                    break;
                }
                // A stale factor: refactorise at this linearisation and redo the step.
                refactor = true;
                it -= 1;
                continue;
            }
            if k > REFACTOR_ITERS {
                refactor = true;
            }
            let dmax = delta.iter().fold(0.0f64, |m, d| m.max(d.abs()));
            if !dmax.is_finite() {
                result = Err(CondError::Solve(CrossbarError::Solve(format!(
                    "Newton diverged (non-finite step) at iteration {it}"
                ))));
                break;
            }
            let limited = dmax > vscale;
            let a = if limited { vscale / dmax } else { 1.0 };
            for (xi, d) in x.iter_mut().zip(&delta) {
                *xi += a * d;
            }
            if !limited && dmax <= VRELTOL * vscale + VABSTOL {
                result = Ok(());
                break;
            }
        }
        // Middle nodes consistent with the final line voltages.
        self.linearise(arr, &x);
        for (c, &k) in self.free_of.iter().enumerate() {
            arr.v[k as usize] = x[c];
        }
        for (k, lin) in self.lin.iter().enumerate() {
            if self.xm[k] != NO_MID {
                arr.v[self.xm[k] as usize] = lin.vm;
            }
        }
        arr.last_iterations = it;
        arr.last_krylov_iterations = krylov;
        arr.last_factorizations = factorizations;
        if result.is_err() {
            arr.v.fill(0.0);
        }
        result
    }
}

impl Condensed {
    /// A linear array on the iterative path: J = M exactly (the cells are fixed conductances,
    /// A = B = G), so Newton-GMRES is not needed: steps δ = M⁻¹(−F(x)) by line-preconditioned
    /// CG to a relative residual of `LINEAR_RTOL`, each on the exactly recomputed residual. As
    /// on the Newton path the error left after a step is taken to be that fraction of it, so
    /// the solve ends when LINEAR_RTOL·max |δ| ≤ VRELTOL·V_scale + VABSTOL (normally the
    /// second step). M is refactorised every call (the cells may have changed since, and M
    /// must be J).
    fn solve_linear(&mut self, arr: &mut Array) -> Result<(), CondError> {
        let n = self.n;
        let vscale = arr.v_scale();
        let mut x: Vec<f64> = self.free_of.iter().map(|&k| arr.v[k as usize]).collect();
        let mut f = vec![0.0; n];
        // M = J: the cells' conductances, the same at every voltage (no bulk junctions).
        let xb = arr.crossbar();
        let lines = self.lines.as_mut().expect("iterative path");
        let xk = &self.xk;
        lines.factorize(&self.xr, &self.xc, |k| {
            (0.0, 0.0, xb.cell_iv(xk[k] as usize, 0.0).1)
        })?;
        self.factored = true;
        let mut result = Err(CondError::Unsuited);
        let (mut it, mut inner) = (0, 0);
        while it < LINEAR_STEPS {
            it += 1;
            self.linear_residual(arr.crossbar(), &x, &arr.fixed_v, &mut f);
            for fi in f.iter_mut() {
                *fi = -*fi;
            }
            let lines = self.lines.as_mut().expect("iterative path");
            let k = lines.pcg(&mut f, LINEAR_RTOL);
            inner += k;
            if k >= INNER_MAX {
                break;
            }
            let dmax = f.iter().fold(0.0f64, |m, d| m.max(d.abs()));
            if !dmax.is_finite() {
                result = Err(CondError::Solve(CrossbarError::Solve(format!(
                    "non-finite step of the linear solve at step {it}"
                ))));
                break;
            }
            let a = if dmax > vscale { vscale / dmax } else { 1.0 };
            for (xi, d) in x.iter_mut().zip(&f) {
                *xi += a * d;
            }
            if a == 1.0 && LINEAR_RTOL * dmax <= VRELTOL * vscale + VABSTOL {
                result = Ok(());
                break;
            }
        }
        self.inner_iterations += inner;
        for (c, &k) in self.free_of.iter().enumerate() {
            arr.v[k as usize] = x[c];
        }
        arr.last_iterations = it;
        arr.last_krylov_iterations = inner;
        arr.last_factorizations = 1;
        if result.is_err() {
            arr.v.fill(0.0);
        }
        result
    }

    /// Batched input vectors in lock-step on the saved factor: chord iterations
    /// x ← x + M⁻¹·(−F(x)) for every vector at once, so each sweep is one multi-column
    /// triangular solve (the factor read once for the whole block) instead of one solve per
    /// vector and Krylov step. Every vector starts from `v0` (`chord_start`), so each result
    /// depends only on its own bias and `v0`, not on the order or the thread count. Between
    /// the solves the vectors run in parallel, each evaluating its crosspoints and summing its
    /// residual sequentially (`cell_residual`), so every vector comes out in the same bits on
    /// any number of threads. F(x) = 0 is the fixed point, so the
    /// answer is the exact nodal solution. The chord iteration contracts linearly: with ρ the
    /// larger of the last two ratios of successive steps, the error left after a step of
    /// max |δ| is ≤ ρ/(1 − ρ)·max |δ|, and a vector is converged once twice that bound is within
    /// `KRYLOV_RTOL` of the Newton tolerance, the error the Newton-GMRES path leaves (a Newton
    /// step within the tolerance, solved to that relative residual). After each step the
    /// middle nodes move by their first-order response to it (`predict_middle_nodes`), so each
    /// starts the next sweep within second order of its answer, and a sweep takes one Newton
    /// step per middle node (`Local::OneStep`) instead of solving it to roundoff: its error
    /// squares from sweep to sweep, faster than the lines' linear contraction, and the
    /// currents carried to first order make the lines' residual exact to second order in it.
    /// So the sweep count is unchanged, and the final pass below solves every middle node to
    /// roundoff at the final line voltages. On 64 vectors at 512×512 1T1R this took the local
    /// evaluations per crosspoint and vector from 12.3 to 7 (array and zero-wire reference
    /// together; 18.8 before the prediction). A vector that does not
    /// contract by at least half per sweep is left for the Newton-GMRES path (see
    /// `chord_solution`); so is every vector when the cells have control gates
    /// (`Crossbar::cg`, set per bias by `Array::set_bias`). The results stay in `pool`.
    pub(crate) fn chord_batch(
        &mut self,
        arr: &mut Array,
        biases: &[Bias],
        v0: &[f64],
        pool: &mut ChordPool,
    ) -> Result<(), CrossbarError> {
        let nb = biases.len();
        pool.len = 0;
        if !self.factored || self.lines.is_some() || nb == 0 || !arr.crossbar().cg.is_empty() {
            return Ok(());
        }
        let n = self.n;
        // The vectors' buffers are reused from chunk to chunk of a batch: every one is
        // overwritten below, so only the first chunk pays for fresh pages.
        while pool.vs.len() < nb {
            pool.vs.push(ChordVector::default());
        }
        pool.len = nb;
        for (k, (b, c)) in biases.iter().zip(&mut pool.vs).enumerate() {
            arr.set_bias(b)?;
            c.k = k;
            c.fixed_v.clone_from(&arr.fixed_v);
            c.tol = VRELTOL * arr.v_scale() + VABSTOL;
            c.vscale = arr.v_scale();
            c.last = f64::INFINITY;
            c.rho_prev = 0.0;
            c.it = 0;
            c.state = Chord::Running;
        }
        let vs = &mut pool.vs[..nb];
        // The start, in parallel: the first chunk's buffers are fresh pages, and faulting
        // them in is a good part of its set-up.
        let this = &*self;
        vs.par_iter_mut().for_each(|c| {
            c.x.clear();
            c.x.extend(this.free_of.iter().map(|&i| v0[i as usize]));
            c.vm.clear();
            c.vm.extend(
                this.xm
                    .iter()
                    .map(|&m| if m != NO_MID { v0[m as usize] } else { 0.0 }),
            );
            c.sens.clear();
            c.sens.resize(this.xm.len(), [0.0; 2]);
        });
        let xb = arr.crossbar();
        // The first sweep starts every vector at x0, where its crosspoints see the same
        // voltages in every vector (unless a crosspoint touches a driven node directly or the
        // gates differ): their currents and middle nodes are then computed once, and each
        // vector adds only its own wires' residual.
        let shared_start = self.xr.iter().chain(&self.xc).all(|e| e.free().is_some())
            && biases.iter().all(|b| b.gates == biases[0].gates);
        let mut cells0 = Vec::new();
        if shared_start {
            cells0 = vec![0.0; n];
            let (first, rest) = vs.split_first_mut().expect("nb > 0");
            let ChordVector {
                x,
                vm,
                sens,
                fixed_v,
                ..
            } = first;
            self.cell_residual(xb, fixed_v, &biases[0].gates, x, vm, &mut cells0, |k, d| {
                sens[k] = [d[0] as f32, d[1] as f32]
            });
            for c in rest {
                c.vm.copy_from_slice(&first.vm);
                c.sens.copy_from_slice(&first.sens);
            }
        }
        if n == 0 {
            // Every line node driven directly: only the middle nodes are unknown (below).
            for c in vs.iter_mut() {
                c.state = Chord::Converged;
                c.it = 1;
            }
        }
        if pool.block.len() < n * nb {
            // Zeroed by the allocator (untouched pages), so faulted in by the first sweep's
            // parallel residuals rather than here on one thread.
            pool.block = vec![0.0; n * nb];
        }
        let block = &mut pool.block;
        // The sweeps' M⁻¹ in single precision (see `SparseFactor::solve_blocks_single`).
        self.chol.as_mut().expect("direct path").round_to_single();
        for it in (1..=CHORD_MAX).take_while(|_| n > 0) {
            let mut act: Vec<&mut ChordVector> = vs
                .iter_mut()
                .filter(|c| c.state == Chord::Running)
                .collect();
            if act.is_empty() {
                break;
            }
            let m = act.len();
            let this = &*self;
            act.par_iter_mut()
                .zip(block.par_chunks_mut(n))
                .for_each(|(c, f)| {
                    if it == 1 && shared_start {
                        this.wire_residual(&c.x, &c.fixed_v, f);
                        for (fi, ci) in f.iter_mut().zip(&cells0) {
                            *fi = -(*fi + ci);
                        }
                        return;
                    }
                    let gates = &biases[c.k].gates;
                    let ChordVector {
                        x,
                        vm,
                        sens,
                        fixed_v,
                        ..
                    } = &mut **c;
                    this.wire_residual(x, fixed_v, f);
                    this.cell_residual(xb, fixed_v, gates, x, vm, f, |k, d| {
                        sens[k] = [d[0] as f32, d[1] as f32]
                    });
                    for fi in f.iter_mut() {
                        *fi = -*fi;
                    }
                });
            // Two halves of the block solved side by side (the split depends only on m).
            let chol = self.chol.as_ref().expect("direct path");
            let h = m.div_ceil(2);
            let (b1, b2) = block[..n * m].split_at_mut(n * h);
            let [s1, s2] = &mut pool.scratch;
            chol.solve_blocks_single(vec![(b1, h, s1), (b2, m - h, s2)]);
            act.par_iter_mut()
                .zip(block.par_chunks(n))
                .for_each(|(c, d)| {
                    if let Some(a) = c.step(it, d) {
                        this.predict_middle_nodes(c, a, d);
                    }
                });
        }
        // Middle nodes consistent with the final line voltages.
        let this = &*self;
        vs.par_iter_mut()
            .filter(|c| c.state == Chord::Converged)
            .for_each(|c| {
                let cells = Crosspoints::new(xb, &biases[c.k].gates);
                for (k, vmk) in c.vm.iter_mut().enumerate() {
                    let vr = Self::volt(this.xr[k], &c.x, &c.fixed_v);
                    let vc = Self::volt(this.xc[k], &c.x, &c.fixed_v);
                    *vmk = cells
                        .lin(this.xrow[k], this.xk[k] as usize, vr, vc, *vmk)
                        .vm;
                }
            });
        Ok(())
    }

    /// Moves `c`'s middle nodes by their first-order response to the line step `a·d`.
    fn predict_middle_nodes(&self, c: &mut ChordVector, a: f64, d: &[f64]) {
        let at = |e: End| match e {
            End::Free(i) => a * d[i as usize],
            End::Fixed(_) => 0.0,
        };
        for (k, (vm, s)) in c.vm.iter_mut().zip(&c.sens).enumerate() {
            *vm += s[0] as f64 * at(self.xr[k]) + s[1] as f64 * at(self.xc[k]);
        }
    }

    /// Vector `k` of the last `chord_batch`: its node voltages written into `v` (the array's
    /// unknowns) and its sweep count, or `None` if it did not converge (left to Newton-GMRES).
    pub(crate) fn chord_solution(
        &self,
        pool: &ChordPool,
        k: usize,
        v: &mut [f64],
    ) -> Option<usize> {
        let c = pool.vs[..pool.len].get(k)?;
        if c.state != Chord::Converged {
            return None;
        }
        v.fill(0.0);
        for (xc, &node) in c.x.iter().zip(&self.free_of) {
            v[node as usize] = *xc;
        }
        for (&m, &vm) in self.xm.iter().zip(&c.vm) {
            if m != NO_MID {
                v[m as usize] = vm;
            }
        }
        Some(c.it)
    }
}

/// Buffers of `Condensed::chord_batch`, kept from one chunk of a batch to the next.
#[derive(Default)]
pub(crate) struct ChordPool {
    vs: Vec<ChordVector>,
    /// Vectors of the last chunk.
    len: usize,
    /// Residuals and steps, one column of n per vector.
    block: Vec<f64>,
    /// Scratch of the two halves of `block` solved side by side.
    scratch: [BlockScratch; 2],
}

#[derive(Clone, Copy, PartialEq, Eq, Default)]
enum Chord {
    #[default]
    Running,
    Converged,
    /// Not contracting by at least half per sweep: left to Newton-GMRES.
    Stalled,
}

/// One input vector of `Condensed::chord_batch`.
#[derive(Default)]
struct ChordVector {
    /// Index in the batch.
    k: usize,
    /// Line voltages (condensed numbering) and middle nodes per crosspoint (V).
    x: Vec<f64>,
    vm: Vec<f64>,
    /// ∂v_m/∂v_r and ∂v_m/∂v_c per crosspoint from the last evaluation: after each step the
    /// middle nodes move by their first-order prediction, so the next local solve starts
    /// within second order of its answer (one Newton step fewer; single precision is ample
    /// for a warm start, and the local solve still converges to roundoff).
    sens: Vec<[f32; 2]>,
    fixed_v: Vec<f64>,
    /// Newton tolerance and step limit of this bias (V).
    tol: f64,
    vscale: f64,
    /// Last step's max |δ| (V) and the contraction measured before it.
    last: f64,
    rho_prev: f64,
    /// Sweeps done.
    it: usize,
    state: Chord,
}

impl ChordVector {
    /// Applies sweep `it`'s step `d` (limited to the bias's voltage scale) and decides
    /// convergence (see `Condensed::chord_batch`).
    /// Returns the fraction of `d` applied, `None` once stalled.
    fn step(&mut self, it: usize, d: &[f64]) -> Option<f64> {
        let dmax = d.iter().fold(0.0f64, |m, x| m.max(x.abs()));
        let rho = dmax / self.last;
        if !dmax.is_finite() || (it > 2 && rho > 0.5) {
            self.state = Chord::Stalled;
            return None;
        }
        let a = if dmax > self.vscale {
            self.vscale / dmax
        } else {
            1.0
        };
        for (xi, di) in self.x.iter_mut().zip(d) {
            *xi += a * di;
        }
        self.it = it;
        // ρ from the first step (the initial error, not yet the contraction) only as the
        // earlier of the two ratios.
        let r = rho.max(self.rho_prev);
        if a == 1.0 && it >= 3 && 2.0 * r / (1.0 - r) * dmax <= KRYLOV_RTOL * self.tol {
            self.state = Chord::Converged;
        }
        self.last = dmax;
        self.rho_prev = rho;
        Some(a)
    }
}

/// What evaluating a crosspoint needs, resolved once per pass over the crosspoints: the
/// cells, the word lines' gate voltages, and the access transistor's channel law (β computed
/// once instead of per evaluation).
#[derive(Clone, Copy)]
struct Crosspoints<'a> {
    xb: &'a Crossbar,
    gates: &'a [f64],
    channel: Option<Channel>,
}

impl<'a> Crosspoints<'a> {
    fn new(xb: &'a Crossbar, gates: &'a [f64]) -> Self {
        let channel = xb.transistor.map(|m| m.channel());
        Crosspoints { xb, gates, channel }
    }

    /// Linearisation of crosspoint `k` (word line `row`) at line voltages `vr`, `vc`, its
    /// middle node warm-started from `vm0`.
    #[inline(always)]
    fn lin(&self, row: u32, k: usize, vr: f64, vc: f64, vm0: f64) -> Lin {
        self.point(row, k, vr, vc, vm0, Local::Converged).0
    }

    /// `lin`, with the middle node's sensitivities ∂v_m/∂v_r and ∂v_m/∂v_c (0 without a
    /// middle node).
    #[inline(always)]
    fn point(
        &self,
        row: u32,
        k: usize,
        vr: f64,
        vc: f64,
        vm0: f64,
        local: Local,
    ) -> (Lin, [f64; 2]) {
        let xb = self.xb;
        match xb.cell {
            CellKind::ZeroT1R => {
                let (i, g) = xb.cell_iv(k, vr - vc);
                let lin = Lin {
                    vm: 0.0,
                    i_r: i,
                    i_c: i,
                    a: g,
                    b: g,
                    e_r: 0.0,
                    e_c: 0.0,
                };
                (lin, [0.0; 2])
            }
            CellKind::OneS1R => {
                let s = xb.selector.expect("1S1R has a selector");
                series(
                    vr,
                    vc,
                    vm0,
                    |v| sinh_law(s.i_s, s.v_s, v),
                    |vm| {
                        let (i, g) = xb.cell_iv(k, vm - vc);
                        (i, g, -g)
                    },
                    0.0,
                    local,
                )
            }
            CellKind::OneT1R | CellKind::TwoT2R => {
                let ch = self.channel.expect("1T1R has a transistor");
                let vg = self.gates[row as usize];
                let (mut l, dvm) = series(
                    vr,
                    vc,
                    vm0,
                    |v| xb.cell_iv(k, v),
                    |vm| ch.eval(vg, vm, vc),
                    GMIN_BULK,
                    local,
                );
                // The source junction's gmin: current GMIN_BULK·v_c leaves c to ground.
                l.i_c -= GMIN_BULK * vc;
                l.e_c += GMIN_BULK;
                (l, dvm)
            }
        }
    }
}

/// How far `Crosspoints::point` solves a crosspoint's middle node.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Local {
    /// Newton to roundoff (safeguarded by bisection).
    Converged,
    /// One Newton step from the warm start, the currents carried to the new middle node to
    /// first order (so they satisfy its KCL); the full solve where that step would leave the
    /// bracket. Inside chord sweeps: the middle nodes then converge alongside the lines.
    OneStep,
}

/// Solves KCL at the middle node of an upper element i_u(v_r − v_m) in series with a lower
/// element i_l(v_m, v_c) (returns (i, ∂i/∂v_m, ∂i/∂v_c)) and a conductance `g_mid` from the
/// middle node to ground, and returns the condensed linearisation. The usual case, one plain
/// Newton step from a warm start inside the bracket, is inlined into the callers' loops; the
/// safeguarded solve is `series_bracketed`.
#[inline(always)]
fn series(
    vr: f64,
    vc: f64,
    vm0: f64,
    upper: impl Fn(f64) -> (f64, f64),
    lower: impl Fn(f64) -> (f64, f64, f64),
    g_mid: f64,
    local: Local,
) -> (Lin, [f64; 2]) {
    // f(x) = i_u − i_l − g_mid·x decreases with x and changes sign inside [lo, hi] (ground
    // is inside the bracket once g_mid pulls the middle node towards it).
    let (mut lo, mut hi) = if vr <= vc { (vr, vc) } else { (vc, vr) };
    if g_mid > 0.0 {
        (lo, hi) = (lo.min(0.0), hi.max(0.0));
    }
    let tol = 4.0 * f64::EPSILON * vr.abs().max(vc.abs()) + 1e-300;
    // A warm start inside the bracket: one plain Newton step first. It is the whole solve
    // when it stays in the bracket and either one step is asked for or it lands within
    // roundoff (the usual case on a good warm start); otherwise the safeguarded loop.
    if vm0 > lo && vm0 < hi && hi - lo > tol {
        let (iu, gu) = upper(vr - vm0);
        let (il, gd, gs) = lower(vm0);
        let den = gu + gd + g_mid;
        if den > 0.0 {
            // One division per crosspoint: the step and the condensed terms share 1/den.
            let inv = 1.0 / den;
            let step = (iu - il - g_mid * vm0) * inv;
            let x = vm0 + step;
            if x >= lo && x <= hi && (local == Local::OneStep || step.abs() <= tol) {
                // The currents at x to first order: i_r − i_c − g_mid·x = 0 holds there (the
                // second-order term, ~curvature·step², is below roundoff of the currents
                // once the step is).
                return condensed(x, iu - gu * step, il + gd * step, gu, gd, gs, g_mid);
            }
        }
    }
    series_bracketed(vr, vm0, lo, hi, tol, &upper, &lower, g_mid)
}

/// `series` by Newton safeguarded with bisection inside [lo, hi], to roundoff (`tol`).
#[inline(never)]
#[allow(clippy::too_many_arguments)]
fn series_bracketed(
    vr: f64,
    vm0: f64,
    mut lo: f64,
    mut hi: f64,
    tol: f64,
    upper: &impl Fn(f64) -> (f64, f64),
    lower: &impl Fn(f64) -> (f64, f64, f64),
    g_mid: f64,
) -> (Lin, [f64; 2]) {
    // A NaN line voltage (an overflowed iterate) has no bracket: the middle node becomes
    // NaN too, and so the linearisation, which the solver reports as non-finite.
    let mut x = if vm0.is_finite() && lo <= hi {
        vm0.clamp(lo, hi)
    } else {
        0.5 * (lo + hi)
    };
    // The elements' currents and conductances at the final x, when known from the last
    // evaluation.
    let mut at_x = None;
    if hi - lo <= tol {
        x = vr;
    } else {
        for _ in 0..200 {
            let (iu, gu) = upper(vr - x);
            let (il, gd, gs) = lower(x);
            let f = iu - il - g_mid * x;
            if f > 0.0 {
                lo = x;
            } else if f < 0.0 {
                hi = x;
            } else {
                at_x = Some((iu, gu, il, gd, gs));
                break;
            }
            let df = gu + gd + g_mid;
            let mut xn = if df > 0.0 { x + f / df } else { f64::NAN };
            if !(xn >= lo && xn <= hi) {
                xn = 0.5 * (lo + hi);
            }
            let step = xn - x;
            x = xn;
            if step.abs() <= tol {
                // A last step within roundoff of the voltages: the currents follow to first
                // order (the second-order term, ~curvature·tol², is below roundoff of the
                // currents), which saves evaluating the elements once more.
                at_x = Some((iu - gu * step, gu, il + gd * step, gd, gs));
                break;
            }
            if hi - lo <= tol {
                break;
            }
        }
    }
    let (iu, gu, il, gd, gs) = at_x.unwrap_or_else(|| {
        let (iu, gu) = upper(vr - x);
        let (il, gd, gs) = lower(x);
        (iu, gu, il, gd, gs)
    });
    condensed(x, iu, il, gu, gd, gs, g_mid)
}

/// The condensed linearisation of `series` at middle node `x` carrying currents `iu` (upper
/// element, from r) and `il` (lower element, into c), with the elements' conductances.
#[inline(always)]
fn condensed(x: f64, iu: f64, il: f64, gu: f64, gd: f64, gs: f64, g_mid: f64) -> (Lin, [f64; 2]) {
    let den = gu + gd + g_mid;
    let (a, b, e_r, e_c, dvm) = if den > 0.0 {
        let inv = 1.0 / den;
        (
            gu * gd * inv,
            -gu * gs * inv,
            gu * g_mid * inv,
            -gs * g_mid * inv,
            // ∂v_m/∂v_r and ∂v_m/∂v_c (implicit function theorem on the middle node's KCL).
            [gu * inv, -gs * inv],
        )
    } else {
        (0.0, 0.0, 0.0, 0.0, [0.0; 2])
    };
    let lin = Lin {
        vm: x,
        i_r: iu,
        i_c: il,
        a,
        b,
        e_r,
        e_c,
    };
    (lin, dvm)
}

/// Dot product summed over fixed chunks in order (the same bits on any number of threads).
#[inline]
fn dot(a: &[f64], b: &[f64]) -> f64 {
    if a.len() <= CHUNK {
        return a.iter().zip(b).map(|(x, y)| x * y).sum();
    }
    let parts: Vec<f64> = a
        .par_chunks(CHUNK)
        .zip(b.par_chunks(CHUNK))
        .map(|(a, b)| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>())
        .collect();
    parts.iter().sum()
}

#[inline]
fn norm(a: &[f64]) -> f64 {
    dot(a, a).sqrt()
}
