//! `X-Twilio-Signature`: how Twilio signs the requests it makes, checked exactly as
//! Twilio's own libraries check it.
//!
//! The signed text is the full URL Twilio requested (scheme, host, path and query),
//! followed by every POST parameter name and value, names sorted (and, for a repeated
//! name, its values sorted), duplicates once. The signature is the base64 HMAC of that
//! text keyed with the account's auth token: HMAC-SHA1, or HMAC-SHA256 when the request
//! says so in `X-Twilio-Webhooks-Signature-Settings`. Twilio is not consistent about
//! the port in the URL, so the URL is tried without and with its default port. A JSON
//! body is covered by a `bodySHA256` query parameter instead of parameters.
//! Comparisons are constant-time.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use frontdesk_core::secret::constant_eq;
use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256};

/// Which HMAC Twilio used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    Sha1,
    Sha256,
}

impl Algorithm {
    /// Reads `X-Twilio-Webhooks-Signature-Settings` (`key=...,algorithm=HMAC_SHA256`);
    /// a missing header or algorithm means the classic HMAC-SHA1. `None` for an
    /// algorithm this build does not know (the request then fails validation).
    #[must_use]
    pub fn from_settings(header: Option<&str>) -> Option<Self> {
        for part in header.unwrap_or_default().split(',') {
            if let Some((name, value)) = part.split_once('=')
                && name.trim() == "algorithm"
                && !value.trim().is_empty()
            {
                return match value.trim().to_ascii_uppercase().as_str() {
                    "HMAC_SHA1" => Some(Self::Sha1),
                    "HMAC_SHA256" => Some(Self::Sha256),
                    _ => None,
                };
            }
        }
        Some(Self::Sha1)
    }
}

/// The signature Twilio would send for this URL and these POST parameters (a pair
/// repeated exactly counts once, as the `twilio` Python library counts it).
#[must_use]
pub fn compute(token: &str, url: &str, params: &[(String, String)], algorithm: Algorithm) -> String {
    let sorted = sorted_pairs(params);
    let mut text = url.as_bytes().to_vec();
    text.extend_from_slice(&params_text(&sorted, true));
    mac(token, &text, algorithm)
}

/// The parameters sorted by name, then value: Twilio's order. One sort, so the work
/// is `O(n log n)` in the number of parameters, never quadratic.
fn sorted_pairs(params: &[(String, String)]) -> Vec<(&str, &str)> {
    let mut pairs: Vec<(&str, &str)> = params.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    pairs.sort_unstable();
    pairs
}

/// `name value name value ...` of sorted pairs; with `dedup`, a pair repeated exactly
/// counts once.
fn params_text(sorted: &[(&str, &str)], dedup: bool) -> Vec<u8> {
    let mut text = Vec::with_capacity(sorted.iter().map(|(k, v)| k.len() + v.len()).sum());
    let mut last: Option<(&str, &str)> = None;
    for &pair in sorted {
        if dedup && last == Some(pair) {
            continue;
        }
        last = Some(pair);
        text.extend_from_slice(pair.0.as_bytes());
        text.extend_from_slice(pair.1.as_bytes());
    }
    text
}

fn mac(token: &str, text: &[u8], algorithm: Algorithm) -> String {
    match algorithm {
        Algorithm::Sha1 => hmac_base64::<Hmac<Sha1>>(token.as_bytes(), text),
        Algorithm::Sha256 => hmac_base64::<Hmac<Sha256>>(token.as_bytes(), text),
    }
}

/// Base64 of an HMAC (HMAC takes keys of any length, so the error arm is never taken).
fn hmac_base64<M: Mac + KeyInit>(key: &[u8], text: &[u8]) -> String {
    match <M as KeyInit>::new_from_slice(key) {
        Ok(mut m) => {
            m.update(text);
            STANDARD.encode(m.finalize().into_bytes())
        }
        Err(_) => String::new(),
    }
}

/// A request's signed texts, prepared once and then checked against any number of
/// tokens: the URL without and with its default port, times either reading of a pair
/// sent twice (Twilio's libraries disagree: Python counts it once, others twice).
#[derive(Debug)]
pub struct Signed {
    texts: Vec<Vec<u8>>,
}

impl Signed {
    /// Prepares a request. `params` are the form parameters (empty for a JSON body or a
    /// WebSocket handshake); `body` is the raw body, checked against a `bodySHA256`
    /// query parameter when the URL has one (`None` when it does not match: no token
    /// can make such a request valid).
    #[must_use]
    pub fn new(url: &str, params: &[(String, String)], body: &[u8]) -> Option<Self> {
        let mut params = params;
        if let Some(hash) = query_param(url, "bodySHA256") {
            let actual = hex::encode(Sha256::digest(body));
            if !constant_eq(actual.as_bytes(), hash.as_bytes()) {
                return None;
            }
            params = &[];
        }
        let sorted = sorted_pairs(params);
        let repeated = sorted.windows(2).any(|w| w[0] == w[1]);
        let mut readings = vec![params_text(&sorted, true)];
        if repeated {
            readings.push(params_text(&sorted, false));
        }
        let mut texts = Vec::with_capacity(readings.len() * 2);
        for u in [without_port(url), with_port(url)] {
            for r in &readings {
                let mut t = Vec::with_capacity(u.len() + r.len());
                t.extend_from_slice(u.as_bytes());
                t.extend_from_slice(r);
                texts.push(t);
            }
        }
        Some(Self { texts })
    }

