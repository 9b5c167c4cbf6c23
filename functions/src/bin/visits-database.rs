//! Lambda function for `GET /database`.

tally_functions::function!(tally_functions::visits::database);
