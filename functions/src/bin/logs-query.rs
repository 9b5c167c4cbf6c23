//! Lambda function for `GET /log`.

tally_functions::function!(tally_functions::logs::query);
