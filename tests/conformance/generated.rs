//! Cases generated from tables: every client opcode of 3.8 crossed with edge paths, data
//! sizes around `jute.maxbuffer`, versions, ACLs, create flags, broken frames and unknown
//! opcodes. Each table row is one case; a case name says its table and its row, so a filter
//! (`-- path-getData-`) picks a slice.

use super::cases::{
    body, multi_body, one, path_watch_body, write_acl, AclEntry, Case, Run, ALL, OPEN,
};
use ch03_sessions::jute::Writer;

const OP_CREATE: i32 = 1;
const OP_DELETE: i32 = 2;
const OP_EXISTS: i32 = 3;
const OP_GET_DATA: i32 = 4;
const OP_SET_DATA: i32 = 5;
const OP_GET_ACL: i32 = 6;
const OP_SET_ACL: i32 = 7;
const OP_GET_CHILDREN: i32 = 8;
const OP_SYNC: i32 = 9;
const OP_GET_CHILDREN2: i32 = 12;
const OP_CHECK: i32 = 13;
const OP_MULTI: i32 = 14;
const OP_CREATE2: i32 = 15;
const OP_CHECK_WATCHES: i32 = 17;
const OP_REMOVE_WATCHES: i32 = 18;
const OP_CREATE_CONTAINER: i32 = 19;
const OP_CREATE_TTL: i32 = 21;
const OP_MULTI_READ: i32 = 22;
const OP_GET_EPHEMERALS: i32 = 103;
const OP_GET_ALL_CHILDREN_NUMBER: i32 = 104;
const OP_ADD_WATCH: i32 = 106;

/// Where a path row points: `None` is a null string; otherwise the text, with `{}` standing
/// for the case's base node.
type PathRow = (&'static str, Option<&'static str>);

/// Edge paths. The base node exists (created by every case), `{}/missing` does not.
const PATHS: &[PathRow] = &[
    ("null", None),
    ("empty", Some("")),
    ("root", Some("/")),
    ("base", Some("{}")),
    ("missing", Some("{}/missing")),
    ("relative", Some("rel")),
    ("relative-slash", Some("rel/x")),
    ("trailing-slash", Some("{}/")),
    ("double-slash", Some("{}//x")),
    ("dot", Some("{}/.")),
    ("dotdot", Some("{}/..")),
    ("dot-inside", Some("{}/./x")),
    ("dotdot-inside", Some("{}/../x")),
    ("dot-name", Some("{}/.x")),
    ("unicode", Some("{}/ünïcødé")),
    ("emoji", Some("{}/\u{1F600}")),
    ("control", Some("{}/a\u{1}b")),
    ("delete-char", Some("{}/a\u{7f}b")),
    ("c1-control", Some("{}/a\u{85}b")),
    ("private-use", Some("{}/a\u{f8ff}b")),
    ("nul", Some("{}/a\u{0}b")),
    ("space", Some("{}/ ")),
    ("zookeeper", Some("/zookeeper")),
    ("zookeeper-quota", Some("/zookeeper/quota")),
];

fn expand(row: Option<&str>, base: &str) -> Option<String> {
    row.map(|p| p.replace("{}", base))
}

