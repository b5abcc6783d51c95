//! TwiML: the XML answers Twilio's Voice webhooks expect, written with an XML writer
//! (so text and attributes are always escaped).
//!
//! Only the verbs Frontdesk speaks are modelled: `<Say>`, `<Gather>` around a `<Say>`,
//! `<Dial>`, `<Record>`, `<Connect><ConversationRelay>`, `<Redirect>`, `<Hangup>`.

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};

/// Attributes of an element, in order.
pub type Attrs = Vec<(&'static str, String)>;

/// One TwiML verb.
#[derive(Debug, Clone, PartialEq)]
pub enum Verb {
    Say(String),
    /// `<Gather ...attrs><Say>text</Say></Gather>`.
    Gather {
        attrs: Attrs,
        say: String,
    },
    /// `<Dial ...attrs>number</Dial>`.
    Dial {
        attrs: Attrs,
        number: String,
    },
    Record(Attrs),
    /// `<Connect ...connect><ConversationRelay ...relay/></Connect>`.
    Relay {
        connect: Attrs,
        relay: Attrs,
    },
    /// `<Redirect method="POST">url</Redirect>`.
    Redirect(String),
    Hangup,
}

/// The whole `<Response>` document.
#[must_use]
pub fn render(verbs: &[Verb]) -> String {
    let mut w = Writer::new(Vec::new());
    // Writing into a Vec cannot fail; the results are dropped on purpose.
    let mut put = |e: Event<'_>| {
        let _ = w.write_event(e);
    };
    put(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)));
    put(Event::Start(BytesStart::new("Response")));
    for v in verbs {
        match v {
            Verb::Say(text) => text_element(&mut put, "Say", &[], text),
            Verb::Gather { attrs, say } => {
                put(Event::Start(element("Gather", attrs)));
                if !say.is_empty() {
                    text_element(&mut put, "Say", &[], say);
                }
                put(Event::End(BytesEnd::new("Gather")));
            }
            Verb::Dial { attrs, number } => text_element(&mut put, "Dial", attrs, number),
            Verb::Record(attrs) => put(Event::Empty(element("Record", attrs))),
            Verb::Relay { connect, relay } => {
                put(Event::Start(element("Connect", connect)));
                put(Event::Empty(element("ConversationRelay", relay)));
                put(Event::End(BytesEnd::new("Connect")));
            }
            Verb::Redirect(url) => text_element(&mut put, "Redirect", &[("method", "POST".to_owned())], url),
            Verb::Hangup => put(Event::Empty(BytesStart::new("Hangup"))),
        }
    }
    put(Event::End(BytesEnd::new("Response")));
    String::from_utf8(w.into_inner()).unwrap_or_default()
}

fn element(name: &'static str, attrs: &[(&'static str, String)]) -> BytesStart<'static> {
    let mut e = BytesStart::new(name);
    for (k, v) in attrs {
        e.push_attribute((*k, v.as_str()));
    }
    e
}

fn text_element(put: &mut impl FnMut(Event<'_>), name: &'static str, attrs: &[(&'static str, String)], text: &str) {
    put(Event::Start(element(name, attrs)));
    put(Event::Text(BytesText::new(text)));
    put(Event::End(BytesEnd::new(name)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_nests() {
        let xml = render(&[
            Verb::Gather {
                attrs: vec![("input", "speech".into()), ("action", "https://h/g?a=1&b=2".into())],
                say: "Tom & Jerry's <shop>".into(),
            },
            Verb::Hangup,
        ]);
        assert_eq!(
            xml,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Gather input=\"speech\" \
             action=\"https://h/g?a=1&amp;b=2\"><Say>Tom &amp; Jerry&apos;s &lt;shop&gt;</Say></Gather><Hangup/></Response>"
        );
    }

    #[test]
    fn relay_and_dial() {
        let xml = render(&[
            Verb::Relay {
                connect: vec![("action", "https://h/r".into())],
                relay: vec![
                    ("url", "wss://h/r?call_id=c".into()),
                    ("welcomeGreeting", "Hi \"there\"".into()),
                ],
            },
            Verb::Dial {
                attrs: vec![("timeout", "20".into())],
                number: "+15557654321".into(),
            },
            Verb::Record(vec![("maxLength", "120".into())]),
        ]);
        assert!(xml.contains("<Connect action=\"https://h/r\"><ConversationRelay url=\"wss://h/r?call_id=c\" welcomeGreeting=\"Hi &quot;there&quot;\"/></Connect>"), "{xml}");
        assert!(
            xml.contains("<Dial timeout=\"20\">+15557654321</Dial><Record maxLength=\"120\"/>"),
            "{xml}"
        );
    }
}
