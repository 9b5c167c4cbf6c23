//! The visit counter's HTML: the front page with its form, and the result table.

use crate::html::{escape, page};

/// `GET /`: the greeting and the form that posts to `/form`.
pub fn front_page() -> String {
    page(
        "Tally",
        "<h1>Hello world!</h1>\n\
         <form method=\"post\" action=\"/form\">\n\
         <label>Id <input name=\"id\" required maxlength=\"128\"></label>\n\
         <label>Question <input name=\"question\"></label>\n\
         <button type=\"submit\">Count me</button>\n\
         </form>\n\
         <p><a href=\"/dashboard\">Dashboard</a>: the numbers of every service as charts.</p>",
    )
}

/// `POST /form`: the id, the question and the new count, all escaped.
pub fn result_page(id: &str, question: &str, count: u64) -> String {
    page(
        "Tally: counted",
        &format!(
            "<table>\n<tr><th>Id</th><th>Question</th><th>Count</th></tr>\n\
             <tr><td>{}</td><td>{}</td><td>{count}</td></tr>\n</table>\n\
             <p><a href=\"/\">Back</a></p>",
            escape(id),
            escape(question)
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn front_page_has_the_greeting_and_a_required_id_field() {
        let html = front_page();
        assert!(html.contains("Hello world!"));
        assert!(html.contains("action=\"/form\""));
        assert!(html.contains("name=\"id\" required"));
        assert!(html.contains("name=\"question\""));
        assert!(html.contains("href=\"/dashboard\""));
    }

    #[test]
    fn result_page_escapes_user_text() {
        let html = result_page("<b>", "\"&'", 3);
        assert!(html.contains("<td>&lt;b&gt;</td><td>&quot;&amp;&#39;</td><td>3</td>"));
    }
}
