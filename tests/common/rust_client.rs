//! Running a `zookeeper-client` check against every server under test.

use super::{servers_under_test, Server};
use std::future::Future;
use std::time::Duration;
use zookeeper_client as zk;
use zookeeper_client::{Acls, Client, CreateMode};

/// One check's whole budget; a healthy server needs milliseconds.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(30);

/// Runs `check` against each server under test, with the server's address.
pub fn on_every_server<F, Fut>(test: &str, check: F)
where
    F: Fn(String) -> Fut,
    Fut: Future<Output = ()>,
{
    for kind in servers_under_test() {
        let Some(server) = Server::shared(kind, test) else {
            continue;
        };
        // Shown with the failure, so a panic below says which server it was.
        println!("checking `{test}` against {kind} at {}", server.address());
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a tokio runtime");
        runtime
            .block_on(async { tokio::time::timeout(CHECK_TIMEOUT, check(server.address())).await })
            .unwrap_or_else(|_| {
                panic!(
                    "`{test}` against {kind} took over {CHECK_TIMEOUT:?}\n--- server output:\n{}",
                    server.log()
                )
            });
    }
}

pub async fn connect(address: &str) -> Client {
    connect_with_timeout(address, Duration::from_secs(5)).await
}

/// How many times a connect that timed out is tried again.
const CONNECT_RETRIES: usize = 5;

/// Connects asking for `session_timeout`. The client gives a new session
/// only that long to connect and shake hands, which a loaded machine can
/// exceed for the short timeouts some tests ask for; such a timeout is tried
/// again (the check's own bound still holds), since nothing the test relies
/// on came of the attempt. Once connected, the client drops a connection
/// that stays silent for 2/5 of the session timeout unless told otherwise;
/// it is told the most it accepts, 3/5, so that a stall on a loaded machine
/// is less often mistaken for a lost server.
pub async fn connect_with_timeout(address: &str, session_timeout: Duration) -> Client {
    let mut retries = 0;
    loop {
        let connected = Client::connector()
            .with_session_timeout(session_timeout)
            .with_connection_timeout(session_timeout * 3 / 5)
            .connect(address)
            .await;
        match connected {
            Ok(client) => return client,
            Err(zk::Error::Timeout) if retries < CONNECT_RETRIES => retries += 1,
            Err(e) => panic!("connect to {address}: {e}"),
        }
    }
}

pub fn ephemeral() -> zk::CreateOptions<'static> {
    CreateMode::Ephemeral.with_acls(Acls::anyone_all())
}

pub fn persistent() -> zk::CreateOptions<'static> {
    CreateMode::Persistent.with_acls(Acls::anyone_all())
}
