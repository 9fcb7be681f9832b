//! Pure routines shared by several stages: no store, no index, no I/O.
//!
//! - [`rank`]: mid-ranks of runs of equal values, and the thinning of a sorted list to the
//!   quantiles a store keeps.
//! - [`union_find`]: disjoint sets, and connected components in a stable order.
//! - [`grouping`]: near-duplicate groups from MinHash signatures and their LSH bucket keys.

pub mod grouping;
pub mod rank;
pub mod union_find;
