//! "Did you mean" suggestions and Rust identifier rules.

/// The candidate closest to `wrong`, if one is close enough to be a likely typo.
///
/// Close means equal ignoring case, or within an edit distance of a third of the length
/// (at least 1).
pub(crate) fn did_you_mean<'a>(
    wrong: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let limit = (wrong.chars().count() / 3).max(1);
    let lower = wrong.to_lowercase();
    let mut best: Option<(usize, &str)> = None;
    for candidate in candidates {
        if candidate == wrong || candidate.len() > wrong.len() + 64 {
            continue;
        }
        let distance = if candidate.to_lowercase() == lower {
            0
        } else {
            strsim::damerau_levenshtein(wrong, candidate)
        };
        if distance <= limit && best.is_none_or(|(best_distance, _)| distance < best_distance) {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, candidate)| candidate)
}

/// Names that cannot be raw identifiers (`r#self` is not valid Rust).
const NOT_RAW: &[&str] = &["self", "Self", "super", "crate", "_"];

/// Why `name` cannot become a Rust identifier, if it cannot.
pub(crate) fn identifier_problem(name: &str) -> Option<String> {
    let Some(first) = name.chars().next() else {
        return Some("the name is empty".into());
    };
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_'))
    {
        return Some(format!("`{}` is not allowed in a name", bad.escape_debug()));
    }
    if first.is_ascii_digit() {
        return Some("a name cannot start with a digit".into());
    }
    if NOT_RAW.contains(&name) {
        return Some(format!("`{name}` is reserved in Rust"));
    }
    None
}

/// A valid identifier close to `name`, to suggest in a help line.
pub(crate) fn identifier_suggestion(name: &str) -> String {
    let mut fixed: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    while fixed.contains("__") {
        fixed = fixed.replace("__", "_");
    }
    let fixed = fixed.trim_matches('_').to_string();
    if fixed.is_empty()
        || fixed.starts_with(|c: char| c.is_ascii_digit())
        || NOT_RAW.contains(&fixed.as_str())
    {
        format!("n_{fixed}")
    } else {
        fixed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_a_close_name() {
        assert_eq!(
            did_you_mean("mesage", ["topic", "message", "via"]),
            Some("message")
        );
    }

    #[test]
    fn does_not_suggest_a_distant_name() {
        assert_eq!(did_you_mean("xyz", ["topic", "message"]), None);
    }

    #[test]
    fn rejects_names_that_are_not_identifiers() {
        assert!(identifier_problem("bitstamp-feed").is_some());
        assert!(identifier_problem("9lives").is_some());
        assert!(identifier_problem("self").is_some());
        assert!(identifier_problem("type").is_none());
        assert!(identifier_problem("Quote").is_none());
    }

    #[test]
    fn suggests_an_identifier() {
        assert_eq!(identifier_suggestion("bitstamp-feed"), "bitstamp_feed");
        assert_eq!(identifier_suggestion("9lives"), "n_9lives");
    }
}
