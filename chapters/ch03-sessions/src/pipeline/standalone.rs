//! The standalone server's sync stage: every proposal is committed on the spot.
//!
//! The idea to take away: a standalone server is an ensemble of one. Its quorum is itself, so
//! a txn is committed as soon as it is prepared, and the pipeline's seam ([`Output::Propose`]
//! out, [`Input::Commit`] in) closes into a loop. Chapter 6 keeps the same pipeline and puts a
//! leader and its followers in this loop; chapter 7 puts the txn log in it.

use std::collections::VecDeque;

use super::{Input, Limits, Output, Pipeline};
use ch01_znode::Sid;

// ANCHOR: standalone
/// A [`Pipeline`] whose proposals commit at once. Its outputs never contain
/// [`Output::Propose`]: each one has already come back as an [`Input::Commit`].
#[derive(Debug)]
pub struct StandalonePipeline {
    pipeline: Pipeline,
}

impl StandalonePipeline {
    /// A standalone server with a fresh database, started at `now_ms`.
    pub fn new(tick_time_ms: u32, limits: Limits, server_id: Sid, now_ms: u64) -> Self {
        StandalonePipeline {
            pipeline: Pipeline::new(tick_time_ms, limits, server_id, now_ms),
        }
    }

    /// Feeds one input, committing every txn it proposes, in order.
    pub fn step(&mut self, now_ms: u64, input: Input) -> Vec<Output> {
        let mut done = Vec::new();
        let mut work: VecDeque<Output> = self.pipeline.step(now_ms, input).into();
        while let Some(output) = work.pop_front() {
            match output {
                Output::Propose(txn) => {
                    // Commit outputs come before anything the input said after proposing.
                    let committed = self.pipeline.step(now_ms, Input::Commit(txn));
                    for o in committed.into_iter().rev() {
                        work.push_front(o);
                    }
                }
                other => done.push(other),
            }
        }
        done
    }
    // ANCHOR_END: standalone

    /// The pipeline inside (for the tree, the sessions and the watch counts).
    pub fn pipeline(&self) -> &Pipeline {
        &self.pipeline
    }

    /// The pipeline inside, to seed its session ids.
    pub fn pipeline_mut(&mut self) -> &mut Pipeline {
        &mut self.pipeline
    }
}
