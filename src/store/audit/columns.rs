//! The column check of the later part of the chain, on a second thread and
//! connection: re-deriving every row's columns from `raw` is most of what
//! `verify` costs, so it is shared between both cores. The walk checks the
//! seals of every link and the columns of the links up to the split; this
//! checks the columns of the links after it.

use std::path::Path;

use super::row::{altered_column, altered_message, unreadable_message};
use crate::error::Result;
use crate::event::{COLUMNS, Source};
use crate::store::{self, raw::RawCodec};

/// The first row of a link in `(after, upto]` whose stored columns differ
/// from what its `raw` gives, in chain order: the link and the problem, in
/// the walk's words.
pub(super) fn first_altered(db: &Path, after: i64, upto: i64) -> Result<Option<(i64, String)>> {
    let conn = store::open_read_only(db)?;
    let codec = RawCodec::load(&conn)?;
    let names: Vec<&str> = COLUMNS.iter().map(|c| c.name).collect();
    let mut stmt = conn.prepare(&format!(
        "SELECT chain_seq, {} FROM events WHERE chain_seq > ?1 AND chain_seq <= ?2 ORDER BY chain_seq",
        names.join(", ")
    ))?;
    let at = |source: Source| 1 + COLUMNS.iter().position(|c| c.source == source).unwrap_or(0);
    let (id_at, raw_at) = (at(Source::LogId), at(Source::Raw));
    let mut rows = stmt.query([after, upto])?;
    while let Some(r) = rows.next()? {
        let seq: i64 = r.get(0)?;
        let id: String = r.get(id_at)?;
        let problem = match codec.text(r.get_ref(raw_at)?) {
            Err(why) => Some(unreadable_message(&id, seq, &why.to_string())),
            Ok(raw) => altered_column(r, &id, &raw)?.map(|c| altered_message(&id, seq, c)),
        };
        if let Some(p) = problem {
            return Ok(Some((seq, p)));
        }
    }
    Ok(None)
}
