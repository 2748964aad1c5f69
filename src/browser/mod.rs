//! The browser: a chromedriver we start ourselves (or a remote WebDriver URL, such as a
//! Selenium Grid: [`remote`]), one fresh profile per scenario, and the DevTools endpoint
//! capture connects to.

use crate::scenario::{BrowserOptions, ThirdPartyCookies};
use anyhow::{anyhow, bail, Context, Result};
use fantoccini::Client;
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tempfile::TempDir;
use tokio::process::{Child, Command};

pub mod print;
pub mod remote;

/// Flags Chromium needs on these machines (../shared/CAPTURE.md).
pub const BASE_ARGS: &[&str] = &[
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--ignore-certificate-errors",
    "--disable-features=HttpsUpgrades",
];

/// Chromium's own Global Privacy Control (Debian's Chromium 156, measured in
/// docs/signals.md#global-privacy-control): `GlobalPrivacyControl` alone only follows a
/// user setting; with `GlobalPrivacyControlForce` every request of every frame and worker
/// (dedicated, shared, service) carries `Sec-GPC: 1` and `navigator.globalPrivacyControl`
/// is true everywhere, before any page script.
pub const GPC_FEATURES: &[&str] = &["GlobalPrivacyControl", "GlobalPrivacyControlForce"];

/// The Chromium arguments of a vantage (docs/scenarios.md#vantage): its proxy, for every
/// host including loopback (Chromium bypasses a proxy for localhost and 127.0.0.1 unless
/// told `<-loopback>`), and its locale (`--lang`: `navigator.language`; `--accept-lang`:
/// `Accept-Language` and `navigator.languages`). The timezone is set per target through
/// DevTools (capture), which works on a remote Grid too.
pub fn vantage_args(v: &crate::model::vantage::Vantage) -> Vec<String> {
    let mut args = Vec::new();
    if let Some(proxy) = &v.proxy {
        args.push(format!("--proxy-server={proxy}"));
        args.push("--proxy-bypass-list=<-loopback>".to_string());
    }
    if let (Some(locale), Some(accept)) = (&v.locale, v.accept_languages()) {
        args.push(format!("--lang={locale}"));
        args.push(format!("--accept-lang={accept}"));
    }
    args
}

/// `args` with Global Privacy Control switched on: the features are added to the
/// user's own `--enable-features=` (Chromium keeps only the last one), or as a new one.
pub fn with_gpc(args: &[String]) -> Vec<String> {
    let mut out: Vec<String> = args.to_vec();
    let features = GPC_FEATURES.join(",");
    match out
        .iter_mut()
        .rev()
        .find(|a| a.starts_with("--enable-features="))
    {
        Some(last) => {
            last.push(',');
            last.push_str(&features);
        }
        None => out.push(format!("--enable-features={features}")),
    }
    out
}

/// Debian's real Chromium binary (the `/usr/bin/chromium` wrapper adds flags of its own).
const DEBIAN_CHROMIUM: &str = "/usr/lib/chromium/chromium";

/// Find an executable: an explicit path, else the first match on PATH, else fallbacks.
pub fn find_executable(explicit: Option<&Path>, name: &str, fallbacks: &[&str]) -> Option<PathBuf> {
    if let Some(p) = explicit {
        return p.is_file().then(|| p.to_path_buf());
    }
    if let Some(paths) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&paths) {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return Some(candidate);
            }
        }
    }
    fallbacks.iter().map(PathBuf::from).find(|p| p.is_file())
}

