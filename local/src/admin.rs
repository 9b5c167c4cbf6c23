//! The admin commands' command line and where they run: locally (the store `make run` uses,
//! creating missing tables on a DynamoDB endpoint) or in an AWS account, where the stack owns
//! the tables: names from its outputs (`--stack`) or given (`--table`), credentials and region
//! from the SDK's default chain (environment, profiles, SSO), and never a CreateTable.

use aws_sdk_dynamodb::Client;
use std::collections::BTreeMap;
use std::path::PathBuf;
use tally::config::{Config, TableNames, TableSpec, TABLES};
use tally::AppState;

pub const USAGE: &str =
    "usage: tally-local [import-people [--stack NAME | --table LOGICAL_ID=NAME ...] FILE]
  (no command)   serve the API on TALLY_ADDR
  import-people  load a people CSV; locally, or in AWS with --stack (table names from the
                 stack's outputs) or --table PeopleTable=NAME; AWS_PROFILE/AWS_REGION as usual";

/// Where an admin command's tables are.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// The local API's store (`DYNAMODB_ENDPOINT` or the embedded one).
    Local,
    /// The tables a CloudFormation stack created, named by its outputs `<logical id>Name`.
    Stack(String),
    /// Tables named on the command line, by the logical id `template.yaml` gives them.
    Tables(BTreeMap<String, String>),
}

/// What the command line asks for.
#[derive(Debug, PartialEq)]
pub enum Command {
    Serve,
    /// Lambda mode: every route through its function binary (`make run-lambda`).
    Lambda,
    ImportPeople {
        target: Target,
        file: PathBuf,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("{0}\n{USAGE}")]
    Usage(String),
    #[error("stack {stack}: {problem}")]
    Stack { stack: String, problem: String },
    #[error("no name for table {0}: pass --table {0}=NAME, or --stack")]
    MissingTable(String),
}

fn usage(problem: impl Into<String>) -> AdminError {
    AdminError::Usage(problem.into())
}

/// Parses the arguments after the program name.
pub fn parse(args: &[String]) -> Result<Command, AdminError> {
    let Some((command, rest)) = args.split_first() else {
        return Ok(Command::Serve);
    };
    if command == "lambda" && rest.is_empty() {
        return Ok(Command::Lambda);
    }
    if command != "import-people" {
        return Err(usage(format!("unknown command {command}")));
    }
    let mut stack = None;
    let mut tables = BTreeMap::new();
    let mut files = Vec::new();
    let mut rest = rest.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--stack" => stack = Some(rest.next().ok_or_else(|| usage("--stack needs a name"))?),
            "--table" => {
                let pair = rest
                    .next()
                    .ok_or_else(|| usage("--table needs LOGICAL_ID=NAME"))?;
                let (id, name) = table_arg(pair)?;
                tables.insert(id, name);
            }
            flag if flag.starts_with("--") => return Err(usage(format!("unknown option {flag}"))),
            file => files.push(PathBuf::from(file)),
        }
    }
    let [file] = <[PathBuf; 1]>::try_from(files).map_err(|_| usage("give exactly one FILE"))?;
    let target = match (stack, tables.is_empty()) {
        (None, true) => Target::Local,
        (Some(stack), true) => Target::Stack(stack.clone()),
        (None, false) => Target::Tables(tables),
        (Some(_), false) => return Err(usage("--stack and --table exclude each other")),
    };
    Ok(Command::ImportPeople { target, file })
}

/// `PeopleTable=name`: a logical id of `template.yaml` and a table name.
fn table_arg(pair: &str) -> Result<(String, String), AdminError> {
    let (id, name) = pair
        .split_once('=')
        .filter(|(_, name)| !name.is_empty())
        .ok_or_else(|| usage(format!("--table {pair}: expected LOGICAL_ID=NAME")))?;
    if !TABLES.iter().any(|spec| spec.logical_id == id) {
        let known: Vec<&str> = TABLES.iter().map(|spec| spec.logical_id).collect();
        return Err(usage(format!(
            "--table {id}: not a table of template.yaml ({})",
            known.join(", ")
        )));
    }
    Ok((id.to_string(), name.to_string()))
}

/// An AWS target resolved: a DynamoDB client from the default chain and the table names.
pub struct Account {
    client: Client,
    names: BTreeMap<String, String>,
}

