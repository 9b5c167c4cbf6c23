//! Lambda function for `GET /counters/{id}`.

tally_functions::function!(tally_functions::visits::count);
