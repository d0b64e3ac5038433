//! A znode as the tree stores it: one allocation behind a one-word pointer, holding its
//! Stat, ACL number, path and data, and its owner and child names only if it has them.
//!
//! Count the bytes. A node as a plain struct that owns its path and data as a `Box<[u8]>` is
//! two allocations: the struct, and the bytes, with a pointer and a length (16 bytes) in the
//! struct to find them. A `StatPersisted` inside it is 64 bytes, 4 of them padding, and 8 of
//! them the ephemeral owner, which is zero for every node but ephemerals. A child set is
//! 8 more, and most znodes are leaves. Here a node is one allocation laid out as
//!
//! ```text
//! pointer ─► [ head: Stat but its owner, ACL number, path length, data length ]   64 bytes
//!            [ ephemeral owner ]                              only for an ephemeral
//!            [ child names ]                                  only once it has a child
//!            [ path … ][ data … ]
//! ```
//!
//! and the pointer is all a table slot holds. A leaf that is not ephemeral, with a 21-byte
//! path and 100-byte data, is 64 + 121 bytes where the plain struct and its bytes were
//! 96 + 121, and malloc's own header and rounding are paid once instead of twice.
//!
//! Rust's `Box` cannot hold "a struct and then parts known only at run time" behind a thin
//! pointer, so this module does what `Box` does by hand: it computes the layout, allocates,
//! writes, reads and frees. It is the only `unsafe` code of the tree, and each block says why
//! it holds. Outside it a node is its methods: [`StoredNode::stat`] hands out a whole
//! [`StatPersisted`] and [`StoredNode::update_stat`] takes one back. A new data, or a first
//! child, makes a new allocation, as the old node made its path-and-data allocation again.
//!
//! The ACL list is a 4-byte number in the tree's table of lists
//! ([`AclTable`](super::acls::AclTable)), the way ZooKeeper's `ReferenceCountedACLCache` hands
//! each `DataNode` a `Long` instead of its list. Readers never see this form:
//! [`DataTree::node`](super::DataTree::node) lends them a [`DataNode`](super::DataNode), with
//! the data as a slice and the ACL as its list.

use super::acls::AclRef;
use super::Children;
use crate::stat::StatPersisted;
use crate::zxid::Zxid;
use std::alloc::{self, Layout};
use std::fmt;
use std::marker::PhantomData;
use std::mem::{align_of, size_of};
use std::ptr::{self, NonNull};

// ANCHOR: stored_node
/// What every node's allocation starts with: its stored Stat but the ephemeral owner, its
/// ACL number, and how to read what follows. The three versions, the ACL number and the two
/// lengths fill 24 bytes with no padding between them.
#[derive(Clone, Copy, Debug)]
struct Head {
    czxid: Zxid,
    mzxid: Zxid,
    pzxid: Zxid,
    ctime: i64,
    mtime: i64,
    version: i32,
    cversion: i32,
    aversion: i32,
    acl: AclRef,
    /// The path's length in bytes, and in its top bits [`HAS_OWNER`] and [`HAS_CHILDREN`].
    path_len: u32,
    /// The data's length in bytes, or [`NULL_DATA`].
    data_len: u32,
}

/// An ephemeral owner follows the head.
const HAS_OWNER: u32 = 1 << 31;
/// A child set follows the head (and the owner, if any).
const HAS_CHILDREN: u32 = 1 << 30;
/// The bits of `path_len` that are the length: a path arrives in a frame of at most
/// `jute.maxbuffer` bytes (1 MiB by default), far under 2³⁰.
const PATH_LEN: u32 = HAS_CHILDREN - 1;
// Every path the tree stores passed `validate_path`, which turns away longer ones.
const _: () = assert!(PATH_LEN as usize == crate::path::MAX_PATH_BYTES);
/// The data length that stands for null data (ZooKeeper's `null`, distinct from empty).
const NULL_DATA: u32 = u32::MAX;

/// One znode in the table: a pointer to its [`Head`], then its owner and child set if it has
/// them, then its path's bytes and its data's.
pub(super) struct StoredNode {
    head: NonNull<Head>,
    /// The node owns a child set in its allocation (for drop check and auto traits).
    _owns: PhantomData<Children>,
}
// ANCHOR_END: stored_node

// The optional fields are one word each, aligned as the head is: each lies at an 8-byte
// boundary after it, and the bytes after them need no alignment.
const WORD: usize = 8;
const _: () = assert!(size_of::<Children>() == WORD && align_of::<Children>() <= WORD);
const _: () = assert!(size_of::<i64>() == WORD && align_of::<i64>() <= WORD);
const _: () = assert!(size_of::<Head>() % WORD == 0 && align_of::<Head>() == WORD);

