//! One archived row against its `raw`: the typed columns are a function of
//! the event as received, so the normalizer derives them again and each
//! stored cell must be what it gives.

use rusqlite::types::ValueRef;
use serde_json::value::RawValue;

use crate::error::Result;
use crate::event::{COLUMNS, EventRow, Source, normalize_with_fallback_id};

/// The first column of an `events` row (read as `chain_seq, COLUMNS...`,
/// with its `log_id` and `raw` already taken out) that differs from what the
/// normalizer derives from `raw`. `None` when the row is as archived. The
/// tenant is not derivable from `raw`: the walk compares it with the link's.
pub(super) fn altered_column(
    row: &rusqlite::Row<'_>,
    id: &str,
    raw: &str,
) -> Result<Option<&'static str>> {
    let Ok(value) = serde_json::from_str::<&RawValue>(raw) else {
        return Ok(Some("raw"));
    };
    let Ok(derived) = normalize_with_fallback_id(value, Some(id)) else {
        return Ok(Some("raw"));
    };
    for (i, column) in COLUMNS.iter().enumerate() {
        let stored = row.get_ref(i + 1)?;
        if !matches(stored, column.source, &derived) {
            return Ok(Some(column.name));
        }
    }
    Ok(None)
}

/// Whether a stored cell is what `derived` gives for `source`.
fn matches(stored: ValueRef<'_>, source: Source, derived: &EventRow) -> bool {
    let text = |want: Option<&str>| match (stored, want) {
        (ValueRef::Null, None) => true,
        (ValueRef::Text(t), Some(w)) => t == w.as_bytes(),
        _ => false,
    };
    match source {
        Source::LogId => text(Some(derived.log_id())),
        Source::Text(field) => text(derived.get(field)),
        Source::Ts => match (stored, derived.ts) {
            (ValueRef::Null, None) => true,
            (ValueRef::Integer(v), Some(w)) => v == w,
            _ => false,
        },
        Source::IsMobile => match (stored, derived.is_mobile) {
            (ValueRef::Null, None) => true,
            (ValueRef::Integer(v), Some(w)) => v == i64::from(w),
            _ => false,
        },
        Source::Latitude | Source::Longitude => {
            let want = if source == Source::Latitude {
                derived.latitude
            } else {
                derived.longitude
            };
            match (stored, want) {
                (ValueRef::Null, None) => true,
                (ValueRef::Real(v), Some(w)) => v.to_bits() == w.to_bits(),
                (ValueRef::Integer(v), Some(w)) => v as f64 == w,
                _ => false,
            }
        }
        // `raw` is what the seal covers, the tenant is the link's, and
        // `chain_seq` is the walk itself.
        Source::Tenant | Source::Raw | Source::ChainSeq => true,
    }
}

/// How `verify` names a row whose stored `raw` no longer decodes.
pub(super) fn unreadable_message(id: &str, seq: i64, why: &str) -> String {
    format!("event {id} (chain link {seq}): its stored raw cannot be read back ({why}): altered")
}

/// How `verify` names a row whose `column` differs from its `raw`.
pub(super) fn altered_message(id: &str, seq: i64, column: &str) -> String {
    format!(
        "event {id} (chain link {seq}): column {column} does not match the event as archived: altered"
    )
}
