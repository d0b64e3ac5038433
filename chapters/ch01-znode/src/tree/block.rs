//! One allocation per znode: a header, then the path's bytes, then the data's, behind a
//! pointer of one word.
//!
//! Count the bytes. A node as a struct that owns its path and data as a `Box<[u8]>` is two
//! allocations: the struct, and the bytes with a pointer and a length (16 bytes) in the
//! struct to find them. Each allocation also pays malloc's own header and rounding (8 bytes
//! and up to 15 more on glibc). Here a [`Block`] is one allocation laid out as
//!
//! ```text
//! pointer ─► [ header: the node's fields, path length, data length ][ path … ][ data … ]
//! ```
//!
//! so the pointer is 8 bytes (a table slot stays one word), the two lengths are 4 bytes each,
//! and malloc is paid once. The node's fields (Stat, ACL number, child names) are an ordinary
//! struct `H` a reader can see and change through `Deref`; the lengths are this module's
//! alone, so no code outside it can make them disagree with the allocation.
//!
//! Rust's `Box` cannot hold "a struct and then a slice of a length known only at run time"
//! with a thin pointer, so this module does what `Box` does by hand: it computes the layout,
//! allocates, writes, reads and frees. It is the only `unsafe` code of the tree, and each
//! block says why it holds. Changing the data makes a new block, as the old path-and-data
//! allocation was made again too.

use std::alloc::{self, Layout};
use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::ptr::{self, NonNull};

/// The data length that stands for null data (ZooKeeper's `null`, distinct from empty): no
/// data fits in a jute buffer that long.
const NULL_DATA: u32 = u32::MAX;

// ANCHOR: head
/// What a block starts with: the caller's fields, then the two lengths the bytes after it
/// are read with.
struct Head<H> {
    fields: H,
    path_len: u32,
    /// The data's length, or [`NULL_DATA`].
    data_len: u32,
}
// ANCHOR_END: head

/// A `Head<H>`, then `path_len + data_len` bytes, in one allocation that this owns.
pub(super) struct Block<H> {
    head: NonNull<Head<H>>,
    /// The block owns a `Head<H>` (for drop check and auto traits, as `Box<Head<H>>` would).
    _owns: PhantomData<Head<H>>,
}

// SAFETY: a block owns its head and bytes as a `Box` would and shares them with no one, so it
// can move to another thread when `H` can, and be read from several when `H` can.
unsafe impl<H: Send> Send for Block<H> {}
// SAFETY: as above: `&Block` only lends `&H` and `&[u8]`.
unsafe impl<H: Sync> Sync for Block<H> {}

/// A length as the head stores it: a jute string or buffer is at most 2³¹ − 1 bytes.
fn stored_len(len: usize) -> u32 {
    u32::try_from(len)
        .ok()
        .filter(|&len| len < NULL_DATA)
        .expect("a path or data fits in a jute buffer")
}

/// The layout of a block with `bytes` bytes after its head, and where those bytes start
/// (always [`bytes_at`]: bytes need no alignment, so they start where the head ends).
fn layout<H>(bytes: usize) -> (Layout, usize) {
    let (layout, at) = Layout::new::<Head<H>>()
        .extend(Layout::array::<u8>(bytes).expect("a path and data fit in memory"))
        .expect("a path and data fit in memory");
    debug_assert_eq!(at, bytes_at::<H>());
    // Not padded to the head's alignment: no array of blocks is ever made, and malloc
    // rounds up as it must.
    (layout, at)
}

/// Where the bytes start in a block: right after the head.
const fn bytes_at<H>() -> usize {
    std::mem::size_of::<Head<H>>()
}

impl<H> Block<H> {
    /// A block with `fields`, `path` and `data` (`None` for null data).
    pub(super) fn allocate(fields: H, path: &[u8], data: Option<&[u8]>) -> Block<H> {
        let head = Head {
            fields,
            path_len: stored_len(path.len()),
            data_len: data.map_or(NULL_DATA, |data| stored_len(data.len())),
        };
        // SAFETY: `head`'s lengths are those of `path` and `data`.
        unsafe { Block::write(head, path, data.unwrap_or_default()) }
    }

