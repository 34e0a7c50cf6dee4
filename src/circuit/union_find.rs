//! Disjoint sets of node indices (union-find with path halving): the one used to find which
//! nodes a DC path or a zero-ohm wire joins, by the netlist topology check and by the
//! crossbar's merging of ideal wire segments.

/// Disjoint sets over `0..n`.
#[derive(Clone, Debug)]
pub struct UnionFind {
    parent: Vec<usize>,
}

impl UnionFind {
    /// `n` singleton sets.
    pub fn new(n: usize) -> Self {
        UnionFind {
            parent: (0..n).collect(),
        }
    }

    /// The representative of `x`'s set: its smallest-index root (see [`union`](Self::union)).
    pub fn find(&mut self, mut x: usize) -> usize {
        while self.parent[x] != x {
            self.parent[x] = self.parent[self.parent[x]];
            x = self.parent[x];
        }
        x
    }

    /// Joins the sets of `a` and `b`; false if they were already one set. Deterministic: the
    /// smaller root becomes the parent, so a set's representative does not depend on the order
    /// of the unions.
    pub fn union(&mut self, a: usize, b: usize) -> bool {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra == rb {
            return false;
        }
        let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
        self.parent[hi] = lo;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::UnionFind;

    #[test]
    fn union_reports_a_repeat_join_and_the_smallest_index_represents_the_set() {
        let mut uf = UnionFind::new(6);
        assert!(uf.union(4, 2));
        assert!(uf.union(5, 4));
        assert!(!uf.union(2, 5), "already one set");
        assert_eq!([uf.find(2), uf.find(4), uf.find(5)], [2, 2, 2]);
        assert!(uf.union(3, 1));
        assert!(uf.union(5, 3));
        assert_eq!(uf.find(4), 1);
        assert_eq!(uf.find(0), 0);
    }
}
