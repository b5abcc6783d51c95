//! Field values from what callers say.
//!
//! An agent collects typed fields (`data_to_collect`); each caller answer is a
//! speech-to-text transcript, and [`normalize`] turns it into the field's canonical value:
//! email lower-case (`john dot smith at gmail dot com` -> `john.smith@gmail.com`), phone
//! E.164, name in title case without filler, number as a JSON number, money in digits
//! with ranges kept (`$15,000-$20,000`), date ISO 8601, time `HH:MM`, boolean, one of an
//! enum's options, or the string as said without filler. `None` means the answer holds no
//! value of that type, so the agent can ask again. Everything here is pure: the caller's
//! number and today's date come in a [`Context`].

use chrono::NaiveDate;
use serde_json::Value;

use crate::ValidationError;

mod choice;
mod date;
mod email;
mod money;
mod phone;
pub mod spoken;
mod text;
mod time;

/// The type names an agent's fields may use, in the order the SPEC lists them.
pub const TYPE_NAMES: [&str; 10] = [
    "string", "name", "email", "phone", "number", "money", "date", "time", "boolean", "enum",
];

/// The type of a field an agent collects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldType {
    String,
    Name,
    Email,
    Phone,
    Number,
    Money,
    Date,
    Time,
    Boolean,
    /// One of a fixed list of options, returned exactly as configured.
    Enum {
        options: Vec<String>,
    },
}

impl FieldType {
    /// Parses a type name from an agent's configuration (`"email"`, `"enum"`, ...);
    /// `options` is required, non-empty and without blanks for `enum`, and ignored otherwise.
    pub fn parse(type_name: &str, options: Option<&[String]>) -> Result<Self, ValidationError> {
        let ty = match type_name.trim().to_ascii_lowercase().as_str() {
            "string" => Self::String,
            "name" => Self::Name,
            "email" => Self::Email,
            "phone" => Self::Phone,
            "number" => Self::Number,
            "money" => Self::Money,
            "date" => Self::Date,
            "time" => Self::Time,
            "boolean" => Self::Boolean,
            "enum" => Self::Enum {
                options: enum_options(options)?,
            },
            _ => {
                return Err(ValidationError::new(
                    "type",
                    format!(
                        "`{type_name}` is not a field type; use one of: {}",
                        TYPE_NAMES.join(", ")
                    ),
                ));
            }
        };
        Ok(ty)
    }

    /// The type's configuration name.
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            Self::String => "string",
            Self::Name => "name",
            Self::Email => "email",
            Self::Phone => "phone",
            Self::Number => "number",
            Self::Money => "money",
            Self::Date => "date",
            Self::Time => "time",
            Self::Boolean => "boolean",
            Self::Enum { .. } => "enum",
        }
    }
}

fn enum_options(options: Option<&[String]>) -> Result<Vec<String>, ValidationError> {
    let options = options.unwrap_or_default();
    if options.is_empty() {
        return Err(ValidationError::new(
            "options",
            "an `enum` field needs a non-empty `options` list, for example [\"morning\", \"afternoon\"]",
        ));
    }
    if options.iter().any(|o| o.trim().is_empty()) {
        return Err(ValidationError::new("options", "an `enum` option must not be blank"));
    }
    Ok(options.to_vec())
}

/// What a normaliser may need beyond the utterance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context {
    /// The caller's number (E.164), for "the number I'm calling from".
    pub caller_number: Option<String>,
    /// The call's local date, for "tomorrow", "next Tuesday" and dates without a year.
    pub today: NaiveDate,
}

pub use choice::Options as EnumOptions;

/// The canonical value of `field` in what the caller said, or `None` when the utterance
/// holds no value of that type.
#[must_use]
pub fn normalize(field: &FieldType, utterance: &str, ctx: &Context) -> Option<Value> {
    match field {
        FieldType::String => text::string(utterance).map(Value::String),
        FieldType::Name => text::name(utterance).map(Value::String),
        FieldType::Email => email::email(utterance).map(Value::String),
        FieldType::Phone => phone::phone(utterance, ctx.caller_number.as_deref()).map(Value::String),
        FieldType::Number => money::number(utterance),
        FieldType::Money => money::money(utterance).map(Value::String),
        FieldType::Date => date::date(utterance, ctx.today).map(Value::String),
        FieldType::Time => time::time(utterance).map(Value::String),
        FieldType::Boolean => choice::boolean(utterance).map(Value::Bool),
        FieldType::Enum { options } => choice::option(utterance, options).map(Value::String),
    }
}

