//! Lambda function for `GET /counters/{id}`.

fn main() -> Result<(), lambda_http::Error> {
    tally_functions::lambda::run(tally_functions::boxed!(tally_functions::visits::count))
}
