//! The people directory in DynamoDB. Key design (see `docs/people.md` and `template.yaml`):
//!
//! - table key (`shard`, `id`): a person lives in shard `id % SHARDS`, so `GetItem` finds it
//!   from the id alone, and `/people` is a merge of the shards read in id order (`store::merge`);
//! - shard `DIRECTORY` holds one small item per age group (sort key: the group's code) with its
//!   person count `n`, bumped by one `ADD` per written person: the group directory of
//!   `/people/age` and the dashboard's age histogram, read by one Query;
//! - `ByLastName` (`lastKey`, `id`), keys only: `/ids/lastname/{lastname}`;
//! - `ByGroup` (`group`, `id`): the groups of `age.rs`, each by id, for `/people/age`; the
//!   month and day of the graduation date (`md`) filter a year into its two halves.
//!
//! A create is one conditional put (the person and its two index entries) and one `ADD` on its
//! group's item: 4 write units. A new id is one above the highest stored id (read strongly
//! from every shard), so no item is written by every create.

use super::age::{AgeGroup, Days, GroupQuery};
use super::ids::NewIds;
use super::{date, Details, Person, PersonId, PersonStore};
use crate::store::dynamodb::{
    is_throttling, n, number, optional, query_up_to, s, send_once, Client, IndexShards, Item,
};
use crate::store::merge::merged;
use crate::StoreError;
use async_trait::async_trait;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::types::ReturnValue;
use futures_util::future::try_join_all;

const BY_LAST_NAME: &str = "ByLastName";
const BY_GROUP: &str = "ByGroup";
/// How many partitions (`shard` 0..SHARDS) the persons are spread over: each takes about
/// 1,000 writes a second, and a `/people` page or a new id reads each once.
const SHARDS: u64 = 4;
/// The partition of the group directory (person shards are 0..SHARDS).
const DIRECTORY: i64 = -1;
/// Sends of one conditional put DynamoDB throttled (so applied nothing) before giving up.
const PUT_ATTEMPTS: u32 = 3;
/// New ids are retried this often when another write took the one chosen.
const ALLOCATION_ATTEMPTS: usize = 6;

pub struct DynamoPeople {
    client: Client,
    table: String,
    ids: NewIds,
}

/// The key of the item of person `id`.
fn person_key(id: u64) -> Item {
    Item::from([
        ("shard".to_string(), n(id % SHARDS)),
        ("id".to_string(), n(id)),
    ])
}

/// The key of the directory item of `group`.
fn directory_key(group: AgeGroup) -> Item {
    Item::from([
        ("shard".to_string(), n(DIRECTORY)),
        ("id".to_string(), n(group_code(group))),
    ])
}

/// A group as the sort key of its directory item: a stated age is itself (0..=150), the
/// unplaced 1000, a graduation year 10000 + the year (years are 1900..=9999).
fn group_code(group: AgeGroup) -> i64 {
    match group {
        AgeGroup::Stated(age) => i64::from(age),
        AgeGroup::Unplaced => 1000,
        AgeGroup::Graduated(year) => 10_000 + i64::from(year),
    }
}

/// The group of a code written by `group_code`.
fn group_of_code(code: i64) -> Option<AgeGroup> {
    match code {
        1000 => Some(AgeGroup::Unplaced),
        10_000.. => i32::try_from(code - 10_000).ok().map(AgeGroup::Graduated),
        _ => u8::try_from(code).ok().map(AgeGroup::Stated),
    }
}

impl DynamoPeople {
    pub fn new(client: Client, table: String) -> Self {
        DynamoPeople {
            client,
            table,
            ids: NewIds::default(),
        }
    }

    /// A Query of one partition of the table (a person shard or the directory).
    fn partition(&self, shard: i64) -> QueryFluentBuilder {
        self.client
            .query()
            .table_name(&self.table)
            .key_condition_expression("#shard = :shard")
            .expression_attribute_names("#shard", "shard")
            .expression_attribute_values(":shard", n(shard))
    }

    /// The highest id stored, read strongly from every shard (one key each).
    async fn highest_id(&self) -> Result<u64, StoreError> {
        let reads = (0..SHARDS).map(|shard| {
            self.partition(shard as i64)
                .scan_index_forward(false)
                .limit(1)
                .consistent_read(true)
                .projection_expression("#id")
                .expression_attribute_names("#id", "id")
                .send()
        });
        let mut highest = 0;
        for out in try_join_all(reads).await? {
            for item in out.items.unwrap_or_default() {
                highest = highest.max(number(&item, "id")?);
            }
        }
        Ok(highest)
    }

