//! Least privilege, held to the code: each function's environment and IAM policy in
//! `template.yaml` name exactly the tables of the state its route takes (the route table), and
//! the DynamoDB operations its handler sends for its event are ones its policy allows. A
//! failure names the function whose template and code disagree.

use serde_norway::Value;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;
use tally::config::TABLES;
use tally_functions::dispatch::{handler, tables};
use tally_local::schema::{function_binary, TEMPLATE};
use tally_tests::events::{functions, read};
use tally_tests::stub::{Behaviour, StubServer};
use tally_tests::DynamoTables;

/// (binary, function resource) of every function in the template.
fn template_functions(template: &Value) -> Vec<(String, Value)> {
    let resources = template["Resources"].as_mapping().expect("Resources");
    resources
        .values()
        .filter(|r| r["Type"].as_str() == Some("AWS::Serverless::Function"))
        .map(|r| {
            (
                function_binary(r).unwrap_or_default().to_string(),
                r.clone(),
            )
        })
        .collect()
}

/// The tables a policy reaches: those whose ARN (or an index of it) it names.
fn policy_tables(function: &Value) -> BTreeSet<&'static str> {
    let policy = serde_norway::to_string(&function["Properties"]["Policies"]).unwrap_or_default();
    TABLES
        .iter()
        .map(|t| t.logical_id)
        .filter(|id| {
            policy.contains(&format!(" {id}.Arn")) || policy.contains(&format!("${{{id}.Arn"))
        })
        .collect()
}

/// The actions a function's policy allows.
fn policy_actions(function: &Value) -> BTreeSet<String> {
    let policies = function["Properties"]["Policies"].as_sequence().cloned();
    policies
        .unwrap_or_default()
        .iter()
        .flat_map(|p| p["Statement"].as_sequence().cloned().unwrap_or_default())
        .flat_map(|s| s["Action"].as_sequence().cloned().unwrap_or_default())
        .filter_map(|a| a.as_str().map(String::from))
        .collect()
}

#[test]
fn each_function_is_given_exactly_the_tables_its_state_uses() {
    let template: Value = serde_norway::from_str(TEMPLATE).expect("template.yaml");
    for (binary, function) in template_functions(&template) {
        let wanted: BTreeSet<&str> = tables(&binary)
            .unwrap_or_else(|| panic!("{binary}: not in the route table"))
            .iter()
            .copied()
            .collect();
        let vars = &function["Properties"]["Environment"]["Variables"];
        let given: BTreeSet<&str> = TABLES
            .iter()
            .filter(|t| !vars[t.env].is_null())
            .map(|t| t.logical_id)
            .collect();
        assert_eq!(
            given, wanted,
            "{binary}: the table variables of its environment"
        );
        assert_eq!(
            policy_tables(&function),
            wanted,
            "{binary}: the tables of its policy"
        );
    }
}

/// Each event of `events/`, through its handler on DynamoDB (moto), sends only operations its
/// function's policy allows; a function whose state has no table sends none.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_function_sends_only_the_operations_its_policy_allows() {
    let template: Value = serde_norway::from_str(TEMPLATE).expect("template.yaml");
    let specs = template_functions(&template);
    let stub = StubServer::start(Behaviour::Xml).await;
    let (mut state, log) = DynamoTables::create().await.recorded_state();
    state.ads.ad_server = stub.ad_server(Duration::from_secs(3));
    let state = Arc::new(state);
    for function in functions() {
        let req = lambda_http::request::from_str(&read(function)).expect("an event");
        let handle = handler(function).expect("a handler");
        let _ = handle(&state, req).await;
        let sent = log.take();
        let spec = specs.iter().find(|(b, _)| b == function);
        let allowed = spec.map(|(_, f)| policy_actions(f)).unwrap_or_default();
        for op in &sent {
            assert!(
                allowed.contains(&format!("dynamodb:{op}")),
                "{function} sends {op}, which its policy in template.yaml does not allow"
            );
        }
        if tables(function).is_some_and(|t| t.is_empty()) {
            assert!(sent.is_empty(), "{function} has no table but sent {sent:?}");
        }
    }
}
