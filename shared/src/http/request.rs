//! Reading path parameters, query parameters and bodies from a request, with typed errors.

use super::{Request, MAX_BODY_BYTES};
use crate::ApiError;
use lambda_http::http::header::CONTENT_TYPE;
use lambda_http::RequestExt;
use percent_encoding::percent_decode;
use std::borrow::Cow;
use std::collections::HashMap;

/// A path parameter that the route template guarantees; missing means a routing bug upstream.
/// A value holding U+FFFD is a 400: API Gateway hands Lambda path parameters already decoded,
/// with U+FFFD where the bytes were not UTF-8, so `zz%FF` and `zz%FE` would otherwise share a
/// key in AWS while the local API tells them apart (see `docs/faults.md`).
pub fn path_param<'a>(req: &'a Request, name: &str) -> Result<&'a str, ApiError> {
    let value = req
        .path_parameters_ref()
        .and_then(|params| params.first(name))
        .ok_or_else(|| ApiError::field(name, "is required in the path"))?;
    if value.contains(char::REPLACEMENT_CHARACTER) {
        return Err(ApiError::field(name, NOT_UTF8_PATH));
    }
    Ok(value)
}

/// Why a path value is refused: not UTF-8, or U+FFFD, which stands for bytes that were not.
const NOT_UTF8_PATH: &str =
    "is not valid UTF-8 once percent-decoded (U+FFFD is refused too: it stands for such bytes)";

/// The first value of a query parameter; an empty value counts as absent.
pub fn query_param<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.query_string_parameters_ref()
        .and_then(|params| params.first(name))
        .filter(|value| !value.is_empty())
}

/// An instant from a query string with the `+` of its UTC offset restored: sent unencoded, a
/// `+` arrives as a space (`2018-10-18T21:37:28 02:00`).
pub fn offset_plus(raw: &str) -> Cow<'_, str> {
    let bytes = raw.as_bytes();
    let offset_at = bytes.len().saturating_sub(6);
    if bytes.len() > 6 && bytes[offset_at] == b' ' && bytes[offset_at + 3] == b':' {
        return Cow::Owned(format!("{}+{}", &raw[..offset_at], &raw[offset_at + 1..]));
    }
    Cow::Borrowed(raw)
}

/// Percent-decodes `raw` (`+` is a space when `plus_is_space`) into text; bytes that are not
/// UTF-8 once decoded are a 400 naming `field`, never replaced, so two raw values never meet.
pub fn percent_decoded(field: &str, raw: &[u8], plus_is_space: bool) -> Result<String, ApiError> {
    let spaced: Cow<[u8]> = if plus_is_space && raw.contains(&b'+') {
        Cow::Owned(
            raw.iter()
                .map(|&b| if b == b'+' { b' ' } else { b })
                .collect(),
        )
    } else {
        Cow::Borrowed(raw)
    };
    let bytes: Vec<u8> = percent_decode(&spaced).collect();
    String::from_utf8(bytes)
        .map_err(|_| ApiError::field(field, "is not valid UTF-8 once percent-decoded"))
}

/// Splits `application/x-www-form-urlencoded` text (a query string or a form body) into decoded
/// name/value pairs, in order. A name that is not UTF-8 is reported as `<what> parameter name`.
pub fn parse_form(what: &str, bytes: &[u8]) -> Result<Vec<(String, String)>, ApiError> {
    bytes
        .split(|&b| b == b'&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = match pair.iter().position(|&b| b == b'=') {
                Some(at) => (&pair[..at], &pair[at + 1..]),
                None => (pair, &pair[pair.len()..]),
            };
            let name = percent_decoded(&format!("{what} parameter name"), name, true)?;
            let value = percent_decoded(&name, value, true)?;
            Ok((name, value))
        })
        .collect()
}

/// Splits a query string into decoded name/value pairs, in order; see `parse_form`.
pub fn parse_query(query: &str) -> Result<Vec<(String, String)>, ApiError> {
    parse_form("query", query.as_bytes())
}

/// Checks what every route may read before its handler runs: each query name and value must
/// decode to UTF-8. The Lambda runtime decodes the query lossily into the parameters that
/// `query_param` reads, so this check is what keeps `%FF` and `%EF%BF%BD` apart.
pub fn screen(req: &Request) -> Result<(), ApiError> {
    parse_query(req.uri().query().unwrap_or_default())?;
    media_type(req)?;
    Ok(())
}

/// The raw body, refused with 413 above 1 MiB.
pub fn body_bytes(req: &Request) -> Result<&[u8], ApiError> {
    let bytes: &[u8] = req.body().as_ref();
    if bytes.len() > MAX_BODY_BYTES {
        return Err(ApiError::PayloadTooLarge);
    }
    Ok(bytes)
}

/// The media type of the request without parameters, lower-cased; `None` when absent. A
/// value that is not visible ASCII cannot be read, and is a 415 rather than "absent".
fn media_type(req: &Request) -> Result<Option<String>, ApiError> {
    let mut values = req.headers().get_all(CONTENT_TYPE).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(ApiError::UnsupportedMediaType(
            "Content-Type: sent more than once; send one".into(),
        ));
    }
    let value = value.to_str().map_err(|_| {
        ApiError::UnsupportedMediaType(
            "Content-Type: is not visible ASCII; send application/json or no Content-Type".into(),
        )
    })?;
    let essence = value.split(';').next().unwrap_or_default().trim();
    Ok(Some(essence.to_ascii_lowercase()))
}