    /// Adds `delta` to the person count of `group`'s directory item (creating it).
    async fn count(&self, group: AgeGroup, delta: i64) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(directory_key(group)))
            .update_expression("ADD #n :delta")
            .expression_attribute_names("#n", "n")
            .expression_attribute_values(":delta", n(delta))
            .send()
            .await?;
        Ok(())
    }

    /// After a person is written: their group gains one, a replaced person's other group loses
    /// one. Only a written person's group is ever registered, so a 409 registers none.
    async fn settle(&self, from: Option<AgeGroup>, to: AgeGroup) -> Result<(), StoreError> {
        if from == Some(to) {
            return Ok(());
        }
        self.count(to, 1).await?;
        match from {
            Some(from) => self.count(from, -1).await,
            None => Ok(()),
        }
    }

    /// Writes the person, unconditionally or `only_if_free`, then settles the directory;
    /// `false` (nothing written) when the id is taken.
    /// A conditional put is sent once by the SDK (`send_once`): resent after an attempt that
    /// was applied but slow, it would fail its own condition (a false 409, or a second id for
    /// one person). It is resent here only when DynamoDB throttled it, so applied nothing.
    async fn put(&self, person: &Person, only_if_free: bool) -> Result<bool, StoreError> {
        let mut put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(person)))
            .return_values(ReturnValue::AllOld);
        if only_if_free {
            put = put.condition_expression("attribute_not_exists(id)");
        }
        let mut attempt = 0;
        let replaced = loop {
            let sent = put
                .clone()
                .customize()
                .config_override(send_once())
                .send()
                .await;
            match sent {
                Ok(out) => break out.attributes.as_ref().map(group_of).transpose()?,
                Err(err) if is_taken(&err) => return Ok(false),
                Err(err) if is_throttling(&err) && attempt + 1 < PUT_ATTEMPTS => attempt += 1,
                Err(err) => return Err(err.into()),
            }
            tokio::time::sleep(std::time::Duration::from_millis(50 << attempt)).await;
        };
        self.settle(replaced, person.details.age_group()).await?;
        Ok(true)
    }

    /// The id a client chose is taken: the stored person's group is put in the directory if it
    /// is missing, which completes a create cut off between its put and its count (the
    /// count itself may then stay one short).
    async fn complete(&self, id: u64) -> Result<(), StoreError> {
        let Some(stored) = self.read(id).await? else {
            return Ok(());
        };
        let group = stored.details.age_group();
        let listed = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(directory_key(group)))
            .send()
            .await?;
        if listed.item.is_none() {
            self.count(group, 0).await?;
        }
        Ok(())
    }

    /// The person stored under `id`, read consistently.
    async fn read(&self, id: u64) -> Result<Option<Person>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(person_key(id)))
            .consistent_read(true)
            .send()
            .await?;
        out.item.as_ref().map(from_item).transpose()
    }

    /// Every group of the directory with its count (one Query, eventually consistent).
    async fn directory(&self) -> Result<Vec<(AgeGroup, u64)>, StoreError> {
        let items = query_up_to(self.partition(DIRECTORY), usize::MAX).await?;
        let mut groups = Vec::new();
        for item in &items {
            let code: i64 = number(item, "id")?;
            let count: i64 = number(item, "n")?;
            if let Some(group) = group_of_code(code) {
                groups.push((group, u64::try_from(count).unwrap_or(0)));
            }
        }
        groups.sort();
        Ok(groups)
    }
}

/// Whether a put failed its `attribute_not_exists(id)` condition: the id is taken.
fn is_taken<R>(err: &SdkError<PutItemError, R>) -> bool {
    err.as_service_error()
        .is_some_and(PutItemError::is_conditional_check_failed_exception)
}

/// The group a stored person item is in.
fn group_of(item: &Item) -> Result<AgeGroup, StoreError> {
    let key = optional(item, "group", |v| v.as_s().ok().cloned())?.unwrap_or_default();
    AgeGroup::from_key(&key)
        .ok_or_else(|| StoreError::Failed(format!("stored group {key} is unknown")))
}

fn to_item(person: &Person) -> Item {
    let d = &person.details;
    let mut item = person_key(person.id);
    item.insert("group".to_string(), s(d.age_group().key()));
    let mut text = |name: &str, value: Option<String>| {
        if let Some(value) = value {
            item.insert(name.to_string(), s(value));
        }
    };
    text("first", d.first.clone());
    text("last", d.last.clone());
    text("lastKey", d.last_key());
    text("github", d.github.clone());
    text("graduated", d.graduated.map(date::format));
    if let Some(age) = d.age {
        item.insert("age".into(), n(age));
    }
    if let Some(graduated) = d.graduated {
        item.insert("md".into(), n(date::month_day(graduated)));
    }
    item
}