/// A request with a path, as a body maker: `(name, opcode, body from the path)`.
type PathOp = (&'static str, i32, fn(Option<&str>) -> Vec<u8>);

fn with_path(path: Option<&str>, rest: impl FnOnce(&mut Writer)) -> Vec<u8> {
    body(|w| {
        w.write_ustring(path);
        rest(w);
    })
}

fn create_rest(w: &mut Writer, flags: i32) {
    w.write_buffer(Some(b"d"));
    write_acl(w, OPEN);
    w.write_int(flags);
}

const PATH_OPS: &[PathOp] = &[
    ("exists", OP_EXISTS, |p| {
        with_path(p, |w| w.write_bool(false))
    }),
    ("exists-watch", OP_EXISTS, |p| {
        with_path(p, |w| w.write_bool(true))
    }),
    ("getData", OP_GET_DATA, |p| {
        with_path(p, |w| w.write_bool(false))
    }),
    ("getData-watch", OP_GET_DATA, |p| {
        with_path(p, |w| w.write_bool(true))
    }),
    ("getChildren", OP_GET_CHILDREN, |p| {
        with_path(p, |w| w.write_bool(false))
    }),
    ("getChildren2-watch", OP_GET_CHILDREN2, |p| {
        with_path(p, |w| w.write_bool(true))
    }),
    ("getACL", OP_GET_ACL, |p| with_path(p, |_| {})),
    ("getAllChildrenNumber", OP_GET_ALL_CHILDREN_NUMBER, |p| {
        with_path(p, |_| {})
    }),
    ("setData", OP_SET_DATA, |p| {
        with_path(p, |w| {
            w.write_buffer(Some(b"x"));
            w.write_int(-1);
        })
    }),
    ("setACL", OP_SET_ACL, |p| {
        with_path(p, |w| {
            write_acl(w, OPEN);
            w.write_int(-1);
        })
    }),
    ("delete", OP_DELETE, |p| with_path(p, |w| w.write_int(-1))),
    ("check", OP_CHECK, |p| with_path(p, |w| w.write_int(-1))),
    ("create", OP_CREATE, |p| with_path(p, |w| create_rest(w, 0))),
    ("create-sequential", OP_CREATE, |p| {
        with_path(p, |w| create_rest(w, 2))
    }),
    ("create2-ephemeral", OP_CREATE2, |p| {
        with_path(p, |w| create_rest(w, 1))
    }),
    ("createContainer", OP_CREATE_CONTAINER, |p| {
        with_path(p, |w| create_rest(w, 4))
    }),
    ("createTTL", OP_CREATE_TTL, |p| {
        with_path(p, |w| {
            create_rest(w, 5);
            w.write_long(1000);
        })
    }),
    ("sync", OP_SYNC, |p| with_path(p, |_| {})),
    ("checkWatches", OP_CHECK_WATCHES, |p| {
        with_path(p, |w| w.write_int(3))
    }),
    ("removeWatches", OP_REMOVE_WATCHES, |p| {
        with_path(p, |w| w.write_int(3))
    }),
    ("addWatch-persistent", OP_ADD_WATCH, |p| {
        with_path(p, |w| w.write_int(0))
    }),
    ("addWatch-recursive", OP_ADD_WATCH, |p| {
        with_path(p, |w| w.write_int(1))
    }),
    ("getEphemerals", OP_GET_EPHEMERALS, |p| with_path(p, |_| {})),
    ("multi-create", OP_MULTI, |p| {
        multi_body(&[(OP_CREATE, with_path(p, |w| create_rest(w, 0)))])
    }),
    ("multi-setData", OP_MULTI, |p| {
        let set = with_path(p, |w| {
            w.write_buffer(Some(b"x"));
            w.write_int(-1);
        });
        multi_body(&[(OP_SET_DATA, set)])
    }),
    ("multi-delete", OP_MULTI, |p| {
        multi_body(&[(OP_DELETE, with_path(p, |w| w.write_int(-1)))])
    }),
    ("multiRead-getData", OP_MULTI_READ, |p| {
        multi_body(&[(OP_GET_DATA, with_path(p, |w| w.write_bool(false)))])
    }),
    ("multiRead-getChildren", OP_MULTI_READ, |p| {
        multi_body(&[(OP_GET_CHILDREN, with_path(p, |w| w.write_bool(false)))])
    }),
];

/// Every path op on every edge path.
fn path_cases() -> Vec<Case> {
    let mut cases = Vec::new();
    for &(op_name, op, make) in PATH_OPS {
        for &(path_name, row) in PATHS {
            // 3.8 never answers a check outside a multi on a node that exists (a known
            // difference); one such case says so, more would only wait out the timeout.
            let wedged = ["root", "zookeeper", "zookeeper-quota"].contains(&path_name);
            if op == OP_CHECK && wedged {
                continue;
            }
            cases.push(Case::new(
                format!("path-{op_name}-{path_name}"),
                move |run| {
                    let path = expand(row, &run.base);
                    one(run, op_name, op, make(path.as_deref()));
                },
            ));
        }
    }
    cases
}

/// Data sizes around `jute.maxbuffer` (1048575 by default, on the whole frame): what fits,
/// what is just over (the server closes the connection) and what is far over.
const DATA_SIZES: &[usize] = &[0, 1, 1024, 1_048_000, 1_048_475, 1_048_576, 2_000_000];

fn data_cases() -> Vec<Case> {
    let mut cases = Vec::new();
    for &size in DATA_SIZES {
        cases.push(Case::new(format!("data-create-{size}"), move |run| {
            let s = run.session();
            let path = run.path("d");
            let data = vec![b'z'; size];
            let bytes = with_path(Some(&path), |w| {
                w.write_buffer(Some(&data));
                write_acl(w, OPEN);
                w.write_int(0);
            });
            run.ask(s, "create", OP_CREATE, bytes);
            run.ask(s, "exists", OP_EXISTS, path_watch_body(&path, false));
        }));
        cases.push(Case::new(format!("data-setData-{size}"), move |run| {
            let s = run.session();
            let base = run.base.clone();
            let data = vec![b'z'; size];
            let bytes = with_path(Some(&base), |w| {
                w.write_buffer(Some(&data));
                w.write_int(-1);
            });
            run.ask(s, "setData", OP_SET_DATA, bytes);
            run.ask(s, "exists", OP_EXISTS, path_watch_body(&base, false));
        }));
    }
    cases
}

/// A request with a version: `(name, opcode, body from path and version)`.
type VersionOp = (&'static str, i32, fn(&str, i32) -> Vec<u8>);

/// Versions against a node at version 0 (data, children and ACL versions alike).
const VERSIONS: &[i32] = &[i32::MIN, -2, -1, 0, 1, i32::MAX];

fn version_cases() -> Vec<Case> {
    let mut cases = Vec::new();
    for &version in VERSIONS {
        let ops: [VersionOp; 4] = [
            ("setData", OP_SET_DATA, |p, v| {
                with_path(Some(p), |w| {
                    w.write_buffer(Some(b"v"));
                    w.write_int(v);
                })
            }),
            ("setACL", OP_SET_ACL, |p, v| {
                with_path(Some(p), |w| {
                    write_acl(w, OPEN);
                    w.write_int(v);
                })
            }),
            ("delete", OP_DELETE, |p, v| {
                with_path(Some(p), |w| w.write_int(v))
            }),
            ("multi-check", OP_MULTI, |p, v| {
                multi_body(&[(OP_CHECK, with_path(Some(p), |w| w.write_int(v)))])
            }),
        ];
        for (name, op, make) in ops {
            cases.push(Case::new(format!("version-{name}-{version}"), move |run| {
                let s = run.session();
                let path = run.path("v");
                run.ask(
                    s,
                    "create",
                    OP_CREATE,
                    with_path(Some(&path), |w| create_rest(w, 0)),
                );
                run.ask(s, name, op, make(&path, version));
                run.ask(s, "exists", OP_EXISTS, path_watch_body(&path, false));
            }));
        }
    }
    cases
}

/// ACL entries for a create, one case each.
const ACLS: &[(&str, AclEntry<'static>)] = &[
    ("perms-0", (0, Some("world"), Some("anyone"))),
    ("perms-read", (1, Some("world"), Some("anyone"))),
    ("perms-admin-only", (16, Some("world"), Some("anyone"))),
    ("perms-32", (32, Some("world"), Some("anyone"))),
    ("perms-63", (63, Some("world"), Some("anyone"))),
    ("perms-minus-1", (-1, Some("world"), Some("anyone"))),
    ("world-other-id", (ALL, Some("world"), Some("everyone"))),
    ("world-empty-id", (ALL, Some("world"), Some(""))),
    ("World-capital", (ALL, Some("World"), Some("anyone"))),
    ("auth-any-id", (ALL, Some("auth"), Some("whoever"))),
    (
        "digest-valid",
        (ALL, Some("digest"), Some("u:NDA9bqKx0oJAb9K7Ddj4yfcMkc0=")),
    ),
    ("digest-no-colon", (ALL, Some("digest"), Some("user"))),
    ("digest-empty", (ALL, Some("digest"), Some(""))),
    ("ip-v4", (ALL, Some("ip"), Some("127.0.0.1"))),
    ("ip-v4-cidr", (ALL, Some("ip"), Some("10.0.0.0/8"))),
    ("ip-v4-cidr-0", (ALL, Some("ip"), Some("10.0.0.0/0"))),
    ("ip-v4-cidr-32", (ALL, Some("ip"), Some("10.0.0.1/32"))),
    ("ip-v4-short", (ALL, Some("ip"), Some("10.0.0"))),
    ("ip-v4-256", (ALL, Some("ip"), Some("256.0.0.1"))),
    ("ip-v6-full", (ALL, Some("ip"), Some("0:0:0:0:0:0:0:1"))),
    ("ip-name", (ALL, Some("ip"), Some("localhost"))),
    ("ip-empty", (ALL, Some("ip"), Some(""))),
    ("sasl", (ALL, Some("sasl"), Some("user"))),
    ("x509", (ALL, Some("x509"), Some("CN=me"))),
    ("super", (ALL, Some("super"), Some("x"))),
    ("empty-scheme", (ALL, Some(""), Some("x"))),
    ("unicode-scheme", (ALL, Some("wörld"), Some("anyone"))),
];

fn acl_cases() -> Vec<Case> {
    let mut cases = Vec::new();
    for &(name, entry) in ACLS {
        cases.push(Case::new(format!("acls-create-{name}"), move |run| {
            let s = run.session();
            let path = run.path("a");
            let bytes = with_path(Some(&path), |w| {
                w.write_buffer(None);
                write_acl(w, &[entry]);
                w.write_int(0);
            });
            run.ask(s, "create", OP_CREATE, bytes);
            run.ask(s, "getACL", OP_GET_ACL, with_path(Some(&path), |_| {}));
            run.ask(s, "getData", OP_GET_DATA, path_watch_body(&path, false));
        }));
        cases.push(Case::new(format!("acls-setACL-{name}"), move |run| {
            let s = run.session();
            let path = run.path("a");
            run.ask(
                s,
                "create",
                OP_CREATE,
                with_path(Some(&path), |w| create_rest(w, 0)),
            );
            let bytes = with_path(Some(&path), |w| {
                write_acl(w, &[entry]);
                w.write_int(-1);
            });
            run.ask(s, "setACL", OP_SET_ACL, bytes);
            run.ask(s, "getACL", OP_GET_ACL, with_path(Some(&path), |_| {}));
        }));
    }
    cases.push(Case::new("acls-create-duplicates", |run| {
        let s = run.session();
        let path = run.path("a");
        let entry = (ALL, Some("world"), Some("anyone"));
        let bytes = with_path(Some(&path), |w| {
            w.write_buffer(None);
            write_acl(w, &[entry, entry, (1, Some("world"), Some("anyone"))]);
            w.write_int(0);
        });
        run.ask(s, "create", OP_CREATE, bytes);
        run.ask(s, "getACL", OP_GET_ACL, with_path(Some(&path), |_| {}));
    }));
    cases.push(Case::new("acls-create-empty-list", |run| {
        let s = run.session();
        let path = run.path("a");
        let bytes = with_path(Some(&path), |w| {
            w.write_buffer(None);
            write_acl(w, &[]);
            w.write_int(0);
        });
        run.ask(s, "create", OP_CREATE, bytes);
    }));
    cases
}

/// Create flags 0 to 7 and beyond, with each create opcode, three times over (sequential
/// names count on), then the base's children.
const FLAGS: &[i32] = &[0, 1, 2, 3, 4, 5, 6, 7, 8, -1, i32::MAX];

fn flag_cases() -> Vec<Case> {
    let mut cases = Vec::new();
    for &flags in FLAGS {
        for (name, op) in [("create", OP_CREATE), ("create2", OP_CREATE2)] {
            cases.push(Case::new(format!("flags-{name}-{flags}"), move |run| {
                let s = run.session();
                let path = run.path("f-");
                for _ in 0..3 {
                    run.ask(
                        s,
                        name,
                        op,
                        with_path(Some(&path), |w| create_rest(w, flags)),
                    );
                }
                let base = run.base.clone();
                run.ask(
                    s,
                    "getChildren",
                    OP_GET_CHILDREN,
                    path_watch_body(&base, false),
                );
            }));
        }
    }
    cases
}

/// A session and a parent node made with `flags` (4: by createContainer).
fn parent_of_kind(run: &mut Run, flags: i32) -> (usize, String) {
    let s = run.session();
    let parent = run.path("p");
    let op = if flags == 4 {
        OP_CREATE_CONTAINER
    } else {
        OP_CREATE
    };
    let bytes = with_path(Some(&parent), |w| create_rest(w, flags));
    run.ask(s, "create parent", op, bytes);
    (s, parent)
}

/// A tree with an ephemeral, a container and a sequential parent, and what may be done
/// under and to each.
fn tree_cases() -> Vec<Case> {
    let kinds: [(&str, i32); 3] = [("ephemeral", 1), ("container", 4), ("persistent", 0)];
    let mut cases = Vec::new();
    for (kind, flags) in kinds {
        cases.push(Case::new(format!("tree-child-of-{kind}"), move |run| {
            let (s, parent) = parent_of_kind(run, flags);
            let child = format!("{parent}/c");
            run.ask(
                s,
                "create child",
                OP_CREATE,
                with_path(Some(&child), |w| create_rest(w, 0)),
            );
            run.ask(
                s,
                "delete parent",
                OP_DELETE,
                with_path(Some(&parent), |w| w.write_int(-1)),
            );
            run.ask(
                s,
                "delete child",
                OP_DELETE,
                with_path(Some(&child), |w| w.write_int(-1)),
            );
            run.ask(
                s,
                "exists parent",
                OP_EXISTS,
                path_watch_body(&parent, false),
            );
            run.ask(
                s,
                "getEphemerals",
                OP_GET_EPHEMERALS,
                with_path(Some("/"), |_| {}),
            );
        }));
        cases.push(Case::new(
            format!("tree-sequential-under-{kind}"),
            move |run| {
                let (s, parent) = parent_of_kind(run, flags);
                let child = format!("{parent}/");
                for _ in 0..2 {
                    run.ask(
                        s,
                        "create seq",
                        OP_CREATE,
                        with_path(Some(&child), |w| create_rest(w, 2)),
                    );
                }
                run.ask(
                    s,
                    "getChildren2",
                    OP_GET_CHILDREN2,
                    path_watch_body(&parent, false),
                );
            },
        ));
    }
    cases.push(Case::new("tree-ephemerals-of-other-session", |run| {
        let owner = run.session();
        let path = run.path("e");
        run.ask(
            owner,
            "create",
            OP_CREATE,
            with_path(Some(&path), |w| create_rest(w, 1)),
        );
        let other = run.session();
        run.ask(
            other,
            "getEphemerals",
            OP_GET_EPHEMERALS,
            with_path(Some("/"), |_| {}),
        );
        run.ask(
            owner,
            "getEphemerals",
            OP_GET_EPHEMERALS,
            with_path(Some("/"), |_| {}),
        );
        let base = run.base.clone();
        run.ask(
            owner,
            "getEphemerals base",
            OP_GET_EPHEMERALS,
            with_path(Some(&base), |_| {}),
        );
        run.ask(
            owner,
            "getEphemerals ' /'",
            OP_GET_EPHEMERALS,
            with_path(Some(" / "), |_| {}),
        );
        run.ask(
            owner,
            "getAllChildrenNumber",
            OP_GET_ALL_CHILDREN_NUMBER,
            with_path(Some(&base), |_| {}),
        );
    }));
    cases
}

/// Opcodes 3.8 does not take from a client, and those it does with an empty body (ping, 11,
/// is left out: its reply has xid -2 whatever the request had, see `frame-ping-reply-xid`).
const OPCODES: &[i32] = &[
    -100, -12, -11, -10, -1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 13, 14, 15, 16, 17, 18, 19, 20,
    21, 22, 23, 99, 100, 101, 102, 103, 104, 105, 106, 107, 108, 1000,
];

fn opcode_cases() -> Vec<Case> {
    OPCODES
        .iter()
        .map(|&op| {
            Case::new(format!("opcode-empty-body-{op}"), move |run| {
                one(run, "empty body", op, Vec::new())
            })
        })
        .collect()
}

/// Frames whose length or contents lie.
fn frame_cases() -> Vec<Case> {
    type Frame = (&'static str, fn(i32, &str) -> Vec<u8>);
    let frames: &[Frame] = &[
        ("length-zero", |_, _| 0i32.to_be_bytes().to_vec()),
        ("length-negative", |_, _| (-5i32).to_be_bytes().to_vec()),
        ("length-huge", |_, _| i32::MAX.to_be_bytes().to_vec()),
        ("length-just-over-maxbuffer", |_, _| {
            1_048_576i32.to_be_bytes().to_vec()
        }),
        ("header-only-xid", |xid, _| {
            [&4i32.to_be_bytes()[..], &xid.to_be_bytes()].concat()
        }),
        ("getData-path-length-lies", |xid, base| {
            let mut b = Writer::new();
            b.write_int(xid);
            b.write_int(OP_GET_DATA);
            b.write_int(base.len() as i32 + 100);
            b.write_raw(base.as_bytes());
            b.write_bool(false);
            framed(b.into_bytes())
        }),
        ("getData-path-length-minus-2", |xid, _| {
            let mut b = Writer::new();
            b.write_int(xid);
            b.write_int(OP_GET_DATA);
            b.write_int(-2);
            b.write_bool(false);
            framed(b.into_bytes())
        }),
        ("getData-truncated-watch", |xid, base| {
            let mut b = Writer::new();
            b.write_int(xid);
            b.write_int(OP_GET_DATA);
            b.write_ustring(Some(base));
            framed(b.into_bytes())
        }),
        ("getData-trailing-bytes", |xid, base| {
            let mut b = Writer::new();
            b.write_int(xid);
            b.write_int(OP_GET_DATA);
            b.write_ustring(Some(base));
            b.write_bool(false);
            b.write_raw(b"trailing garbage");
            framed(b.into_bytes())
        }),
        ("getData-watch-byte-2", |xid, base| {
            let mut b = Writer::new();
            b.write_int(xid);
            b.write_int(OP_GET_DATA);
            b.write_ustring(Some(base));
            b.write_raw(&[2]);
            framed(b.into_bytes())
        }),
        ("getData-path-not-utf8", |xid, _| {
            let mut b = Writer::new();
            b.write_int(xid);
            b.write_int(OP_GET_DATA);
            b.write_int(3);
            b.write_raw(b"/\xff\xfe");
            b.write_bool(false);
            framed(b.into_bytes())
        }),
        ("create-data-length-lies", |xid, base| {
            let mut b = Writer::new();
            b.write_int(xid);
            b.write_int(OP_CREATE);
            b.write_ustring(Some(&format!("{base}/n")));
            b.write_int(1000);
            b.write_raw(b"short");
            framed(b.into_bytes())
        }),
        ("create-data-length-minus-2", |xid, base| {
            let mut b = Writer::new();
            b.write_int(xid);
            b.write_int(OP_CREATE);
            b.write_ustring(Some(&format!("{base}/n")));
            b.write_int(-2);
            write_acl(&mut b, OPEN);
            b.write_int(0);
            framed(b.into_bytes())
        }),
        ("create-acl-count-lies", |xid, base| {
            let mut b = Writer::new();
            b.write_int(xid);
            b.write_int(OP_CREATE);
            b.write_ustring(Some(&format!("{base}/n")));
            b.write_buffer(None);
            b.write_int(1000);
            b.write_int(ALL);
            framed(b.into_bytes())
        }),
        ("two-requests-one-write", |xid, base| {
            let one = |x: i32| {
                let mut b = Writer::new();
                b.write_int(x);
                b.write_int(OP_GET_DATA);
                b.write_ustring(Some(base));
                b.write_bool(false);
                framed(b.into_bytes())
            };
            [one(xid - 1000), one(xid)].concat()
        }),
    ];
    frames
        .iter()
        .map(|&(name, make)| {
            Case::new(format!("frame-raw-{name}"), move |run| {
                let s = run.session();
                let base = run.base.clone();
                run.ask_raw(s, name, OP_GET_DATA, |xid| make(xid, &base));
                run.ask(s, "exists /", OP_EXISTS, path_watch_body("/", false));
            })
        })
        .collect()
}

fn framed(body: Vec<u8>) -> Vec<u8> {
    [&(body.len() as i32).to_be_bytes()[..], &body].concat()
}

/// Every generated case.
pub fn cases() -> Vec<Case> {
    [
        path_cases(),
        data_cases(),
        version_cases(),
        acl_cases(),
        flag_cases(),
        tree_cases(),
        opcode_cases(),
        frame_cases(),
    ]
    .into_iter()
    .flatten()
    .collect()
}
