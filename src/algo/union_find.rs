//! Disjoint sets (union-find), the one copy used to group near-duplicates.

/// Union-find over `0..n` with path halving and union by size.
#[derive(Clone, Debug)]
pub struct UnionFind {
    parent: Vec<usize>,
    size: Vec<usize>,
}

impl UnionFind {
    /// `n` singletons.
    pub fn new(n: usize) -> Self {
        UnionFind {
            parent: (0..n).collect(),
            size: vec![1; n],
        }
    }

    /// The representative of `x`'s set.
    pub fn find(&mut self, mut x: usize) -> usize {
        while self.parent[x] != x {
            self.parent[x] = self.parent[self.parent[x]];
            x = self.parent[x];
        }
        x
    }

    /// Merges the sets of `a` and `b`.
    pub fn union(&mut self, a: usize, b: usize) {
        let (mut a, mut b) = (self.find(a), self.find(b));
        if a == b {
            return;
        }
        if self.size[a] < self.size[b] {
            std::mem::swap(&mut a, &mut b);
        }
        self.parent[b] = a;
        self.size[a] += self.size[b];
    }

    /// Every set, each in ascending order, the sets ordered by their smallest element: an
    /// order that does not depend on the order of the unions.
    pub fn components(&mut self) -> Vec<Vec<usize>> {
        let n = self.parent.len();
        let mut slot_of_root = vec![usize::MAX; n];
        let mut out: Vec<Vec<usize>> = Vec::new();
        for x in 0..n {
            let root = self.find(x);
            if slot_of_root[root] == usize::MAX {
                slot_of_root[root] = out.len();
                out.push(Vec::new());
            }
            out[slot_of_root[root]].push(x);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unions_merge_sets_and_components_come_in_a_stable_order() {
        let mut uf = UnionFind::new(7);
        uf.union(5, 1);
        uf.union(6, 4);
        uf.union(4, 5);
        uf.union(2, 2);
        assert_eq!(uf.find(6), uf.find(1));
        assert_ne!(uf.find(0), uf.find(1));
        assert_eq!(
            uf.components(),
            vec![vec![0], vec![1, 4, 5, 6], vec![2], vec![3]]
        );
        let mut other = UnionFind::new(7);
        other.union(4, 5);
        other.union(1, 6);
        other.union(6, 4);
        assert_eq!(other.components(), uf.components());
        assert!(UnionFind::new(0).components().is_empty());
    }
}
