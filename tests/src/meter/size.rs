//! The size of a DynamoDB item in bytes, from its wire form (DynamoDB JSON), by the documented
//! rules: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html

use base64::Engine;
use serde_json::{Map, Value};

/// An item as it travels on the wire: attribute name to typed value (`{"S": "..."}`, ...).
pub type Item = Map<String, Value>;

/// The item's size: for every attribute, its name's UTF-8 bytes plus its value's size.
pub fn item_size(item: &Item) -> u64 {
    item.iter()
        .map(|(name, value)| attribute_size(name, value))
        .sum()
}

/// The size of the attributes of `item` that `keep` selects (an index entry's attributes).
pub fn attributes_size(item: &Item, keep: impl Fn(&str) -> bool) -> u64 {
    item.iter()
        .filter(|(name, _)| keep(name))
        .map(|(name, value)| attribute_size(name, value))
        .sum()
}

fn attribute_size(name: &str, value: &Value) -> u64 {
    name.len() as u64 + value_size(value)
}

/// One typed value: strings by their UTF-8 bytes, numbers by significant digits, binary by its
/// raw bytes, null and Boolean 1 byte; a List or Map 3 bytes plus 1 byte per element plus its
/// elements (a Map's with their names); a set the sum of its members.
fn value_size(value: &Value) -> u64 {
    let Some((kind, inner)) = value.as_object().and_then(|o| o.iter().next()) else {
        return 0;
    };
    match (kind.as_str(), inner) {
        ("S", Value::String(s)) => s.len() as u64,
        ("N", Value::String(n)) => number_size(n),
        ("B", Value::String(b)) => binary_size(b),
        ("BOOL" | "NULL", _) => 1,
        ("SS", Value::Array(v)) => v
            .iter()
            .filter_map(Value::as_str)
            .map(|s| s.len() as u64)
            .sum(),
        ("NS", Value::Array(v)) => v.iter().filter_map(Value::as_str).map(number_size).sum(),
        ("BS", Value::Array(v)) => v.iter().filter_map(Value::as_str).map(binary_size).sum(),
        ("L", Value::Array(v)) => 3 + v.iter().map(|e| 1 + value_size(e)).sum::<u64>(),
        ("M", Value::Object(m)) => 3 + m.iter().map(|(k, e)| 1 + attribute_size(k, e)).sum::<u64>(),
        _ => 0,
    }
}

/// A number: 1 byte per two significant digits (leading and trailing zeros trimmed) + 1 byte.
pub fn number_size(number: &str) -> u64 {
    let mantissa = number.split(['e', 'E']).next().unwrap_or_default();
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let significant = digits.trim_start_matches('0').trim_end_matches('0').len() as u64;
    significant.div_ceil(2) + 1
}

/// A binary value's raw bytes (it travels base64-encoded).
fn binary_size(encoded: &str) -> u64 {
    base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .map(|raw| raw.len() as u64)
        .unwrap_or(encoded.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn item(value: Value) -> Item {
        value.as_object().cloned().expect("an object")
    }

    #[test]
    fn strings_count_name_and_utf8_bytes() {
        assert_eq!(item_size(&item(json!({"id": {"S": "abc"}}))), 5);
        assert_eq!(item_size(&item(json!({"n": {"S": "é"}}))), 3);
    }

    #[test]
    fn numbers_count_two_significant_digits_a_byte_plus_one() {
        assert_eq!(number_size("0"), 1);
        assert_eq!(number_size("7"), 2);
        assert_eq!(number_size("100"), 2);
        assert_eq!(number_size("-12345"), 4);
        assert_eq!(number_size("0.00120"), 2);
        assert_eq!(item_size(&item(json!({"count": {"N": "1234"}}))), 5 + 3);
    }

    #[test]
    fn binary_null_and_booleans() {
        assert_eq!(item_size(&item(json!({"b": {"B": "AAEC"}}))), 1 + 3);
        assert_eq!(
            item_size(&item(json!({"t": {"BOOL": true}, "z": {"NULL": true}}))),
            4
        );
    }

    #[test]
    fn lists_and_maps_have_3_bytes_and_1_per_element() {
        let list = item(json!({"l": {"L": [{"S": "ab"}, {"N": "1"}]}}));
        assert_eq!(item_size(&list), 1 + 3 + (1 + 2) + (1 + 2));
        let map = item(json!({"m": {"M": {"x": {"S": "ab"}}}}));
        assert_eq!(item_size(&map), 1 + 3 + 1 + 1 + 2);
        assert_eq!(item_size(&item(json!({"e": {"M": {}}}))), 4);
    }

    #[test]
    fn sets_are_the_sum_of_their_members() {
        let sets = item(json!({"s": {"SS": ["ab", "c"]}, "n": {"NS": ["1", "22"]}}));
        assert_eq!(item_size(&sets), 1 + 3 + 1 + 2 + 2);
    }

    #[test]
    fn an_index_entry_keeps_only_its_attributes() {
        let row = item(json!({"id": {"S": "a"}, "big": {"S": "xxxxxxxx"}}));
        assert_eq!(attributes_size(&row, |n| n == "id"), 3);
    }
}
