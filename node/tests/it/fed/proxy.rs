//! A fault-injecting TCP proxy for the federation harness. It listens on a loopback address
//! and forwards to a target (or round-robin to several: replicas of one node); its [`Mode`]
//! can be switched at run time. Switching closes the
//! connections already open, so a cut takes effect on pooled keep-alive connections too.
//!
//! The proxy runs on its own runtime (two worker threads shared by every proxy of the test
//! binary), so it keeps forwarding while a test blocks, and whatever runtime the test uses.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};

/// What the proxy does with connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Forward both ways.
    Pass,
    /// Accept and close at once (with a reset).
    Refuse,
    /// Accept and read, never answer, never connect to the target.
    Blackhole,
    /// Forward client→server; drop every byte server→client.
    OneWay,
    /// Forward both ways, each byte delivered this many milliseconds late in each direction.
    Delay(u64),
    /// Forward the first N bytes client→server (counted over the connection), then drop the
    /// connection on both sides.
    CutMidRequest(usize),
}

struct Inner {
    targets: Mutex<Vec<SocketAddr>>,
    next: AtomicUsize,
    mode: Mutex<Mode>,
    accepted: AtomicUsize,
    active: AtomicUsize,
    upstream: AtomicUsize,
    /// Client→server bytes forwarded in `Pass` mode (to size `CutMidRequest`).
    bytes_up: std::sync::atomic::AtomicU64,
    /// Bumped on every mode switch; connections of an older generation close.
    generation: watch::Sender<u64>,
}

impl Inner {
    fn mode(&self) -> Mode {
        *self.mode.lock().unwrap()
    }
    fn targets(&self) -> Vec<SocketAddr> {
        self.targets.lock().unwrap().clone()
    }
}

/// A running proxy; stops (and closes its connections) when dropped.
pub struct Proxy {
    addr: SocketAddr,
    inner: Arc<Inner>,
    accept_task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for Proxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Proxy({} → {:?}, {:?})",
            self.addr,
            self.inner.targets(),
            self.inner.mode()
        )
    }
}

/// The runtime all proxies run on.
fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("fault-proxy")
            .enable_all()
            .build()
            .unwrap()
    })
}

