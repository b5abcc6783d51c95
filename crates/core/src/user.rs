//! Dashboard users (SPEC section 7): their sign-in names, passwords (Argon2id), session
//! tokens, the CSRF token of a session, and the lock-out rule, as pure values and
//! functions. Storage and HTTP are elsewhere; hashing is CPU work the caller runs off
//! the async workers.

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Argon2, PasswordHash};
use chrono::{DateTime, Duration, Utc};
use rand::Rng;
use sha2::{Digest, Sha256};

use crate::ValidationError;
use crate::id::{UserId, WorkspaceId};

/// A dashboard user as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub workspace_id: WorkspaceId,
    /// The sign-in name (lower case).
    pub login: String,
    /// Argon2id, PHC string ([`Password::hash`]).
    pub password_hash: String,
    pub created_at: DateTime<Utc>,
}

/// A signed-in session as stored (found by its token's digest).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub user_id: UserId,
    pub workspace_id: WorkspaceId,
    pub login: String,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
}

/// Wrong passwords for one user within [`LOCKOUT_WINDOW`] that lock its sign-in.
pub const LOCKOUT_FAILURES: u32 = 5;

/// The window wrong passwords are counted in, and how long a lock-out lasts.
#[must_use]
pub fn lockout_window() -> Duration {
    Duration::minutes(15)
}

/// A session ends after this long without a request.
#[must_use]
pub fn session_idle() -> Duration {
    Duration::hours(12)
}

/// Whether a user's sign-in is locked at `now`, given the times of its recent wrong
/// passwords: [`LOCKOUT_FAILURES`] of them within 15 minutes lock it for 15 minutes
/// after the last one.
#[must_use]
pub fn locked_until(failures: &[DateTime<Utc>], now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let window = lockout_window();
    let mut recent: Vec<DateTime<Utc>> = failures.iter().copied().filter(|t| *t > now - window * 2).collect();
    recent.sort_unstable();
    // The latest run of LOCKOUT_FAILURES failures that fit in one window.
    let n = usize::try_from(LOCKOUT_FAILURES).unwrap_or(usize::MAX);
    recent.windows(n).rev().find_map(|run| {
        let (first, last) = (run[0], run[n - 1]);
        (last - first <= window && last + window > now).then_some(last + window)
    })
}

/// A sign-in name: an email address or a plain name (`admin`), case-insensitive.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Login(String);

impl Login {
    /// Trims and lower-cases; 1 to 254 visible characters, no spaces.
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        let t = s.trim().to_lowercase();
        if t.is_empty() || t.chars().count() > 254 || t.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(ValidationError::new(
                "email",
                "a sign-in name is an email address (or a name like `admin`): no spaces, at most 254 characters",
            ));
        }
        Ok(Self(t))
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password in clear. Its `Debug` hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(***)")
    }
}

const ALPHANUMERIC: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";

impl Password {
    /// A chosen password: at least 12 characters.
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        if s.chars().count() < 12 || s.len() > 1024 {
            return Err(ValidationError::new(
                "password",
                "a password is 12 to 1024 characters; a long passphrase is best",
            ));
        }
        Ok(Self(s.to_owned()))
    }

    /// A generated password: 20 characters without look-alikes (about 116 bits).
    #[must_use]
    pub fn generate() -> Self {
        let mut rng = rand::rng();
        Self(
            (0..20)
                .map(|_| char::from(ALPHANUMERIC[rng.random_range(0..ALPHANUMERIC.len())]))
                .collect(),
        )
    }

    /// The password, for showing once to the person it was made for.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Its Argon2id hash (PHC string, random salt): slow on purpose (tens of
    /// milliseconds); run it off the async workers.
    #[must_use]
    pub fn hash(&self) -> String {
        // Hashing with the default parameters cannot fail for a password this size.
        Argon2::default()
            .hash_password(self.0.as_bytes())
            .map(|h| h.to_string())
            .unwrap_or_default()
    }

    /// Whether it matches a stored hash (constant-time; a malformed hash never does).
    #[must_use]
    pub fn verify(&self, hash: &str) -> bool {
        PasswordHash::new(hash).is_ok_and(|h| Argon2::default().verify_password(self.0.as_bytes(), &h).is_ok())
    }
}

