//! The person store's contract and the importer, run against both adapters.

use std::collections::BTreeSet;
use std::sync::Arc;
use tally::date;
use tally::http::cursor::PageRequest;
use tally::people::age::{self, AgePosition};
use tally::people::import::{import, Report, RowError};
use tally::people::{ids_by_last_name, Details, Person, PersonId, PersonStore};
use tally_local::people::ORIGINAL_CSV;
use tally_tests::{Engine, Stores};
use time::Date;

fn day(iso: &str) -> Date {
    date::parse(iso, Date::MAX).expect("YYYY-MM-DD")
}

fn person(id: u64, last: &str, age: Option<u8>, graduated: Option<&str>) -> Person {
    Person {
        id,
        details: Details {
            first: None,
            last: Some(last.into()),
            age,
            github: None,
            graduated: graduated.map(day),
        },
    }
}

fn id(raw: u64) -> PersonId {
    PersonId::new(i64::try_from(raw).expect("small")).expect("valid id")
}

async fn all_ids(store: &dyn PersonStore) -> Vec<u64> {
    let people = store.list(None, 10_000).await.expect("list");
    people.iter().map(|p| p.id).collect()
}

async fn insert_refuses_taken_ids_and_upsert_overwrites(engine: Engine) {
    let stores = Stores::on(engine).await;
    let store = stores.state.people.store.as_ref();
    let ann = person(7, "Ann", Some(30), Some("2001-06-25"));
    assert!(store.insert(&ann).await.expect("insert"));
    assert!(!store
        .insert(&person(7, "Other", None, None))
        .await
        .expect("insert"));
    assert_eq!(store.get(id(7)).await.expect("get"), Some(ann));
    let changed = person(7, "Changed", None, None);
    store.upsert(&changed).await.expect("upsert");
    assert_eq!(store.get(id(7)).await.expect("get"), Some(changed));
    assert_eq!(store.get(id(8)).await.expect("get"), None);
}

async fn new_ids_are_above_every_stored_id(engine: Engine) {
    let stores = Stores::on(engine).await;
    let store = stores.state.people.store.as_ref();
    let details = person(1, "Auto", None, None).details;
    assert_eq!(
        store.insert_new(&details).await.expect("new").map(|p| p.id),
        Some(1)
    );
    assert!(store
        .insert(&person(500, "High", None, None))
        .await
        .expect("insert"));
    assert_eq!(
        store.insert_new(&details).await.expect("new").map(|p| p.id),
        Some(501)
    );
    store
        .upsert(&person(900, "Imported", None, None))
        .await
        .expect("upsert");
    assert!(store
        .insert(&person(20, "Low", None, None))
        .await
        .expect("insert"));
    assert_eq!(
        store.insert_new(&details).await.expect("new").map(|p| p.id),
        Some(901)
    );
}

async fn concurrent_new_and_explicit_ids_never_collide(engine: Engine) {
    let stores = Stores::on(engine).await;
    let store: Arc<dyn PersonStore> = Arc::clone(&stores.state.people.store);
    let mut tasks = tokio::task::JoinSet::new();
    for n in 1..=100u64 {
        let store = Arc::clone(&store);
        tasks.spawn(async move {
            let details = person(0, &format!("auto{n}"), None, None).details;
            store.insert_new(&details).await.expect("new").map(|p| p.id)
        });
    }
    for explicit in 1..=20u64 {
        let store = Arc::clone(&store);
        tasks.spawn(async move {
            let p = person(explicit * 5, "explicit", None, None);
            store.insert(&p).await.expect("insert").then_some(p.id)
        });
    }
    let mut stored = Vec::new();
    while let Some(result) = tasks.join_next().await {
        stored.extend(result.expect("task"));
    }
    stored.sort_unstable();
    let distinct: BTreeSet<u64> = stored.iter().copied().collect();
    assert_eq!(distinct.len(), stored.len(), "an id was handed out twice");
    assert!(stored.len() >= 100, "every new id was stored");
    assert_eq!(all_ids(store.as_ref()).await, stored);
}

