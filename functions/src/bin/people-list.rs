//! Lambda function for `GET /people`.

tally_functions::function!(tally_functions::people::list);
