//! The keys in DynamoDB (`IdempotencyTable`): an item per key (`key`), read first (a replay
//! writes nothing), claimed by one conditional `PutItem`, answered by one `UpdateItem`, freed by one `DeleteItem`, each
//! conditional on the claim's token; `expires` is the table's TTL attribute, and a record past
//! it counts as gone before DynamoDB deletes it, which may take days
//! (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/howitworks-ttl.html;
//! `docs/once.md`).

use super::{Answer, Claim, KeyStore, Record};
use crate::store::dynamodb::{n, number, optional, s, send_once, string, Client, Item};
use crate::store::packed::{pack, unpack, Stored};
use crate::StoreError;
use async_trait::async_trait;
use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;

/// How often a claim reads and tries again when a record appears between its read and its
/// write and is gone by the next read (claimed and freed in between).
const CLAIM_ATTEMPTS: usize = 3;

pub struct DynamoKeys {
    client: Client,
    table: String,
}

impl DynamoKeys {
    pub fn new(client: Client, table: String) -> Self {
        DynamoKeys { client, table }
    }

    /// Puts `record` under `key` unless a record that is not free holds it; `false` if one does.
    async fn put_claim(&self, key: &str, record: &Record, now: i64) -> Result<bool, StoreError> {
        let mut put = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("key", s(key))
            .item("fp", s(&record.fingerprint))
            .item("token", s(&record.token))
            .item("lease", n(record.lease))
            .item("expires", n(record.expires));
        if let Some(answer) = &record.answer {
            put = put
                .item("status", n(answer.status))
                .item("ctype", s(&answer.content_type))
                .item("body", body_value(&answer.body));
        }
        let sent = put
            .condition_expression(
                "attribute_not_exists(#k) OR #e <= :now OR (attribute_not_exists(#st) AND #l <= :now)",
            )
            .expression_attribute_names("#k", "key")
            .expression_attribute_names("#e", "expires")
            .expression_attribute_names("#st", "status")
            .expression_attribute_names("#l", "lease")
            .expression_attribute_values(":now", n(now))
            .customize()
            .config_override(send_once())
            .send()
            .await;
        match sent {
            Ok(_) => Ok(true),
            Err(err)
                if err
                    .as_service_error()
                    .is_some_and(PutItemError::is_conditional_check_failed_exception) =>
            {
                Ok(false)
            }
            Err(err) => Err(err.into()),
        }
    }

    /// The record of `key`, read consistently.
    async fn get(&self, key: &str) -> Result<Option<Record>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("key", s(key))
            .consistent_read(true)
            .send()
            .await?;
        out.item.as_ref().map(record).transpose()
    }
}

/// The most bytes a stored answer inflates to: more than any answer Tally gives.
const MAX_ANSWER_BYTES: usize = 4 * 1024 * 1024;

/// An answer's body as stored: its text (`body`, String) or that text deflated (`body`,
/// Binary) where shorter, since the answer's bytes are billed on every write of the key.
fn body_value(body: &[u8]) -> AttributeValue {
    match pack(&String::from_utf8_lossy(body)) {
        Stored::Text(text) => AttributeValue::S(text),
        Stored::Deflated(bytes) => AttributeValue::B(Blob::new(bytes)),
    }
}

/// The body `body_value` stored.
fn stored_body(item: &Item) -> Result<String, StoreError> {
    let stored = match item.get("body") {
        None => Stored::Text(String::new()),
        Some(AttributeValue::S(text)) => Stored::Text(text.clone()),
        Some(AttributeValue::B(bytes)) => Stored::Deflated(bytes.as_ref().to_vec()),
        Some(_) => {
            return Err(StoreError::Failed(
                "a stored answer's body is neither text nor binary".into(),
            ))
        }
    };
    unpack(&stored, MAX_ANSWER_BYTES)
}

/// A stored item as a record.
fn record(item: &Item) -> Result<Record, StoreError> {
    let answer = match optional(item, "status", |v| v.as_n().ok()?.parse::<u16>().ok())? {
        None => None,
        Some(status) => Some(Answer {
            status,
            content_type: string(item, "ctype")?,
            location: optional(item, "location", |v| v.as_s().ok().cloned())?,
            body: stored_body(item)?.into_bytes(),
        }),
    };
    Ok(Record {
        fingerprint: string(item, "fp")?,
        token: string(item, "token")?,
        lease: number(item, "lease")?,
        expires: number(item, "expires")?,
        answer,
    })
}

#[async_trait]
impl KeyStore for DynamoKeys {
    async fn claim(&self, key: &str, record: &Record, now: i64) -> Result<Claim, StoreError> {
        // Read first: a retry meets its record without a write (a refused conditional write
        // still consumes write capacity:
        // https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/WorkingWithItems.html#WorkingWithItems.ConditionalUpdate).
        for _ in 0..CLAIM_ATTEMPTS {
            if let Some(held) = self.get(key).await?.filter(|held| !held.is_free(now)) {
                return Ok(held.meets(&record.fingerprint));
            }
            if self.put_claim(key, record, now).await? {
                return Ok(Claim::New(record.token.clone()));
            }
        }
        Ok(Claim::InFlight)
    }

    async fn complete(&self, key: &str, token: &str, answer: &Answer) -> Result<(), StoreError> {
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("key", s(key))
            .condition_expression("#t = :t")
            .expression_attribute_names("#t", "token")
            .expression_attribute_names("#st", "status")
            .expression_attribute_names("#ct", "ctype")
            .expression_attribute_names("#b", "body")
            .expression_attribute_values(":t", s(token))
            .expression_attribute_values(":st", n(answer.status))
            .expression_attribute_values(":ct", s(&answer.content_type))
            .expression_attribute_values(":b", body_value(&answer.body));
        let mut set = "SET #st = :st, #ct = :ct, #b = :b".to_string();
        if let Some(location) = &answer.location {
            set.push_str(", #loc = :loc");
            update = update
                .expression_attribute_names("#loc", "location")
                .expression_attribute_values(":loc", s(location));
        }
        lost_claim(update.update_expression(set).send().await, key)
    }

    async fn release(&self, key: &str, token: &str) -> Result<(), StoreError> {
        let sent = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("key", s(key))
            .condition_expression("#t = :t")
            .expression_attribute_names("#t", "token")
            .expression_attribute_values(":t", s(token))
            .send()
            .await;
        lost_claim(sent, key)
    }
}

/// A write conditional on the claim's token, where failing the condition means another
/// request took the key over (the claim outlived its lease): logged, not an error of this
/// request, whose count is already done or not to be done.
fn lost_claim<T, E>(sent: Result<T, SdkError<E, HttpResponse>>, key: &str) -> Result<(), StoreError>
where
    E: std::error::Error + ProvideErrorMetadata + 'static,
{
    match sent {
        Ok(_) => Ok(()),
        Err(err)
            if err.as_service_error().and_then(ProvideErrorMetadata::code)
                == Some("ConditionalCheckFailedException") =>
        {
            tracing::warn!(
                key,
                "an idempotency claim was taken over before its request ended"
            );
            Ok(())
        }
        Err(err) => Err(err.into()),
    }
}
