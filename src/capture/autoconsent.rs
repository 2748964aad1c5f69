//! autoconsent in its isolated world ([`crate::cmp::autoconsent`]): installing it in a
//! page target, answering its `eval` requests from the page's main world, sending it the
//! engine's `optIn` / `optOut`, and handing its messages to the engine.

use super::cdp::Cdp;
use super::recorder::autoconsent::EvalRequest;
use super::{lock, Capture};
use crate::cmp::autoconsent::{self as ac, Message, World};
use anyhow::{Context, Result};
use serde_json::{json, Value};
use std::time::Duration;

/// How long one snippet may run in the page's main world. autoconsent gives up on an
/// `eval` after 1 s and counts it `false`; a snippet the page made loop is cut off here.
const EVAL_TIMEOUT: Duration = Duration::from_millis(900);

/// The set-up commands that install autoconsent (`source`: the prelude and bundle) in a
/// page target: its binding, exposed only in its world, and the world's script.
pub(super) fn setup(source: &str) -> [(&'static str, Value); 2] {
    [
        (
            "Runtime.addBinding",
            json!({ "name": ac::BINDING, "executionContextName": ac::WORLD }),
        ),
        (
            "Page.addScriptToEvaluateOnNewDocument",
            json!({ "source": source, "worldName": ac::WORLD }),
        ),
    ]
}

/// Evaluate autoconsent's snippet in the asking frame's main world and hand its world the
/// boolean. A snippet that throws, runs too long or whose document went away is `false`.
pub(super) async fn answer_eval(cdp: &Cdp, req: EvalRequest) {
    let mut params = json!({
        "expression": ac::eval_expression(&req.code),
        "returnByValue": true,
        "silent": true,
        "timeout": EVAL_TIMEOUT.as_millis() as u64,
    });
    if let Some(ctx) = req.main_context {
        params["contextId"] = json!(ctx);
    }
    let ask = cdp.send("Runtime.evaluate", params, Some(&req.session));
    let result = match tokio::time::timeout(EVAL_TIMEOUT + Duration::from_millis(500), ask).await {
        Ok(Ok(v)) => {
            v.get("exceptionDetails").is_none() && v.pointer("/result/value") == Some(&json!(true))
        }
        _ => false,
    };
    cdp.fire(
        "Runtime.evaluate",
        json!({ "expression": ac::eval_answer(&req.id, result), "contextId": req.reply_context,
                "silent": true }),
        Some(&req.session),
    );
}

impl Capture {
    /// How many autoconsent messages have arrived so far (a mark for
    /// [`Capture::autoconsent_since`]).
    pub fn autoconsent_mark(&self) -> usize {
        lock(&self.state).autoconsent.len()
    }

    /// The autoconsent messages that arrived after `mark` (each from autoconsent's own
    /// world: a call from the page is never among them).
    pub fn autoconsent_since(&self, mark: usize) -> Vec<Message> {
        lock(&self.state)
            .autoconsent
            .get(mark..)
            .map(<[_]>::to_vec)
            .unwrap_or_default()
    }

    /// Send `verb` (`optIn` / `optOut`) to autoconsent in `world` (where it found the
    /// popup). The error says it could not be delivered (the document went away).
    pub async fn autoconsent_send(&self, world: &World, verb: &str) -> Result<()> {
        let res = self
            .cdp
            .send(
                "Runtime.evaluate",
                json!({ "expression": ac::action_expression(verb), "contextId": world.context,
                        "returnByValue": true }),
                Some(&world.session),
            )
            .await
            .with_context(|| format!("cannot send {verb} to autoconsent"))?;
        if let Some(x) = res.get("exceptionDetails") {
            let text = x
                .pointer("/exception/description")
                .or_else(|| x.get("text"))
                .and_then(Value::as_str)
                .unwrap_or("an exception");
            anyhow::bail!("autoconsent did not take {verb}: {text}");
        }
        Ok(())
    }
}
