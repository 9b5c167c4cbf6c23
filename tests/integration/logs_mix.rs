//! The simulated log mix (`bench logs-mix`) counts each request with `LogBatch::write_units`;
//! here the meter measures the same bodies on a real DynamoDB-protocol server, so the
//! simulation's units are the ones DynamoDB's rules give the items really written.

use tally::logs::LogBatch;
use tally_tests::bench::cost::MeteredApi;
use tally_tests::bench::logs_mix::{requests, Content, Mix};
use tally_tests::events::EventRequest;
use tally_tests::stub::{Behaviour, StubServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_simulated_units_of_a_log_request_are_the_metered_ones() {
    let ad_server = StubServer::start(Behaviour::Xml).await;
    let api = MeteredApi::start(&ad_server).await;
    for content in [Content::Json, Content::Noise] {
        let mix = Mix {
            batches: 6,
            seed: 5,
            content,
        };
        let small: Vec<_> = requests(mix)
            .into_iter()
            .filter(|(_, sizes)| sizes.len() <= 40)
            .collect();
        assert!(
            small.len() >= 2,
            "{content:?}: {} small requests",
            small.len()
        );
        for (body, sizes) in small {
            let estimated = LogBatch::parse(body.as_bytes())
                .expect("valid")
                .write_units();
            let request = EventRequest {
                function: "logs-record",
                content_type: Some("application/json".into()),
                body,
                ..EventRequest::plain("POST", "/log")
            };
            let measured = api.measure(&request).await.wru;
            // The estimate allows for an expiry attribute, which these tables do not write.
            assert!(
                measured <= estimated as f64 && estimated as f64 - measured <= 1.0,
                "{content:?}, {} actions: measured {measured}, estimated {estimated}",
                sizes.len()
            );
        }
    }
}
