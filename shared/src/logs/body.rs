//! `POST /log` bodies: the whole body is validated into a `LogBatch` before anything is stored,
//! and the request gets an id derived from its JSON, so a client's retry is recognised.

use super::clock;
use super::exact::canonical;
use super::layout::{self, check_type, check_user};
use super::Instant;
use super::{LogBatch, NewAction};
use crate::ApiError;
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

pub const MAX_ACTIONS: usize = 1000;
pub const MAX_ID_CHARS: usize = 256;
pub const MAX_TYPE_CHARS: usize = 64;
pub const MAX_PROPERTIES_BYTES: usize = 16 * 1024;
pub const MAX_MESSAGE_ID_CHARS: usize = 128;
/// How many steps down a body its deepest field sits (`actions[i].properties`): each field's
/// value may nest `nesting::MAX_LEVELS` levels below it.
const FIELD_STEPS: usize = 3;
/// The most DynamoDB write units one `POST /log` may cost (by `LogBatch::write_units`). Every
/// request within the contract's field limits and with small properties fits (1,000 actions
/// of 1,000 types with 256-character ids: 5,901); index entries leave large properties out
/// (docs/logs.md), so what passes it is ids of wide characters, which every entry's keys
/// repeat (1,000 actions of 1,000 types with ids of 256 four-byte characters: 15,001).
/// $0.00625 at $0.625 per million.
pub const MAX_WRITE_UNITS: u64 = 10_000;

/// The members of a JSON object, each as the raw text sent (numbers are never parsed here).
type Members<'a> = BTreeMap<String, &'a RawValue>;

impl LogBatch {
    /// Validates a whole JSON body; the error names the first failing place (`actions[2].time`).
    /// It is read as raw text, so `properties` keep every number exactly as sent. Its depth is
    /// checked first: `canonical` recurses once per level.
    pub fn parse(body: &[u8]) -> Result<Self, ApiError> {
        crate::nesting::check(body, FIELD_STEPS)?;
        let raw: &RawValue = serde_json::from_slice(body)
            .map_err(|err| ApiError::field("body", format!("is not valid JSON ({err})")))?;
        let members: Members = serde_json::from_str(raw.get())
            .map_err(|_| ApiError::field("body", "must be a JSON object"))?;
        let user_id = required_str(&members, "userId", "userId")?;
        let session_id = required_str(&members, "sessionId", "sessionId")?;
        let actions: Vec<&RawValue> = match members.get("actions") {
            None => Vec::new(),
            Some(list) => serde_json::from_str::<Option<Vec<&RawValue>>>(list.get())
                .map_err(|_| ApiError::field("actions", "must be an array"))?
                .unwrap_or_default(),
        };
        if actions.len() > MAX_ACTIONS {
            return Err(ApiError::field(
                "actions",
                format!(
                    "at most {MAX_ACTIONS} actions per request (got {})",
                    actions.len()
                ),
            ));
        }
        let user_id = bounded("userId", &user_id, MAX_ID_CHARS)?.to_string();
        check_user("userId", &user_id)?;
        let sent_at = optional_str(&members, "sentAt", "sentAt")?
            .map(|raw| Instant::parse("sentAt", &raw))
            .transpose()?;
        let now = super::now_nanos();
        let actions = actions
            .iter()
            .enumerate()
            .map(|(i, action)| {
                let action = NewAction::parse(&format!("actions[{i}]"), action)?;
                check_type(&format!("actions[{i}].type"), &action.kind, Some(&user_id))?;
                if let Some(sent_at) = &sent_at {
                    clock::check(sent_at, &action.time, now)?;
                }
                Ok(action)
            })
            .collect::<Result<_, ApiError>>()?;
        let batch = LogBatch {
            request: request_id(raw)?,
            user_id,
            session_id: bounded("sessionId", &session_id, MAX_ID_CHARS)?.to_string(),
            sent_at,
            actions,
        };
        // The exact count deflates every large properties object: only when the bound (which
        // does not) is over the budget.
        let units = match layout::write_units_bound(&batch) {
            bound if bound <= MAX_WRITE_UNITS => bound,
            _ => layout::write_units(&batch),
        };
        if units > MAX_WRITE_UNITS {
            return Err(ApiError::field(
                "actions",
                format!(
                    "storing these would cost {units} write units, at most {MAX_WRITE_UNITS} \
                     are allowed per request: send fewer actions or smaller properties"
                ),
            ));
        }
        Ok(batch)
    }
}

