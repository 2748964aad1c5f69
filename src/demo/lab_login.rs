//! The lab's login (on any demo host), for `[login]` (docs/scenarios.md#login,
//! `tests/fixtures/login.toml`):
//!
//! - `/lab/login`: a form (`#user`, `#password`, `#login-submit`) posting `user` and
//!   `password` to itself. With [`LAB_USER`] and [`LAB_PASSWORD`] it answers 303 to
//!   `/lab/welcome` with a session cookie (`lab_session`, HttpOnly, strictly necessary);
//!   with anything else, the form again with `#login-error` and no cookie.
//! - `/lab/welcome`: with a session, `#account-name` (what `[login] check` looks for) and
//!   nothing else; without one, a page asking to log in.
//! - `/lab/account`: with a `lab_session` cookie, the member's page (`#account-name`)
//!   loads a tag of a vendor no declared map knows (`px.members-lab.test`), so it is
//!   seen only when logged in; without one, a page asking to log in and no tag.

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::header::{HeaderValue, LOCATION};
use hyper::{Response, StatusCode};

use super::site::{ok, with_cookie, HTML};

/// The lab's member: the user name and password `/lab/login` accepts.
pub const LAB_USER: &str = "lab-member-0042";
pub const LAB_PASSWORD: &str = "correct-horse-battery-staple-7";

/// The host of the tag only logged-in visitors get.
pub const MEMBERS_TAG_HOST: &str = "px.members-lab.test";

const SESSION_COOKIE: &str = "lab_session";

fn login_page(error: bool) -> String {
    let error = if error {
        r#"<p id="login-error">Wrong user name or password.</p>"#
    } else {
        ""
    };
    format!(
        r#"<!doctype html>
<html><head><meta charset="utf-8"><title>Lab: log in</title></head>
<body><h1>Log in</h1>{error}
<form id="login" method="post" action="/lab/login">
<label>User <input id="user" name="user" autocomplete="username"></label>
<label>Password <input id="password" name="password" type="password" autocomplete="current-password"></label>
<button id="login-submit" type="submit">Log in</button>
</form></body></html>
"#
    )
}

const ACCOUNT_HTML: &str = r#"<!doctype html>
<html><head><meta charset="utf-8"><title>Lab: your account</title></head>
<body><h1>Your account</h1><p id="account-name">Signed in as lab member 42</p>
<img src="https://px.members-lab.test/lab/r3?member=1" alt=""></body></html>
"#;

const WELCOME_HTML: &str = r#"<!doctype html>
<html><head><meta charset="utf-8"><title>Lab: welcome</title></head>
<body><h1>Welcome</h1><p id="account-name">Signed in as lab member 42</p></body></html>
"#;

const GUEST_HTML: &str = r#"<!doctype html>
<html><head><meta charset="utf-8"><title>Lab: your account</title></head>
<body><h1>Your account</h1><p id="guest">Please <a href="/lab/login">log in</a>.</p></body></html>
"#;

/// The answer to a login path, or `None` when `path` is not one. `cookies`: the
/// request's `Cookie` header; `body`: its body (a form post).
pub(super) fn respond(
    method: &str,
    path: &str,
    cookies: Option<&str>,
    body: &[u8],
) -> Option<Response<Full<Bytes>>> {
    Some(match (method, path) {
        ("POST", "/lab/login") => {
            let mut user = None;
            let mut password = None;
            for (k, v) in url::form_urlencoded::parse(body) {
                match k.as_ref() {
                    "user" => user = Some(v.into_owned()),
                    "password" => password = Some(v.into_owned()),
                    _ => {}
                }
            }
            if user.as_deref() == Some(LAB_USER) && password.as_deref() == Some(LAB_PASSWORD) {
                let mut resp = Response::new(Full::new(Bytes::new()));
                *resp.status_mut() = StatusCode::SEE_OTHER;
                resp.headers_mut()
                    .insert(LOCATION, HeaderValue::from_static("/lab/welcome"));
                with_cookie(
                    resp,
                    &format!("{SESSION_COOKIE}=member-42; Path=/; HttpOnly; Secure; SameSite=Lax"),
                )
            } else {
                ok(HTML, login_page(true))
            }
        }
        (_, "/lab/login") => ok(HTML, login_page(false)),
        (_, "/lab/welcome") if has_session(cookies) => ok(HTML, WELCOME_HTML),
        (_, "/lab/account") if has_session(cookies) => ok(HTML, ACCOUNT_HTML),
        (_, "/lab/account" | "/lab/welcome") => ok(HTML, GUEST_HTML),
        _ => return None,
    })
}

fn has_session(cookies: Option<&str>) -> bool {
    cookies.is_some_and(|h| {
        h.split(';')
            .filter_map(|pair| pair.split_once('='))
            .any(|(k, v)| k.trim() == SESSION_COOKIE && !v.trim().is_empty())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::header::SET_COOKIE;

    fn post(user: &str, password: &str) -> Response<Full<Bytes>> {
        let body: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("user", user)
            .append_pair("password", password)
            .finish();
        respond("POST", "/lab/login", None, body.as_bytes()).expect("a login path")
    }

    #[test]
    fn only_the_right_password_gets_a_session() {
        let right = post(LAB_USER, LAB_PASSWORD);
        assert_eq!(right.status(), StatusCode::SEE_OTHER);
        assert_eq!(right.headers()[LOCATION], "/lab/welcome");
        assert!(right.headers()[SET_COOKIE]
            .to_str()
            .unwrap()
            .starts_with("lab_session="));
        for (user, password) in [(LAB_USER, "wrong-password-123"), ("someone", LAB_PASSWORD)] {
            let wrong = post(user, password);
            assert_eq!(wrong.status(), StatusCode::OK);
            assert!(wrong.headers().get(SET_COOKIE).is_none());
        }
    }

    async fn body(r: Response<Full<Bytes>>) -> String {
        use http_body_util::BodyExt as _;
        let bytes = r.into_body().collect().await.expect("a body").to_bytes();
        String::from_utf8(bytes.to_vec()).expect("UTF-8")
    }

    #[tokio::test]
    async fn the_members_tag_is_served_to_a_session_only() {
        let member = respond(
            "GET",
            "/lab/account",
            Some("a=1; lab_session=member-42"),
            b"",
        );
        assert!(body(member.expect("account"))
            .await
            .contains(MEMBERS_TAG_HOST));
        for cookies in [None, Some("a=1"), Some("lab_session=")] {
            let guest = respond("GET", "/lab/account", cookies, b"").expect("account");
            assert!(!body(guest).await.contains(MEMBERS_TAG_HOST), "{cookies:?}");
        }
        let welcome = respond("GET", "/lab/welcome", Some("lab_session=member-42"), b"");
        let welcome = body(welcome.expect("welcome")).await;
        assert!(welcome.contains("account-name") && !welcome.contains(MEMBERS_TAG_HOST));
        let guest = body(respond("GET", "/lab/welcome", None, b"").expect("welcome")).await;
        assert!(!guest.contains("account-name"));
        assert!(respond("GET", "/lab/next", None, b"").is_none());
    }
}
