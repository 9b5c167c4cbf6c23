//! How deep client JSON nests, measured by one pass that does not recurse: every JSON body is
//! checked with it before any parser or walk that recurses sees it (docs/faults.md).

use crate::ApiError;

/// The most levels of arrays and objects a client's JSON value may open below the field that
/// holds it (the field's own object or array is level 1).
pub const MAX_LEVELS: usize = 32;

/// One step of the path from the top of a document to a value.
enum Step {
    /// In an object: where the key of the member being read lies in the text, quotes included
    /// (`None` until a key is read, and in steps deeper than any error names), and whether the
    /// next string is a key.
    Object {
        key: Option<(usize, usize)>,
        expect_key: bool,
    },
    /// In an array: the index of the element being read.
    Array { index: usize },
}

/// Refuses `text` with a 400 when a value nests more than `MAX_LEVELS` levels below a field
/// `fields` steps down from the top (`fields` = 1 for the members of a body object, 3 for
/// `actions[i].properties` in `POST /log`). The error names the path of that field, as deep
/// as `fields` steps: `actions[0].properties: nests deeper than 32 levels`. Anything that is
/// not JSON is left to the parser; strings are skipped, escapes included.
pub fn check(text: &[u8], fields: usize) -> Result<(), ApiError> {
    let limit = fields + MAX_LEVELS;
    let mut path: Vec<Step> = Vec::new();
    let mut at = 0;
    while at < text.len() {
        match text[at] {
            b'{' | b'[' if path.len() == limit => return Err(too_deep(text, &path, fields)),
            b'{' => path.push(Step::Object {
                key: None,
                expect_key: true,
            }),
            b'[' => path.push(Step::Array { index: 0 }),
            b'}' | b']' => {
                path.pop();
            }
            b':' => set_expect_key(&mut path, false),
            b',' => match path.last_mut() {
                Some(Step::Array { index }) => *index += 1,
                _ => set_expect_key(&mut path, true),
            },
            b'"' => {
                let end = string_end(text, at + 1);
                let named = path.len() <= fields;
                if let Some(Step::Object { key, expect_key }) = path.last_mut() {
                    if *expect_key && named {
                        *key = Some((at, end.min(text.len())));
                    }
                }
                at = end;
                continue;
            }
            _ => {}
        }
        at += 1;
    }
    Ok(())
}

fn set_expect_key(path: &mut [Step], value: bool) {
    if let Some(Step::Object { expect_key, .. }) = path.last_mut() {
        *expect_key = value;
    }
}

/// The index just past the string whose contents start at `from` (past its closing quote).
fn string_end(text: &[u8], mut from: usize) -> usize {
    while from < text.len() {
        match text[from] {
            b'\\' => from += 2,
            b'"' => return from + 1,
            _ => from += 1,
        }
    }
    from
}

/// A key as text: its JSON string decoded, or its bytes as sent when it does not decode.
fn decoded(quoted: &[u8]) -> String {
    serde_json::from_slice(quoted).unwrap_or_else(|_| {
        String::from_utf8_lossy(quoted)
            .trim_matches('"')
            .to_string()
    })
}

fn too_deep(text: &[u8], path: &[Step], fields: usize) -> ApiError {
    let mut name = String::new();
    for step in path.iter().take(fields) {
        match step {
            Step::Object {
                key: Some((from, to)),
                ..
            } => {
                if !name.is_empty() {
                    name.push('.');
                }
                name.push_str(&decoded(&text[*from..*to]));
            }
            Step::Object { key: None, .. } => break,
            Step::Array { index } => name.push_str(&format!("[{index}]")),
        }
    }
    if name.is_empty() {
        name.push_str("body");
    }
    ApiError::field(&name, format!("nests deeper than {MAX_LEVELS} levels"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested(open: &str, close: &str, levels: usize) -> String {
        format!("{}1{}", open.repeat(levels), close.repeat(levels))
    }

    fn log_body(properties: &str) -> String {
        format!(r#"{{"userId":"u","actions":[{{"type":"A","properties":{properties}}}]}}"#)
    }

    #[test]
    fn a_hundred_thousand_levels_are_refused_naming_the_field() {
        for (open, close) in [("{\"a\":", "}"), ("[", "]")] {
            let deep = log_body(&format!("{{\"p\":{}}}", nested(open, close, 100_000)));
            let err = check(deep.as_bytes(), 3).expect_err("too deep");
            assert_eq!(
                err.to_string(),
                "actions[0].properties: nests deeper than 32 levels"
            );
        }
    }

    #[test]
    fn exactly_the_limit_passes_and_one_more_is_refused() {
        let at_limit = nested("[", "]", MAX_LEVELS - 1);
        assert!(check(log_body(&format!("{{\"p\":{at_limit}}}")).as_bytes(), 3).is_ok());
        let over = nested("[", "]", MAX_LEVELS);
        assert!(check(log_body(&format!("{{\"p\":{over}}}")).as_bytes(), 3).is_err());
    }

    #[test]
    fn the_path_names_keys_as_decoded_and_indexes_as_counted() {
        let body = format!(
            r#"{{"a":"x,[{{","L\u0061st":[1,"]",{}]}}"#,
            nested("[", "]", 40)
        );
        let err = check(body.as_bytes(), 1).expect_err("too deep");
        assert_eq!(err.to_string(), "Last: nests deeper than 32 levels");
        let top = nested("[", "]", 40);
        let err = check(top.as_bytes(), 1).expect_err("too deep");
        assert_eq!(err.to_string(), "[0]: nests deeper than 32 levels");
    }

    #[test]
    fn brackets_inside_strings_do_not_count() {
        let body = format!(r#"{{"k":"{}\"{}"}}"#, "[".repeat(1000), "{".repeat(1000));
        assert!(check(body.as_bytes(), 1).is_ok());
    }
}
