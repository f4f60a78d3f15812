//! [`Time`]: the actor that tells the time, and [`TimeOfDay`], its answer.

use actor_core::{Actor, Context, HandlerResult, Reply};
use jiff::Timestamp;
use jiff::fmt::strtime;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

use crate::RemoteMessage;

/// Seconds from 1900-01-01 00:00 UTC (the RFC 868 epoch) to 1970-01-01 00:00 UTC (the Unix
/// epoch), as RFC 868 documents them: 70 years including 17 leap days.
///
/// # Examples
///
/// ```
/// assert_eq!(actor_net::services::RFC868_OFFSET, 2_208_988_800);
/// ```
pub const RFC868_OFFSET: u64 = 2_208_988_800;

/// The layout of [`TimeOfDay::local`]: `2026-11-27 14:15:03 +01:00 CET`.
const LOCAL_FORMAT: &str = "%Y-%m-%d %H:%M:%S %:z %Z";
/// The layout of [`TimeOfDay::daytime`], as `ctime(3)` and most RFC 867 servers write it:
/// `Fri Nov 27 14:15:03 2026`.
const DAYTIME_FORMAT: &str = "%a %b %e %H:%M:%S %Y";

/// What the [`Time`] actor takes.
///
/// # Examples
///
/// See [`Time`].
#[derive(Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub enum TimeMsg {
    /// Asks for the current time.
    Now(Reply<TimeOfDay>),
}

/// Declared as `actor.time` (version 1), the identity under which a node exports the time
/// service (see `PROTOCOL.md`, "Services").
///
/// # Examples
///
/// ```
/// use actor_net::RemoteMessage;
/// use actor_net::services::TimeMsg;
///
/// assert_eq!((TimeMsg::NAME, TimeMsg::VERSION), ("actor.time", 1));
/// ```
impl RemoteMessage for TimeMsg {
    const NAME: &'static str = "actor.time";
}

/// A moment, as the [`Time`] actor tells it: since the Unix epoch, and as the local time of
/// the process that answered (its time zone, not the asker's).
///
/// # Examples
///
/// ```
/// use actor_net::services::TimeOfDay;
///
/// let now = TimeOfDay::now();
/// assert!(now.secs > 1_700_000_000);
/// assert!(now.nanos < 1_000_000_000);
/// assert_eq!(u64::from(now.rfc868()), (now.secs + 2_208_988_800) % (1 << 32));
/// println!("{} ({})", now.local, now.daytime);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TimeOfDay {
    /// Whole seconds since 1970-01-01 00:00:00 UTC (0 for a clock set before it).
    pub secs: u64,
    /// Nanoseconds past `secs`, below 1,000,000,000.
    pub nanos: u32,
    /// The local date, time, UTC offset and zone abbreviation, as in
    /// `2026-11-27 14:15:03 +01:00 CET`.
    pub local: String,
    /// The local time as one line of the daytime protocol (RFC 867), without its line
    /// ending: `Fri Nov 27 14:15:03 2026`.
    pub daytime: String,
}

impl TimeOfDay {
    /// The current time, in the time zone of this process: the `TZ` environment variable, or
    /// else the system's setting (UTC when neither can be read).
    ///
    /// # Examples
    ///
    /// See [`TimeOfDay`].
    #[must_use]
    pub fn now() -> TimeOfDay {
        TimeOfDay::at(Timestamp::now(), &TimeZone::system())
    }

    /// The time `timestamp`, told in `zone`.
    fn at(timestamp: Timestamp, zone: &TimeZone) -> TimeOfDay {
        // A clock set before 1970 is reported as the epoch: `secs` is unsigned, as RFC 868
        // time and most callers expect, and such a clock is wrong anyway.
        let timestamp = timestamp.max(Timestamp::UNIX_EPOCH);
        let zoned = timestamp.to_zoned_datetime(zone.clone());
        let format = |layout: &str| {
            // The layouts are fixed and every field they name exists for a zoned time, so
            // formatting cannot fail; the RFC 3339 form is a readable fallback regardless.
            strtime::format(layout, &zoned).unwrap_or_else(|_| timestamp.to_string())
        };
        TimeOfDay {
            secs: u64::try_from(timestamp.as_second()).unwrap_or(0),
            nanos: u32::try_from(timestamp.subsec_nanosecond()).unwrap_or(0),
            local: format(LOCAL_FORMAT),
            daytime: format(DAYTIME_FORMAT),
        }
    }

