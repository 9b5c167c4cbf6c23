//! Lambda function for `GET /people/age`.

fn main() -> Result<(), lambda_http::Error> {
    tally_functions::lambda::run(tally_functions::boxed!(tally_functions::people::by_age))
}
