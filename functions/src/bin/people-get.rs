//! Lambda function for `GET /people/{id}`.

tally_functions::function!(tally_functions::people::get);
