//! The dashboard page: the sections in one self-contained document, its one stylesheet, and
//! the Content-Security-Policy that allows nothing else (no scripts, fonts, images or CDNs).

use super::{sections, Figures};
use crate::html::{document, escape};
use base64::Engine;
use sha2::{Digest, Sha256};

/// The page's only styles; the CSP allows exactly this text, by hash.
const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:0 auto;max-width:60rem;\
padding:1rem;color:#1a202c}section{margin:1.5rem 0;padding:1rem;border:1px solid #cbd5e0;\
border-radius:.5rem}h1{font-size:1.5rem}h2{font-size:1.1rem;margin-top:0}\
.chart{display:block;max-width:100%;height:auto}.empty{color:#4a5568}\
.unavailable{color:#9b2c2c;font-weight:bold}.total{font-size:1.2rem}";

/// The whole page for these figures.
pub fn render(figures: &Figures) -> String {
    let body = format!(
        "<h1>Tally dashboard</h1>\n<p>Figures as of {} (UTC). <a href=\"/\">Front page</a></p>\n\
         {}\n{}\n{}\n{}\n{}",
        escape(&crate::date::format(figures.today)),
        sections::paths(figures),
        sections::sdks(figures),
        sections::daily(figures),
        sections::visitors(figures),
        sections::people(figures),
    );
    document("Tally dashboard", &format!("<style>{STYLE}</style>"), &body)
}

/// Allows the page's own stylesheet and nothing else.
pub fn content_security_policy() -> String {
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(STYLE));
    format!(
        "default-src 'none'; style-src 'sha256-{hash}'; base-uri 'none'; form-action 'none'; \
         frame-ancestors 'none'"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ads::Counts;
    use crate::logs::DailyCount;
    use crate::people::age::AgeGroup;
    use crate::stats::PathCount;
    use crate::StoreError;

    fn figures() -> Figures {
        Figures {
            today: time::Date::from_calendar_date(2026, time::Month::May, 20).expect("date"),
            paths: Ok(vec![PathCount {
                path: "<a>/b".into(),
                count: 3,
            }]),
            sdks: Ok(vec![(
                "1.0\"".into(),
                Counts {
                    ad_requests: 4,
                    impressions: 1,
                },
            )]),
            daily: Ok(vec![DailyCount {
                day: "2026-05-19".into(),
                kind: "CLICK".into(),
                count: 2,
            }]),
            visitors: Err(StoreError::Unavailable("down".into())),
            people: Ok(vec![(AgeGroup::Stated(30), 2)]),
        }
    }

    #[test]
    fn every_section_renders_and_a_failed_store_marks_only_its_own() {
        let html = render(&figures());
        for id in ["paths", "sdks", "daily", "people"] {
            assert!(
                html.contains(&format!("<section id=\"{id}\" data-state=\"ok\">")),
                "{id}"
            );
        }
        assert!(html.contains("<section id=\"visitors\" data-state=\"unavailable\">"));
        assert!(html.contains("&lt;a&gt;/b") && !html.contains("<a>/b"));
        assert!(html.contains("fill 25.0%"));
        assert!(html.contains("data-total=\"2\""));
        assert_eq!(html.matches("<g class=\"row\">").count(), 1 + 1 + 30 + 1);
    }

    #[test]
    fn empty_stores_get_a_friendly_empty_state() {
        let mut empty = figures();
        empty.paths = Ok(Vec::new());
        empty.sdks = Ok(Vec::new());
        empty.daily = Ok(Vec::new());
        empty.visitors = Ok(Vec::new());
        empty.people = Ok(Vec::new());
        let html = render(&empty);
        assert_eq!(html.matches("data-state=\"empty\"").count(), 5);
        assert!(!html.contains("<svg"));
    }

    #[test]
    fn the_policy_allows_the_page_style_by_hash_and_nothing_else() {
        let csp = content_security_policy();
        assert!(csp.starts_with("default-src 'none'; style-src 'sha256-"));
        assert!(!csp.contains("unsafe") && !csp.contains("script-src"));
        assert!(!render(&figures()).contains("<script"));
    }
}
