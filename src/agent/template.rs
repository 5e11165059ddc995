//! The worker's own command template (`lbsim worker --exec -- pytest
//! {name}`): each argv item is filled in by itself, so a field's value
//! stays one argument whatever it holds (spaces, quotes, `;`). Nothing is
//! ever handed to a shell unless the template itself says `sh -c`.

/// The fields a template may name.
pub(crate) const FIELDS: [&str; 3] = ["name", "test_id", "attempt"];

/// One run's values for the fields.
pub(crate) struct Fields<'a> {
    pub(crate) name: Option<&'a str>,
    pub(crate) test_id: u64,
    pub(crate) attempt: u32,
}

/// Checks a template once, at start: an empty one, an unknown field or an
/// unclosed brace is refused with the item it is in.
pub(crate) fn check(template: &[String]) -> Result<(), String> {
    if template.first().is_none_or(|p| p.is_empty()) {
        return Err("the template's first item must name a program".into());
    }
    let f = Fields {
        name: Some(""),
        test_id: 0,
        attempt: 0,
    };
    for item in template {
        fill(item, &f)?;
    }
    Ok(())
}

/// The argv for one run.
pub(crate) fn expand(template: &[String], f: &Fields<'_>) -> Result<Vec<String>, String> {
    template.iter().map(|item| fill(item, f)).collect()
}

/// One item with its `{field}`s filled in (`{{` and `}}` are braces).
fn fill(item: &str, f: &Fields<'_>) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = item;
    while let Some(at) = rest.find(['{', '}']) {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        if let Some(r) = tail.strip_prefix("{{").or_else(|| tail.strip_prefix("}}")) {
            out.push_str(&tail[..1]);
            rest = r;
            continue;
        }
        let end = match (tail.starts_with('{'), tail.find('}')) {
            (true, Some(end)) => end,
            _ => return Err(format!("'{item}': an unmatched brace (write {{{{ or }}}})")),
        };
        out.push_str(&value(&tail[1..end], f, item)?);
        rest = &tail[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn value(field: &str, f: &Fields<'_>, item: &str) -> Result<String, String> {
    match field {
        "name" => f
            .name
            .map(str::to_string)
            .ok_or_else(|| "the test has no name, and the worker's template uses {name}".into()),
        "test_id" => Ok(f.test_id.to_string()),
        "attempt" => Ok(f.attempt.to_string()),
        other => Err(format!(
            "'{item}': unknown field {{{other}}} (the fields are {})",
            FIELDS.map(|f| format!("{{{f}}}")).join(", ")
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn fields_fill_whole_items_and_stay_one_argument() {
        let f = Fields {
            name: Some("a b; rm -rf /"),
            test_id: 7,
            attempt: 2,
        };
        let argv = expand(
            &t(&["pytest", "{name}", "--id={test_id}.{attempt}", "{{x}}"]),
            &f,
        );
        assert_eq!(
            argv.unwrap(),
            ["pytest", "a b; rm -rf /", "--id=7.2", "{x}"]
        );
    }

    #[test]
    fn bad_templates_are_refused_naming_the_item() {
        assert!(check(&t(&["pytest", "{nme}"]))
            .unwrap_err()
            .contains("{nme}"));
        assert!(check(&t(&["pytest", "{name"]))
            .unwrap_err()
            .contains("unmatched"));
        assert!(check(&t(&["pytest", "name}"]))
            .unwrap_err()
            .contains("unmatched"));
        assert!(check(&[]).is_err());
        assert!(check(&t(&["pytest", "{name}"])).is_ok());
        let unnamed = Fields {
            name: None,
            test_id: 1,
            attempt: 1,
        };
        assert!(expand(&t(&["x", "{name}"]), &unnamed).is_err());
    }
}