async fn list_resumes_after_an_id_in_order(engine: Engine) {
    let stores = Stores::on(engine).await;
    let store = stores.state.people.store.as_ref();
    for n in [5, 1, 12, 3, 9] {
        store
            .upsert(&person(n, "x", None, None))
            .await
            .expect("upsert");
    }
    assert_eq!(all_ids(store).await, vec![1, 3, 5, 9, 12]);
    let after: Vec<u64> = store
        .list(Some(3), 2)
        .await
        .expect("list")
        .iter()
        .map(|p| p.id)
        .collect();
    assert_eq!(after, vec![5, 9]);
}

async fn last_names_match_ignoring_case_and_surrounding_space(engine: Engine) {
    let stores = Stores::on(engine).await;
    let store = stores.state.people.store.as_ref();
    for (n, last) in [
        (3, "Robiner"),
        (1, "Conway"),
        (7, "ROBINER"),
        (6, "robiner"),
        (9, "Ébert"),
    ] {
        store
            .upsert(&person(n, last, None, None))
            .await
            .expect("upsert");
    }
    let ids = |name: &'static str| async move { ids_by_last_name(store, name).await.expect("ids") };
    assert_eq!(ids("  rObInEr ").await, vec![3, 6, 7]);
    assert_eq!(ids("ébert").await, vec![9]);
    assert_eq!(ids("nobody").await, Vec::<u64>::new());
    assert_eq!(ids("   ").await, Vec::<u64>::new());
}

/// Walks `/people/age` as of `today` in pages of `limit`, returning (effective age, id).
async fn walk(store: &dyn PersonStore, today: Date, limit: usize) -> Vec<(Option<u32>, u64)> {
    tally_tests::walk_pages(limit, |after: Option<AgePosition>| async move {
        let page = age::page(store, &PageRequest { limit, after }, today)
            .await
            .expect("page");
        let seen = page.items.iter().map(|p| (p.position().age, p.person.id));
        (seen.collect(), page.next)
    })
    .await
}

async fn age_order_is_effective_age_then_id_with_unplaced_last(engine: Engine) {
    let stores = Stores::on(engine).await;
    let store = stores.state.people.store.as_ref();
    let today = day("2025-06-15");
    let people = [
        person(1, "stated 46", Some(46), Some("1950-01-01")),
        person(2, "anniversary today: 9 + 37", None, Some("1988-06-15")),
        person(3, "anniversary tomorrow: 9 + 36", None, Some("1988-06-16")),
        person(4, "unplaced", None, None),
        person(5, "stated 45", Some(45), None),
        person(6, "9 + 36", None, Some("1989-01-01")),
        person(7, "graduated today: 9", None, Some("2025-06-15")),
        person(8, "unplaced", None, None),
        person(9, "stated 0", Some(0), None),
    ];
    for p in &people {
        store.upsert(p).await.expect("upsert");
    }
    let expected = vec![
        (Some(0), 9),
        (Some(9), 7),
        (Some(45), 3),
        (Some(45), 5),
        (Some(45), 6),
        (Some(46), 1),
        (Some(46), 2),
        (None, 4),
        (None, 8),
    ];
    assert_eq!(walk(store, today, 100).await, expected);
    assert_eq!(walk(store, today, 2).await, expected, "pages of 2");
    assert_eq!(walk(store, today, 1).await, expected, "pages of 1");
    let next_day = walk(store, day("2025-06-16"), 3).await;
    assert!(next_day.contains(&(Some(46), 3)), "{next_day:?}");
}

async fn import_loads_the_original_csv_and_twice_changes_nothing(engine: Engine) {
    let stores = Stores::on(engine).await;
    let store = stores.state.people.store.as_ref();
    let today = date::today();
    let first = import(store, ORIGINAL_CSV, today).await.expect("import");
    assert_eq!(
        first,
        Report {
            loaded: 7,
            skipped: vec![]
        }
    );
    let before = store.list(None, 100).await.expect("list");
    assert_eq!(before.len(), 7);
    assert_eq!(
        before[1].details.graduated.map(date::format).as_deref(),
        Some("1940-06-24")
    );
    assert_eq!(before[2].details.first, None);
    assert_eq!(before[4].details.last, None);
    assert_eq!(before[4].details.graduated, None);
    let again = import(store, ORIGINAL_CSV, today).await.expect("import");
    assert_eq!(again.loaded, 7);
    assert_eq!(store.list(None, 100).await.expect("list"), before);
    assert_eq!(
        store
            .insert_new(&before[0].details)
            .await
            .expect("new")
            .map(|p| p.id),
        Some(8)
    );
}

