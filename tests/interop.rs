//! Interop: a ZooKeeper client library nobody here wrote (`zookeeper-client` from crates.io)
//! against a real `keeper server` process, over TCP.

mod support;

use std::time::Duration;

use support::{four_letter_word, KeeperProcess, RawClient};
use zookeeper_client as zk;

/// Every await in these tests is bounded: a hang is a failure, not a stuck CI run.
async fn bounded<T>(what: &str, future: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(10), future)
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
}

async fn client(server: &KeeperProcess) -> zk::Client {
    bounded("connect", zk::Client::connect(&server.connect_string()))
        .await
        .expect("connects")
}

fn open() -> zk::CreateOptions<'static> {
    zk::CreateMode::Persistent.with_acls(zk::Acls::anyone_all())
}

#[tokio::test]
async fn a_foreign_client_creates_reads_updates_and_deletes() {
    let server = KeeperProcess::start("");
    let c = client(&server).await;
    let (stat, _) = c.create("/sanguo", b"diaochan", &open()).await.unwrap();
    // createSession is 0x1, so the first create is 0x2 (client-protocol.md §12).
    assert_eq!((stat.czxid, stat.version), (2, 0));
    let (data, _) = c.get_data("/sanguo").await.unwrap();
    assert_eq!(data, b"diaochan");
    let stat = c.set_data("/sanguo", b"simayi", Some(0)).await.unwrap();
    assert_eq!(stat.version, 1);
    let err = c.set_data("/sanguo", b"x", Some(0)).await.unwrap_err();
    assert_eq!(err, zk::Error::BadVersion);
    assert_eq!(
        c.list_children("/").await.unwrap().len(),
        2,
        "zookeeper and sanguo"
    );
    c.delete("/sanguo", None).await.unwrap();
    assert_eq!(c.check_stat("/sanguo").await.unwrap(), None);
}

#[tokio::test]
async fn sequential_nodes_get_ten_digit_suffixes_from_the_parent() {
    let server = KeeperProcess::start("");
    let c = client(&server).await;
    c.create("/q", b"", &open()).await.unwrap();
    let seq = zk::CreateMode::EphemeralSequential.with_acls(zk::Acls::anyone_all());
    let (_, first) = c.create("/q/n-", b"", &seq).await.unwrap();
    let (_, second) = c.create("/q/n-", b"", &seq).await.unwrap();
    assert_eq!(
        (first.to_string(), second.to_string()),
        ("0000000000".into(), "0000000001".into())
    );
    let mut children = c.list_children("/q").await.unwrap();
    children.sort();
    assert_eq!(children, vec!["n-0000000000", "n-0000000001"]);
}

#[tokio::test]
async fn a_data_watch_fires_once_when_another_session_writes() {
    let server = KeeperProcess::start("");
    let watcher = client(&server).await;
    let writer = client(&server).await;
    writer.create("/cfg", b"v1", &open()).await.unwrap();
    let (_, _, watch) = watcher.get_and_watch_data("/cfg").await.unwrap();
    writer.set_data("/cfg", b"v2", None).await.unwrap();
    let event = bounded("the watch", watch.changed()).await;
    assert_eq!(event.event_type, zk::EventType::NodeDataChanged);
    assert_eq!(event.path, "/cfg");
}

#[tokio::test]
async fn an_expired_session_takes_its_ephemerals_and_tells_the_watchers() {
    // SessionTrackerImpl: silence past the timeout expires the session; the closeSession txn
    // deletes its ephemerals and fires their watches.
    let server = KeeperProcess::start("tickTime=100\n");
    let (mut silent, response) = RawClient::handshake(server.addr, 200);
    assert_eq!(response.time_out, 200, "2 ticks is the minimum");
    let create = ch03_sessions::proto::Request::Create(ch03_sessions::proto::CreateRequest {
        path: "/alive".into(),
        data: Some(b"1".to_vec()),
        acl: ch03_sessions::proto::Acl::open_unsafe(),
        flags: 1,
    });
    silent.send_request(1, &create);
    assert_eq!(silent.read_header().expect("a reply").err, 0);
    let c = client(&server).await;
    let (_, watch) = c.check_and_watch_stat("/alive").await.unwrap();
    // The silent client sends nothing more: no pings.
    let event = bounded("expiry", watch.changed()).await;
    assert_eq!(event.event_type, zk::EventType::NodeDeleted);
    assert!(
        silent.is_closed_by_server(),
        "the expired session's connection is closed"
    );
    assert_eq!(c.check_stat("/alive").await.unwrap(), None);
}