impl Proxy {
    /// Listens on `listen` (port 0 for any free port) and forwards to `target`, in `Pass` mode.
    pub fn start(listen: SocketAddr, target: SocketAddr) -> Proxy {
        let std_listener = std::net::TcpListener::bind(listen)
            .unwrap_or_else(|e| panic!("proxy cannot bind {listen}: {e}"));
        std_listener.set_nonblocking(true).unwrap();
        let addr = std_listener.local_addr().unwrap();
        let (generation, _) = watch::channel(0);
        let inner = Arc::new(Inner {
            targets: Mutex::new(vec![target]),
            next: AtomicUsize::new(0),
            mode: Mutex::new(Mode::Pass),
            accepted: AtomicUsize::new(0),
            active: AtomicUsize::new(0),
            upstream: AtomicUsize::new(0),
            bytes_up: std::sync::atomic::AtomicU64::new(0),
            generation,
        });
        let rt = runtime();
        let listener = {
            let _guard = rt.enter();
            TcpListener::from_std(std_listener).unwrap()
        };
        let accept_task = rt.spawn(accept_loop(listener, inner.clone()));
        Proxy {
            addr,
            inner,
            accept_task,
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn mode(&self) -> Mode {
        self.inner.mode()
    }

    /// Switches the mode and closes every open connection (the new mode applies to the next
    /// ones).
    pub fn set_mode(&self, mode: Mode) {
        *self.inner.mode.lock().unwrap() = mode;
        self.inner.generation.send_modify(|g| *g += 1);
    }

    /// Forwards to these targets from now on, round-robin, skipping one that refuses (open
    /// connections are closed).
    pub fn set_targets(&self, targets: &[SocketAddr]) {
        assert!(!targets.is_empty());
        *self.inner.targets.lock().unwrap() = targets.to_vec();
        self.inner.generation.send_modify(|g| *g += 1);
    }

    /// Connections accepted since the start.
    pub fn connections(&self) -> usize {
        self.inner.accepted.load(Ordering::SeqCst)
    }

    /// Connections open now.
    pub fn active(&self) -> usize {
        self.inner.active.load(Ordering::SeqCst)
    }

    /// Client→server bytes forwarded in `Pass` mode since the start.
    pub fn bytes_up(&self) -> u64 {
        self.inner.bytes_up.load(Ordering::SeqCst)
    }

    /// Connections made to the target since the start.
    pub fn upstream_connections(&self) -> usize {
        self.inner.upstream.load(Ordering::SeqCst)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept_task.abort();
        // Close every connection.
        self.inner.generation.send_modify(|g| *g += 1);
    }
}

async fn accept_loop(listener: TcpListener, inner: Arc<Inner>) {
    loop {
        let Ok((client, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        inner.accepted.fetch_add(1, Ordering::SeqCst);
        let mode = inner.mode();
        let mut gen_rx = inner.generation.subscribe();
        gen_rx.mark_unchanged();
        let inner = inner.clone();
        tokio::spawn(async move {
            inner.active.fetch_add(1, Ordering::SeqCst);
            tokio::select! {
                () = handle(client, mode, &inner) => {}
                _ = gen_rx.changed() => {}
            }
            inner.active.fetch_sub(1, Ordering::SeqCst);
        });
    }
}

/// Closes with a reset rather than a FIN. (`SO_LINGER` is deprecated in tokio because a
/// non-zero linger blocks the thread on drop; a zero linger does not block.)
#[allow(deprecated)]
fn reset(stream: TcpStream) {
    let _ = stream.set_linger(Some(Duration::ZERO));
    drop(stream);
}

async fn handle(mut client: TcpStream, mode: Mode, inner: &Inner) {
    let _ = client.set_nodelay(true);
    match mode {
        Mode::Refuse => reset(client),
        Mode::Blackhole => {
            // Read and discard until the client gives up; never answer.
            let mut buf = vec![0u8; 16 * 1024];
            while matches!(client.read(&mut buf).await, Ok(n) if n > 0) {}
        }
        Mode::Pass => {
            let Some(mut server) = connect(inner, &client).await else {
                return;
            };
            let (mut cr, mut cw) = client.split();
            let (mut sr, mut sw) = server.split();
            let up = async {
                let mut buf = vec![0u8; 16 * 1024];
                loop {
                    match cr.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => {
                            if sw.write_all(&buf[..n]).await.is_err() {
                                break;
                            }
                            inner.bytes_up.fetch_add(n as u64, Ordering::SeqCst);
                        }
                    }
                }
                let _ = sw.shutdown().await;
            };
            let down = async {
                let _ = tokio::io::copy(&mut sr, &mut cw).await;
                let _ = cw.shutdown().await;
            };
            tokio::join!(up, down);
        }
        Mode::OneWay => {
            let Some(mut server) = connect(inner, &client).await else {
                return;
            };
            let (mut cr, _cw) = client.split();
            let (mut sr, mut sw) = server.split();
            let up = async {
                let _ = tokio::io::copy(&mut cr, &mut sw).await;
            };
            let down = async {
                // Read and drop what the server says; the client hears nothing.
                let mut buf = vec![0u8; 16 * 1024];
                while matches!(sr.read(&mut buf).await, Ok(n) if n > 0) {}
                std::future::pending::<()>().await;
            };
            tokio::select! {
                () = up => {}
                () = down => {}
            }
        }
        Mode::Delay(ms) => {
            let Some(server) = connect(inner, &client).await else {
                return;
            };
            let d = Duration::from_millis(ms);
            let (cr, cw) = client.into_split();
            let (sr, sw) = server.into_split();
            tokio::join!(delayed_copy(cr, sw, d), delayed_copy(sr, cw, d));
        }
        Mode::CutMidRequest(n) => {
            let Some(mut server) = connect(inner, &client).await else {
                return;
            };
            {
                let (mut cr, mut cw) = client.split();
                let (mut sr, mut sw) = server.split();
                let up = async {
                    let mut left = n;
                    let mut buf = vec![0u8; 16 * 1024];
                    while left > 0 {
                        match cr.read(&mut buf).await {
                            Ok(0) | Err(_) => break,
                            Ok(got) => {
                                let take = got.min(left);
                                if sw.write_all(&buf[..take]).await.is_err() {
                                    break;
                                }
                                left -= take;
                            }
                        }
                    }
                    let _ = sw.flush().await;
                };
                let down = async {
                    let _ = tokio::io::copy(&mut sr, &mut cw).await;
                    std::future::pending::<()>().await;
                };
                tokio::select! {
                    () = up => {}
                    () = down => {}
                }
            }
            // The request is cut: the client gets a reset, the server an early end of file.
            reset(client);
            drop(server);
        }
    }
}

async fn connect(inner: &Inner, client: &TcpStream) -> Option<TcpStream> {
    let targets = inner.targets();
    let first = inner.next.fetch_add(1, Ordering::SeqCst);
    for i in 0..targets.len() {
        let target = targets[(first + i) % targets.len()];
        if let Ok(s) = TcpStream::connect(target).await {
            inner.upstream.fetch_add(1, Ordering::SeqCst);
            let _ = s.set_nodelay(true);
            return Some(s);
        }
    }
    // No target answers: the client sees a reset, like a refused connection.
    #[allow(deprecated)]
    let _ = client.set_linger(Some(Duration::ZERO));
    None
}

/// Copies `from` to `to`, each chunk written `delay` after it was read (latency, not a
/// throughput limit).
async fn delayed_copy(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    delay: Duration,
) {
    let (tx, mut rx) = mpsc::unbounded_channel::<(Instant, Vec<u8>)>();
    let reader = async move {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            match from.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if tx
                        .send((Instant::now() + delay, buf[..n].to_vec()))
                        .is_err()
                    {
                        break;
                    }
                }
            }
        }
    };
    let writer = async move {
        while let Some((due, bytes)) = rx.recv().await {
            tokio::time::sleep_until(due.into()).await;
            if to.write_all(&bytes).await.is_err() {
                return;
            }
        }
        let _ = to.shutdown().await;
    };
    tokio::join!(reader, writer);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex as StdMutex;