// SAFETY: a node owns its allocation as a `Box` would and shares it with no one; what it
// holds (plain numbers, bytes, a `Children`) can move between threads and be read from
// several at once.
unsafe impl Send for StoredNode {}
// SAFETY: as above; `&StoredNode` only lends `&Children` and `&[u8]`.
unsafe impl Sync for StoredNode {}

impl Head {
    fn path_len(&self) -> usize {
        (self.path_len & PATH_LEN) as usize
    }

    fn data_len(&self) -> usize {
        match self.data_len {
            NULL_DATA => 0,
            len => len as usize,
        }
    }

    /// Where the owner, the child set and the bytes start, from the allocation's start.
    fn offsets(&self) -> (usize, usize, usize) {
        let owner = size_of::<Head>();
        let children = owner
            + if self.path_len & HAS_OWNER != 0 {
                WORD
            } else {
                0
            };
        let bytes = children
            + if self.path_len & HAS_CHILDREN != 0 {
                WORD
            } else {
                0
            };
        (owner, children, bytes)
    }

    /// The allocation's layout: the head, its optional words, the path and the data.
    fn layout(&self) -> Layout {
        let (_, _, bytes) = self.offsets();
        let size = bytes + self.path_len() + self.data_len();
        Layout::from_size_align(size, align_of::<Head>()).expect("a path and data fit in memory")
    }
}

/// How the head stores the length of `data`.
fn stored_data_len(data: Option<&[u8]>) -> u32 {
    match data {
        None => NULL_DATA,
        Some(data) => u32::try_from(data.len())
            .ok()
            .filter(|&len| len < NULL_DATA)
            .expect("data fits in a jute buffer"),
    }
}

impl StoredNode {
    /// A node with no children yet.
    pub(super) fn new(
        path: &str,
        data: Option<&[u8]>,
        acl: AclRef,
        stat: StatPersisted,
    ) -> StoredNode {
        let head = Head {
            czxid: stat.czxid,
            mzxid: stat.mzxid,
            pzxid: stat.pzxid,
            ctime: stat.ctime,
            mtime: stat.mtime,
            version: stat.version,
            cversion: stat.cversion,
            aversion: stat.aversion,
            acl,
            path_len: 0,
            data_len: 0,
        };
        StoredNode::write(head, stat.ephemeral_owner, None, path.as_bytes(), data)
    }

    /// Allocates a node and moves the parts into it; `children` if it has a child set.
    /// The head's lengths and flags are set here, from the parts.
    fn write(
        mut head: Head,
        owner: i64,
        children: Option<Children>,
        path: &[u8],
        data: Option<&[u8]>,
    ) -> StoredNode {
        head.path_len = u32::try_from(path.len())
            .ok()
            .filter(|&len| len <= PATH_LEN)
            .expect("a path fits in a jute buffer");
        head.data_len = stored_data_len(data);
        if owner != 0 {
            head.path_len |= HAS_OWNER;
        }
        if children.is_some() {
            head.path_len |= HAS_CHILDREN;
        }
        let data = data.unwrap_or_default();
        let layout = head.layout();
        let (owner_at, children_at, bytes_at) = head.offsets();
        // SAFETY: the layout is never zero-sized: it holds a `Head`.
        let base = unsafe { alloc::alloc(layout) };
        let Some(head_ptr) = NonNull::new(base.cast::<Head>()) else {
            alloc::handle_alloc_error(layout)
        };
        // SAFETY: `base` is a fresh allocation of `layout`, which `offsets` laid out: the
        // head at its start, each optional word where the head's flags say, 8-aligned (the
        // asserts above), and `path.len() + data.len()` bytes from `bytes_at` to its end.
        // Nothing else points into it yet.
        unsafe {
            head_ptr.as_ptr().write(head);
            if owner != 0 {
                base.add(owner_at).cast::<i64>().write(owner);
            }
            if let Some(children) = children {
                base.add(children_at).cast::<Children>().write(children);
            }
            let bytes = base.add(bytes_at);
            ptr::copy_nonoverlapping(path.as_ptr(), bytes, path.len());
            ptr::copy_nonoverlapping(data.as_ptr(), bytes.add(path.len()), data.len());
        }
        StoredNode {
            head: head_ptr,
            _owns: PhantomData,
        }
    }

    fn head(&self) -> &Head {
        // SAFETY: `head` points to the `Head` written by `write`, alive until `drop`, and
        // `&self` keeps it from being changed meanwhile.
        unsafe { self.head.as_ref() }
    }

