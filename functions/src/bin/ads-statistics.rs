//! Lambda function for `GET /statistics`.

tally_functions::function!(tally_functions::ads::statistics);
