//! The query parameters of `/ad`, `/impression` and `/statistics`, checked before anything is
//! counted or fetched. The missing-parameter messages are the original's, byte for byte.

use super::counter_keys::{sdk_key, user_key, MAX_SHARDS};
use super::Namespace;
use crate::store::keys::{self, KeyPart};
use crate::ApiError;

/// The longest value any ad parameter may have, in characters (code points).
pub const MAX_PARAM_CHARS: usize = 256;

/// What `/ad` and `/impression` require, in the contract's order (the order of the message).
pub const AD_PARAMS: [&str; 5] = [
    "sdk_version",
    "session_id",
    "platform",
    "username",
    "country_code",
];

/// What `/statistics` takes, one of the two, in the order of its message.
pub const STATS_PARAMS: [&str; 2] = ["username", "sdk"];

/// The 400 naming the missing parameters as the original did: `['sdk_version', 'username']`.
fn required(names: &[&str]) -> ApiError {
    let list: Vec<String> = names.iter().map(|name| format!("'{name}'")).collect();
    ApiError::BadRequest(format!(
        "following params are required [{}]",
        list.join(", ")
    ))
}

/// The key a counter of `namespace` is stored under, checked in bytes (a `BySdk` sort key for
/// an SDK version, with its prefix and the widest shard number; a table key for a user).
fn check_key(name: &str, namespace: Namespace, value: &str) -> Result<(), ApiError> {
    match namespace {
        Namespace::User => keys::check(name, &user_key(value), KeyPart::Partition),
        Namespace::Sdk => keys::check(name, &sdk_key(value, MAX_SHARDS - 1), KeyPart::Sort),
    }
}

fn check_length(name: &str, value: &str) -> Result<(), ApiError> {
    if value.chars().count() > MAX_PARAM_CHARS {
        return Err(ApiError::field(
            name,
            format!("must be at most {MAX_PARAM_CHARS} characters"),
        ));
    }
    Ok(())
}

/// A valid `/ad` or `/impression` request: what is counted. `session_id`, `platform` and
/// `country_code` are required and checked, but nothing counts by them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdParams {
    pub sdk_version: String,
    pub username: String,
}

impl AdParams {
    /// Checks the five parameters; `get` answers a parameter's value, `None` if absent or empty.
    pub fn parse<'a>(get: impl Fn(&str) -> Option<&'a str>) -> Result<Self, ApiError> {
        let values = AD_PARAMS.map(&get);
        let missing: Vec<&str> = AD_PARAMS
            .iter()
            .zip(&values)
            .filter(|(_, value)| value.is_none())
            .map(|(name, _)| *name)
            .collect();
        if !missing.is_empty() {
            return Err(required(&missing));
        }
        for (name, value) in AD_PARAMS.iter().zip(&values) {
            check_length(name, value.unwrap_or_default())?;
        }
        let [sdk_version, _, _, username, _] = values.map(|v| v.unwrap_or_default().to_string());
        check_key("sdk_version", Namespace::Sdk, &sdk_version)?;
        check_key("username", Namespace::User, &username)?;
        Ok(AdParams {
            sdk_version,
            username,
        })
    }
}

/// The counter `/statistics` reads: a user or an SDK version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatsKey {
    pub namespace: Namespace,
    pub name: String,
}

