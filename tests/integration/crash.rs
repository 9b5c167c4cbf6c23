//! kill -9 during a write burst: a real `tally-local` on the embedded store is killed (SIGKILL)
//! while writes of three services are in flight, restarted on the same data directory, and
//! nothing it acknowledged is missing: each counter ends between the acknowledged and the
//! attempted number of requests, and every acknowledged `POST /log` is stored.

use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const WORKERS: usize = 32;
/// How long the burst runs before the kill.
const BURST: Duration = Duration::from_millis(1500);

/// A `tally-local` process (the debug build `make test` makes) and its address.
struct Local {
    child: tokio::process::Child,
    base: String,
}

async fn start(data: &Path) -> Local {
    let binary = tally_tests::bin_dir().join("tally-local");
    let (child, base) = tally_tests::spawn_local(&binary, data, &[]).await;
    Local { child, base }
}

/// What was sent of one kind of write, and what was answered 200.
#[derive(Default)]
struct Sent {
    attempted: BTreeSet<String>,
    acknowledged: BTreeSet<String>,
}

/// The three writes, by the worker's `n`th request: a visit, a counted path, a log request
/// whose `sessionId` names it.
fn request(client: &reqwest::Client, base: &str, n: usize, id: &str) -> reqwest::RequestBuilder {
    match n % 3 {
        0 => client.post(format!("{base}/counters/crash")),
        1 => client.get(format!("{base}/api/crash")),
        _ => client.post(format!("{base}/log")).json(&json!({
            "userId": "crash",
            "sessionId": id,
            "actions": [{"time": "2024-01-01T00:00:00Z", "type": "CLICK", "properties": {}}],
        })),
    }
}

/// Sends writes until `stop`, recording each as attempted before it goes and as acknowledged
/// once answered 200.
async fn worker(base: String, worker: usize, stop: Arc<AtomicBool>, sent: Arc<Mutex<[Sent; 3]>>) {
    let client = reqwest::Client::new();
    let mut n = 0;
    while !stop.load(Ordering::Relaxed) {
        let id = format!("w{worker}-{n}");
        let kind = n % 3;
        sent.lock()
            .expect("lock")
            .get_mut(kind)
            .map(|s| s.attempted.insert(id.clone()));
        let ok = request(&client, &base, n, &id)
            .send()
            .await
            .is_ok_and(|reply| reply.status() == 200);
        if ok {
            sent.lock()
                .expect("lock")
                .get_mut(kind)
                .map(|s| s.acknowledged.insert(id));
        }
        n += 1;
    }
}

/// The session ids of every stored action of user `crash`, page by page.
async fn stored_sessions(client: &reqwest::Client, base: &str) -> BTreeSet<String> {
    let mut sessions = BTreeSet::new();
    let mut url = format!("{base}/log?userId=crash&limit=1000");
    loop {
        let page: Value = client
            .get(&url)
            .send()
            .await
            .expect("GET /log")
            .json()
            .await
            .expect("JSON");
        for entry in page["result"].as_array().expect("result") {
            sessions.insert(entry["sessionId"].as_str().expect("sessionId").to_string());
        }
        match page["nextCursor"].as_str() {
            Some(cursor) => url = format!("{base}/log?userId=crash&limit=1000&cursor={cursor}"),
            None => return sessions,
        }
    }
}

async fn count(client: &reqwest::Client, url: String) -> usize {
    let reply: Value = client
        .get(url)
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("JSON");
    reply["count"].as_u64().expect("count") as usize
}

fn assert_between(what: &str, stored: usize, sent: &Sent) {
    let (acked, attempted) = (sent.acknowledged.len(), sent.attempted.len());
    assert!(acked > 0, "{what}: the burst wrote nothing before the kill");
    assert!(
        (acked..=attempted).contains(&stored),
        "{what}: {stored} stored, {acked} acknowledged, {attempted} attempted"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_kill_during_a_write_burst_loses_nothing_acknowledged() {
    let data = tempfile::TempDir::new().expect("temp dir");
    let mut local = start(data.path()).await;
    let stop = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(Mutex::new(<[Sent; 3]>::default()));
    let workers: Vec<_> = (0..WORKERS)
        .map(|w| tokio::spawn(worker(local.base.clone(), w, stop.clone(), sent.clone())))
        .collect();
    tokio::time::sleep(BURST).await;
    local.child.start_kill().expect("SIGKILL");
    local.child.wait().await.expect("killed");
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.await.expect("worker");
    }

    let local = start(data.path()).await;
    let client = reqwest::Client::new();
    let sent = std::mem::take(&mut *sent.lock().expect("lock"));
    let visits = count(&client, format!("{}/counters/crash", local.base)).await;
    assert_between("POST /counters/crash", visits, &sent[0]);
    // Counting the path once more reads it: what was stored, plus this one.
    let paths = count(&client, format!("{}/api/crash", local.base)).await - 1;
    assert_between("GET /api/crash", paths, &sent[1]);
    let sessions = stored_sessions(&client, &local.base).await;
    assert_between("POST /log", sessions.len(), &sent[2]);
    assert!(
        sent[2].acknowledged.is_subset(&sessions),
        "an acknowledged log is missing"
    );
    assert!(
        sessions.is_subset(&sent[2].attempted),
        "a log never sent is stored"
    );
}
