//! Node layout of a biased array, zero-resistance merging, and the geometric nested-dissection
//! numbering of the unknowns.
//!
//! Raw nodes per crosspoint (i, j): the word-line node `r`, the bit-line node `c`, and for
//! 1S1R / 1T1R / 2T2R a middle node `m` (selector–cell or cell–drain junction). Periphery
//! terminals (ideal sources behind a driver or sense resistance) are extra raw nodes with a
//! fixed potential. Zero resistances merge raw nodes into one class (union-find); a class that
//! holds a terminal is fixed, the rest are the unknowns of the nodal equations.

use super::config::{CellKind, Crossbar, LineEnds};
use super::CrossbarError;
use crate::circuit::union_find::UnionFind;

/// One end of an element after merging: an unknown (index into the solution vector) or a
/// fixed class (index into the fixed-class table).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    Free(u32),
    Fixed(u32),
}

impl End {
    /// The unknown's index of a free node; `None` for a fixed one (its voltage is known).
    #[inline]
    pub fn free(self) -> Option<usize> {
        match self {
            End::Free(k) => Some(k as usize),
            End::Fixed(_) => None,
        }
    }
}

/// A periphery line: word line `i` or bit line `j` (physical).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Line {
    Row(usize),
    Col(usize),
}

/// How a bit line's ends are connected for one operation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ColEnd {
    /// Sense amplifier: virtual ground (0 V) behind `r_sense`.
    Sense,
    /// Bias driver at this voltage (V) behind `r_driver`.
    Bias(f64),
    /// Not connected.
    Float,
}

/// Bias of every line for one operation. Changing only voltages (not `None` ↔ `Some` or the
/// column roles) keeps the topology, so a bound system is reused.
#[derive(Clone, Debug, PartialEq)]
pub struct Bias {
    /// Word-line driver voltages (V); `None` = floating.
    pub rows: Vec<Option<f64>>,
    /// Bit-line ends, per physical column.
    pub cols: Vec<ColEnd>,
    /// Gate voltage per word line for access transistors (V).
    pub gates: Vec<f64>,
}

impl Bias {
    /// All rows driven at `v`, all columns sensed, all gates at `xb.v_gate`.
    pub fn mvm(xb: &Crossbar, v: &[f64]) -> Bias {
        Bias {
            rows: v.iter().map(|&x| Some(x)).collect(),
            cols: vec![ColEnd::Sense; xb.phys_cols()],
            gates: vec![xb.v_gate; xb.rows],
        }
    }

    fn same_topology(&self, o: &Bias) -> bool {
        self.rows.len() == o.rows.len()
            && self.cols.len() == o.cols.len()
            && self
                .rows
                .iter()
                .zip(&o.rows)
                .all(|(a, b)| a.is_some() == b.is_some())
            && self
                .cols
                .iter()
                .zip(&o.cols)
                .all(|(a, b)| std::mem::discriminant(a) == std::mem::discriminant(b))
    }
}

/// Kind of a linear resistor, for energy accounting and maps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResKind {
    RowWire,
    ColWire,
    Driver,
    Sense,
}

#[derive(Clone, Copy, Debug)]
pub struct Res {
    pub a: End,
    pub b: End,
    pub g: f64,
    pub kind: ResKind,
}

/// A two-terminal nonlinear element (cell or selector): current flows from `a` to `b`.
#[derive(Clone, Copy, Debug)]
pub struct Two {
    pub a: End,
    pub b: End,
}

/// Access transistor: drain `d` (cell side), source `s` (bit line), gate on word line `row`.
#[derive(Clone, Copy, Debug)]
pub struct Mos {
    pub d: End,
    pub s: End,
    pub row: usize,
}

#[derive(Clone, Debug)]
pub struct Terminal {
    pub line: Line,
    /// Raw node the terminal's resistor (or short) attaches to.
    pub attach: usize,
    pub r: f64,
    pub kind: ResKind,
}

