//! Lambda function for `GET /`.

tally_functions::function!(tally_functions::visits::home);
