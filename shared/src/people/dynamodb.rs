//! The people directory in DynamoDB. Key design (see `docs/people.md` and `template.yaml`):
//!
//! - table key `id` (N): one item per person, read by `GetItem`; item `id = 0` is the meta item
//!   holding the id sequence `seq` and the group directory `groups` (a string set);
//! - `ById` (`kind`, `id`): every person in id order, for `/people`;
//! - `ByLastName` (`lastKey`, `id`), keys only: `/ids/lastname/{lastname}`;
//! - `ByGroup` (`group`, `id`): the groups of `age.rs`, each by id, for `/people/age`; the
//!   month and day of the graduation date (`md`) filter a year into its two halves.
//!
//! The meta item also counts each group's persons in an attribute `n#<group>`, updated with the
//! directory by one `UpdateItem` after a person is written (for the dashboard's age histogram).
//! A write is: raise the sequence (explicit ids), put the person (conditional for a create),
//! settle the directory. Each step can be repeated, and a retry of a create cut off after the
//! put completes the directory (`taken_by`); only the counters may then stay one short.

use super::age::{AgeGroup, Days, GroupQuery};
use super::{date, Details, Person, PersonId, PersonStore, MAX_ID};
use crate::store::dynamodb::{
    is_throttling, n, number, optional, query_up_to, s, send_once, Client, Item,
};
use crate::StoreError;
use async_trait::async_trait;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};

const BY_ID: &str = "ById";
const BY_LAST_NAME: &str = "ByLastName";
const BY_GROUP: &str = "ByGroup";
/// The partition of `ById`: every person item carries it; the meta item does not.
const KIND: &str = "person";
/// The id of the meta item (person ids start at 1).
const META_ID: u64 = 0;
/// What precedes a group's key in the meta item's attribute that counts its persons.
const COUNT_PREFIX: &str = "n#";
/// Sends of one conditional put DynamoDB throttled (so applied nothing) before giving up.
const PUT_ATTEMPTS: u32 = 3;
/// New ids are retried this often when an explicit id took the one the sequence gave.
const ALLOCATION_ATTEMPTS: usize = 16;

pub struct DynamoPeople {
    client: Client,
    table: String,
}

impl DynamoPeople {
    pub fn new(client: Client, table: String) -> Self {
        DynamoPeople { client, table }
    }

    /// An update of the meta item.
    fn update_meta(&self) -> UpdateItemFluentBuilder {
        self.client
            .update_item()
            .table_name(&self.table)
            .key("id", n(META_ID))
    }

    /// Raises the sequence to at least `id` before a person with that id is written, so that
    /// no new id can be given below a stored one. Idempotent, so safe to resend.
    async fn raise_sequence(&self, id: u64) -> Result<(), StoreError> {
        let raised = self
            .update_meta()
            .update_expression("SET #seq = :id")
            .condition_expression("attribute_not_exists(#seq) OR #seq < :id")
            .expression_attribute_names("#seq", "seq")
            .expression_attribute_values(":id", n(id))
            .send()
            .await;
        match raised {
            Err(err) if is_condition_failure(&err) => Ok(()),
            other => other.map(drop).map_err(StoreError::from),
        }
    }

    /// After a person is written: their group joins the directory, and the group counters
    /// follow (the new group gains one, a replaced person's group loses one), in one write.
    /// Only a written person's group is ever registered, so a 409 registers none.
    async fn settle(&self, from: Option<AgeGroup>, to: AgeGroup) -> Result<(), StoreError> {
        let mut update = self
            .update_meta()
            .expression_attribute_names("#groups", "groups")
            .expression_attribute_values(":group", AttributeValue::Ss(vec![to.key()]))
            .update_expression("ADD #groups :group");
        if from != Some(to) {
            update = update
                .update_expression("ADD #groups :group, #to :one")
                .expression_attribute_names("#to", count_attribute(to))
                .expression_attribute_values(":one", n(1));
        }
        if let Some(from) = from.filter(|from| *from != to) {
            update = update
                .update_expression("ADD #groups :group, #to :one, #from :minus")
                .expression_attribute_names("#from", count_attribute(from))
                .expression_attribute_values(":minus", n(-1));
        }
        update.send().await?;
        Ok(())
    }

