//! Bounds on the work the server takes on: how many searches run at once, how many wait
//! behind them, and how long a call may take. Beyond the queue a call is refused at once with
//! RESOURCE_EXHAUSTED, so overload is shed instead of queued without bound; a call whose
//! deadline passes while it waits is answered DEADLINE_EXCEEDED and never run.

use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;
use tonic::metadata::MetadataMap;

/// Concurrency and time limits of the search pool.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Calls (searches, detections, lookups) that run at once.
    pub concurrent: usize,
    /// Calls that may wait for a free slot; beyond them calls are refused. `None`: by the
    /// engine ([`Limits::queue`]).
    pub queued: Option<usize>,
    /// The longest a call may take when the client sets no shorter deadline; `None`: no limit.
    pub request_timeout: Option<Duration>,
}

/// Calls waiting per core by default: a lexical search costs tens to hundreds of
/// microseconds of a core over gRPC, so a full queue waits a few milliseconds, not seconds.
/// 32 per core let accepted calls' p99 reach 12.5 ms at twice the highest rate one core
/// sustains on a mixed ko/zh/en bank (10× its unloaded p99); 16 keep it at 6.7 ms with the
/// same calls answered.
pub const QUEUED_PER_CORE: usize = 16;
/// Calls waiting per running call by default with the sentence encoder: a search then costs
/// milliseconds of a core (2 to 6 ms for a short question), so the lexical default (32 per
/// core then) was hundreds of milliseconds of waiting (accepted calls' p50 480 ms at an
/// offered 200 requests/s on two cores, when a search took 6 to 15 ms); 4 keep a full queue's
/// wait to tens of milliseconds.
pub const QUEUED_PER_SLOT_WITH_ENCODER: usize = 4;

impl Limits {
    /// Defaults from the machine: one running call per core, and a queue by the engine.
    pub fn from_cores() -> Self {
        Limits {
            concurrent: cores(),
            queued: None,
            request_timeout: Some(Duration::from_secs(10)),
        }
    }

    /// Calls that may wait: `queued` when set, else [`QUEUED_PER_SLOT_WITH_ENCODER`] per
    /// running call when searches run the sentence encoder (`encoder`), else
    /// [`QUEUED_PER_CORE`] per core.
    pub fn queue(&self, encoder: bool) -> usize {
        self.queued.unwrap_or(if encoder {
            self.concurrent.max(1) * QUEUED_PER_SLOT_WITH_ENCODER
        } else {
            cores() * QUEUED_PER_CORE
        })
    }
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

impl Default for Limits {
    fn default() -> Self {
        Limits::from_cores()
    }
}

/// Admission control in front of the engine.
#[derive(Debug, Clone)]
pub struct Limiter {
    admitted: Arc<Semaphore>,
    running: Arc<Semaphore>,
    limits: Limits,
}

/// Why a call was not run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Every slot is busy and the queue is full.
    Overloaded,
    /// The call's deadline passed before it could start.
    Expired,
}

/// A call given a queue place; [`Admitted::start`] waits for a running slot.
#[derive(Debug)]
pub struct Admitted {
    admitted: OwnedSemaphorePermit,
    running: Arc<Semaphore>,
}

/// A call allowed to run; holding it keeps its slot until the work ends (also when the
/// client has gone away meanwhile).
#[derive(Debug)]
pub struct Slot {
    _admitted: OwnedSemaphorePermit,
    _running: OwnedSemaphorePermit,
}

impl Limiter {
    /// Returns a limiter for an engine that runs the sentence encoder or not (`encoder`, which
    /// sets the default queue); a zero concurrency limit is raised to one.
    pub fn new(limits: Limits, encoder: bool) -> Self {
        let concurrent = limits.concurrent.max(1);
        let queued = limits.queue(encoder);
        Limiter {
            admitted: Arc::new(Semaphore::new(concurrent + queued)),
            running: Arc::new(Semaphore::new(concurrent)),
            limits: Limits {
                concurrent,
                queued: Some(queued),
                ..limits
            },
        }
    }

    /// Returns the limits in force (`queued` set).
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Takes a queue place at once, or refuses the call when the queue is full or its
    /// deadline has passed.
    pub fn admit(&self, deadline: Option<Instant>) -> Result<Admitted, Refusal> {
        if deadline.is_some_and(|d| d <= Instant::now()) {
            return Err(Refusal::Expired);
        }
        let admitted = self
            .admitted
            .clone()
            .try_acquire_owned()
            .map_err(|_| Refusal::Overloaded)?;
        Ok(Admitted {
            admitted,
            running: self.running.clone(),
        })
    }

    /// Takes a queue place at once (or refuses), then waits for a running slot until
    /// `deadline`.
    pub async fn acquire(&self, deadline: Option<Instant>) -> Result<Slot, Refusal> {
        self.admit(deadline)?.start(deadline).await
    }