#[tokio::test]
async fn a_digest_acl_keeps_an_unauthenticated_session_out() {
    let server = KeeperProcess::start("");
    let alice = client(&server).await;
    alice.auth("digest", b"alice:secret").await.unwrap();
    let private = zk::CreateMode::Persistent.with_acls(zk::Acls::creator_all());
    alice.create("/alice", b"mine", &private).await.unwrap();
    assert_eq!(alice.get_data("/alice").await.unwrap().0, b"mine");
    let (acl, _) = alice.get_acl("/alice").await.unwrap();
    assert_eq!(acl[0].scheme(), "digest");
    let stranger = client(&server).await;
    assert_eq!(
        stranger.get_data("/alice").await.unwrap_err(),
        zk::Error::NoAuth
    );
    assert_eq!(
        stranger.set_data("/alice", b"x", None).await.unwrap_err(),
        zk::Error::NoAuth
    );
}

#[tokio::test]
async fn a_multi_applies_all_or_nothing() {
    let server = KeeperProcess::start("");
    let c = client(&server).await;
    let mut ok = c.new_multi_writer();
    ok.add_create("/m1", b"", &open()).unwrap();
    ok.add_create("/m2", b"", &open()).unwrap();
    assert_eq!(ok.commit().await.unwrap().len(), 2);
    let mut bad = c.new_multi_writer();
    bad.add_create("/m3", b"", &open()).unwrap();
    bad.add_delete("/missing", None).unwrap();
    let err = bad.commit().await.unwrap_err();
    assert!(matches!(
        err,
        zk::MultiWriteError::OperationFailed {
            index: 1,
            source: zk::Error::NoNode
        }
    ));
    assert_eq!(
        c.check_stat("/m3").await.unwrap(),
        None,
        "nothing of a failed multi is applied"
    );
}

#[tokio::test]
async fn four_letter_words_answer_on_the_client_port() {
    let server = KeeperProcess::start("4lw.commands.whitelist=ruok, srvr\n");
    assert_eq!(four_letter_word(server.addr, "ruok"), "imok");
    let srvr = four_letter_word(server.addr, "srvr");
    assert!(srvr.contains("\nMode: standalone\n"), "{srvr}");
    assert_eq!(
        four_letter_word(server.addr, "mntr"),
        "mntr is not executed because it is not in the whitelist.\n"
    );
}

#[test]
fn keeper_status_prints_the_mode_like_zkserver_sh() {
    let server = KeeperProcess::start("");
    let cfg = std::env::temp_dir().join(format!("keeper-status-{}.cfg", std::process::id()));
    std::fs::write(
        &cfg,
        format!(
            "dataDir=/tmp\nclientPort={}\nclientPortAddress=127.0.0.1\n",
            server.addr.port()
        ),
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_keeper"))
        .args(["status", "--config"])
        .arg(&cfg)
        .output()
        .unwrap();
    assert!(out.status.success());
    let port = server.addr.port();
    let found =
        format!("Client port found: {port}. Client address: 127.0.0.1. Client SSL: false.\n");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("{found}Mode: standalone\n")
    );
    drop(server);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_keeper"))
        .args(["status", "--config"])
        .arg(&cfg)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("{found}Error contacting service. It is probably not running.\n")
    );
    let _ = std::fs::remove_file(&cfg);
}
