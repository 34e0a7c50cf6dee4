//! The nodal matrix: a fixed sparsity pattern built once, values rewritten every Newton
//! iteration, and a sparse factor refactorised numerically on the saved symbolic analysis.
//!
//! Bind once, load many: elements ask the [`PatternBuilder`] for an entry per stamp position,
//! the pattern is sorted once into CSC, and each entry id is remapped to its value slot.
//! Ground has no slot ([`NO_SLOT`]), so stamps never test for it.
//!
//! [`SparseFactor`] is the one wrapper of faer's sparse factorisations for every solver here:
//! Cholesky of a symmetric positive definite matrix (upper triangle stored; the caller's
//! ordering or AMD) or LU (COLAMD), the symbolic analysis done once at construction and the
//! numeric factorisation redone on new values. The netlist engine's [`NodalMatrix`] and the
//! crossbar solvers use it. Iterations that check their own residual in double precision (the
//! crossbar's batched chord sweeps) solve blocks of right-hand sides with the Cholesky factor
//! rounded to single precision ([`SparseFactor::round_to_single`],
//! [`SparseFactor::solve_blocks_single`]).

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

/// Fill-reducing ordering of a Cholesky factorisation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ordering {
    /// The caller numbered the unknowns in a fill-reducing order already (e.g. the crossbar's
    /// geometric nested dissection): factor as numbered.
    AsNumbered,
    /// Approximate minimum degree.
    Amd,
}

/// Why a sparse factorisation failed.
#[derive(Debug, Clone)]
pub enum FactorError {
    /// The symbolic analysis failed (faer's message).
    Symbolic(String),
    /// Cholesky: the matrix is not (numerically) positive definite (faer's message).
    NotPositiveDefinite(String),
    /// LU: no pivot for an unknown (matrix column, when known).
    Singular {
        unknown: Option<usize>,
        detail: String,
    },
}

enum Factor {
    Cholesky {
        sym: SymbolicCholesky<usize>,
        l: Vec<f64>,
        /// `l` rounded to single precision (`round_to_single`); empty when stale.
        l32: Vec<f32>,
    },
    Lu {
        sym: SymbolicLu<usize>,
        num: NumericLu<usize, f64>,
    },
}

/// A sparse factorisation with a fixed pattern: symbolic once, numeric per [`factorize`]
/// (bind once, load many), then solves with any number of right-hand sides.
///
/// [`factorize`]: SparseFactor::factorize
pub struct SparseFactor {
    n: usize,
    factor: Factor,
    mem: MemBuffer,
    /// Right-hand-side columns `mem` has room for.
    mem_rhs_cols: usize,
}

fn pattern<'a>(
    n: usize,
    col_ptr: &'a [usize],
    row_idx: &'a [usize],
) -> SymbolicSparseColMatRef<'a, usize> {
    SymbolicSparseColMatRef::new_checked(n, n, col_ptr, None, row_idx)
}

impl SparseFactor {
    /// Cholesky L·Lᵀ of an n×n symmetric positive definite matrix whose upper triangle
    /// (diagonal included) is stored in CSC `col_ptr` / `row_idx`.
    pub fn cholesky(
        n: usize,
        col_ptr: &[usize],
        row_idx: &[usize],
        ordering: Ordering,
        par: Par,
    ) -> Result<SparseFactor, FactorError> {
        let ord = match ordering {
            Ordering::AsNumbered => SymmetricOrdering::Identity,
            Ordering::Amd => SymmetricOrdering::Amd,
        };
        let sym = factorize_symbolic_cholesky(
            pattern(n, col_ptr, row_idx),
            Side::Upper,
            ord,
            CholeskySymbolicParams::default(),
        )
        .map_err(|e| FactorError::Symbolic(format!("symbolic Cholesky: {e:?}")))?;
        let l = vec![0.0; sym.len_val()];
        let l32 = Vec::new();
        Ok(SparseFactor::with_mem(
            n,
            Factor::Cholesky { sym, l, l32 },
            par,
        ))
    }