    fn head_mut(&mut self) -> &mut Head {
        // SAFETY: as in `head`; `&mut self` makes this the only reference. Callers change
        // the Stat and ACL fields, never the lengths and flags the layout is read with.
        unsafe { self.head.as_mut() }
    }

    /// A pointer to the byte `at` bytes into the allocation.
    fn at(&self, at: usize) -> *mut u8 {
        // SAFETY: every offset passed in is one `offsets` gave, inside the allocation.
        unsafe { self.head.as_ptr().cast::<u8>().add(at) }
    }

    /// The path's bytes then the data's.
    fn bytes(&self) -> &[u8] {
        let head = self.head();
        let (_, _, bytes_at) = head.offsets();
        let len = head.path_len() + head.data_len();
        // SAFETY: `write` put `len` initialised bytes at `bytes_at`, which live and stay
        // unchanged as long as `self` is borrowed.
        unsafe { std::slice::from_raw_parts(self.at(bytes_at), len) }
    }

    /// The path's bytes.
    pub(super) fn path_bytes(&self) -> &[u8] {
        &self.bytes()[..self.head().path_len()]
    }

    /// The path: the bytes of the `&str` the node was made with.
    pub(super) fn path(&self) -> &str {
        std::str::from_utf8(self.path_bytes()).expect("a node's path was a str")
    }

    /// The data; `None` is ZooKeeper's null data, distinct from empty.
    pub(super) fn data(&self) -> Option<&[u8]> {
        let head = self.head();
        let path_len = head.path_len();
        (head.data_len != NULL_DATA).then(|| &self.bytes()[path_len..])
    }

    /// The bytes of the data (0 for null data), as `dataLength` counts them.
    pub(super) fn data_len(&self) -> usize {
        self.head().data_len()
    }

    /// The raw ephemeral owner (0 for a node that has none).
    pub(super) fn owner(&self) -> i64 {
        let head = self.head();
        if head.path_len & HAS_OWNER == 0 {
            return 0;
        }
        let (owner_at, _, _) = head.offsets();
        // SAFETY: the flag says `write` put an `i64` there, 8-aligned.
        unsafe { self.at(owner_at).cast::<i64>().read() }
    }

    // ANCHOR: node_stat
    /// The stored Stat, put together from the head and the owner.
    pub(super) fn stat(&self) -> StatPersisted {
        let head = self.head();
        StatPersisted {
            czxid: head.czxid,
            mzxid: head.mzxid,
            ctime: head.ctime,
            mtime: head.mtime,
            version: head.version,
            cversion: head.cversion,
            aversion: head.aversion,
            ephemeral_owner: self.owner(),
            pzxid: head.pzxid,
        }
    }

    /// Changes the stored Stat. A node's owner is set when it is created and never changes.
    pub(super) fn update_stat(&mut self, change: impl FnOnce(&mut StatPersisted)) {
        let mut stat = self.stat();
        let owner = stat.ephemeral_owner;
        change(&mut stat);
        assert_eq!(stat.ephemeral_owner, owner, "an owner never changes");
        let head = self.head_mut();
        head.czxid = stat.czxid;
        head.mzxid = stat.mzxid;
        head.pzxid = stat.pzxid;
        head.ctime = stat.ctime;
        head.mtime = stat.mtime;
        head.version = stat.version;
        head.cversion = stat.cversion;
        head.aversion = stat.aversion;
    }
    // ANCHOR_END: node_stat

    /// The ACL list's number in the tree's table.
    pub(super) fn acl(&self) -> AclRef {
        self.head().acl
    }

    pub(super) fn set_acl(&mut self, acl: AclRef) {
        self.head_mut().acl = acl;
    }

    /// The child names; a leaf has none.
    pub(super) fn children(&self) -> &Children {
        /// What a leaf lends: no names.
        static NONE: Children = Children::new();
        let head = self.head();
        if head.path_len & HAS_CHILDREN == 0 {
            return &NONE;
        }
        let (_, children_at, _) = head.offsets();
        // SAFETY: the flag says `write` put a `Children` there, 8-aligned, alive until
        // `drop`; `&self` keeps it from being changed meanwhile.
        unsafe { &*self.at(children_at).cast::<Children>() }
    }

    /// The child names, to change; a leaf's node is made again with room for them first.
    pub(super) fn children_mut(&mut self) -> &mut Children {
        if self.head().path_len & HAS_CHILDREN == 0 {
            self.rebuild(Some(Children::default()), None);
        }
        let (_, children_at, _) = self.head().offsets();
        // SAFETY: the node now has a child set at `children_at`, and `&mut self` makes this
        // the only reference to it.
        unsafe { &mut *self.at(children_at).cast::<Children>() }
    }

