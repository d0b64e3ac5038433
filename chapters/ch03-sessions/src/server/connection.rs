//! One client connection: bytes in, frames to the core; frames from the core, bytes out.
//!
//! The connection is the only place that sees raw bytes, so it is where bad input stops: a
//! length outside `0..=jute.maxbuffer`, a first frame that is not a ConnectRequest, or a
//! request whose header cannot be read closes the connection; a request whose header is fine
//! but whose body is not is still answered by the core, in its turn: MarshallingError, or
//! Unimplemented for an unknown opcode, after which the core closes the connection as
//! ZooKeeper does. Nothing a client sends can panic the server or touch another connection.
//!
//! An idle connection holds next to nothing, because most connections are idle most of the
//! time. The task waits for the socket to be *readable* and only then reads, into a buffer
//! shared by every connection on its thread ([`read_into`]); the bytes go to the
//! [`FrameDecoder`], which keeps them only while a frame is incomplete. A client that sends a
//! 1 MiB frame costs 1 MiB while it arrives, and nothing once it is served. (Upstream's
//! `NIOServerCnxn` gets there another way: it reads the 4-byte length first, then allocates
//! exactly that frame.)
//!
//! Replies mostly do not pass through here: the core writes each turn's replies to the
//! socket's sending half itself when the socket takes them at once
//! ([`Clients`](super::Clients)), and hands this task only what must wait for the socket.
//!
//! The task itself is kept small the same way: a task is allocated as big as its future,
//! and its future as big as the largest state it can wait in. So the rare waits are boxed
//! (a full queue to the core in [`forward`], a four-letter word, the handshake's deadline,
//! dropped once the handshake is done, and a write the socket cannot take at once), and a
//! held connection waits only for its socket to be readable and for its outbound queue
//! ([`super::outbox`]), both by `poll` functions that keep nothing in the future but a
//! reference: 408 bytes in all, down from 968.

use std::cell::RefCell;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Poll};

use tokio::io::{AsyncRead, ReadBuf};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;
use tokio::sync::mpsc::error::{SendError, TrySendError};
use tokio::sync::{mpsc, oneshot};

use super::core::{Outbound, ToCore, WordAsked};
use super::outbox::outbox;
use super::SESSIONLESS_CNXN_TIMEOUT;
use crate::fourlw::FourLetterWord;
use crate::jute::{Reader, Record};
use crate::pipeline::{ConnId, Input};
use crate::proto::{decode_request, ConnectRequest, FrameDecoder, OpCode};

/// How a connection reads its first bytes: the largest frame it accepts, and whether a
/// `stmk` is followed by a mask to read.
#[derive(Clone, Copy, Debug)]
pub struct Reading {
    /// The largest frame accepted (`jute.maxbuffer`). A `u32` like the setting, so that the
    /// two fields fit in the 8 bytes every connection's task keeps them in.
    pub max_frame: u32,
    /// Whether `stmk` is whitelisted, so that the 8-byte mask after it is read
    /// ([`FourLetterWord::reads_trace_mask`]).
    pub reads_trace_mask: bool,
}

