//! The route table, declared once: each route's method, path, function (binary) name, the
//! state its handler takes (and so the tables it uses) and handler. `ROUTES` (what API Gateway sends where, read by the fallback and the tests) and
//! `HANDLERS` (read by the local API and the event tests) both come from that one list.
//! Matching a request follows HTTP API semantics (`{name}` is one segment, `{name+}` the rest).

use crate::handler::Routed;
use std::collections::HashMap;
use tally::http::request::percent_decoded;
use tally::state::{
    AdsState, DashboardState, Keyed, LogsState, NoState, Open, PeopleState, SelfTestState,
    StatsCounterState, StatsState, VisitCounterState, VisitsState, KEYS_TABLE,
};
use tally::ApiError;

/// One API Gateway route and the binary (Lambda function) that serves it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
    pub function: &'static str,
    /// The tables (logical ids in `template.yaml`) of its service's state (`tables`).
    pub service_tables: &'static [&'static str],
    /// Whether its state holds the idempotency keys too (`tally::state::Keyed`).
    pub keyed: bool,
}

impl Route {
    /// The tables of the state its handler takes: what its function's environment and policy
    /// must name.
    pub fn tables(&self) -> Vec<&'static str> {
        let keys = self.keyed.then_some(KEYS_TABLE);
        self.service_tables.iter().copied().chain(keys).collect()
    }
}

/// Declares the routes: `ROUTES[i]` is served by `HANDLERS[i]`. Two items, not one table of
/// both, so that what reads only `ROUTES` (the fallback binary) links no handler.
macro_rules! routes {
    ($($method:literal $path:literal => $function:literal, $state:ty, $handler:path;)*) => {
        /// Every route of the API. `template.yaml`, the OpenAPI document and `events/` must agree.
        pub const ROUTES: &[Route] = &[$(Route {
            method: $method,
            path: $path,
            function: $function,
            service_tables: <$state as Open>::TABLES,
            keyed: <$state as Open>::KEYED,
        }),*];

        /// The handler of each route, in the order of `ROUTES`; each takes the state its line
        /// names (the compiler holds the two together).
        pub const HANDLERS: &[Routed] = &[$(
            |all, req| $crate::handler::with_part::<$state, _>(all, $handler, req)
        ),*];
    };
}

routes! {
    "GET" "/" => "visits-home", NoState, crate::visits::home;
    "POST" "/form" => "visits-form", Keyed<VisitCounterState>, crate::visits::form;
    "POST" "/counters/{id}" => "visits-increment", Keyed<VisitCounterState>, crate::visits::increment;
    "GET" "/counters/{id}" => "visits-count", VisitsState, crate::visits::count;
    "GET" "/counters/{id}/series" => "visits-series", VisitCounterState, crate::visits::series;
    "GET" "/database" => "visits-database", VisitsState, crate::visits::database;
    "GET" "/ad" => "ads-ad", Keyed<AdsState>, crate::ads::ad;
    "GET" "/impression" => "ads-impression", Keyed<AdsState>, crate::ads::impression;
    "GET" "/statistics" => "ads-statistics", AdsState, crate::ads::statistics;
    "POST" "/log" => "logs-record", Keyed<LogsState>, crate::logs::record;
    "GET" "/log" => "logs-query", LogsState, crate::logs::query;
    "GET" "/ping" => "people-ping", NoState, crate::people::ping;
    "GET" "/people" => "people-list", PeopleState, crate::people::list;
    "POST" "/people" => "people-create", Keyed<PeopleState>, crate::people::create;
    // Before `/people/{id}`: API Gateway prefers the literal path, and `find` takes the first.
    "GET" "/people/age" => "people-by-age", PeopleState, crate::people::by_age;
    "GET" "/people/{id}" => "people-get", PeopleState, crate::people::get;
    "GET" "/ids/lastname/{lastname}" => "people-ids-by-lastname", PeopleState, crate::people::ids_by_last_name;
    "GET" "/api/{proxy+}" => "stats-count", Keyed<StatsCounterState>, crate::stats::count;
    "GET" "/stats" => "stats-list", StatsState, crate::stats::list;
    "GET" "/stats/series" => "stats-series", StatsCounterState, crate::stats::series;
    "POST" "/test/{n}" => "stats-test", SelfTestState, crate::stats::selftest;
    "GET" "/dashboard" => "dashboard-page", DashboardState, crate::dashboard::page;
}

