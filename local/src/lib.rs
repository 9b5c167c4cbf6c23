//! The local API: the same handlers as the Lambda functions, served over HTTP on a laptop,
//! on the embedded store or on a DynamoDB endpoint whose tables it creates from `template.yaml`.

pub mod admin;
pub mod conn;
pub mod lambda;
pub mod people;
pub mod schema;
pub mod server;
pub mod stores;
pub mod tls;

/// Listens on `addr` (`TALLY_ADDR`); `None` (logged) when it cannot.
pub async fn listen(addr: &str) -> Option<tokio::net::TcpListener> {
    match tokio::net::TcpListener::bind(addr).await {
        Ok(listener) => {
            tracing::info!("Tally local API listening on http://{addr}");
            Some(listener)
        }
        Err(err) => {
            tracing::error!(error = %err, addr, "could not listen (set TALLY_ADDR to another address)");
            None
        }
    }
}

/// The URL at which this API reaches itself for `POST /test/{n}`: `TALLY_SELF_URL` when set,
/// else `http://` and the listen address (`TALLY_ADDR`), an unspecified address such as
/// `0.0.0.0` as loopback. Never the `Host` a client sends.
pub fn set_self_url(config: &mut tally::config::Config) {
    if config.stats.self_url.is_some() {
        return;
    }
    let host = match config.local.addr.parse::<std::net::SocketAddr>() {
        Ok(addr) if addr.ip().is_unspecified() => {
            let loopback: std::net::IpAddr = match addr {
                std::net::SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
                std::net::SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
            };
            std::net::SocketAddr::new(loopback, addr.port()).to_string()
        }
        _ => config.local.addr.clone(),
    };
    config.stats.self_url = Some(format!("http://{host}"));
}

#[cfg(test)]
mod tests {
    use super::*;
    use tally::config::Config;

    fn self_url(addr: &str, set: Option<&str>) -> Option<String> {
        let mut config = Config {
            local: tally::config::Local {
                addr: addr.into(),
                ..Default::default()
            },
            stats: tally::config::StatsSettings {
                self_url: set.map(String::from),
            },
            ..Config::default()
        };
        set_self_url(&mut config);
        config.stats.self_url
    }

    #[test]
    fn the_self_url_is_the_listen_address_unless_set() {
        let url = |addr| self_url(addr, None).expect("a URL");
        assert_eq!(url("127.0.0.1:3000"), "http://127.0.0.1:3000");
        assert_eq!(url("0.0.0.0:8080"), "http://127.0.0.1:8080");
        assert_eq!(url("[::]:8080"), "http://[::1]:8080");
        assert_eq!(url("localhost:3000"), "http://localhost:3000");
        let set = self_url("0.0.0.0:1", Some("https://api.example"));
        assert_eq!(set.as_deref(), Some("https://api.example"));
    }
}
