//! A znode's children: the names under it, sorted, packed into short strings.
//!
//! Every znode but the root is a name in its parent's child set, so what a name costs there
//! is paid once per znode. A set of `Box<str>` pays for each name a 16-byte pointer, a
//! separate allocation and its share of the set's nodes: some 40 bytes for an 8-byte name.
//! Here the names are written out in order, joined by `/` — the one character a name cannot
//! hold — into *runs* of at most [`RUN_BYTES`] bytes, and the set is the list of runs:
//! `["n0000000/n0000001/…/n0000027", "n0000028/…"]`. A name then costs its bytes and one
//! separator, about 10 bytes in all.
//!
//! Runs keep changes cheap: adding or removing a name rewrites one run (a few hundred bytes at
//! most), found by a binary search on the runs' first names, never the whole list; a run that
//! outgrows [`RUN_BYTES`] splits in two, and a run that shrinks joins its neighbour when both
//! fit in one. Most znodes are leaves, and a leaf's set is a null pointer.
//!
//! Upstream's `DataNode` keeps a `HashSet<String>` it creates only on the first child
//! (`DataNode.addChild`), and zkCli sorts the names for display. Ours are kept sorted, so a
//! listing and a snapshot walk come out in the same order on every server.

use std::cmp::Ordering;

/// The longest a run grows before it splits: long enough that a run's pointer is a small
/// share of its names, short enough that rewriting one on every change stays cheap.
pub const RUN_BYTES: usize = 256;

/// What separates two names in a run: it cannot occur in a name.
const SEP: char = '/';

// ANCHOR: children
/// The child names of one znode; no allocation until it has one.
#[derive(Clone, Default)]
pub struct Children(Option<Box<Runs>>);

/// The names of a non-empty set, in runs.
#[derive(Clone)]
struct Runs {
    /// How many names, so that `numChildren` is not a count.
    len: usize,
    /// Names in order, joined by `/`: every name of a run comes before every name of the next,
    /// and no run is empty.
    runs: Vec<Box<str>>,
}
// ANCHOR_END: children

/// Where a name is, or would go, in one run.
enum Place {
    /// The name starts at this byte.
    Found(usize),
    /// The name would start at this byte (the run's length plus one: after the last name).
    Missing(usize),
}

impl Runs {
    /// The run that holds `name`, or would: the last run whose first name is not after it
    /// (the first run for a name before all of them).
    fn run_for(&self, name: &str) -> usize {
        // Names mostly come in order (sequential nodes, a snapshot's walk): try the last run.
        let last = self.runs.len() - 1;
        if first_name(&self.runs[last]) <= name {
            return last;
        }
        self.runs[..last]
            .partition_point(|run| first_name(run) <= name)
            .saturating_sub(1)
    }

    /// Where `name` is or would go in `run`: a scan, as a run holds a few dozen names.
    fn place(run: &str, name: &str) -> Place {
        if last_name(run) < name {
            return Place::Missing(run.len() + 1);
        }
        let mut at = 0;
        loop {
            let here = first_name(&run[at..]);
            match here.cmp(name) {
                Ordering::Less if at + here.len() < run.len() => at += here.len() + 1,
                Ordering::Less => return Place::Missing(run.len() + 1),
                Ordering::Equal => return Place::Found(at),
                Ordering::Greater => return Place::Missing(at),
            }
        }
    }

    /// Adds `name` to run `i` at byte `at`, splitting the run if it grew too long.
    fn insert_at(&mut self, i: usize, at: usize, name: &str) {
        let at_end = at > self.runs[i].len();
        // After the last name: it starts a new run if this one is full, so that names added
        // in order fill each run before the next begins.
        if at_end && self.runs[i].len() + 1 + name.len() > RUN_BYTES {
            self.runs.insert(i + 1, name.into());
            return;
        }
        // Grown in place: the allocator can often extend the run where it is.
        let mut grown = std::mem::take(&mut self.runs[i]).into_string();
        grown.reserve_exact(1 + name.len());
        if at_end {
            grown.push(SEP);
            grown.push_str(name);
        } else {
            grown.insert(at, SEP);
            grown.insert_str(at, name);
        }
        if grown.len() <= RUN_BYTES {
            self.runs[i] = grown.into_boxed_str();
            return;
        }
        let mut pieces = Vec::with_capacity(2);
        split(&grown, &mut pieces);
        self.runs.splice(i..=i, pieces);
    }

