//! The HTTP client for customer URLs, and the one place the SSRF guard is enforced.
//!
//! Names are resolved by [`GuardedResolver`], which drops every address the
//! [`TargetPolicy`] refuses, so the connection can only go to an address that was checked
//! (no DNS-rebinding window between check and connect). URLs with a literal IP never
//! reach a resolver, so they are checked before sending. Redirects are not followed (a
//! 3xx is a failed attempt), and proxies from the environment are ignored.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Once};
use std::time::{Duration, Instant};

use frontdesk_core::net::TargetPolicy;
use frontdesk_store::SentRequest;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Largest part of a response body kept for the attempt log.
pub const RESPONSE_PREFIX: usize = 1024;

/// The `User-Agent` of every request to a customer URL.
pub const USER_AGENT: &str = concat!("Frontdesk/", env!("CARGO_PKG_VERSION"));

/// Resolves names, keeping only addresses the policy allows.
#[derive(Debug, Clone)]
pub struct GuardedResolver {
    policy: Arc<TargetPolicy>,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let mut refusal = None;
            let allowed: Vec<SocketAddr> = addrs
                .into_iter()
                .filter(|a| match policy.check_kind(a.ip()) {
                    Ok(()) => true,
                    Err(kind) => {
                        // The address stays in the server log: attempt errors are shown to
                        // API users, who must not learn what internal names resolve to.
                        tracing::warn!(host = %host, ip = %a.ip(), "refused a webhook target address");
                        refusal.get_or_insert(kind);
                        false
                    }
                })
                .collect();
            if allowed.is_empty() {
                let why = refusal.map_or_else(
                    || "it has no address".to_owned(),
                    |kind| {
                        format!(
                            "it resolves to {kind}; webhook targets must be public addresses \
                             (FRONTDESK_ALLOW_PRIVATE_TARGETS or FRONTDESK_ALLOWED_TARGET_CIDRS allow others)"
                        )
                    },
                );
                return Err(format!("refused to connect to {host}: {why}").into());
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

/// A request to send.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub method: reqwest::Method,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// What came back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub retry_after: Option<Duration>,
    /// The response's headers, in order, up to [`SentRequest::HEADERS_MAX`] bytes of
    /// them (values lossily decoded).
    pub headers: Vec<(String, String)>,
    /// The first KiB of the body, lossily decoded.
    pub body_prefix: String,
    pub latency: Duration,
}

/// Why no response came.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SendError {
    pub message: String,
    pub latency: Duration,
}

/// The guarded client.
#[derive(Debug, Clone)]
pub struct GuardedClient {
    http: reqwest::Client,
    policy: Arc<TargetPolicy>,
    timeout: Duration,
}