impl NewAction {
    fn parse(place: &str, value: &RawValue) -> Result<Self, ApiError> {
        let action: Members = serde_json::from_str(value.get())
            .map_err(|_| ApiError::field(place, "must be an object"))?;
        let time_field = format!("{place}.time");
        let time = Instant::parse(&time_field, &required_str(&action, "time", &time_field)?)?;
        let type_field = format!("{place}.type");
        let kind = required_str(&action, "type", &type_field)?;
        let id_field = format!("{place}.messageId");
        let message_id = optional_str(&action, "messageId", &id_field)?
            .map(|id| bounded(&id_field, &id, MAX_MESSAGE_ID_CHARS).map(str::to_string))
            .transpose()?;
        Ok(NewAction {
            time,
            kind: bounded(&type_field, &kind, MAX_TYPE_CHARS)?.to_string(),
            properties: properties(&action, &format!("{place}.properties"))?,
            message_id,
        })
    }
}

/// A string member that must be present (`null` counts as absent).
fn required_str(object: &Members, name: &str, field: &str) -> Result<String, ApiError> {
    optional_str(object, name, field)?.ok_or_else(|| ApiError::field(field, "is required"))
}

/// A string member that may be absent or `null`.
fn optional_str(object: &Members, name: &str, field: &str) -> Result<Option<String>, ApiError> {
    object
        .get(name)
        .map(|raw| serde_json::from_str::<Option<String>>(raw.get()))
        .transpose()
        .map(Option::flatten)
        .map_err(|_| ApiError::field(field, "must be a string"))
}

/// `text` if it has 1 to `max` characters (code points).
pub fn bounded<'a>(field: &str, text: &'a str, max: usize) -> Result<&'a str, ApiError> {
    let chars = text.chars().count();
    if chars == 0 || chars > max {
        return Err(ApiError::field(
            field,
            format!("must be 1 to {max} characters (got {chars})"),
        ));
    }
    Ok(text)
}

/// The properties object as canonical JSON text with its numbers as sent: `{}` when absent or
/// null, at most 16 KiB.
fn properties(action: &Members, field: &str) -> Result<String, ApiError> {
    let Some(raw) = action.get("properties") else {
        return Ok("{}".to_string());
    };
    let text = match raw.get().trim().as_bytes().first() {
        Some(b'n') => return Ok("{}".to_string()),
        Some(b'{') => canonical(raw).map_err(|err| ApiError::field(field, err))?,
        _ => return Err(ApiError::field(field, "must be a JSON object")),
    };
    if text.len() > MAX_PROPERTIES_BYTES {
        return Err(ApiError::field(
            field,
            format!(
                "must be at most {MAX_PROPERTIES_BYTES} bytes as JSON (got {})",
                text.len()
            ),
        ));
    }
    Ok(text)
}