    /// LU with partial pivoting of an n×n matrix stored in CSC `col_ptr` / `row_idx`
    /// (COLAMD column ordering).
    pub fn lu(
        n: usize,
        col_ptr: &[usize],
        row_idx: &[usize],
        par: Par,
    ) -> Result<SparseFactor, FactorError> {
        let sym = factorize_symbolic_lu(pattern(n, col_ptr, row_idx), LuSymbolicParams::default())
            .map_err(|e| FactorError::Symbolic(format!("symbolic LU: {e:?}")))?;
        let num = NumericLu::new();
        Ok(SparseFactor::with_mem(n, Factor::Lu { sym, num }, par))
    }

    fn with_mem(n: usize, factor: Factor, par: Par) -> SparseFactor {
        let mut f = SparseFactor {
            n,
            factor,
            mem: MemBuffer::new(StackReq::EMPTY),
            mem_rhs_cols: 0,
        };
        f.ensure_mem(1, par);
        f
    }

    /// Order of the matrix.
    pub fn n(&self) -> usize {
        self.n
    }

    fn factor_req(&self, par: Par) -> StackReq {
        match &self.factor {
            Factor::Cholesky { sym, .. } => {
                sym.factorize_numeric_llt_scratch::<f64>(par, Default::default())
            }
            Factor::Lu { sym, .. } => {
                sym.factorize_numeric_lu_scratch::<f64>(par, Default::default())
            }
        }
    }

    fn solve_req(&self, ncols: usize, par: Par) -> StackReq {
        match &self.factor {
            Factor::Cholesky { sym, .. } => sym.solve_in_place_scratch::<f64>(ncols, par),
            Factor::Lu { sym, .. } => sym.solve_in_place_scratch::<f64>(ncols, par),
        }
    }

    fn ensure_mem(&mut self, ncols: usize, par: Par) {
        if ncols > self.mem_rhs_cols {
            let req = StackReq::any_of(&[self.factor_req(par), self.solve_req(ncols, par)]);
            self.mem = MemBuffer::new(req);
            self.mem_rhs_cols = ncols;
        }
    }

    /// Numeric factorisation of `values` (CSC order of the pattern given at construction).
    pub fn factorize(
        &mut self,
        col_ptr: &[usize],
        row_idx: &[usize],
        values: &[f64],
        par: Par,
    ) -> Result<(), FactorError> {
        let a = SparseColMatRef::new(pattern(self.n, col_ptr, row_idx), values);
        let stack = MemStack::new(&mut self.mem);
        match &mut self.factor {
            Factor::Cholesky { sym, l, l32 } => {
                l32.clear();
                sym.factorize_numeric_llt(
                    l,
                    a,
                    Side::Upper,
                    LltRegularization::default(),
                    par,
                    stack,
                    Default::default(),
                )
                .map(|_| ())
                .map_err(|e| FactorError::NotPositiveDefinite(format!("{e:?}")))
            }
            Factor::Lu { sym, num } => sym
                .factorize_numeric_lu(num, a, par, stack, Default::default())
                .map(|_| ())
                .map_err(|e| FactorError::Singular {
                    unknown: match e {
                        faer::sparse::linalg::LuError::SymbolicSingular { index } => {
                            Some(sym.col_perm().arrays().0[index])
                        }
                        _ => None,
                    },
                    detail: format!("{e:?}"),
                }),
        }
    }

    /// Keeps a single-precision copy of a Cholesky factor's values for
    /// [`SparseFactor::solve_blocks_single`] (made once per numeric factorisation).
    pub fn round_to_single(&mut self) {
        use rayon::prelude::*;
        if let Factor::Cholesky { l, l32, .. } = &mut self.factor {
            if l32.is_empty() {
                l.par_iter().map(|&x| x as f32).collect_into_vec(l32);
            }
        }
    }

