//! The functions of `template.yaml` as Lambda mode runs them: binary, timeout, memory size,
//! environment and HTTP API routes, read from the template so that it stays the one source.

use crate::schema::{SchemaError, TEMPLATE};
use serde_norway::Value;
use std::collections::BTreeMap;
use std::time::Duration;

/// One `AWS::Serverless::Function` of the template.
#[derive(Debug, Clone, PartialEq)]
pub struct FunctionSpec {
    /// The binary (from `CodeUri`, `target/lambda/<binary>/`), also the function's name here.
    pub binary: String,
    pub timeout: Duration,
    pub memory_mib: u64,
    /// `Environment.Variables`, the function's over the globals, resolved.
    pub env: BTreeMap<String, String>,
    /// `(method, path)` of each `HttpApi` event; `("ANY", "$default")` for the catch-all.
    pub routes: Vec<(String, String)>,
}

fn bad(what: impl Into<String>) -> SchemaError {
    SchemaError::Template(what.into())
}

/// Every function of the template, `!Ref`s resolved by `overrides` (a variable's name) first,
/// then by a parameter's `Default`, else to the referenced resource's logical id (a table's
/// name when `overrides` gives none).
pub fn functions(overrides: &BTreeMap<String, String>) -> Result<Vec<FunctionSpec>, SchemaError> {
    let doc: Value = serde_norway::from_str(TEMPLATE).map_err(|e| bad(e.to_string()))?;
    let globals = &doc["Globals"]["Function"];
    let resources = doc["Resources"]
        .as_mapping()
        .ok_or_else(|| bad("Resources is not a mapping"))?;
    let mut specs = Vec::new();
    for (id, resource) in resources {
        if resource["Type"].as_str() != Some("AWS::Serverless::Function") {
            continue;
        }
        let id = id.as_str().unwrap_or_default();
        specs.push(function(&doc, globals, id, resource, overrides)?);
    }
    Ok(specs)
}

fn function(
    doc: &Value,
    globals: &Value,
    id: &str,
    resource: &Value,
    overrides: &BTreeMap<String, String>,
) -> Result<FunctionSpec, SchemaError> {
    let props = &resource["Properties"];
    let number = |key: &str| props[key].as_u64().or_else(|| globals[key].as_u64());
    let binary = crate::schema::function_binary(resource)
        .ok_or_else(|| bad(format!("{id}: CodeUri is not target/lambda/<binary>/")))?;
    let mut env = BTreeMap::new();
    for vars in [
        &globals["Environment"]["Variables"],
        &props["Environment"]["Variables"],
    ] {
        for (name, value) in vars.as_mapping().into_iter().flatten() {
            let name = name.as_str().unwrap_or_default().to_string();
            let value = match overrides.get(&name) {
                Some(value) => value.clone(),
                None => resolve(doc, value),
            };
            env.insert(name, value);
        }
    }
    let routes = props["Events"]
        .as_mapping()
        .into_iter()
        .flatten()
        .filter(|(_, event)| event["Type"].as_str() == Some("HttpApi"))
        .map(|(_, event)| {
            let p = &event["Properties"];
            let text = |k: &str| p[k].as_str().unwrap_or_default().to_string();
            (text("Method").to_ascii_uppercase(), text("Path"))
        })
        .collect();
    Ok(FunctionSpec {
        binary: binary.to_string(),
        timeout: Duration::from_secs(number("Timeout").unwrap_or(3)),
        memory_mib: number("MemorySize").unwrap_or(128),
        env,
        routes,
    })
}

/// The `Timeout` of the function whose binary is `binary` (the local API's request deadline),
/// read from the template once.
pub fn timeout_of(binary: &str) -> Option<Duration> {
    static TIMEOUTS: std::sync::OnceLock<BTreeMap<String, Duration>> = std::sync::OnceLock::new();
    let timeouts = TIMEOUTS.get_or_init(|| {
        let specs = functions(&BTreeMap::new()).unwrap_or_default();
        specs.into_iter().map(|f| (f.binary, f.timeout)).collect()
    });
    timeouts.get(binary).copied()
}

/// A scalar as a string; `!Ref Name` as the parameter's default or the resource's id.
fn resolve(doc: &Value, value: &Value) -> String {
    match value {
        Value::Tagged(tagged) if tagged.tag == "Ref" => {
            let name = tagged.value.as_str().unwrap_or_default();
            let default = &doc["Parameters"][name]["Default"];
            if default.is_null() {
                name.to_string()
            } else {
                resolve(doc, default)
            }
        }
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tally_functions::routes::{FALLBACK_FUNCTION, ROUTES};

    fn specs() -> Vec<FunctionSpec> {
        functions(&BTreeMap::new()).expect("template.yaml")
    }

    #[test]
    fn every_route_of_the_route_table_is_a_template_route_of_its_binary() {
        let specs = specs();
        for route in ROUTES {
            let spec = specs.iter().find(|s| s.binary == route.function);
            let routes = spec.map(|s| s.routes.clone()).unwrap_or_default();
            assert_eq!(
                routes,
                vec![(route.method.to_string(), route.path.to_string())],
                "{}",
                route.function
            );
        }
        let fallback = specs.iter().find(|s| s.binary == FALLBACK_FUNCTION);
        assert_eq!(
            fallback.map(|s| s.routes.clone()),
            Some(vec![("ANY".into(), "$default".into())])
        );
        assert_eq!(specs.len(), ROUTES.len() + 1);
    }

    #[test]
    fn timeouts_memory_and_references_come_from_the_template() {
        let overrides = BTreeMap::from([("VISITS_TABLE".to_string(), "t-visits".to_string())]);
        let specs = functions(&overrides).expect("template.yaml");
        let by = |name: &str| specs.iter().find(|s| s.binary == name).expect(name);
        let selftest = by("stats-test");
        assert_eq!(selftest.timeout, Duration::from_secs(29));
        assert_eq!(selftest.memory_mib, 512);
        let increment = by("visits-increment");
        assert_eq!(increment.timeout, Duration::from_secs(10));
        assert_eq!(timeout_of("stats-test"), Some(Duration::from_secs(29)));
        assert_eq!(timeout_of("nothing"), None);
        assert_eq!(increment.memory_mib, 128);
        assert_eq!(increment.env["VISITS_TABLE"], "t-visits");
        assert!(
            !increment.env.contains_key("LOGS_TABLE"),
            "only its own tables"
        );
        assert_eq!(by("logs-record").env["LOGS_TABLE"], "LogsTable");
        assert_eq!(by("ads-impression").env["SDK_COUNTER_SHARDS"], "8");
        assert_eq!(by("ads-ad").env["VAST_TIMEOUT_MS"], "3000");
    }
}
