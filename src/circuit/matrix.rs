//! The nodal matrix: a fixed sparsity pattern built once, values rewritten every Newton
//! iteration, and faer's sparse LU refactorised numerically on the saved symbolic analysis.
//!
//! Bind once, load many: elements ask the [`PatternBuilder`] for an entry per stamp position,
//! the pattern is sorted once into CSC, and each entry id is remapped to its value slot.
//! Ground has no slot ([`NO_SLOT`]), so stamps never test for it.

use faer::dyn_stack::{MemBuffer, MemStack, StackReq};
use faer::linalg::lu::partial_pivoting::factor::PartialPivLuParams;
use faer::sparse::linalg::lu::{factorize_symbolic_lu, LuSymbolicParams, NumericLu, SymbolicLu};
use faer::sparse::{SparseColMatRef, SymbolicSparseColMatRef};
use faer::{Conj, MatMut, Par, Spec};

/// Value slot of a stamp position that touches ground: writes to it are dropped.
pub const NO_SLOT: u32 = u32::MAX;

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
                symbolic: None,
                numeric: NumericLu::new(),
                scratch: MemBuffer::new(StackReq::EMPTY),
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
    symbolic: Option<SymbolicLu<usize>>,
    numeric: NumericLu<usize, f64>,
    scratch: MemBuffer,
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

    fn sym(&self) -> SymbolicSparseColMatRef<'_, usize> {
        SymbolicSparseColMatRef::new_checked(self.n, self.n, &self.col_ptr, None, &self.row_idx)
    }

    /// Numeric LU of the present values; the symbolic analysis (COLAMD ordering, elimination
    /// structure) is computed on the first call only.
    pub fn factor(&mut self) -> Result<(), Singular> {
        if self.n == 0 {
            return Ok(());
        }
        if self.symbolic.is_none() {
            let sym = factorize_symbolic_lu(self.sym(), LuSymbolicParams::default())
                .map_err(|_| Singular { unknown: None })?;
            let req = StackReq::any_of(&[
                sym.factorize_numeric_lu_scratch::<f64>(Par::Seq, Default::default()),
                sym.solve_in_place_scratch::<f64>(1, Par::Seq),
            ]);
            self.scratch = MemBuffer::new(req);
            self.symbolic = Some(sym);
        }
        let sym = self.symbolic.as_ref().unwrap();
        let a = SparseColMatRef::new(
            SymbolicSparseColMatRef::new_checked(
                self.n,
                self.n,
                &self.col_ptr,
                None,
                &self.row_idx,
            ),
            &self.values,
        );
        let params: Spec<PartialPivLuParams, f64> = Default::default();
        sym.factorize_numeric_lu(
            &mut self.numeric,
            a,
            Par::Seq,
            MemStack::new(&mut self.scratch),
            params,
        )
        .map(|_| ())
        .map_err(|e| match e {
            faer::sparse::linalg::LuError::SymbolicSingular { index } => Singular {
                unknown: Some(sym.col_perm().arrays().0[index]),
            },
            _ => Singular { unknown: None },
        })
    }

    /// Solve A·x = b in place with the last factorisation.
    pub fn solve(&mut self, rhs: &mut [f64]) {
        if self.n == 0 {
            return;
        }
        let sym = self.symbolic.as_ref().expect("factor before solve");
        let lu = faer::sparse::linalg::lu::LuRef::new_unchecked(sym, &self.numeric);
        let mat = MatMut::from_column_major_slice_mut(rhs, self.n, 1);
        lu.solve_in_place_with_conj(Conj::No, mat, Par::Seq, MemStack::new(&mut self.scratch));
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
