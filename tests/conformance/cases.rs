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
    pub name: &'static str,
    pub steps: fn(&mut Run),
}

// ---- request bodies, written field by field so that nulls can be sent ----

pub const OP_CREATE: i32 = 1;
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
const ALL: i32 = 31;

fn body(fill: impl FnOnce(&mut Writer)) -> Vec<u8> {
    let mut w = Writer::new();
    fill(&mut w);
    w.into_bytes()
}

/// `(perms, scheme, id)`, `None` written as a null string.
type AclEntry<'a> = (i32, Option<&'a str>, Option<&'a str>);

fn write_acl(w: &mut Writer, acl: &[AclEntry<'_>]) {
    w.write_int(acl.len() as i32);
    for (perms, scheme, id) in acl {
        w.write_int(*perms);
        w.write_ustring(*scheme);
        w.write_ustring(*id);
    }
}

const OPEN: &[AclEntry<'static>] = &[(ALL, Some("world"), Some("anyone"))];

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

fn path_watch_body(path: &str, watch: bool) -> Vec<u8> {
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

fn container(run: &mut Run, flags: i32) {
    let s = run.session();
    let path = run.path("c-");
    run.ask(
        s,
        "createContainer",
        OP_CREATE_CONTAINER,
        create_body(&path, OPEN, flags),
    );
    run.ask(
        s,
        "getChildren2",
        OP_GET_CHILDREN2,
        path_watch_body(&run.base, false),
    );
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

/// Every case, in the order they run.
pub fn all() -> Vec<Case> {
    macro_rules! case {
        ($name:literal, $steps:expr) => {
            Case {
                name: $name,
                steps: $steps,
            }
        };
    }
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
        case!("container-flags-container", |run| container(run, 4)),
        case!("container-flags-ttl", |run| container(run, 5)),
        case!("container-flags-unknown", |run| container(run, 9)),
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
}

/// Chapter 2 follows ZooKeeper 3.9's watch rules (ZOOKEEPER-4466 keeps each watch's mode per
/// path; ZOOKEEPER-4471 makes checkWatches/removeWatches of type Children or Data look for a
/// standard watch only, type Any for a watch of any mode). 3.8 counts a persistent watch as a
/// data and a child watch. Read in upstream's `DataTree.containsWatcher` / `removeWatch` at
/// release-3.9.0 to 3.9.5, which answer exactly as Keeper does; no 3.9 server runs here.
const WATCH_RULES: &str = "version difference: 3.8 counts a persistent watch as a data and a \
     child watch (OK); 3.9.0+ look for a standard watch only (ZOOKEEPER-4471) and answer \
     NoWatcher, as Keeper does";

/// Cases where Keeper answers differently on purpose, with the reason; they run, their
/// difference is printed, and they do not fail the test. ZooKeeper against ZooKeeper must
/// still agree on them.
pub const KNOWN_DIFFERENCES: &[(&str, &str)] = &[
    (
        "acl-two-auth-null-ids",
        "upstream's duplicate removal throws on the second null id (MarshallingError); \
         Keeper reads a null auth id as empty, so the two entries are one",
    ),
    (
        "container-flags-sequential",
        "upstream names a createContainer with the sequential flag with a counter; chapter 1's \
         modes have no sequential container, so Keeper's has no counter",
    ),
    ("check-children-after-persistent", WATCH_RULES),
    ("check-data-after-persistent", WATCH_RULES),
    ("remove-children-after-persistent", WATCH_RULES),
    ("remove-data-after-persistent", WATCH_RULES),
    ("check-children-after-recursive", WATCH_RULES),
    ("check-data-after-recursive", WATCH_RULES),
    ("remove-children-after-recursive", WATCH_RULES),
    ("remove-data-after-recursive", WATCH_RULES),
];
