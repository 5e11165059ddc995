//! The connection limits: named defaults, a cap that follows the process's
//! fd limit, and hidden `LBSIM_*` overrides so tests run in seconds.

use crate::error::{Error, Result};
use std::time::Duration;

/// A request head (request line and headers) must be whole this long after
/// its first byte, or after the connection opened: slowloris clients that
/// drip a header every few seconds are cut off here.
pub(crate) const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// A request body must be whole this long after its head (1 MiB at the
/// body limit is then at least 35 KB/s); a declared length never sent ends
/// here instead of holding the connection.
pub(crate) const BODY_TIMEOUT: Duration = Duration::from_secs(30);

/// A kept-alive connection may wait this long for its next request. Longer
/// than the clients' own pool idle time (ureq: 15 s), so the server is not
/// the side that closes a connection a worker is about to reuse.
pub(crate) const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// A response the client does not take (a full socket buffer that does not
/// drain) is given up after this long.
pub(crate) const SEND_TIMEOUT: Duration = Duration::from_secs(30);

/// Open connections at most, when the fd limit allows: far above a fleet's
/// one or two per worker, far below what the fd limit usually permits.
pub(crate) const MAX_CONNECTIONS: usize = 2048;

/// Fds kept for everything but client connections: the store and its WAL,
/// the recording, stdio, the listener, the runtime's epoll and wakers, and
/// refusals and evictions still closing.
pub(crate) const FD_HEADROOM: u64 = 128;

/// What bounds the connections.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Limits {
    pub(crate) header: Duration,
    pub(crate) body: Duration,
    pub(crate) idle: Duration,
    pub(crate) send: Duration,
    pub(crate) max_connections: usize,
}

impl Limits {
    /// The defaults, with the cap under the fd limit (raised to the hard
    /// limit first where that helps) and the test overrides applied.
    pub(crate) fn from_env() -> Result<Limits> {
        let fds = raise_fd_limit(MAX_CONNECTIONS as u64 + FD_HEADROOM);
        let cap = cap_for(fds);
        let max_connections = match env_number("LBSIM_MAX_CONNECTIONS")? {
            Some(n) => (n as usize).min(cap),
            None => cap,
        };
        Ok(Limits {
            header: env_ms("LBSIM_HEADER_TIMEOUT_MS", HEADER_TIMEOUT)?,
            body: env_ms("LBSIM_BODY_TIMEOUT_MS", BODY_TIMEOUT)?,
            idle: env_ms("LBSIM_IDLE_TIMEOUT_MS", IDLE_TIMEOUT)?,
            send: env_ms("LBSIM_SEND_TIMEOUT_MS", SEND_TIMEOUT)?,
            max_connections,
        })
    }
}

/// The connection cap for a soft fd limit (`None`: unlimited).
pub(crate) fn cap_for(fd_limit: Option<u64>) -> usize {
    match fd_limit {
        None => MAX_CONNECTIONS,
        Some(n) => {
            let cap = n.saturating_sub(FD_HEADROOM).max(n / 2).max(1);
            cap.min(MAX_CONNECTIONS as u64) as usize
        }
    }
}

/// Raises the soft fd limit towards `want` (never past the hard limit) and
/// returns the soft limit in force.
#[cfg(unix)]
fn raise_fd_limit(want: u64) -> Option<u64> {
    use rustix::process::{getrlimit, setrlimit, Resource};
    let limit = getrlimit(Resource::Nofile);
    let current = limit.current?;
    if current >= want {
        return Some(current);
    }
    let target = limit.maximum.map_or(want, |max| want.min(max));
    if target > current {
        let raised = rustix::process::Rlimit {
            current: Some(target),
            maximum: limit.maximum,
        };
        if setrlimit(Resource::Nofile, raised).is_ok() {
            return Some(target);
        }
    }
    Some(current)
}

#[cfg(not(unix))]
fn raise_fd_limit(_want: u64) -> Option<u64> {
    None
}

/// A whole number above 0 from a hidden test variable, if set.
fn env_number(name: &str) -> Result<Option<u64>> {
    match std::env::var(name) {
        Err(_) => Ok(None),
        Ok(text) => match text.trim().parse::<u64>() {
            Ok(n) if n > 0 => Ok(Some(n)),
            _ => Err(Error::invalid(
                name,
                format!("'{text}' is not a whole number above 0"),
            )),
        },
    }
}

fn env_ms(name: &str, default: Duration) -> Result<Duration> {
    Ok(env_number(name)?.map_or(default, Duration::from_millis))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_stays_under_the_fd_limit() {
        assert_eq!(cap_for(None), MAX_CONNECTIONS);
        assert_eq!(cap_for(Some(1 << 20)), MAX_CONNECTIONS);
        assert_eq!(cap_for(Some(1024)), 1024 - FD_HEADROOM as usize);
        assert_eq!(cap_for(Some(100)), 50);
        assert_eq!(cap_for(Some(1)), 1);
    }
}
