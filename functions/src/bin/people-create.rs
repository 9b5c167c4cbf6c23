//! Lambda function for `POST /people`.

tally_functions::function!(tally_functions::people::create);