    /// Removes the name of `len` bytes at byte `at` of run `i`; an emptied run goes, and a
    /// short one joins a neighbour if the two fit in one run.
    fn remove_at(&mut self, i: usize, at: usize, len: usize) {
        if self.runs[i].len() == len {
            self.runs.remove(i);
            return;
        }
        let mut shrunk = std::mem::take(&mut self.runs[i]).into_string();
        // The name and one separator next to it: the one after, or before the last name.
        match at + len < shrunk.len() {
            true => shrunk.replace_range(at..at + len + 1, ""),
            false => shrunk.truncate(at - 1),
        }
        self.runs[i] = shrunk.into_boxed_str();
        let fits = |a: &str, b: &str| a.len() + 1 + b.len() <= RUN_BYTES;
        if i + 1 < self.runs.len() && fits(&self.runs[i], &self.runs[i + 1]) {
            self.join(i);
        } else if i > 0 && fits(&self.runs[i - 1], &self.runs[i]) {
            self.join(i - 1);
        }
    }

    /// Joins run `i + 1` onto run `i`.
    fn join(&mut self, i: usize) {
        let next = self.runs.remove(i + 1);
        let mut joined = std::mem::take(&mut self.runs[i]).into_string();
        joined.reserve_exact(1 + next.len());
        joined.push(SEP);
        joined.push_str(&next);
        self.runs[i] = joined.into_boxed_str();
    }
}

/// The first name of a run (or of the rest of one).
fn first_name(run: &str) -> &str {
    // A byte scan: names are short, and a separator is one byte that no character contains.
    let end = run.bytes().position(|b| b == SEP as u8);
    &run[..end.unwrap_or(run.len())]
}

/// The last name of a run.
fn last_name(run: &str) -> &str {
    let start = run.bytes().rposition(|b| b == SEP as u8);
    &run[start.map_or(0, |sep| sep + 1)..]
}

/// Cuts `run` at the separator nearest its middle, and each half again, until every piece fits
/// in [`RUN_BYTES`] or is a single name.
fn split(run: &str, pieces: &mut Vec<Box<str>>) {
    if run.len() <= RUN_BYTES || !run.contains(SEP) {
        pieces.push(run.into());
        return;
    }
    // Searched as bytes: the middle byte may fall inside a character, a separator never does.
    let (bytes, middle) = (run.as_bytes(), run.len() / 2);
    let is_sep = |b: &u8| *b == SEP as u8;
    let cut = match (
        bytes[..middle].iter().rposition(is_sep),
        bytes[middle..].iter().position(is_sep),
    ) {
        (Some(before), Some(after)) if middle - before <= after => before,
        (_, Some(after)) => middle + after,
        (before, None) => before.expect("a run with a separator"),
    };
    split(&run[..cut], pieces);
    split(&run[cut + 1..], pieces);
}

/// The names of a [`Children`], in order.
pub struct Iter<'a> {
    runs: std::slice::Iter<'a, Box<str>>,
    /// The names left of the run at the front, and of the run at the back.
    front: Option<std::str::Split<'a, char>>,
    back: Option<std::str::Split<'a, char>>,
}

impl<'a> Iterator for Iter<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        loop {
            if let Some(name) = self.front.as_mut().and_then(Iterator::next) {
                return Some(name);
            }
            match self.runs.next() {
                Some(run) => self.front = Some(run.split(SEP)),
                // The last run may be the one the back end opened.
                None => return self.back.as_mut()?.next(),
            }
        }
    }
}

