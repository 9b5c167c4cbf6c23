//! The meter on a real DynamoDB-protocol server (dynalite): it measures what the items cost.

use tally::visits::VisitId;
use tally_tests::bench::cost::MeteredApi;
use tally_tests::bench::realistic::scenario;
use tally_tests::events::EventRequest;
use tally_tests::meter::Meter;
use tally_tests::stub::{Behaviour, StubServer};
use tally_tests::{dynalite_endpoint, DynamoTables};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_counter_increment_costs_the_item_and_its_index_entries() {
    let meter = Meter::start(&dynalite_endpoint()).await;
    let state = DynamoTables::create_at(meter.endpoint()).await.state();
    meter.take();
    let id = VisitId::parse("id", "alice").expect("id");
    state.visits.store.increment(&id).await.expect("first");
    let first = meter.take();
    state.visits.store.increment(&id).await.expect("second");
    let second = meter.take();
    eprintln!("{first:?}\n{second:?}");
    assert_eq!(first.operations(), ["UpdateItem"]);
    assert_eq!((first.rru, first.wru), (0.0, 1.0), "{first:?}");
    // The second count enters `ByRank`: ADD (1), then SET rank (1) and the new entry (1).
    assert_eq!(second.operations(), ["UpdateItem", "UpdateItem"]);
    assert_eq!((second.rru, second.wru), (0.0, 3.0), "{second:?}");
    state.visits.store.count(&id).await.expect("count");
    let read = meter.take();
    assert_eq!((read.rru, read.wru), (1.0, 0.0), "{read:?}");
}

/// A 5,000-byte item: its writes cost 5 WRU (a failed conditional put too, on the item as it
/// is), its reads 2 RRU per 4 KB of the whole item whatever they project, and a table Query
/// the items it read before its filter.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_and_reads_are_billed_on_the_whole_item() {
    use aws_sdk_dynamodb::types::AttributeValue::{N, S};
    let meter = Meter::start(&dynalite_endpoint()).await;
    let tables = DynamoTables::create_at(meter.endpoint()).await;
    let (client, table) = (&tables.client, &tables.names.visits);
    let pad = "x".repeat(5000 - "id".len() - "a".len() - "pad".len());
    let put = || {
        client
            .put_item()
            .table_name(table)
            .item("shard", N("0".into()))
            .item("id", S("a".into()))
            .item("pad", S(pad.clone()))
    };
    put().send().await.expect("put");
    assert_eq!(meter.take().wru, 5.0);
    let failed = put()
        .condition_expression("attribute_not_exists(id)")
        .send()
        .await;
    assert!(failed.is_err(), "the condition fails");
    assert_eq!(meter.take().wru, 5.0, "a failed condition is billed");
    let get = client
        .get_item()
        .table_name(table)
        .key("shard", N("0".into()))
        .key("id", S("a".into()));
    get.clone()
        .projection_expression("id")
        .send()
        .await
        .expect("get");
    assert_eq!(meter.take().rru, 1.0, "eventually consistent, 2 x 4 KB");
    get.consistent_read(true).send().await.expect("get");
    assert_eq!(meter.take().rru, 2.0);
    client
        .query()
        .table_name(table)
        .key_condition_expression("#s = :s AND id = :a")
        .expression_attribute_names("#s", "shard")
        .expression_attribute_values(":s", N("0".into()))
        .filter_expression("attribute_not_exists(#p) AND #c > :n")
        .expression_attribute_names("#c", "count")
        .expression_attribute_names("#p", "pad")
        .expression_attribute_values(":a", S("a".into()))
        .expression_attribute_values(":n", N("0".into()))
        .send()
        .await
        .expect("query");
    let query = meter.take();
    assert_eq!(query.rru, 1.0, "the filtered-out item is read: {query:?}");
    client
        .delete_item()
        .table_name(table)
        .key("shard", N("0".into()))
        .key("id", S("a".into()))
        .send()
        .await
        .expect("delete");
    assert_eq!(meter.take().wru, 5.0);
}

/// dynalite counts each table write itself (`ReturnConsumedCapacity`, from its own item sizes;
/// not its indexes): on every event and on the ASCII realistic requests (a 1,024-byte path,
/// 1,000 actions of about 1.1 KB) the meter's table units agree. (dynalite counts a string's
/// UTF-16 units where DynamoDB counts UTF-8 bytes, so wider characters would differ.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn table_write_units_agree_with_dynalites_own_count() {
    let ad_server = StubServer::start(Behaviour::Xml).await;
    let api = MeteredApi::start(&ad_server).await;
    let mut requests = EventRequest::all();
    for function in ["stats-count", "logs-record"] {
        let scenario = scenario(function).expect("a scenario");
        requests.extend(scenario.setup.into_iter().chain([scenario.request]));
    }
    let mut checked = 0;
    for request in requests {
        for op in api.measure(&request).await.per_op {
            if let Some(reported) = op.reported {
                assert_eq!(
                    op.table_units(),
                    reported,
                    "{}: {op:?}",
                    request.path_and_query
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 10, "only {checked} writes reported");
}

/// A workload (N requests on Zipf-distributed keys) through the meter: its total is every
/// request's units, each increment writing at least its counter.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_workload_totals_the_units_of_its_requests() {
    let ad_server = StubServer::start(Behaviour::Xml).await;
    let api = MeteredApi::start(&ad_server).await;
    let keys = tally_tests::bench::workload::zipf(20, 1.0, 100, 1);
    let requests = keys
        .iter()
        .map(|k| EventRequest::plain("POST", &format!("/counters/visitor-{k}")));
    let units = api.run(requests).await;
    let per_op: f64 = units.per_op.iter().map(|op| op.wru).sum();
    assert_eq!(units.wru, per_op);
    assert!(units.wru >= 100.0, "{}", units.wru);
}
