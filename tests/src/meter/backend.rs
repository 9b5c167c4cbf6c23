//! The meter's own calls to the DynamoDB-protocol server behind it: an item as it is now (a
//! consistent GetItem of the whole item), a Query again without what hides items from its
//! answer, and each table's schema (DescribeTable, cached).

use super::schema::TableSchema;
use super::size::Item;
use crate::proxy::forward;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The server behind the meter, reached with the headers of the request being metered.
pub struct Backend<'a> {
    pub client: &'a reqwest::Client,
    pub url: String,
    pub headers: &'a hyper::HeaderMap,
    pub schemas: &'a Arc<Mutex<HashMap<String, TableSchema>>>,
}

impl Backend<'_> {
    /// Calls `operation` with `body` and returns the answer, or `Null` for an error answer.
    pub async fn call(&self, operation: &str, body: &Value) -> Value {
        let mut headers = self.headers.clone();
        let target = format!("DynamoDB_20120810.{operation}");
        headers.insert("x-amz-target", target.parse().expect("a header value"));
        let answer = forward(
            self.client,
            &self.url,
            &headers,
            body.to_string().into_bytes(),
        )
        .await;
        if answer.status != 200 {
            return Value::Null;
        }
        serde_json::from_slice(&answer.body).unwrap_or_default()
    }

    /// The item stored under `key` in `table`, whole.
    pub async fn item(&self, table: &str, key: &Item) -> Option<Item> {
        let body = json!({"TableName": table, "Key": key, "ConsistentRead": true});
        self.call("GetItem", &body).await["Item"]
            .as_object()
            .cloned()
    }

    /// The schema of `table`.
    pub async fn schema(&self, table: &str) -> TableSchema {
        let known = self.schemas.lock().ok().and_then(|s| s.get(table).cloned());
        if let Some(schema) = known {
            return schema;
        }
        let described = self
            .call("DescribeTable", &json!({"TableName": table}))
            .await;
        let schema = TableSchema::from_description(&described);
        // Only a schema the server described is kept (an error answer is asked again).
        if let (Some(_), Ok(mut schemas)) = (described.get("Table"), self.schemas.lock()) {
            schemas.insert(table.to_string(), schema.clone());
        }
        schema
    }

    /// Forgets `table`'s schema (it was created, changed or deleted).
    pub fn forget(&self, table: &str) {
        if let Ok(mut schemas) = self.schemas.lock() {
            schemas.remove(table);
        }
    }

    /// The items a Query or Scan read, whole (for an index, whole entries): the request again
    /// without a filter, a projection or `Select`, which bill what they hide.
    pub async fn items_read(&self, operation: &str, request: &Value, answer: &Value) -> Vec<Item> {
        let items = if HIDING.iter().any(|k| request.get(k).is_some()) {
            self.call(operation, &unhidden(request)).await
        } else {
            answer.clone()
        };
        items["Items"]
            .as_array()
            .map(|list| list.iter().filter_map(|i| i.as_object().cloned()).collect())
            .unwrap_or_default()
    }
}

/// The request fields that leave read items out of a Query's or Scan's answer.
const HIDING: [&str; 6] = [
    "FilterExpression",
    "ProjectionExpression",
    "Select",
    "AttributesToGet",
    "QueryFilter",
    "ScanFilter",
];

/// `request` without what filters or projects its items, and without the placeholders only
/// those used (DynamoDB refuses unused ones).
fn unhidden(request: &Value) -> Value {
    let mut request = request.clone();
    let Some(fields) = request.as_object_mut() else {
        return request;
    };
    for hidden in HIDING {
        fields.remove(hidden);
    }
    let used = fields
        .get("KeyConditionExpression")
        .and_then(Value::as_str)
        .map(placeholders)
        .unwrap_or_default();
    for map in ["ExpressionAttributeNames", "ExpressionAttributeValues"] {
        if let Some(Value::Object(entries)) = fields.get_mut(map) {
            entries.retain(|name, _| used.contains(name));
            if entries.is_empty() {
                fields.remove(map);
            }
        }
    }
    request
}

/// The `#name` and `:value` placeholders an expression uses.
fn placeholders(expression: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut current: Option<String> = None;
    for c in expression.chars().chain([' ']) {
        match &mut current {
            Some(token) if c.is_ascii_alphanumeric() || c == '_' => token.push(c),
            _ => {
                found.extend(current.take());
                if c == '#' || c == ':' {
                    current = Some(c.to_string());
                }
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_again_keeps_only_the_key_condition_and_its_placeholders() {
        let request = json!({
            "TableName": "T", "IndexName": "I", "Limit": 5,
            "KeyConditionExpression": "#s = :s AND #c > :c1",
            "FilterExpression": "#x = :x", "ProjectionExpression": "#c, #x",
            "ExpressionAttributeNames": {"#s": "shard", "#c": "count", "#x": "x"},
            "ExpressionAttributeValues": {":s": {"N": "1"}, ":c1": {"N": "0"}, ":x": {"S": "y"}}
        });
        assert_eq!(
            unhidden(&request),
            json!({
                "TableName": "T", "IndexName": "I", "Limit": 5,
                "KeyConditionExpression": "#s = :s AND #c > :c1",
                "ExpressionAttributeNames": {"#s": "shard", "#c": "count"},
                "ExpressionAttributeValues": {":s": {"N": "1"}, ":c1": {"N": "0"}}
            })
        );
    }

    #[test]
    fn placeholders_are_whole_tokens() {
        assert_eq!(
            placeholders("#a = :a1 AND #ab < :b"),
            vec!["#a", ":a1", "#ab", ":b"]
        );
    }
}
