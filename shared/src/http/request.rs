//! Reading path parameters, query parameters and bodies from a request, with typed errors.

use super::{Request, MAX_BODY_BYTES};
use crate::ApiError;
use lambda_http::http::header::{CONTENT_TYPE, HOST};
use lambda_http::http::uri::Authority;
use lambda_http::RequestExt;
use std::collections::HashMap;

/// A path parameter that the route template guarantees; missing means a routing bug upstream.
pub fn path_param<'a>(req: &'a Request, name: &str) -> Result<&'a str, ApiError> {
    req.path_parameters_ref()
        .and_then(|params| params.first(name))
        .ok_or_else(|| ApiError::field(name, "is required in the path"))
}

/// The first value of a query parameter; an empty value counts as absent.
pub fn query_param<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.query_string_parameters_ref()
        .and_then(|params| params.first(name))
        .filter(|value| !value.is_empty())
}

/// Splits a query string into decoded name/value pairs, in order.
pub fn parse_query(query: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(query.as_bytes())
        .map(|(name, value)| (name.into_owned(), value.into_owned()))
        .collect()
}

/// The raw body, refused with 413 above 1 MiB.
pub fn body_bytes(req: &Request) -> Result<&[u8], ApiError> {
    let bytes: &[u8] = req.body().as_ref();
    if bytes.len() > MAX_BODY_BYTES {
        return Err(ApiError::PayloadTooLarge);
    }
    Ok(bytes)
}

/// The media type of the request without parameters, lower-cased; `None` when absent.
fn media_type(req: &Request) -> Option<String> {
    let value = req.headers().get(CONTENT_TYPE)?.to_str().ok()?;
    let essence = value.split(';').next().unwrap_or_default().trim();
    Some(essence.to_ascii_lowercase())
}

/// An `application/x-www-form-urlencoded` body as a map (the first value of each name wins).
pub fn form_body(req: &Request) -> Result<HashMap<String, String>, ApiError> {
    let bytes = body_bytes(req)?;
    match media_type(req).as_deref() {
        Some("application/x-www-form-urlencoded") => {}
        _ => {
            return Err(ApiError::UnsupportedMediaType(
                "body: send the form as application/x-www-form-urlencoded".into(),
            ))
        }
    }
    let mut fields = HashMap::new();
    for (name, value) in form_urlencoded::parse(bytes) {
        fields
            .entry(name.into_owned())
            .or_insert_with(|| value.into_owned());
    }
    Ok(fields)
}

/// A JSON object body: `application/json` or no content type, else 415; not an object, 400.
pub fn json_object(req: &Request) -> Result<serde_json::Map<String, serde_json::Value>, ApiError> {
    let bytes = body_bytes(req)?;
    match media_type(req).as_deref() {
        None | Some("application/json") => {}
        Some(other) => {
            return Err(ApiError::UnsupportedMediaType(format!(
                "body: expected application/json, got {other}"
            )))
        }
    }
    match serde_json::from_slice(bytes) {
        Ok(serde_json::Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::field("body", "must be a JSON object")),
        Err(err) => Err(ApiError::field(
            "body",
            format!("is not valid JSON ({err})"),
        )),
    }
}

/// The scheme and host the client addressed, such as `https://api.example.com`: the `Host`
/// header, and `X-Forwarded-Proto` (as API Gateway sets it; `http` when absent).
pub fn origin(req: &Request) -> Result<String, ApiError> {
    let host = req
        .headers()
        .get(HOST)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<Authority>().ok())
        .filter(|authority| !authority.as_str().contains('@'))
        .ok_or_else(|| ApiError::field("Host", "header is missing or not a host[:port]"))?;
    let proto = req
        .headers()
        .get("x-forwarded-proto")
        .map(|value| value.to_str().unwrap_or_default().to_ascii_lowercase());
    let scheme = match proto.as_deref() {
        None | Some("http") => "http",
        Some("https") => "https",
        Some(other) => {
            return Err(ApiError::field(
                "X-Forwarded-Proto",
                format!("must be http or https, not {other:?}"),
            ))
        }
    };
    Ok(format!("{scheme}://{host}"))
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

    fn with_headers(headers: &[(&'static str, &str)]) -> Request {
        let mut req = request(None, b"");
        for (name, value) in headers {
            req.headers_mut()
                .insert(*name, value.parse().expect("valid header"));
        }
        req
    }

    #[test]
    fn origin_is_the_forwarded_scheme_and_the_host() {
        let req = with_headers(&[("host", "abc.example.com"), ("x-forwarded-proto", "https")]);
        assert_eq!(origin(&req).unwrap(), "https://abc.example.com");
        let local = with_headers(&[("host", "127.0.0.1:3000")]);
        assert_eq!(origin(&local).unwrap(), "http://127.0.0.1:3000");
    }

    #[test]
    fn origin_refuses_hosts_that_are_not_a_host_and_odd_schemes() {
        for host in ["", "a b", "evil.example/x", "user@evil.example"] {
            let err = origin(&with_headers(&[("host", host)])).expect_err(host);
            assert!(err.to_string().starts_with("Host: "), "{err}");
        }
        assert!(origin(&request(None, b"")).is_err());
        let ftp = with_headers(&[("host", "a.example"), ("x-forwarded-proto", "ftp")]);
        assert!(origin(&ftp).is_err());
    }
}
