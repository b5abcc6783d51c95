//! Webhook signatures.
//!
//! Standard Webhooks: `webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`
//! keyed with the base64-decoded secret after `whsec_`; during a rotation one `v1,` entry
//! per secret, space-separated. And the simple scheme most tutorials show:
//! `X-Frontdesk-Signature: sha256=<hex HMAC-SHA256 of the raw body>` keyed with the whole
//! secret string (the current secret only).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use frontdesk_core::secret::constant_eq;
use frontdesk_core::webhook::WebhookSecret;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

fn mac(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    // HMAC accepts keys of any length; this cannot fail.
    let mut m =
        <HmacSha256 as KeyInit>::new_from_slice(key).unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    for p in parts {
        m.update(p);
    }
    m.finalize().into_bytes().to_vec()
}

/// The `webhook-signature` value for one or more secrets.
#[must_use]
pub fn standard_signature(secrets: &[&WebhookSecret], msg_id: &str, timestamp: i64, body: &[u8]) -> String {
    let ts = timestamp.to_string();
    secrets
        .iter()
        .map(|s| {
            let sig = mac(&s.key_bytes(), &[msg_id.as_bytes(), b".", ts.as_bytes(), b".", body]);
            format!("v1,{}", STANDARD.encode(sig))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The `X-Frontdesk-Signature` value.
#[must_use]
pub fn simple_signature(secret: &WebhookSecret, body: &[u8]) -> String {
    format!("sha256={}", hex::encode(mac(secret.expose().as_bytes(), &[body])))
}

/// Why a signature check failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("a required header is missing: {0}")]
    Missing(&'static str),
    #[error("webhook-timestamp is not a Unix time in seconds")]
    BadTimestamp,
    #[error("the timestamp is more than {0} seconds away from now (a replay, or a clock out of sync)")]
    Stale(i64),
    #[error("no signature matches the secret")]
    Mismatch,
}

/// Verifies Standard Webhooks headers: the timestamp within `tolerance` seconds of `now`
/// and one of the space-separated `v1,` signatures matching.
pub fn verify_standard(
    secret: &WebhookSecret,
    msg_id: Option<&str>,
    timestamp: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
    now: i64,
    tolerance: i64,
) -> Result<(), VerifyError> {
    let id = msg_id.ok_or(VerifyError::Missing("webhook-id"))?;
    let ts_text = timestamp.ok_or(VerifyError::Missing("webhook-timestamp"))?;
    let sigs = signature.ok_or(VerifyError::Missing("webhook-signature"))?;
    let ts: i64 = ts_text.trim().parse().map_err(|_| VerifyError::BadTimestamp)?;
    if now.abs_diff(ts) > tolerance.unsigned_abs() {
        return Err(VerifyError::Stale(tolerance));
    }
    let expected = mac(
        &secret.key_bytes(),
        &[id.as_bytes(), b".", ts_text.trim().as_bytes(), b".", body],
    );
    let ok = sigs
        .split(' ')
        .filter_map(|s| s.strip_prefix("v1,"))
        .filter_map(|b| STANDARD.decode(b).ok())
        .any(|sig| constant_eq(&sig, &expected));
    if ok { Ok(()) } else { Err(VerifyError::Mismatch) }
}

/// Verifies `X-Frontdesk-Signature`.
pub fn verify_simple(secret: &WebhookSecret, header: Option<&str>, body: &[u8]) -> Result<(), VerifyError> {
    let h = header.ok_or(VerifyError::Missing("x-frontdesk-signature"))?;
    if constant_eq(h.trim().as_bytes(), simple_signature(secret, body).as_bytes()) {
        Ok(())
    } else {
        Err(VerifyError::Mismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_webhooks_reference_vector() {
        // The example from the Standard Webhooks specification.
        let secret = WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let body = br#"{"test": 2432232314}"#;
        let sig = standard_signature(&[&secret], "msg_p5jXN8AQM9LWM0D4loKWxJek", 1_614_265_330, body);
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        assert!(
            verify_standard(
                &secret,
                Some("msg_p5jXN8AQM9LWM0D4loKWxJek"),
                Some("1614265330"),
                Some(&sig),
                body,
                1_614_265_330,
                300
            )
            .is_ok()
        );
    }

    #[test]
    fn rotation_sends_both_and_either_verifies() {
        let old = WebhookSecret::generate();
        let new = WebhookSecret::generate();
        let sig = standard_signature(&[&new, &old], "evt_1", 100, b"{}");
        assert_eq!(sig.split(' ').count(), 2);
        for s in [&old, &new] {
            assert!(verify_standard(s, Some("evt_1"), Some("100"), Some(&sig), b"{}", 100, 300).is_ok());
        }
        let other = WebhookSecret::generate();
        assert_eq!(
            verify_standard(&other, Some("evt_1"), Some("100"), Some(&sig), b"{}", 100, 300),
            Err(VerifyError::Mismatch)
        );
    }

    #[test]
    fn stale_or_tampered_is_refused() {
        let s = WebhookSecret::generate();
        let sig = standard_signature(&[&s], "evt_1", 100, b"{}");
        assert_eq!(
            verify_standard(&s, Some("evt_1"), Some("100"), Some(&sig), b"{}", 401, 300),
            Err(VerifyError::Stale(300))
        );
        let min = i64::MIN.to_string();
        assert_eq!(
            verify_standard(&s, Some("evt_1"), Some(&min), Some(&sig), b"{}", i64::MAX, 300),
            Err(VerifyError::Stale(300))
        );
        assert_eq!(
            verify_standard(&s, Some("evt_1"), Some("100"), Some(&sig), b"{ }", 100, 300),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(
            verify_standard(&s, Some("evt_2"), Some("100"), Some(&sig), b"{}", 100, 300),
            Err(VerifyError::Mismatch)
        );
        let simple = simple_signature(&s, b"{}");
        assert!(simple.starts_with("sha256=") && simple.len() == 7 + 64);
        assert!(verify_simple(&s, Some(&simple), b"{}").is_ok());
        assert!(verify_simple(&s, Some(&simple), b"{}x").is_err());
    }
}