/// The Chromium to start: an explicit path (`--chromium`, `$CONSENTRY_CHROMIUM`), which
/// must exist; else `chromium` on PATH. Debian's `/usr/bin/chromium` is a wrapper script
/// adding flags of its own: when PATH finds it, the real binary behind it
/// (`/usr/lib/chromium/chromium`) is used. Only PATH is searched, so a PATH without
/// Chromium means no Chromium (`consentry doctor` says so, with the fix).
pub fn find_chromium(explicit: Option<&Path>) -> Result<PathBuf> {
    if let Some(p) = explicit {
        return find_executable(Some(p), "chromium", &[])
            .ok_or_else(|| anyhow!("Chromium not found at {}", p.display()));
    }
    let found = find_executable(None, "chromium", &[]).ok_or_else(|| {
        anyhow!("Chromium not found on PATH (install Debian's chromium: `apt-get install chromium`, or pass --chromium PATH)")
    })?;
    let debian_wrapper = std::fs::canonicalize(&found)
        .is_ok_and(|p| p == Path::new("/usr/bin/chromium"))
        && Path::new(DEBIAN_CHROMIUM).is_file();
    Ok(if debian_wrapper {
        PathBuf::from(DEBIAN_CHROMIUM)
    } else {
        found
    })
}

/// The chromedriver to start: an explicit path, else `chromedriver` on PATH, else
/// Debian's `/usr/bin/chromedriver`.
pub fn find_chromedriver(explicit: Option<&Path>) -> Result<PathBuf> {
    find_executable(explicit, "chromedriver", &["/usr/bin/chromedriver"]).ok_or_else(
        || match explicit {
            Some(p) => anyhow!("chromedriver not found at {}", p.display()),
            None => anyhow!(
                "chromedriver not found on PATH (install Debian's chromium-driver, or pass --chromedriver PATH or --webdriver URL)"
            ),
        },
    )
}

/// A chromedriver child process, in its own process group so that every browser it
/// started goes with it.
pub struct Chromedriver {
    child: Child,
    pub url: url::Url,
}

impl Chromedriver {
    pub async fn spawn(explicit: Option<&Path>) -> Result<Chromedriver> {
        let path = find_chromedriver(explicit)?;
        let port = free_port()?;
        let mut cmd = Command::new(&path);
        cmd.arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .process_group(0);
        let child = cmd
            .spawn()
            .with_context(|| format!("cannot start {}", path.display()))?;
        let url = url::Url::parse(&format!("http://127.0.0.1:{port}/"))?;
        if let Some(group) = child.id() {
            spawn_watchdog(group);
        }
        let mut driver = Chromedriver { child, url };
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(Some(status)) = driver.child.try_wait() {
                bail!("{} exited at start-up ({status})", path.display());
            }
            if let Ok(v) = http_get_json(&format!("http://127.0.0.1:{port}/status")).await {
                if v.pointer("/value/ready").and_then(Value::as_bool) == Some(true) {
                    return Ok(driver);
                }
            }
            if tokio::time::Instant::now() > deadline {
                bail!("{} did not become ready within 20 s", path.display());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Stop chromedriver and every browser it started.
    pub async fn shutdown(mut self) {
        self.kill_group();
        let _ = self.child.wait().await;
    }

    fn kill_group(&mut self) {
        if let Some(pid) = self.child.id() {
            if let Ok(pid) = i32::try_from(pid) {
                // SAFETY: plain syscall on a process group we created (process_group(0)).
                unsafe {
                    libc::kill(-pid, libc::SIGKILL);
                }
            }
        }
    }
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        self.kill_group();
    }
}

/// Profile directories are named after the consentry process that owns them, so a later
/// audit can tell a dead process's leftovers from a live one's.
pub const PROFILE_PREFIX: &str = "consentry-profile-";

fn profile_prefix(pid: u32) -> String {
    format!("{PROFILE_PREFIX}{pid}-")
}

/// The browser tree must not outlive consentry, even when consentry is killed with
/// SIGKILL (no handler runs then). A tiny watchdog process, in a process group of its own
/// (so a terminal's Ctrl-C does not reach it), polls every 300 ms: once consentry is gone
/// it kills chromedriver's process group (every Chromium with it) and removes consentry's
/// profile directories; once chromedriver's group is gone (a normal shutdown) it just
/// exits. Best effort: if `sh` cannot be started, the normal paths still clean up.
/// (POSIX `sh`: Debian's dash takes `kill -0 -PGID` but not `kill -0 -- -PGID`.)
fn spawn_watchdog(group: u32) {
    const SCRIPT: &str = r#"p=$1; g=$2; d=$3
while kill -0 "$p" 2>/dev/null && kill -0 "-$g" 2>/dev/null; do sleep 0.3; done
if ! kill -0 "$p" 2>/dev/null; then
  kill -KILL "-$g" 2>/dev/null
  sleep 0.5
  rm -rf "$d"/consentry-profile-"$p"-*
fi"#;
    use std::os::unix::process::CommandExt;
    let tmp = std::env::temp_dir();
    let _ = std::process::Command::new("sh")
        .arg("-c")
        .arg(SCRIPT)
        .arg("consentry-watchdog")
        .arg(std::process::id().to_string())
        .arg(group.to_string())
        .arg(tmp)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn();
}

/// Remove profile directories left by consentry processes that no longer exist (a run
/// killed with SIGKILL before its watchdog could act, a machine that lost power).
/// Returns the directories removed.
pub fn sweep_stale_profiles() -> Vec<PathBuf> {
    sweep_stale_profiles_in(&std::env::temp_dir())
}

/// [`sweep_stale_profiles`] in `dir`.
pub fn sweep_stale_profiles_in(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut removed = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix(PROFILE_PREFIX)) else {
            continue;
        };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<i32>().ok()) else {
            continue;
        };
        if pid <= 0 || process_alive(pid) {
            continue;
        }
        let path = entry.path();
        if std::fs::remove_dir_all(&path).is_ok() {
            removed.push(path);
        }
    }
    removed
}

