//! Stopping an apply early (SIGINT/SIGTERM arrived): a level-triggered flag
//! the executor checks before launching work and races against waits.
//!
//! Owns only the flag. Must not: know about signals or exit codes (the
//! command layer decides those), nor abandon an engine call that changes
//! the stack: a create whose answer is dropped may still complete in the
//! daemon after `down` has looked, and would be left behind.

use tokio::sync::watch;

/// The executor's side: cloneable, cheap, `Default` never fires.
#[derive(Clone, Default)]
pub struct Cancel {
    rx: Option<watch::Receiver<bool>>,
}

/// The side that fires (the command's signal handler).
#[derive(Clone)]
pub struct Trigger {
    tx: std::sync::Arc<watch::Sender<bool>>,
}

/// A new flag and the trigger that raises it.
pub fn pair() -> (Trigger, Cancel) {
    let (tx, rx) = watch::channel(false);
    (
        Trigger {
            tx: std::sync::Arc::new(tx),
        },
        Cancel { rx: Some(rx) },
    )
}

impl Trigger {
    pub fn fire(&self) {
        self.tx.send_replace(true);
    }
}

impl Cancel {
    pub fn is_cancelled(&self) -> bool {
        self.rx.as_ref().is_some_and(|rx| *rx.borrow())
    }

    /// Resolves once the flag is raised; never, for `Cancel::default()` or
    /// when the trigger is dropped without firing.
    pub async fn cancelled(&self) {
        let Some(rx) = &self.rx else {
            return std::future::pending().await;
        };
        let mut rx = rx.clone();
        if rx.wait_for(|v| *v).await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_flag_is_seen_by_every_clone_once_fired() {
        let (trigger, cancel) = pair();
        let other = cancel.clone();
        assert!(!cancel.is_cancelled());
        let waiter = tokio::spawn(async move { other.cancelled().await });
        trigger.fire();
        tokio::time::timeout(std::time::Duration::from_secs(5), waiter)
            .await
            .expect("the waiter was not woken")
            .unwrap();
        assert!(cancel.is_cancelled());
        // Fired before the wait began: resolves at once.
        tokio::time::timeout(std::time::Duration::from_secs(5), cancel.cancelled())
            .await
            .expect("a fired flag must resolve at once");
    }

    #[tokio::test(start_paused = true)]
    async fn the_default_never_fires() {
        let cancel = Cancel::default();
        assert!(!cancel.is_cancelled());
        let r =
            tokio::time::timeout(std::time::Duration::from_secs(3600), cancel.cancelled()).await;
        assert!(r.is_err());
    }
}
