//! # The classroom: one source, a student's edition and a teacher's
//!
//! Every lab of the book is written once, in the chapter's own sources, as a *region*: the
//! teacher's answer between two comment lines, with the skeleton the student starts from just
//! below the opening line (the grammar is in [`marker`]). The repository ships the answers, so
//! `cargo test --workspace` runs every lab's grading test against its answer and a grade can
//! never go stale. `keeper lab start 5.1` rewrites the student's clone in place: each answer of
//! lab 5.1 becomes its skeleton, in the very file and function the book names, and the grading
//! test now fails until the student has done the work. `keeper lab check 5.1` runs that test
//! and prints each named check with a hint; `keeper lab reset 5.1` puts the skeleton back;
//! `keeper lab key` writes the teacher's answer key and guide.
//!
//! # Layout
//!
//! - [`marker`]: the region grammar; the student's edition of one file; the answers.
//! - [`catalog`]: every lab: what it asks, its grading test and checks with their hints, what
//!   it teaches, how long it takes, what to show in class.
//! - [`repo`]: the regions of a whole checkout, `start` and `reset` across files.
//! - [`grade`]: runs a lab's grading test with cargo and reads the verdict of each check.
//! - [`key`]: the teacher's guide and answer key.
//!
//! # Why in place
//!
//! A classroom hands out one repository and a book that names files and commands. Editing a
//! copy would make every path in the book wrong for the student; so `start` edits the clone,
//! keeps the markers (the student sees exactly where to write), and `reset` needs nothing but
//! the file itself. `git diff` shows what `start` did and `git restore` undoes it. For a
//! handout without the answers in it, run `keeper lab start all` in a fresh copy of the
//! repository without its git history.

pub mod catalog;
pub mod grade;
pub mod key;
pub mod marker;
pub mod repo;

pub use catalog::{Check, Lab, LABS};
pub use marker::{Holder, Marked, MarkerError, Region};
