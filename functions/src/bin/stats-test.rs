//! Lambda function for `POST /test/{n}/` (and `/test/{n}`).

tally_functions::function!(tally_functions::stats::selftest);