    /// Whether `signature` is this token's for the request.
    #[must_use]
    pub fn matches(&self, token: &str, signature: &str, algorithm: Algorithm) -> bool {
        let mut ok = false;
        for t in &self.texts {
            ok |= constant_eq(mac(token, t, algorithm).as_bytes(), signature.as_bytes());
        }
        ok
    }
}

/// Whether `signature` is Twilio's for this request (see [`Signed::new`]).
#[must_use]
pub fn is_valid(
    token: &str,
    url: &str,
    params: &[(String, String)],
    body: &[u8],
    signature: &str,
    algorithm: Algorithm,
) -> bool {
    Signed::new(url, params, body).is_some_and(|s| s.matches(token, signature, algorithm))
}

/// Why a request from "Twilio" was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// No `X-Twilio-Signature` header.
    #[error("the request has no X-Twilio-Signature header; only Twilio may call this URL")]
    Missing,
    /// `X-Twilio-Webhooks-Signature-Settings` names an algorithm this build does not know.
    #[error("the signature algorithm named in X-Twilio-Webhooks-Signature-Settings is not supported")]
    UnknownAlgorithm,
    /// No candidate token signed it.
    #[error("X-Twilio-Signature does not match")]
    Mismatch,
}

/// The one signature check every request from Twilio goes through (Voice webhooks,
/// the ConversationRelay handshake): `urls` are the readings of the URL it called (a
/// WebSocket handshake may be signed over its `wss://` or its `https://` form),
/// `signature` the `X-Twilio-Signature` header, `settings` the
/// `X-Twilio-Webhooks-Signature-Settings` header. Returns the index of the first of
/// `tokens` that signed it.
pub fn verify<'t>(
    urls: &[String],
    params: &[(String, String)],
    body: &[u8],
    signature: Option<&str>,
    settings: Option<&str>,
    tokens: impl IntoIterator<Item = &'t str>,
) -> Result<usize, SignatureError> {
    let signature = signature.ok_or(SignatureError::Missing)?;
    let algorithm = Algorithm::from_settings(settings).ok_or(SignatureError::UnknownAlgorithm)?;
    let signed: Vec<Signed> = urls.iter().filter_map(|u| Signed::new(u, params, body)).collect();
    tokens
        .into_iter()
        .position(|token| signed.iter().any(|s| s.matches(token, signature, algorithm)))
        .ok_or(SignatureError::Mismatch)
}

/// `(scheme, authority, rest)` of an absolute URL.
fn split(url: &str) -> Option<(&str, &str, &str)> {
    let (scheme, after) = url.split_once("://")?;
    let end = after.find(['/', '?', '#']).unwrap_or(after.len());
    Some((scheme, &after[..end], &after[end..]))
}

fn port_of(authority: &str) -> Option<&str> {
    let host_end = authority.rfind(']').map_or(0, |i| i + 1);
    authority[host_end..]
        .rsplit_once(':')
        .map(|(_, p)| p)
        .filter(|p| !p.is_empty())
}

fn without_port(url: &str) -> String {
    match split(url) {
        Some((scheme, authority, rest)) if port_of(authority).is_some() => {
            let host_end = authority.rfind(']').map_or(0, |i| i + 1);
            let colon = authority[host_end..]
                .rfind(':')
                .map_or(authority.len(), |i| host_end + i);
            format!("{scheme}://{}{rest}", &authority[..colon])
        }
        _ => url.to_owned(),
    }
}

fn with_port(url: &str) -> String {
    match split(url) {
        Some((scheme, authority, rest)) if port_of(authority).is_none() => {
            let secure = scheme.eq_ignore_ascii_case("https") || scheme.eq_ignore_ascii_case("wss");
            let port = if secure { 443 } else { 80 };
            format!("{scheme}://{authority}:{port}{rest}")
        }
        _ => url.to_owned(),
    }
}