/// Installs the TLS crypto provider (ring) for every reqwest client in the process.
/// Idempotent; called by [`GuardedClient::new`], and by anything else that builds a
/// reqwest client (tests, tools) before one exists.
pub fn install_crypto() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Fails only when another provider is installed already, which is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// A client could not be built.
#[derive(Debug, thiserror::Error)]
#[error("could not build the HTTP client: {0}")]
pub struct BuildError(#[from] reqwest::Error);

impl GuardedClient {
    /// A client with a total per-attempt `timeout`.
    pub fn new(policy: TargetPolicy, timeout: Duration) -> Result<Self, BuildError> {
        install_crypto();
        let policy = Arc::new(policy);
        let http = reqwest::Client::builder()
            .dns_resolver(GuardedResolver { policy: policy.clone() })
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .pool_idle_timeout(Duration::from_secs(60))
            .pool_max_idle_per_host(256)
            .user_agent(USER_AGENT)
            .build()?;
        Ok(Self { http, policy, timeout })
    }

    pub fn policy(&self) -> &TargetPolicy {
        &self.policy
    }

    /// The underlying reqwest client, for a protocol client of its own (the model
    /// endpoints agents choose). Its resolver drops refused addresses and it follows no
    /// redirects, but a URL with a literal IP never reaches the resolver: check such a
    /// host with [`GuardedClient::policy`] before sending.
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// Sends one request. A response of any status is `Ok`; only the absence of a
    /// response (refused by the guard, DNS, connect, timeout) is an error.
    pub async fn send(&self, req: Outgoing) -> Result<Response, SendError> {
        self.send_capped(req, RESPONSE_PREFIX).await
    }

    /// [`GuardedClient::send`], keeping up to `cap` bytes of the response body (tools
    /// need their whole, small, JSON reply).
    pub async fn send_capped(&self, req: Outgoing, cap: usize) -> Result<Response, SendError> {
        let start = Instant::now();
        let fail = |message: String| SendError {
            message,
            latency: start.elapsed(),
        };
        let url =
            url::Url::parse(&req.url).map_err(|e| fail(format!("the rendered URL `{}` is invalid: {e}", req.url)))?;
        let literal: Option<IpAddr> = match url.host() {
            Some(url::Host::Ipv4(ip)) => Some(ip.into()),
            Some(url::Host::Ipv6(ip)) => Some(ip.into()),
            _ => None,
        };
        if let Some(ip) = literal {
            self.policy
                .check(ip)
                .map_err(|why| fail(format!("refused to connect: {why}")))?;
        }
        let mut builder = self.http.request(req.method, url).body(req.body);
        for (k, v) in &req.headers {
            builder = builder.header(k.as_str(), v.as_str());
        }
        let mut res = builder.send().await.map_err(|e| fail(describe(&e, self.timeout)))?;
        let status = res.status().as_u16();
        let retry_after = res
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| frontdesk_core::retry::parse_retry_after(v, chrono::Utc::now()));
        let headers = capped_headers(res.headers());
        let mut prefix = Vec::new();
        while prefix.len() < cap {
            match res.chunk().await {
                Ok(Some(c)) => prefix.extend_from_slice(&c[..c.len().min(cap - prefix.len())]),
                Ok(None) | Err(_) => break,
            }
        }
        Ok(Response {
            status,
            retry_after,
            headers,
            body_prefix: String::from_utf8_lossy(&prefix).into_owned(),
            latency: start.elapsed(),
        })
    }
}

/// A response's headers for the attempt log: in order, up to
/// [`SentRequest::HEADERS_MAX`] bytes of names and values, then one line saying how many
/// were left out.
fn capped_headers(headers: &reqwest::header::HeaderMap) -> Vec<(String, String)> {
    let mut kept = Vec::new();
    let mut bytes = 0;
    let mut left_out = 0;
    for (k, v) in headers {
        let size = k.as_str().len() + v.len();
        if left_out > 0 || bytes + size > SentRequest::HEADERS_MAX {
            left_out += 1;
            continue;
        }
        bytes += size;
        kept.push((
            k.as_str().to_owned(),
            String::from_utf8_lossy(v.as_bytes()).into_owned(),
        ));
    }
    if left_out > 0 {
        kept.push((
            "[not kept]".to_owned(),
            format!(
                "{left_out} more header(s): the log keeps the first {} bytes of headers",
                SentRequest::HEADERS_MAX
            ),
        ));
    }
    kept
}

/// A readable, single-line reason for a failed send.
fn describe(e: &reqwest::Error, timeout: Duration) -> String {
    if e.is_timeout() {
        return format!("no response within {} ms (the delivery timeout)", timeout.as_millis());
    }
    let mut msg = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        msg = format!("{msg}: {s}");
        source = s.source();
    }
    if e.is_connect() && !msg.contains("refused to connect") {
        format!("could not connect: {msg}")
    } else {
        msg
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

    #[test]
    fn response_headers_are_capped() {
        let mut h = HeaderMap::new();
        h.append("content-type", HeaderValue::from_static("text/plain"));
        h.append("set-cookie", HeaderValue::from_static("a=1"));
        h.append("set-cookie", HeaderValue::from_static("b=2"));
        assert_eq!(
            capped_headers(&h),
            vec![
                ("content-type".to_owned(), "text/plain".to_owned()),
                ("set-cookie".to_owned(), "a=1".to_owned()),
                ("set-cookie".to_owned(), "b=2".to_owned()),
            ]
        );
        let big = "x".repeat(1000);
        let mut h = HeaderMap::new();
        for i in 0..20 {
            let name = HeaderName::from_bytes(format!("x-h{i:02}").as_bytes()).expect("name");
            h.append(name, HeaderValue::from_str(&big).expect("value"));
        }
        let kept = capped_headers(&h);
        let (last, rest) = kept.split_last().expect("some");
        assert_eq!(rest.len(), 8, "8 of 1005 bytes each fit in 8 KiB");
        assert_eq!(last.0, "[not kept]");
        assert!(last.1.starts_with("12 more header(s)"), "{last:?}");
    }
}