/// The enum option named word for word in a longer utterance, when exactly one is (for
/// fields the caller volunteers before being asked).
#[must_use]
pub fn option_mentioned(utterance: &str, options: &[String]) -> Option<String> {
    choice::mentioned(utterance, options)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn ctx() -> Context {
        Context {
            caller_number: Some("+15551230002".into()),
            today: NaiveDate::from_ymd_opt(2026, 1, 2).unwrap(),
        }
    }

    fn norm(ty: &FieldType, s: &str) -> Option<Value> {
        normalize(ty, s, &ctx())
    }

    #[test]
    fn parse_types() {
        for name in TYPE_NAMES.iter().filter(|n| **n != "enum") {
            assert_eq!(FieldType::parse(name, None).unwrap().name(), *name);
        }
        assert_eq!(FieldType::parse(" Email ", None).unwrap(), FieldType::Email);
        let opts = vec!["a".to_owned(), "b".to_owned()];
        assert_eq!(
            FieldType::parse("enum", Some(&opts)).unwrap(),
            FieldType::Enum { options: opts.clone() }
        );
        let e = FieldType::parse("colour", None).unwrap_err();
        assert!(e.message.contains("string, name, email"), "{e}");
        assert!(FieldType::parse("enum", None).unwrap_err().message.contains("options"));
        assert!(FieldType::parse("enum", Some(&[])).is_err());
        assert!(FieldType::parse("enum", Some(&["ok".to_owned(), " ".to_owned()])).is_err());
    }

    #[test]
    fn spec_examples() {
        let service = FieldType::Enum {
            options: [
                "kitchen remodel",
                "bathroom remodel",
                "roof repair",
                "new construction",
                "other",
            ]
            .map(String::from)
            .to_vec(),
        };
        let cases: [(&FieldType, &str, Value); 10] = [
            (
                &FieldType::Email,
                "john dot smith at gmail dot com",
                json!("john.smith@gmail.com"),
            ),
            (
                &FieldType::Phone,
                "five five five, one two three, four five six seven",
                json!("+15551234567"),
            ),
            (&FieldType::Name, "uh it's john smith", json!("John Smith")),
            (&FieldType::Number, "two", json!(2)),
            (
                &FieldType::Money,
                "fifteen to twenty thousand",
                json!("$15,000-$20,000"),
            ),
            (&FieldType::Date, "March fourth, nineteen ninety", json!("1990-03-04")),
            (&FieldType::Time, "3pm", json!("15:00")),
            (&FieldType::Boolean, "yes", json!(true)),
            (&service, "the kitchen", json!("kitchen remodel")),
            (&FieldType::String, "um, delta dental thanks", json!("delta dental")),
        ];
        for (ty, said, want) in cases {
            assert_eq!(norm(ty, said), Some(want), "{} {said}", ty.name());
        }
    }

    #[test]
    fn context_is_used() {
        assert_eq!(
            norm(&FieldType::Phone, "Same number I'm calling from."),
            Some(json!("+15551230002"))
        );
        assert_eq!(norm(&FieldType::Date, "tomorrow"), Some(json!("2026-01-03")));
    }

    #[test]
    fn nothing_to_take() {
        for ty in [
            FieldType::Name,
            FieldType::Email,
            FieldType::Phone,
            FieldType::Number,
            FieldType::Money,
        ] {
            assert_eq!(norm(&ty, "I don't know"), None, "{}", ty.name());
        }
        for ty in [FieldType::Date, FieldType::Time, FieldType::Boolean, FieldType::String] {
            assert_eq!(norm(&ty, "  "), None, "{}", ty.name());
        }
    }

    fn trade() -> FieldType {
        FieldType::Enum {
            options: [
                "roof repair",
                "roof installation",
                "inspection",
                "kitchen remodel",
                "bathroom remodel",
                "plumbing",
                "electrical",
            ]
            .map(String::from)
            .to_vec(),
        }
    }

    fn days() -> FieldType {
        FieldType::Enum {
            options: ["monday", "tuesday", "wednesday", "thursday", "friday"]
                .map(String::from)
                .to_vec(),
        }
    }

    fn dev_ctx() -> Context {
        Context {
            caller_number: Some("+15552340013".into()),
            today: NaiveDate::from_ymd_opt(2026, 1, 2).unwrap(),
        }
    }

    /// Contractor answers from the recorded development conversations.
    #[test]
    fn dev_contractor() {
        let trade = trade();
        let cases: Vec<(&FieldType, &str, Value)> = vec![
            (&FieldType::Name, "Sure, it's John Smith.", json!("John Smith")),
            (&FieldType::Name, "uh yeah it's kevin o'brien", json!("Kevin O'Brien")),
            (&FieldType::Name, "My name is Paul Anderson", json!("Paul Anderson")),
            (&FieldType::Phone, "It's 212 555 0147.", json!("+12125550147")),
            (&FieldType::Phone, "555-909-1111", json!("+15559091111")),
            (&FieldType::Phone, "Use this number.", json!("+15552340013")),
            (&FieldType::Phone, "area code 555, 777 6543", json!("+15557776543")),
            (&trade, "The kitchen remodel.", json!("kitchen remodel")),
            (&trade, "Roof repair.", json!("roof repair")),
            (&trade, "just an inspection", json!("inspection")),
            (&trade, "roof installation", json!("roof installation")),
            (&trade, "electrical", json!("electrical")),
            (&FieldType::Money, "around ten grand", json!("$10,000")),
            (&FieldType::Money, "under five thousand", json!("under $5,000")),
            (&FieldType::Money, "three to five thousand", json!("$3,000-$5,000")),
        ];
        for (ty, said, want) in cases {
            assert_eq!(normalize(ty, said, &dev_ctx()), Some(want), "{} {said}", ty.name());
        }
    }

    /// Dental and law-firm answers from the recorded development conversations.
    #[test]
    fn dev_dental_and_lawfirm() {
        let days = days();
        let cases: Vec<(&FieldType, &str, Value)> = vec![
            (&FieldType::Date, "05/12/1985", json!("1985-05-12")),
            (&FieldType::Date, "july 1st 1972", json!("1972-07-01")),
            (&FieldType::Date, "January fifteenth, 2026", json!("2026-01-15")),
            (&FieldType::Boolean, "Yes, it's my first time.", json!(true)),
            (&FieldType::Boolean, "No, I've been coming for years.", json!(false)),
            (&FieldType::Boolean, "nope", json!(false)),
            (&days, "Tuesday works best.", json!("tuesday")),
            (&days, "thursday", json!("thursday")),
            (&FieldType::Time, "after 3 pm", json!("15:00")),
            (&FieldType::Time, "noon", json!("12:00")),
            (&FieldType::Number, "none", json!(0)),
            (&FieldType::Number, "just my husband, so one", json!(1)),
            (
                &FieldType::Number,
                "Two, the other driver and his insurance company.",
                json!(2),
            ),
            (
                &FieldType::Date,
                "I was born on the twentieth of February, 1968",
                json!("1968-02-20"),
            ),
            (
                &FieldType::String,
                "In the next three months.",
                json!("In the next three months"),
            ),
        ];
        for (ty, said, want) in cases {
            assert_eq!(normalize(ty, said, &dev_ctx()), Some(want), "{} {said}", ty.name());
        }
    }

    /// Answers from later recorded conversations, through [`normalize`].
    #[test]
    fn dev_more_callers() {
        let pets = FieldType::Enum {
            options: ["dog", "cat", "rabbit", "bird", "reptile", "other"]
                .map(String::from)
                .to_vec(),
        };
        let cases: Vec<(&FieldType, &str, Value)> = vec![
            (
                &FieldType::Email,
                "r a d e y e m i at gmail dot com",
                json!("radeyemi@gmail.com"),
            ),
            (
                &FieldType::Email,
                "g l i u at protonmail dot com",
                json!("gliu@protonmail.com"),
            ),
            (
                &FieldType::Money,
                "between fifteen hundred and eighteen hundred a month",
                json!("$1,500-$1,800"),
            ),
            (&FieldType::Money, "about 500 bucks", json!("$500")),
            (&FieldType::Number, "two hundred and fifty", json!(250)),
            (&FieldType::Date, "July fifteenth, seventy nine", json!("1979-07-15")),
            (&FieldType::Date, "1/2/60", json!("1960-01-02")),
            (&FieldType::Date, "march 4 '90", json!("1990-03-04")),
            (&pets, "he's a golden retriever", json!("dog")),
            (&FieldType::String, "her name's Luna", json!("Luna")),
            (&FieldType::String, "it's 42 Cedar Court", json!("42 Cedar Court")),
            (&FieldType::String, "it's leaking", json!("it's leaking")),
            (&FieldType::Boolean, "I have not", json!(false)),
            (&FieldType::Boolean, "yep, twice before", json!(true)),
            (&FieldType::Time, "around two thirty in the afternoon", json!("14:30")),
            (&FieldType::Time, "evenings, like six pm", json!("18:00")),
            (&FieldType::Time, "three fifteen pm", json!("15:15")),
        ];
        for (ty, said, want) in cases {
            assert_eq!(normalize(ty, said, &dev_ctx()), Some(want), "{} {said}", ty.name());
        }
        assert_eq!(normalize(&pets, "the other driver", &dev_ctx()), None);
    }

    /// Development answers that hold no value of their field's type.
    #[test]
    fn dev_no_value() {
        let days = days();
        let none: [(&FieldType, &str); 6] = [
            (&FieldType::Money, "I don't really know yet."),
            (&FieldType::Money, "I'd rather not say"),
            (&days, "any day"),
            (&FieldType::Date, "it hasn't happened, I just want a will"),
            (&FieldType::Time, "mornings"),
            (&FieldType::Date, "last year"),
        ];
        for (ty, said) in none {
            assert_eq!(normalize(ty, said, &dev_ctx()), None, "{} {said}", ty.name());
        }
    }

    /// Odd input never panics, whatever the type.
    #[test]
    fn odd_input() {
        let types = every_type(&["a", "b c"]);
        let odd = [
            "",
            " ",
            ".",
            "'",
            "-",
            "$",
            "+",
            "@",
            "@@",
            "at",
            "dot",
            "the",
            "and a half",
            "point",
            "a",
            "99999999999999999999",
            "1,",
            ",1",
            "1..2",
            "::",
            "12:",
            ":30",
            "/",
            "1/",
            "//",
            "1-",
            "- -",
            "double",
            "triple oh",
            "\u{2019}s",
            "\u{1F600} \u{00e9}\u{0301}",
            "ß ǅ İ",
            "twenty twenty twenty",
            "nineteen oh",
            "the 99th of may",
            "2147483648/2147483648/2147483648",
            "9999-99-99",
            "at at at dot dot",
            "- $ - $",
            "99:99 pm",
        ];
        for ty in &types {
            for s in odd {
                let _ = normalize(ty, s, &ctx());
                let _ = normalize(ty, &s.repeat(50), &ctx());
            }
        }
    }

    #[test]
    fn random_input_never_panics() {
        use rand::rngs::StdRng;
        use rand::{Rng, SeedableRng};
        let pieces = [
            "five",
            "oh",
            "double",
            "thousand",
            "and",
            "a",
            "half",
            "to",
            "between",
            "dot",
            "at",
            "dash",
            "pm",
            "quarter",
            "past",
            "next",
            "monday",
            "may",
            "12th",
            "1990",
            "05/12/1985",
            "10:30",
            "$",
            "k",
            "'s",
            "ü",
            "é",
            "日本",
            "🙂",
            "-",
            ".",
            ",",
            "@",
            "0",
            "9",
            "99999999999999999999",
            "the",
            "my",
            "name",
            "is",
            "o'",
            "mc",
            "yes",
            "no",
            "not",
            "really",
            "area",
            "code",
            "calling",
            "from",
            " ",
            "",
        ];
        let ctx = Context {
            caller_number: Some("+15551230000".into()),
            today: NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(),
        };
        let types = every_type(&["kitchen remodel", "日本", "x"]);
        let mut rng = StdRng::seed_from_u64(7);
        for _ in 0..3000 {
            let n = rng.random_range(0..12);
            let words: Vec<&str> = (0..n).map(|_| pieces[rng.random_range(0..pieces.len())]).collect();
            let sep = if rng.random_bool(0.5) { " " } else { "" };
            let text = words.join(sep);
            for t in &types {
                let _ = normalize(t, &text, &ctx);
            }
        }
    }

    /// Every field type, the enum with these options.
    fn every_type(options: &[&str]) -> Vec<FieldType> {
        vec![
            FieldType::String,
            FieldType::Name,
            FieldType::Email,
            FieldType::Phone,
            FieldType::Number,
            FieldType::Money,
            FieldType::Date,
            FieldType::Time,
            FieldType::Boolean,
            FieldType::Enum {
                options: options.iter().map(|o| (*o).to_owned()).collect(),
            },
        ]
    }
}