    /// An echo server that also records what it received on each connection.
    struct Echo {
        addr: SocketAddr,
        accepted: Arc<AtomicUsize>,
        received: Arc<StdMutex<Vec<u8>>>,
        /// Set when a connection saw end-of-file from the proxy.
        eofs: Arc<AtomicUsize>,
    }

    async fn echo_server() -> Echo {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let accepted = Arc::new(AtomicUsize::new(0));
        let received = Arc::new(StdMutex::new(Vec::new()));
        let eofs = Arc::new(AtomicUsize::new(0));
        let (a, r, e) = (accepted.clone(), received.clone(), eofs.clone());
        tokio::spawn(async move {
            loop {
                let (mut s, _) = listener.accept().await.unwrap();
                a.fetch_add(1, Ordering::SeqCst);
                let (r, e) = (r.clone(), e.clone());
                tokio::spawn(async move {
                    let mut buf = [0u8; 4096];
                    loop {
                        match s.read(&mut buf).await {
                            Ok(0) | Err(_) => {
                                e.fetch_add(1, Ordering::SeqCst);
                                return;
                            }
                            Ok(n) => {
                                r.lock().unwrap().extend_from_slice(&buf[..n]);
                                if s.write_all(&buf[..n]).await.is_err() {
                                    e.fetch_add(1, Ordering::SeqCst);
                                    return;
                                }
                            }
                        }
                    }
                });
            }
        });
        Echo {
            addr,
            accepted,
            received,
            eofs,
        }
    }

    fn proxy_to(echo: &Echo) -> Proxy {
        Proxy::start("127.0.0.1:0".parse().unwrap(), echo.addr)
    }