/// An `application/x-www-form-urlencoded` body as a map (the first value of each name wins).
pub fn form_body(req: &Request) -> Result<HashMap<String, String>, ApiError> {
    let bytes = body_bytes(req)?;
    match media_type(req)?.as_deref() {
        Some("application/x-www-form-urlencoded") => {}
        _ => {
            return Err(ApiError::UnsupportedMediaType(
                "body: send the form as application/x-www-form-urlencoded".into(),
            ))
        }
    }
    let mut fields = HashMap::new();
    for (name, value) in parse_form("form", bytes)? {
        fields.entry(name).or_insert(value);
    }
    Ok(fields)
}

/// A JSON object body: `application/json` or no content type, else 415; not an object, 400.
pub fn json_object(req: &Request) -> Result<serde_json::Map<String, serde_json::Value>, ApiError> {
    parse_object(json_body(req)?)
}

/// The raw bytes of a JSON body (`application/json` or no content type, else 415), unparsed.
pub fn json_body(req: &Request) -> Result<&[u8], ApiError> {
    let bytes = body_bytes(req)?;
    match media_type(req)?.as_deref() {
        None | Some("application/json") => Ok(bytes),
        Some(other) => Err(ApiError::UnsupportedMediaType(format!(
            "body: expected application/json, got {other}"
        ))),
    }
}

/// Parses bytes as a JSON object; anything else is a 400 naming the body, or the field whose
/// value nests too deep (checked first, without recursion).
pub fn parse_object(bytes: &[u8]) -> Result<serde_json::Map<String, serde_json::Value>, ApiError> {
    crate::nesting::check(bytes, 1)?;
    match serde_json::from_slice(bytes) {
        Ok(serde_json::Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::field("body", "must be a JSON object")),
        Err(err) => Err(ApiError::field(
            "body",
            format!("is not valid JSON ({err})"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::Body;

    fn request(content_type: Option<&str>, body: &[u8]) -> Request {
        let mut req = Request::new(Body::from(body.to_vec()));
        if let Some(value) = content_type {
            req.headers_mut()
                .insert(CONTENT_TYPE, value.parse().expect("valid header"));
        }
        req
    }

    #[test]
    fn form_body_decodes_fields_and_keeps_the_first_value() {
        let req = request(
            Some("application/x-www-form-urlencoded; charset=UTF-8"),
            b"id=a%20b&question=why%3F&id=second",
        );
        let form = form_body(&req).expect("form parses");
        assert_eq!(form["id"], "a b");
        assert_eq!(form["question"], "why?");
    }

    #[test]
    fn form_body_refuses_other_media_types_with_415() {
        let err = form_body(&request(Some("text/plain"), b"id=1")).unwrap_err();
        assert!(matches!(err, ApiError::UnsupportedMediaType(_)));
    }

    #[test]
    fn bodies_over_one_mebibyte_are_413() {
        let big = vec![b'a'; MAX_BODY_BYTES + 1];
        let err = form_body(&request(Some("application/x-www-form-urlencoded"), &big)).unwrap_err();
        assert!(matches!(err, ApiError::PayloadTooLarge));
    }

    #[test]
    fn json_object_refuses_arrays_and_garbage_with_400_and_other_types_with_415() {
        assert!(matches!(
            json_object(&request(None, b"[1]")),
            Err(ApiError::BadRequest(_))
        ));
        assert!(matches!(
            json_object(&request(None, b"{")),
            Err(ApiError::BadRequest(_))
        ));
        assert!(matches!(
            json_object(&request(Some("text/csv"), b"{}")),
            Err(ApiError::UnsupportedMediaType(_))
        ));
        assert!(json_object(&request(Some("application/json"), br#"{"a":1}"#)).is_ok());
    }

    #[test]
    fn forms_and_queries_decode_strictly_naming_the_field() {
        assert_eq!(
            parse_form("query", b"a=1+2&&b=%C3%A9&c&a=x").unwrap(),
            [("a", "1 2"), ("b", "é"), ("c", ""), ("a", "x")]
                .map(|(k, v)| (k.to_string(), v.to_string()))
        );
        for (raw, field) in [
            (&b"username=A%FF"[..], "username: "),
            (b"a=1&u=%C3", "u: "),
            (b"%FF=1", "query parameter name: "),
            (b"k=\xff", "k: "),
        ] {
            let err = parse_form("query", raw).expect_err("not UTF-8");
            assert!(err.to_string().starts_with(field), "{err}");
        }
        let err = form_body(&request(
            Some("application/x-www-form-urlencoded"),
            b"id=zz%FF",
        ))
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "id: is not valid UTF-8 once percent-decoded"
        );
    }

    #[test]
    fn an_unreadable_content_type_is_415_never_absent() {
        for value in [
            &b"text/plain; charset=\xe9"[..],
            b"application/json\x80",
            b"\xff",
        ] {
            let mut req = request(None, b"{}");
            let header = lambda_http::http::HeaderValue::from_bytes(value).expect("header bytes");
            req.headers_mut().insert(CONTENT_TYPE, header);
            assert!(matches!(
                json_object(&req),
                Err(ApiError::UnsupportedMediaType(_))
            ));
            assert!(matches!(
                screen(&req),
                Err(ApiError::UnsupportedMediaType(_))
            ));
        }
        let mut twice = request(Some("application/json"), b"{}");
        twice
            .headers_mut()
            .append(CONTENT_TYPE, "text/plain".parse().expect("header"));
        assert!(matches!(
            json_object(&twice),
            Err(ApiError::UnsupportedMediaType(_))
        ));
    }
}
