//! `--sample N`: the N people whose seeded hash is smallest, chosen while the input streams (a
//! person is admitted or refused at their first record, and an admitted one is evicted when N
//! smaller hashes turn up), so the choice depends only on the seed and the set of people, and
//! memory holds N people's expectations, never more.

use std::collections::BinaryHeap;

use super::key::PersonKey;

/// The seed `--seed` defaults to: the same sample every run.
pub(crate) const DEFAULT_SEED: u64 = 0x5eed;

/// What admitting a person did.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Admission {
    /// In the sample; `Some` names the person evicted to make room.
    In(Option<PersonKey>),
    /// Not in the sample (and never will be: the bar only falls).
    Out,
}

/// The bottom-N sampler.
#[derive(Debug)]
pub(crate) struct Sampler {
    size: usize,
    seed: u64,
    /// The admitted people with their hashes; the largest on top.
    held: BinaryHeap<(u64, PersonKey)>,
}

impl Sampler {
    pub(crate) fn new(size: usize, seed: u64) -> Sampler {
        Sampler {
            size,
            seed,
            held: BinaryHeap::new(),
        }
    }

    /// Decide on a person seen for the first time.
    pub(crate) fn admit(&mut self, key: &PersonKey) -> Admission {
        if self.size == 0 {
            return Admission::Out;
        }
        let entry = (hash(self.seed, key), key.clone());
        if self.held.len() < self.size {
            self.held.push(entry);
            return Admission::In(None);
        }
        match self.held.peek() {
            Some(top) if entry < *top => {
                let evicted = self.held.pop().map(|(_, key)| key);
                self.held.push(entry);
                Admission::In(evicted)
            }
            _ => Admission::Out,
        }
    }
}

/// A stable 64-bit hash of the person and the seed (FNV-1a, then the splitmix64 finaliser): the
/// same on every platform and release, unlike the standard library's.
pub(crate) fn hash(seed: u64, key: &PersonKey) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ seed;
    for byte in key.kind.name().bytes().chain([0]).chain(key.value.bytes()) {
        h ^= u64::from(byte);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::key::IdKind;

    fn people(n: usize) -> Vec<PersonKey> {
        (0..n)
            .map(|i| PersonKey::new(IdKind::Id, &format!("u{i}")))
            .collect()
    }

    fn sample(order: &[PersonKey], size: usize, seed: u64) -> Vec<PersonKey> {
        let mut sampler = Sampler::new(size, seed);
        let mut held = std::collections::BTreeSet::new();
        for key in order {
            if let Admission::In(evicted) = sampler.admit(key) {
                held.insert(key.clone());
                if let Some(e) = evicted {
                    held.remove(&e);
                }
            }
        }
        held.into_iter().collect()
    }

    #[test]
    fn the_sample_depends_on_the_seed_not_the_order() {
        let all = people(500);
        let forward = sample(&all, 20, 7);
        let mut reversed = all.clone();
        reversed.reverse();
        assert_eq!(forward.len(), 20);
        assert_eq!(forward, sample(&reversed, 20, 7));
        assert_ne!(forward, sample(&all, 20, 8));
        assert_eq!(sample(&all[..5], 20, 7).len(), 5);
        assert!(sample(&all, 0, 7).is_empty());
    }

    #[test]
    fn the_hash_is_stable() {
        let key = PersonKey::new(IdKind::Id, "u1");
        assert_eq!(hash(1, &key), hash(1, &key.clone()));
        assert_ne!(hash(1, &key), hash(2, &key));
    }
}