    /// Reads exactly `n` bytes, or what arrived before EOF / error / `within`.
    async fn read_some(s: &mut TcpStream, n: usize, within: Duration) -> (Vec<u8>, bool) {
        let mut out = Vec::new();
        let mut buf = [0u8; 4096];
        let deadline = tokio::time::Instant::now() + within;
        while out.len() < n {
            match tokio::time::timeout_at(deadline, s.read(&mut buf)).await {
                Err(_) => return (out, false),                // timed out, still open
                Ok(Ok(0)) | Ok(Err(_)) => return (out, true), // closed
                Ok(Ok(k)) => out.extend_from_slice(&buf[..k]),
            }
        }
        (out, false)
    }

    /// A connection to `addr` is reset at once: either `connect` itself reports the reset
    /// (it arrived before the handshake was seen as complete) or the first read ends.
    async fn assert_refused(addr: SocketAddr) {
        let Ok(mut s) = TcpStream::connect(addr).await else {
            return;
        };
        let _ = s.write_all(b"hola").await;
        let (got, closed) = read_some(&mut s, 1, Duration::from_secs(2)).await;
        assert!(got.is_empty() && closed, "refused connection should close");
    }

    async fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(5);
        while !cond() {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    #[tokio::test]
    async fn pass_forwards_both_ways_and_counts_connections() {
        let echo = echo_server().await;
        let proxy = proxy_to(&echo);
        for i in 0..3 {
            let mut s = TcpStream::connect(proxy.addr()).await.unwrap();
            s.write_all(b"hola").await.unwrap();
            let (got, _) = read_some(&mut s, 4, Duration::from_secs(5)).await;
            assert_eq!(got, b"hola");
            assert_eq!(proxy.connections(), i + 1);
        }
        assert_eq!(echo.accepted.load(Ordering::SeqCst), 3);
        assert_eq!(proxy.upstream_connections(), 3);
        assert_eq!(proxy.bytes_up(), 12);
    }

    #[tokio::test]
    async fn refuse_closes_accepted_connections_at_once() {
        let echo = echo_server().await;
        let proxy = proxy_to(&echo);
        proxy.set_mode(Mode::Refuse);
        assert_refused(proxy.addr()).await;
        assert_eq!(proxy.connections(), 1);
        assert_eq!(echo.accepted.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn blackhole_reads_and_never_answers() {
        let echo = echo_server().await;
        let proxy = proxy_to(&echo);
        proxy.set_mode(Mode::Blackhole);
        let mut s = TcpStream::connect(proxy.addr()).await.unwrap();
        s.write_all(b"hola").await.unwrap();
        let (got, closed) = read_some(&mut s, 1, Duration::from_millis(300)).await;
        assert!(
            got.is_empty() && !closed,
            "blackhole must stay silent and open"
        );
        assert_eq!(echo.accepted.load(Ordering::SeqCst), 0);
        assert_eq!(proxy.active(), 1);
        // Switching closes the stuck connection, as a healed link would make the client retry.
        proxy.set_mode(Mode::Pass);
        let (_, closed) = read_some(&mut s, 1, Duration::from_secs(2)).await;
        assert!(closed, "switching the mode must close open connections");
        wait_for("no active connections", || proxy.active() == 0).await;
    }

    #[tokio::test]
    async fn one_way_forwards_requests_but_drops_answers() {
        let echo = echo_server().await;
        let proxy = proxy_to(&echo);
        proxy.set_mode(Mode::OneWay);
        let mut s = TcpStream::connect(proxy.addr()).await.unwrap();
        s.write_all(b"mensaje").await.unwrap();
        wait_for("the server to receive", || {
            echo.received.lock().unwrap().as_slice() == b"mensaje"
        })
        .await;
        let (got, _) = read_some(&mut s, 1, Duration::from_millis(300)).await;
        assert!(got.is_empty(), "the answer must be dropped: {got:?}");
    }

    #[tokio::test]
    async fn delay_adds_latency_in_each_direction() {
        let echo = echo_server().await;
        let proxy = proxy_to(&echo);
        proxy.set_mode(Mode::Delay(150));
        let mut s = TcpStream::connect(proxy.addr()).await.unwrap();
        let t = Instant::now();
        s.write_all(b"lento").await.unwrap();
        let (got, _) = read_some(&mut s, 5, Duration::from_secs(5)).await;
        let rtt = t.elapsed();
        assert_eq!(got, b"lento");
        assert!(rtt >= Duration::from_millis(290), "round trip {rtt:?}");
        assert!(rtt < Duration::from_secs(2), "round trip {rtt:?}");
    }

    #[tokio::test]
    async fn cut_mid_request_forwards_a_prefix_then_drops_the_connection() {
        let echo = echo_server().await;
        let proxy = proxy_to(&echo);
        proxy.set_mode(Mode::CutMidRequest(5));
        let mut s = TcpStream::connect(proxy.addr()).await.unwrap();
        s.write_all(b"POST /federation/v1/inbox").await.unwrap();
        let (got, closed) = read_some(&mut s, 100, Duration::from_secs(2)).await;
        assert!(closed, "the client must see the connection end");
        assert!(got.len() <= 5, "{got:?}");
        wait_for("the server to see the cut", || {
            echo.eofs.load(Ordering::SeqCst) == 1
        })
        .await;
        assert_eq!(echo.received.lock().unwrap().as_slice(), b"POST ");
    }

    #[tokio::test]
    async fn modes_switch_at_run_time_and_close_open_connections() {
        let echo = echo_server().await;
        let proxy = proxy_to(&echo);
        let mut s = TcpStream::connect(proxy.addr()).await.unwrap();
        s.write_all(b"uno").await.unwrap();
        assert_eq!(read_some(&mut s, 3, Duration::from_secs(5)).await.0, b"uno");
        proxy.set_mode(Mode::Refuse);
        let (_, closed) = read_some(&mut s, 1, Duration::from_secs(2)).await;
        assert!(closed, "the open connection must be cut by the switch");
        assert_refused(proxy.addr()).await;
        proxy.set_mode(Mode::Pass);
        let mut p = TcpStream::connect(proxy.addr()).await.unwrap();
        p.write_all(b"tres").await.unwrap();
        assert_eq!(
            read_some(&mut p, 4, Duration::from_secs(5)).await.0,
            b"tres"
        );
        assert_eq!(proxy.connections(), 3);
        assert_eq!(proxy.mode(), Mode::Pass);
    }

    #[tokio::test]
    async fn several_targets_are_used_in_turn_and_a_dead_one_is_skipped() {
        let (a, b) = (echo_server().await, echo_server().await);
        let proxy = proxy_to(&a);
        proxy.set_targets(&[a.addr, b.addr]);
        for _ in 0..4 {
            let mut s = TcpStream::connect(proxy.addr()).await.unwrap();
            s.write_all(b"r").await.unwrap();
            assert_eq!(read_some(&mut s, 1, Duration::from_secs(5)).await.0, b"r");
        }
        assert_eq!(a.accepted.load(Ordering::SeqCst), 2);
        assert_eq!(b.accepted.load(Ordering::SeqCst), 2);
        // A target where nothing listens any more.
        let dead = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap()
        };
        proxy.set_targets(&[dead, b.addr]);
        for _ in 0..2 {
            let mut s = TcpStream::connect(proxy.addr()).await.unwrap();
            s.write_all(b"s").await.unwrap();
            assert_eq!(read_some(&mut s, 1, Duration::from_secs(5)).await.0, b"s");
        }
        assert_eq!(b.accepted.load(Ordering::SeqCst), 4);
    }

    #[tokio::test]
    async fn binds_other_loopback_addresses() {
        // The whole of 127.0.0.0/8 is loopback on Linux: each node gets its own address.
        let echo = echo_server().await;
        let proxy = Proxy::start("127.0.0.2:0".parse().unwrap(), echo.addr);
        assert_eq!(proxy.addr().ip().to_string(), "127.0.0.2");
        let mut s = TcpStream::connect(proxy.addr()).await.unwrap();
        s.write_all(b"x").await.unwrap();
        assert_eq!(read_some(&mut s, 1, Duration::from_secs(5)).await.0, b"x");
    }
}
