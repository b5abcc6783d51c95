//! Extractors that turn bad input into clear [`ApiError`]s: JSON bodies (malformed,
//! unknown fields, wrong types, too large, wrong content type) and query strings.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::ApiError;

/// A JSON body. Request types use `#[serde(deny_unknown_fields)]`, so a misspelt field
/// is an error rather than silently ignored.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if let Some(ct) = req.headers().get(CONTENT_TYPE) {
            let ct = ct.to_str().unwrap_or_default().to_ascii_lowercase();
            let mime = ct.split(';').next().unwrap_or_default().trim();
            if !(mime == "application/json" || mime.ends_with("+json")) {
                return Err(ApiError::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "unsupported_media_type",
                    format!("the body was sent as `{mime}`; send JSON with `Content-Type: application/json`"),
                ));
            }
        }
        let bytes = Bytes::from_request(req, state).await.map_err(body_error)?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// A JSON body that may be left out: an empty body is `T::default()`.
#[derive(Debug, Clone, Copy, Default)]
pub struct OptionalJson<T>(pub T);

impl<S, T> FromRequest<S> for OptionalJson<T>
where
    T: DeserializeOwned + Default,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state).await.map_err(body_error)?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self(T::default()));
        }
        parse_json(&bytes).map(OptionalJson)
    }
}

/// Parses a JSON body, naming the failing field in the error. Every body keeps the
/// same syntax: one JSON value and nothing after it, no key twice in an object (at any
/// depth; a duplicate is a 422 naming its path, as a duplicate field of a typed body
/// always was).
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request(
            "invalid_json",
            "the request body is empty; send a JSON object",
        ));
    }
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize::<_, Strict>(&mut *de).map_err(json_error)?;
    de.end().map_err(|e| {
        ApiError::bad_request(
            "invalid_json",
            format!("the request body is not valid JSON: {e}; send exactly one JSON value"),
        )
    })?;
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(json_error)
}

/// Any JSON value, read only to refuse duplicate keys.
struct Strict;

impl<'de> serde::Deserialize<'de> for Strict {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrictVisitor)
    }
}

struct StrictVisitor;

impl<'de> serde::de::Visitor<'de> for StrictVisitor {
    type Value = Strict;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<Strict, E> {
        Ok(Strict)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Strict, E> {
        Ok(Strict)
    }

    fn visit_u64<E>(self, _: u64) -> Result<Strict, E> {
        Ok(Strict)
    }

    fn visit_f64<E>(self, _: f64) -> Result<Strict, E> {
        Ok(Strict)
    }

    fn visit_str<E>(self, _: &str) -> Result<Strict, E> {
        Ok(Strict)
    }

    fn visit_unit<E>(self) -> Result<Strict, E> {
        Ok(Strict)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Strict, A::Error> {
        while seq.next_element::<Strict>()?.is_some() {}
        Ok(Strict)
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Strict, A::Error> {
        let mut seen = std::collections::HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if !seen.insert(key.clone()) {
                return Err(serde::de::Error::custom(format_args!(
                    "duplicate key `{key}`: each key may appear once in an object"
                )));
            }
            map.next_value::<Strict>()?;
        }
        Ok(Strict)
    }
}

/// A JSON error: 422 naming the path for a well-formed body with a wrong value, else
/// 400.
fn json_error(e: serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    let path = e.path().to_string();
    let inner = e.into_inner();
    if inner.is_data() {
        let at = if path == "." {
            String::new()
        } else {
            format!("{path}: ")
        };
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request",
            format!("{at}{inner}"),
        )
    } else {
        ApiError::bad_request("invalid_json", format!("the request body is not valid JSON: {inner}"))
    }
}

/// A query string. Unknown parameters are refused when the type denies unknown fields.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(q)| ApiQuery(q))
            .map_err(|e: QueryRejection| {
                let text = e.body_text();
                let text = text
                    .strip_prefix("Failed to deserialize query string: ")
                    .unwrap_or(&text);
                ApiError::bad_request("invalid_query", format!("the query string is invalid: {text}"))
            })
    }
}

/// A body that could not be read: 413 when it is over the limit, 408 when it did not
/// arrive in time, else 400.
pub fn body_error(e: BytesRejection) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return crate::guard::body_over_limit();
    }
    crate::guard::read_error(&e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        name: String,
    }

    #[test]
    fn errors_name_the_problem() {
        let e = parse_json::<Body>(b"{\"name\": 5}").unwrap_err();
        assert_eq!((e.status.as_u16(), e.code), (422, "invalid_request"));
        assert!(e.message.starts_with("name: invalid type"), "{}", e.message);
        let e = parse_json::<Body>(b"{\"name\": \"x\", \"nmae\": 1}").unwrap_err();
        assert!(e.message.contains("unknown field `nmae`"), "{}", e.message);
        let e = parse_json::<Body>(b"{\"name\": ").unwrap_err();
        assert_eq!((e.status.as_u16(), e.code), (400, "invalid_json"));
        let e = parse_json::<Body>(b"  ").unwrap_err();
        assert_eq!(e.code, "invalid_json");
        let e = parse_json::<Body>(b"{}").unwrap_err();
        assert!(e.message.contains("missing field `name`"), "{}", e.message);
    }

    #[test]
    fn one_syntax_for_every_body() {
        // Trailing bytes.
        let e = parse_json::<Body>(br#"{"name": "a"}xyz"#).unwrap_err();
        assert_eq!((e.status.as_u16(), e.code), (400, "invalid_json"), "{}", e.message);
        let e = parse_json::<serde_json::Value>(br#"{"name": "a"} {"name": "b"}"#).unwrap_err();
        assert_eq!(e.code, "invalid_json");
        assert!(parse_json::<Body>(b"{\"name\": \"a\"}  \n").is_ok());
        // Duplicate keys, at any depth, in typed and untyped bodies alike.
        let e = parse_json::<serde_json::Value>(br#"{"a": 1, "b": {"c": 1, "c": 2}}"#).unwrap_err();
        assert_eq!((e.status.as_u16(), e.code), (422, "invalid_request"));
        assert!(e.message.contains("b: duplicate key `c`"), "{}", e.message);
        let e = parse_json::<Body>(br#"{"name": "a", "name": "b"}"#).unwrap_err();
        assert!(e.message.contains("duplicate"), "{}", e.message);
        // The same key in different objects is fine.
        assert!(parse_json::<serde_json::Value>(br#"[{"a": 1}, {"a": 2}]"#).is_ok());
    }
}
