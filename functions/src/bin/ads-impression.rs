//! Lambda function for `GET /impression`.

tally_functions::function!(tally_functions::ads::impression);
