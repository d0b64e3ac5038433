//! `keeper server` in quorum mode: chapter 6's peer over TCP, on chapter 7's files.
//!
//! The idea to take away: a quorum server is the same three things as a standalone one (a
//! zoo.cfg, a dataDir, a client port) plus two ports and a `myid`. Everything it decides is
//! chapter 6's ([`ch06_zab::tcp::serve`]); which member it is comes from zoo.cfg and `myid`
//! ([`ch06_zab::tcp::ensemble`]), `/zookeeper/config` included; its disk is chapter 7's
//! [`FileStorage`]. This module only
//! checks everything before anything is written, joins the three, and prints the peer's
//! story on stderr.

use std::io;
use std::path::Path;
use std::process::ExitCode;

use ch01_znode::Zxid;
use ch03_sessions::config::ZooCfg;
use ch03_sessions::pipeline::Database;
use ch06_zab::peer::{Epochs, Recovered};
use ch06_zab::storage::Storage;
use ch06_zab::tcp::cli::per_request;
use ch06_zab::tcp::ensemble::{read_myid, server_spec};
use ch06_zab::tcp::{aside, serve, Listeners, TcpEvent, EVENT_QUEUE};
use ch06_zab::txn_codec::TxnEntry;
use ch07_persistence::FileStorage;

/// A [`FileStorage`] as a quorum peer's disk, its event record dropped as it grows, since
/// nobody reads it here.
struct QuorumDisk {
    files: FileStorage,
}

impl QuorumDisk {
    fn done<T>(&mut self, result: io::Result<T>) -> io::Result<T> {
        self.files.take_events();
        result
    }
}

impl Storage for QuorumDisk {
    fn recover(&mut self, recent: usize) -> io::Result<Recovered> {
        let recovered = Storage::recover(&mut self.files, recent);
        crate::durable::report_recovery(&self.files.take_events());
        recovered
    }

    fn save_epochs(&mut self, epochs: Epochs) -> io::Result<()> {
        let saved = self.files.save_epochs(epochs);
        self.done(saved)
    }

    fn append(&mut self, entry: &TxnEntry) -> io::Result<()> {
        // Appends record no events until their sync.
        self.files.append(entry)
    }

    fn sync(&mut self) -> io::Result<()> {
        // On chapter 6's disk thread: the main loop reads on meanwhile.
        let synced = self.files.sync();
        self.done(synced)
    }

    fn truncate(&mut self, zxid: Zxid, recent: usize) -> io::Result<Option<Recovered>> {
        let cut = self.files.truncate(zxid, recent);
        self.done(cut)
    }

    fn sync_snapshot(&mut self, db: &Database) -> io::Result<()> {
        let written = Storage::sync_snapshot(&mut self.files, db);
        self.done(written)
    }

    fn begin_snapshot(&mut self, db: &Database) -> io::Result<bool> {
        let begun = Storage::begin_snapshot(&mut self.files, db);
        self.done(begun)
    }

    fn advance_snapshot(&mut self, db: &Database, max_nodes: usize) -> io::Result<bool> {
        // A slice is milliseconds of work, done by the main loop (it walks the live
        // database, which the loop owns, so it cannot go to the disk thread) at the end of
        // a turn: whatever the turn woke goes on without it.
        let going = aside(|| Storage::advance_snapshot(&mut self.files, db, max_nodes));
        self.done(going)
    }

    fn abandon_snapshot(&mut self) {
        Storage::abandon_snapshot(&mut self.files);
    }
}

/// Runs the quorum member `cfg` (read from `path`) and its `myid` describe, until interrupted
/// or its disk fails. Nothing is written before the config, `myid` and ports all check out.
pub fn run(path: &Path, cfg: &ZooCfg) -> ExitCode {
    let myid = match read_myid(&cfg.data_dir) {
        Ok(myid) => myid,
        Err(e) => {
            eprintln!("keeper: {e}");
            return ExitCode::from(2);
        }
    };
    let (spec, warnings) = match server_spec(cfg, myid) {
        Ok(spec) => spec,
        Err(e) => {
            eprintln!("keeper: {}", e.in_file(path));
            return ExitCode::from(2);
        }
    };
    for warning in warnings {
        eprintln!("keeper: warning: {warning}");
    }
    // As upstream's QuorumPeerMain, the purge task runs beside a quorum member too; it
    // stops when this returns.
    let _purger = crate::purge::start(cfg);
    // One worker thread, beside the disk thread. A write goes through the main loop one
    // step after another, so a second worker has little to take over, and it costs: each
    // time an idle runtime gets work, tokio wakes a second worker to look for more, so at
    // one write in flight every packet, sync and request woke two threads where one does
    // the work (4.1 wake-ups per write on a follower's workers, 2.8 with one). On a VM whose
    // idle vCPUs halt, each wake-up is tens of µs. Multi-threaded still, so that a
    // snapshot's slice, or a SNAP being encoded, can step aside ([`aside`]).
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(async move {
        let listeners = match Listeners::bind(&spec).await {
            Ok(listeners) => listeners,
            Err(e) => {
                eprintln!("keeper: cannot listen on {e}");
                return ExitCode::FAILURE;
            }
        };
        let files = match FileStorage::open(crate::durable::storage_config(cfg)) {
            Ok(files) => files,
            Err(e) => {
                eprintln!(
                    "keeper: cannot start on dataDir {}: {e}",
                    cfg.data_dir.display()
                );
                return ExitCode::FAILURE;
            }
        };
        let disk = QuorumDisk { files };
        let me = spec.members[&spec.sid];
        eprintln!(
            "keeper: quorum server {} of {} on client port {}, quorum port {}, election port {} \
             (tickTime={}ms, initLimit={}, syncLimit={})",
            spec.sid,
            spec.members.len(),
            spec.client.listen,
            me.quorum,
            me.election,
            spec.config.tick_ms,
            spec.config.init_limit,
            spec.config.sync_limit
        );
        let (tx, mut rx) = tokio::sync::mpsc::channel(EVENT_QUEUE);
        let mut server = tokio::spawn(serve(spec, listeners, disk, tx));
        loop {
            tokio::select! {
                Some(traced) = rx.recv() => {
                    if !per_request(&traced.event) {
                        print_event(&traced.event);
                    }
                }
                _ = tokio::signal::ctrl_c() => return ExitCode::SUCCESS,
                stopped = &mut server => {
                    while let Ok(traced) = rx.try_recv() {
                        print_event(&traced.event);
                    }
                    // As upstream, a disk that cannot be written stops the server.
                    match stopped {
                        Ok(e) => eprintln!("keeper: stopping: {e}"),
                        Err(e) => eprintln!("keeper: stopping: {e}"),
                    }
                    return ExitCode::FAILURE;
                }
            }
        }
    })
}

/// One line of the peer's story on stderr; a role change also says what `keeper status`
/// now answers.
fn print_event(event: &TcpEvent) {
    eprintln!("keeper: {event}");
    if let TcpEvent::State(state) = event {
        if let Some(mode) = state.mode() {
            eprintln!("keeper: Mode: {mode}");
        }
    }
}
