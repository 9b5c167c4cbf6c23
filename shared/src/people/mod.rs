//! The people directory (contract section B): persons, their validation, the store trait and
//! the domain operations behind each route.

pub mod age;
pub(crate) mod dynamodb;
mod ids;
#[cfg(feature = "import")]
pub mod import;
pub mod input;
#[cfg(feature = "embedded")]
pub(crate) mod sqlite;

use crate::date;
use crate::http::cursor::{Page, PageRequest};
use crate::{ApiError, StoreError};
use age::{AgeGroup, GroupQuery};
use async_trait::async_trait;
use serde::{Serialize, Serializer};
use time::Date;

/// The JSON (and CSV) name of the graduation date.
pub const DATE_FIELD: &str = "Date of 3rd Grade Graduation";
/// Ids are positive integers below 2^53, so every JSON client reads them exactly.
pub const MAX_ID: u64 = (1 << 53) - 1;
/// The largest `ID` a client may choose: the range of the original MySQL `INT` column. Kept
/// far below `MAX_ID`, so no client can take the ids that assignment hands out.
pub const MAX_CHOSEN_ID: u64 = (1 << 31) - 1;
/// The longest last-name key an index can hold; longer lookups cannot match anyone.
pub const MAX_KEY_BYTES: usize = 1024;

/// A valid person id: 1..=2^53-1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PersonId(u64);

impl PersonId {
    pub fn new(raw: i64) -> Result<Self, ApiError> {
        Self::within(raw, MAX_ID)
    }

    /// An id a client chose (a `POST /people` body, an imported row): at most `MAX_CHOSEN_ID`.
    pub fn chosen(raw: i64) -> Result<Self, ApiError> {
        Self::within(raw, MAX_CHOSEN_ID)
    }

    fn within(raw: i64, max: u64) -> Result<Self, ApiError> {
        u64::try_from(raw)
            .ok()
            .filter(|id| (1..=max).contains(id))
            .map(PersonId)
            .ok_or_else(|| ApiError::field("ID", format!("must be an integer from 1 to {max}")))
    }

    /// An id from a path segment, where anything but such an integer is a 400.
    pub fn parse(field: &str, raw: &str) -> Result<Self, ApiError> {
        raw.parse::<i64>()
            .ok()
            .and_then(|n| PersonId::new(n).ok())
            .ok_or_else(|| ApiError::field(field, format!("must be an integer from 1 to {MAX_ID}")))
    }

    pub fn get(self) -> u64 {
        self.0
    }
}

/// Everything about a person but the id; every field already validated and normalised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Details {
    #[serde(rename = "First")]
    pub first: Option<String>,
    #[serde(rename = "Last")]
    pub last: Option<String>,
    #[serde(rename = "Age")]
    pub age: Option<u8>,
    #[serde(rename = "GithubAcct")]
    pub github: Option<String>,
    #[serde(rename = "Date of 3rd Grade Graduation", serialize_with = "iso_date")]
    pub graduated: Option<Date>,
}

fn iso_date<S: Serializer>(value: &Option<Date>, out: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(d) => out.serialize_str(&date::format(*d)),
        None => out.serialize_none(),
    }
}

impl Details {
    /// The key `/ids/lastname` matches on: the trimmed last name in Unicode lowercase.
    pub fn last_key(&self) -> Option<String> {
        self.last.as_deref().and_then(last_name_key)
    }

    /// Which group `/people/age` finds this person in.
    pub fn age_group(&self) -> AgeGroup {
        match (self.age, self.graduated) {
            (Some(age), _) => AgeGroup::Stated(age),
            (None, Some(date)) => AgeGroup::Graduated(date.year()),
            (None, None) => AgeGroup::Unplaced,
        }
    }
}

/// A stored person, serialised with the contract's field names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Person {
    #[serde(rename = "ID")]
    pub id: u64,
    #[serde(flatten)]
    pub details: Details,
}

/// The normalised form of a last name; `None` when blank or too long to be stored.
pub fn last_name_key(raw: &str) -> Option<String> {
    let key = raw.trim().to_lowercase();
    (!key.is_empty() && key.len() <= MAX_KEY_BYTES).then_some(key)
}