/// Does a process with this id exist (on this machine)?
pub fn process_alive(pid: i32) -> bool {
    if pid <= 0 {
        return false;
    }
    // SAFETY: kill with signal 0 only checks for existence and permission.
    let r = unsafe { libc::kill(pid, 0) };
    r == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

fn free_port() -> Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").context("cannot find a free port")?;
    Ok(l.local_addr()?.port())
}

async fn http_get_json(url: &str) -> Result<Value> {
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build::<_, Empty<Bytes>>(HttpConnector::new());
    let uri: hyper::Uri = url.parse().with_context(|| format!("bad URL {url}"))?;
    let res = tokio::time::timeout(Duration::from_secs(5), client.get(uri))
        .await
        .map_err(|_| anyhow!("GET {url}: timed out"))??;
    let body = res.into_body().collect().await?.to_bytes();
    serde_json::from_slice(&body).with_context(|| format!("GET {url}: not JSON"))
}

/// Where the browsers come from.
#[derive(Debug, Clone)]
pub struct BrowserConfig {
    pub webdriver: url::Url,
    /// True when we started chromedriver on this machine (we then own the profile directory).
    pub local: bool,
    pub chromium: Option<PathBuf>,
    /// Every profile directory created, so the last ones can be swept once the browsers
    /// are gone (see [`sweep_profiles`]).
    pub profiles: Arc<Mutex<Vec<PathBuf>>>,
}

impl BrowserConfig {
    pub fn new(webdriver: url::Url, local: bool, chromium: Option<PathBuf>) -> Self {
        BrowserConfig {
            webdriver,
            local,
            chromium,
            profiles: Arc::default(),
        }
    }
}

/// Delete what is left of the profile directories. Call it after every browser is gone:
/// Chromium keeps writing into its profile while it exits, after WebDriver says the session
/// is closed, so a per-session delete can lose that race. Returns the directories it could
/// not delete.
pub fn sweep_profiles(cfg: &BrowserConfig) -> Vec<String> {
    let dirs = std::mem::take(&mut *cfg.profiles.lock().unwrap_or_else(|e| e.into_inner()));
    let mut failed = Vec::new();
    for dir in dirs {
        match std::fs::remove_dir_all(&dir) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => failed.push(format!("{}: {e}", dir.display())),
        }
    }
    failed
}

