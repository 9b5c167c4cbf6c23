//! Lambda function for API Gateway's `$default` route: JSON 404s and 405s.

tally_functions::function!(tally_functions::fallback::handle);