impl DoubleEndedIterator for Iter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(name) = self.back.as_mut().and_then(DoubleEndedIterator::next_back) {
                return Some(name);
            }
            match self.runs.next_back() {
                Some(run) => self.back = Some(run.split(SEP)),
                None => return self.front.as_mut()?.next_back(),
            }
        }
    }
}

impl Children {
    /// No names.
    pub const fn new() -> Children {
        Children(None)
    }

    /// The names, in order.
    pub fn iter(&self) -> Iter<'_> {
        let runs: &[Box<str>] = self.0.as_ref().map_or(&[], |set| &set.runs);
        Iter {
            runs: runs.iter(),
            front: None,
            back: None,
        }
    }

    /// The first name after `name` in order (the first of all after `""`): a walk that holds
    /// its place by name, not by position, goes on correctly while names come and go.
    pub fn next_after<'a>(&'a self, name: &str) -> Option<&'a str> {
        let set = self.0.as_deref()?;
        let i = set.run_for(name);
        let after = |run: &'a str| run.split(SEP).find(|here| *here > name);
        after(&set.runs[i]).or_else(|| set.runs.get(i + 1).and_then(|run| after(run)))
    }

    pub fn len(&self) -> usize {
        self.0.as_ref().map_or(0, |set| set.len)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_none()
    }

    pub fn contains(&self, name: &str) -> bool {
        let Some(set) = self.0.as_deref() else {
            return false;
        };
        let run = &set.runs[set.run_for(name)];
        matches!(Runs::place(run, name), Place::Found(_))
    }

    /// Adds `name`; false if it was there already.
    pub fn insert(&mut self, name: &str) -> bool {
        debug_assert!(!name.is_empty() && !name.contains(SEP), "a name: {name:?}");
        let Some(set) = self.0.as_deref_mut() else {
            self.0 = Some(Box::new(Runs {
                len: 1,
                runs: vec![name.into()],
            }));
            return true;
        };
        let i = set.run_for(name);
        match Runs::place(&set.runs[i], name) {
            Place::Found(_) => false,
            Place::Missing(at) => {
                set.insert_at(i, at, name);
                set.len += 1;
                true
            }
        }
    }

    /// A set of `names`, given in strictly increasing order: packed in one pass, without a
    /// search per name (a tree rebuilt from a snapshot adds a parent's children this way).
    pub fn from_increasing<'a>(names: impl IntoIterator<Item = &'a str>) -> Children {
        let mut runs: Vec<Box<str>> = Vec::new();
        let mut run = String::new();
        let mut len = 0;
        let mut last: Option<&str> = None;
        for name in names {
            debug_assert!(last.is_none_or(|last| last < name), "increasing names");
            last = Some(name);
            if !run.is_empty() && run.len() + 1 + name.len() > RUN_BYTES {
                runs.push(std::mem::take(&mut run).into_boxed_str());
            }
            if !run.is_empty() {
                run.push(SEP);
            }
            run.push_str(name);
            len += 1;
        }
        if run.is_empty() {
            return Children(None);
        }
        runs.push(run.into_boxed_str());
        runs.shrink_to_fit();
        Children(Some(Box::new(Runs { len, runs })))
    }

    /// Removes `name`; false if it was not there. The last one out frees the set, so that an
    /// empty set is always `None`.
    pub fn remove(&mut self, name: &str) -> bool {
        let Some(set) = self.0.as_deref_mut() else {
            return false;
        };
        let i = set.run_for(name);
        let Place::Found(at) = Runs::place(&set.runs[i], name) else {
            return false;
        };
        set.len -= 1;
        if set.len == 0 {
            self.0 = None;
        } else {
            set.remove_at(i, at, name.len());
        }
        true
    }
}

impl PartialEq for Children {
    /// The same names, however they fall into runs (which depends on the order they came).
    fn eq(&self, other: &Children) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl Eq for Children {}

impl std::hash::Hash for Children {
    /// The names in order, as [`PartialEq`] compares them.
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        h.write_usize(self.len());
        for name in self.iter() {
            name.hash(h);
        }
    }
}

