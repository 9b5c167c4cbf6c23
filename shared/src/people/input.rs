//! Validating a person before anything is stored: from a `POST /people` JSON body or from a CSV
//! row. Both end in `Details::new`, so the two paths accept exactly the same people.

use super::{date, Details, PersonId};
use crate::store::keys::{self, KeyPart};
use crate::ApiError;
use serde_json::{Map, Value};
use time::Date;

pub const MAX_AGE: i64 = 150;
/// Names and accounts longer than this are refused (keeps index keys well under their limits).
pub const MAX_TEXT_CHARS: usize = 256;

/// The fields of a person as text or numbers, not yet checked.
#[derive(Debug, Default)]
pub struct Raw<'a> {
    pub first: Option<&'a str>,
    pub last: Option<&'a str>,
    pub age: Option<i64>,
    pub github: Option<&'a str>,
    pub graduated: Option<&'a str>,
}

impl Details {
    /// Checks and normalises: text trimmed (blank is null), `Age` 0..=150, the date parsed and
    /// not in the future, and at least one of `First`/`Last`.
    pub fn new(raw: Raw<'_>, today: Date) -> Result<Details, ApiError> {
        let details = Details {
            first: text("First", raw.first)?,
            last: text("Last", raw.last)?,
            age: raw.age.map(age).transpose()?,
            github: text("GithubAcct", raw.github)?,
            graduated: match text(super::DATE_FIELD, raw.graduated)? {
                Some(d) => Some(
                    date::parse(&d, today).map_err(|e| ApiError::field(super::DATE_FIELD, e))?,
                ),
                None => None,
            },
        };
        if details.first.is_none() && details.last.is_none() {
            return Err(ApiError::field(
                "First and Last",
                "at least one must be non-empty",
            ));
        }
        // The last name's key is the partition key of `ByLastName`.
        if let Some(key) = details.last_key() {
            keys::check("Last", &key, KeyPart::Partition)?;
        }
        Ok(details)
    }
}

fn text(field: &str, raw: Option<&str>) -> Result<Option<String>, ApiError> {
    let Some(trimmed) = raw.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    if trimmed.chars().count() > MAX_TEXT_CHARS {
        return Err(ApiError::field(
            field,
            format!("must be at most {MAX_TEXT_CHARS} characters"),
        ));
    }
    Ok(Some(trimmed.to_string()))
}

fn age(value: i64) -> Result<u8, ApiError> {
    u8::try_from(value)
        .ok()
        .filter(|a| i64::from(*a) <= MAX_AGE)
        .ok_or_else(|| ApiError::field("Age", format!("must be an integer from 0 to {MAX_AGE}")))
}

/// A `POST /people` body: the optional `ID` and the person. Unknown keys are ignored.
pub fn from_json(
    body: &Map<String, Value>,
    today: Date,
) -> Result<(Option<PersonId>, Details), ApiError> {
    let id = json_integer(body, "ID")?
        .map(PersonId::chosen)
        .transpose()?;
    let raw = Raw {
        first: json_text(body, "First")?,
        last: json_text(body, "Last")?,
        age: json_integer(body, "Age")?,
        github: json_text(body, "GithubAcct")?,
        graduated: json_text(body, super::DATE_FIELD)?,
    };
    Ok((id, Details::new(raw, today)?))
}

/// A JSON integer or null/absent; a fraction, a string or anything else is refused. `-0` is
/// the integer 0 (the JSON parser reads it as the float -0.0, which is therefore taken as 0).
fn json_integer(body: &Map<String, Value>, field: &str) -> Result<Option<i64>, ApiError> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) if n.is_i64() || n.is_u64() => {
            Ok(Some(n.as_i64().unwrap_or(i64::MAX)))
        }
        Some(Value::Number(n)) if n.as_f64().is_some_and(|f| f == 0.0 && f.is_sign_negative()) => {
            Ok(Some(0))
        }
        Some(other) => Err(ApiError::field(
            field,
            format!("must be a JSON integer or null, not {other}"),
        )),
    }
}

