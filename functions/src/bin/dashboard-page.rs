//! Lambda function for `GET /dashboard`.

tally_functions::function!(tally_functions::dashboard::page);
