//! The store's work queue (docs/queue.md), on SQLite and on a real PostgreSQL server:
//! leases in queue order within each site's `per_site` bound, a lease that runs out taken
//! again and the late completion writing nothing, heartbeats keeping a lease, the finish
//! of a site queued exactly once when its last two visits complete at once, and workers
//! racing for jobs never holding one job twice.

mod common;

use common::pg::TestDb;
use consentry::model::RunStatus;
use consentry::outcome::FailOn;
use consentry::store::queue::{
    Completion, FleetEnqueue, JobKind, LeasedJob, QueuedVisit, SiteEnqueue, SiteFinish,
};
use consentry::store::{FleetRunId, JudgedVisit, RunId, RunStart, Store};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

crate::on_both_back_ends!(
    leases_follow_queue_order_within_each_sites_bound,
    an_expired_lease_is_taken_again_and_the_late_completion_writes_nothing,
    a_heartbeat_keeps_a_lease,
    a_sites_finish_is_queued_once_when_its_last_visits_complete_at_once,
    racing_workers_never_hold_one_job_twice,
    a_job_given_back_is_leased_again_with_its_reason_kept,
);

const SCENARIOS: [&str; 3] = ["no_action", "accept_all", "reject_all"];

/// Enqueue `sites` sites (`site-0`…) of `scenarios` scenarios each.
async fn enqueue(
    store: &Store,
    sites: usize,
    scenarios: usize,
    per_site: usize,
) -> (FleetRunId, Vec<RunId>) {
    let names: Vec<String> = (0..sites).map(|i| format!("site-{i}")).collect();
    let now = chrono::Utc::now();
    let fleet = FleetEnqueue {
        name: "test",
        fleet_file: None,
        started_at: now,
        inputs: "{}",
        per_site,
        page_delay_ms: 0,
        sites: names
            .iter()
            .map(|name| SiteEnqueue {
                start: RunStart {
                    site: name,
                    scenario_file: "fleet.toml",
                    started_at: now,
                    scenario_digest: Some("s"),
                    policy_digest: Some("p"),
                    data_versions: None,
                    fail_on: FailOn::DEFAULT,
                    fleet_run: None,
                    vantage: None,
                },
                declarations: &[],
                discover: false,
                scenarios: SCENARIOS[..scenarios].to_vec(),
            })
            .collect(),
    };
    store.queue().enqueue(&fleet).await.expect("enqueue")
}

/// Complete a leased visit job with an empty observation.
async fn complete(store: &Store, job: &LeasedJob, owner: &str) -> Completion {
    let obs = common::empty_visit(job.scenario.as_deref().unwrap(), chrono::Utc::now());
    let json = serde_json::to_string(&obs).unwrap();
    store
        .queue()
        .complete_visit(
            job,
            owner,
            &QueuedVisit {
                judged: JudgedVisit {
                    position: job.position,
                    repetition: 1,
                    obs: &obs,
                    third_party_requests: Some(0),
                    findings: &[],
                    inventory: None,
                },
                observation: &json,
                data_versions: Some("consentry=test"),
            },
        )
        .await
        .expect("complete visit")
}

async fn lease(store: &Store, owner: &str, ms: u64) -> Option<LeasedJob> {
    store.queue().lease(owner, ms).await.expect("lease")
}

/// (site run, scenario) of a visit job.
fn what(job: &LeasedJob) -> (RunId, String) {
    (job.run.unwrap(), job.scenario.clone().unwrap_or_default())
}

