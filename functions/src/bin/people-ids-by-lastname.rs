//! Lambda function for `GET /ids/lastname/{lastname}`.

tally_functions::function!(tally_functions::people::ids_by_last_name);