    /// New data: the node is made again, as long as its path and the data.
    pub(super) fn set_data(&mut self, data: Option<&[u8]>) {
        self.rebuild(None, Some(data));
    }

    /// Makes this node again with the same head, owner and path, a child set if it had one
    /// or if `new_children` is given, and `new_data` if given; frees the old allocation.
    fn rebuild(&mut self, new_children: Option<Children>, new_data: Option<Option<&[u8]>>) {
        let head = *self.head();
        let data = new_data.unwrap_or_else(|| self.data());
        // Checked before the child set is moved out: nothing may unwind while it is.
        stored_data_len(data);
        let had_children = head.path_len & HAS_CHILDREN != 0;
        let (_, children_at, _) = head.offsets();
        // SAFETY: the old child set is moved (read bitwise) into the new node, and the old
        // allocation is then freed without dropping it, so it is owned once throughout.
        // `write` cannot unwind in between: the lengths it checks are the old node's or were
        // checked above, and a failed allocation aborts.
        let children = match had_children {
            true => Some(unsafe { self.at(children_at).cast::<Children>().read() }),
            false => new_children,
        };
        let new = StoredNode::write(head, self.owner(), children, self.path_bytes(), data);
        let old = std::mem::replace(self, new);
        let layout = old.head().layout();
        let old = std::mem::ManuallyDrop::new(old);
        // SAFETY: `old` was allocated with `layout`, and its child set now belongs to `self`.
        unsafe { alloc::dealloc(old.head.as_ptr().cast(), layout) };
    }
}

impl Drop for StoredNode {
    fn drop(&mut self) {
        let head = *self.head();
        if head.path_len & HAS_CHILDREN != 0 {
            let (_, children_at, _) = head.offsets();
            // SAFETY: the flag says a `Children` is there; it is dropped once, here.
            unsafe { ptr::drop_in_place(self.at(children_at).cast::<Children>()) };
        }
        // SAFETY: allocated by `write` with this layout (the lengths and flags never change
        // in place).
        unsafe { alloc::dealloc(self.head.as_ptr().cast(), head.layout()) };
    }
}

impl Clone for StoredNode {
    fn clone(&self) -> StoredNode {
        let head = self.head();
        let children = (head.path_len & HAS_CHILDREN != 0).then(|| self.children().clone());
        StoredNode::write(
            *head,
            self.owner(),
            children,
            self.path_bytes(),
            self.data(),
        )
    }
}