    /// Allocates a block and moves `head` and the bytes into it.
    ///
    /// # Safety
    /// `path.len()` must be `head.path_len`, and `data.len()` its data length (0 for null).
    unsafe fn write(head: Head<H>, path: &[u8], data: &[u8]) -> Block<H> {
        let (layout, at) = layout::<H>(path.len() + data.len());
        // SAFETY: the layout is never zero-sized: it holds a `Head`, whose lengths are not.
        let base = unsafe { alloc::alloc(layout) };
        let Some(head_ptr) = NonNull::new(base.cast::<Head<H>>()) else {
            alloc::handle_alloc_error(layout)
        };
        // SAFETY: `base` is a fresh allocation of `layout`: a `Head<H>` fits, aligned, at its
        // start and `path.len() + data.len()` bytes from `at`, which nothing else points to.
        unsafe {
            head_ptr.as_ptr().write(head);
            let bytes = base.add(at);
            ptr::copy_nonoverlapping(path.as_ptr(), bytes, path.len());
            ptr::copy_nonoverlapping(data.as_ptr(), bytes.add(path.len()), data.len());
        }
        Block {
            head: head_ptr,
            _owns: PhantomData,
        }
    }

    fn head(&self) -> &Head<H> {
        // SAFETY: `head` points to the `Head` written by `write`, alive until `drop`, and
        // `&self` keeps it from being changed meanwhile.
        unsafe { self.head.as_ref() }
    }

    /// How many bytes follow the head: the path's and the data's (none for null data).
    fn bytes_len(&self) -> usize {
        let head = self.head();
        let data_len = match head.data_len {
            NULL_DATA => 0,
            len => len as usize,
        };
        head.path_len as usize + data_len
    }

    /// The path's bytes then the data's.
    fn bytes(&self) -> &[u8] {
        // SAFETY: `write` put `bytes_len` initialised bytes right after the head (`layout`),
        // which live and stay unchanged as long as `self` is borrowed.
        unsafe {
            let at = self.head.as_ptr().cast::<u8>().add(bytes_at::<H>());
            std::slice::from_raw_parts(at, self.bytes_len())
        }
    }

    /// The path's bytes.
    pub(super) fn path_bytes(&self) -> &[u8] {
        &self.bytes()[..self.head().path_len as usize]
    }

    /// The data; `None` for null data.
    pub(super) fn data(&self) -> Option<&[u8]> {
        let head = self.head();
        let at = head.path_len as usize;
        (head.data_len != NULL_DATA).then(|| &self.bytes()[at..])
    }

    /// New data: a new block with the same fields and path, and this one freed.
    pub(super) fn set_data(&mut self, data: Option<&[u8]>) {
        let head = self.head();
        let data_len = data.map_or(NULL_DATA, |data| stored_len(data.len()));
        let (old_layout, _) = layout::<H>(self.bytes_len());
        // SAFETY: the fields are moved (read bitwise) into the new block, and the old one is
        // then freed without dropping them, so they are owned once throughout. The new
        // head's lengths are those of the path and data written after it.
        unsafe {
            let moved = Head {
                fields: ptr::read(&head.fields),
                path_len: head.path_len,
                data_len,
            };
            let new = Block::write(moved, self.path_bytes(), data.unwrap_or_default());
            let old = std::mem::replace(&mut self.head, new.head);
            std::mem::forget(new);
            alloc::dealloc(old.as_ptr().cast(), old_layout);
        }
    }
}

impl<H> Deref for Block<H> {
    type Target = H;

    fn deref(&self) -> &H {
        &self.head().fields
    }
}

impl<H> DerefMut for Block<H> {
    fn deref_mut(&mut self) -> &mut H {
        // SAFETY: as in `head`, and `&mut self` makes this the only reference. Only the
        // fields are lent mutably: the lengths stay as the allocation was made.
        unsafe { &mut self.head.as_mut().fields }
    }
}

impl<H> Drop for Block<H> {
    fn drop(&mut self) {
        let (layout, _) = layout::<H>(self.bytes_len());
        // SAFETY: the head was written by `write` and is dropped once, here; then the
        // allocation is freed with the layout it was made with (the lengths never change).
        unsafe {
            ptr::drop_in_place(self.head.as_ptr());
            alloc::dealloc(self.head.as_ptr().cast(), layout);
        }
    }
}

