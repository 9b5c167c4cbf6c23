//! The byte budget of a page. A synchronous Lambda response is at most 6 MB, and a larger one
//! becomes API Gateway's 500 (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html,
//! "Invocation payload (request and response)"). The response is the body embedded as a JSON
//! string in Lambda's response object, so each `"` and `\` of the body costs one byte more
//! there. A page stops at the item that would take it past `PAGE_BUDGET_BYTES` (always
//! keeping one), and its cursor points at that cut.

use serde::Serialize;

/// What a page's items may take in the Lambda response: 4 MiB, leaving room under 6 MB for
/// the headers, the response object and the body's own brackets and separators.
pub const PAGE_BUDGET_BYTES: usize = 4 * 1024 * 1024;

/// What `item` adds to a Lambda response: its JSON, each `"` and `\` escaped once more, and
/// a separator.
pub fn response_bytes<T: Serialize>(item: &T) -> usize {
    let json = serde_json::to_vec(item).unwrap_or_default();
    let escapes = json.iter().filter(|b| matches!(b, b'"' | b'\\')).count();
    json.len() + escapes + 1
}

/// How many of `items`, from the first, fit in `budget` bytes (`response_bytes` each); at
/// least one, so a page always moves forward.
pub fn fitting<'a, T: Serialize + 'a>(
    items: impl IntoIterator<Item = &'a T>,
    budget: usize,
) -> usize {
    let mut used = 0;
    let mut count = 0;
    for item in items {
        used += response_bytes(item);
        if used > budget && count > 0 {
            break;
        }
        count += 1;
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_and_backslashes_count_twice() {
        assert_eq!(response_bytes(&"a"), 3 + 2 + 1);
        assert_eq!(response_bytes(&"\\"), 4 + 4 + 1);
    }

    #[test]
    fn a_page_stops_before_the_item_that_passes_the_budget_and_keeps_one() {
        let items = ["aaaa", "bbbb", "cccc"];
        let each = response_bytes(&"aaaa");
        assert_eq!(fitting(&items, 2 * each), 2);
        assert_eq!(fitting(&items, 2 * each - 1), 1);
        assert_eq!(fitting(&items, 1), 1);
        assert_eq!(fitting(&items, usize::MAX), 3);
    }
}
