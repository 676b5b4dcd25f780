//! One archived row against its `raw`: the typed columns are a function of
//! the event as received, so the normalizer derives them again and each
//! stored cell must be what it gives.

use rusqlite::types::ValueRef;
use serde_json::value::RawValue;

use crate::error::Result;
use crate::event::{COLUMNS, EventRow, Source, normalize_with_fallback_id};

/// The first column of an `events` row (read as `chain_seq, COLUMNS...`)
/// that differs from what the normalizer derives from its `raw`; `tenant`
/// must be the sealing link's. `None` when the row is as archived.
pub(super) fn altered_column(
    row: &rusqlite::Row<'_>,
    tenant: &str,
) -> Result<Option<&'static str>> {
    let at = |source: Source| 1 + COLUMNS.iter().position(|c| c.source == source).unwrap_or(0);
    let raw = match row.get_ref(at(Source::Raw))? {
        ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
        _ => return Ok(Some("raw")),
    };
    let id = match row.get_ref(at(Source::LogId))? {
        ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
        _ => return Ok(Some("log_id")),
    };
    let Ok(value) = serde_json::from_str::<&RawValue>(&raw) else {
        return Ok(Some("raw"));
    };
    let Ok(derived) = normalize_with_fallback_id(value, Some(&id)) else {
        return Ok(Some("raw"));
    };
    for (i, column) in COLUMNS.iter().enumerate() {
        let stored = row.get_ref(i + 1)?;
        if !matches(stored, column.source, &derived, tenant) {
            return Ok(Some(column.name));
        }
    }
    Ok(None)
}

/// Whether a stored cell is what `derived` gives for `source`.
fn matches(stored: ValueRef<'_>, source: Source, derived: &EventRow, tenant: &str) -> bool {
    let text = |want: Option<&str>| match (stored, want) {
        (ValueRef::Null, None) => true,
        (ValueRef::Text(t), Some(w)) => t == w.as_bytes(),
        _ => false,
    };
    match source {
        Source::LogId => text(Some(derived.log_id())),
        Source::Tenant => tenant.is_empty() || text(Some(tenant)),
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
        // `raw` is what the seal covers; `chain_seq` is the walk itself.
        Source::Raw | Source::ChainSeq => true,
    }
}