async fn leases_follow_queue_order_within_each_sites_bound(db: TestDb) {
    let store = db.open().await;
    let (_, runs) = enqueue(&store, 2, 3, 1).await;
    let a = lease(&store, "a", 60_000).await.expect("a job");
    assert_eq!(what(&a), (runs[0], "no_action".into()));
    assert_eq!(
        (a.kind, a.position, a.attempts),
        (JobKind::Visit, Some(0), 1)
    );
    // The first site is at its bound (per_site 1): the second site's first job.
    let b = lease(&store, "b", 60_000).await.expect("a job");
    assert_eq!(what(&b), (runs[1], "no_action".into()));
    // Both sites at their bound: nothing, although four jobs are queued.
    assert_eq!(lease(&store, "c", 60_000).await, None);
    assert_eq!(complete(&store, &a, "a").await, Completion::Done);
    let c = lease(&store, "c", 60_000).await.expect("a job");
    assert_eq!(what(&c), (runs[0], "accept_all".into()));
    assert_eq!(db.count("visits").await, 1);
}

async fn an_expired_lease_is_taken_again_and_the_late_completion_writes_nothing(db: TestDb) {
    let store = db.open().await;
    enqueue(&store, 1, 1, 1).await;
    let a = lease(&store, "a", 1).await.expect("a job");
    tokio::time::sleep(Duration::from_millis(50)).await;
    // a's lease ran out: b takes the same job, its second lease.
    let b = lease(&store, "b", 60_000).await.expect("the expired job");
    assert_eq!((b.id, b.attempts), (a.id, 2));
    // a comes back late: nothing of its result is written.
    assert_eq!(complete(&store, &a, "a").await, Completion::LeaseLost);
    assert_eq!(db.count("visits").await, 0);
    assert_eq!(complete(&store, &b, "b").await, Completion::Done);
    assert_eq!(db.count("visits").await, 1);
    // Done is done: neither can complete it again.
    assert_eq!(complete(&store, &b, "b").await, Completion::LeaseLost);
    assert_eq!(db.count("visits").await, 1);
}

async fn a_heartbeat_keeps_a_lease(db: TestDb) {
    let store = db.open().await;
    enqueue(&store, 1, 1, 1).await;
    let a = lease(&store, "a", 3_000).await.expect("a job");
    tokio::time::sleep(Duration::from_millis(2_000)).await;
    assert_eq!(store.queue().heartbeat("a", 3_000).await.unwrap(), 1);
    tokio::time::sleep(Duration::from_millis(2_000)).await;
    // Without the heartbeat the lease would have run out a second ago.
    assert_eq!(lease(&store, "b", 3_000).await, None);
    assert_eq!(complete(&store, &a, "a").await, Completion::Done);
}

async fn a_sites_finish_is_queued_once_when_its_last_visits_complete_at_once(db: TestDb) {
    let store = db.open().await;
    let (fleet_run, runs) = enqueue(&store, 1, 2, 2).await;
    let a = lease(&store, "a", 60_000).await.expect("a job");
    let b = lease(&store, "b", 60_000).await.expect("a job");
    let other = db.open().await;
    let (ra, rb) = tokio::join!(complete(&store, &a, "a"), complete(&other, &b, "b"));
    assert_eq!((ra, rb), (Completion::Done, Completion::Done));
    let finish = lease(&store, "a", 60_000).await.expect("the site's finish");
    assert_eq!(
        (finish.kind, finish.run),
        (JobKind::FinishSite, Some(runs[0]))
    );
    assert_eq!(
        lease(&store, "b", 60_000).await,
        None,
        "one finish, not two"
    );
    let kept = store.queue().observations(runs[0]).await.unwrap();
    assert_eq!(kept.iter().map(|k| k.0).collect::<Vec<_>>(), [0, 1]);
    let done = store
        .queue()
        .complete_site(
            &finish,
            "a",
            &SiteFinish {
                findings: &[],
                status: RunStatus::Complete,
                finished_at: chrono::Utc::now(),
                acks: &[],
                data_versions: Some("consentry=test"),
            },
        )
        .await
        .unwrap();
    assert_eq!(done, Completion::Done);
    // The observations are cleared with the site's finish; the fleet's finish is queued.
    assert!(store
        .queue()
        .observations(runs[0])
        .await
        .unwrap()
        .is_empty());
    let run = store.history().run(runs[0]).await.unwrap().unwrap();
    assert_eq!(run.status, RunStatus::Complete);
    assert_eq!(run.data_versions.as_deref(), Some("consentry=test"));
    let last = lease(&store, "b", 60_000)
        .await
        .expect("the fleet's finish");
    assert_eq!((last.kind, last.run), (JobKind::FinishFleet, None));
    let done = store
        .queue()
        .complete_fleet(&last, "b", &RunStatus::Complete, chrono::Utc::now())
        .await
        .unwrap();
    assert_eq!(done, Completion::Done);
    let fleet = store.history().fleet_run(fleet_run).await.unwrap().unwrap();
    assert_eq!(fleet.status, RunStatus::Complete);
    assert_eq!(store.queue().open_jobs().await.unwrap(), 0);
    other.close().await;
}

