//! Lambda function for `GET /ids/lastname/{lastname}`.

fn main() -> Result<(), lambda_http::Error> {
    tally_functions::lambda::run(tally_functions::boxed!(
        tally_functions::people::ids_by_last_name
    ))
}
