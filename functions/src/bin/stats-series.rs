//! Lambda function for `GET /stats/series`.

tally_functions::function!(tally_functions::stats::series);