/// Serves one connection until either side closes it.
pub async fn serve(
    conn: ConnId,
    socket: TcpStream,
    remote: SocketAddr,
    reading: Reading,
    to_core: mpsc::Sender<ToCore>,
) {
    let (out_tx, mut out_rx) = outbox();
    let _ = socket.set_nodelay(true);
    // The sending half is shared with the core, which writes replies to it; the stream's
    // write side is shut (FIN) when the last of the two lets go of it.
    let (mut reader, writer) = socket.into_split();
    let writer = Arc::new(writer);
    let opened = ToCore::Opened {
        conn,
        remote,
        out: out_tx,
        socket: writer.clone(),
    };
    if forward(&to_core, opened).done().await.is_err() {
        return;
    }
    let mut decoder = FrameDecoder::new(reading.max_frame as usize);
    let mut handshaken = false;
    let mut first_bytes_checked = false;
    // A connection that never completes its handshake is dropped, as upstream's
    // `zookeeper.nio.sessionlessCnxnTimeout` does.
    // Boxed, and dropped once the handshake is done: a held session keeps no timer.
    let mut handshake_deadline = Some(Box::pin(tokio::time::sleep(SESSIONLESS_CNXN_TIMEOUT)));
    'serve: loop {
        if handshaken {
            handshake_deadline = None;
        }
        tokio::select! {
            () = async {
                match handshake_deadline.as_mut() {
                    Some(deadline) => deadline.await,
                    None => std::future::pending().await,
                }
            }, if !handshaken => break 'serve,
            read = read_into(&mut reader, &mut decoder) => {
                match read {
                    Ok(0) | Err(_) => break 'serve,
                    Ok(_) => {}
                }
                if !first_bytes_checked {
                    let Some(prefix) = decoder.buffered().first_chunk::<4>().copied() else {
                        continue;
                    };
                    first_bytes_checked = true;
                    if let Some(word) = FourLetterWord::from_prefix(prefix) {
                        let reads_mask = word == FourLetterWord::Stmk && reading.reads_trace_mask;
                        // Boxed: a word is answered once per connection at most, and
                        // its future would make every connection's task bigger.
                        Box::pin(four_letter_word(
                            conn,
                            word,
                            reads_mask.then_some((&mut reader, &mut decoder)),
                            &writer,
                            &to_core,
                        ))
                        .await;
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
                    if forward(&to_core, ToCore::Input(input)).done().await.is_err() {
                        break 'serve;
                    }
                }
            }
            out = out_rx.recv() => {
                match out {
                    Some(Outbound::Frame(bytes)) => {
                        // Boxed: the core hands over only what the socket did not take at
                        // once, so this wait is rare.
                        if Box::pin(write_all(&writer, &bytes)).await.is_err() {
                            break 'serve;
                        }
                        // Written: the core may write the next batch itself.
                        out_rx.written(bytes.len());
                    }
                    // The core closed us (or dropped us): flush what we have and stop.
                    Some(Outbound::Close) | None => break 'serve,
                }
            }
        }
    }
    drop(writer);
    let _ = forward(&to_core, ToCore::Closed { conn }).done().await;
}

/// Hands `message` to the core: at once while its queue has room, which is nearly always.
///
/// Only a full queue makes the task wait, in a boxed future: a send future holds the message
/// and its place in the queue's waiting line (some 500 bytes), and a task's future is as big
/// as its biggest await, so waiting inline would make every held connection that much bigger
/// for a wait that almost never happens. For the same reason the message is not an argument
/// of the future that waits (an async fn keeps its arguments inside it).
fn forward(to_core: &mpsc::Sender<ToCore>, message: ToCore) -> Forward<'_> {
    match to_core.try_send(message) {
        Ok(()) => Forward::Sent,
        Err(TrySendError::Full(message)) => Forward::Wait(Box::pin(to_core.send(message))),
        Err(TrySendError::Closed(_)) => Forward::Closed,
    }
}

/// A message [`forward`] handed over, or is waiting to.
enum Forward<'a> {
    Sent,
    Wait(Pin<Box<dyn Future<Output = Result<(), SendError<ToCore>>> + Send + 'a>>),
    Closed,
}

impl Forward<'_> {
    /// Done once the core has the message; `Err` if it has stopped.
    async fn done(self) -> Result<(), ()> {
        match self {
            Forward::Sent => Ok(()),
            Forward::Wait(send) => send.await.map_err(drop),
            Forward::Closed => Err(()),
        }
    }
}

/// Bytes one read may take off a socket.
const READ_BUFFER: usize = 64 * 1024;

thread_local! {
    /// The read buffer of every connection task this thread runs: a read fills it and its
    /// bytes are copied out before the task can be suspended, so one buffer serves them all.
    static READ_BUFFER_OF_THREAD: RefCell<Box<[u8]>> = RefCell::new(vec![0; READ_BUFFER].into());
}