/// The binary that answers everything no route matches (API Gateway's `$default` route).
pub const FALLBACK_FUNCTION: &str = "fallback";

/// The functions whose paths the contract also serves with a trailing slash (`/stats/`,
/// `/test/{n}/`). HTTP API route paths cannot end in `/`, so API Gateway may send those
/// requests to the route or to `$default`; the fallback answers them as the route would.
pub const TRAILING_SLASH: &[&str] = &["stats-list", "stats-test"];

/// The result of matching a method and path against the table.
#[derive(Debug, PartialEq)]
pub enum Match {
    Found {
        route: &'static Route,
        /// The route's position in `ROUTES`, and so its handler's in `HANDLERS`.
        index: usize,
        /// The path parameters as they appear in the path, still percent-encoded.
        params: Vec<(String, String)>,
    },
    /// The path exists, but not for this method; `allow` lists the methods it has.
    WrongMethod {
        allow: Vec<&'static str>,
    },
    NotFound,
}

/// Matches one path against a template, returning the raw path parameters.
fn match_path(template: &str, path: &str) -> Option<Vec<(String, String)>> {
    let mut params = Vec::new();
    let mut segments = path.split('/');
    for part in template.split('/') {
        if let Some(name) = part.strip_prefix('{').and_then(|p| p.strip_suffix("+}")) {
            let rest: Vec<&str> = segments.by_ref().collect();
            let rest = rest.join("/");
            if rest.is_empty() {
                return None;
            }
            params.push((name.to_string(), rest));
            return Some(params);
        }
        let segment = segments.next()?;
        match part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
            Some(name) if !segment.is_empty() => params.push((name.to_string(), segment.into())),
            Some(_) => return None,
            None if part == segment => {}
            None => return None,
        }
    }
    segments.next().is_none().then_some(params)
}

/// Percent-decodes path parameters as API Gateway does; one that is not UTF-8 once decoded is
/// a 400 naming it (never decoded lossily; `http::request::path_param` then refuses U+FFFD too).
pub fn decode_params(params: Vec<(String, String)>) -> Result<HashMap<String, String>, ApiError> {
    params
        .into_iter()
        .map(|(name, raw)| {
            let value = percent_decoded(&name, raw.as_bytes(), false)?;
            Ok((name, value))
        })
        .collect()
}

/// Finds the route for a request. A path that matches no route is tried once more without its
/// trailing slash when it is one of `TRAILING_SLASH`'s, so `/stats/` is served by `GET /stats`
/// and `/counters/x/` is a 404 wherever API Gateway sends it (see `docs/stats.md`).
pub fn find(method: &str, path: &str) -> Match {
    match find_exact(method, path) {
        Match::NotFound => match path.strip_suffix('/') {
            Some(trimmed) if takes_trailing_slash(trimmed) => find_exact(method, trimmed),
            _ => Match::NotFound,
        },
        found => found,
    }
}

fn takes_trailing_slash(path: &str) -> bool {
    ROUTES
        .iter()
        .any(|r| TRAILING_SLASH.contains(&r.function) && match_path(r.path, path).is_some())
}

