//! Unit tests of the client.

use super::*;

/// A request half over an in-memory stream (no server: the pool never sends on it).
async fn sender() -> Sender {
    let (ours, _theirs) = tokio::io::duplex(64);
    let (s, conn) = hyper::client::conn::http1::handshake(TokioIo::new(ours))
        .await
        .unwrap();
    tokio::spawn(async move {
        let _ = conn.await;
    });
    s
}

fn key(i: usize) -> PoolKey {
    (false, format!("h{i}.example"), 80)
}

#[tokio::test]
async fn the_idle_pool_is_capped_per_host_and_in_all_least_recent_host_first() {
    let mut idle = Idle::default();
    // One host: at most MAX_IDLE_PER_HOST.
    for _ in 0..MAX_IDLE_PER_HOST + 5 {
        idle.put(&key(0), sender().await);
    }
    assert_eq!(idle.total, MAX_IDLE_PER_HOST);
    // Many hosts: never more than MAX_IDLE_TOTAL in all.
    for i in 1..=600 {
        idle.put(&key(i), sender().await);
        assert!(idle.total <= MAX_IDLE_TOTAL, "{} idle", idle.total);
    }
    assert_eq!(idle.total, MAX_IDLE_TOTAL);
    // Host 0 gave its connections back before the others, so it gave them up first.
    assert!(idle.take(&key(0)).is_none());
    // The hosts put last kept theirs.
    assert!(idle.take(&key(600)).is_some());
    assert!(idle.take(&key(600)).is_none());
    // A host given one back is the most recent again and keeps it through more evictions.
    let oldest_kept = (1..=600)
        .find(|i| idle.by_host.contains_key(&key(*i)))
        .unwrap();
    idle.put(&key(oldest_kept), sender().await);
    for i in 601..=650 {
        idle.put(&key(i), sender().await);
    }
    assert!(idle.by_host.contains_key(&key(oldest_kept)));
    assert_eq!(
        idle.total,
        idle.by_host.values().map(|(l, _)| l.len()).sum::<usize>()
    );
    // The order list stays proportionate to the hosts it tracks.
    assert!(idle.order.len() <= 4 * idle.by_host.len() + 64 + 1);
}

#[test]
fn only_addresses_of_the_judged_space_are_dialled() {
    let a = |s: &str| s.parse::<SocketAddr>().unwrap();
    let addrs = vec![
        a("203.0.113.9:80"),
        a("127.0.0.1:80"),
        a("198.51.100.7:80"),
        a("[::1]:80"),
    ];
    let space_of = |x: SocketAddr| AddressSpace::of_ip(x.ip());
    let space = space_of(addrs[0]);
    assert_eq!(
        in_space(addrs.clone(), space, space_of),
        [a("203.0.113.9:80"), a("198.51.100.7:80")]
    );
    assert_eq!(
        in_space(addrs, AddressSpace::Loopback, space_of),
        [a("127.0.0.1:80"), a("[::1]:80")]
    );
}
