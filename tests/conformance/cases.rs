//! The cases: each is a few requests on raw sessions under its own base node. A case is a
//! function of a [`Run`], so the same steps go to every server.

use super::wire::Session;
use ch03_sessions::jute::Writer;

/// One case run on one server: the transcript it produced.
pub struct Run {
    address: String,
    pub base: String,
    pub lines: Vec<String>,
    sessions: Vec<Session>,
    xid: i32,
}

impl Run {
    pub fn new(address: &str, base: String) -> Run {
        Run {
            address: address.to_string(),
            base,
            lines: Vec::new(),
            sessions: Vec::new(),
            xid: 0,
        }
    }

    /// A new session; its handshake answer goes into the transcript.
    pub fn session(&mut self) -> usize {
        let (session, answer) = Session::open(&self.address);
        self.sessions.push(session);
        let n = self.sessions.len() - 1;
        self.lines.push(format!("s{n} {answer}"));
        n
    }

    /// Sends `frame` as it is (length prefix included) on session `s`, as request `op` with
    /// the next xid if the server reads it as one; records the answer.
    pub fn ask_raw(&mut self, s: usize, what: &str, op: i32, frame: impl FnOnce(i32) -> Vec<u8>) {
        self.xid += 1;
        let xid = self.xid;
        let answer = self.sessions[s].ask_raw(xid, op, &frame(xid));
        self.lines.push(format!("s{s} {what} → {answer}"));
    }

    /// Sends `body` as request `op` on session `s`, with the next xid; records the answer.
    pub fn ask(&mut self, s: usize, what: &str, op: i32, body: Vec<u8>) {
        self.xid += 1;
        let xid = self.xid;
        self.ask_as(s, what, xid, op, body);
    }

    /// As [`Run::ask`] with a chosen xid (auth packets use -4).
    pub fn ask_as(&mut self, s: usize, what: &str, xid: i32, op: i32, body: Vec<u8>) {
        let answer = self.sessions[s].ask(xid, op, &body);
        self.lines.push(format!("s{s} {what} → {answer}"));
    }

    /// A path under this case's base node.
    pub fn path(&self, name: &str) -> String {
        format!("{}/{name}", self.base)
    }
}

/// A case: a name (what `--list` prints and a filter matches) and its steps.
pub struct Case {
    pub name: String,
    pub steps: Box<dyn Fn(&mut Run) + Send + Sync>,
}

impl Case {
    /// A case named `name` that runs `steps`.
    pub fn new(name: impl Into<String>, steps: impl Fn(&mut Run) + Send + Sync + 'static) -> Case {
        Case {
            name: name.into(),
            steps: Box::new(steps),
        }
    }
}

/// `case!("name", |run| ...)`: a [`Case`].
macro_rules! case {
    ($name:literal, $steps:expr) => {
        Case::new($name, $steps)
    };
}

// ---- request bodies, written field by field so that nulls can be sent ----

pub const OP_CREATE: i32 = 1;
pub const OP_DELETE: i32 = 2;
pub const OP_EXISTS: i32 = 3;
pub const OP_GET_DATA: i32 = 4;
pub const OP_SET_DATA: i32 = 5;
pub const OP_GET_ACL: i32 = 6;
pub const OP_SET_ACL: i32 = 7;
pub const OP_GET_CHILDREN2: i32 = 12;
pub const OP_CREATE2: i32 = 15;
pub const OP_CREATE_CONTAINER: i32 = 19;
pub const OP_CREATE_TTL: i32 = 21;
pub const OP_CHECK_WATCHES: i32 = 17;
pub const OP_REMOVE_WATCHES: i32 = 18;
pub const OP_AUTH: i32 = 100;
pub const OP_ADD_WATCH: i32 = 106;
pub const OP_SASL: i32 = 102;
pub const AUTH_XID: i32 = -4;
pub const ALL: i32 = 31;

pub fn body(fill: impl FnOnce(&mut Writer)) -> Vec<u8> {
    let mut w = Writer::new();
    fill(&mut w);
    w.into_bytes()
}

/// `(perms, scheme, id)`, `None` written as a null string.
pub type AclEntry<'a> = (i32, Option<&'a str>, Option<&'a str>);

