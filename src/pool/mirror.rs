//! What the pool keeps in memory of the store: its counters and its sources. A stage never
//! changes them in place: it stages its changes in a [`Tally`] while it builds a store batch,
//! and [`Mirror::commit`] writes the batch together with the tally's counters and changed
//! sources and, only once the store has them, makes them the pool's. So memory mirrors the store
//! by construction, also when a write fails.

use std::collections::btree_map::Entry;
use std::collections::BTreeMap;

use crate::error::Result;
use crate::store::{PoolCounters, SourceInfo, StoreBatch};

/// The pool's counters and sources as the store last committed them.
#[derive(Clone, Debug, Default)]
pub struct Mirror {
    counters: PoolCounters,
    sources: BTreeMap<String, SourceInfo>,
}

impl Mirror {
    /// The mirror of what a store holds.
    pub(crate) fn new(counters: PoolCounters, sources: BTreeMap<String, SourceInfo>) -> Mirror {
        Mirror { counters, sources }
    }

    /// The pool's counters.
    pub fn counters(&self) -> PoolCounters {
        self.counters
    }

    /// The pool's sources by name.
    pub fn sources(&self) -> &BTreeMap<String, SourceInfo> {
        &self.sources
    }

    /// An empty set of changes, starting from the current counters.
    pub(crate) fn tally(&self) -> Tally {
        Tally {
            counters: self.counters,
            sources: BTreeMap::new(),
            next_id: self.sources.len() as u32,
        }
    }

    /// Writes `batch` with the counters and the changed sources of `tally` in one atomic write,
    /// then makes them the pool's.
    pub(crate) fn commit(&mut self, mut batch: StoreBatch<'_>, tally: Tally) -> Result<()> {
        for (name, info) in &tally.sources {
            batch.put_source(name, info);
        }
        batch.put_counters(&tally.counters);
        batch.commit()?;
        self.counters = tally.counters;
        self.sources.extend(tally.sources);
        Ok(())
    }
}

/// Changes to the pool's counters and sources that the next [`Mirror::commit`] writes.
#[derive(Clone, Debug)]
pub struct Tally {
    counters: PoolCounters,
    sources: BTreeMap<String, SourceInfo>,
    next_id: u32,
}

impl Tally {
    /// The counters as the commit will leave them.
    pub(crate) fn counters(&mut self) -> &mut PoolCounters {
        &mut self.counters
    }

    /// The source `name` as the commit will leave it: the pool's, or a new source with the next
    /// id.
    pub(crate) fn source(&mut self, mirror: &Mirror, name: &str) -> &mut SourceInfo {
        match self.sources.entry(name.to_string()) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(e) => {
                let info = mirror.sources.get(name).cloned().unwrap_or_else(|| {
                    self.next_id += 1;
                    SourceInfo {
                        id: self.next_id - 1,
                        ..SourceInfo::default()
                    }
                });
                e.insert(info)
            }
        }
    }

    /// The pool's source `name` as the commit will leave it, or `None` when the pool has no
    /// source of that name.
    pub(crate) fn known_source(&mut self, mirror: &Mirror, name: &str) -> Option<&mut SourceInfo> {
        if !self.sources.contains_key(name) && !mirror.sources.contains_key(name) {
            return None;
        }
        Some(self.source(mirror, name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mirror() -> Mirror {
        let web = SourceInfo {
            id: 0,
            docs: 2,
            tokens: 10,
            bytes: 40,
        };
        let counters = PoolCounters {
            next_seq: 2,
            docs: 2,
            tokens: 10,
            bytes: 40,
            ..PoolCounters::default()
        };
        Mirror::new(counters, [("web".to_string(), web)].into())
    }

    #[test]
    fn a_tally_starts_from_the_pool_and_numbers_new_sources_after_it() {
        let m = mirror();
        let mut t = m.tally();
        t.counters().docs += 1;
        assert_eq!(t.source(&m, "web").docs, 2);
        t.source(&m, "web").docs += 1;
        assert_eq!(t.source(&m, "web").docs, 3);
        assert_eq!(t.source(&m, "wiki").id, 1);
        assert_eq!(t.source(&m, "code").id, 2);
        assert_eq!(t.source(&m, "wiki").id, 1);
        assert!(t.known_source(&m, "books").is_none());
        assert!(t.known_source(&m, "wiki").is_some());
        // Nothing changes in memory before a commit.
        assert_eq!(m.counters().docs, 2);
        assert_eq!(m.sources()["web"].docs, 2);
        assert_eq!(m.sources().len(), 1);
    }
}
