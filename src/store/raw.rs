//! How `events.raw` is kept on disk and read back as the exact bytes Auth0
//! sent. Every reader of `raw` from SQLite goes through [`RawCodec`], so the
//! storage of `raw` can change without its readers noticing.

use std::borrow::Cow;

use rusqlite::Connection;
use rusqlite::types::ValueRef;

use crate::error::{Error, Result};

/// Reads `raw` values of one archive.
#[derive(Debug, Default)]
pub struct RawCodec {}

impl RawCodec {
    /// The codec for the archive behind `conn`.
    pub fn load(_conn: &Connection) -> Result<Self> {
        Ok(RawCodec {})
    }

    /// The event's JSON text, byte for byte as received.
    pub fn text<'a>(&self, value: ValueRef<'a>) -> Result<Cow<'a, str>> {
        match value {
            ValueRef::Text(t) => std::str::from_utf8(t)
                .map(Cow::Borrowed)
                .map_err(|_| Error::database("an archived raw event is not UTF-8")),
            other => Err(Error::database(format!(
                "an archived raw event has an unexpected type {:?}",
                other.data_type()
            ))),
        }
    }
}