impl std::fmt::Debug for Children {
    /// As a set of names, the same whether or not one was ever allocated.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

impl<'a> IntoIterator for &'a Children {
    type Item = &'a str;
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    #[test]
    fn a_leaf_costs_one_pointer() {
        assert_eq!(std::mem::size_of::<Children>(), 8);
    }

    #[test]
    fn the_last_child_out_frees_the_set() {
        let mut children = Children::default();
        assert!(children.insert("b"));
        assert!(children.insert("a"));
        assert!(!children.insert("a"));
        assert_eq!(children.iter().collect::<Vec<_>>(), ["a", "b"]);
        assert!(children.remove("a"));
        assert!(!children.remove("a"));
        assert!(children.remove("b"));
        assert_eq!(children, Children::default());
        assert!(children.is_empty());
        assert_eq!(format!("{children:?}"), "{}");
    }

    #[test]
    fn names_added_in_order_fill_each_run() {
        let names: Vec<String> = (0..1000).map(|i| format!("n{i:07}")).collect();
        let mut children = Children::default();
        for name in &names {
            children.insert(name);
        }
        let runs = &children.0.as_ref().unwrap().runs;
        // 28 names of 8 bytes and their separators fill 251 of a run's 256 bytes.
        assert_eq!(runs.len(), 1000_usize.div_ceil(28));
        assert!(runs[..runs.len() - 1].iter().all(|r| r.len() == 251));
        let built = Children::from_increasing(names.iter().map(String::as_str));
        assert_eq!(built.0.as_ref().unwrap().runs, *runs);
    }

    /// What the set is checked against.
    #[derive(Debug, Clone)]
    enum Op {
        Insert(String),
        Remove(String),
    }

    fn op() -> impl Strategy<Value = Op> {
        // Short names collide often; long ones make runs split and join after few names.
        let name = prop_oneof![
            "[a-c]{1,2}",
            "[a-z0-9]{1,12}",
            "[a-f]{60,130}",
            "[a-z\u{e9}\u{4e2d}]{1,20}",
        ];
        prop_oneof![
            3 => name.clone().prop_map(Op::Insert),
            2 => name.prop_map(Op::Remove),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(100))]

        /// Rule: the set answers as a sorted set of its names would, whatever was added and
        /// removed before, and its runs stay within their size and in order.
        #[test]
        fn runs_answer_as_a_sorted_set(ops in prop::collection::vec(op(), 1..200)) {
            let mut children = Children::default();
            let mut model = BTreeSet::new();
            for op in &ops {
                match op {
                    Op::Insert(n) => prop_assert_eq!(children.insert(n), model.insert(n.clone())),
                    Op::Remove(n) => prop_assert_eq!(children.remove(n), model.remove(n)),
                }
                prop_assert_eq!(children.len(), model.len());
                prop_assert_eq!(children.is_empty(), model.is_empty());
                prop_assert!(children.iter().eq(model.iter().map(String::as_str)));
                prop_assert!(children.iter().rev().eq(model.iter().rev().map(String::as_str)));
            }
            for probe in ["", "a", "b", "m", "zz"].iter().copied().chain(model.iter().map(String::as_str)) {
                let next = model.range::<str, _>((std::ops::Bound::Excluded(probe), std::ops::Bound::Unbounded)).next();
                prop_assert_eq!(children.next_after(probe), next.map(String::as_str));
                prop_assert_eq!(children.contains(probe), model.contains(probe));
            }
            if let Some(set) = &children.0 {
                for run in &set.runs {
                    prop_assert!(!run.is_empty());
                    prop_assert!(run.len() <= RUN_BYTES || !run.contains(SEP), "{}", run);
                }
            }
            let rebuilt = Children::from_increasing(model.iter().map(String::as_str));
            prop_assert_eq!(&rebuilt, &children);
        }
    }
}
