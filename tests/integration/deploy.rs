//! What a deploy relies on, held to the code: every table survives a stack deletion or
//! replacement, the log table's TTL reads the attribute the store writes, the stack outputs
//! name every table, and `cargo lambda watch`'s router is the route table.

use serde_norway::Value;
use std::collections::BTreeMap;
use tally::config::TABLES;
use tally::test_support::LOG_EXPIRES as EXPIRES;
use tally_functions::routes::ROUTES;

fn repo_file(path: &str) -> String {
    let full = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

fn template() -> Value {
    serde_norway::from_str(tally_local::schema::TEMPLATE).expect("template.yaml is YAML")
}

#[test]
fn every_table_is_retained_when_its_stack_drops_or_replaces_it() {
    let template = template();
    for spec in TABLES {
        let table = &template["Resources"][spec.logical_id];
        assert_eq!(
            table["DeletionPolicy"].as_str(),
            Some("Retain"),
            "{}",
            spec.logical_id
        );
        assert_eq!(
            table["UpdateReplacePolicy"].as_str(),
            Some("Retain"),
            "{}",
            spec.logical_id
        );
    }
}

#[test]
fn the_log_table_expires_items_by_the_attribute_the_store_writes() {
    let ttl = &template()["Resources"]["LogsTable"]["Properties"]["TimeToLiveSpecification"];
    assert_eq!(ttl["AttributeName"].as_str(), Some(EXPIRES));
    assert_eq!(ttl["Enabled"].as_bool(), Some(true));
}

/// `import-people --stack` finds each table under the output `<logical id>Name`.
#[test]
fn the_stack_outputs_name_every_table() {
    let template = template();
    for spec in TABLES {
        let output = &template["Outputs"][format!("{}Name", spec.logical_id)];
        let reference = output["Value"].clone();
        let expected: Value =
            serde_norway::from_str(&format!("!Ref {}", spec.logical_id)).expect("tag");
        assert_eq!(reference, expected, "{}", spec.logical_id);
    }
}

/// The `[package.metadata.lambda.watch.router]` lines of `functions/Cargo.toml`, as written.
fn watch_router() -> Vec<String> {
    let manifest = repo_file("functions/Cargo.toml");
    let start = manifest
        .find("[package.metadata.lambda.watch.router]\n")
        .expect("functions/Cargo.toml has a watch router");
    manifest[start..]
        .lines()
        .skip(1)
        .take_while(|line| !line.starts_with('['))
        .filter(|line| !line.trim().is_empty())
        .map(str::to_string)
        .collect()
}

/// API Gateway's greedy `{name+}` is `{*name}` in cargo-lambda's router (matchit).
fn matchit_path(path: &str) -> String {
    path.split('/')
        .map(
            |part| match part.strip_prefix('{').and_then(|p| p.strip_suffix("+}")) {
                Some(name) => format!("{{*{name}}}"),
                None => part.to_string(),
            },
        )
        .collect::<Vec<_>>()
        .join("/")
}

#[test]
fn cargo_lambda_watch_routes_exactly_the_route_table() {
    let mut by_path: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut order = Vec::new();
    for route in ROUTES {
        let path = matchit_path(route.path);
        if !by_path.contains_key(&path) {
            order.push(path.clone());
        }
        by_path.entry(path).or_default().push(format!(
            "{{ method = \"{}\", function = \"{}\" }}",
            route.method, route.function
        ));
    }
    let expected: Vec<String> = order
        .iter()
        .map(|path| format!("\"{path}\" = [{}]", by_path[path].join(", ")))
        .collect();
    assert_eq!(watch_router(), expected);
}
