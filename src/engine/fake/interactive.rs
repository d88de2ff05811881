//! The fake engine's attached streams and execs: what `run` and `exec`
//! drive. Attaching follows the container's output (what `push_log` writes)
//! until it exits; an exec answers with the result scripted by `on_exec`;
//! whatever is written to an attached stdin is recorded for tests.
//!
//! Owns: those fake behaviours and their state. Must not: import bollard.

use std::collections::BTreeMap;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::stream;
use tokio::io::AsyncWrite;
use tokio::sync::broadcast;

use super::FakeEngine;
use crate::engine::interactive::{AttachedIo, ExecSpec, ExecStatus, OutputChunk};
use crate::engine::types::{ContainerState, ExecOutput};
use crate::engine::{EngineError, Result};

/// The fake's execs and recorded stdin, kept in its `State`.
#[derive(Default)]
pub(in crate::engine::fake) struct Sessions {
    execs: BTreeMap<String, FakeExec>,
    /// Container name or exec ID → bytes written to its stdin.
    stdin: BTreeMap<String, Arc<Mutex<Vec<u8>>>>,
    next: u64,
}

struct FakeExec {
    container: String,
    spec: ExecSpec,
    result: ExecOutput,
    started: bool,
}

/// An attached stdin that keeps what is written.
struct Recorder(Arc<Mutex<Vec<u8>>>);

impl AsyncWrite for Recorder {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

impl Sessions {
    /// A recorded stdin for `key`, or one that discards (stdin not attached).
    fn input(&mut self, key: Option<&str>) -> Pin<Box<dyn AsyncWrite + Send>> {
        match key {
            Some(k) => Box::pin(Recorder(
                self.stdin.entry(k.to_string()).or_default().clone(),
            )),
            None => Box::pin(tokio::io::sink()),
        }
    }
}

impl FakeEngine {
    /// What was written to the attached stdin of a container (by name) or an exec (by ID).
    pub fn stdin_written(&self, key: &str) -> Vec<u8> {
        self.lock()
            .interactive
            .stdin
            .get(key)
            .map(|b| b.lock().unwrap_or_else(|p| p.into_inner()).clone())
            .unwrap_or_default()
    }

    /// The spec an exec was created with.
    pub fn exec_spec(&self, exec: &str) -> Option<ExecSpec> {
        self.lock()
            .interactive
            .execs
            .get(exec)
            .map(|e| e.spec.clone())
    }

    pub(super) async fn attach_impl(&self, id: &str, stdin: bool) -> Result<AttachedIo> {
        let subject = self.lock().container_name(id);
        self.enter("attach_container", &subject).await?;
        let mut st = self.lock();
        let cid = st
            .container_id(id)
            .ok_or_else(|| Self::not_found("container", id))?;
        let c = &st.containers[&cid];
        let name = c.spec.name.clone();
        // Like the daemon: a stream from now on, ending when the process exits.
        let live = matches!(c.state, ContainerState::Created | ContainerState::Running)
            .then(|| self.inner.logs.subscribe());
        let input = st.interactive.input(stdin.then_some(name.as_str()));
        let output = stream::unfold(live, move |rx| {
            let cid = cid.clone();
            async move {
                let mut rx = rx?;
                loop {
                    match rx.recv().await {
                        Ok((c, Some(line))) if c == cid => {
                            let chunk = OutputChunk {
                                stream: line.stream,
                                bytes: Bytes::from(format!("{}\n", line.text)),
                            };
                            return Some((Ok(chunk), Some(rx)));
                        }
                        Ok((c, None)) if c == cid => return None,
                        Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                        Err(broadcast::error::RecvError::Closed) => return None,
                    }
                }
            }
        });
        Ok(AttachedIo {
            output: Box::pin(output),
            input,
        })
    }

