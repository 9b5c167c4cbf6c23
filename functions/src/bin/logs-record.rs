//! Lambda function for `POST /log`.

tally_functions::function!(tally_functions::logs::record);