async fn bad_rows_are_reported_by_line_and_the_rest_loads(engine: Engine) {
    let stores = Stores::on(engine).await;
    let store = stores.state.people.store.as_ref();
    let csv = "\u{feff}ID,First,Last,Age,GithubAcct,Date of 3rd Grade Graduation\r\n\
               1,Ann,Lee,,,6/25/01\r\n\
               2,Bob,Ray,old,,\r\n\
               \"3\",\"Multi\r\nline\",Kay,40,,\r\n\
               4,,,,,\r\n\
               5,Eve,Ng,30,,2/30/2001\r\n\
               1,Dup,Lee,,,\r\n\
               six,F,G,,,\r\n\
               7,Too,Many,1,2,3,4\r\n\
               8,Last,Row,151,,";
    let report = import(store, csv.as_bytes(), date::today())
        .await
        .expect("import");
    let lines: Vec<u64> = report.skipped.iter().map(|e: &RowError| e.line).collect();
    assert_eq!(lines, vec![3, 6, 7, 8, 9, 10, 11], "{:?}", report.skipped);
    let messages: Vec<String> = report.skipped.iter().map(ToString::to_string).collect();
    for (message, field) in messages.iter().zip([
        "Age",
        "First and Last",
        "Date of 3rd Grade Graduation",
        "ID",
        "ID",
        "row",
        "Age",
    ]) {
        assert!(message.contains(&format!(": {field}: ")), "{message}");
    }
    assert_eq!(report.loaded, 2);
    assert_eq!(all_ids(store).await, vec![1, 3]);
    let multi = store.get(id(3)).await.expect("get").expect("row 3");
    assert_eq!(multi.details.first.as_deref(), Some("Multi\r\nline"));
}

async fn a_changed_row_overwrites_on_import(engine: Engine) {
    let stores = Stores::on(engine).await;
    let store = stores.state.people.store.as_ref();
    let header = "ID,First,Last,Age,GithubAcct,Date of 3rd Grade Graduation\n";
    let today = date::today();
    let first = format!("{header}1,Ann,Lee,30,,\n");
    import(store, first.as_bytes(), today)
        .await
        .expect("import");
    let changed = format!("{header}1,Ann,Lee,,ann,1/1/2000\n");
    import(store, changed.as_bytes(), today)
        .await
        .expect("import");
    let stored = store.get(id(1)).await.expect("get").expect("person 1");
    assert_eq!(
        (stored.details.age, stored.details.github.as_deref()),
        (None, Some("ann"))
    );
    let by_age = walk(store, today, 10).await;
    assert_eq!(by_age.len(), 1, "the person moved groups: {by_age:?}");
    assert!(by_age[0].0.is_some_and(|age| age >= 9 + 26));
}

async fn a_file_with_another_header_is_refused_whole(engine: Engine) {
    let stores = Stores::on(engine).await;
    let store = stores.state.people.store.as_ref();
    let err = import(store, "id,name\n1,Ann\n".as_bytes(), date::today())
        .await
        .expect_err("wrong header");
    assert!(err.to_string().starts_with("line 1: "), "{err}");
    assert!(store.is_empty().await.expect("empty"));
}

on_every_store!(
    insert_refuses_taken_ids_and_upsert_overwrites,
    new_ids_are_above_every_stored_id,
    concurrent_new_and_explicit_ids_never_collide,
    list_resumes_after_an_id_in_order,
    last_names_match_ignoring_case_and_surrounding_space,
    age_order_is_effective_age_then_id_with_unplaced_last,
    import_loads_the_original_csv_and_twice_changes_nothing,
    bad_rows_are_reported_by_line_and_the_rest_loads,
    a_changed_row_overwrites_on_import,
    a_file_with_another_header_is_refused_whole,
);