    pub(super) async fn resize_container_impl(&self, id: &str, rows: u16, cols: u16) -> Result<()> {
        let subject = self.lock().container_name(id);
        self.enter("resize_container", &format!("{subject} {rows}x{cols}"))
            .await?;
        let st = self.lock();
        let cid = st
            .container_id(id)
            .ok_or_else(|| Self::not_found("container", id))?;
        if st.containers[&cid].state != ContainerState::Running {
            return Err(EngineError::Conflict {
                what: format!("resize the TTY of container {subject}"),
                message: format!("Container {cid} is not running"),
            });
        }
        Ok(())
    }

    pub(super) async fn create_exec_impl(
        &self,
        container: &str,
        spec: &ExecSpec,
    ) -> Result<String> {
        let subject = format!(
            "{} {}",
            self.lock().container_name(container),
            spec.cmd.join(" ")
        );
        self.enter("create_exec", &subject).await?;
        let mut st = self.lock();
        let cid = st
            .container_id(container)
            .ok_or_else(|| Self::not_found("container", container))?;
        let name = st.containers[&cid].spec.name.clone();
        if st.containers[&cid].state != ContainerState::Running {
            return Err(EngineError::Conflict {
                what: format!("exec in container {name}"),
                message: format!("Container {cid} is not running"),
            });
        }
        let result = st
            .exec_results
            .get_mut(&name)
            .and_then(std::collections::VecDeque::pop_front)
            .unwrap_or_default();
        let s = &mut st.interactive;
        s.next += 1;
        let id = format!("e{:063}", s.next);
        s.execs.insert(
            id.clone(),
            FakeExec {
                container: name,
                spec: spec.clone(),
                result,
                started: false,
            },
        );
        Ok(id)
    }

    /// Marks the exec started; its scripted output, or `NotFound`.
    fn start_exec_common(&self, exec: &str) -> Result<(String, ExecOutput)> {
        let mut st = self.lock();
        let e = st
            .interactive
            .execs
            .get_mut(exec)
            .ok_or_else(|| Self::not_found("exec", exec))?;
        e.started = true;
        Ok((e.container.clone(), e.result.clone()))
    }

    pub(super) async fn start_exec_attached_impl(
        &self,
        exec: &str,
        _tty: bool,
    ) -> Result<AttachedIo> {
        self.enter("start_exec_attached", &self.exec_subject(exec))
            .await?;
        let (_, result) = self.start_exec_common(exec)?;
        let stdin = self.exec_spec(exec).is_some_and(|s| s.stdin);
        let input = self.lock().interactive.input(stdin.then_some(exec));
        let chunks: Vec<Result<OutputChunk>> = (!result.output.is_empty())
            .then(|| {
                Ok(OutputChunk {
                    stream: crate::engine::types::LogStream::Stdout,
                    bytes: Bytes::from(result.output.into_bytes()),
                })
            })
            .into_iter()
            .collect();
        Ok(AttachedIo {
            output: Box::pin(stream::iter(chunks)),
            input,
        })
    }

    pub(super) async fn start_exec_detached_impl(&self, exec: &str, _tty: bool) -> Result<()> {
        self.enter("start_exec_detached", &self.exec_subject(exec))
            .await?;
        self.start_exec_common(exec).map(|_| ())
    }

    pub(super) async fn resize_exec_impl(&self, exec: &str, rows: u16, cols: u16) -> Result<()> {
        self.enter(
            "resize_exec",
            &format!("{} {rows}x{cols}", self.exec_subject(exec)),
        )
        .await
    }

    pub(super) async fn inspect_exec_impl(&self, exec: &str) -> Result<ExecStatus> {
        self.enter("inspect_exec", &self.exec_subject(exec)).await?;
        let st = self.lock();
        let e = st
            .interactive
            .execs
            .get(exec)
            .ok_or_else(|| Self::not_found("exec", exec))?;
        Ok(ExecStatus {
            running: false,
            exit_code: e.started.then_some(e.result.exit_code),
        })
    }

