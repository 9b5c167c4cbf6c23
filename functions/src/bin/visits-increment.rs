//! Lambda function for `POST /counters/{id}`.

tally_functions::function!(tally_functions::visits::increment);
