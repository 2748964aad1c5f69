//! `@duckduckgo/autoconsent` (npm, MPL-2.0): CMP detection and accept / reject without
//! selectors. Never committed: `make fixtures` installs the pinned package and copies
//! `autoconsent.playwright.js` and `rules.json` into `fixtures/build/autoconsent/`; an
//! audit finds them at run time ([`locate`]).
//!
//! The bundle runs in an isolated world of every top-level document ([`WORLD`]:
//! `Page.addScriptToEvaluateOnNewDocument` with `worldName`), before the page's scripts,
//! preceded by a prelude that defines `autoconsentSendMessage` there. The page shares the
//! DOM with that world but none of its JavaScript: it cannot call autoconsent, read its
//! messages or answer for it. The prelude answers autoconsent's `init` itself with our
//! config (`isMainWorld: false`) and the rules embedded in the injected source (no 684 KB
//! transfer through an execute-script call), and forwards the rest (`eval` requests,
//! `cmpDetected`, `popupFound`, `optOutResult`, `autoconsentDone`, lifecycle changes) to a
//! `Runtime.addBinding` binding that exists only in that world (`executionContextName`).
//! The capture believes a call of it only from that world's execution context (a call
//! from anywhere else is counted as forged), answers an `eval` request by evaluating the
//! snippet in the same frame's main world and sending back a boolean ([`eval_expression`],
//! [`eval_answer`]), and the engine sends `optIn` / `optOut` to the world that found the
//! popup ([`action_expression`]). docs/scenarios.md#autoconsent has the measurements.

use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The binding the prelude reports through (exposed in [`WORLD`] only).
pub const BINDING: &str = "__consentryAutoconsent";
/// The name of the isolated world autoconsent runs in.
pub const WORLD: &str = "consentry-autoconsent";
/// Environment variable naming the directory with the bundle and the rules.
pub const ENV: &str = "CONSENTRY_AUTOCONSENT";
/// Where `make fixtures` puts them, relative to the project directory.
pub const DEFAULT_DIR: &str = "fixtures/build/autoconsent";
/// Its folder in consentry's data directory (`PREFIX/share/consentry/autoconsent`,
/// docs/packaging.md).
pub const DATA_SUBDIR: &str = "autoconsent";
const BUNDLE: &str = "autoconsent.playwright.js";
const RULES: &str = "rules.json";

/// autoconsent's config: no automatic action (the engine sends it, in the consent-step
/// path), no prehiding and no cosmetic rules (a banner hidden by CSS is not a choice),
/// snippets asked of us (`eval` messages, answered in the page's main world).
const CONFIG: &str = r#"{"enabled":true,"autoAction":null,"disabledCmps":[],"enablePrehide":false,"enableCosmeticRules":false,"enableGeneratedRules":true,"enableHeuristicDetection":false,"detectRetries":20,"isMainWorld":false,"logs":{"lifecycle":false,"rulesteps":false,"detectionsteps":false,"evals":false,"errors":false,"messages":false,"waits":false}}"#;

/// The source injected into every document: prelude, config, rules, bundle.
#[derive(Debug, Clone)]
pub struct Bundle {
    /// Directory it was loaded from.
    pub dir: PathBuf,
    /// autoconsent's version, from the `package.json` beside the bundle (copied there by
    /// `make install` / `make fixtures`); `None` without one.
    pub version: Option<String>,
    pub source: Arc<str>,
}

pub use crate::model::cmp::autoconsent_verb as verb;

/// Where to look, in order: `explicit` (`--autoconsent DIR`, or `CONSENTRY_AUTOCONSENT`
/// through it) alone; else `autoconsent/` in the data directory (`data_dir`, found by
/// [`crate::data::Lookup`]: `make install` and the release tarball put it there), then,
/// for a development checkout, `fixtures/build/autoconsent` (`make fixtures`) in the
/// scenario file's directory and each of its parents, then in the current directory.
pub fn candidates(
    explicit: Option<&Path>,
    data_dir: Option<&Path>,
    scenario_file: &Path,
) -> Vec<PathBuf> {
    if let Some(d) = explicit {
        return vec![d.to_path_buf()];
    }
    crate::lookup::data_candidates(data_dir, DATA_SUBDIR, DEFAULT_DIR, scenario_file)
}