pub fn write_acl(w: &mut Writer, acl: &[AclEntry<'_>]) {
    w.write_int(acl.len() as i32);
    for (perms, scheme, id) in acl {
        w.write_int(*perms);
        w.write_ustring(*scheme);
        w.write_ustring(*id);
    }
}

pub const OPEN: &[AclEntry<'static>] = &[(ALL, Some("world"), Some("anyone"))];

fn create_body(path: &str, acl: &[AclEntry<'_>], flags: i32) -> Vec<u8> {
    body(|w| {
        w.write_ustring(Some(path));
        w.write_buffer(Some(b"d"));
        write_acl(w, acl);
        w.write_int(flags);
    })
}

fn create_ttl_body(path: &str, flags: i32, ttl: i64) -> Vec<u8> {
    let mut bytes = create_body(path, OPEN, flags);
    bytes.extend(ttl.to_be_bytes());
    bytes
}

fn set_acl_body(path: &str, acl: &[AclEntry<'_>]) -> Vec<u8> {
    body(|w| {
        w.write_ustring(Some(path));
        write_acl(w, acl);
        w.write_int(-1);
    })
}

fn path_body(path: &str) -> Vec<u8> {
    body(|w| w.write_ustring(Some(path)))
}

pub fn path_watch_body(path: &str, watch: bool) -> Vec<u8> {
    body(|w| {
        w.write_ustring(Some(path));
        w.write_bool(watch);
    })
}

fn auth_body(scheme: Option<&str>, auth: Option<&[u8]>) -> Vec<u8> {
    body(|w| {
        w.write_int(0);
        w.write_ustring(scheme);
        w.write_buffer(auth);
    })
}

fn sasl_body(token: Option<&[u8]>) -> Vec<u8> {
    body(|w| w.write_buffer(token))
}

// ---- steps shared by several cases ----

fn create_one(run: &mut Run, acl: &[AclEntry<'_>]) {
    let s = run.session();
    let path = run.path("n");
    run.ask(s, "create", OP_CREATE, create_body(&path, acl, 0));
}

fn create_then_get_acl(run: &mut Run, s: usize, acl: &[AclEntry<'_>]) {
    let path = run.path("n");
    run.ask(s, "create", OP_CREATE, create_body(&path, acl, 0));
    run.ask(s, "getACL", OP_GET_ACL, path_body(&path));
}

fn add_digest(run: &mut Run, s: usize) {
    let packet = auth_body(Some("digest"), Some(b"user:pw"));
    run.ask_as(s, "addauth digest", AUTH_XID, OP_AUTH, packet);
}

fn private_node(run: &mut Run) -> String {
    let owner = run.session();
    add_digest(run, owner);
    let path = run.path("private");
    let creator_all = [(ALL, Some("auth"), None)];
    run.ask(
        owner,
        "create",
        OP_CREATE,
        create_body(&path, &creator_all, 0),
    );
    path
}

fn auth_packet(run: &mut Run, scheme: Option<&str>, auth: Option<&[u8]>) {
    let s = run.session();
    run.ask_as(s, "addauth", AUTH_XID, OP_AUTH, auth_body(scheme, auth));
    // Whether the connection is still served says whether the server closed it.
    run.ask(s, "exists /", OP_EXISTS, path_watch_body("/", false));
}

fn sasl(run: &mut Run, token: Option<&[u8]>) {
    let s = run.session();
    run.ask(s, "sasl", OP_SASL, sasl_body(token));
    run.ask(s, "exists /", OP_EXISTS, path_watch_body("/", false));
}

/// createContainer with `flags`, then what was made: its data, Stat and children, its
/// parent's children, and the session's ephemerals (a container is none of them).
fn container(run: &mut Run, flags: i32) {
    let s = run.session();
    let path = run.path("c-");
    run.ask(
        s,
        "createContainer",
        OP_CREATE_CONTAINER,
        create_body(&path, OPEN, flags),
    );
    // Upstream names the node with the base's counter (0) when the flag is sequential.
    let made = match flags {
        2 | 3 => format!("{path}0000000000"),
        _ => path,
    };
    read_back(run, s, &[made]);
}

/// getData, exists and getChildren2 of each of `paths`, then getChildren2 of the base and the
/// session's ephemerals.
fn read_back(run: &mut Run, s: usize, paths: &[String]) {
    for path in paths {
        run.ask(s, "getData", OP_GET_DATA, path_watch_body(path, false));
        run.ask(s, "exists", OP_EXISTS, path_watch_body(path, false));
        run.ask(
            s,
            "getChildren2",
            OP_GET_CHILDREN2,
            path_watch_body(path, false),
        );
    }
    let base = run.base.clone();
    run.ask(
        s,
        "getChildren2 base",
        OP_GET_CHILDREN2,
        path_watch_body(&base, false),
    );
    run.ask(s, "getEphemerals", OP_GET_EPHEMERALS, path_body("/"));
}

/// Deletes `paths`, last first: a case whose nodes one server made and the other did not (or
/// made ephemeral) leaves both trees the same size for the cases that count all nodes.
fn delete_all(run: &mut Run, s: usize, paths: &[String]) {
    for path in paths.iter().rev() {
        let delete = body(|w| {
            w.write_ustring(Some(path));
            w.write_int(-1);
        });
        run.ask(s, "delete", OP_DELETE, delete);
    }
}

/// A multi of createContainers with `flags` each (all under the name `m-`, so the sequential
/// ones differ by their counters), then what each made.
fn container_multi(run: &mut Run, flags: &[i32]) {
    let s = run.session();
    let path = run.path("m-");
    let ops: Vec<_> = flags
        .iter()
        .map(|&f| (OP_CREATE_CONTAINER, create_body(&path, OPEN, f)))
        .collect();
    run.ask(s, "multi", OP_MULTI, multi_body(&ops));
    // Each create in the multi counts on the base's cversion, sequential or not.
    let made: Vec<String> = flags
        .iter()
        .enumerate()
        .map(|(i, f)| match f {
            2 | 3 => format!("{path}{i:010}"),
            _ => path.clone(),
        })
        .collect();
    read_back(run, s, &made);
    delete_all(run, s, &made);
}

/// A multi that makes a container with `flags` and then a child of it: upstream's pending
/// change gives a container made with an ephemeral flag the session as its owner, while the
/// txn makes a container.
fn container_then_child_in_multi(run: &mut Run, flags: i32) {
    let s = run.session();
    let path = run.path("p-");
    let made = match flags {
        2 | 3 => format!("{path}0000000000"),
        _ => path.clone(),
    };
    let kid = format!("{made}/kid");
    let ops = [
        (OP_CREATE_CONTAINER, create_body(&path, OPEN, flags)),
        (OP_CREATE, create_body(&kid, OPEN, 0)),
    ];
    run.ask(s, "multi", OP_MULTI, multi_body(&ops));
    read_back(run, s, std::slice::from_ref(&made));
    delete_all(run, s, &[made, kid]);
}

/// A multi whose second op fails (NodeExists) before prep reaches a third with an unknown
/// create flag: the first failure is the one reported.
fn unknown_flag_after_a_failure_in_multi(run: &mut Run) {
    let s = run.session();
    let path = run.path("x");
    let other = run.path("y");
    let ops = [
        (OP_CREATE, create_body(&path, OPEN, 0)),
        (OP_CREATE, create_body(&path, OPEN, 0)),
        (OP_CREATE, create_body(&other, OPEN, 7)),
    ];
    run.ask(s, "multi", OP_MULTI, multi_body(&ops));
    read_back(run, s, &[path, other]);
}

fn create_ttl(run: &mut Run, flags: i32, ttl: i64) {
    let s = run.session();
    let path = run.path("t");
    run.ask(
        s,
        "createTTL",
        OP_CREATE_TTL,
        create_ttl_body(&path, flags, ttl),
    );
}

/// A multi of one createTTL with `flags` and `ttl`, then what it made. Upstream reads the op
/// with `Op.create(path, data, acl, flags, ttl)`, which keeps the TTL only for a TTL mode.
fn create_ttl_in_multi(run: &mut Run, flags: i32, ttl: i64) {
    one_create_in_multi(run, flags, |path| {
        (OP_CREATE_TTL, create_ttl_body(path, flags, ttl))
    });
}

/// A multi of one `op` (create, create2 or createContainer) with `flags`, then what it made.
fn create_flags_in_multi(run: &mut Run, op: i32, flags: i32) {
    one_create_in_multi(run, flags, |path| (op, create_body(path, OPEN, flags)));
}

/// A multi of the one create `op` makes for a path, then the node its `flags` name.
fn one_create_in_multi(run: &mut Run, flags: i32, op: impl Fn(&str) -> (i32, Vec<u8>)) {
    let s = run.session();
    let path = run.path("m");
    run.ask(s, "multi", OP_MULTI, multi_body(&[op(&path)]));
    let made = match flags {
        2 | 3 => format!("{path}0000000000"),
        _ => path,
    };
    read_back(run, s, &[made]);
}

fn create_flags(run: &mut Run, op: i32, flags: i32) {
    let s = run.session();
    let path = run.path("f");
    run.ask(s, "create", op, create_body(&path, OPEN, flags));
}

/// addWatch in `mode` on a node, then `op` (checkWatches or removeWatches) of watcher type
/// `kind` (1 children, 2 data, 3 any) on it, twice: the second says what the first left.
fn persistent_then(run: &mut Run, mode: i32, op: i32, kind: i32) {
    let s = run.session();
    let path = run.path("w");
    run.ask(s, "create", OP_CREATE, create_body(&path, OPEN, 0));
    let watch = |w: &mut Writer, n: i32| {
        w.write_ustring(Some(&path));
        w.write_int(n);
    };
    run.ask(s, "addWatch", OP_ADD_WATCH, body(|w| watch(w, mode)));
    run.ask(s, "watches op", op, body(|w| watch(w, kind)));
    run.ask(s, "watches op again", op, body(|w| watch(w, kind)));
}

// ---- hand-made frames (issue item 9): bodies no client library would send ----

pub const OP_PING: i32 = 11;
pub const OP_CREATE_SESSION: i32 = -10;
pub const OP_DELETE_CONTAINER: i32 = 20;
pub const OP_MULTI: i32 = 14;
pub const OP_MULTI_READ: i32 = 22;
pub const OP_SYNC: i32 = 9;
pub const OP_GET_CHILDREN: i32 = 8;
pub const OP_SET_WATCHES: i32 = 101;
pub const OP_SET_WATCHES2: i32 = 105;
pub const OP_GET_EPHEMERALS: i32 = 103;
const PING_XID: i32 = -2;

/// One request on a fresh session, then whether that session is still served.
pub fn one(run: &mut Run, what: &str, op: i32, bytes: Vec<u8>) {
    let s = run.session();
    run.ask(s, what, op, bytes);
    run.ask(s, "exists /", OP_EXISTS, path_watch_body("/", false));
}

/// `op` with a null path and then `rest`, on a fresh session.
fn null_path(run: &mut Run, what: &str, op: i32, rest: fn(&mut Writer)) {
    one(run, what, op, null_path_then(rest))
}

fn null_path_then(fill: impl FnOnce(&mut Writer)) -> Vec<u8> {
    body(|w| {
        w.write_ustring(None);
        fill(w);
    })
}

/// A multi (or multiRead) of `ops`, each `(type, body)`, then the closing header.
pub fn multi_body(ops: &[(i32, Vec<u8>)]) -> Vec<u8> {
    body(|w| {
        for (kind, op) in ops {
            w.write_int(*kind);
            w.write_bool(false);
            w.write_int(-1);
            w.write_raw(op);
        }
        w.write_int(-1);
        w.write_bool(true);
        w.write_int(-1);
    })
}

/// `relativeZxid` and `lists` watch lists, each `None` for a null vector.
fn set_watches_body(lists: &[Option<&[&str]>]) -> Vec<u8> {
    body(|w| {
        w.write_long(0);
        for list in lists {
            match list {
                None => w.write_int(-1),
                Some(paths) => {
                    w.write_int(paths.len() as i32);
                    for p in *paths {
                        w.write_ustring(Some(p));
                    }
                }
            }
        }
    })
}

fn path_int_body(path: &str, n: i32) -> Vec<u8> {
    body(|w| {
        w.write_ustring(Some(path));
        w.write_int(n);
    })
}

fn hand_made_cases() -> Vec<Case> {
    vec![
        case!("frame-ping-reply-xid", |run| {
            let s = run.session();
            run.ask_as(s, "ping", PING_XID, OP_PING, vec![]);
            run.ask(s, "exists /", OP_EXISTS, path_watch_body("/", false));
        }),
        case!("frame-create-session-inside-session", |run| {
            let connect = body(|w| {
                w.write_int(0);
                w.write_long(0);
                w.write_int(30_000);
                w.write_long(0);
                w.write_buffer(Some(&[0; 16]));
            });
            one(run, "createSession", OP_CREATE_SESSION, connect)
        }),
        case!("frame-delete-container-from-client", |run| {
            let path = run.base.clone();
            one(
                run,
                "deleteContainer",
                OP_DELETE_CONTAINER,
                path_body(&path),
            )
        }),
        case!("frame-multi-read-holding-a-write", |run| {
            let path = run.path("m");
            let ops = [(OP_CREATE, create_body(&path, OPEN, 0))];
            one(run, "multiRead", OP_MULTI_READ, multi_body(&ops))
        }),
        case!("frame-multi-read-get-data-and-children", |run| {
            let base = run.base.clone();
            let ops = [
                (OP_GET_DATA, path_body(&base)),
                (OP_GET_CHILDREN, path_body(&base)),
                (OP_GET_DATA, path_body("/no-such-node")),
            ];
            one(run, "multiRead", OP_MULTI_READ, multi_body(&ops))
        }),
        case!("frame-multi-first-op-null-path", |run| {
            let create = body(|w| {
                w.write_ustring(None);
                w.write_buffer(Some(b"d"));
                write_acl(w, OPEN);
                w.write_int(0);
            });
            one(run, "multi", OP_MULTI, multi_body(&[(OP_CREATE, create)]))
        }),
        case!("frame-set-watches-null-lists", |run| {
            let lists = [None, None, None];
            one(run, "setWatches", OP_SET_WATCHES, set_watches_body(&lists))
        }),
        case!("frame-set-watches2-null-lists", |run| {
            let lists = [None, None, None, None, None];
            one(
                run,
                "setWatches2",
                OP_SET_WATCHES2,
                set_watches_body(&lists),
            )
        }),
        case!("frame-set-watches-one-path", |run| {
            let base = run.base.clone();
            let lists = [Some(&[base.as_str()][..]), Some(&[][..]), None];
            one(run, "setWatches", OP_SET_WATCHES, set_watches_body(&lists))
        }),
        case!("frame-check-watches-type-out-of-range", |run| {
            let base = run.base.clone();
            one(
                run,
                "checkWatches",
                OP_CHECK_WATCHES,
                path_int_body(&base, 7),
            )
        }),
        case!("frame-remove-watches-type-zero", |run| {
            let base = run.base.clone();
            one(
                run,
                "removeWatches",
                OP_REMOVE_WATCHES,
                path_int_body(&base, 0),
            )
        }),
        case!("frame-add-watch-mode-out-of-range", |run| {
            let base = run.base.clone();
            one(run, "addWatch", OP_ADD_WATCH, path_int_body(&base, 2))
        }),
        case!("frame-add-watch-mode-negative", |run| {
            let base = run.base.clone();
            one(run, "addWatch", OP_ADD_WATCH, path_int_body(&base, -1))
        }),
        case!("frame-null-path-set-data", |run| {
            let bytes = null_path_then(|w| {
                w.write_buffer(Some(b"x"));
                w.write_int(-1);
            });
            one(run, "setData", OP_SET_DATA, bytes)
        }),
        case!("frame-null-path-set-acl", |run| {
            let bytes = null_path_then(|w| {
                write_acl(w, OPEN);
                w.write_int(-1);
            });
            one(run, "setACL", OP_SET_ACL, bytes)
        }),
        case!("frame-null-path-sync", |run| null_path(
            run,
            "sync",
            OP_SYNC,
            |_| {}
        )),
        case!("frame-null-path-add-watch", |run| {
            null_path(run, "addWatch", OP_ADD_WATCH, |w| w.write_int(0))
        }),
        case!("frame-null-path-get-ephemerals", |run| {
            null_path(run, "getEphemerals", OP_GET_EPHEMERALS, |_| {})
        }),
        case!("frame-null-path-remove-watches", |run| {
            null_path(run, "removeWatches", OP_REMOVE_WATCHES, |w| w.write_int(3))
        }),
        case!("frame-null-path-check-watches", |run| {
            null_path(run, "checkWatches", OP_CHECK_WATCHES, |w| w.write_int(3))
        }),
        case!("frame-acl-negative-count", |run| {
            let path = run.path("n");
            let bytes = body(|w| {
                w.write_ustring(Some(&path));
                w.write_buffer(None);
                w.write_int(-2);
                w.write_int(0);
            });
            one(run, "create", OP_CREATE, bytes)
        }),
        case!("frame-empty-path-get-data", |run| {
            one(run, "getData ''", OP_GET_DATA, path_watch_body("", false))
        }),
        case!("frame-empty-path-exists", |run| {
            one(run, "exists ''", OP_EXISTS, path_watch_body("", false))
        }),
        case!("frame-empty-path-get-children", |run| {
            one(
                run,
                "getChildren2 ''",
                OP_GET_CHILDREN2,
                path_watch_body("", false),
            )
        }),
        case!("frame-empty-path-get-acl", |run| {
            one(run, "getACL ''", OP_GET_ACL, path_body(""))
        }),
        case!("frame-empty-path-set-data", |run| {
            let bytes = body(|w| {
                w.write_ustring(Some(""));
                w.write_buffer(Some(b"x"));
                w.write_int(-1);
            });
            one(run, "setData ''", OP_SET_DATA, bytes)
        }),
        case!("frame-nul-in-path-get-data", |run| {
            let path = run.path("a\0b");
            one(run, "getData", OP_GET_DATA, path_watch_body(&path, false))
        }),
        case!("frame-nul-in-path-create", |run| {
            let path = run.path("a\0b");
            one(run, "create", OP_CREATE, create_body(&path, OPEN, 0))
        }),
        case!("frame-unknown-opcode", |run| one(
            run,
            "opcode 999",
            999,
            vec![]
        )),
        case!("frame-get-ephemerals-root", |run| {
            one(run, "getEphemerals /", OP_GET_EPHEMERALS, path_body("/"))
        }),
    ]
}

/// Every case, in the order they run.
pub fn all() -> Vec<Case> {
    vec![
        case!("basic-create-get-set", |run| {
            let s = run.session();
            let path = run.path("a");
            run.ask(s, "create", OP_CREATE, create_body(&path, OPEN, 0));
            run.ask(s, "getData", OP_GET_DATA, path_watch_body(&path, true));
            run.ask(
                s,
                "setData",
                OP_SET_DATA,
                body(|w| {
                    w.write_ustring(Some(&path));
                    w.write_buffer(Some(b"e"));
                    w.write_int(0);
                }),
            );
            run.ask(s, "create2 seq", OP_CREATE2, create_body(&path, OPEN, 2));
            run.ask(
                s,
                "getChildren2",
                OP_GET_CHILDREN2,
                path_watch_body(&run.base, false),
            );
        }),
        // Known difference 1: ACL ids that are null strings.
        case!("acl-auth-null-id-without-auth", |run| create_one(
            run,
            &[(ALL, Some("auth"), None)]
        )),
        case!("acl-auth-empty-id-without-auth", |run| create_one(
            run,
            &[(ALL, Some("auth"), Some(""))]
        )),
        case!("acl-auth-null-id-after-addauth", |run| {
            let s = run.session();
            add_digest(run, s);
            create_then_get_acl(run, s, &[(ALL, Some("auth"), None)]);
        }),
        case!("acl-set-auth-null-id-after-addauth", |run| {
            let s = run.session();
            add_digest(run, s);
            create_then_get_acl(run, s, OPEN);
            let path = run.path("n");
            run.ask(
                s,
                "setACL",
                OP_SET_ACL,
                set_acl_body(&path, &[(ALL, Some("auth"), None)]),
            );
            run.ask(s, "getACL", OP_GET_ACL, path_body(&path));
        }),
        case!("acl-world-null-id", |run| create_one(
            run,
            &[(ALL, Some("world"), None)]
        )),
        case!("acl-digest-null-id", |run| create_one(
            run,
            &[(ALL, Some("digest"), None)]
        )),
        case!("acl-ip-null-id", |run| create_one(
            run,
            &[(ALL, Some("ip"), None)]
        )),
        case!("acl-unknown-scheme-null-id", |run| create_one(
            run,
            &[(ALL, Some("foo"), None)]
        )),
        case!("acl-null-scheme-null-id", |run| create_one(
            run,
            &[(ALL, None, None)]
        )),
        case!("acl-null-scheme", |run| create_one(
            run,
            &[(ALL, None, Some("anyone"))]
        )),
        case!("acl-world-then-auth-null-id", |run| {
            create_one(
                run,
                &[
                    (ALL, Some("world"), Some("anyone")),
                    (ALL, Some("auth"), None),
                ],
            )
        }),
        case!("acl-two-auth-null-ids", |run| {
            create_one(run, &[(ALL, Some("auth"), None), (ALL, Some("auth"), None)])
        }),
        case!("acl-null-list", |run| {
            let s = run.session();
            let path = run.path("n");
            run.ask(
                s,
                "create",
                OP_CREATE,
                body(|w| {
                    w.write_ustring(Some(&path));
                    w.write_buffer(None);
                    w.write_int(-1);
                    w.write_int(0);
                }),
            );
        }),
        // Known difference 5: which ids are valid.
        case!("acl-digest-user-colon", |run| create_one(
            run,
            &[(ALL, Some("digest"), Some("user:"))]
        )),
        case!("acl-digest-colon-hash", |run| create_one(
            run,
            &[(ALL, Some("digest"), Some(":h"))]
        )),
        case!("acl-digest-trailing-colon", |run| create_one(
            run,
            &[(ALL, Some("digest"), Some("a:b:"))]
        )),
        case!("acl-digest-three-parts", |run| create_one(
            run,
            &[(ALL, Some("digest"), Some("a:b:c"))]
        )),
        case!("acl-ip-v6-loopback", |run| create_one(
            run,
            &[(ALL, Some("ip"), Some("::1"))]
        )),
        case!("acl-ip-leading-zero", |run| create_one(
            run,
            &[(ALL, Some("ip"), Some("010.0.0.1"))]
        )),
        case!("acl-ip-plus-sign", |run| create_one(
            run,
            &[(ALL, Some("ip"), Some("+1.2.3.4"))]
        )),
        case!("acl-ip-plus-bits", |run| create_one(
            run,
            &[(ALL, Some("ip"), Some("1.2.3.4/+8"))]
        )),
        case!("acl-ip-empty-bits", |run| create_one(
            run,
            &[(ALL, Some("ip"), Some("1.2.3.4/"))]
        )),
        case!("acl-ip-trailing-dot", |run| create_one(
            run,
            &[(ALL, Some("ip"), Some("1.2.3.4."))]
        )),
        case!("acl-ip-33-bits", |run| create_one(
            run,
            &[(ALL, Some("ip"), Some("1.2.3.4/33"))]
        )),
        // Known difference 2: exists checks no permission.
        case!("exists-unreadable-node", |run| {
            let path = private_node(run);
            let stranger = run.session();
            run.ask(stranger, "exists", OP_EXISTS, path_watch_body(&path, false));
            run.ask(
                stranger,
                "exists watch",
                OP_EXISTS,
                path_watch_body(&path, true),
            );
            run.ask(
                stranger,
                "getData",
                OP_GET_DATA,
                path_watch_body(&path, false),
            );
        }),
        // Known difference 3: addauth.
        case!("addauth-ip", |run| auth_packet(run, Some("ip"), Some(b"x"))),
        case!("addauth-ip-null-data", |run| auth_packet(
            run,
            Some("ip"),
            None
        )),
        case!("addauth-digest-null-data", |run| auth_packet(
            run,
            Some("digest"),
            None
        )),
        case!("addauth-null-scheme", |run| auth_packet(
            run,
            None,
            Some(b"a:b")
        )),
        case!("addauth-unknown-scheme", |run| auth_packet(
            run,
            Some("kerberos"),
            Some(b"a")
        )),
        case!("addauth-digest-not-utf8", |run| auth_packet(
            run,
            Some("digest"),
            Some(b"\xff:b")
        )),
        // Known difference 6: sasl without SASL.
        case!("sasl-empty-token", |run| sasl(run, Some(b""))),
        case!("sasl-token", |run| sasl(run, Some(b"abc"))),
        case!("sasl-null-token", |run| sasl(run, None)),
        // Known difference 7: containers and TTLs (extendedTypesEnabled=false).
        case!("container-flags-0", |run| container(run, 0)),
        case!("container-flags-ephemeral", |run| container(run, 1)),
        case!("container-flags-sequential", |run| container(run, 2)),
        case!("container-flags-ephemeral-sequential", |run| container(
            run, 3
        )),
        case!("container-flags-container", |run| container(run, 4)),
        case!("container-flags-ttl", |run| container(run, 5)),
        case!("container-flags-unknown", |run| container(run, 9)),
        case!("multi-create2", |run| {
            let s = run.session();
            let path = run.path("n");
            let ops = [(OP_CREATE2, create_body(&path, OPEN, 0))];
            run.ask(s, "multi", OP_MULTI, multi_body(&ops));
            read_back(run, s, &[path]);
        }),
        case!("container-multi-container", |run| container_multi(
            run,
            &[4]
        )),
        case!("container-multi-ttl", |run| container_multi(run, &[5])),
        case!("container-multi-sequential", |run| container_multi(
            run,
            &[2, 3, 0]
        )),
        case!("container-multi-sequential-and-ttl", |run| container_multi(
            run,
            &[2, 5]
        )),
        case!("container-multi-child-of-plain", |run| {
            container_then_child_in_multi(run, 0)
        }),
        case!("container-multi-child-of-ephemeral-flag", |run| {
            container_then_child_in_multi(run, 1)
        }),
        case!("container-multi-child-of-sequential", |run| {
            container_then_child_in_multi(run, 2)
        }),
        case!("container-multi-child-of-ephemeral-sequential", |run| {
            container_then_child_in_multi(run, 3)
        }),
        case!("ttl-persistent-with-ttl", |run| create_ttl(run, 5, 1000)),
        case!("ttl-sequential-with-ttl", |run| create_ttl(run, 6, 1000)),
        case!("ttl-ttl-mode-negative-ttl", |run| create_ttl(run, 5, -1)),
        case!("ttl-persistent-mode", |run| create_ttl(run, 0, 1000)),
        case!("ttl-persistent-mode-zero-ttl", |run| create_ttl(run, 0, 0)),
        case!("ttl-ephemeral-mode", |run| create_ttl(run, 1, 5)),
        case!("ttl-unknown-mode", |run| create_ttl(run, 9, 10)),
        case!("create-ttl-flag", |run| create_flags(run, OP_CREATE, 5)),
        case!("create2-ttl-flag", |run| create_flags(run, OP_CREATE2, 6)),
        case!("create-container-flag", |run| create_flags(
            run, OP_CREATE, 4
        )),
        case!("create-unknown-flag", |run| create_flags(run, OP_CREATE, 7)),
        case!("multi-create-unknown-flag", |run| create_flags_in_multi(
            run, OP_CREATE, 7
        )),
        case!("multi-create2-unknown-flag", |run| create_flags_in_multi(
            run, OP_CREATE2, -1
        )),
        case!("multi-container-unknown-flag", |run| create_flags_in_multi(
            run,
            OP_CREATE_CONTAINER,
            9
        )),
        case!("multi-ttl-persistent-with-ttl", |run| create_ttl_in_multi(
            run, 5, 1000
        )),
        case!("multi-ttl-persistent-mode", |run| create_ttl_in_multi(
            run, 0, 1000
        )),
        case!("multi-ttl-persistent-mode-zero-ttl", |run| {
            create_ttl_in_multi(run, 0, 0)
        }),
        case!("multi-ttl-ephemeral-mode", |run| create_ttl_in_multi(
            run, 1, 5
        )),
        case!("multi-ttl-sequential-mode", |run| create_ttl_in_multi(
            run, 2, 5
        )),
        case!("multi-ttl-container-mode", |run| create_ttl_in_multi(
            run, 4, 5
        )),
        case!("multi-ttl-unknown-mode", |run| create_ttl_in_multi(
            run, 9, 10
        )),
        case!("multi-ttl-persistent-mode-negative-ttl", |run| {
            create_ttl_in_multi(run, 0, -1)
        }),
        case!("multi-unknown-flag-after-a-failing-op", |run| {
            unknown_flag_after_a_failure_in_multi(run)
        }),
        // Known difference 4: the watch ops after a persistent watch.
        case!("check-children-after-persistent", |run| persistent_then(
            run,
            0,
            OP_CHECK_WATCHES,
            1
        )),
        case!("check-data-after-persistent", |run| persistent_then(
            run,
            0,
            OP_CHECK_WATCHES,
            2
        )),
        case!("check-any-after-persistent", |run| persistent_then(
            run,
            0,
            OP_CHECK_WATCHES,
            3
        )),
        case!("remove-children-after-persistent", |run| persistent_then(
            run,
            0,
            OP_REMOVE_WATCHES,
            1
        )),
        case!("remove-data-after-persistent", |run| persistent_then(
            run,
            0,
            OP_REMOVE_WATCHES,
            2
        )),
        case!("remove-any-after-persistent", |run| persistent_then(
            run,
            0,
            OP_REMOVE_WATCHES,
            3
        )),
        case!("check-children-after-recursive", |run| persistent_then(
            run,
            1,
            OP_CHECK_WATCHES,
            1
        )),
        case!("check-data-after-recursive", |run| persistent_then(
            run,
            1,
            OP_CHECK_WATCHES,
            2
        )),
        case!("check-any-after-recursive", |run| persistent_then(
            run,
            1,
            OP_CHECK_WATCHES,
            3
        )),
        case!("remove-children-after-recursive", |run| persistent_then(
            run,
            1,
            OP_REMOVE_WATCHES,
            1
        )),
        case!("remove-data-after-recursive", |run| persistent_then(
            run,
            1,
            OP_REMOVE_WATCHES,
            2
        )),
        case!("remove-any-after-recursive", |run| persistent_then(
            run,
            1,
            OP_REMOVE_WATCHES,
            3
        )),
    ]
    .into_iter()
    .chain(hand_made_cases())
    .chain(super::generated::cases())
    .collect()
}

/// Chapter 2 follows ZooKeeper 3.9's watch rules (ZOOKEEPER-4466 keeps each watch's mode per
/// path; ZOOKEEPER-4471 makes checkWatches/removeWatches of type Children or Data look for a
/// standard watch only, type Any for a watch of any mode). 3.8 counts a persistent watch as a
/// data and a child watch. Read in upstream's `DataTree.containsWatcher` / `removeWatch` at
/// release-3.9.0 to 3.9.5, which answer exactly as Keeper does; no 3.9 server runs here.
const WATCH_RULES: &str = "version difference: 3.8 counts a persistent watch as a data and a \
     child watch (OK); 3.9.0+ look for a standard watch only (ZOOKEEPER-4471) and answer \
     NoWatcher, as Keeper does";

/// ZOOKEEPER-4026 (3.8.2): a create op in a multi keeps its own opcode. Read in upstream's
/// `MultiOperationRecord.deserialize` and `Op.create` at release-3.8.0 and release-3.8.2.
const MULTI_CREATE_OPCODE: &str = "version difference: 3.8.0 rebuilds a create op's type \
     from its flags (Op.create), so a create2, or a createContainer with flags 0-3, in a multi \
     is a plain create of that mode, answered type 1 with the path only; 3.8.2+ keep the op's \
     type (ZOOKEEPER-4026): a createContainer makes a container (with a counter if \
     sequential), and both are answered create2 (15) with the Stat, as Keeper does";

/// Cases where Keeper answers differently on purpose, with the reason; they run, their
/// difference is printed, and they do not fail the test. ZooKeeper against ZooKeeper must
/// still agree on them.
pub const KNOWN_DIFFERENCES: &[(&str, &str)] = &[
    (
        "acl-two-auth-null-ids",
        "upstream's duplicate removal throws on the second null id (MarshallingError); \
         Keeper reads a null auth id as empty, so the two entries are one",
    ),
    // Found by the generated cases; each says what ZooKeeper 3.8 does and why Keeper does not.
    (
        "path-check-base",
        "3.8 bug not copied: a check (13) outside a multi on a node that exists gets no \
         answer at all (the request is wedged, the connection waits); Keeper answers OK",
    ),
    (
        "path-sync-emoji",
        "3.8's jute writer encodes a character outside the BMP as two 3-byte surrogates \
         (CESU-8, Java's char-by-char encoding); Keeper writes standard UTF-8, which its \
         reader and ZooKeeper's both read back as the same path",
    ),
    (
        "path-checkWatches-relative",
        "version difference: 3.8's WatchManager.containsWatcher walks the path with \
         PathParentIterator, whose next() takes substring(0, lastIndexOf('/')) and throws on a \
         path with no slash, which FinalRequestProcessor answers MarshallingError; 3.9.0+ look \
         the path up in the watcher's own map (ZOOKEEPER-4471) and answer NoWatcher, as Keeper \
         does",
    ),
    ("multi-create2", MULTI_CREATE_OPCODE),
    ("container-multi-sequential", MULTI_CREATE_OPCODE),
    ("container-multi-child-of-plain", MULTI_CREATE_OPCODE),
    ("container-multi-child-of-sequential", MULTI_CREATE_OPCODE),
    ("check-children-after-persistent", WATCH_RULES),
    ("check-data-after-persistent", WATCH_RULES),
    ("remove-children-after-persistent", WATCH_RULES),
    ("remove-data-after-persistent", WATCH_RULES),
    ("check-children-after-recursive", WATCH_RULES),
    ("check-data-after-recursive", WATCH_RULES),
    ("remove-children-after-recursive", WATCH_RULES),
    ("remove-data-after-recursive", WATCH_RULES),
];
