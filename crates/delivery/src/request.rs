//! Turning a delivery into the HTTP request to send: templates rendered, headers set,
//! body signed.

use chrono::{DateTime, Utc};
use frontdesk_core::template::{Encoding, Renderer};
use frontdesk_core::webhook::Webhook;
use frontdesk_store::{SentRequest, StoredEvent};

use crate::client::{Outgoing, USER_AGENT};
use crate::signer;

/// A rendered request, with remarks for the attempt log.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub outgoing: Outgoing,
    /// For example the unknown template variables that rendered empty.
    pub notes: Option<String>,
    /// The request as the attempt log keeps it: the webhook's own header values (perhaps
    /// credentials for the receiving system) redacted, as is a password in the URL.
    pub record: SentRequest,
    /// The template variables referenced but not known, which rendered empty.
    pub unknown: Vec<String>,
}

/// Renders and signs `event` for `webhook`. The error is a rendering failure (output
/// too large), which no retry can fix.
pub fn prepare(
    webhook: &Webhook,
    event: &StoredEvent,
    delivery_id: &str,
    now: DateTime<Utc>,
) -> Result<Prepared, String> {
    let spec = &webhook.spec;
    let mut r = Renderer::new(&event.context);
    let url = r
        .render(&spec.url, Encoding::UrlComponent)
        .map_err(|e| format!("url: {e}"))?;
    let body = match &spec.body_template {
        None => event.payload.clone().into_bytes(),
        Some(t) => r
            .render_json(t)
            .map_err(|e| format!("body_template: {e}"))?
            .into_bytes(),
    };
    let mut headers = Vec::with_capacity(spec.headers.len() + 8);
    for (k, v) in &spec.headers {
        let value = r.render(v, Encoding::Header).map_err(|e| format!("headers.{k}: {e}"))?;
        headers.push((k.clone(), value));
    }
    let ts = now.timestamp();
    let secrets = webhook.signing_secrets(now);
    headers.extend([
        ("content-type".to_owned(), "application/json".to_owned()),
        ("x-frontdesk-event".to_owned(), event.event.as_str().to_owned()),
        ("x-frontdesk-delivery".to_owned(), delivery_id.to_owned()),
        ("webhook-id".to_owned(), event.id.to_string()),
        ("webhook-timestamp".to_owned(), ts.to_string()),
        (
            "webhook-signature".to_owned(),
            signer::standard_signature(&secrets, event.id.as_str(), ts, &body),
        ),
        (
            "x-frontdesk-signature".to_owned(),
            signer::simple_signature(&webhook.secret, &body),
        ),
    ]);
    let notes =
        (!r.unknown.is_empty()).then(|| format!("unknown template variables rendered empty: {}", r.unknown.join(", ")));
    let method = match spec.method {
        frontdesk_core::webhook::HttpMethod::Post => reqwest::Method::POST,
        frontdesk_core::webhook::HttpMethod::Put => reqwest::Method::PUT,
        frontdesk_core::webhook::HttpMethod::Patch => reqwest::Method::PATCH,
    };
    let record = record(&method, &url, &headers, spec.headers.len(), &body);
    Ok(Prepared {
        outgoing: Outgoing {
            method,
            url,
            headers,
            body,
        },
        notes,
        record,
        unknown: r.unknown,
    })
}

/// What the attempt log keeps of a request whose first `custom` headers are the
/// webhook's own: their values redacted, the standard ones (content type, event,
/// delivery, `webhook-*` and signatures) as sent, plus the client's user agent unless a
/// header replaced it.
fn record(
    method: &reqwest::Method,
    url: &str,
    headers: &[(String, String)],
    custom: usize,
    body: &[u8],
) -> SentRequest {
    let mut kept: Vec<(String, String)> = headers
        .iter()
        .enumerate()
        .map(|(i, (k, v))| {
            let v = if i < custom { SentRequest::REDACTED } else { v.as_str() };
            (k.clone(), v.to_owned())
        })
        .collect();
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("user-agent")) {
        kept.push(("user-agent".to_owned(), USER_AGENT.to_owned()));
    }
    SentRequest {
        method: method.as_str().to_owned(),
        url: redact_password(url),
        headers: kept,
        body: String::from_utf8_lossy(body).into_owned(),
    }
}

/// `url` with the password of its user info, if any, redacted.
fn redact_password(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) => match u.password() {
            Some(p) => url.replacen(&format!(":{p}@"), &format!(":{}@", SentRequest::REDACTED), 1),
            None => url.to_owned(),
        },
        Err(_) => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_redacts_custom_header_values_and_url_passwords() {
        let headers = vec![
            ("Authorization".to_owned(), "Bearer s3cret".to_owned()),
            ("content-type".to_owned(), "application/json".to_owned()),
            ("webhook-signature".to_owned(), "v1,abc".to_owned()),
        ];
        let r = record(
            &reqwest::Method::PUT,
            "https://u:pw@crm.example/h?a=1",
            &headers,
            1,
            b"{}",
        );
        assert_eq!(r.method, "PUT");
        assert_eq!(r.url, "https://u:[redacted]@crm.example/h?a=1");
        assert_eq!(
            r.headers,
            vec![
                ("Authorization".to_owned(), "[redacted]".to_owned()),
                ("content-type".to_owned(), "application/json".to_owned()),
                ("webhook-signature".to_owned(), "v1,abc".to_owned()),
                ("user-agent".to_owned(), USER_AGENT.to_owned()),
            ]
        );
        assert_eq!(r.body, "{}");
        assert_eq!(redact_password("https://crm.example/h"), "https://crm.example/h");
        assert_eq!(redact_password("not a url"), "not a url");
    }
}