/// The merged, numbered network for one bias topology.
#[derive(Clone, Debug)]
pub struct Network {
    pub rows: usize,
    pub pcols: usize,
    /// Raw nodes per crosspoint: 2, or 3 with a middle node.
    pub k: usize,
    pub cell_kind: CellKind,
    pub terminals: Vec<Terminal>,
    /// Class of each raw node (line/middle nodes, then one per terminal).
    pub class_of: Vec<End>,
    pub n_free: usize,
    /// Fixed classes: the terminal whose voltage the class carries.
    pub fixed_term: Vec<usize>,
    /// Terminals per fixed class (to check equal voltages when shorted together).
    pub fixed_members: Vec<Vec<usize>>,
    pub res: Vec<Res>,
    /// Cell `idx = i·pcols + j` is `cells[idx]`.
    pub cells: Vec<Two>,
    /// Selector at crosspoint idx (1S1R).
    pub sels: Vec<Two>,
    /// Transistor at crosspoint idx (1T1R / 2T2R).
    pub mos: Vec<Mos>,
    /// True when the unknowns are numbered in geometric nested-dissection order (no merges).
    pub nd_ordered: bool,
    topo: Bias,
}

impl Network {
    #[inline]
    pub fn r(&self, i: usize, j: usize) -> usize {
        (i * self.pcols + j) * self.k
    }
    #[inline]
    pub fn c(&self, i: usize, j: usize) -> usize {
        (i * self.pcols + j) * self.k + 1
    }
    #[inline]
    pub fn m(&self, i: usize, j: usize) -> usize {
        (i * self.pcols + j) * self.k + 2
    }
    pub fn n_raw_lines(&self) -> usize {
        self.rows * self.pcols * self.k
    }

    pub fn same_topology(&self, b: &Bias) -> bool {
        self.topo.same_topology(b)
    }

