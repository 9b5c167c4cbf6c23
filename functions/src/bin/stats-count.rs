//! Lambda function for `GET /api/{proxy+}`.

fn main() -> Result<(), lambda_http::Error> {
    tally_functions::lambda::run(tally_functions::boxed!(tally_functions::stats::count))
}
