//! autoconsent's side of the capture: its messages arrive through a binding that exists
//! only in its isolated world ([`crate::cmp::autoconsent::WORLD`]), and are believed only
//! when the calling execution context is that world in a page's top frame. A call from
//! any other context is the page's: counted ([`crate::capture::HookTally`]), never kept.
//! Its `eval` requests become [`super::Command::AutoconsentEval`]: the capture evaluates
//! the snippet in the same frame's main world and answers with a boolean only.

use super::{Recorder, TargetKind};
use crate::capture::events;
use crate::cmp::autoconsent::{Message, World, WORLD};
use serde_json::Value;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// The longest snippet source an `eval` request may carry (autoconsent's are under 2 KB).
const MAX_EVAL_CODE: usize = 16 * 1024;

/// How long after its last lifecycle change autoconsent counts as still at work in a
/// document that has not reached a resting state (its longest wait: 10 popup checks 500 ms
/// apart once a CMP is detected).
pub const BUSY_AT_MOST: Duration = Duration::from_secs(6);

/// autoconsent's lifecycle states in which it has stopped working on its own: nothing
/// found, the popup found (it waits for the engine), or an action over.
const RESTING: [&str; 7] = [
    "nothingDetected",
    "openPopupDetected",
    "optOutSucceeded",
    "optOutFailed",
    "optInSucceeded",
    "optInFailed",
    "done",
];

/// Execution contexts by (session, context id), as `Runtime.executionContextCreated` said.
#[derive(Debug, Default)]
pub struct Worlds {
    /// autoconsent's isolated world in a page target's top frame -> that frame's id.
    isolated: HashMap<(String, i64), String>,
    /// (session, frame id) -> the frame's main-world context, the latest created.
    main: HashMap<(String, String), i64>,
    /// Page session -> its latest autoconsent world and that world's latest lifecycle
    /// state, with when it was reported.
    current: HashMap<String, (i64, Option<(String, Instant)>)>,
}

/// autoconsent asks to evaluate `code` (one of its snippets, an expression) in the page's
/// main world; the answer goes back to its world as `evalResp` with `id`.
#[derive(Debug, Clone, PartialEq)]
pub struct EvalRequest {
    pub session: String,
    /// The main-world context of the asking frame (`None`: the session's default).
    pub main_context: Option<i64>,
    /// autoconsent's world that asked.
    pub reply_context: i64,
    pub id: String,
    pub code: String,
}

impl Recorder {
    /// Note which contexts are autoconsent's world and which are main worlds. A context id
    /// reused by another world (a new renderer process) replaces what was known of it.
    pub(super) fn on_context_created(
        &mut self,
        session: Option<&str>,
        context: &events::ExecutionContext,
    ) {
        let sid = session.unwrap_or_default().to_string();
        let key = (sid.clone(), context.id);
        let worlds = &mut self.autoconsent_worlds;
        worlds.isolated.remove(&key);
        let Some(aux) = &context.aux_data else {
            return;
        };
        let Some(frame) = aux.frame_id.clone() else {
            return;
        };
        if aux.is_default {
            worlds.main.insert((sid, frame), context.id);
            return;
        }
        let top_frame_of_page = self
            .sessions
            .get(&sid)
            .is_some_and(|s| s.kind == TargetKind::Page && s.target_id == frame);
        if context.name == WORLD && top_frame_of_page {
            worlds.isolated.insert(key, frame);
            worlds.current.insert(sid, (context.id, None));
        }
    }

    /// Is autoconsent still at work (detecting, waiting for a popup, acting) in the
    /// current document of a page? Its timers run in its own world, where the page hook
    /// does not count them: a settle asks this instead (what the hook said of them when
    /// autoconsent ran in the main world). A world that has said nothing yet, or whose
    /// last change is older than [`BUSY_AT_MOST`], is not waited for.
    pub(in crate::capture) fn autoconsent_busy(&self, now: Instant) -> bool {
        self.autoconsent_worlds.current.values().any(|(_, state)| {
            state.as_ref().is_some_and(|(lifecycle, at)| {
                !RESTING.contains(&lifecycle.as_str())
                    && now.saturating_duration_since(*at) < BUSY_AT_MOST
            })
        })
    }

    /// A call of autoconsent's binding: kept (or turned into an eval request) when it
    /// comes from autoconsent's world, counted as forged otherwise.
    pub(super) fn on_autoconsent_message(
        &mut self,
        session: Option<&str>,
        call: &events::BindingCalled,
    ) -> Option<super::Command> {
        let sid = session.unwrap_or_default().to_string();
        let key = (sid.clone(), call.execution_context_id);
        let Some(frame) = self.autoconsent_worlds.isolated.get(&key).cloned() else {
            self.hook.tally.autoconsent_forged =
                self.hook.tally.autoconsent_forged.saturating_add(1);
            return None;
        };
        let value = serde_json::from_str::<Value>(&call.payload).ok()?;
        if value.get("type").and_then(Value::as_str) == Some("eval") {
            let id = value.get("id").and_then(Value::as_str)?;
            let code = value.get("code").and_then(Value::as_str)?;
            if id.len() > 64 || code.len() > MAX_EVAL_CODE {
                return None;
            }
            let main_context = self
                .autoconsent_worlds
                .main
                .get(&(sid.clone(), frame))
                .copied();
            return Some(super::Command::AutoconsentEval(EvalRequest {
                session: sid,
                main_context,
                reply_context: call.execution_context_id,
                id: id.to_string(),
                code: code.to_string(),
            }));
        }
        if value.get("type").and_then(Value::as_str) == Some("lifecycle") {
            let lifecycle = value.get("lifecycle").and_then(Value::as_str);
            if let (Some(l), Some((ctx, state))) =
                (lifecycle, self.autoconsent_worlds.current.get_mut(&sid))
            {
                if *ctx == call.execution_context_id {
                    *state = Some((l.to_string(), Instant::now()));
                }
            }
        }
        self.autoconsent.push(Message {
            at: Instant::now(),
            value,
            world: Some(World {
                session: sid,
                context: call.execution_context_id,
            }),
        });
        None
    }
}
