//! Lambda function for `GET /people/{id}`.

fn main() -> Result<(), lambda_http::Error> {
    tally_functions::lambda::run(tally_functions::boxed!(tally_functions::people::get))
}
