//! A DynamoDB-protocol server (moto, `scripts/dynamodb_server.py`) owned by one test, which can
//! freeze it (requests hang), kill it (connections are refused) and restart it on the same port:
//! the store of the fault tests. moto keeps nothing across a restart.

use base64::Engine;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;
use tally::config::TableNames;
use tally::store::dynamodb::Client;
use tally::test_support::client_at;
use tokio::process::{Child, Command};

pub struct DynamoServer {
    port: u16,
    child: Option<Child>,
}

impl DynamoServer {
    /// Starts the server on a free loopback port and waits until it accepts connections.
    pub async fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        DynamoServer {
            port,
            child: Some(spawn(port).await),
        }
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// A client with the production timeouts and retries, for this server.
    pub async fn client(&self) -> Client {
        client_at(&self.endpoint()).await
    }

    /// Creates every table of `template.yaml` (again, after a restart), named by logical id.
    pub async fn create_tables(&self) -> TableNames {
        tally_local::schema::ensure_tables(&self.client().await, |spec| spec.logical_id.to_string())
            .await
            .expect("tables created from template.yaml")
    }

    /// Starts moto's request recorder: from now on every request this server receives is
    /// kept (`recorded_operations`). https://docs.getmoto.org/en/latest/docs/configuration/recorder/index.html
    pub async fn start_recording(&self) {
        let url = format!("{}/moto-api/recorder/start-recording", self.endpoint());
        let resp = reqwest::Client::new()
            .post(url)
            .send()
            .await
            .expect("recorder starts");
        assert!(resp.status().is_success(), "recorder: {}", resp.status());
    }

    /// The operations received since `start_recording`, in order: DynamoDB's from the
    /// `X-Amz-Target` header, CloudFormation's (query protocol) from the body's `Action`.
    pub async fn recorded_operations(&self) -> Vec<String> {
        let url = format!("{}/moto-api/recorder/download-recording", self.endpoint());
        let text = reqwest::get(url)
            .await
            .and_then(|r| r.error_for_status())
            .expect("recording downloads")
            .text()
            .await
            .expect("recording");
        text.lines().filter_map(operation).collect()
    }

    /// Stops the process (SIGSTOP): connections still open, requests are never answered.
    pub fn freeze(&self) {
        self.signal("-STOP");
    }

    /// Resumes a frozen process (SIGCONT): it then serves what it was sent meanwhile.
    pub fn thaw(&self) {
        self.signal("-CONT");
    }

    /// Kills the process: connections are refused until `restart`.
    pub async fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().await.expect("server killed");
        }
    }

    /// Starts the server again on the same port, empty.
    pub async fn restart(&mut self) {
        self.kill().await;
        self.child = Some(spawn(self.port).await);
    }

    fn signal(&self, signal: &str) {
        let pid = self
            .child
            .as_ref()
            .and_then(Child::id)
            .expect("server running");
        let status = std::process::Command::new("kill")
            .args([signal, &pid.to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill {signal} {pid}");
    }
}

/// The operation of one recorded request (a JSON line of moto's recorder).
fn operation(line: &str) -> Option<String> {
    let entry: serde_json::Value = serde_json::from_str(line).ok()?;
    let headers = entry["headers"].as_object()?;
    if let Some((_, target)) = headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("x-amz-target"))
    {
        return Some(target.as_str()?.rsplit('.').next()?.to_string());
    }
    let body = entry["body"].as_str()?;
    let body = if entry["body_encoded"].as_bool() == Some(true) {
        String::from_utf8(
            base64::engine::general_purpose::STANDARD
                .decode(body)
                .ok()?,
        )
        .ok()?
    } else {
        body.to_string()
    };
    // An operation name is plain ASCII: no percent-encoding to undo.
    body.split('&')
        .find_map(|pair| pair.strip_prefix("Action="))
        .map(str::to_string)
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

async fn spawn(port: u16) -> Child {
    let python = repo().join(".venv/bin/python");
    assert!(
        python.is_file(),
        "{} is missing: `make test` creates it",
        python.display()
    );
    let mut child = Command::new(python)
        .arg(repo().join("scripts/dynamodb_server.py"))
        .args(["127.0.0.1", &port.to_string()])
        .env(
            "MOTO_RECORDER_FILEPATH",
            std::env::temp_dir().join(format!("tally-moto-recording-{port}.jsonl")),
        )
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("moto starts");
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return child;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("the DynamoDB server exited: {status}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the DynamoDB server did not listen on port {port} within 10 s");
}