    /// Solves several blocks of right-hand sides at once, in parallel, with the Cholesky
    /// factor rounded to single precision (`round_to_single`; otherwise, and for LU, in double
    /// precision): each `(b, ncols, scratch)` holds `ncols` column-major right-hand sides and
    /// is solved sequentially with its own scratch, so its result does not depend on the
    /// thread count. For iterations that only need M⁻¹ approximately and check their own
    /// residual in double precision (the batched chord sweeps): the rounding perturbs M by
    /// ~1e-7 relative, far below the sweeps' own contraction (1.4e-3 per sweep on the 512×512
    /// 1T1R bench array in both precisions), while the solve moves half the bytes and runs
    /// twice the SIMD lanes (~2× faster there). Each block goes through a row-major copy: the
    /// solve gathers and scatters rows of the right-hand sides (the fill-reducing permutation,
    /// every supernode's update rows), and row-major keeps one row's right-hand sides together
    /// instead of one cache line per column.
    pub fn solve_blocks_single(&self, blocks: Vec<(&mut [f64], usize, &mut BlockScratch)>) {
        use rayon::prelude::*;
        let n = self.n;
        blocks.into_par_iter().filter(|(_, c, _)| *c > 0).for_each(
            |(b, ncols, scratch)| match &self.factor {
                Factor::Cholesky { sym, l32, .. } if !l32.is_empty() => {
                    if scratch.mem_cols < ncols {
                        scratch.mem =
                            MemBuffer::new(sym.solve_in_place_scratch::<f32>(ncols, Par::Seq));
                        scratch.mem_cols = ncols;
                    }
                    let rows = &mut scratch.rows;
                    rows.resize(n * ncols, 0.0);
                    let rows = &mut rows[..n * ncols];
                    for (i, row) in rows.chunks_exact_mut(ncols).enumerate() {
                        for (j, x) in row.iter_mut().enumerate() {
                            *x = b[j * n + i] as f32;
                        }
                    }
                    let stack = MemStack::new(&mut scratch.mem);
                    let rhs = MatMut::from_row_major_slice_mut(rows, n, ncols);
                    LltRef::new(sym, l32).solve_in_place_with_conj(Conj::No, rhs, Par::Seq, stack);
                    for (i, row) in rows.chunks_exact(ncols).enumerate() {
                        for (j, x) in row.iter().enumerate() {
                            b[j * n + i] = f64::from(*x);
                        }
                    }
                }
                _ => {
                    let mut mem = MemBuffer::new(self.solve_req(ncols, Par::Seq));
                    let stack = MemStack::new(&mut mem);
                    let rhs = MatMut::from_column_major_slice_mut(b, n, ncols);
                    match &self.factor {
                        Factor::Cholesky { sym, l, .. } => LltRef::new(sym, l)
                            .solve_in_place_with_conj(Conj::No, rhs, Par::Seq, stack),
                        Factor::Lu { sym, num } => LuRef::new_unchecked(sym, num)
                            .solve_in_place_with_conj(Conj::No, rhs, Par::Seq, stack),
                    }
                }
            },
        );
    }

    /// Solves A·X = B in place for `ncols` right-hand sides stored column-major in `b`, with
    /// the last numeric factorisation.
    pub fn solve_in_place(&mut self, b: &mut [f64], ncols: usize, par: Par) {
        self.ensure_mem(ncols, par);
        let stack = MemStack::new(&mut self.mem);
        let rhs = MatMut::from_column_major_slice_mut(b, self.n, ncols);
        match &self.factor {
            Factor::Cholesky { sym, l, .. } => {
                LltRef::new(sym, l).solve_in_place_with_conj(Conj::No, rhs, par, stack)
            }
            Factor::Lu { sym, num } => {
                LuRef::new_unchecked(sym, num).solve_in_place_with_conj(Conj::No, rhs, par, stack)
            }
        }
    }
}

/// Scratch of one block of [`SparseFactor::solve_blocks_single`], kept from call to call
/// (the solve's workspace and the block's row-major single-precision copy).
pub struct BlockScratch {
    mem: MemBuffer,
    /// Right-hand sides `mem` is sized for.
    mem_cols: usize,
    rows: Vec<f32>,
}