impl<H: Clone> Clone for Block<H> {
    fn clone(&self) -> Block<H> {
        let head = self.head();
        let copy = Head {
            fields: head.fields.clone(),
            path_len: head.path_len,
            data_len: head.data_len,
        };
        let path = self.path_bytes();
        let data = self.data().unwrap_or_default();
        // SAFETY: the copy's lengths are those of this block's path and data.
        unsafe { Block::write(copy, path, data) }
    }
}

impl<H: fmt::Debug> fmt::Debug for Block<H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Block")
            .field("fields", &**self)
            .field("path", &String::from_utf8_lossy(self.path_bytes()))
            .field("data", &self.data())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fields that own an allocation, so that a leak or a double drop shows (under valgrind
    /// or miri, and as a wrong count here).
    #[derive(Clone, Debug, PartialEq)]
    struct Fields {
        name: String,
        n: u64,
    }

    fn fields(n: u64) -> Fields {
        Fields {
            name: format!("fields {n}"),
            n,
        }
    }

    fn data_of(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 7 + len) as u8).collect()
    }

    #[test]
    fn a_block_is_one_word_and_none_costs_nothing() {
        assert_eq!(std::mem::size_of::<Block<Fields>>(), 8);
        assert_eq!(std::mem::size_of::<Option<Block<Fields>>>(), 8);
    }

    #[test]
    fn the_bytes_follow_the_head_exactly() {
        // A head of 8 bytes of fields and two lengths, then 3 + 4 bytes: 23, not rounded.
        let (layout, at) = layout::<u64>(7);
        assert_eq!((layout.size(), layout.align(), at), (23, 8, 16));
    }

    #[test]
    fn paths_and_data_of_every_length_read_back() {
        let long_path = format!("/{}", "p".repeat(3000));
        for path in ["/", "/a", "/a/b/c", long_path.as_str()] {
            for len in (0..=300).chain([4096]) {
                let data = data_of(len);
                let block = Block::allocate(fields(len as u64), path.as_bytes(), Some(&data));
                assert_eq!(block.path_bytes(), path.as_bytes());
                assert_eq!(block.data(), Some(&data[..]));
                assert_eq!(*block, fields(len as u64));
            }
            let null = Block::allocate(fields(0), path.as_bytes(), None);
            assert_eq!((null.path_bytes(), null.data()), (path.as_bytes(), None));
        }
    }

    #[test]
    fn an_empty_path_and_empty_data_are_a_bare_head() {
        let block = Block::allocate(fields(1), b"", Some(b""));
        assert_eq!(
            (block.path_bytes(), block.data()),
            (&b""[..], Some(&b""[..]))
        );
        let block = Block::allocate((), b"", None);
        assert_eq!((block.path_bytes(), block.data()), (&b""[..], None));
    }

    #[test]
    fn set_data_keeps_the_fields_and_path_and_changes_only_the_data() {
        let mut block = Block::allocate(fields(7), b"/x/y", None);
        let mut lens: Vec<Option<usize>> = (0..=300).map(Some).collect();
        lens.extend([None, Some(0), None, Some(1000), Some(3)]);
        for len in lens {
            let data = len.map(data_of);
            block.set_data(data.as_deref());
            assert_eq!(block.data(), data.as_deref());
            assert_eq!((block.path_bytes(), &*block), (&b"/x/y"[..], &fields(7)));
        }
    }

    #[test]
    fn fields_change_in_place_and_clones_are_independent() {
        let mut block = Block::allocate(fields(1), b"/c", Some(b"data"));
        block.n = 2;
        block.name.push_str(" changed");
        let mut copy = block.clone();
        assert_eq!(
            (copy.path_bytes(), copy.data()),
            (&b"/c"[..], Some(&b"data"[..]))
        );
        assert_eq!(*copy, *block);
        copy.set_data(None);
        copy.name.clear();
        assert_eq!(block.data(), Some(&b"data"[..]));
        assert_eq!(block.name, "fields 1 changed");
        for len in 0..=300 {
            let data = data_of(len);
            let original = Block::allocate(fields(3), b"/clone", Some(&data));
            let copy = original.clone();
            drop(original);
            assert_eq!(copy.data(), Some(&data[..]));
        }
    }

    #[test]
    fn blocks_can_move_between_threads() {
        let block = Block::allocate(fields(9), b"/t", Some(b"moved"));
        let back = std::thread::spawn(move || block).join().expect("no panic");
        assert_eq!(back.data(), Some(&b"moved"[..]));
    }
}