    /// Returns the deadline of a call: the client's `grpc-timeout` or the server's request
    /// timeout, whichever is sooner.
    ///
    /// It is set one millisecond before the client's, so the server's DEADLINE_EXCEEDED is
    /// sent before tonic's own timer (started when the headers arrived) answers CANCELLED.
    pub fn deadline(&self, metadata: &MetadataMap, arrived: Instant) -> Option<Instant> {
        let client = metadata
            .get("grpc-timeout")
            .and_then(|v| v.to_str().ok())
            .and_then(parse_grpc_timeout)
            .map(|t| arrived + t.saturating_sub(Duration::from_millis(1)));
        let server = self.limits.request_timeout.map(|t| arrived + t);
        match (client, server) {
            (Some(c), Some(s)) => Some(c.min(s)),
            (c, s) => c.or(s),
        }
    }
}

impl Admitted {
    /// Waits for a running slot until `deadline`; a call whose deadline has passed meanwhile
    /// is refused, never started.
    pub async fn start(self, deadline: Option<Instant>) -> Result<Slot, Refusal> {
        if deadline.is_some_and(|d| d <= Instant::now()) {
            return Err(Refusal::Expired);
        }
        let running = self.running.acquire_owned();
        let running = match deadline {
            Some(d) => tokio::time::timeout_at(d, running)
                .await
                .map_err(|_| Refusal::Expired)?,
            None => running.await,
        }
        .expect("the semaphore is never closed");
        Ok(Slot {
            _admitted: self.admitted,
            _running: running,
        })
    }
}

/// Parses a `grpc-timeout` header value (`TimeoutValue TimeoutUnit`: at most 8 digits, then
/// one of H M S m u n).
pub fn parse_grpc_timeout(v: &str) -> Option<Duration> {
    if v.len() < 2 || v.len() > 9 {
        return None;
    }
    let (digits, unit) = v.split_at(v.len() - 1);
    let n: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(n * 3600),
        "M" => Duration::from_secs(n * 60),
        "S" => Duration::from_secs(n),
        "m" => Duration::from_millis(n),
        "u" => Duration::from_micros(n),
        "n" => Duration::from_nanos(n),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_timeout_values_parse_by_unit() {
        for (v, want) in [
            ("1H", Some(Duration::from_secs(3600))),
            ("2M", Some(Duration::from_secs(120))),
            ("3S", Some(Duration::from_secs(3))),
            ("250m", Some(Duration::from_millis(250))),
            ("7u", Some(Duration::from_micros(7))),
            ("99999999n", Some(Duration::from_nanos(99_999_999))),
            ("", None),
            ("m", None),
            ("10x", None),
            ("-1S", None),
            ("123456789S", None),
        ] {
            assert_eq!(parse_grpc_timeout(v), want, "{v:?}");
        }
    }

    #[tokio::test]
    async fn calls_beyond_the_running_slots_and_the_queue_are_refused_at_once() {
        let limiter = Limiter::new(
            Limits {
                concurrent: 1,
                queued: Some(1),
                request_timeout: None,
            },
            false,
        );
        let first = limiter.acquire(None).await.expect("a free slot");
        let l2 = limiter.clone();
        let queued = tokio::spawn(async move { l2.acquire(None).await.map(drop) });
        tokio::task::yield_now().await;
        while limiter.admitted.available_permits() > 0 {
            tokio::task::yield_now().await;
        }
        assert_eq!(limiter.acquire(None).await.err(), Some(Refusal::Overloaded));
        drop(first);
        assert_eq!(queued.await.unwrap(), Ok(()));
        assert!(limiter.acquire(None).await.is_ok());
    }

    #[test]
    fn the_default_queue_is_shorter_with_the_encoder_and_a_set_one_stands() {
        let defaults = Limits {
            concurrent: 3,
            ..Limits::from_cores()
        };
        let queued = |l: Limits, encoder| Limiter::new(l, encoder).limits().queued;
        assert_eq!(
            queued(defaults, true),
            Some(3 * QUEUED_PER_SLOT_WITH_ENCODER)
        );
        assert_eq!(queued(defaults, false), Some(cores() * QUEUED_PER_CORE));
        let set = Limits {
            queued: Some(7),
            ..defaults
        };
        assert_eq!(queued(set, true), Some(7));
        assert_eq!(queued(set, false), Some(7));
    }

    #[tokio::test]
    async fn a_call_past_its_deadline_is_not_admitted() {
        let limiter = Limiter::new(
            Limits {
                concurrent: 1,
                queued: Some(4),
                request_timeout: None,
            },
            false,
        );
        let past = Instant::now() - Duration::from_millis(5);
        assert_eq!(
            limiter.acquire(Some(past)).await.err(),
            Some(Refusal::Expired)
        );
        let _busy = limiter.acquire(None).await.unwrap();
        let soon = Instant::now() + Duration::from_millis(20);
        assert_eq!(
            limiter.acquire(Some(soon)).await.err(),
            Some(Refusal::Expired)
        );
    }
}
