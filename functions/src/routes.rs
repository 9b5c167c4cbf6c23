//! The route table: every method and path API Gateway sends to a function, and matching a
//! request against it with HTTP API semantics (`{name}` is one segment, `{name+}` the rest).

use percent_encoding::percent_decode_str;

/// One API Gateway route and the binary (Lambda function) that serves it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
    pub function: &'static str,
}

const fn route(method: &'static str, path: &'static str, function: &'static str) -> Route {
    Route {
        method,
        path,
        function,
    }
}

/// Every route of the API. `template.yaml`, the OpenAPI document and `events/` must agree.
pub const ROUTES: &[Route] = &[
    route("GET", "/", "visits-home"),
    route("POST", "/form", "visits-form"),
    route("POST", "/counters/{id}", "visits-increment"),
    route("GET", "/counters/{id}", "visits-count"),
    route("GET", "/database", "visits-database"),
    route("GET", "/ad", "ads-ad"),
    route("GET", "/impression", "ads-impression"),
    route("GET", "/statistics", "ads-statistics"),
    route("POST", "/log", "logs-record"),
    route("GET", "/log", "logs-query"),
    route("GET", "/ping", "people-ping"),
    route("GET", "/people", "people-list"),
    route("POST", "/people", "people-create"),
    // Before `/people/{id}`: API Gateway prefers the literal path, and `find` takes the first.
    route("GET", "/people/age", "people-by-age"),
    route("GET", "/people/{id}", "people-get"),
    route("GET", "/ids/lastname/{lastname}", "people-ids-by-lastname"),
    route("GET", "/api/{proxy+}", "stats-count"),
    route("GET", "/stats", "stats-list"),
    route("POST", "/test/{n}", "stats-test"),
    route("GET", "/dashboard", "dashboard-page"),
];

/// The binary that answers everything no route matches (API Gateway's `$default` route).
pub const FALLBACK_FUNCTION: &str = "fallback";

/// The result of matching a method and path against the table.
#[derive(Debug, PartialEq)]
pub enum Match {
    Found {
        route: &'static Route,
        params: Vec<(String, String)>,
    },
    /// The path exists, but not for this method; `allow` lists the methods it has.
    WrongMethod {
        allow: Vec<&'static str>,
    },
    NotFound,
}

/// Matches one path against a template, returning the decoded path parameters.
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
            params.push((name.to_string(), decode(&rest)));
            return Some(params);
        }
        let segment = segments.next()?;
        match part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
            Some(name) if !segment.is_empty() => params.push((name.to_string(), decode(segment))),
            Some(_) => return None,
            None if part == segment => {}
            None => return None,
        }
    }
    segments.next().is_none().then_some(params)
}

fn decode(raw: &str) -> String {
    percent_decode_str(raw).decode_utf8_lossy().into_owned()
}

/// Finds the route for a request. A path that matches no route is tried once more without its
/// trailing slash, so `/stats/` is served by `GET /stats`: API Gateway HTTP APIs refuse route
/// paths that end in `/`, and route `/x/` to `/x` themselves (see `docs/stats.md`).
pub fn find(method: &str, path: &str) -> Match {
    match find_exact(method, path) {
        Match::NotFound => match path.strip_suffix('/') {
            Some(trimmed) if !trimmed.is_empty() => find_exact(method, trimmed),
            _ => Match::NotFound,
        },
        found => found,
    }
}

fn find_exact(method: &str, path: &str) -> Match {
    let mut allow = Vec::new();
    for route in ROUTES {
        if let Some(params) = match_path(route.path, path) {
            if route.method.eq_ignore_ascii_case(method) {
                return Match::Found { route, params };
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

    #[test]
    fn path_parameters_are_one_decoded_segment() {
        assert_eq!(
            params("GET", "/counters/al%20ice"),
            Some(vec![("id".into(), "al ice".into())])
        );
        assert_eq!(params("GET", "/counters/"), None);
        assert_eq!(params("GET", "/counters/a/b"), None);
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