/// The version of the package whose `package.json` (as published on npm) sits in `dir`.
pub fn package_version(dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(dir.join("package.json")).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    v.get("version")?.as_str().map(str::to_owned)
}

/// True when `dir` holds the bundle and the rules (not yet read).
pub fn is_bundle_dir(dir: &Path) -> bool {
    dir.join(BUNDLE).is_file() && dir.join(RULES).is_file()
}

/// Find and load the bundle; the error names where it looked and what to run.
pub fn locate(
    explicit: Option<&Path>,
    data_dir: Option<&Path>,
    scenario_file: &Path,
) -> Result<Bundle, String> {
    let dirs = candidates(explicit, data_dir, scenario_file);
    if let Some(d) = dirs.iter().find(|d| is_bundle_dir(d)) {
        return load(d);
    }
    let looked: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
    Err(format!(
        "the scenario uses `[cmp] auto = true`, but autoconsent ({BUNDLE} and {RULES}) was not found in: {}; \
         install consentry's data (`make install`, or unpack the release tarball, docs/packaging.md; \
         in a checkout `make fixtures` installs the pinned @duckduckgo/autoconsent from npm), \
         pass --data-dir DIR (or set CONSENTRY_DATA_DIR), \
         or pass --autoconsent DIR (or set {ENV}) naming a directory holding both files",
        looked.join(", ")
    ))
}

/// Load the bundle and rules of one directory.
pub fn load(dir: &Path) -> Result<Bundle, String> {
    let read = |f: &str| {
        let p = dir.join(f);
        std::fs::read_to_string(&p).map_err(|e| {
            format!(
                "cannot read {}: {e}; run `make fixtures` (installs @duckduckgo/autoconsent) or pass --autoconsent DIR",
                p.display()
            )
        })
    };
    let bundle = read(BUNDLE)?;
    let rules = read(RULES)?;
    let parsed: serde_json::Value = serde_json::from_str(&rules)
        .map_err(|e| format!("{}: not JSON: {e}", dir.join(RULES).display()))?;
    if parsed.get("autoconsent").is_none_or(|a| !a.is_array()) {
        return Err(format!(
            "{}: no `autoconsent` rule list (is it autoconsent's rules/rules.json?)",
            dir.join(RULES).display()
        ));
    }
    if !bundle.contains("autoconsentReceiveMessage") {
        return Err(format!(
            "{}: not autoconsent's playwright bundle (no autoconsentReceiveMessage)",
            dir.join(BUNDLE).display()
        ));
    }
    Ok(Bundle {
        dir: dir.to_path_buf(),
        version: package_version(dir),
        source: injected_source(&bundle, &rules).into(),
    })
}

/// The prelude (our side of autoconsent's messaging), then the bundle; top frames only.
pub fn injected_source(bundle: &str, rules_json: &str) -> String {
    format!(
        r#"if (window === window.top && !window.__consentryAutoconsentInstalled) {{
window.__consentryAutoconsentInstalled = true;
(() => {{
  const CONFIG = {CONFIG};
  const RULES = {rules_json};
  const queue = [];
  let binding = null;
  let lifecycle = null;
  const flush = () => {{
    if (!binding) {{
      const b = globalThis.{BINDING};
      if (typeof b !== 'function') {{ setTimeout(flush, 20); return; }}
      binding = b;
      try {{ delete globalThis.{BINDING}; }} catch (e) {{}}
    }}
    while (queue.length) {{ try {{ binding(queue.shift()); }} catch (e) {{}} }}
  }};
  const forward = (m) => {{ queue.push(JSON.stringify(m)); flush(); }};
  const receive = (m) => setTimeout(() => {{ try {{ window.autoconsentReceiveMessage(m); }} catch (e) {{}} }}, 0);
  window.autoconsentSendMessage = (msg) => {{
    let m;
    try {{ m = JSON.parse(JSON.stringify(msg)); }} catch (e) {{ return; }}
    if (!m || typeof m !== 'object') return;
    if (m.type === 'init') {{
      receive({{ type: 'initResp', config: CONFIG, rules: RULES }});
      return;
    }}
    if (m.type === 'report') {{
      const l = m.state && m.state.lifecycle;
      if (l === lifecycle) return;
      lifecycle = l;
      forward({{ type: 'lifecycle', lifecycle: l, url: m.url }});
      return;
    }}
    forward(m);
  }};
}})();
{bundle}
}}"#
    )
}

