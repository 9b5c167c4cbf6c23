//! Lambda function for `POST /form`.

tally_functions::function!(tally_functions::visits::form);