impl Account {
    /// Resolves `target` (not `Local`) with the SDK's default configuration.
    pub async fn connect(target: &Target) -> Result<Account, AdminError> {
        let config = tally::store::dynamodb::loader().load().await;
        let names = match target {
            Target::Local => BTreeMap::new(),
            Target::Tables(names) => names.clone(),
            Target::Stack(stack) => {
                stack_tables(&aws_sdk_cloudformation::Client::new(&config), stack).await?
            }
        };
        Ok(Account {
            client: Client::new(&config),
            names,
        })
    }

    /// The name of the table `template.yaml` calls `logical_id`, in this account.
    pub fn table(&self, logical_id: &str) -> Result<String, AdminError> {
        self.names
            .get(logical_id)
            .cloned()
            .ok_or_else(|| AdminError::MissingTable(logical_id.to_string()))
    }

    /// The stores on the account's tables, once the ones `needed` (logical ids) are named;
    /// a table not named stays unnamed, and no command that runs reaches it.
    pub fn state(&self, needed: &[&str]) -> Result<AppState, AdminError> {
        for logical_id in needed {
            self.table(logical_id)?;
        }
        let tables = TableNames::resolve(|spec| {
            self.names.get(spec.logical_id).cloned().unwrap_or_default()
        });
        Ok(AppState::dynamodb(
            self.client.clone(),
            &Config {
                tables,
                ..Config::default()
            },
        ))
    }
}

/// The stack output that names table `spec` (`template.yaml` declares one per table).
pub fn output_key(spec: &TableSpec) -> String {
    format!("{}Name", spec.logical_id)
}

/// The table names a stack's outputs give, by logical id (DescribeStacks).
async fn stack_tables(
    cloudformation: &aws_sdk_cloudformation::Client,
    stack: &str,
) -> Result<BTreeMap<String, String>, AdminError> {
    let failed = |problem: String| AdminError::Stack {
        stack: stack.to_string(),
        problem,
    };
    let out = cloudformation
        .describe_stacks()
        .stack_name(stack)
        .send()
        .await
        .map_err(|err| {
            failed(aws_sdk_cloudformation::error::DisplayErrorContext(&err).to_string())
        })?;
    let outputs = out
        .stacks()
        .first()
        .ok_or_else(|| failed("not found".into()))?
        .outputs();
    Ok(TABLES
        .iter()
        .filter_map(|spec| {
            let key = output_key(spec);
            let output = outputs
                .iter()
                .find(|o| o.output_key() == Some(key.as_str()))?;
            Some((
                spec.logical_id.to_string(),
                output.output_value()?.to_string(),
            ))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Vec<String> {
        line.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn local_stack_and_named_tables() {
        assert_eq!(parse(&[]).expect("serve"), Command::Serve);
        assert_eq!(parse(&args("lambda")).expect("lambda"), Command::Lambda);
        let file = PathBuf::from("people.csv");
        assert_eq!(
            parse(&args("import-people people.csv")).expect("local"),
            Command::ImportPeople {
                target: Target::Local,
                file: file.clone()
            }
        );
        assert_eq!(
            parse(&args("import-people --stack tally-dev people.csv")).expect("stack"),
            Command::ImportPeople {
                target: Target::Stack("tally-dev".into()),
                file: file.clone()
            }
        );
        assert_eq!(
            parse(&args("import-people --table PeopleTable=p1 people.csv")).expect("named"),
            Command::ImportPeople {
                target: Target::Tables(BTreeMap::from([("PeopleTable".into(), "p1".into())])),
                file
            }
        );
    }

    #[test]
    fn mistakes_are_usage_errors_that_say_what_to_fix() {
        for (line, needle) in [
            ("import-people", "exactly one FILE"),
            ("import-people a.csv b.csv", "exactly one FILE"),
            ("import-people --stack", "--stack needs a name"),
            (
                "import-people --table People=x a.csv",
                "not a table of template.yaml",
            ),
            (
                "import-people --table PeopleTable= a.csv",
                "LOGICAL_ID=NAME",
            ),
            (
                "import-people --stack s --table PeopleTable=x a.csv",
                "exclude each other",
            ),
            ("import-people --force a.csv", "unknown option --force"),
            ("export a.csv", "unknown command export"),
        ] {
            let err = parse(&args(line)).expect_err(line).to_string();
            assert!(err.contains(needle), "{line}: {err}");
        }
    }
}
