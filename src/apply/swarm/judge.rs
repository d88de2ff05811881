//! Reading a service's tasks: is what we wait for there yet, not yet (and
//! why), or never going to be? Pure, so every rule is unit-tested; the
//! polling around it lives in `deploy.rs`.
//!
//! Swarm reports a task with a health check as `running` only once its first
//! check passed (the container executor holds it in `starting` until then),
//! so "every task running" is also "every task healthy".

use crate::engine::swarm::ObservedTask;

/// How many failed tasks make a service that restarts "crash-looping".
pub const CRASH_LOOP: usize = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want {
    /// `Some(n)`: n tasks running (`None`: every task of a global service).
    /// With `done_counts`, a completed task counts too ("it was started").
    Running {
        count: Option<u64>,
        done_counts: bool,
    },
    /// `Some(n)`: n tasks completed with exit code 0 (`None`: every task).
    Completed(Option<u64>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Ready,
    /// Not yet: what is missing, in words ("0/1 running; demo_web.1 preparing").
    Pending(String),
    /// Never: why, in words.
    Failed(String),
}

/// What the tasks say. `since`: only tasks created at or after it belong to
/// the current spec (after an update); failures count only from `fail_since`
/// (the deploy's start), never from old history. `restarts`: whether Swarm
/// replaces a failed task (restart condition other than none).
pub fn judge(
    service: &str,
    tasks: &[ObservedTask],
    want: Want,
    since: Option<i128>,
    fail_since: i128,
    restarts: bool,
) -> Verdict {
    let current: Vec<&ObservedTask> = tasks
        .iter()
        .filter(|t| since.is_none_or(|s| t.created_at >= s))
        .collect();
    let running = current
        .iter()
        .filter(|t| t.is_running() && t.desired_state == "running")
        .count() as u64;
    let done = current.iter().filter(|t| t.completed_ok()).count() as u64;
    let mut failed: Vec<&&ObservedTask> = current
        .iter()
        .filter(|t| t.failed() && t.created_at >= fail_since)
        .collect();
    failed.sort_by_key(|t| t.state_since);
    let name = |t: &ObservedTask| match t.slot {
        Some(n) => format!("{service}.{n}"),
        None => service.to_string(),
    };
    let why = |t: &ObservedTask| {
        let mut s = format!("task {} {}", name(t), t.state);
        if let Some(code) = t.exit_code.filter(|c| *c != 0) {
            s.push_str(&format!(" with exit code {code}"));
        }
        if !t.error.is_empty() {
            s.push_str(&format!(": {}", t.error));
        }
        s
    };

    let ready = match want {
        Want::Running {
            count: Some(n),
            done_counts,
        } => running + if done_counts { done } else { 0 } >= n,
        Want::Running {
            count: None,
            done_counts,
        } => {
            let unfinished = current
                .iter()
                .any(|t| t.desired_state == "running" && !t.is_running());
            (running > 0 || (done_counts && done > 0)) && !unfinished
        }
        Want::Completed(Some(n)) => done >= n,
        Want::Completed(None) => {
            done > 0
                && !current.iter().any(|t| {
                    !matches!(
                        t.state.as_str(),
                        "complete" | "shutdown" | "failed" | "rejected"
                    )
                })
        }
    };
    if ready {
        return Verdict::Ready;
    }

    // A rejection is a configuration problem (no such image, a bad mount, a
    // missing network): Swarm would retry it forever.
    if let Some(t) = failed.iter().find(|t| t.state == "rejected") {
        return Verdict::Failed(why(t));
    }
    if let Some(last) = failed.last() {
        if !restarts {
            return Verdict::Failed(why(last));
        }
        if failed.len() >= CRASH_LOOP {
            return Verdict::Failed(format!(
                "{} tasks failed since the deploy started (crash loop); last: {}",
                failed.len(),
                why(last)
            ));
        }
    }
    // A service meant to keep running that ended on its own, and will not restart.
    if matches!(
        want,
        Want::Running {
            done_counts: false,
            ..
        }
    ) && !restarts
        && let Some(t) = current
            .iter()
            .find(|t| t.state == "complete" && t.created_at >= fail_since)
    {
        return Verdict::Failed(format!(
            "task {} exited with code 0 but the service should keep running (restart condition none)",
            name(t)
        ));
    }

    let have = match want {
        Want::Running { count, .. } => format!(
            "{running}/{} running",
            count.map_or("all".to_string(), |n| n.to_string())
        ),
        Want::Completed(count) => format!(
            "{done}/{} completed",
            count.map_or("all".to_string(), |n| n.to_string())
        ),
    };
    let mut waiting: Vec<&&ObservedTask> = current
        .iter()
        .filter(|t| t.desired_state == "running" && !t.is_running())
        .collect();
    waiting.sort_by_key(|t| t.slot);
    match waiting.first() {
        Some(t) if !t.message.is_empty() && t.message != t.state => Verdict::Pending(format!(
            "{have}; task {} {}: {}",
            name(t),
            t.state,
            t.message
        )),
        Some(t) => Verdict::Pending(format!("{have}; task {} {}", name(t), t.state)),
        None if current.is_empty() => Verdict::Pending(format!("{have}; no task scheduled yet")),
        None => Verdict::Pending(have),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(
        slot: u64,
        state: &str,
        desired: &str,
        exit: Option<i64>,
        created: i128,
    ) -> ObservedTask {
        ObservedTask {
            id: format!("t{slot}-{created}"),
            service_id: "s".into(),
            slot: Some(slot),
            node_id: "n".into(),
            state: state.into(),
            desired_state: desired.into(),
            message: state.into(),
            error: if state == "failed" {
                format!("task: non-zero exit ({})", exit.unwrap_or(1))
            } else {
                String::new()
            },
            exit_code: exit,
            container_id: None,
            created_at: created,
            state_since: created + 1,
            ports: vec![],
        }
    }

    const RUN2: Want = Want::Running {
        count: Some(2),
        done_counts: false,
    };

    #[test]
    fn every_replica_must_run_before_the_service_is_ready() {
        let one = [
            task(1, "running", "running", None, 10),
            task(2, "starting", "running", None, 10),
        ];
        match judge("demo_web", &one, RUN2, None, 0, true) {
            Verdict::Pending(s) => assert_eq!(s, "1/2 running; task demo_web.2 starting"),
            other => panic!("{other:?}"),
        }
        let both = [
            task(1, "running", "running", None, 10),
            task(2, "running", "running", None, 10),
        ];
        assert_eq!(
            judge("demo_web", &both, RUN2, None, 0, true),
            Verdict::Ready
        );
    }

    #[test]
    fn after_an_update_only_tasks_of_the_new_spec_count() {
        let tasks = [
            task(1, "running", "running", None, 5),
            task(2, "running", "running", None, 5),
            task(1, "preparing", "running", None, 20),
        ];
        assert!(matches!(
            judge("demo_web", &tasks, RUN2, Some(20), 0, true),
            Verdict::Pending(_)
        ));
        assert_eq!(
            judge("demo_web", &tasks, RUN2, None, 0, true),
            Verdict::Ready
        );
    }

    #[test]
    fn a_one_shot_job_is_ready_when_it_completed_and_failed_when_it_exited_non_zero() {
        let want = Want::Completed(Some(1));
        let ok = [task(1, "complete", "shutdown", Some(0), 10)];
        assert_eq!(
            judge("demo_migrate", &ok, want, None, 0, false),
            Verdict::Ready
        );
        let bad = [task(1, "failed", "shutdown", Some(3), 10)];
        assert_eq!(
            judge("demo_migrate", &bad, want, None, 0, false),
            Verdict::Failed(
                "task demo_migrate.1 failed with exit code 3: task: non-zero exit (3)".into()
            )
        );
    }

    #[test]
    fn a_restarting_service_fails_only_once_it_crash_loops() {
        let mut tasks = vec![task(1, "failed", "shutdown", Some(1), 10)];
        assert!(matches!(
            judge("demo_web", &tasks, RUN2, None, 0, true),
            Verdict::Pending(_)
        ));
        tasks.push(task(1, "failed", "shutdown", Some(1), 20));
        tasks.push(task(1, "failed", "shutdown", Some(1), 30));
        match judge("demo_web", &tasks, RUN2, None, 0, true) {
            Verdict::Failed(s) => assert!(
                s.starts_with("3 tasks failed since the deploy started"),
                "{s}"
            ),
            other => panic!("{other:?}"),
        }
        // Failures from before this deploy are history, not a verdict.
        assert!(matches!(
            judge("demo_web", &tasks, RUN2, None, 100, true),
            Verdict::Pending(_)
        ));
    }

    #[test]
    fn a_rejected_task_fails_at_once_with_the_engines_reason() {
        let mut t = task(1, "rejected", "shutdown", None, 10);
        t.error = "No such image: nope:1".into();
        match judge("demo_web", &[t], RUN2, None, 0, true) {
            Verdict::Failed(s) => assert!(s.contains("No such image: nope:1"), "{s}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_pending_task_says_why_it_is_not_scheduled() {
        let mut t = task(1, "pending", "running", None, 10);
        t.message = "no suitable node (scheduling constraints not satisfied on 1 node)".into();
        match judge("demo_web", &[t], RUN2, None, 0, true) {
            Verdict::Pending(s) => assert!(s.contains("no suitable node"), "{s}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn started_is_satisfied_by_a_job_that_already_completed() {
        let done = [task(1, "complete", "shutdown", Some(0), 10)];
        let started = Want::Running {
            count: Some(1),
            done_counts: true,
        };
        assert_eq!(
            judge("demo_job", &done, started, None, 0, false),
            Verdict::Ready
        );
        let kept = Want::Running {
            count: Some(1),
            done_counts: false,
        };
        match judge("demo_job", &done, kept, None, 0, false) {
            Verdict::Failed(s) => assert!(s.contains("should keep running"), "{s}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn zero_replicas_are_ready_at_once() {
        let want = Want::Running {
            count: Some(0),
            done_counts: false,
        };
        assert_eq!(judge("demo_web", &[], want, None, 0, true), Verdict::Ready);
    }
}