/// Storage of people. Writes must be atomic per person; `insert_new` must never reuse an id.
#[async_trait]
pub trait PersonStore: Send + Sync {
    /// Stores `details` under a new id above every id stored so far; `None` when none is left.
    async fn insert_new(&self, details: &Details) -> Result<Option<Person>, StoreError>;
    /// Stores `person` only if its id is free; `false` when it is taken.
    async fn insert(&self, person: &Person) -> Result<bool, StoreError>;
    /// Stores `person`, overwriting whoever had its id (the importer).
    async fn upsert(&self, person: &Person) -> Result<(), StoreError>;
    /// The person with this id, read consistently.
    async fn get(&self, id: PersonId) -> Result<Option<Person>, StoreError>;
    /// Up to `limit` persons with ids above `after`, by id.
    async fn list(&self, after: Option<u64>, limit: usize) -> Result<Vec<Person>, StoreError>;
    /// The ids of persons whose last-name key is `key`, ascending.
    async fn ids_by_last_name(&self, key: &str) -> Result<Vec<u64>, StoreError>;
    /// Every age group that has (or once had) someone in it.
    async fn age_groups(&self) -> Result<Vec<AgeGroup>, StoreError>;
    /// Up to `limit` persons of one group (and part of the year), ids above `after`, by id.
    async fn in_group(
        &self,
        query: &GroupQuery,
        after: Option<u64>,
        limit: usize,
    ) -> Result<Vec<Person>, StoreError>;
    /// Whether no person is stored (cheap: reads at most one item).
    async fn is_empty(&self) -> Result<bool, StoreError>;
    /// How many persons each age group holds, from counters kept at write time (one read).
    async fn group_counts(&self) -> Result<Vec<(AgeGroup, u64)>, StoreError>;
}

/// `POST /people`: stores the person under its own id if free, else under a new one.
pub async fn create(
    store: &dyn PersonStore,
    id: Option<PersonId>,
    details: Details,
) -> Result<Person, ApiError> {
    let Some(id) = id else {
        return store
            .insert_new(&details)
            .await?
            .ok_or_else(|| ApiError::Conflict(format!("ID: no free id is left up to {MAX_ID}")));
    };
    let person = Person {
        id: id.get(),
        details,
    };
    // A taken id is 409 even when the stored person is the one sent (the contract: "an
    // existing ID is 409"); a client's retry of an applied create so stores nothing twice.
    if store.insert(&person).await? {
        Ok(person)
    } else {
        Err(ApiError::Conflict(format!(
            "ID: {} is already taken",
            id.get()
        )))
    }
}

/// One page of `/people`, the cursor being the last id shown.
pub async fn list_page(
    store: &dyn PersonStore,
    page: &PageRequest<u64>,
) -> Result<Page<Person, u64>, StoreError> {
    let items = store.list(page.after, page.limit + 1).await?;
    Ok(Page::from_lookahead(items, page.limit, |p| p.id))
}

/// `/ids/lastname/{lastname}`: every matching id, ascending.
pub async fn ids_by_last_name(store: &dyn PersonStore, raw: &str) -> Result<Vec<u64>, StoreError> {
    // A key too long to be stored names nobody (and DynamoDB would refuse the Query).
    match last_name_key(raw) {
        Some(key) if key.len() <= crate::store::keys::MAX_PARTITION_KEY_BYTES => {
            store.ids_by_last_name(&key).await
        }
        _ => Ok(Vec::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::date::tests::day;

    #[test]
    fn persons_serialise_with_the_contract_names_in_order() {
        let person = Person {
            id: 2,
            details: Details {
                first: Some("David".into()),
                last: Some("Block".into()),
                age: Some(76),
                github: None,
                graduated: Some(day("1940-06-24")),
            },
        };
        assert_eq!(
            serde_json::to_string(&person).expect("json"),
            r#"{"ID":2,"First":"David","Last":"Block","Age":76,"GithubAcct":null,"Date of 3rd Grade Graduation":"1940-06-24"}"#
        );
    }

    #[test]
    fn last_name_keys_ignore_case_and_surrounding_space() {
        assert_eq!(last_name_key("  RoBiner ").as_deref(), Some("robiner"));
        assert_eq!(last_name_key("ÉCOLE").as_deref(), Some("école"));
        assert_eq!(last_name_key("   "), None);
        assert_eq!(last_name_key(&"x".repeat(MAX_KEY_BYTES + 1)), None);
    }

    #[test]
    fn path_ids_are_positive_integers_below_2_pow_53() {
        assert_eq!(PersonId::parse("id", "7").map(PersonId::get).ok(), Some(7));
        for bad in ["0", "-1", "x", "9007199254740992", "1.0", ""] {
            assert!(PersonId::parse("id", bad).is_err(), "{bad}");
        }
    }
}
