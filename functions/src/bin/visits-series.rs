//! Lambda function for `GET /counters/{id}/series`.

tally_functions::function!(tally_functions::visits::series);