impl fmt::Debug for StoredNode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredNode")
            .field("path", &self.path())
            .field("data", &self.data())
            .field("acl", &self.acl())
            .field("stat", &self.stat())
            .field("children", &self.children().iter().collect::<Vec<_>>())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stat(n: i64, owner: i64) -> StatPersisted {
        StatPersisted {
            czxid: Zxid(n),
            mzxid: Zxid(n + 1),
            ctime: n + 2,
            mtime: n + 3,
            version: 4,
            cversion: 5,
            aversion: 6,
            ephemeral_owner: owner,
            pzxid: Zxid(n + 7),
        }
    }

    /// Data lengths to try: every one up to 300, and a long one; under Miri, which runs
    /// some thousand times slower, the ones around the word and byte boundaries.
    fn lengths() -> Vec<usize> {
        if cfg!(miri) {
            vec![0, 1, 3, 7, 8, 9, 15, 16, 17, 100, 255, 256, 300]
        } else {
            (0..=300).chain([4096]).collect()
        }
    }

    fn data_of(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 7 + len) as u8).collect()
    }

    fn names(node: &StoredNode) -> Vec<&str> {
        node.children().iter().collect()
    }

    #[test]
    fn a_node_is_one_pointer_to_a_64_byte_head_then_its_bytes() {
        assert_eq!(size_of::<StoredNode>(), 8);
        assert_eq!(size_of::<Option<StoredNode>>(), 8);
        assert_eq!(size_of::<Head>(), 64);
        let leaf = StoredNode::new("/a/b", Some(b"xyz"), AclRef::default(), stat(1, 0));
        assert_eq!(leaf.head().layout().size(), 64 + 4 + 3);
        let mut ephemeral = StoredNode::new("/a/b", None, AclRef::default(), stat(1, 9));
        assert_eq!(ephemeral.head().layout().size(), 64 + 8 + 4);
        ephemeral.children_mut().insert("c");
        assert_eq!(ephemeral.head().layout().size(), 64 + 8 + 8 + 4);
    }

    #[test]
    fn paths_data_and_owners_of_every_length_read_back() {
        let long_path = format!("/{}", "p".repeat(3000));
        for path in ["/", "/a", "/a/b/c", "/\u{e9}", long_path.as_str()] {
            for owner in [0, -1, 0x100000000000001] {
                for len in lengths() {
                    let data = data_of(len);
                    let acl = AclRef::default();
                    let node = StoredNode::new(path, Some(&data), acl, stat(len as i64, owner));
                    assert_eq!((node.path(), node.data()), (path, Some(&data[..])));
                    assert_eq!(
                        (node.stat(), node.data_len()),
                        (stat(len as i64, owner), len)
                    );
                    assert!(node.children().is_empty());
                }
                let null = StoredNode::new(path, None, AclRef::default(), stat(0, owner));
                assert_eq!((null.path(), null.data(), null.data_len()), (path, None, 0));
                assert_eq!(null.owner(), owner);
            }
        }
    }

    #[test]
    fn an_empty_path_and_empty_data_are_a_bare_head() {
        let node = StoredNode::new("", Some(b""), AclRef::default(), stat(0, 0));
        assert_eq!((node.path(), node.data()), ("", Some(&b""[..])));
        assert_eq!(node.head().layout().size(), 64);
    }

    #[test]
    fn set_data_keeps_the_stat_owner_path_and_children() {
        for owner in [0, 7] {
            let mut node = StoredNode::new("/x/y", None, AclRef::default(), stat(3, owner));
            node.children_mut().insert("kid");
            let mut lens: Vec<Option<usize>> = lengths().into_iter().map(Some).collect();
            lens.extend([None, Some(0), None, Some(1000), Some(3)]);
            for len in lens {
                let data = len.map(data_of);
                node.set_data(data.as_deref());
                assert_eq!(node.data(), data.as_deref());
                assert_eq!((node.path(), node.stat()), ("/x/y", stat(3, owner)));
                assert_eq!(names(&node), ["kid"]);
            }
        }
    }

    #[test]
    fn a_first_child_makes_room_and_keeps_everything_else() {
        let mut node = StoredNode::new("/p", Some(b"data"), AclRef::default(), stat(2, 5));
        assert!(node.children().is_empty());
        assert!(node.children_mut().insert("b"));
        assert!(node.children_mut().insert("a"));
        assert_eq!(names(&node), ["a", "b"]);
        assert_eq!((node.path(), node.data()), ("/p", Some(&b"data"[..])));
        assert_eq!(node.stat(), stat(2, 5));
        // Emptied, it keeps its (empty) set: no new allocation on the way down.
        node.children_mut().remove("a");
        node.children_mut().remove("b");
        assert!(node.children().is_empty());
    }

    #[test]
    fn the_stat_and_acl_change_in_place_but_the_owner_never() {
        let mut node = StoredNode::new("/s", None, AclRef::default(), stat(1, 3));
        node.update_stat(|s| {
            s.cversion = 40;
            s.pzxid = Zxid(41);
        });
        let want = StatPersisted {
            cversion: 40,
            pzxid: Zxid(41),
            ..stat(1, 3)
        };
        assert_eq!(node.stat(), want);
        let moved = std::panic::catch_unwind(move || {
            node.update_stat(|s| s.ephemeral_owner = 4);
        });
        assert!(moved.is_err());
    }

    #[test]
    fn clones_are_independent() {
        for len in lengths() {
            let data = data_of(len);
            let mut original = StoredNode::new("/c", Some(&data), AclRef::default(), stat(1, 2));
            if len % 2 == 0 {
                original.children_mut().insert("x");
            }
            let mut copy = original.clone();
            copy.set_data(None);
            copy.children_mut().insert("y");
            drop(original);
            assert_eq!(
                (copy.path(), copy.data(), copy.stat()),
                ("/c", None, stat(1, 2))
            );
            let want: &[&str] = if len % 2 == 0 { &["x", "y"] } else { &["y"] };
            assert_eq!(names(&copy), want);
        }
    }

    #[test]
    fn nodes_can_move_between_threads() {
        let mut node = StoredNode::new("/t", Some(b"moved"), AclRef::default(), stat(1, 0));
        node.children_mut().insert("c");
        let back = std::thread::spawn(move || node).join().expect("no panic");
        assert_eq!(
            (back.data(), names(&back)),
            (Some(&b"moved"[..]), vec!["c"])
        );
    }
}