    /// "<container> <cmd>" for the call record (exec IDs are unreadable).
    fn exec_subject(&self, exec: &str) -> String {
        self.lock().interactive.execs.get(exec).map_or_else(
            || exec.to_string(),
            |e| format!("{} {}", e.container, e.spec.cmd.join(" ")),
        )
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use futures_util::StreamExt;
    use tokio::io::AsyncWriteExt;

    use crate::engine::types::{ContainerSpec, LogStream};
    use crate::engine::{Engine, EngineError, ExecOutput, ExecSpec, FakeEngine, Script};

    fn spec(name: &str) -> ContainerSpec {
        ContainerSpec {
            name: name.into(),
            image: "busybox".into(),
            ..Default::default()
        }
    }

    #[tokio::test]
    async fn attach_before_start_sees_the_output_and_ends_when_the_container_exits() {
        let e = FakeEngine::new();
        e.create_container(&spec("p-job-run-1")).await.unwrap();
        e.on_start("p-job-run-1", Script::Exit(3, Duration::from_millis(50)));
        let mut io = e.attach_container("p-job-run-1", true).await.unwrap();
        e.start_container("p-job-run-1").await.unwrap();
        e.push_log("p-job-run-1", LogStream::Stdout, "hello");
        io.input.write_all(b"typed").await.unwrap();
        let chunk = io.output.next().await.unwrap().unwrap();
        assert_eq!(&chunk.bytes[..], b"hello\n");
        assert!(io.output.next().await.is_none(), "ends at exit");
        assert_eq!(e.wait_container("p-job-run-1").await.unwrap(), 3);
        assert_eq!(e.stdin_written("p-job-run-1"), b"typed");
    }

    #[tokio::test]
    async fn an_exec_reports_its_scripted_output_and_exit_code() {
        let e = FakeEngine::new();
        e.create_container(&spec("p-web-1")).await.unwrap();
        e.start_container("p-web-1").await.unwrap();
        e.on_exec(
            "p-web-1",
            ExecOutput {
                exit_code: 3,
                output: "out\n".into(),
            },
        );
        let s = ExecSpec {
            cmd: vec!["sh".into(), "-c".into(), "exit 3".into()],
            stdin: true,
            ..Default::default()
        };
        let id = e.create_exec("p-web-1", &s).await.unwrap();
        assert_eq!(e.inspect_exec(&id).await.unwrap().exit_code, None);
        let mut io = e.start_exec_attached(&id, false).await.unwrap();
        io.input.write_all(b"in").await.unwrap();
        let chunk = io.output.next().await.unwrap().unwrap();
        assert_eq!(&chunk.bytes[..], b"out\n");
        assert!(io.output.next().await.is_none());
        let status = e.inspect_exec(&id).await.unwrap();
        assert_eq!((status.running, status.exit_code), (false, Some(3)));
        assert_eq!(e.stdin_written(&id), b"in");
        assert_eq!(e.exec_spec(&id), Some(s));
        assert!(
            e.calls()
                .contains(&"start_exec_attached p-web-1 sh -c exit 3".to_string())
        );
    }

    #[tokio::test]
    async fn exec_and_resize_need_a_running_container() {
        let e = FakeEngine::new();
        e.create_container(&spec("p-web-1")).await.unwrap();
        let err = e
            .create_exec("p-web-1", &ExecSpec::default())
            .await
            .unwrap_err();
        assert!(matches!(err, EngineError::Conflict { .. }), "{err}");
        assert!(e.resize_container("p-web-1", 24, 80).await.is_err());
        e.start_container("p-web-1").await.unwrap();
        e.resize_container("p-web-1", 24, 80).await.unwrap();
        assert!(
            e.calls()
                .contains(&"resize_container p-web-1 24x80".to_string())
        );
        assert!(
            e.create_exec("nope", &ExecSpec::default())
                .await
                .unwrap_err()
                .is_not_found()
        );
    }
}