/// Waits until the socket has bytes, then reads them into `decoder` through this thread's
/// buffer; 0 at the end of the stream. The read and the copy happen within one poll, so the
/// buffer is free again before the task can be suspended. A read that does not fill the
/// buffer marks the socket drained, so the next read waits for readiness instead of trying
/// the socket once more to find it empty (a wasted syscall for every request).
async fn read_into(reader: &mut OwnedReadHalf, decoder: &mut FrameDecoder) -> io::Result<usize> {
    std::future::poll_fn(|cx| {
        READ_BUFFER_OF_THREAD.with(|buf| {
            let mut buf = buf.borrow_mut();
            let mut read = ReadBuf::new(&mut buf);
            ready!(Pin::new(&mut *reader).poll_read(cx, &mut read))?;
            decoder.extend(read.filled());
            Poll::Ready(Ok(read.filled().len()))
        })
    })
    .await
}

/// Writes all of `bytes`, waiting for the socket as it needs: for a sending half shared
/// with a core that writes to it too, when nothing is queued (chapter 6's quorum connections
/// share it the same way).
pub async fn write_all(writer: &OwnedWriteHalf, mut bytes: &[u8]) -> io::Result<()> {
    while !bytes.is_empty() {
        writer.writable().await?;
        match writer.try_write(bytes) {
            Ok(n) => bytes = &bytes[n..],
            // Readiness was stale: it is cleared, wait again.
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// One frame as the pipeline's input, or `None` to close the connection. Public so that the
/// fuzz targets (`fuzz/`) feed the pipeline exactly what a connection would.
pub fn to_input(
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
            // Upstream reads auth and sasl packets before the pipeline
            // (`processPacket`), and a body it cannot read there closes the connection.
            if [OpCode::Auth.code(), OpCode::Sasl.code()].contains(&header.r#type) {
                return None;
            }
            let code = e.reply_error()?.code();
            let err = ch01_znode::ZkError::from_code(code)?;
            Some(Input::Undecodable {
                conn,
                xid: header.xid,
                err,
                partial: e.partial.map(|p| *p),
            })
        }
    }
}

/// The 8-byte big-endian mask that follows `stmk`, read within the time a connection has to
/// say who it is; `None` if the client closes or stays silent before all 8 arrive.
async fn read_trace_mask(reader: &mut OwnedReadHalf, decoder: &mut FrameDecoder) -> Option<i64> {
    let whole = async {
        loop {
            if let Some(mask) = decoder.buffered().get(4..12) {
                return mask.try_into().ok().map(i64::from_be_bytes);
            }
            match read_into(reader, decoder).await {
                Ok(0) | Err(_) => return None,
                Ok(_) => {}
            }
        }
    };
    tokio::time::timeout(SESSIONLESS_CNXN_TIMEOUT, whole)
        .await
        .ok()
        .flatten()
}

/// Answers a four-letter word with the core's text, then the caller closes. `mask_from` is
/// where to read the mask that follows a whitelisted `stmk`; upstream answers nothing when
/// the mask is short.
async fn four_letter_word(
    conn: ConnId,
    word: FourLetterWord,
    mask_from: Option<(&mut OwnedReadHalf, &mut FrameDecoder)>,
    socket: &OwnedWriteHalf,
    to_core: &mpsc::Sender<ToCore>,
) {
    let mut trace_mask = None;
    if let Some((reader, decoder)) = mask_from {
        let Some(mask) = read_trace_mask(reader, decoder).await else {
            return;
        };
        trace_mask = Some(mask);
    }
    let (reply_tx, reply_rx) = oneshot::channel();
    if to_core
        .send(ToCore::FourLetterWord(WordAsked {
            conn,
            word,
            trace_mask,
            reply: reply_tx,
        }))
        .await
        .is_err()
    {
        return;
    }
    if let Ok(text) = reply_rx.await {
        let _ = write_all(socket, text.as_bytes()).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every held connection is a task this big: a wait added inline shows up here. (The
    /// socket split in two halves, one shared with the core, costs 32 bytes of it.)
    #[tokio::test]
    async fn a_connection_task_stays_small() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let socket = TcpStream::connect(addr).await.unwrap();
        let (to_core, _from_connections) = mpsc::channel(1);
        let reading = Reading {
            max_frame: 1024,
            reads_trace_mask: true,
        };
        let task = serve(ConnId(1), socket, addr, reading, to_core);
        assert!(
            std::mem::size_of_val(&task) <= 416,
            "{} bytes",
            std::mem::size_of_val(&task)
        );
    }
}