fn find_exact(method: &str, path: &str) -> Match {
    let mut allow = Vec::new();
    for (index, route) in ROUTES.iter().enumerate() {
        if let Some(params) = match_path(route.path, path) {
            // Methods are case-sensitive (RFC 9110, section 9.1): `post` is not `POST`.
            if route.method == method {
                return Match::Found {
                    route,
                    index,
                    params,
                };
            }
            allow.push(route.method);
        }
    }
    if allow.is_empty() {
        Match::NotFound
    } else {
        Match::WrongMethod { allow }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(method: &str, path: &str) -> Option<Vec<(String, String)>> {
        match find(method, path) {
            Match::Found { params, .. } => Some(params),
            _ => None,
        }
    }

    fn decoded(path: &str) -> Result<HashMap<String, String>, ApiError> {
        decode_params(params("GET", path).expect("a route"))
    }

    #[test]
    fn path_parameters_are_one_segment_decoded_strictly() {
        assert_eq!(decoded("/counters/al%20ice").unwrap()["id"], "al ice");
        assert_eq!(decoded("/counters/a+b").unwrap()["id"], "a+b");
        assert_eq!(
            decoded("/counters/zz%EF%BF%BD").unwrap()["id"],
            "zz\u{FFFD}"
        );
        for bad in [
            "/counters/zz%FF",
            "/counters/%C3",
            "/ids/lastname/%ED%A0%80",
        ] {
            let err = decoded(bad).expect_err(bad);
            assert!(err.to_string().contains("not valid UTF-8"), "{err}");
        }
        assert_eq!(params("GET", "/counters/"), None);
        assert_eq!(params("GET", "/counters/a/b"), None);
    }

    #[test]
    fn methods_are_case_sensitive() {
        for method in ["post", "Post", "pOST"] {
            assert_eq!(
                find(method, "/counters/x"),
                Match::WrongMethod {
                    allow: vec!["POST", "GET"]
                },
                "{method}"
            );
        }
    }

    #[test]
    fn greedy_parameters_take_the_rest() {
        assert_eq!(
            match_path("/api/{proxy+}", "/api/a/b/"),
            Some(vec![("proxy".into(), "a/b/".into())])
        );
        assert_eq!(match_path("/api/{proxy+}", "/api/"), None);
    }

    #[test]
    fn known_paths_with_other_methods_are_wrong_method() {
        assert_eq!(
            find("DELETE", "/counters/x"),
            Match::WrongMethod {
                allow: vec!["POST", "GET"]
            }
        );
        assert_eq!(find("GET", "/nowhere"), Match::NotFound);
    }

    #[test]
    fn the_literal_people_age_wins_over_the_id_template() {
        match find("GET", "/people/age") {
            Match::Found { route, .. } => assert_eq!(route.function, "people-by-age"),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            params("GET", "/people/7"),
            Some(vec![("id".into(), "7".into())])
        );
    }

    #[test]
    fn a_trailing_slash_reaches_the_route_without_it() {
        assert_eq!(params("GET", "/stats/"), Some(vec![]));
        assert_eq!(params("GET", "/stats"), Some(vec![]));
        assert_eq!(
            params("POST", "/test/30/"),
            Some(vec![("n".into(), "30".into())])
        );
        assert_eq!(
            find("GET", "/test/30/"),
            Match::WrongMethod {
                allow: vec!["POST"]
            }
        );
        assert_eq!(find("GET", "/counters/"), Match::NotFound);
        assert_eq!(find("GET", "/stats//"), Match::NotFound);
        assert_eq!(find("GET", "/counters/x/"), Match::NotFound);
        assert_eq!(find("GET", "/people/age/"), Match::NotFound);
    }

    #[test]
    fn no_route_path_ends_in_a_slash_as_api_gateway_refuses_them() {
        for route in ROUTES.iter().filter(|r| r.path != "/") {
            assert!(!route.path.ends_with('/'), "{}", route.path);
        }
    }

    #[test]
    fn every_route_names_a_distinct_function() {
        let mut names: Vec<&str> = ROUTES.iter().map(|r| r.function).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ROUTES.len());
    }
}