    pub fn build(xb: &Crossbar, bias: &Bias) -> Result<Network, CrossbarError> {
        xb.validate()?;
        let (rows, pcols) = (xb.rows, xb.phys_cols());
        if bias.rows.len() != rows || bias.cols.len() != pcols || bias.gates.len() != rows {
            return Err(CrossbarError::Input(format!(
                "bias has {} rows / {} columns / {} gates for a {}×{} array",
                bias.rows.len(),
                bias.cols.len(),
                bias.gates.len(),
                rows,
                pcols
            )));
        }
        let k = if xb.cell == CellKind::ZeroT1R { 2 } else { 3 };
        let mut net = Network {
            rows,
            pcols,
            k,
            cell_kind: xb.cell,
            terminals: Vec::new(),
            class_of: Vec::new(),
            n_free: 0,
            fixed_term: Vec::new(),
            fixed_members: Vec::new(),
            res: Vec::new(),
            cells: Vec::new(),
            sels: Vec::new(),
            mos: Vec::new(),
            nd_ordered: true,
            topo: bias.clone(),
        };
        let n_lines = rows * pcols * k;
        let both = xb.line_ends == LineEnds::Both;
        for (i, rv) in bias.rows.iter().enumerate() {
            if rv.is_some() {
                let ends: &[usize] = if both && pcols > 1 {
                    &[0, pcols - 1]
                } else {
                    &[0]
                };
                for &j in ends {
                    net.terminals.push(Terminal {
                        line: Line::Row(i),
                        attach: net.r(i, j),
                        r: xb.r_driver,
                        kind: ResKind::Driver,
                    });
                }
            }
        }
        for (j, ce) in bias.cols.iter().enumerate() {
            let (r, kind) = match ce {
                ColEnd::Sense => (xb.r_sense, ResKind::Sense),
                ColEnd::Bias(_) => (xb.r_driver, ResKind::Driver),
                ColEnd::Float => continue,
            };
            let ends: &[usize] = if both && rows > 1 {
                &[rows - 1, 0]
            } else {
                &[rows - 1]
            };
            for &i in ends {
                net.terminals.push(Terminal {
                    line: Line::Col(j),
                    attach: net.c(i, j),
                    r,
                    kind,
                });
            }
        }
        let n_raw = n_lines + net.terminals.len();

        // Union-find over zero-resistance connections (none without zero resistances: every
        // raw node is then its own class).
        let merges = xb.r_row == 0.0 || xb.r_col == 0.0 || net.terminals.iter().any(|t| t.r == 0.0);
        let mut uf = merges.then(|| UnionFind::new(n_raw));
        let mut merged_lines = false;
        if let Some(uf) = uf.as_mut() {
            if xb.r_row == 0.0 {
                for i in 0..rows {
                    for j in 1..pcols {
                        uf.union(net.r(i, j - 1), net.r(i, j));
                        merged_lines = true;
                    }
                }
            }
            if xb.r_col == 0.0 {
                for j in 0..pcols {
                    for i in 1..rows {
                        uf.union(net.c(i - 1, j), net.c(i, j));
                        merged_lines = true;
                    }
                }
            }
            for (t, term) in net.terminals.iter().enumerate() {
                if term.r == 0.0 {
                    uf.union(n_lines + t, term.attach);
                }
            }
        }
        let mut root = |x: usize| uf.as_mut().map_or(x, |uf| uf.find(x));

        // The class of every root (a set's smallest raw node), filled in below; the other raw
        // nodes take their root's class at the end.
        const UNNUMBERED: End = End::Free(u32::MAX);
        let mut class_of = vec![UNNUMBERED; n_raw];
        // Fixed classes: one per root holding a terminal.
        for t in 0..net.terminals.len() {
            let r = root(n_lines + t);
            if class_of[r] == UNNUMBERED {
                class_of[r] = End::Fixed(net.fixed_term.len() as u32);
                net.fixed_term.push(t);
                net.fixed_members.push(vec![t]);
            } else {
                let f = match class_of[r] {
                    End::Fixed(f) => f as usize,
                    End::Free(_) => unreachable!("only fixed classes are numbered yet"),
                };
                let t0 = net.fixed_term[f];
                if net.terminals[t0].line != net.terminals[t].line {
                    return Err(CrossbarError::Input(format!(
                        "{:?} and {:?} are shorted together by zero resistances",
                        net.terminals[t0].line, net.terminals[t].line
                    )));
                }
                net.fixed_members[f].push(t);
            }
        }

        // Number free classes in nested-dissection order of their first raw node.
        let mut n_free = 0u32;
        nd_visit(rows, pcols, k, &mut |raw| {
            let r = root(raw);
            if class_of[r] == UNNUMBERED {
                class_of[r] = End::Free(n_free);
                n_free += 1;
            }
        });
        if merges {
            // A root is its set's smallest member, so it is final before its members read it.
            for x in 0..n_raw {
                class_of[x] = class_of[root(x)];
            }
        }
        net.n_free = n_free as usize;
        net.nd_ordered = !merged_lines;
        net.class_of = class_of;

        // Elements.
        let cl = |x: usize| net.class_of[x];
        let wires = if xb.r_row > 0.0 {
            rows * pcols.saturating_sub(1)
        } else {
            0
        } + if xb.r_col > 0.0 {
            pcols * rows.saturating_sub(1)
        } else {
            0
        };
        let mut res = Vec::with_capacity(wires + net.terminals.len());
        if xb.r_row > 0.0 {
            for i in 0..rows {
                for j in 1..pcols {
                    res.push(Res {
                        a: cl(net.r(i, j - 1)),
                        b: cl(net.r(i, j)),
                        g: 1.0 / xb.r_row,
                        kind: ResKind::RowWire,
                    });
                }
            }
        }
        if xb.r_col > 0.0 {
            for j in 0..pcols {
                for i in 1..rows {
                    res.push(Res {
                        a: cl(net.c(i - 1, j)),
                        b: cl(net.c(i, j)),
                        g: 1.0 / xb.r_col,
                        kind: ResKind::ColWire,
                    });
                }
            }
        }
        for (t, term) in net.terminals.iter().enumerate() {
            if term.r > 0.0 {
                res.push(Res {
                    a: cl(n_lines + t),
                    b: cl(term.attach),
                    g: 1.0 / term.r,
                    kind: term.kind,
                });
            }
        }
        let mut cells = Vec::with_capacity(rows * pcols);
        let mut sels = Vec::new();
        let mut mos = Vec::new();
        for i in 0..rows {
            for j in 0..pcols {
                let (r, c) = (net.r(i, j), net.c(i, j));
                match xb.cell {
                    CellKind::ZeroT1R => cells.push(Two { a: cl(r), b: cl(c) }),
                    CellKind::OneS1R => {
                        let m = net.m(i, j);
                        sels.push(Two { a: cl(r), b: cl(m) });
                        cells.push(Two { a: cl(m), b: cl(c) });
                    }
                    CellKind::OneT1R | CellKind::TwoT2R => {
                        let m = net.m(i, j);
                        cells.push(Two { a: cl(r), b: cl(m) });
                        mos.push(Mos {
                            d: cl(m),
                            s: cl(c),
                            row: i,
                        });
                    }
                }
            }
        }
        net.res = res;
        net.cells = cells;
        net.sels = sels;
        net.mos = mos;
        Ok(net)
    }

