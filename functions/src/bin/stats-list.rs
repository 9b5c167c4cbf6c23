//! Lambda function for `GET /stats/` (and `/stats`).

fn main() -> Result<(), lambda_http::Error> {
    tally_functions::lambda::run(tally_functions::boxed!(tally_functions::stats::list))
}