impl StatsKey {
    /// Takes exactly one of `username` and `sdk`; `get` as for `AdParams::parse`.
    pub fn parse<'a>(get: impl Fn(&str) -> Option<&'a str>) -> Result<Self, ApiError> {
        let (namespace, param, name) = match (get("username"), get("sdk")) {
            (None, None) => return Err(required(&STATS_PARAMS)),
            (Some(_), Some(_)) => {
                return Err(ApiError::BadRequest(
                    "give either username or sdk, not both".into(),
                ))
            }
            (Some(user), None) => (Namespace::User, "username", user),
            (None, Some(sdk)) => (Namespace::Sdk, "sdk", sdk),
        };
        check_length(param, name)?;
        check_key(param, namespace, name)?;
        Ok(StatsKey {
            namespace,
            name: name.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn an_sdk_version_whose_key_is_over_1024_bytes_is_400_though_under_256_characters() {
        let ad = |version: &str| {
            AdParams::parse(|name| Some(if name == "sdk_version" { version } else { "x" }))
        };
        let version = "\u{1F600}".repeat(255);
        let err = ad(&version).unwrap_err();
        assert!(
            err.to_string().starts_with("sdk_version: is too long"),
            "{err}"
        );
        let stats = StatsKey::parse(|name| (name == "sdk").then_some(version.as_str()));
        assert!(stats.is_err());
        assert!(ad(&"\u{1F600}".repeat(250)).is_ok());
    }

    fn lookup<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<&'a str> {
        let map: HashMap<&str, &str> = pairs.iter().copied().collect();
        move |name| map.get(name).copied().filter(|v| !v.is_empty())
    }

    const FULL: [(&str, &str); 5] = [
        ("sdk_version", "1.0"),
        ("session_id", "s1"),
        ("platform", "ios"),
        ("username", "alice"),
        ("country_code", "US"),
    ];

    #[test]
    fn all_five_parameters_give_the_user_and_sdk_version() {
        let params = AdParams::parse(lookup(&FULL)).expect("valid");
        assert_eq!(
            params,
            AdParams {
                sdk_version: "1.0".into(),
                username: "alice".into()
            }
        );
    }

    #[test]
    fn every_combination_of_missing_parameters_is_named_in_contract_order() {
        for mask in 1u32..32 {
            let given: Vec<(&str, &str)> = FULL
                .iter()
                .enumerate()
                .map(|(i, &(name, value))| (name, if mask & (1 << i) != 0 { "" } else { value }))
                .collect();
            let missing: Vec<String> = AD_PARAMS
                .iter()
                .enumerate()
                .filter(|(i, _)| mask & (1 << i) != 0)
                .map(|(_, name)| format!("'{name}'"))
                .collect();
            let err = AdParams::parse(lookup(&given)).expect_err("refused");
            assert_eq!(
                err.to_string(),
                format!("following params are required [{}]", missing.join(", "))
            );
        }
    }

    #[test]
    fn the_documented_example_message_is_exact() {
        let given = [
            ("session_id", "s"),
            ("platform", "p"),
            ("country_code", "c"),
        ];
        assert_eq!(
            AdParams::parse(lookup(&given)).unwrap_err().to_string(),
            "following params are required ['sdk_version', 'username']"
        );
    }

    #[test]
    fn values_over_256_characters_are_refused_naming_the_parameter() {
        let long = "é".repeat(257);
        let mut given = FULL;
        given[2] = ("platform", &long);
        let err = AdParams::parse(lookup(&given)).expect_err("too long");
        assert_eq!(err.to_string(), "platform: must be at most 256 characters");
        given[2] = ("platform", &long[..512]);
        assert!(AdParams::parse(lookup(&given)).is_ok());
    }

    #[test]
    fn statistics_takes_exactly_one_of_username_and_sdk() {
        assert_eq!(
            StatsKey::parse(lookup(&[("username", "1.0")])).expect("user"),
            StatsKey {
                namespace: Namespace::User,
                name: "1.0".into()
            }
        );
        assert_eq!(
            StatsKey::parse(lookup(&[("sdk", "1.0"), ("username", "")])).expect("sdk"),
            StatsKey {
                namespace: Namespace::Sdk,
                name: "1.0".into()
            }
        );
        assert_eq!(
            StatsKey::parse(lookup(&[])).unwrap_err().to_string(),
            "following params are required ['username', 'sdk']"
        );
        assert_eq!(
            StatsKey::parse(lookup(&[("username", "a"), ("sdk", "1")]))
                .unwrap_err()
                .to_string(),
            "give either username or sdk, not both"
        );
        let long = "x".repeat(257);
        assert_eq!(
            StatsKey::parse(lookup(&[("sdk", &long)]))
                .unwrap_err()
                .to_string(),
            "sdk: must be at most 256 characters"
        );
    }
}
