//! The host -> vendor index behind [`Policy::vendor_for_url`](super::Policy::vendor_for_url).

use super::Vendor;
use std::collections::HashMap;
use std::sync::OnceLock;

/// Candidate patterns by exact host and by domain suffix, built once from the vendors.
#[derive(Debug, Default)]
struct ExactHost {
    /// Path prefix -> vendor index (the first in file order).
    prefixes: HashMap<String, usize>,
    /// The first vendor (in file order) with a pattern for this host.
    first: usize,
}

#[derive(Debug, Default)]
pub struct IndexData {
    /// host -> its path prefixes (`""` for the whole host) -> vendor index.
    exact: HashMap<String, ExactHost>,
    /// domain suffix -> (subdomains only, vendor index), in file order.
    suffix: HashMap<String, Vec<(bool, usize)>>,
}

impl IndexData {
    fn build(vendors: &[Vendor]) -> Self {
        let mut data = IndexData::default();
        for (i, v) in vendors.iter().enumerate() {
            for h in &v.hosts {
                let e = data.exact.entry(h.host.clone()).or_insert(ExactHost {
                    prefixes: HashMap::new(),
                    first: i,
                });
                e.prefixes.entry(h.path_prefix.clone()).or_insert(i);
            }
            for d in &v.domains {
                data.suffix
                    .entry(d.suffix.clone())
                    .or_default()
                    .push((d.subdomains_only, i));
            }
        }
        data
    }

    /// The index of the vendor owning `host` (with `path`, when known).
    pub fn lookup(&self, host: &str, path: Option<&str>) -> Option<usize> {
        let host = host.trim().trim_end_matches('.').to_ascii_lowercase();
        if let Some(e) = self.exact.get(&host) {
            let best = match path {
                // The longest segment-aligned prefix of the path, walking its segments.
                Some(path) => {
                    let path = path.split(['?', '#']).next().unwrap_or_default();
                    let mut rest = path.trim_end_matches('/');
                    loop {
                        if let Some(i) = e.prefixes.get(rest) {
                            break Some(*i);
                        }
                        match rest.rfind('/') {
                            Some(cut) => rest = rest.get(..cut).unwrap_or_default(),
                            None => break None,
                        }
                    }
                }
                // No path: the pattern owning the whole host, else the first.
                None => Some(e.prefixes.get("").copied().unwrap_or(e.first)),
            };
            if let Some(i) = best {
                return Some(i);
            }
        }
        // The host's label suffixes, longest first.
        let mut rest = host.as_str();
        loop {
            if let Some(candidates) = self.suffix.get(rest) {
                let whole_host = rest.len() == host.len();
                if let Some((_, i)) = candidates
                    .iter()
                    .find(|(sub_only, _)| !whole_host || !sub_only)
                {
                    return Some(*i);
                }
            }
            match rest.split_once('.') {
                Some((_, tail)) => rest = tail,
                None => return None,
            }
        }
    }
}

/// A lazily built [`IndexData`]. Equal to every other index: it is a cache derived
/// from the vendors.
#[derive(Debug, Default, Clone)]
pub struct HostIndex(OnceLock<std::sync::Arc<IndexData>>);

impl HostIndex {
    pub(crate) fn get(&self, vendors: &[Vendor]) -> &IndexData {
        self.0
            .get_or_init(|| std::sync::Arc::new(IndexData::build(vendors)))
    }
}

impl PartialEq for HostIndex {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}