    /// This moment in the time protocol (RFC 868): seconds since 1900-01-01 00:00 UTC,
    /// modulo 2³², as that protocol's 32-bit field wraps (first in 2036).
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_net::services::TimeOfDay;
    ///
    /// let now = TimeOfDay::now();
    /// let bytes = now.rfc868().to_be_bytes(); // what a time server sends
    /// assert_eq!(bytes.len(), 4);
    /// ```
    #[must_use]
    pub fn rfc868(&self) -> u32 {
        // Truncation is the protocol's wrap-around.
        self.secs.wrapping_add(RFC868_OFFSET) as u32
    }
}

/// An actor that answers [`TimeMsg::Now`] with the current [`TimeOfDay`].
///
/// The daytime and time protocols of a [`ServiceSet`](super::ServiceSet) ask it for every
/// answer, and a node can export it (as [`TIME`](super::TIME)) for remote callers.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use actor_core::System;
/// use actor_net::services::{Time, TimeMsg};
///
/// let system = System::new();
/// let time = system.spawn(Time)?;
/// let now = time.ask(TimeMsg::Now, Duration::from_secs(5))?;
/// assert!(now.secs > 1_700_000_000);
/// system.shutdown();
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Time;

impl Actor for Time {
    type Msg = TimeMsg;

    fn handle(&mut self, msg: TimeMsg, _ctx: &mut Context<TimeMsg>) -> HandlerResult {
        match msg {
            TimeMsg::Now(reply) => reply.send(TimeOfDay::now()),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64, nanos: i32, zone: &TimeZone) -> TimeOfDay {
        TimeOfDay::at(Timestamp::new(secs, nanos).unwrap(), zone)
    }

    #[test]
    fn formats_in_the_given_zone() {
        // 2026-11-27 13:15:03 UTC, a Friday; Paris is one hour ahead in winter.
        let paris = TimeZone::posix("CET-1CEST,M3.5.0,M10.5.0/3").unwrap();
        let now = at(1_795_785_303, 250, &paris);
        assert_eq!(now.secs, 1_795_785_303);
        assert_eq!(now.nanos, 250);
        assert_eq!(now.local, "2026-11-27 14:15:03 +01:00 CET");
        assert_eq!(now.daytime, "Fri Nov 27 14:15:03 2026");
    }

    #[test]
    fn daytime_pads_single_digit_days_with_a_space() {
        let now = at(1_772_355_600, 0, &TimeZone::UTC); // 2026-03-01 09:00:00 UTC
        assert_eq!(now.daytime, "Sun Mar  1 09:00:00 2026");
        assert_eq!(now.local, "2026-03-01 09:00:00 +00:00 UTC");
    }

    #[test]
    fn follows_daylight_saving_time() {
        let paris = TimeZone::posix("CET-1CEST,M3.5.0,M10.5.0/3").unwrap();
        let summer = at(1_782_911_703, 0, &paris); // 2026-07-01 13:15:03 UTC
        assert_eq!(summer.local, "2026-07-01 15:15:03 +02:00 CEST");
    }

    #[test]
    fn rfc868_adds_the_documented_offset_and_wraps() {
        let epoch = at(0, 0, &TimeZone::UTC);
        assert_eq!(epoch.rfc868(), 2_208_988_800);
        assert_eq!(epoch.daytime, "Thu Jan  1 00:00:00 1970");
        // RFC 868's own example: 2,398,291,200 is 1976-01-01 00:00 UTC.
        assert_eq!(at(189_302_400, 0, &TimeZone::UTC).rfc868(), 2_398_291_200);
        // The 32-bit field wraps on 2036-02-07 06:28:16 UTC.
        let wrap = (1_u64 << 32) - RFC868_OFFSET;
        let wrapped = at(i64::try_from(wrap).unwrap(), 0, &TimeZone::UTC);
        assert_eq!(wrapped.rfc868(), 0);
        assert_eq!(wrapped.local, "2036-02-07 06:28:16 +00:00 UTC");
    }

    #[test]
    fn a_clock_before_1970_reads_as_the_epoch() {
        let early = at(-5, 0, &TimeZone::UTC);
        assert_eq!((early.secs, early.nanos), (0, 0));
    }
}