fn json_text<'a>(body: &'a Map<String, Value>, field: &str) -> Result<Option<&'a str>, ApiError> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(ApiError::field(field, "must be a string or null")),
    }
}

/// An integer cell of a CSV row: blank is null, anything but an integer is refused.
pub fn cell_integer(field: &str, cell: &str) -> Result<Option<i64>, ApiError> {
    let cell = cell.trim();
    if cell.is_empty() {
        return Ok(None);
    }
    cell.parse()
        .map(Some)
        .map_err(|_| ApiError::field(field, format!("must be an integer, not {cell:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::date::tests::day;
    use serde_json::json;

    fn check(body: Value) -> Result<(Option<PersonId>, Details), ApiError> {
        from_json(body.as_object().expect("object"), day("2025-06-15"))
    }

    fn message(body: Value) -> String {
        check(body).expect_err("must be refused").to_string()
    }

    #[test]
    fn a_full_person_is_trimmed_and_normalised() {
        let (id, details) = check(json!({
            "ID": 9, "First": "  Ann ", "Last": "", "Age": null, "GithubAcct": "   ",
            "Date of 3rd Grade Graduation": "6/24/40", "EstimatedAge": 3
        }))
        .expect("valid");
        assert_eq!(id.map(PersonId::get), Some(9));
        assert_eq!(details.first.as_deref(), Some("Ann"));
        assert_eq!((details.last, details.github), (None, None));
        assert_eq!(
            details.graduated.map(date::format).as_deref(),
            Some("1940-06-24")
        );
    }

    #[test]
    fn ages_must_be_json_integers_from_0_to_150() {
        assert_eq!(
            check(json!({"Last": "x", "Age": 0})).expect("0").1.age,
            Some(0)
        );
        assert_eq!(
            check(json!({"Last": "x", "Age": 150})).expect("150").1.age,
            Some(150)
        );
        let minus_zero: Value = serde_json::from_str(r#"{"Last": "x", "Age": -0}"#).expect("JSON");
        assert_eq!(check(minus_zero).expect("-0 is 0").1.age, Some(0));
        for bad in [
            json!(151),
            json!(-1),
            json!(30.5),
            json!(30.0),
            json!(0.0),
            json!("30"),
            json!(true),
            json!(u64::MAX),
        ] {
            let msg = message(json!({"Last": "x", "Age": bad}));
            assert!(msg.starts_with("Age: "), "{msg}");
        }
    }

    #[test]
    fn chosen_ids_are_positive_integers_of_at_most_2_pow_31_minus_1() {
        for bad in [
            json!(0),
            json!(-3),
            json!(2147483648u64),
            json!(9007199254740991u64),
            json!("5"),
            json!(1.5),
        ] {
            let msg = message(json!({"Last": "x", "ID": bad}));
            assert!(msg.starts_with("ID: "), "{msg}");
        }
        let max = check(json!({"Last": "x", "ID": 2147483647u64})).expect("max id");
        assert_eq!(max.0.map(PersonId::get), Some(2147483647));
    }

    #[test]
    fn names_dates_and_types_are_checked_naming_the_field() {
        assert!(message(json!({"First": " ", "Last": null})).starts_with("First and Last: "));
        assert!(message(json!({"First": 5})).starts_with("First: "));
        assert!(message(json!({"Last": "x".repeat(257)})).starts_with("Last: "));
        assert!(message(json!({"Last": "x", "GithubAcct": []})).starts_with("GithubAcct: "));
        for bad in ["2025-06-16", "31/12/99", "yesterday"] {
            let msg = message(json!({"Last": "x", "Date of 3rd Grade Graduation": bad}));
            assert!(msg.starts_with("Date of 3rd Grade Graduation: "), "{msg}");
        }
    }

    #[test]
    fn integer_cells_are_blank_or_integers() {
        assert_eq!(cell_integer("Age", " 22 ").expect("int"), Some(22));
        assert_eq!(cell_integer("Age", "").expect("blank"), None);
        assert!(cell_integer("Age", "22.5").is_err());
    }
}
