//! `import-people` in AWS mode, run as the real `tally-local` binary against a DynamoDB- and
//! CloudFormation-protocol server (moto) whose tables already exist: the table names come from
//! the stack's outputs or the command line, credentials, region and endpoint from an AWS
//! profile (the SDK's default chain), and the server's own record of the requests it received
//! shows that no table was created.

use serde_norway::{Mapping, Value};
use std::path::{Path, PathBuf};
use tally_tests::dynamodb_server::DynamoServer;
use tempfile::TempDir;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn tally_local() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("target"));
    target.join("debug/tally-local")
}

/// A home directory whose AWS config has one profile for `server`, in `region`.
fn aws_home(server: &DynamoServer, region: &str) -> TempDir {
    let home = tempfile::tempdir().expect("temp home");
    std::fs::create_dir(home.path().join(".aws")).expect(".aws");
    let config = format!(
        "[profile tally-admin]\nregion = {region}\nendpoint_url = {}\n\
         aws_access_key_id = admin\naws_secret_access_key = admin\n",
        server.endpoint()
    );
    std::fs::write(home.path().join(".aws/config"), config).expect("config");
    home
}

/// The SDK configuration of that profile, for the test's own calls.
async fn profile_config(server: &DynamoServer, region: &str) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(tally::store::dynamodb::https())
        .endpoint_url(server.endpoint())
        .region(aws_config::Region::new(region.to_string()))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "admin", "admin", None, None, "test",
        ))
        .load()
        .await
}

/// The original people file.
const PEOPLE_CSV: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../data/people.csv");

/// `tally-local ARGS` with nothing from this process's environment but `PATH` and the profile.
async fn run_tally_local(home: &Path, args: &[&str]) -> std::process::Output {
    tokio::process::Command::new(tally_local())
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("AWS_PROFILE", "tally-admin")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .await
        .expect("target/debug/tally-local runs (make test builds it)")
}

/// The template's tables and their name outputs, as a stack template of their own (moto's
/// CloudFormation has no SAM transform, and the functions are not needed here).
fn tables_stack() -> String {
    let template: Value =
        serde_norway::from_str(tally_local::schema::TEMPLATE).expect("template.yaml");
    let mut resources = Mapping::new();
    let mut outputs = Mapping::new();
    for spec in tally::config::TABLES {
        let id = spec.logical_id;
        resources.insert(id.into(), template["Resources"][id].clone());
        let output = tally_local::admin::output_key(spec);
        outputs.insert(output.clone().into(), template["Outputs"][&output].clone());
    }
    let mut stack = Mapping::new();
    // The parameters the tables may use; those without a default belong to the functions.
    let parameters: Mapping = template["Parameters"]
        .as_mapping()
        .expect("Parameters")
        .iter()
        .filter(|(_, p)| p.get("Default").is_some())
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    stack.insert("Parameters".into(), Value::Mapping(parameters));
    stack.insert("Resources".into(), Value::Mapping(resources));
    stack.insert("Outputs".into(), Value::Mapping(outputs));
    serde_norway::to_string(&stack).expect("stack template")
}

/// Whether the people table `name` holds no person (read through the people store).
async fn people_empty(client: aws_sdk_dynamodb::Client, name: String) -> bool {
    let mut tables = tally::config::Config::default().tables;
    tables.people = name;
    let state = tally_tests::dynamodb_state_on(client, tables);
    state
        .people
        .store
        .is_empty()
        .await
        .expect("people table read")
}

fn assert_imported_without_creating_tables(output: &std::process::Output, operations: &[String]) {
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("people loaded"),
        "{}\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        operations.iter().any(|op| op == "PutItem"),
        "{operations:?}"
    );
    assert!(
        !operations.iter().any(|op| op == "CreateTable"),
        "{operations:?}"
    );
}

#[tokio::test]
async fn import_people_into_a_stack_takes_its_table_names_from_the_outputs() {
    let server = DynamoServer::start().await;
    let home = aws_home(&server, "eu-west-2");
    let config = profile_config(&server, "eu-west-2").await;
    let cloudformation = aws_sdk_cloudformation::Client::new(&config);
    cloudformation
        .create_stack()
        .stack_name("tally-admin-test")
        .template_body(tables_stack())
        .send()
        .await
        .expect("stack created");
    server.start_recording().await;

    let output = run_tally_local(
        home.path(),
        &["import-people", "--stack", "tally-admin-test", PEOPLE_CSV],
    )
    .await;

    let operations = server.recorded_operations().await;
    assert_eq!(
        operations.first().map(String::as_str),
        Some("DescribeStacks")
    );
    assert_imported_without_creating_tables(&output, &operations);
    let stacks = cloudformation
        .describe_stacks()
        .stack_name("tally-admin-test")
        .send()
        .await
        .expect("stack");
    let people_table = stacks.stacks()[0]
        .outputs()
        .iter()
        .find(|o| o.output_key() == Some("PeopleTableName"))
        .and_then(|o| o.output_value())
        .expect("PeopleTableName output")
        .to_string();
    assert!(people_table.starts_with("tally-admin-test-PeopleTable-"));
    assert!(!people_empty(aws_sdk_dynamodb::Client::new(&config), people_table).await);
}

#[tokio::test]
async fn import_people_into_named_tables_uses_the_given_name_and_the_profile_region() {
    let server = DynamoServer::start().await;
    let home = aws_home(&server, "ap-southeast-2");
    let config = profile_config(&server, "ap-southeast-2").await;
    let client = aws_sdk_dynamodb::Client::new(&config);
    let tables =
        tally_local::schema::ensure_tables(&client, |spec| format!("existing-{}", spec.logical_id))
            .await
            .expect("tables exist before the import");
    server.start_recording().await;

    let output = run_tally_local(
        home.path(),
        &[
            "import-people",
            "--table",
            &format!("PeopleTable={}", tables.people),
            PEOPLE_CSV,
        ],
    )
    .await;

    let operations = server.recorded_operations().await;
    assert_imported_without_creating_tables(&output, &operations);
    assert!(!people_empty(client, tables.people).await);
}

#[tokio::test]
async fn import_people_names_a_missing_stack_and_creates_nothing() {
    let server = DynamoServer::start().await;
    let home = aws_home(&server, "eu-west-2");
    server.start_recording().await;
    let output = run_tally_local(
        home.path(),
        &["import-people", "--stack", "no-such-stack", PEOPLE_CSV],
    )
    .await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("stack no-such-stack"), "{stderr}");
    let operations = server.recorded_operations().await;
    assert!(!operations.is_empty(), "no request reached the server");
    assert!(
        operations.iter().all(|op| op == "DescribeStacks"),
        "{operations:?}"
    );
}
