//! Lambda function for `GET /ping`.

tally_functions::function!(tally_functions::people::ping);
