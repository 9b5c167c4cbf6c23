//! Lambda function for `POST /test/{n}/` (and `/test/{n}`).

fn main() -> Result<(), lambda_http::Error> {
    tally_functions::lambda::run(tally_functions::boxed!(tally_functions::stats::selftest))
}
