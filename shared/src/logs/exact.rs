//! JSON text with every number exactly as sent: `properties` come back with their digits
//! (`12345678901234567890123`, `1E2`, `-0`), never rounded through a float.

use serde::ser::Error as _;
use serde::{Serialize, Serializer};
use serde_json::value::RawValue;
use std::collections::BTreeMap;

/// The canonical text of valid JSON: object keys sorted (of duplicate keys the last wins, as
/// when parsing into a map), no whitespace, strings escaped as serde_json writes them, and
/// numbers, `true`, `false` and `null` as sent. Equal JSON gives equal text. It recurses once
/// per level, so it refuses JSON deeper than `MAX_DEPTH` (bodies are checked shallower first,
/// by `nesting::check`).
pub fn canonical(raw: &RawValue) -> Result<String, serde_json::Error> {
    let mut out = String::with_capacity(raw.get().len());
    write(raw.get().trim(), &mut out, 0)?;
    Ok(out)
}

/// The most levels `canonical` walks: past every body `nesting::check` lets through.
const MAX_DEPTH: usize = 128;

fn write(text: &str, out: &mut String, depth: usize) -> Result<(), serde_json::Error> {
    if depth > MAX_DEPTH {
        return Err(serde::de::Error::custom(format!(
            "nests deeper than {MAX_DEPTH} levels"
        )));
    }
    match text.as_bytes().first() {
        Some(b'{') => {
            let members: BTreeMap<String, &RawValue> = serde_json::from_str(text)?;
            out.push('{');
            for (i, (key, value)) in members.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::to_string(key)?);
                out.push(':');
                write(value.get().trim(), out, depth + 1)?;
            }
            out.push('}');
        }
        Some(b'[') => {
            let items: Vec<&RawValue> = serde_json::from_str(text)?;
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(item.get().trim(), out, depth + 1)?;
            }
            out.push(']');
        }
        Some(b'"') => out.push_str(&serde_json::to_string(&serde_json::from_str::<String>(
            text,
        )?)?),
        _ => out.push_str(text),
    }
    Ok(())
}

/// A member of a JSON object, as raw text; `None` when absent. (Only tests read stored JSON
/// back by member so far.)
#[cfg(test)]
pub fn member<'a>(object: &'a RawValue, name: &str) -> Option<&'a RawValue> {
    let members: BTreeMap<String, &RawValue> = serde_json::from_str(object.get()).ok()?;
    members.get(name).copied()
}

/// The `index`th element of a JSON array, as raw text; `None` when absent.
#[cfg(test)]
pub fn element(array: &RawValue, index: usize) -> Option<&RawValue> {
    let items: Vec<&RawValue> = serde_json::from_str(array.get()).ok()?;
    items.get(index).copied()
}

/// Serializes stored JSON text as JSON (not as a string), exactly as stored.
pub fn as_json<S: Serializer>(text: &str, out: S) -> Result<S::Ok, S::Error> {
    let raw: &RawValue = serde_json::from_str(text).map_err(S::Error::custom)?;
    raw.serialize(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canon(text: &str) -> String {
        canonical(serde_json::from_str(text).expect("JSON")).expect("canonical")
    }

    #[test]
    fn numbers_keep_every_digit_as_sent() {
        assert_eq!(
            canon(
                r#"{"a": 12345678901234567890123, "b": 1E2, "c": -0, "d": 0.1000000000000000000001}"#
            ),
            r#"{"a":12345678901234567890123,"b":1E2,"c":-0,"d":0.1000000000000000000001}"#
        );
    }

    #[test]
    fn keys_are_sorted_spaces_dropped_and_strings_normalised() {
        assert_eq!(
            canon(" { \"z\" : [ 1 , { \"y\":null, \"x\" :true} ], \"a\\u0041\": \"\\u00e9\\/\" } "),
            r#"{"aA":"é/","z":[1,{"x":true,"y":null}]}"#
        );
        assert_eq!(canon(r#"{"k": 1, "k": 2}"#), r#"{"k":2}"#);
    }

    #[test]
    fn json_deeper_than_the_walk_allows_is_an_error_not_a_crash() {
        let deep = format!("{}1{}", "[".repeat(100_000), "]".repeat(100_000));
        let raw: &RawValue = serde_json::from_str(&deep).expect("raw JSON has no depth limit");
        let err = canonical(raw).expect_err("too deep");
        assert!(
            err.to_string().contains("nests deeper than 128 levels"),
            "{err}"
        );
    }

    #[test]
    fn members_and_elements_are_found_by_name_and_index() {
        let raw: &RawValue = serde_json::from_str(r#"{"a": [10, {"p": 1E400}]}"#).expect("JSON");
        let second = element(member(raw, "a").expect("a"), 1).expect("[1]");
        assert_eq!(member(second, "p").map(RawValue::get), Some("1E400"));
        assert!(member(raw, "b").is_none());
    }
}
