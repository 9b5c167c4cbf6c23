//! Lambda function for `GET /api/{proxy+}`.

tally_functions::function!(tally_functions::stats::count);
