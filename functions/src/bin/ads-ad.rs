//! Lambda function for `GET /ad`.

tally_functions::function!(tally_functions::ads::ad);
