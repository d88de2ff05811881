//! One attached session of `run` or `exec`: the local stdin into the
//! process, its output to the local stdout and stderr as it comes (not
//! line by line: prompts must show), and the terminal size forwarded while
//! a TTY is in use; plus the exit code passed through.
//!
//! Owns: the byte pumps and the thread that reads stdin. Must not: decide
//! whether there is a TTY (the caller does, see `terminal.rs`), or call the
//! engine except through the resize function it is given.

use std::future::Future;
use std::io::{Read, Write};

use anyhow::{Context, Result};
use futures_util::StreamExt;
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;

use crate::engine::types::LogStream;
use crate::engine::{AttachedIo, EngineError};
use crate::exit::{Exit, ExitError};

/// Copies stdin (when `stdin`) into the process and its output to ours,
/// until the output ends (the process exited). Stdin's end closes the
/// process's stdin, so `echo hi | aistack run -T svc cat` ends.
pub async fn pump(io: AttachedIo, stdin: bool) -> Result<()> {
    let AttachedIo { mut output, input } = io;
    let feed = async move {
        if stdin {
            feed_stdin(input).await;
        }
        // Without stdin, or once it is closed: output decides the end.
        std::future::pending::<()>().await
    };
    tokio::pin!(feed);
    loop {
        tokio::select! {
            chunk = output.next() => match chunk {
                // Plain blocking writes: a terminal or pipe takes them at
                // once, and a stalled reader should stall us too.
                Some(Ok(c)) => match c.stream {
                    LogStream::Stderr => write_all(&mut std::io::stderr().lock(), &c.bytes)?,
                    LogStream::Stdout | LogStream::Console => {
                        write_all(&mut std::io::stdout().lock(), &c.bytes)?
                    }
                },
                Some(Err(e)) => return Err(e.into()),
                None => return Ok(()),
            },
            _ = &mut feed => {}
        }
    }
}

fn write_all(w: &mut dyn Write, bytes: &[u8]) -> Result<()> {
    w.write_all(bytes)
        .and_then(|()| w.flush())
        .context("writing the output")
}

/// Our stdin into `input`, then shut it down. A thread reads stdin: a
/// blocking read cannot be cancelled, and tokio's own stdin would keep the
/// runtime from shutting down until the user pressed enter.
async fn feed_stdin(mut input: std::pin::Pin<Box<dyn AsyncWrite + Send>>) {
    let (tx, mut rx) = mpsc::channel::<Vec<u8>>(8);
    std::thread::spawn(move || {
        let mut stdin = std::io::stdin().lock();
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            match stdin.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    if tx.blocking_send(buf[..n].to_vec()).is_err() {
                        return;
                    }
                }
            }
        }
    });
    while let Some(bytes) = rx.recv().await {
        if input.write_all(&bytes).await.is_err() || input.flush().await.is_err() {
            // The process closed its stdin or exited: nothing more to send.
            return;
        }
    }
    let _ = input.shutdown().await;
}

/// Sends the terminal size now and on every window change; never returns.
/// Failures are not fatal (the process may just have exited).
pub async fn follow_size<F, Fut>(resize: F)
where
    F: Fn(u16, u16) -> Fut,
    Fut: Future<Output = Result<(), EngineError>>,
{
    let mut changes =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::window_change()).ok();
    loop {
        if let Some((rows, cols)) = super::terminal::size()
            && let Err(e) = resize(rows, cols).await
        {
            tracing::debug!("resizing the TTY: {e}");
        }
        let changed = match changes.as_mut() {
            Some(s) => s.recv().await.is_some(),
            None => false,
        };
        if !changed {
            std::future::pending::<()>().await;
        }
    }
}

/// Ends the command with the process's exit code (nothing more is printed).
pub fn exit_with(code: i64) -> Result<()> {
    if code == 0 {
        return Ok(());
    }
    let code = i32::try_from(code).unwrap_or(1);
    Err(anyhow::Error::new(ExitError::new(
        Exit::Passthrough(code),
        format!("the command exited with code {code}"),
    ))
    .context(crate::REPORTED))
}

/// `-e` values: `KEY=VALUE` as given; `KEY` alone takes its value from
/// `lookup` and is left out when unset, as Compose does.
pub fn resolve_env(
    args: &[String],
    lookup: impl Fn(&str) -> Option<String>,
) -> Vec<(String, String)> {
    args.iter()
        .filter_map(|a| match a.split_once('=') {
            Some((k, v)) => Some((k.to_string(), v.to_string())),
            None => lookup(a).map(|v| (a.clone(), v)),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exit::exit_for;

    #[test]
    fn env_values_are_taken_as_given_or_from_the_environment() {
        let args = ["A=1", "B", "C", "D=", "E=x=y"].map(String::from);
        let env = resolve_env(&args, |k| (k == "B").then(|| "from-env".to_string()));
        let want = [("A", "1"), ("B", "from-env"), ("D", ""), ("E", "x=y")]
            .map(|(k, v)| (k.to_string(), v.to_string()));
        assert_eq!(env, want);
    }

    #[test]
    fn the_exit_code_is_passed_through_and_zero_is_success() {
        assert!(exit_with(0).is_ok());
        let e = exit_with(3).unwrap_err();
        assert_eq!(exit_for(&e), Exit::Passthrough(3));
        assert!(e.chain().any(|c| c.to_string() == crate::REPORTED));
    }
}