    /// Writes the person, unconditionally or `only_if_free`, then settles the directory.
    /// A conditional put is sent once by the SDK (`send_once`): resent after an attempt that
    /// was applied but slow, it would fail its own condition (a false 409, or a second id for
    /// one person). It is resent here only when DynamoDB throttled it, so applied nothing.
    /// A taken id is `false`, after the stored person's directory entry is completed.
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
                Err(err) if is_condition_failure(&err) => return self.taken_by(person).await,
                Err(err) if is_throttling(&err) && attempt + 1 < PUT_ATTEMPTS => attempt += 1,
                Err(err) => return Err(err.into()),
            }
            tokio::time::sleep(std::time::Duration::from_millis(50 << attempt)).await;
        };
        self.settle(replaced, person.details.age_group()).await?;
        Ok(true)
    }

    /// The id `person` wanted is taken: the stored person's group is (still) put in the
    /// directory, which completes a write that was cut off before `settle`. Always `false`.
    async fn taken_by(&self, person: &Person) -> Result<bool, StoreError> {
        let Some(stored) = self.read(person.id).await? else {
            return Ok(false);
        };
        self.update_meta()
            .update_expression("ADD #groups :group")
            .expression_attribute_names("#groups", "groups")
            .expression_attribute_values(
                ":group",
                AttributeValue::Ss(vec![stored.details.age_group().key()]),
            )
            .send()
            .await?;
        Ok(false)
    }

    /// The person stored under `id`, read consistently.
    async fn read(&self, id: u64) -> Result<Option<Person>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("id", n(id))
            .consistent_read(true)
            .send()
            .await?;
        out.item.as_ref().map(from_item).transpose()
    }

    /// Takes the next number of the sequence.
    async fn next_id(&self) -> Result<u64, StoreError> {
        let out = self
            .update_meta()
            .update_expression("ADD #seq :one")
            .expression_attribute_names("#seq", "seq")
            .expression_attribute_values(":one", n(1))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await?;
        number(&out.attributes.unwrap_or_default(), "seq")
    }
}

fn is_condition_failure<E, R>(err: &SdkError<E, R>) -> bool
where
    E: ConditionFailure,
{
    err.as_service_error()
        .is_some_and(ConditionFailure::is_condition_failure)
}

/// The operations whose condition can fail.
trait ConditionFailure {
    fn is_condition_failure(&self) -> bool;
}

impl ConditionFailure for aws_sdk_dynamodb::operation::put_item::PutItemError {
    fn is_condition_failure(&self) -> bool {
        self.is_conditional_check_failed_exception()
    }
}

impl ConditionFailure for aws_sdk_dynamodb::operation::update_item::UpdateItemError {
    fn is_condition_failure(&self) -> bool {
        self.is_conditional_check_failed_exception()
    }
}

/// The meta item's attribute that counts the persons of `group`.
fn count_attribute(group: AgeGroup) -> String {
    format!("{COUNT_PREFIX}{}", group.key())
}

/// The group a stored person item is in.
fn group_of(item: &Item) -> Result<AgeGroup, StoreError> {
    let key = optional(item, "group", |v| v.as_s().ok().cloned())?.unwrap_or_default();
    AgeGroup::from_key(&key)
        .ok_or_else(|| StoreError::Failed(format!("stored group {key} is unknown")))
}

fn to_item(person: &Person) -> Item {
    let d = &person.details;
    let mut item = Item::from([
        ("id".to_string(), n(person.id)),
        ("kind".to_string(), s(KIND)),
        ("group".to_string(), s(d.age_group().key())),
    ]);
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
        for _ in 0..ALLOCATION_ATTEMPTS {
            let id = self.next_id().await?;
            if id > MAX_ID {
                return Ok(None);
            }
            let person = Person {
                id,
                details: details.clone(),
            };
            if self.put(&person, true).await? {
                return Ok(Some(person));
            }
        }
        Err(StoreError::Unavailable(
            "every new id was taken by an explicit one".into(),
        ))
    }

    async fn insert(&self, person: &Person) -> Result<bool, StoreError> {
        self.raise_sequence(person.id).await?;
        self.put(person, true).await
    }

    async fn upsert(&self, person: &Person) -> Result<(), StoreError> {
        self.raise_sequence(person.id).await?;
        self.put(person, false).await.map(drop)
    }

    async fn get(&self, id: PersonId) -> Result<Option<Person>, StoreError> {
        self.read(id.get()).await
    }

    async fn list(&self, after: Option<u64>, limit: usize) -> Result<Vec<Person>, StoreError> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(BY_ID)
            .key_condition_expression("#kind = :kind AND #id > :after")
            .expression_attribute_names("#kind", "kind")
            .expression_attribute_names("#id", "id")
            .expression_attribute_values(":kind", s(KIND))
            .expression_attribute_values(":after", n(after.unwrap_or(META_ID)));
        query_up_to(query, limit)
            .await?
            .iter()
            .map(from_item)
            .collect()
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
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("id", n(META_ID))
            .projection_expression("#groups")
            .expression_attribute_names("#groups", "groups")
            .send()
            .await?;
        let keys = out
            .item
            .as_ref()
            .and_then(|item| item.get("groups"))
            .and_then(|v| v.as_ss().ok())
            .cloned()
            .unwrap_or_default();
        Ok(keys.iter().filter_map(|k| AgeGroup::from_key(k)).collect())
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
            .expression_attribute_values(":after", n(after.unwrap_or(META_ID)));
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
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("id", n(META_ID))
            .send()
            .await?;
        let mut counts = Vec::new();
        for (name, value) in out.item.unwrap_or_default() {
            let group = name.strip_prefix(COUNT_PREFIX).and_then(AgeGroup::from_key);
            let count = value.as_n().ok().and_then(|n| n.parse::<u64>().ok());
            if let (Some(group), Some(count)) = (group, count) {
                counts.push((group, count));
            }
        }
        counts.sort();
        Ok(counts)
    }
}
