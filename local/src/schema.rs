//! Creates DynamoDB tables exactly as `template.yaml` declares them, so that the template stays
//! the one place where tables, keys and indexes are defined.

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType,
};
use serde_norway::Value;
use tally::config::{TableNames, TableSpec, TABLES};
use tally::store::dynamodb::Client;
use tally::StoreError;

/// The SAM template, read at compile time.
pub const TEMPLATE: &str = include_str!("../../template.yaml");

#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    #[error("template.yaml: {0}")]
    Template(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn bad(what: impl Into<String>) -> SchemaError {
    SchemaError::Template(what.into())
}

/// The `Properties` of the table resource `logical_id`.
pub fn table_properties(logical_id: &str) -> Result<Value, SchemaError> {
    let doc: Value = serde_norway::from_str(TEMPLATE).map_err(|e| bad(e.to_string()))?;
    let resource = &doc["Resources"][logical_id];
    if resource["Type"].as_str() != Some("AWS::DynamoDB::Table") {
        return Err(bad(format!("{logical_id} is not an AWS::DynamoDB::Table")));
    }
    Ok(resource["Properties"].clone())
}

/// The binary a function resource of the template deploys: its `CodeUri` is the directory
/// `make lambda-build` writes that binary's `bootstrap` to, `target/lambda/<binary>/`.
pub fn function_binary(function: &Value) -> Option<&str> {
    function["Properties"]["CodeUri"]
        .as_str()?
        .strip_prefix("target/lambda/")?
        .strip_suffix('/')
}

fn text<'a>(value: &'a Value, key: &str) -> Result<&'a str, SchemaError> {
    value[key]
        .as_str()
        .ok_or_else(|| bad(format!("{key} missing")))
}

fn key_schema(value: &Value) -> Result<Vec<KeySchemaElement>, SchemaError> {
    let elements = value
        .as_sequence()
        .ok_or_else(|| bad("KeySchema is not a list"))?;
    elements
        .iter()
        .map(|e| {
            KeySchemaElement::builder()
                .attribute_name(text(e, "AttributeName")?)
                .key_type(KeyType::from(text(e, "KeyType")?))
                .build()
                .map_err(|err| bad(err.to_string()))
        })
        .collect()
}

fn attributes(value: &Value) -> Result<Vec<AttributeDefinition>, SchemaError> {
    let defs = value
        .as_sequence()
        .ok_or_else(|| bad("AttributeDefinitions is not a list"))?;
    defs.iter()
        .map(|d| {
            AttributeDefinition::builder()
                .attribute_name(text(d, "AttributeName")?)
                .attribute_type(ScalarAttributeType::from(text(d, "AttributeType")?))
                .build()
                .map_err(|err| bad(err.to_string()))
        })
        .collect()
}

fn index(value: &Value) -> Result<GlobalSecondaryIndex, SchemaError> {
    let projection = &value["Projection"];
    let non_key = projection["NonKeyAttributes"].as_sequence().map(|names| {
        names
            .iter()
            .filter_map(|n| n.as_str().map(str::to_string))
            .collect()
    });
    GlobalSecondaryIndex::builder()
        .index_name(text(value, "IndexName")?)
        .set_key_schema(Some(key_schema(&value["KeySchema"])?))
        .projection(
            Projection::builder()
                .projection_type(ProjectionType::from(text(projection, "ProjectionType")?))
                .set_non_key_attributes(non_key)
                .build(),
        )
        .build()
        .map_err(|err| bad(err.to_string()))
}

async fn create_table(client: &Client, spec: &TableSpec, name: &str) -> Result<(), SchemaError> {
    let props = table_properties(spec.logical_id)?;
    let indexes = match props["GlobalSecondaryIndexes"].as_sequence() {
        Some(list) => Some(list.iter().map(index).collect::<Result<Vec<_>, _>>()?),
        None => None,
    };
    let result = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .set_attribute_definitions(Some(attributes(&props["AttributeDefinitions"])?))
        .set_key_schema(Some(key_schema(&props["KeySchema"])?))
        .set_global_secondary_indexes(indexes)
        .send()
        .await;
    match result {
        Ok(_) => {}
        Err(err)
            if err
                .as_service_error()
                .is_some_and(|e| e.is_resource_in_use_exception()) => {}
        Err(err) => return Err(StoreError::from(err).into()),
    }
    wait_until_active(client, name).await
}

/// Waits until the table is `ACTIVE`: CreateTable answers while the table is still `CREATING`
/// (seconds in AWS, a moment in dynalite), and writes before then fail with
/// ResourceNotFoundException (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_CreateTable.html).
async fn wait_until_active(client: &Client, name: &str) -> Result<(), SchemaError> {
    for _ in 0..600 {
        let described = client.describe_table().table_name(name).send().await;
        let status = described
            .map_err(StoreError::from)?
            .table
            .and_then(|t| t.table_status);
        if status == Some(aws_sdk_dynamodb::types::TableStatus::Active) {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    Err(bad(format!(
        "table {name} did not become ACTIVE within 30 s"
    )))
}

/// Creates every table that does not exist yet, named by `name`, and returns the names.
pub async fn ensure_tables(
    client: &Client,
    name: impl Fn(&TableSpec) -> String,
) -> Result<TableNames, SchemaError> {
    for spec in TABLES {
        create_table(client, spec, &name(spec)).await?;
    }
    Ok(TableNames::resolve(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_is_declared_in_the_template_with_a_key() {
        for spec in TABLES {
            let props = table_properties(spec.logical_id).expect(spec.logical_id);
            assert!(!key_schema(&props["KeySchema"])
                .expect("key schema")
                .is_empty());
            assert!(!attributes(&props["AttributeDefinitions"])
                .expect("attributes")
                .is_empty());
        }
    }
}