/// The expression that evaluates one of autoconsent's snippets (`code`, an expression:
/// autoconsent sends `(snippet)()`) in the page's main world, as a boolean.
pub fn eval_expression(code: &str) -> String {
    format!("(() => {{ try {{ return !!({code}\n); }} catch (e) {{ return false; }} }})()")
}

/// The expression, evaluated in autoconsent's world, that hands it the answer to its
/// `eval` request `id`: nothing from the main world but the boolean.
pub fn eval_answer(id: &str, result: bool) -> String {
    let msg = serde_json::json!({ "type": "evalResp", "id": id, "result": result });
    format!("window.autoconsentReceiveMessage({msg}); true")
}

/// The expression, evaluated in autoconsent's world, that sends it `optIn` / `optOut`.
pub fn action_expression(verb: &str) -> String {
    let msg = serde_json::json!({ "type": verb });
    format!("window.autoconsentReceiveMessage({msg}); true")
}

/// autoconsent's world in one document: the capture session of its page target and the
/// execution context id, where its messages came from and where actions are sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct World {
    pub session: String,
    pub context: i64,
}

/// One message autoconsent sent from the page, as the capture received it.
#[derive(Debug, Clone)]
pub struct Message {
    pub at: std::time::Instant,
    pub value: serde_json::Value,
    /// The world it came from.
    pub world: Option<World>,
}

impl Message {
    pub fn kind(&self) -> &str {
        self.value
            .get("type")
            .and_then(serde_json::Value::as_str)
            .unwrap_or("")
    }
    pub fn cmp(&self) -> Option<&str> {
        self.value.get("cmp").and_then(serde_json::Value::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_bundle_names_places_and_what_to_run() {
        let dir = std::env::temp_dir().join(format!("consentry-ac-{}", std::process::id()));
        let err = locate(Some(&dir), None, Path::new("x.toml")).unwrap_err();
        assert!(err.contains(&dir.display().to_string()), "{err}");
        assert!(err.contains("make fixtures"), "{err}");
        assert!(err.contains("--autoconsent DIR"), "{err}");
    }

    #[test]
    fn candidates_walk_up_from_the_scenario_file() {
        let c = candidates(None, None, Path::new("/a/b/site.toml"));
        assert_eq!(c[0], PathBuf::from("/a/b").join(DEFAULT_DIR));
        assert_eq!(c[1], PathBuf::from("/a").join(DEFAULT_DIR));
        assert_eq!(
            candidates(
                Some(Path::new("/x")),
                Some(Path::new("/d")),
                Path::new("/a/b/site.toml")
            ),
            vec![PathBuf::from("/x")]
        );
        let c = candidates(None, Some(Path::new("/d")), Path::new("/a/b/site.toml"));
        assert_eq!(c[0], PathBuf::from("/d/autoconsent"));
        assert_eq!(c[1], PathBuf::from("/a/b").join(DEFAULT_DIR));
    }

    #[test]
    fn source_embeds_config_and_rules_before_the_bundle() {
        let s = injected_source("/*BUNDLE*/", r#"{"autoconsent":[]}"#);
        let rules = s.find(r#"const RULES = {"autoconsent":[]}"#).unwrap();
        assert!(rules < s.find("/*BUNDLE*/").unwrap());
        assert!(s.contains(r#""isMainWorld":false"#));
        assert!(s.contains(r#""autoAction":null"#));
        // Nothing is evaluated in the prelude: `eval` requests go to the capture.
        assert!(!s.contains("eval)("), "{s}");
    }

    #[test]
    fn answers_carry_only_a_boolean_and_the_id_escaped() {
        let a = eval_answer("x\"); alert(1); //", true);
        assert_eq!(
            a,
            r#"window.autoconsentReceiveMessage({"id":"x\"); alert(1); //","result":true,"type":"evalResp"}); true"#
        );
        let e = eval_expression("(() => window.klaro)() // comment");
        assert!(
            e.contains("return !!((() => window.klaro)() // comment\n);"),
            "{e}"
        );
        assert_eq!(
            action_expression("optOut"),
            r#"window.autoconsentReceiveMessage({"type":"optOut"}); true"#
        );
    }
}
