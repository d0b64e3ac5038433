//! One client connection: bytes in, frames to the core; frames from the core, bytes out.
//!
//! The connection is the only place that sees raw bytes, so it is where bad input stops: a
//! length outside `0..=jute.maxbuffer`, a first frame that is not a ConnectRequest, or a
//! request whose header cannot be read closes the connection; a request whose header is fine
//! but whose body is not is still answered by the core, in its turn: MarshallingError, or
//! Unimplemented for an unknown opcode, after which the core closes the connection as
//! ZooKeeper does. Nothing a client sends can panic the server or touch another connection.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};

use super::core::{Outbound, ToCore};
use super::{OUTBOUND_QUEUE_FRAMES, SESSIONLESS_CNXN_TIMEOUT};
use crate::fourlw::FourLetterWord;
use crate::jute::{Reader, Record};
use crate::pipeline::{ConnId, Input};
use crate::proto::{decode_request, ConnectRequest, FrameDecoder};

/// Serves one connection until either side closes it.
pub async fn serve(
    conn: ConnId,
    mut socket: TcpStream,
    remote: SocketAddr,
    max_frame: usize,
    to_core: mpsc::Sender<ToCore>,
) {
    let (out_tx, mut out_rx) = mpsc::channel::<Outbound>(OUTBOUND_QUEUE_FRAMES);
    // Bytes the core has queued for us and we have not written yet.
    let queued_bytes = Arc::new(AtomicUsize::new(0));
    if to_core
        .send(ToCore::Opened {
            conn,
            remote,
            out: out_tx,
            queued_bytes: queued_bytes.clone(),
        })
        .await
        .is_err()
    {
        return;
    }
    let _ = socket.set_nodelay(true);
    let mut decoder = FrameDecoder::new(max_frame);
    let mut handshaken = false;
    let mut first_bytes_checked = false;
    let mut buf = vec![0u8; 64 * 1024];
    // A connection that never completes its handshake is dropped, as upstream's
    // `zookeeper.nio.sessionlessCnxnTimeout` does.
    let handshake_deadline = tokio::time::sleep(SESSIONLESS_CNXN_TIMEOUT);
    tokio::pin!(handshake_deadline);
    'serve: loop {
        tokio::select! {
            () = &mut handshake_deadline, if !handshaken => break 'serve,
            read = socket.read(&mut buf) => {
                let n = match read {
                    Ok(0) | Err(_) => break 'serve,
                    Ok(n) => n,
                };
                decoder.extend(&buf[..n]);
                if !first_bytes_checked {
                    let Some(prefix) = decoder.buffered().first_chunk::<4>().copied() else {
                        continue;
                    };
                    first_bytes_checked = true;
                    if let Some(word) = FourLetterWord::from_prefix(prefix) {
                        four_letter_word(conn, word, &mut socket, &to_core).await;
                        break 'serve;
                    }
                }
                loop {
                    let frame = match decoder.next_frame() {
                        Ok(Some(frame)) => frame,
                        Ok(None) => break,
                        // Over jute.maxbuffer or negative: the stream cannot be trusted.
                        Err(_) => break 'serve,
                    };
                    let Some(input) = to_input(conn, remote, &frame, &mut handshaken) else {
                        break 'serve;
                    };
                    if to_core.send(ToCore::Input(input)).await.is_err() {
                        break 'serve;
                    }
                }
            }
            out = out_rx.recv() => {
                match out {
                    Some(Outbound::Frame(bytes)) => {
                        if socket.write_all(&bytes).await.is_err() {
                            break 'serve;
                        }
                        queued_bytes.fetch_sub(bytes.len(), Ordering::Relaxed);
                    }
                    // The core closed us (or dropped us): flush what we have and stop.
                    Some(Outbound::Close) | None => break 'serve,
                }
            }
        }
    }
    let _ = socket.shutdown().await;
    let _ = to_core.send(ToCore::Closed { conn }).await;
}

/// One frame as the pipeline's input, or `None` to close the connection.
fn to_input(
    conn: ConnId,
    remote: SocketAddr,
    frame: &[u8],
    handshaken: &mut bool,
) -> Option<Input> {
    if !*handshaken {
        // The first frame must be a ConnectRequest; anything else is garbage.
        let request = ConnectRequest::decode(&mut Reader::new(frame)).ok()?;
        *handshaken = true;
        return Some(Input::Connect {
            conn,
            addr: remote.ip(),
            request,
        });
    }
    match decode_request(frame) {
        Ok((header, request)) => Some(Input::Request {
            conn,
            xid: header.xid,
            request,
        }),
        Err(e) => {
            let header = e.header.clone()?;
            let code = e.reply_error()?.code();
            let err = ch01_znode::ZkError::from_code(code)?;
            Some(Input::Undecodable {
                conn,
                xid: header.xid,
                err,
            })
        }
    }
}

/// Answers a four-letter word with the core's text, then the caller closes.
async fn four_letter_word(
    conn: ConnId,
    word: FourLetterWord,
    socket: &mut TcpStream,
    to_core: &mpsc::Sender<ToCore>,
) {
    let (reply_tx, reply_rx) = oneshot::channel();
    if to_core
        .send(ToCore::FourLetterWord {
            conn,
            word,
            reply: reply_tx,
        })
        .await
        .is_err()
    {
        return;
    }
    if let Ok(text) = reply_rx.await {
        let _ = socket.write_all(text.as_bytes()).await;
    }
}
