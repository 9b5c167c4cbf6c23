//! The idempotency key store's contract, run against both adapters (SQLite, moto, dynalite):
//! one claim of a free key wins, a held key answers what it holds, a lease runs out, a record
//! expires, only the holder's token completes or frees it.

use futures_util::future::join_all;
use tally::once::{Answer, Claim, Record, KEPT_SECONDS, LEASE_SECONDS};
use tally_tests::{Engine, Stores};

const NOW: i64 = 1_796_000_000;

fn answer() -> Answer {
    Answer {
        status: 201,
        content_type: "application/json".into(),
        location: Some("/people/7".into()),
        body: br#"{"ID":7}"#.to_vec(),
    }
}

fn token(claim: Claim) -> String {
    match claim {
        Claim::New(token) => token,
        other => panic!("not claimed: {other:?}"),
    }
}

async fn a_claimed_key_answers_in_flight_then_its_answer_then_expires(engine: Engine) {
    let stores = Stores::on(engine).await;
    let keys = &stores.state.keys;
    let first = Record::claim("f", NOW);
    let held = token(keys.claim("k", &first, NOW).await.expect("claim"));
    let again = Record::claim("f", NOW + 1);
    assert_eq!(
        keys.claim("k", &again, NOW + 1).await.expect("claim"),
        Claim::InFlight
    );
    let other = Record::claim("g", NOW + 1);
    assert_eq!(
        keys.claim("k", &other, NOW + 1).await.expect("claim"),
        Claim::OtherRequest
    );
    keys.complete("k", "not-the-holder", &answer())
        .await
        .expect("ignored");
    assert_eq!(
        keys.claim("k", &again, NOW + 1).await.expect("claim"),
        Claim::InFlight
    );
    keys.complete("k", &held, &answer())
        .await
        .expect("complete");
    let later = NOW + LEASE_SECONDS + 5;
    assert_eq!(
        keys.claim("k", &again, later).await.expect("claim"),
        Claim::Done(answer())
    );
    let expired = NOW + KEPT_SECONDS;
    token(
        keys.claim("k", &Record::claim("g", expired), expired)
            .await
            .expect("claim"),
    );
}

async fn a_released_key_or_a_dead_claim_is_free_again(engine: Engine) {
    let stores = Stores::on(engine).await;
    let keys = &stores.state.keys;
    let held = token(
        keys.claim("r", &Record::claim("f", NOW), NOW)
            .await
            .expect("claim"),
    );
    keys.release("r", "not-the-holder").await.expect("ignored");
    let retry = Record::claim("f", NOW + 1);
    assert_eq!(
        keys.claim("r", &retry, NOW + 1).await.expect("claim"),
        Claim::InFlight
    );
    keys.release("r", &held).await.expect("release");
    token(keys.claim("r", &retry, NOW + 1).await.expect("claim"));
    let after_lease = NOW + 1 + LEASE_SECONDS;
    let other = Record::claim("g", after_lease);
    token(
        keys.claim("r", &other, after_lease)
            .await
            .expect("a dead claim is taken over"),
    );
}

async fn of_50_concurrent_claims_of_a_key_one_wins(engine: Engine) {
    let stores = Stores::on(engine).await;
    let keys = &stores.state.keys;
    let records: Vec<Record> = (0..50).map(|_| Record::claim("f", NOW)).collect();
    let claims = join_all(records.iter().map(|r| keys.claim("race", r, NOW))).await;
    let won = claims
        .into_iter()
        .map(|c| c.expect("claim"))
        .filter(|c| matches!(c, Claim::New(_)))
        .count();
    assert_eq!(won, 1);
}

on_every_store!(
    a_claimed_key_answers_in_flight_then_its_answer_then_expires,
    a_released_key_or_a_dead_claim_is_free_again,
    of_50_concurrent_claims_of_a_key_one_wins,
);