impl Default for BlockScratch {
    fn default() -> Self {
        BlockScratch {
            mem: MemBuffer::new(StackReq::EMPTY),
            mem_cols: 0,
            rows: Vec::new(),
        }
    }
}

pub use super::stamp::NO_SLOT;

/// Collects (row, column) stamp positions before the pattern is known.
#[derive(Default)]
pub struct PatternBuilder {
    /// (column, row) so that sorting gives CSC order.
    entries: Vec<(u32, u32)>,
}

impl PatternBuilder {
    /// Entry id for position (row, col); `None` (ground) gives [`NO_SLOT`].
    pub fn entry(&mut self, row: Option<usize>, col: Option<usize>) -> u32 {
        match (row, col) {
            (Some(r), Some(c)) => {
                self.entries.push((c as u32, r as u32));
                (self.entries.len() - 1) as u32
            }
            _ => NO_SLOT,
        }
    }

    /// Sort the pattern into CSC and return the matrix plus the entry-id → slot map.
    pub fn finish(self, n: usize) -> (NodalMatrix, Vec<u32>) {
        let mut order: Vec<u32> = (0..self.entries.len() as u32).collect();
        order.sort_unstable_by_key(|&e| self.entries[e as usize]);
        let mut col_ptr = vec![0usize; n + 1];
        let mut row_idx = Vec::with_capacity(self.entries.len());
        let mut map = vec![NO_SLOT; self.entries.len()];
        let mut last: Option<(u32, u32)> = None;
        for &e in &order {
            let key = self.entries[e as usize];
            if last != Some(key) {
                row_idx.push(key.1 as usize);
                col_ptr[key.0 as usize + 1] += 1;
                last = Some(key);
            }
            map[e as usize] = (row_idx.len() - 1) as u32;
        }
        for c in 0..n {
            col_ptr[c + 1] += col_ptr[c];
        }
        let nnz = row_idx.len();
        (
            NodalMatrix {
                n,
                col_ptr,
                row_idx,
                values: vec![0.0; nnz],
                factor: None,
            },
            map,
        )
    }
}

/// Why a factorisation failed: the unknown (matrix column) where no pivot was found.
#[derive(Debug, Clone)]
pub struct Singular {
    pub unknown: Option<usize>,
}

pub struct NodalMatrix {
    pub n: usize,
    col_ptr: Vec<usize>,
    row_idx: Vec<usize>,
    /// Values in CSC order; elements add into them through their slots.
    pub values: Vec<f64>,
    /// Sparse LU, its symbolic analysis done on the first factorisation.
    factor: Option<SparseFactor>,
}

impl NodalMatrix {
    pub fn nnz(&self) -> usize {
        self.row_idx.len()
    }

    #[inline]
    pub fn add(&mut self, slot: u32, v: f64) {
        if slot != NO_SLOT {
            self.values[slot as usize] += v;
        }
    }

    pub fn clear(&mut self) {
        self.values.iter_mut().for_each(|v| *v = 0.0);
    }

