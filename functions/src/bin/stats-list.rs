//! Lambda function for `GET /stats/` (and `/stats`).

tally_functions::function!(tally_functions::stats::list);
