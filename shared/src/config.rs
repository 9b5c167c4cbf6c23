//! Settings read from the environment once, when the state is built (never in a handler).

use std::str::FromStr;

/// The variable `name` parsed as `T` when set and `valid`; otherwise `default` (a set but
/// unusable value is logged, so a typo in the template does not pass silently).
pub fn env_or<T: FromStr + Copy + std::fmt::Debug>(
    name: &str,
    default: T,
    valid: impl Fn(&T) -> bool,
) -> T {
    let Ok(raw) = std::env::var(name) else {
        return default;
    };
    match raw.trim().parse::<T>() {
        Ok(value) if valid(&value) => value,
        _ => {
            tracing::warn!(name, raw, ?default, "unusable setting; using the default");
            default
        }
    }
}

/// `TALLY_SELF_URL`: where `POST /test/{n}` sends its requests; unset or blank means the
/// origin the caller used.
pub fn self_url() -> Option<String> {
    std::env::var("TALLY_SELF_URL")
        .ok()
        .map(|url| url.trim().to_string())
        .filter(|url| !url.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unset_invalid_and_valid_values() {
        let name = "TALLY_CONFIG_TEST_VALUE";
        assert_eq!(env_or(name, 8u32, |n| *n > 0), 8);
        std::env::set_var(name, "0");
        assert_eq!(env_or(name, 8u32, |n| *n > 0), 8);
        std::env::set_var(name, "x");
        assert_eq!(env_or(name, 8u32, |n| *n > 0), 8);
        std::env::set_var(name, " 16 ");
        assert_eq!(env_or(name, 8u32, |n| *n > 0), 16);
        std::env::remove_var(name);
    }
}
