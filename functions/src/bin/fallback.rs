//! Lambda function for API Gateway's `$default` route: JSON 404s and 405s.

fn main() -> Result<(), lambda_http::Error> {
    tally_functions::lambda::run(tally_functions::boxed!(tally_functions::fallback::handle))
}