/// SHA-256 of the body's canonical JSON (keys sorted, no spaces, numbers as sent), first 16
/// bytes in hex: bodies that differ in any digit are different requests.
fn request_id(body: &RawValue) -> Result<String, ApiError> {
    let canonical = canonical(body).map_err(|err| ApiError::field("body", err))?;
    Ok(Sha256::digest(canonical.as_bytes())[..16]
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn parse(body: Value) -> Result<LogBatch, ApiError> {
        LogBatch::parse(body.to_string().as_bytes())
    }

    fn sample() -> Value {
        json!({"userId": "ABC123XYZ", "sessionId": "XYZ456ABC", "actions": [
            {"time": "2018-10-18T21:37:28-06:00", "type": "CLICK", "properties": {"locationX": 52}},
            {"time": "2018-10-18T21:37:30-06:00", "type": "VIEW"},
            {"time": "2018-10-18T21:37:30-06:00", "type": "VIEW", "properties": null}
        ]})
    }

    fn message(body: Value) -> String {
        parse(body).expect_err("must be refused").to_string()
    }

    #[test]
    fn a_valid_body_keeps_its_actions_in_order_with_default_properties() {
        let batch = parse(sample()).expect("valid");
        assert_eq!(
            (batch.user_id.as_str(), batch.session_id.as_str()),
            ("ABC123XYZ", "XYZ456ABC")
        );
        let kinds: Vec<&str> = batch.actions.iter().map(|a| a.kind.as_str()).collect();
        assert_eq!(kinds, ["CLICK", "VIEW", "VIEW"]);
        assert_eq!(batch.actions[0].properties, r#"{"locationX":52}"#);
        assert_eq!(batch.actions[1].properties, "{}");
        assert_eq!(batch.actions[2].properties, "{}");
        assert_eq!(batch.request.len(), 32);
    }

    #[test]
    fn actions_may_be_absent_null_or_empty() {
        for actions in [None, Some(json!(null)), Some(json!([]))] {
            let mut body = json!({"userId": "u", "sessionId": "s"});
            if let Some(actions) = actions {
                body["actions"] = actions;
            }
            assert!(parse(body).expect("valid").actions.is_empty());
        }
    }

    #[test]
    fn equal_json_gives_equal_ids_and_any_difference_another() {
        let reordered: Value = serde_json::from_str(
            r#"{"actions": [
                {"properties": {"locationX": 52}, "type": "CLICK", "time": "2018-10-18T21:37:28-06:00"},
                {"type": "VIEW", "time": "2018-10-18T21:37:30-06:00"},
                {"properties": null, "type": "VIEW", "time": "2018-10-18T21:37:30-06:00"}
            ], "sessionId": "XYZ456ABC", "userId": "ABC123XYZ"}"#,
        )
        .expect("JSON");
        let id = parse(sample()).expect("valid").request;
        assert_eq!(parse(reordered).expect("valid").request, id);
        let mut other = sample();
        other["sessionId"] = json!("another");
        assert_ne!(parse(other).expect("valid").request, id);
    }

    #[test]
    fn errors_name_the_failing_place() {
        let mut body = sample();
        body["actions"][2]["time"] = json!("2018-10-18 21:37:30");
        assert!(message(body).starts_with("actions[2].time: must be an RFC 3339"));
        let mut body = sample();
        body["actions"][1]["type"] = json!("");
        assert!(message(body).starts_with("actions[1].type: must be 1 to 64"));
        let mut body = sample();
        body["actions"][0]["type"] = json!("x".repeat(65));
        assert!(message(body).starts_with("actions[0].type: "));
        let mut body = sample();
        body["actions"][0]["properties"] = json!([1]);
        assert!(message(body).starts_with("actions[0].properties: must be a JSON object"));
        let mut body = sample();
        body["actions"][0]["properties"] = json!({"big": "x".repeat(MAX_PROPERTIES_BYTES)});
        assert!(message(body).starts_with("actions[0].properties: must be at most 16384"));
        let mut body = sample();
        body["actions"][1] = json!("CLICK");
        assert!(message(body).starts_with("actions[1]: must be an object"));
        let mut body = sample();
        body["actions"][0]
            .as_object_mut()
            .expect("object")
            .remove("time");
        assert!(message(body).starts_with("actions[0].time: is required"));
    }

    #[test]
    fn a_request_costs_at_most_its_write_unit_budget_counting_properties_bytes() {
        let small = json!({"time": "2018-10-18T21:37:28Z", "type": "CLICK"});
        let thousand =
            json!({"userId": "u", "sessionId": "s", "actions": vec![small; MAX_ACTIONS]});
        let units = parse(thousand)
            .expect("the contract's 1000 actions fit")
            .write_units();
        assert_eq!(units, 1 + 4 * 1000 + 1);
        let many_types: Vec<Value> = (0..MAX_ACTIONS)
            .map(|i| json!({"time": "2018-10-18T21:37:28Z", "type": format!("type-{i}")}))
            .collect();
        let body =
            json!({"userId": "u".repeat(256), "sessionId": "s".repeat(256), "actions": many_types});
        assert_eq!(parse(body).expect("fits").write_units(), 5901);
        let with = |bytes: usize| {
            let action = json!({"time": "2018-10-18T21:37:28Z", "type": "T",
                "properties": {"p": "x".repeat(bytes)}});
            json!({"userId": "u".repeat(256), "sessionId": "s".repeat(256),
                "actions": vec![action; MAX_ACTIONS]})
        };
        assert_eq!(
            parse(with(100)).expect("fits").write_units(),
            1 + 5 * 1000 + 1
        );
        // Ids of 4-byte characters are in every entry's keys: 15 units per action.
        let wide = |id: &str| {
            let actions: Vec<Value> = (0..MAX_ACTIONS)
                .map(|i| json!({"time": "2018-10-18T21:37:28Z", "type": format!("T{i}")}))
                .collect();
            json!({"userId": id, "sessionId": id, "actions": actions})
        };
        let refused = parse(wide(&"😀".repeat(256)))
            .map(|_| ())
            .expect_err("over");
        assert!(refused
            .to_string()
            .starts_with("actions: storing these would cost 15001"));
        let heavy = |text: String| {
            let action = json!({"time": "2018-10-18T21:37:28Z", "type": "T",
                "properties": {"p": text}});
            json!({"userId": "u", "sessionId": "s", "actions": vec![action; 20]})
        };
        // 16 KiB that deflate to a few dozen bytes: 1 unit per copy.
        let repetitive = "x".repeat(MAX_PROPERTIES_BYTES - 16);
        assert_eq!(
            parse(heavy(repetitive)).expect("fits").write_units(),
            1 + 20 * 4 + 1
        );
        // 16 KiB of 64 symbols deflate to about 12.3 KB: a 13 KB table item and three 1 KB
        // entries, which leave the properties out.
        let units = parse(heavy(crate::store::packed::noise(
            MAX_PROPERTIES_BYTES - 16,
        )))
        .expect("fits")
        .write_units();
        assert_eq!(units, 1 + 20 * (13 + 3) + 1);
    }

    #[test]
    fn the_bound_checked_first_is_never_below_the_exact_units() {
        let noise = crate::store::packed::noise;
        for len in (0..1_400).step_by(7).chain([2_000, 5_000, 16_000]) {
            for text in ["x".repeat(len), noise(len)] {
                for id in ["u".to_string(), "é".repeat(200)] {
                    let action = json!({"time": "2018-10-18T21:37:28Z", "type": "T",
                        "properties": {"p": text}});
                    let body = json!({"userId": id, "sessionId": "s", "actions": [action]});
                    let batch = parse(body).expect("fits");
                    let bound = crate::logs::layout::write_units_bound(&batch);
                    assert!(bound >= batch.write_units(), "{len} bytes, {id}");
                }
            }
        }
    }

    #[test]
    fn a_body_over_the_bound_is_still_taken_when_its_exact_units_fit() {
        let action = json!({"time": "2018-10-18T21:37:28Z", "type": "T",
            "properties": {"p": "x".repeat(8 * 1024)}});
        let body = json!({"userId": "u", "sessionId": "s", "actions": vec![action; MAX_ACTIONS]});
        let batch = parse(body).expect("8 KiB that deflate to a few bytes fit");
        assert!(crate::logs::layout::write_units_bound(&batch) > MAX_WRITE_UNITS);
        assert_eq!(batch.write_units(), 1 + 4 * 1000 + 1);
    }

    #[test]
    fn user_session_and_action_list_are_checked() {
        assert!(message(json!({"sessionId": "s"})).starts_with("userId: is required"));
        assert!(
            message(json!({"userId": 5, "sessionId": "s"})).starts_with("userId: must be a string")
        );
        assert!(message(json!({"userId": "u"})).starts_with("sessionId: is required"));
        let long = "é".repeat(257);
        assert!(message(json!({"userId": "u", "sessionId": long}))
            .starts_with("sessionId: must be 1 to 256"));
        assert!(parse(json!({"userId": "é".repeat(256), "sessionId": "s"})).is_ok());
        assert!(
            message(json!({"userId": "u", "sessionId": "s", "actions": {}}))
                .starts_with("actions: must be an array")
        );
        let action = json!({"time": "2018-10-18T21:37:28Z", "type": "CLICK"});
        let too_many = vec![action; MAX_ACTIONS + 1];
        assert!(
            message(json!({"userId": "u", "sessionId": "s", "actions": too_many}))
                .starts_with("actions: at most 1000")
        );
    }
}