    /// Row indices of column `c` with their slots, for diagnostics.
    pub fn column(&self, c: usize) -> impl Iterator<Item = (usize, usize)> + '_ {
        (self.col_ptr[c]..self.col_ptr[c + 1]).map(move |k| (self.row_idx[k], k))
    }

    /// Numeric LU of the present values; the symbolic analysis (COLAMD ordering, elimination
    /// structure) is computed on the first call only.
    pub fn factor(&mut self) -> Result<(), Singular> {
        if self.n == 0 {
            return Ok(());
        }
        if self.factor.is_none() {
            let f = SparseFactor::lu(self.n, &self.col_ptr, &self.row_idx, Par::Seq)
                .map_err(|_| Singular { unknown: None })?;
            self.factor = Some(f);
        }
        let f = self.factor.as_mut().expect("built above");
        f.factorize(&self.col_ptr, &self.row_idx, &self.values, Par::Seq)
            .map_err(|e| match e {
                FactorError::Singular { unknown, .. } => Singular { unknown },
                _ => Singular { unknown: None },
            })
    }

    /// Solve A·x = b in place with the last factorisation.
    pub fn solve(&mut self, rhs: &mut [f64]) {
        if self.n == 0 {
            return;
        }
        let f = self.factor.as_mut().expect("factor before solve");
        f.solve_in_place(rhs, 1, Par::Seq);
    }

    /// y = A·x with the present values (for residual checks).
    pub fn multiply(&self, x: &[f64], y: &mut [f64]) {
        y.iter_mut().for_each(|v| *v = 0.0);
        for c in 0..self.n {
            for k in self.col_ptr[c]..self.col_ptr[c + 1] {
                y[self.row_idx[k]] += self.values[k] * x[c];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A = tridiag(−1, 2.5, −1) (upper triangle in CSC), κ ≈ 9; right-hand sides A·x* for known
    /// x*, so the reference is exact.
    fn tridiagonal(n: usize) -> (Vec<usize>, Vec<usize>, Vec<f64>) {
        let (mut col_ptr, mut row_idx, mut values) = (vec![0], Vec::new(), Vec::new());
        for j in 0..n {
            if j > 0 {
                row_idx.push(j - 1);
                values.push(-1.0);
            }
            row_idx.push(j);
            values.push(2.5);
            col_ptr.push(row_idx.len());
        }
        (col_ptr, row_idx, values)
    }

    #[test]
    fn block_solves_in_single_precision_are_within_its_rounding_and_double_without_it() {
        let n = 300;
        let (col_ptr, row_idx, values) = tridiagonal(n);
        let mut f = SparseFactor::cholesky(n, &col_ptr, &row_idx, Ordering::Amd, Par::Seq).unwrap();
        f.factorize(&col_ptr, &row_idx, &values, Par::Seq).unwrap();
        let x_true = |j: usize, i: usize| ((i + 1) as f64 * 0.37 + j as f64).sin() + 1.5;
        let a_times = |j: usize, i: usize| {
            let left = if i > 0 { x_true(j, i - 1) } else { 0.0 };
            let right = if i + 1 < n { x_true(j, i + 1) } else { 0.0 };
            2.5 * x_true(j, i) - left - right
        };
        // Two blocks of 3 and 2 right-hand sides, column-major.
        let rhs = |cols: std::ops::Range<usize>| -> Vec<f64> {
            cols.flat_map(|j| (0..n).map(move |i| (j, i)))
                .map(|(j, i)| a_times(j, i))
                .collect()
        };
        let max_rel = |b: &[f64], cols: std::ops::Range<usize>| {
            cols.enumerate()
                .flat_map(|(k, j)| (0..n).map(move |i| (k, j, i)))
                .map(|(k, j, i)| (b[k * n + i] - x_true(j, i)).abs() / x_true(j, i).abs())
                .fold(0.0f64, f64::max)
        };
        let solve = |f: &SparseFactor| {
            let (mut b1, mut b2) = (rhs(0..3), rhs(3..5));
            let (mut s1, mut s2) = (BlockScratch::default(), BlockScratch::default());
            f.solve_blocks_single(vec![(&mut b1, 3, &mut s1), (&mut b2, 2, &mut s2)]);
            max_rel(&b1, 0..3).max(max_rel(&b2, 3..5))
        };
        // Not rounded yet: double precision.
        let e64 = solve(&f);
        assert!(e64 <= 1e-13, "double-precision block solve error {e64:e}");
        f.round_to_single();
        let e32 = solve(&f);
        assert!(
            e32 <= 1e-5 && e32 > 1e-10,
            "single-precision block solve error {e32:e} (expected ~κ·2⁻²⁴)"
        );
        // A new numeric factorisation makes the rounded copy stale: double again.
        f.factorize(&col_ptr, &row_idx, &values, Par::Seq).unwrap();
        assert!(solve(&f) <= 1e-13);
    }
}
