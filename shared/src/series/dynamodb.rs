//! Every series in DynamoDB, in one table (`SeriesTable`): an item per series and UTC day,
//! key `series` = the series name, `day` = `YYYY-MM-DD`, holding each field's day total
//! (`<field>`) and its hourly counts (`<field>@HH`). A count is one `UpdateItem` that adds to
//! both, so hour and day never disagree and a count costs one write unit more while the item
//! stays under 1 KB; a read is one Query over the days the range touches (`docs/series.md`).

use super::range::{calendar, date_text, day_start, Interval};
use super::{Counts, Hour, SeriesRange, SeriesStore};
use crate::store::dynamodb::{n, query_up_to, s, string, write_once, Client, Item};
use crate::StoreError;
use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;

/// Days one read may touch: 1,000 daily buckets, or the days of 1,000 hours.
const MAX_DAYS: usize = 1000;

pub struct DynamoSeries {
    client: Client,
    table: String,
}

impl DynamoSeries {
    pub fn new(client: Client, table: String) -> Self {
        DynamoSeries { client, table }
    }
}

/// The attribute of a field's count in hour `hh` of the day.
fn hourly(field: &str, hh: i64) -> String {
    format!("{field}@{hh:02}")
}

#[async_trait]
impl SeriesStore for DynamoSeries {
    async fn add(&self, series: &str, at: Hour, counts: &[(&str, u64)]) -> Result<(), StoreError> {
        let (date, hh) = calendar(at);
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("series", s(series))
            .key("day", s(date_text(date)));
        let mut adds = Vec::new();
        for (i, (field, count)) in counts.iter().enumerate() {
            adds.push(format!("#d{i} :n{i}, #h{i} :n{i}"));
            update = update
                .expression_attribute_names(format!("#d{i}"), *field)
                .expression_attribute_names(format!("#h{i}"), hourly(field, hh))
                .expression_attribute_values(format!(":n{i}"), n(count));
        }
        update
            .update_expression(format!("ADD {}", adds.join(", ")))
            .customize()
            .config_override(write_once())
            .send()
            .await?;
        Ok(())
    }

    async fn read(
        &self,
        series: &str,
        range: &SeriesRange,
    ) -> Result<Vec<(Hour, Counts)>, StoreError> {
        let (first, last) = range.days();
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("#series = :series AND #day BETWEEN :first AND :last")
            .expression_attribute_names("#series", "series")
            .expression_attribute_names("#day", "day")
            .expression_attribute_values(":series", s(series))
            .expression_attribute_values(":first", s(date_text(calendar(first * 24).0)))
            .expression_attribute_values(":last", s(date_text(calendar(last * 24).0)));
        let items = query_up_to(query, MAX_DAYS).await?;
        let mut buckets = Vec::new();
        for item in &items {
            buckets.extend(day_buckets(item, range.interval)?);
        }
        buckets.retain(|(start, _)| (range.first..=range.last).contains(start));
        Ok(buckets)
    }
}

/// The buckets of one day's item: the day, or each hour it holds.
fn day_buckets(item: &Item, interval: Interval) -> Result<Vec<(Hour, Counts)>, StoreError> {
    let text = string(item, "day")?;
    let day = day_start(&text)
        .ok_or_else(|| StoreError::Failed(format!("series day {text} is not a date")))?;
    let mut buckets: std::collections::BTreeMap<Hour, Counts> = Default::default();
    for (name, value) in item {
        let AttributeValue::N(number) = value else {
            continue;
        };
        let count: u64 = number
            .parse()
            .map_err(|_| StoreError::Failed(format!("series count {name} = {number}")))?;
        let (field, hour) = match (name.split_once('@'), interval) {
            (None, Interval::Day) => (name.as_str(), day),
            (Some((field, hh)), Interval::Hour) => (field, day + hour_of_day(name, hh)?),
            _ => continue,
        };
        buckets
            .entry(hour)
            .or_default()
            .insert(field.to_string(), count);
    }
    Ok(buckets.into_iter().collect())
}

fn hour_of_day(name: &str, hh: &str) -> Result<Hour, StoreError> {
    hh.parse::<Hour>()
        .ok()
        .filter(|h| (0..24).contains(h))
        .ok_or_else(|| StoreError::Failed(format!("series attribute {name} names no hour")))
}
