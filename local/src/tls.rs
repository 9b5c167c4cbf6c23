//! DynamoDB over TLS for Lambda mode and the cold-start benchmark, as functions reach it in
//! AWS: a TLS terminator (tokio-rustls) in front of the plain test DynamoDB server, its
//! certificate from a CA made here with the `openssl` CLI, trusted by the functions through
//! `SSL_CERT_FILE` (the system roots plus that CA).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::{crypto::ring, ServerConfig};
use tokio_rustls::TlsAcceptor;

/// The system's trusted roots (Debian/Ubuntu), bundled with the test CA.
const SYSTEM_ROOTS: &str = "/etc/ssl/certs/ca-certificates.crt";

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("openssl {0}: {1}")]
    Openssl(String, String),
    #[error("{0}: {1}")]
    Io(String, std::io::Error),
    #[error("TLS configuration: {0}")]
    Config(String),
}

/// The files of a test CA and the loopback server certificate it signed.
#[derive(Debug, Clone)]
pub struct TestCa {
    /// System roots plus the CA: the functions' `SSL_CERT_FILE`.
    pub bundle: PathBuf,
    cert: PathBuf,
    key: PathBuf,
}

fn openssl(dir: &Path, args: &[&str]) -> Result<(), TlsError> {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .map_err(|e| TlsError::Io("openssl".into(), e))?;
    if out.status.success() {
        Ok(())
    } else {
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        Err(TlsError::Openssl(args.join(" "), stderr))
    }
}

impl TestCa {
    /// Makes a CA and a certificate for `127.0.0.1` and `localhost` in `dir` (P-256 keys,
    /// valid 30 days).
    pub fn create(dir: &Path) -> Result<TestCa, TlsError> {
        let io = |what: &str| {
            let what = what.to_string();
            move |e| TlsError::Io(what, e)
        };
        std::fs::create_dir_all(dir).map_err(io("tls dir"))?;
        let ec = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
        ];
        let ca = [
            &["req", "-x509", "-days", "30", "-subj", "/CN=Tally test CA"][..],
            &ec,
            &["-keyout", "ca.key", "-out", "ca.pem"],
            &["-addext", "basicConstraints=critical,CA:TRUE"],
            &["-addext", "keyUsage=critical,keyCertSign,cRLSign"],
        ]
        .concat();
        openssl(dir, &ca)?;
        let server = [
            &["req", "-x509", "-days", "30", "-subj", "/CN=127.0.0.1"][..],
            &["-CA", "ca.pem", "-CAkey", "ca.key"],
            &ec,
            &["-keyout", "server.key", "-out", "server.pem"],
            &["-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
            &["-addext", "basicConstraints=critical,CA:FALSE"],
            &["-addext", "extendedKeyUsage=serverAuth"],
        ]
        .concat();
        openssl(dir, &server)?;
        let mut bundle = std::fs::read(SYSTEM_ROOTS).unwrap_or_default();
        bundle.extend(std::fs::read(dir.join("ca.pem")).map_err(io("ca.pem"))?);
        std::fs::write(dir.join("bundle.pem"), bundle).map_err(io("bundle.pem"))?;
        Ok(TestCa {
            bundle: dir.join("bundle.pem"),
            cert: dir.join("server.pem"),
            key: dir.join("server.key"),
        })
    }

    fn acceptor(&self) -> Result<TlsAcceptor, TlsError> {
        let bad = |e: &dyn std::fmt::Display| TlsError::Config(e.to_string());
        let certs = CertificateDer::pem_file_iter(&self.cert)
            .map_err(|e| bad(&e))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| bad(&e))?;
        let key = PrivateKeyDer::from_pem_file(&self.key).map_err(|e| bad(&e))?;
        let config = ServerConfig::builder_with_provider(Arc::new(ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| bad(&e))?
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .map_err(|e| bad(&e))?;
        Ok(TlsAcceptor::from(Arc::new(config)))
    }
}

/// A TLS terminator on a free loopback port forwarding to `upstream` (`host:port`); returns
/// its `https://127.0.0.1:PORT` endpoint. It runs until the runtime stops.
pub async fn terminate(ca: &TestCa, upstream: String) -> Result<String, TlsError> {
    let acceptor = ca.acceptor()?;
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| TlsError::Io("bind".into(), e))?;
    let addr = listener
        .local_addr()
        .map_err(|e| TlsError::Io("bind".into(), e))?;
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let (acceptor, upstream) = (acceptor.clone(), upstream.clone());
            tokio::spawn(async move {
                // As DynamoDB's endpoints do: no Nagle delay on either side of the relay, or the
                // session tickets written after the handshake hold the first answer for ~40 ms.
                let _ = stream.set_nodelay(true);
                let Ok(mut tls) = acceptor.accept(stream).await else {
                    return;
                };
                match TcpStream::connect(&upstream).await {
                    Ok(mut plain) => {
                        let _ = plain.set_nodelay(true);
                        let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
                    }
                    Err(err) => tracing::warn!(error = %err, upstream, "DynamoDB unreachable"),
                }
            });
        }
    });
    Ok(format!("https://{addr}"))
}

/// The `host:port` of an `http://` endpoint.
pub fn host_port(endpoint: &str) -> Option<String> {
    let rest = endpoint.strip_prefix("http://")?;
    Some(rest.trim_end_matches('/').to_string())
}

/// The variables that point a function at `endpoint` (plain http) through a new TLS
/// terminator: `DYNAMODB_ENDPOINT` (https), `SSL_CERT_FILE`, dummy credentials.
pub async fn dynamodb_env(endpoint: &str, dir: &Path) -> Result<Vec<(String, String)>, TlsError> {
    let upstream = host_port(endpoint)
        .ok_or_else(|| TlsError::Config(format!("{endpoint}: not an http:// endpoint")))?;
    let ca = TestCa::create(dir)?;
    let https = terminate(&ca, upstream).await?;
    Ok(vec![
        ("DYNAMODB_ENDPOINT".into(), https),
        ("SSL_CERT_FILE".into(), ca.bundle.display().to_string()),
        ("AWS_ACCESS_KEY_ID".into(), "local".into()),
        ("AWS_SECRET_ACCESS_KEY".into(), "local".into()),
    ])
}
