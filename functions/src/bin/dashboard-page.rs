//! Lambda function for `GET /dashboard`.

fn main() -> Result<(), lambda_http::Error> {
    tally_functions::lambda::run(tally_functions::boxed!(tally_functions::dashboard::page))
}
