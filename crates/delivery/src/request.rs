//! Turning a delivery into the HTTP request to send: templates rendered, headers set,
//! body signed.

use chrono::{DateTime, Utc};
use frontdesk_core::template::{Encoding, Renderer};
use frontdesk_core::webhook::Webhook;
use frontdesk_store::StoredEvent;

use crate::client::Outgoing;
use crate::signer;

/// A rendered request, with remarks for the attempt log.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub outgoing: Outgoing,
    /// For example the unknown template variables that rendered empty.
    pub notes: Option<String>,
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
    Ok(Prepared {
        outgoing: Outgoing {
            method,
            url,
            headers,
            body,
        },
        notes,
        unknown: r.unknown,
    })
}
