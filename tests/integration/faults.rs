//! Fault cases with real processes: a `faqd index` killed by SIGKILL mid-build, and two
//! `faqd serve` processes on one index root following a new generation (and ignoring a bad
//! dump).

use crate::common::{connect, faqd_command, fixture, query, synthetic_dump, tempdir};
use faqd::engine::{Engine, SearchParams, Settings};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn temporaries(root: &Path) -> Vec<String> {
    std::fs::read_dir(root)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.file_name().to_string_lossy().to_string())
                .filter(|n| n.starts_with(".tmp-"))
                .collect()
        })
        .unwrap_or_default()
}

fn index(root: &Path, dump: &Path) -> std::process::Output {
    faqd_command()
        .args(["index", "--index-dir", path(root), path(dump)])
        .env("RUST_LOG", "warn")
        .output()
        .expect("run faqd index")
}

fn current(root: &Path) -> String {
    std::fs::read_to_string(root.join("CURRENT")).expect("CURRENT exists")
}

#[test]
fn a_build_killed_mid_way_leaves_the_served_generation_intact_and_the_next_run_succeeds() {
    let dir = tempdir();
    let root = dir.path().join("index");
    assert_eq!(index(&root, &fixture("small.jsonl")).status.code(), Some(0));
    assert_eq!(current(&root), "gen-000001");

    let dump = synthetic_dump(dir.path(), 40_000);
    let mut child = faqd_command()
        .args(["index", "--index-dir", path(&root), path(&dump)])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start faqd index");
    // Kill it as soon as its build directory exists (the dump is read by then).
    let deadline = Instant::now() + Duration::from_secs(300);
    while temporaries(&root).is_empty() {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the build ended ({status}) before it could be killed");
        }
        assert!(Instant::now() < deadline, "the build never started");
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().expect("SIGKILL faqd index");
    let status = child.wait().unwrap();
    assert!(!status.success(), "killed, not finished: {status}");
    assert!(
        !temporaries(&root).is_empty(),
        "the killed build left its directory behind"
    );

    // The served generation is intact and searchable.
    assert_eq!(current(&root), "gen-000001");
    let engine = Engine::open(&root, Settings::default()).expect("open after the kill");
    let r = engine
        .search(&SearchParams {
            query: "test withdrawal".into(),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(
        (r.generation, r.hits[0].hit.version.id.as_str()),
        (1, "fx-withdrawal")
    );

    // The next run cleans up and publishes.
    let out = index(&root, &fixture("small.csv"));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(current(&root), "gen-000002");
    assert_eq!(temporaries(&root), Vec::<String>::new());
    assert_eq!(engine.reload().unwrap(), 2);
}

/// A `faqd serve` child process, killed when dropped.
struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `faqd serve` on 127.0.0.1:0 and reads the bound address from its log.
fn serve(root: &Path) -> Server {
    let mut child = faqd_command()
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--index-dir",
            path(root),
        ])
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start faqd serve");
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut sent = false;
        // Keep reading so the server never blocks on a full pipe.
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if !sent {
                if let Some(addr) = line
                    .split_whitespace()
                    .find_map(|w| w.strip_prefix("addr="))
                    .and_then(|a| a.parse::<SocketAddr>().ok())
                {
                    let _ = tx.send(addr);
                    sent = true;
                }
            }
        }
    });
    let addr = rx
        .recv_timeout(Duration::from_secs(120))
        .expect("faqd serve logged its address");
    Server { child, addr }
}

async fn generation_and_top(addr: SocketAddr, q: &str) -> (u64, String) {
    let mut c = connect(addr).await;
    let r = c.search(query(q)).await.expect("search").into_inner();
    (
        r.generation,
        r.hits.first().map(|h| h.id.clone()).unwrap_or_default(),
    )
}

#[tokio::test]
async fn two_servers_on_one_index_root_both_follow_a_new_generation_and_ignore_a_bad_dump() {
    let dir = tempdir();
    let root = dir.path().join("index");
    assert_eq!(index(&root, &fixture("small.jsonl")).status.code(), Some(0));
    // Without --source, serve keeps an index built from other dumps (it does not fall back
    // to the shipped knowledge base).
    let servers = [serve(&root), serve(&root)];
    for s in &servers {
        assert_eq!(
            generation_and_top(s.addr, "test withdrawal").await,
            (1, "fx-withdrawal".to_string())
        );
    }

    let bad = index(&root, &fixture("bad_lang.jsonl"));
    assert_eq!(bad.status.code(), Some(3));
    assert_eq!(current(&root), "gen-000001");

    let mut text = std::fs::read_to_string(fixture("small.jsonl")).unwrap();
    text.push_str(
        r#"{"id": "fx-new", "lang": "en", "title": "Test staking rewards", "answer": "Staking rewards are paid daily."}"#,
    );
    let dump = dir.path().join("more.jsonl");
    std::fs::write(&dump, text).unwrap();
    assert_eq!(index(&root, &dump).status.code(), Some(0));
    assert_eq!(current(&root), "gen-000002");

    for s in &servers {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let (generation, top) = generation_and_top(s.addr, "staking rewards").await;
            if generation == 2 {
                assert_eq!(top, "fx-new");
                break;
            }
            assert_eq!(generation, 1, "the bad dump was never served");
            assert!(
                Instant::now() < deadline,
                "server {} never switched to generation 2",
                s.addr
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}
