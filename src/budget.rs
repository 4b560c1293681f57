//! A least-recently-used map bounded by the bytes its entries hold, for caches whose entries
//! differ widely in size (snippet tokens, articles converted to the other Chinese script).

use lru::LruCache;
use std::hash::Hash;

/// Entries by key; the least recently used go first when their bytes pass the budget.
pub(crate) struct BudgetLru<K, V> {
    entries: LruCache<K, V>,
    /// Bytes of the entries held.
    bytes: usize,
    /// Bytes allowed before the least recently used entries go.
    budget: usize,
    /// Bytes an entry holds.
    size: fn(&V) -> usize,
}

impl<K: Hash + Eq, V> BudgetLru<K, V> {
    /// Returns an empty map that holds at most `budget` bytes, each entry's counted by `size`.
    pub(crate) fn new(budget: usize, size: fn(&V) -> usize) -> Self {
        BudgetLru {
            entries: LruCache::unbounded(),
            bytes: 0,
            budget,
            size,
        }
    }

    /// Returns the entry of `key`, now the most recently used.
    pub(crate) fn get(&mut self, key: &K) -> Option<&V> {
        self.entries.get(key)
    }

    /// Keeps `value` under `key` (replacing its entry), then drops the least recently used
    /// entries until their bytes are within the budget. An entry larger than the whole budget
    /// is not kept: it would push out every other entry, and then itself.
    pub(crate) fn put(&mut self, key: K, value: V) {
        let bytes = (self.size)(&value);
        if bytes > self.budget {
            return;
        }
        self.bytes += bytes;
        if let Some((_, old)) = self.entries.push(key, value) {
            self.bytes -= (self.size)(&old);
        }
        while self.bytes > self.budget {
            let Some((_, old)) = self.entries.pop_lru() else {
                break;
            };
            self.bytes -= (self.size)(&old);
        }
    }

    /// Drops every entry.
    pub(crate) fn clear(&mut self) {
        self.entries.clear();
        self.bytes = 0;
    }

    /// Returns how many entries are held.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Returns the bytes of the entries held.
    #[cfg(test)]
    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }
}
