//! Secrets sealed at rest with the server's master key: provider credentials, webhook
//! signing secrets, custom header values of webhooks and tools, idempotent responses.
//!
//! The master key (`FRONTDESK_MASTER_KEY`, at least 32 characters) is stretched into a
//! 256-bit key with HMAC-SHA256; secrets are sealed with ChaCha20-Poly1305 (ring) under a
//! random 96-bit nonce, with the owner (the record and the part of it) as associated
//! data, so a sealed secret copied onto another row does not open. A sealed secret reads
//! `v1.<key id>.<base64url(nonce | ciphertext | tag)>`; the key id (a digest of the
//! derived key, not secret) tells a changed master key apart from tampering. Sealing is
//! pure computation (and the operating system's randomness for nonces): no I/O.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use sha2::{Digest, Sha256};

/// Shortest master key accepted.
pub const MIN_MASTER_KEY_CHARS: usize = 32;

/// What can go wrong sealing or opening a secret.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SealError {
    #[error(
        "the master key must be at least {MIN_MASTER_KEY_CHARS} characters; generate one with `openssl rand -base64 32`"
    )]
    WeakKey,
    #[error(
        "the secret was sealed with another master key (key id {0}); restore the master key it was stored with, or store the credentials again"
    )]
    OtherKey(String),
    #[error("the sealed secret is damaged or does not belong to this record")]
    Damaged,
    #[error("no randomness available")]
    Random,
}

/// The key that seals and opens stored secrets.
pub struct MasterKey {
    key: LessSafeKey,
    id: String,
    rng: SystemRandom,
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MasterKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl MasterKey {
    /// Derives the sealing key from the configured master key.
    pub fn new(master: &str) -> Result<Self, SealError> {
        if master.chars().count() < MIN_MASTER_KEY_CHARS {
            return Err(SealError::WeakKey);
        }
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(master.as_bytes()).map_err(|_| SealError::WeakKey)?;
        mac.update(b"frontdesk/credentials/v1");
        let derived = mac.finalize().into_bytes();
        let id = hex::encode(&Sha256::digest(derived)[..4]);
        let key = UnboundKey::new(&CHACHA20_POLY1305, &derived).map_err(|_| SealError::WeakKey)?;
        Ok(Self {
            key: LessSafeKey::new(key),
            id,
            rng: SystemRandom::new(),
        })
    }

    /// The key's public id (a digest), written into every sealed secret.
    #[must_use]
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Seals `secret` for the record that `owner` names.
    pub fn seal(&self, secret: &str, owner: &str) -> Result<String, SealError> {
        self.seal_bytes(secret.as_bytes(), owner)
    }

    /// Seals bytes for the record that `owner` names.
    pub fn seal_bytes(&self, secret: &[u8], owner: &str) -> Result<String, SealError> {
        let mut nonce = [0u8; NONCE_LEN];
        self.rng.fill(&mut nonce).map_err(|_| SealError::Random)?;
        let mut data = secret.to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(owner.as_bytes()),
                &mut data,
            )
            .map_err(|_| SealError::Damaged)?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&data);
        Ok(format!("v1.{}.{}", self.id, URL_SAFE_NO_PAD.encode(out)))
    }

    /// Opens a secret sealed by [`MasterKey::seal`] for the same `owner`.
    pub fn open(&self, sealed: &str, owner: &str) -> Result<String, SealError> {
        String::from_utf8(self.open_bytes(sealed, owner)?).map_err(|_| SealError::Damaged)
    }

    /// Opens bytes sealed by [`MasterKey::seal_bytes`] for the same `owner`.
    pub fn open_bytes(&self, sealed: &str, owner: &str) -> Result<Vec<u8>, SealError> {
        let mut parts = sealed.splitn(3, '.');
        let (Some("v1"), Some(id), Some(body)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(SealError::Damaged);
        };
        if id != self.id {
            return Err(SealError::OtherKey(id.to_owned()));
        }
        let raw = URL_SAFE_NO_PAD.decode(body).map_err(|_| SealError::Damaged)?;
        if raw.len() < NONCE_LEN {
            return Err(SealError::Damaged);
        }
        let (nonce, rest) = raw.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| SealError::Damaged)?;
        let mut data = rest.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(owner.as_bytes()), &mut data)
            .map_err(|_| SealError::Damaged)?;
        Ok(plain.to_vec())
    }
}

/// Whether two byte strings are equal, in time that depends only on their length (for
/// comparing signatures, digests and tokens).
#[must_use]
pub fn constant_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Whether a stored value is sealed (`v1.<key id>.<data>`), and if so the id of the key
/// that sealed it. No clear value the store keeps looks like this: webhook secrets start
/// with `whsec_`, headers are JSON objects, responses JSON.
#[must_use]
pub fn sealed_by(stored: &str) -> Option<&str> {
    let rest = stored.strip_prefix("v1.")?;
    let (id, data) = rest.split_once('.')?;
    let ok = id.len() == 8
        && id.bytes().all(|b| b.is_ascii_hexdigit())
        && !data.is_empty()
        && data
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    ok.then_some(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "0123456789abcdef0123456789abcdef-test";

    #[test]
    fn seals_and_opens() {
        let k = MasterKey::new(KEY).unwrap();
        let sealed = k.seal("auth-token-123", "ws_1/twilio/AC1").unwrap();
        assert!(!sealed.contains("auth-token-123"));
        assert!(sealed.starts_with(&format!("v1.{}.", k.id())));
        assert_eq!(k.open(&sealed, "ws_1/twilio/AC1").unwrap(), "auth-token-123");
        // Fresh nonce every time.
        assert_ne!(sealed, k.seal("auth-token-123", "ws_1/twilio/AC1").unwrap());
    }

    #[test]
    fn sealed_values_are_recognised() {
        let k = MasterKey::new(KEY).unwrap();
        let sealed = k.seal_bytes(b"{\"a\":1}", "ws_1/idempotency/k").unwrap();
        assert_eq!(sealed_by(&sealed), Some(k.id()));
        assert_eq!(k.open_bytes(&sealed, "ws_1/idempotency/k").unwrap(), b"{\"a\":1}");
        for clear in [
            "whsec_abc",
            "{\"Authorization\":\"x\"}",
            "v1.",
            "v1.nothex!.x",
            "v1.0123abcd.",
        ] {
            assert_eq!(sealed_by(clear), None, "{clear}");
        }
    }

    #[test]
    fn refuses_other_owner_other_key_and_damage() {
        let k = MasterKey::new(KEY).unwrap();
        let sealed = k.seal("tok", "ws_1/twilio/AC1").unwrap();
        assert_eq!(k.open(&sealed, "ws_2/twilio/AC1"), Err(SealError::Damaged));
        let other = MasterKey::new("another-master-key-of-enough-length!!").unwrap();
        assert!(matches!(
            other.open(&sealed, "ws_1/twilio/AC1"),
            Err(SealError::OtherKey(_))
        ));
        let mut bad = sealed.clone();
        bad.pop();
        bad.push(if sealed.ends_with('A') { 'B' } else { 'A' });
        assert_eq!(k.open(&bad, "ws_1/twilio/AC1"), Err(SealError::Damaged));
        assert_eq!(k.open("garbage", "x"), Err(SealError::Damaged));
        assert_eq!(MasterKey::new("short").unwrap_err(), SealError::WeakKey);
    }
}
