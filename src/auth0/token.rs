//! What can be read from a token before Auth0 judges it.

/// The scopes a JWT access token claims, when its payload can be read
/// (`scope` as a space-separated string or `permissions` as an array).
/// `None` for opaque tokens: then only the server can judge.
pub(super) fn jwt_scopes(token: &str) -> Option<Vec<String>> {
    use base64::Engine as _;
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    if let Some(scope) = claims.get("scope").and_then(|s| s.as_str()) {
        return Some(scope.split_whitespace().map(str::to_string).collect());
    }
    claims
        .get("permissions")
        .and_then(|p| p.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    fn jwt(claims: &str) -> String {
        let enc = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        format!(
            "{}.{}.sig",
            enc.encode("{\"alg\":\"none\"}"),
            enc.encode(claims)
        )
    }

    #[test]
    fn jwt_scopes_are_read_when_present() {
        assert_eq!(
            jwt_scopes(&jwt(r#"{"scope":"read:logs read:users"}"#))
                .unwrap()
                .len(),
            2
        );
        assert_eq!(
            jwt_scopes(&jwt(r#"{"permissions":["read:users"]}"#)).unwrap(),
            vec!["read:users"]
        );
        assert_eq!(jwt_scopes(&jwt(r#"{"sub":"x"}"#)), None);
        assert_eq!(jwt_scopes("opaque-token"), None);
    }
}
