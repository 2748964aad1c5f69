//! Performing one step of the step vocabulary (navigate, click, click_all, wait_for,
//! wait_idle, script, screenshot) in the page; consent bookkeeping stays in `Visit::step`.

use super::*;

pub(super) async fn perform(
    session: &Session,
    capture: &Capture,
    visit: &mut Visit<'_>,
    step: &Step,
    timeout: Duration,
) -> Result<(), Failure> {
    let client = &session.client;
    match &step.action {
        Action::Navigate(url) => return visit.load(session, capture, url).await,
        // Run by `Visit::autoconsent` / `Visit::profile`; never nested in their steps.
        Action::Autoconsent(_) | Action::Profile(_) => {
            return Err(Failure::new(
                FailureKind::Other,
                "an autoconsent or CMP-profile step cannot be nested",
            ))
        }
        Action::Click(sel) => {
            let found = locate::locate(client, sel, timeout, false).await?;
            let res = match found.elements.first() {
                Some(el) => click(el, sel, timeout).await,
                None => Err(Failure::new(
                    FailureKind::ElementNotFound,
                    format!("no element matches {sel:?}"),
                )),
            };
            locate::leave_frames(client, found.frames).await;
            res?;
        }
        Action::ClickAll(sel) => {
            let found = locate::locate(client, sel, timeout, true).await?;
            let mut clicked = 0;
            let mut res = Ok(());
            for el in &found.elements {
                match click(el, sel, timeout).await {
                    Ok(()) => clicked += 1,
                    // A click may re-render what follows it; the rest are looked at again
                    // by the CMP's record read back after the consent action.
                    Err(f) if f.kind == FailureKind::ElementNotFound => {}
                    Err(f) => {
                        res = Err(f);
                        break;
                    }
                }
            }
            locate::leave_frames(client, found.frames).await;
            res?;
            if clicked == 0 {
                visit.warnings.push(format!(
                    "{}: nothing matched {sel:?} within {timeout:?}, nothing was clicked",
                    step.location
                ));
            }
        }
        Action::WaitFor(sel) => {
            let found = locate::locate(client, sel, timeout, false)
                .await
                .map_err(|mut f| {
                    if step.waits_for_banner && f.kind == FailureKind::ElementNotFound {
                        f.kind = FailureKind::BannerAbsent;
                        f.reason = format!("the consent banner never appeared: {}", f.reason);
                    }
                    f
                })?;
            locate::leave_frames(client, found.frames).await;
        }
        Action::WaitIdle => visit.settle(capture, "in a wait_idle step").await,
        Action::Script(js) => {
            tokio::time::timeout(timeout, client.execute(js, vec![]))
                .await
                .map_err(|_| {
                    Failure::new(
                        FailureKind::StepTimeout,
                        format!("script did not finish within {timeout:?}"),
                    )
                })?
                .map_err(|e| {
                    Failure::new(
                        classify(&e, FailureKind::ScriptFailed),
                        format!("script failed: {e}"),
                    )
                })?;
        }
        Action::Screenshot(path) => {
            let png = tokio::time::timeout(timeout, client.screenshot())
                .await
                .map_err(|_| {
                    Failure::new(
                        FailureKind::StepTimeout,
                        format!("screenshot did not finish within {timeout:?}"),
                    )
                })?
                .map_err(|e| {
                    Failure::new(
                        classify(&e, FailureKind::Other),
                        format!("screenshot failed: {e}"),
                    )
                })?;
            let path = PathBuf::from(
                path.display()
                    .to_string()
                    .replace("{scenario}", &visit.scenario.id),
            );
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|e| {
                    Failure::new(
                        FailureKind::Other,
                        format!("cannot create {}: {e}", dir.display()),
                    )
                })?;
            }
            std::fs::write(&path, png).map_err(|e| {
                Failure::new(
                    FailureKind::Other,
                    format!("cannot write {}: {e}", path.display()),
                )
            })?;
        }
    }
    Ok(())
}

/// Click `el` (found for `sel`), within `timeout`.
pub(super) async fn click(
    el: &fantoccini::elements::Element,
    sel: &str,
    timeout: Duration,
) -> Result<(), Failure> {
    tokio::time::timeout(timeout, el.click())
        .await
        .map_err(|_| {
            Failure::new(
                FailureKind::StepTimeout,
                format!("clicking {sel:?} did not finish within {timeout:?}"),
            )
        })?
        .map_err(|e| {
            Failure::new(
                classify(&e, FailureKind::Other),
                format!("could not click {sel:?}: {e}"),
            )
        })
}
