//! Lambda function for `GET /database`.

fn main() -> Result<(), lambda_http::Error> {
    tally_functions::lambda::run(tally_functions::boxed!(tally_functions::visits::database))
}