fn from_item(item: &Item) -> Result<Person, StoreError> {
    let text = |name| optional(item, name, |v| v.as_s().ok().cloned());
    let graduated = text("graduated")?
        .map(|raw| {
            date::parse(&raw, time::Date::MAX).map_err(|e| StoreError::Failed(e.to_string()))
        })
        .transpose()?;
    Ok(Person {
        id: number(item, "id")?,
        details: Details {
            first: text("first")?,
            last: text("last")?,
            age: optional(item, "age", |v| v.as_n().ok()?.parse().ok())?,
            github: text("github")?,
            graduated,
        },
    })
}

#[async_trait]
impl PersonStore for DynamoPeople {
    async fn insert_new(&self, details: &Details) -> Result<Option<Person>, StoreError> {
        let mut floor = self.ids.highest(|| self.highest_id()).await?;
        for attempt in 0..ALLOCATION_ATTEMPTS {
            let Some(id) = self.ids.next_above(floor, self.ids.skip(attempt)) else {
                return Ok(None);
            };
            let person = Person {
                id,
                details: details.clone(),
            };
            if self.put(&person, true).await? {
                return Ok(Some(person));
            }
            self.ids.conflicted();
            floor = id;
        }
        Err(StoreError::Unavailable(
            "every new id was taken by a concurrent write".into(),
        ))
    }

    async fn insert(&self, person: &Person) -> Result<bool, StoreError> {
        let stored = self.put(person, true).await?;
        if !stored {
            self.complete(person.id).await?;
        }
        Ok(stored)
    }

    async fn upsert(&self, person: &Person) -> Result<(), StoreError> {
        self.put(person, false).await.map(drop)
    }

    async fn get(&self, id: PersonId) -> Result<Option<Person>, StoreError> {
        self.read(id.get()).await
    }

    async fn list(&self, after: Option<u64>, limit: usize) -> Result<Vec<Person>, StoreError> {
        let shards = IndexShards {
            shards: SHARDS as u32,
            query: |shard: u32, after: Option<&u64>| {
                self.partition(i64::from(shard))
                    .key_condition_expression("#shard = :shard AND #id > :after")
                    .expression_attribute_names("#id", "id")
                    .expression_attribute_values(":after", n(after.copied().unwrap_or(0)))
            },
            parse: |item: &Item| from_item(item).map(|person| (person.id, person)),
        };
        // Every shard resumes after the last id shown: the merge showed every id below it.
        let start = vec![after; SHARDS as usize];
        let page = merged(&shards, Some(&start), limit).await?;
        Ok(page
            .items
            .into_iter()
            .map(|(_, _, person)| person)
            .collect())
    }

    async fn ids_by_last_name(&self, key: &str) -> Result<Vec<u64>, StoreError> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(BY_LAST_NAME)
            .key_condition_expression("#key = :key")
            .expression_attribute_names("#key", "lastKey")
            .expression_attribute_values(":key", s(key));
        query_up_to(query, usize::MAX)
            .await?
            .iter()
            .map(|item| number(item, "id"))
            .collect()
    }

    async fn age_groups(&self) -> Result<Vec<AgeGroup>, StoreError> {
        Ok(self
            .directory()
            .await?
            .into_iter()
            .map(|(g, _)| g)
            .collect())
    }

    async fn in_group(
        &self,
        query: &GroupQuery,
        after: Option<u64>,
        limit: usize,
    ) -> Result<Vec<Person>, StoreError> {
        let mut request = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(BY_GROUP)
            .key_condition_expression("#group = :group AND #id > :after")
            .expression_attribute_names("#group", "group")
            .expression_attribute_names("#id", "id")
            .expression_attribute_values(":group", s(query.group.key()))
            .expression_attribute_values(":after", n(after.unwrap_or(0)));
        let half = match query.days {
            Days::All => None,
            Days::UpTo(md) => Some(("#md <= :md", md)),
            Days::After(md) => Some(("#md > :md", md)),
        };
        if let Some((filter, md)) = half {
            request = request
                .filter_expression(filter)
                .expression_attribute_names("#md", "md")
                .expression_attribute_values(":md", n(md));
        }
        query_up_to(request, limit)
            .await?
            .iter()
            .map(from_item)
            .collect()
    }

    async fn is_empty(&self) -> Result<bool, StoreError> {
        Ok(self.list(None, 1).await?.is_empty())
    }

    async fn group_counts(&self) -> Result<Vec<(AgeGroup, u64)>, StoreError> {
        self.directory().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_codes_round_trip_and_never_collide() {
        let groups: Vec<AgeGroup> = (0..=150)
            .map(AgeGroup::Stated)
            .chain((1900..=9999).map(AgeGroup::Graduated))
            .chain([AgeGroup::Unplaced])
            .collect();
        let codes: std::collections::BTreeSet<i64> =
            groups.iter().map(|g| group_code(*g)).collect();
        assert_eq!(codes.len(), groups.len());
        for group in groups {
            assert_eq!(group_of_code(group_code(group)), Some(group));
        }
    }
}
