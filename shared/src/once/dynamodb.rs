//! The keys in DynamoDB (`IdempotencyTable`): an item per key (`key`), claimed by one
//! conditional `PutItem`, answered by one `UpdateItem`, freed by one `DeleteItem`, each
//! conditional on the claim's token; `expires` is the table's TTL attribute, and a record past
//! it counts as gone before DynamoDB deletes it (`docs/once.md`).

use super::{Answer, Claim, KeyStore, Record};
use crate::store::dynamodb::{n, number, optional, s, send_once, string, Client, Item};
use crate::StoreError;
use async_trait::async_trait;
use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;

/// How often a claim is tried again when the record that refused it is gone by the time it
/// is read (freed or expired in between).
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
        let sent = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("key", s(key))
            .item("fp", s(&record.fingerprint))
            .item("token", s(&record.token))
            .item("lease", n(record.lease))
            .item("expires", n(record.expires))
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

/// A stored item as a record.
fn record(item: &Item) -> Result<Record, StoreError> {
    let answer = match optional(item, "status", |v| v.as_n().ok()?.parse::<u16>().ok())? {
        None => None,
        Some(status) => Some(Answer {
            status,
            content_type: string(item, "ctype")?,
            location: optional(item, "location", |v| v.as_s().ok().cloned())?,
            body: optional(item, "body", |v| v.as_b().ok().map(|b| b.as_ref().to_vec()))?
                .unwrap_or_default(),
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
        for _ in 0..CLAIM_ATTEMPTS {
            if self.put_claim(key, record, now).await? {
                return Ok(Claim::New(record.token.clone()));
            }
            match self.get(key).await? {
                Some(held) if !held.is_free(now) => return Ok(held.meets(&record.fingerprint)),
                _ => continue,
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
            .expression_attribute_values(":b", AttributeValue::B(Blob::new(answer.body.clone())));
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