/// A session's token: the cookie's value (32 random bytes, base64url). Only its digest
/// is stored. Its `Debug` hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionToken(String);

impl std::fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionToken(***)")
    }
}

impl SessionToken {
    #[must_use]
    pub fn generate() -> Self {
        use base64::Engine;
        let bytes: [u8; 32] = rand::rng().random();
        Self(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
    }

    /// A token as presented in a cookie: 43 base64url characters, else `None`.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        (s.len() == 43 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
            .then(|| Self(s.to_owned()))
    }

    /// The cookie's value.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// What is stored and looked up (hex SHA-256).
    #[must_use]
    pub fn digest(&self) -> String {
        hex::encode(Sha256::digest(self.0.as_bytes()))
    }

    /// The CSRF token of the session's forms: derived from the session's secret token,
    /// so a page from another origin (which cannot read the cookie) cannot forge it.
    #[must_use]
    pub fn csrf(&self) -> String {
        hex::encode(Sha256::digest(format!("frontdesk-csrf:{}", self.0).as_bytes()))
    }

    /// Whether a form's CSRF token is this session's (constant-time).
    #[must_use]
    pub fn csrf_matches(&self, presented: &str) -> bool {
        crate::secret::constant_eq(self.csrf().as_bytes(), presented.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_and_verify() {
        let p = Password::parse("correct horse battery staple").expect("long enough");
        let h = p.hash();
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(p.verify(&h));
        assert!(
            !Password::parse("correct horse battery stapl3")
                .expect("valid")
                .verify(&h)
        );
        assert!(!p.verify("not a hash"));
        assert!(Password::parse("short").is_err());
        let g = Password::generate();
        assert_eq!(g.expose().len(), 20);
        assert!(!format!("{g:?}").contains(g.expose()));
    }

    #[test]
    fn logins_are_case_insensitive_and_plain() {
        assert_eq!(Login::parse("  Admin ").expect("ok").as_str(), "admin");
        assert_eq!(Login::parse("Owner@Acme.com").expect("ok").as_str(), "owner@acme.com");
        assert!(Login::parse("two words").is_err());
        assert!(Login::parse("").is_err());
    }

    #[test]
    fn sessions_and_their_csrf_tokens() {
        let t = SessionToken::generate();
        assert_eq!(SessionToken::parse(t.expose()), Some(t.clone()));
        assert_eq!(t.digest().len(), 64);
        assert!(t.csrf_matches(&t.csrf()));
        assert!(!t.csrf_matches(&SessionToken::generate().csrf()));
        assert!(!t.csrf_matches(""));
        assert!(SessionToken::parse("short").is_none());
        assert!(!format!("{t:?}").contains(t.expose()));
    }

    #[test]
    fn five_wrong_passwords_in_fifteen_minutes_lock_for_fifteen() {
        let t0 = DateTime::from_timestamp(1_800_000_000, 0).expect("time");
        let m = Duration::minutes;
        let four: Vec<_> = (0..4).map(|i| t0 + m(i)).collect();
        assert_eq!(locked_until(&four, t0 + m(4)), None, "four are not enough");
        let five: Vec<_> = (0..5).map(|i| t0 + m(i)).collect();
        assert_eq!(locked_until(&five, t0 + m(5)), Some(t0 + m(4) + m(15)));
        assert_eq!(
            locked_until(&five, t0 + m(19) + Duration::seconds(1)),
            None,
            "over after 15 minutes"
        );
        // Spread over more than 15 minutes: no lock.
        let spread: Vec<_> = (0..5).map(|i| t0 + m(i * 4)).collect();
        assert_eq!(locked_until(&spread, t0 + m(17)), None);
    }
}
