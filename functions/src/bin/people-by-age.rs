//! Lambda function for `GET /people/age`.

tally_functions::function!(tally_functions::people::by_age);
