//! What the receptionist says: templates rendered with the call's variables, tidied so
//! that an empty variable leaves no stray comma ("Thanks , we'll" -> "Thanks, we'll").

use frontdesk_core::template::{Encoding, Renderer};
use serde_json::{Map, Value};

/// Renders a speech template; unknown variables render empty.
pub fn render(template: &str, vars: &Map<String, Value>) -> String {
    let out = Renderer::new(vars)
        .render(template, Encoding::Plain)
        .unwrap_or_else(|_| template.to_owned());
    tidy(&out)
}

/// Collapses spaces and the punctuation an empty variable leaves behind.
pub fn tidy(s: &str) -> String {
    let mut out = s.split_whitespace().collect::<Vec<_>>().join(" ");
    for (from, to) in [
        (" ,", ","),
        (" .", "."),
        (" !", "!"),
        (" ?", "?"),
        (",,", ","),
        (",.", "."),
        (",!", "!"),
        (",?", "?"),
    ] {
        while out.contains(from) {
            out = out.replace(from, to);
        }
    }
    out.trim_start_matches([',', ' ']).to_owned()
}

/// Joins sentences with single spaces, skipping empty ones.
pub fn join(parts: &[String]) -> String {
    parts
        .iter()
        .map(|p| p.trim())
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn empty_variables_leave_no_gaps() {
        let vars: Map<String, Value> = serde_json::from_value(json!({"owner_name": "Acme"})).unwrap();
        assert_eq!(
            render("Thanks {{first_name}}, someone from {{owner_name}} will call.", &vars),
            "Thanks, someone from Acme will call."
        );
        assert_eq!(render("Thank you, {{patient_name}}. Bye", &vars), "Thank you. Bye");
    }
}
