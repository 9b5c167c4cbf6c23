//! The meter on a real DynamoDB-protocol server (dynalite): it measures what the items cost.

use tally::visits::VisitId;
use tally_tests::meter::Meter;
use tally_tests::{dynalite_endpoint, DynamoTables};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_counter_increment_costs_the_item_and_its_index_entries() {
    let meter = Meter::start(&dynalite_endpoint()).await;
    let state = DynamoTables::create_at(meter.endpoint()).await.state();
    meter.take();
    let id = VisitId::parse("id", "alice").expect("id");
    state.visits.increment(&id).await.expect("first");
    let first = meter.take();
    state.visits.increment(&id).await.expect("second");
    let second = meter.take();
    eprintln!("{first:?}\n{second:?}");
    assert_eq!(first.operations(), ["UpdateItem"]);
    assert_eq!((first.rru, first.wru), (0.0, 3.0), "{first:?}");
    assert_eq!((second.rru, second.wru), (0.0, 4.0), "{second:?}");
    state.visits.count(&id).await.expect("count");
    let read = meter.take();
    assert_eq!((read.rru, read.wru), (1.0, 0.0), "{read:?}");
}