/// One WebDriver session with a fresh profile and its DevTools endpoint.
pub struct Session {
    pub client: Client,
    pub devtools_ws: String,
    profile: Option<TempDir>,
}

impl Session {
    pub async fn start(cfg: &BrowserConfig, opts: &BrowserOptions) -> Result<Session> {
        let profile = if cfg.local {
            Some(
                tempfile::Builder::new()
                    .prefix(&profile_prefix(std::process::id()))
                    .tempdir()
                    .context("cannot create a browser profile directory")?,
            )
        } else {
            None
        };
        if let Some(p) = &profile {
            cfg.profiles
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(p.path().to_path_buf());
        }
        let caps = capabilities(cfg, opts, profile.as_ref().map(|p| p.path()))?;
        let client = remote::open_session(&cfg.webdriver, caps).await?;
        let devtools_ws = match devtools_endpoint(&client, &cfg.webdriver).await {
            Ok(ws) => ws,
            Err(e) => {
                let _ = client.close().await;
                return Err(e);
            }
        };
        Ok(Session {
            client,
            devtools_ws,
            profile,
        })
    }

    /// End the session and delete the profile. The profile is deleted even when closing
    /// the browser failed; both problems are reported.
    pub async fn close(self) -> Result<()> {
        let res = tokio::time::timeout(Duration::from_secs(10), self.client.close()).await;
        let closed = match res {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(anyhow!("closing the browser: {e}")),
            Err(_) => Err(anyhow!("closing the browser timed out")),
        };
        let removed = match self.profile {
            Some(dir) => remove_profile(dir.keep()).await,
            None => Ok(()),
        };
        closed.and(removed)
    }
}