    /// Voltage of each fixed class under `bias` (V), checking shorted terminals agree.
    pub fn fixed_voltages(&self, bias: &Bias, out: &mut Vec<f64>) -> Result<(), CrossbarError> {
        out.clear();
        for members in &self.fixed_members {
            let v0 = self.term_voltage(bias, members[0]);
            for &t in &members[1..] {
                let v = self.term_voltage(bias, t);
                if v != v0 {
                    return Err(CrossbarError::Input(format!(
                        "{:?}: shorted ends biased at {v0} V and {v} V",
                        self.terminals[t].line
                    )));
                }
            }
            out.push(v0);
        }
        Ok(())
    }

    pub fn term_voltage(&self, bias: &Bias, t: usize) -> f64 {
        match self.terminals[t].line {
            Line::Row(i) => bias.rows[i].unwrap_or(0.0),
            Line::Col(j) => match bias.cols[j] {
                ColEnd::Bias(v) => v,
                _ => 0.0,
            },
        }
    }
}

/// Geometric nested dissection of the crosspoint rectangle (crates-and-solvers.md, "chol-nd"):
/// cut the longer side; a vertical cut at column m separates with the word-line nodes r(·, m)
/// only, the rest of column m (bit-line chain with middle nodes hanging off it) is a path
/// eliminated just before the separator; a horizontal cut at row k separates with c(k, ·).
/// Returns every line/middle raw node once.
pub fn nd_order(rows: usize, pcols: usize, k: usize) -> Vec<usize> {
    let mut out = Vec::with_capacity(rows * pcols * k);
    nd_visit(rows, pcols, k, &mut |raw| out.push(raw));
    out
}

/// Calls `visit` on every raw node in [`nd_order`] (without storing the order).
fn nd_visit(rows: usize, pcols: usize, k: usize, visit: &mut dyn FnMut(usize)) {
    let id = |i: usize, j: usize, t: usize| (i * pcols + j) * k + t;
    fn rec(
        i0: usize,
        i1: usize,
        j0: usize,
        j1: usize,
        k: usize,
        id: &dyn Fn(usize, usize, usize) -> usize,
        out: &mut dyn FnMut(usize),
    ) {
        let (h, w) = (i1 - i0, j1 - j0);
        if h == 0 || w == 0 {
            return;
        }
        if h * w * k <= 64 {
            for i in i0..i1 {
                for j in j0..j1 {
                    for t in [2, 1, 0] {
                        if t < k {
                            out(id(i, j, t));
                        }
                    }
                }
            }
            return;
        }
        if w >= h {
            let m = j0 + w / 2;
            rec(i0, i1, j0, m, k, id, out);
            rec(i0, i1, m + 1, j1, k, id, out);
            if k == 3 {
                (i0..i1).for_each(|i| out(id(i, m, 2)));
            }
            (i0..i1).for_each(|i| out(id(i, m, 1)));
            (i0..i1).for_each(|i| out(id(i, m, 0)));
        } else {
            let m = i0 + h / 2;
            rec(i0, m, j0, j1, k, id, out);
            rec(m + 1, i1, j0, j1, k, id, out);
            if k == 3 {
                (j0..j1).for_each(|j| out(id(m, j, 2)));
            }
            (j0..j1).for_each(|j| out(id(m, j, 0)));
            (j0..j1).for_each(|j| out(id(m, j, 1)));
        }
    }
    rec(0, rows, 0, pcols, k, &id, visit);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nd_order_is_a_permutation() {
        for &(r, c, k) in &[(1, 1, 2), (7, 13, 2), (33, 17, 3), (64, 64, 2)] {
            let mut o = nd_order(r, c, k);
            assert_eq!(o.len(), r * c * k);
            o.sort_unstable();
            assert!(o.iter().enumerate().all(|(i, &x)| i == x));
        }
    }
}