/// A query parameter's decoded value.
fn query_param(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    let query = query.split('#').next().unwrap_or_default();
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    /// Twilio's documented example request; the expected value is what the PyPI `twilio`
    /// library's RequestValidator computes for it.
    #[test]
    fn twilio_documentation_example() {
        let params = p(&[
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+12349013030"),
            ("Digits", "1234"),
            ("From", "+12349013030"),
            ("To", "+18005551212"),
        ]);
        let url = "https://example.com/myapp.php?foo=1&bar=2";
        assert_eq!(
            compute("12345", url, &params, Algorithm::Sha1),
            "vNe7KK2kJwCsxc9K3OLkkKB3qqI="
        );
        assert!(is_valid(
            "12345",
            url,
            &params,
            b"",
            "vNe7KK2kJwCsxc9K3OLkkKB3qqI=",
            Algorithm::Sha1
        ));
        assert!(is_valid(
            "12345",
            "https://example.com:443/myapp.php?foo=1&bar=2",
            &params,
            b"",
            "vNe7KK2kJwCsxc9K3OLkkKB3qqI=",
            Algorithm::Sha1
        ));
        assert!(!is_valid(
            "12346",
            url,
            &params,
            b"",
            "vNe7KK2kJwCsxc9K3OLkkKB3qqI=",
            Algorithm::Sha1
        ));
        assert!(!is_valid(
            "12345",
            url,
            &params[1..],
            b"",
            "vNe7KK2kJwCsxc9K3OLkkKB3qqI=",
            Algorithm::Sha1
        ));
        assert!(!is_valid("12345", url, &params, b"", "", Algorithm::Sha1));
    }

    #[test]
    fn repeated_names_sort_their_values() {
        let a = p(&[("B", "2"), ("A", "y"), ("A", "x")]);
        let b = p(&[("A", "x"), ("B", "2"), ("A", "y")]);
        let s = compute("t", "https://h/p", &a, Algorithm::Sha1);
        assert_eq!(s, compute("t", "https://h/p", &b, Algorithm::Sha1));
        assert_ne!(s, compute("t", "https://h/p", &a, Algorithm::Sha256));
    }

    #[test]
    fn a_pair_sent_twice_reads_either_way() {
        let twice = p(&[("A", "1"), ("A", "1"), ("B", "2")]);
        let once = compute("t", "https://h/p", &twice, Algorithm::Sha1);
        let mut text = b"https://h/p".to_vec();
        text.extend_from_slice(&params_text(&sorted_pairs(&twice), false));
        let both = mac("t", &text, Algorithm::Sha1);
        assert_ne!(once, both);
        assert!(is_valid("t", "https://h/p", &twice, b"", &once, Algorithm::Sha1));
        assert!(is_valid("t", "https://h/p", &twice, b"", &both, Algorithm::Sha1));
    }

    #[test]
    fn ports() {
        assert_eq!(with_port("https://h.example/x?y=1"), "https://h.example:443/x?y=1");
        assert_eq!(with_port("http://h.example"), "http://h.example:80");
        assert_eq!(without_port("https://h.example:8443/x"), "https://h.example/x");
        assert_eq!(without_port("wss://[::1]:9/x"), "wss://[::1]/x");
        assert_eq!(with_port("wss://[::1]/x"), "wss://[::1]:443/x");
        assert_eq!(with_port("ws://h/x"), "ws://h:80/x");
    }

    #[test]
    fn body_hash() {
        let body = br#"{"a":1}"#;
        let hash = hex::encode(Sha256::digest(body));
        let url = format!("https://h/p?bodySHA256={hash}");
        let sig = compute("t", &url, &[], Algorithm::Sha1);
        assert!(is_valid("t", &url, &[], body, &sig, Algorithm::Sha1));
        assert!(!is_valid("t", &url, &[], br#"{"a":2}"#, &sig, Algorithm::Sha1));
    }

    #[test]
    fn settings_header() {
        assert_eq!(Algorithm::from_settings(None), Some(Algorithm::Sha1));
        assert_eq!(
            Algorithm::from_settings(Some("key=abc,algorithm=HMAC_SHA256")),
            Some(Algorithm::Sha256)
        );
        assert_eq!(Algorithm::from_settings(Some("algorithm=HMAC_MD5")), None);
    }

    #[test]
    fn one_check_for_every_request() {
        let params = p(&[("CallSid", "CA1")]);
        let url = "https://fd.example.com/telephony/twilio/gather".to_owned();
        let sig = compute("right", &url, &params, Algorithm::Sha1);
        let urls = [url.clone()];
        assert_eq!(verify(&urls, &params, b"", Some(&sig), None, ["wrong", "right"]), Ok(1));
        assert_eq!(
            verify(&urls, &params, b"", None, None, ["right"]),
            Err(SignatureError::Missing)
        );
        assert_eq!(
            verify(&urls, &params, b"", Some(&sig), None, ["wrong"]),
            Err(SignatureError::Mismatch)
        );
        // An algorithm this build does not know is refused, on every path (no fallback).
        assert_eq!(
            verify(&urls, &params, b"", Some(&sig), Some("algorithm=HMAC_MD5"), ["right"]),
            Err(SignatureError::UnknownAlgorithm)
        );
        // A handshake signed over its https:// reading matches among its readings.
        let ws = [
            "wss://fd.example.com/relay".to_owned(),
            "https://fd.example.com/relay".to_owned(),
        ];
        let sig = compute("right", &ws[1], &[], Algorithm::Sha256);
        assert_eq!(
            verify(&ws, &[], b"", Some(&sig), Some("algorithm=HMAC_SHA256"), ["right"]),
            Ok(0)
        );
    }
}
