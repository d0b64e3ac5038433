//! A logging proxy: sits between any ZooKeeper client and server and prints
//! every frame as its decoded record, one line each (hex too with `--bytes`).
//! This is how the captures in `tests/fixtures` were taken.
//!
//! ```text
//! cargo run -p ch03-sessions --example wiretap -- --listen 127.0.0.1:2182 --server 127.0.0.1:2181
//! zkCli.sh -server 127.0.0.1:2182        # in another terminal
//! ```

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use ch03_sessions::proto::{Direction, FrameDecoder, FramePrinter};
use clap::Parser;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};

#[derive(Parser)]
#[command(about = "Print the ZooKeeper frames passing between a client and a server")]
struct Args {
    /// Where clients connect.
    #[arg(long, default_value = "127.0.0.1:2182")]
    listen: SocketAddr,
    /// The real server.
    #[arg(long, default_value = "127.0.0.1:2181")]
    server: SocketAddr,
    /// Also print each frame's payload in hex.
    #[arg(long)]
    bytes: bool,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let args = Args::parse();
    let listener = TcpListener::bind(args.listen).await?;
    eprintln!("wiretap: {} → {}", args.listen, args.server);
    for conn in 1.. {
        let (client, _) = listener.accept().await?;
        let server = TcpStream::connect(args.server).await?;
        let printer = Arc::new(Mutex::new(FramePrinter::new()));
        let (client_rd, client_wr) = client.into_split();
        let (server_rd, server_wr) = server.into_split();
        let up = (Direction::ClientToServer, "C→S");
        let down = (Direction::ServerToClient, "S→C");
        tokio::spawn(pump(
            client_rd,
            server_wr,
            up,
            conn,
            printer.clone(),
            args.bytes,
        ));
        tokio::spawn(pump(server_rd, client_wr, down, conn, printer, args.bytes));
    }
    Ok(())
}

/// Copies bytes one way, printing each whole frame that went by. A stream
/// that stops being frames (a four-letter word, garbage) is still copied.
async fn pump(
    mut from: OwnedReadHalf,
    mut to: OwnedWriteHalf,
    (dir, arrow): (Direction, &'static str),
    conn: usize,
    printer: Arc<Mutex<FramePrinter>>,
    show_bytes: bool,
) {
    let mut decoder = FrameDecoder::default();
    let mut framed = true;
    let mut buf = vec![0u8; 64 * 1024];
    while let Ok(n) = from.read(&mut buf).await {
        if n == 0 || to.write_all(&buf[..n]).await.is_err() {
            break;
        }
        if !framed {
            continue;
        }
        decoder.extend(&buf[..n]);
        loop {
            match decoder.next_frame() {
                Ok(Some(frame)) => {
                    let mut p = printer.lock().unwrap_or_else(|e| e.into_inner());
                    println!("#{conn} {arrow} {}", p.line(dir, &frame, show_bytes));
                }
                Ok(None) => break,
                // "ruok" read as a length is far too long: a four-letter word
                // and its plain-text answer are not frames.
                Err(e) => match decoder.buffered() {
                    text if text.len() >= 4 && text[..4].iter().all(u8::is_ascii_graphic) => {
                        let text = String::from_utf8_lossy(text);
                        let first = text.lines().next().unwrap_or_default();
                        println!("#{conn} {arrow} plain text (four-letter word): {first}");
                        framed = false;
                        break;
                    }
                    _ => {
                        println!("#{conn} {arrow} not a frame: {e}");
                        framed = false;
                        break;
                    }
                },
            }
        }
    }
    let _ = to.shutdown().await;
}