async fn racing_workers_never_hold_one_job_twice(db: TestDb) {
    let store = db.open().await;
    let (_, runs) = enqueue(&store, 6, 3, 1).await;
    // Four workers, each with its own connection pool, lease until the queue is dry and
    // complete every job they get; every visit ends up stored exactly once.
    let held: std::sync::Arc<std::sync::Mutex<BTreeSet<RunId>>> = Default::default();
    let mut workers = Vec::new();
    for w in 0..4 {
        let store = db.open().await;
        let held = held.clone();
        workers.push(tokio::spawn(async move {
            let owner = format!("w{w}");
            let mut got = Vec::new();
            let mut idle = 0;
            while idle < 20 {
                match store.queue().lease(&owner, 60_000).await.unwrap() {
                    Some(job) if job.kind == JobKind::Visit => {
                        // While held, no other job of its site is leased (per_site 1).
                        let run = job.run.unwrap();
                        assert!(
                            held.lock().unwrap().insert(run),
                            "two jobs of run {run} held at once"
                        );
                        got.push(what(&job));
                        tokio::time::sleep(Duration::from_millis(5)).await;
                        held.lock().unwrap().remove(&run);
                        assert_eq!(complete(&store, &job, &owner).await, Completion::Done);
                        idle = 0;
                    }
                    Some(_) => idle = 0, // a finish: left leased
                    None => {
                        idle += 1;
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                }
            }
            store.close().await;
            got
        }));
    }
    let mut all: Vec<(RunId, String)> = Vec::new();
    for w in workers {
        all.extend(w.await.unwrap());
    }
    let unique: BTreeSet<&(RunId, String)> = all.iter().collect();
    assert_eq!(unique.len(), all.len(), "a job done twice: {all:?}");
    assert_eq!(all.len(), runs.len() * 3);
    assert_eq!(db.count("visits").await, (runs.len() * 3) as i64);
    // Per site, its visits are the three scenarios.
    let mut per_site: BTreeMap<RunId, BTreeSet<String>> = BTreeMap::new();
    for (run, s) in all {
        per_site.entry(run).or_default().insert(s);
    }
    assert!(per_site.values().all(|s| s.len() == 3));
}

async fn a_job_given_back_is_leased_again_with_its_reason_kept(db: TestDb) {
    let store = db.open().await;
    let (fleet_run, _) = enqueue(&store, 1, 1, 1).await;
    let a = lease(&store, "a", 60_000).await.expect("a job");
    let released = store
        .queue()
        .release(&a, "a", "the browser failed; tried once more")
        .await
        .unwrap();
    assert_eq!(released, Completion::Done);
    let (jobs, _) = store.queue().jobs(fleet_run).await.unwrap();
    assert_eq!(jobs[0].state, "queued");
    assert_eq!(
        jobs[0].last_error.as_deref(),
        Some("the browser failed; tried once more")
    );
    let b = lease(&store, "b", 60_000).await.expect("again");
    assert_eq!((b.id, b.attempts), (a.id, 2));
    // Only its holder gives a job back.
    assert_eq!(
        store.queue().release(&b, "a", "not mine").await.unwrap(),
        Completion::LeaseLost
    );
}