/// Delete a profile directory once Chromium has let go of it. WebDriver's "delete
/// session" returns while the browser is still exiting and writing into its profile,
/// so a plain delete races it and leaves the directory behind.
async fn remove_profile(dir: PathBuf) -> Result<()> {
    let lock = dir.join("SingletonLock");
    for _ in 0..100 {
        if std::fs::symlink_metadata(&lock).is_err() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut last = None;
    for _ in 0..20 {
        match std::fs::remove_dir_all(&dir) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => last = Some(e),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(anyhow!(
        "could not delete the browser profile {}: {}",
        dir.display(),
        last.map(|e| e.to_string()).unwrap_or_default()
    ))
}

fn capabilities(
    cfg: &BrowserConfig,
    opts: &BrowserOptions,
    profile: Option<&Path>,
) -> Result<serde_json::Map<String, Value>> {
    let mut args: Vec<String> = BASE_ARGS.iter().map(|s| s.to_string()).collect();
    if let Some(dir) = profile {
        args.push(format!("--user-data-dir={}", dir.display()));
    }
    args.push(format!(
        "--window-size={},{}",
        opts.window_size.0, opts.window_size.1
    ));
    if let Some(ua) = &opts.user_agent {
        args.push(format!("--user-agent={ua}"));
    }
    args.extend(vantage_args(&opts.vantage));
    args.extend(opts.args.iter().cloned());
    let cookie_mode = match opts.third_party_cookies {
        ThirdPartyCookies::Allow => 0,
        ThirdPartyCookies::Block => 1,
    };
    let mut prefs = json!({ "profile.cookie_controls_mode": cookie_mode });
    if let Some(accept) = opts.vantage.accept_languages() {
        prefs["intl.accept_languages"] = Value::String(accept);
    }
    let mut chrome = json!({
        "args": args,
        "prefs": prefs,
        "excludeSwitches": ["enable-automation"],
    });
    if cfg.local {
        let binary = find_chromium(cfg.chromium.as_deref())?;
        chrome["binary"] = Value::String(binary.display().to_string());
    }
    let caps = json!({
        "browserName": "chrome",
        "acceptInsecureCerts": true,
        "pageLoadStrategy": "normal",
        // JavaScript dialogs are answered by capture the moment they open
        // (src/capture/dialogs.rs). A backstop for one still open when a WebDriver
        // command arrives: dismissed, never accepted (the default also dismisses, and
        // fails the command). chromedriver 156 was still seen failing a command with
        // "unexpected alert open" while a page opened dialogs in a loop, which the page
        // hook's bound of 20 per document keeps short.
        "unhandledPromptBehavior": "dismiss",
        "timeouts": {
            "pageLoad": opts.page_load_timeout.as_millis() as u64,
            "script": 30_000,
            "implicit": 0,
        },
        "goog:chromeOptions": chrome,
    });
    match caps {
        Value::Object(m) => Ok(m),
        _ => unreachable!("capabilities literal is an object"),
    }
}

/// The browser-level DevTools websocket: Selenium Grid's `se:cdp` (mapped onto the
/// WebDriver URL, [`remote::devtools_url`]), else chromedriver's `debuggerAddress`
/// resolved through `/json/version`.
async fn devtools_endpoint(client: &Client, webdriver: &url::Url) -> Result<String> {
    let caps = client
        .capabilities()
        .ok_or_else(|| anyhow!("WebDriver at {webdriver} returned no capabilities"))?;
    if let Some(ws) = caps.get("se:cdp").and_then(Value::as_str) {
        return remote::devtools_url(ws, webdriver);
    }
    let addr = caps
        .get("goog:chromeOptions")
        .and_then(|o| o.get("debuggerAddress"))
        .and_then(Value::as_str)
        .ok_or_else(|| {
            anyhow!("the WebDriver session exposes no DevTools endpoint (neither se:cdp nor goog:chromeOptions.debuggerAddress): capture is impossible")
        })?;
    let v = http_get_json(&format!("http://{addr}/json/version")).await?;
    v.get("webSocketDebuggerUrl")
        .and_then(Value::as_str)
        .map(String::from)
        .ok_or_else(|| anyhow!("DevTools at {addr} gave no webSocketDebuggerUrl"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_vantage_sets_its_proxy_for_loopback_too_and_its_languages() {
        use crate::model::vantage::Vantage;
        assert!(vantage_args(&Vantage::default()).is_empty());
        let v = Vantage {
            proxy: Some("socks5://10.0.0.1:1080".into()),
            locale: Some("fr-CA".into()),
            ..Vantage::labelled("ca-fr")
        };
        assert_eq!(
            vantage_args(&v),
            [
                "--proxy-server=socks5://10.0.0.1:1080",
                "--proxy-bypass-list=<-loopback>",
                "--lang=fr-CA",
                "--accept-lang=fr-CA,fr",
            ]
        );
    }

    #[test]
    fn gpc_features_join_the_users_enable_features() {
        let own = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            with_gpc(&own(&["--x"])),
            own(&[
                "--x",
                "--enable-features=GlobalPrivacyControl,GlobalPrivacyControlForce"
            ])
        );
        assert_eq!(
            with_gpc(&own(&["--enable-features=A", "--enable-features=B"])),
            own(&[
                "--enable-features=A",
                "--enable-features=B,GlobalPrivacyControl,GlobalPrivacyControlForce"
            ])
        );
    }

    #[test]
    fn stale_profiles_of_dead_processes_are_swept_live_ones_kept() {
        let dir = tempfile::tempdir().unwrap();
        // A pid above the kernel's maximum (4194304) never exists.
        let dead = dir.path().join(format!("{PROFILE_PREFIX}99999999-abc"));
        let live = dir
            .path()
            .join(format!("{}x", profile_prefix(std::process::id())));
        let other = dir.path().join("not-ours-99999999");
        for d in [&dead, &live, &other] {
            std::fs::create_dir(d).unwrap();
            std::fs::write(d.join("Local State"), "{}").unwrap();
        }
        assert_eq!(sweep_stale_profiles_in(dir.path()), vec![dead.clone()]);
        assert!(!dead.exists());
        assert!(live.exists() && other.exists());
        assert!(process_alive(std::process::id() as i32));
        assert!(!process_alive(99_999_999));
    }
}
