//! `make amortized-people`: what `POST /people` costs, amortized over many creates measured on
//! the wire by the meter (dynalite): without and with client `ID`s, into the largest directory
//! the contract allows, from several API instances at once (as Lambda instances are: each its
//! own process, so concurrent creates can aim at one id), and a taken `ID` (409).

use crate::bench::realistic::largest_directory;
use crate::events::EventRequest;
use crate::meter::{Meter, Units};
use crate::{dynalite_endpoint, dynamodb_state_on, Api, DynamoTables};
use futures_util::future::join_all;
use serde_json::json;

/// Creates per workload in the README (`bench people N` takes another number).
pub const CREATES: usize = 10_000;
/// API instances sending at once in the concurrent workload.
pub const INSTANCES: usize = 8;

/// One workload's totals.
pub struct Amortized {
    pub workload: &'static str,
    pub creates: usize,
    pub units: Units,
    /// The most one create cost (sequential workloads only; 0 when not measured).
    pub worst_wru: f64,
    /// Puts refused because the id was taken.
    pub failed_puts: usize,
}

/// Surnames the generated persons share, so `ByLastName` keys repeat as real names do.
const SURNAMES: [&str; 8] = [
    "Conway", "Block", "Robiner", "May", "Lovelace", "Hopper", "Turing", "Liskov",
];

/// The `n`th person of a realistic mix (about 100-byte items): 2 in 5 state an age, 2 in 5 a
/// graduation date only, 1 in 5 neither; `id` when the client chooses it.
fn person(n: usize, id: Option<usize>) -> EventRequest {
    let age = (n % 5 < 2).then_some(n % 151);
    let graduated = (n % 5 >= 2 && n % 5 < 4)
        .then(|| format!("{}-{:02}-{:02}", 1930 + n % 90, 1 + n % 12, 1 + n % 28));
    let body = json!({
        "ID": id, "First": format!("Ada{n}"), "Last": SURNAMES[n % SURNAMES.len()],
        "Age": age, "GithubAcct": format!("user{n}"), "Date of 3rd Grade Graduation": graduated,
    });
    EventRequest {
        function: "people-create",
        method: "POST".into(),
        path_and_query: "/people".into(),
        content_type: Some("application/json".into()),
        body: body.to_string(),
        idempotency_key: None,
    }
}

/// Sends a request that must answer `status`.
async fn send(api: &Api, request: &EventRequest, status: u16) {
    let reply = request.send(api).await;
    assert_eq!(reply.status, status, "{}", reply.text());
}

/// Fresh tables behind a fresh meter and `instances` APIs on them, each with its own stores.
async fn instances(instances: usize) -> (Meter, Vec<Api>) {
    let meter = Meter::start(&dynalite_endpoint()).await;
    let tables = DynamoTables::create_at(meter.endpoint()).await;
    let mut apis = Vec::new();
    for _ in 0..instances {
        let state = dynamodb_state_on(tables.client.clone(), tables.names.clone());
        apis.push(Api::serve(state).await);
    }
    (meter, apis)
}

fn failed_puts(units: &Units, stored: usize) -> usize {
    let puts = units
        .operations()
        .iter()
        .filter(|op| **op == "PutItem")
        .count();
    puts.saturating_sub(stored)
}

/// `requests` one after the other through one API, each answering `status`.
async fn sequential(
    workload: &'static str,
    setup: Vec<EventRequest>,
    requests: Vec<EventRequest>,
    status: u16,
) -> Amortized {
    let (meter, apis) = instances(1).await;
    let api = &apis[0];
    for request in &setup {
        send(api, request, 201).await;
    }
    let mut total = Units::default();
    let mut worst_wru: f64 = 0.0;
    meter.take();
    for request in &requests {
        send(api, request, status).await;
        let units = meter.take();
        worst_wru = worst_wru.max(units.wru);
        total.rru += units.rru;
        total.wru += units.wru;
        total.per_op.extend(units.per_op);
    }
    let stored = if status == 201 { requests.len() } else { 0 };
    Amortized {
        workload,
        creates: requests.len(),
        failed_puts: failed_puts(&total, stored),
        units: total,
        worst_wru,
    }
}

/// `creates` creates without `ID` from `INSTANCES` APIs at once, each sending in turn.
async fn concurrent(creates: usize) -> Amortized {
    let (meter, apis) = instances(INSTANCES).await;
    meter.take();
    let sends = apis.iter().enumerate().map(|(i, api)| async move {
        for n in (i..creates).step_by(INSTANCES) {
            send(api, &person(n, None), 201).await;
        }
    });
    join_all(sends).await;
    let units = meter.take();
    Amortized {
        workload: "without `ID`, 8 API instances at once",
        creates,
        failed_puts: failed_puts(&units, creates),
        units,
        worst_wru: 0.0,
    }
}

/// Every workload of the README, `creates` each (the 409s: a tenth of that).
pub async fn measure(creates: usize) -> Vec<Amortized> {
    let new = |ids: bool| -> Vec<EventRequest> {
        (1..=creates).map(|n| person(n, ids.then_some(n))).collect()
    };
    let taken: Vec<EventRequest> = (1..=creates / 10).map(|n| person(n, Some(1))).collect();
    vec![
        sequential(
            "without `ID`, from an empty directory",
            vec![],
            new(false),
            201,
        )
        .await,
        sequential("with `ID` (1, 2, ...)", vec![], new(true), 201).await,
        sequential(
            "without `ID`, into the largest directory (279 groups)",
            largest_directory(),
            new(false),
            201,
        )
        .await,
        concurrent(creates).await,
        sequential("a taken `ID` (409)", vec![person(0, Some(1))], taken, 409).await,
    ]
}

/// The README table of the workloads.
pub fn table(results: &[Amortized]) -> String {
    let mut out = String::from(
        "| workload | requests | WRU / request | RRU / request | failed puts | most WRU of one request |\n|---|---:|---:|---:|---:|---:|\n",
    );
    for r in results {
        let per = |units: f64| units / r.creates.max(1) as f64;
        let worst = if r.worst_wru > 0.0 {
            format!("{}", r.worst_wru)
        } else {
            "-".into()
        };
        out.push_str(&format!(
            "| {} | {} | {:.3} | {:.3} | {} | {worst} |\n",
            r.workload,
            r.creates,
            per(r.units.wru),
            per(r.units.rru),
            r.failed_puts,
        ));
    }
    out
}
