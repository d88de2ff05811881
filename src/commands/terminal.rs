//! The local terminal during `run` and `exec`: whether to allocate a TTY,
//! raw mode for as long as a TTY session lasts (restored on drop, also on
//! errors), and the window size to forward.
//!
//! Owns every termios/ioctl call of the crate. Must not: talk to the
//! engine or print anything.

use std::io::IsTerminal;

/// Compose allocates a TTY when both ends are terminals, unless `-T`.
pub fn wants_tty(no_tty: bool) -> bool {
    !no_tty && std::io::stdin().is_terminal() && std::io::stdout().is_terminal()
}

/// The terminal on stdin in raw mode: keys (Ctrl-C included) go to the
/// container's TTY as bytes, as with `docker run -it`. Dropping restores
/// the settings it found.
pub struct RawMode {
    saved: libc::termios,
}

impl RawMode {
    /// `None` when stdin is not a terminal (nothing to change).
    pub fn enable() -> std::io::Result<Option<RawMode>> {
        if !std::io::stdin().is_terminal() {
            return Ok(None);
        }
        // SAFETY: termios is plain data; tcgetattr fills it for fd 0, which
        // is open (it is a terminal, checked above).
        let mut t: libc::termios = unsafe { std::mem::zeroed() };
        if unsafe { libc::tcgetattr(libc::STDIN_FILENO, &mut t) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        let saved = t;
        // SAFETY: cfmakeraw only edits the struct it is given.
        unsafe { libc::cfmakeraw(&mut t) };
        // SAFETY: `t` is a valid termios obtained from tcgetattr.
        if unsafe { libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, &t) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(Some(RawMode { saved }))
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        // SAFETY: restores the settings read from the same fd in `enable`.
        unsafe {
            libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, &self.saved);
        }
    }
}

/// (rows, columns) of the terminal on stdout, stdin or stderr, if any.
pub fn size() -> Option<(u16, u16)> {
    for fd in [libc::STDOUT_FILENO, libc::STDIN_FILENO, libc::STDERR_FILENO] {
        // SAFETY: winsize is plain data; TIOCGWINSZ only writes into it, and
        // fails harmlessly on a descriptor that is not a terminal.
        let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
        if unsafe { libc::ioctl(fd, libc::TIOCGWINSZ, &mut ws) } == 0 && ws.ws_row > 0 {
            return Some((ws.ws_row, ws.ws_col));
        }
    }
    None
}
