//! Small helpers for the words of human-readable output: counts with the
//! right plural, and the name a user probably meant.

/// `1 event`, `2 events`, `0 events`; `word` is the singular, and its plural
/// adds `s` (or `plural_form` when given through [`count_of`]).
pub fn count(n: impl Into<u64>, word: &str) -> String {
    let n = n.into();
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// Like [`count`] for words whose plural is not `word + s`.
pub fn count_of(n: impl Into<u64>, singular: &str, plural: &str) -> String {
    let n = n.into();
    format!("{n} {}", if n == 1 { singular } else { plural })
}

/// The candidates closest to `wanted` (edit distance at most a third of its
/// length, at least 2), best first: what "did you mean ...?" offers.
pub fn closest<'a>(wanted: &str, candidates: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let limit = (wanted.chars().count() / 3).max(2);
    let mut near: Vec<(usize, &str)> = candidates
        .into_iter()
        .map(|c| (edit_distance(wanted, c), c))
        .filter(|&(d, c)| d <= limit || (c.contains(wanted) && wanted.len() >= 3))
        .collect();
    near.sort();
    near.into_iter().map(|(_, c)| c).take(3).collect()
}

/// Levenshtein distance over characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// `text` on one line, at most `max` characters (an ellipsis marks a cut).
pub fn one_line(text: &str, max: usize) -> String {
    let flat: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let flat = flat.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        flat
    } else {
        let cut: String = flat.chars().take(max.saturating_sub(1)).collect();
        format!("{cut}…")
    }
}

/// "did you mean `a`?" / "did you mean `a` or `b`?", or nothing.
pub fn did_you_mean(near: &[&str]) -> Option<String> {
    match near {
        [] => None,
        [one] => Some(format!("did you mean `{one}`?")),
        [rest @ .., last] => Some(format!(
            "did you mean {} or `{last}`?",
            rest.iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_take_the_plural_they_need() {
        assert_eq!(count(1u64, "event"), "1 event");
        assert_eq!(count(0u64, "event"), "0 events");
        assert_eq!(count(2u64, "finding"), "2 findings");
        assert_eq!(count_of(3u64, "entry", "entries"), "3 entries");
    }

    #[test]
    fn a_typo_finds_the_name_it_was_meant_to_be() {
        let names = ["brute-force", "credential-stuffing", "impossible-travel"];
        assert_eq!(closest("brute-forse", names), vec!["brute-force"]);
        assert_eq!(closest("bruteforce", names), vec!["brute-force"]);
        assert_eq!(closest("travel", names), vec!["impossible-travel"]);
        assert!(closest("zzzzzz", names).is_empty());
        assert_eq!(
            did_you_mean(&["a", "b"]).unwrap(),
            "did you mean `a` or `b`?"
        );
    }
}
