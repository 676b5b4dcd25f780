//! The one table of `events` columns. The INSERT and its binds
//! (`store::events`), the DuckDB copy's schema (`mirror`) and the Parquet
//! SELECT (`export`) are all derived from `COLUMNS`; a test checks it
//! against the table the migrations in `schema/` create, so a column added
//! on one side and not the other fails the build's tests.

/// The text columns an event fills besides `log_id`, `date` and `raw`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Date,
    Type,
    Description,
    Connection,
    ConnectionId,
    ClientId,
    ClientName,
    Ip,
    ClientIp,
    UserAgent,
    Hostname,
    UserId,
    UserName,
    Audience,
    Scope,
    Strategy,
    StrategyType,
    TenantName,
    EnvironmentName,
    CountryCode,
    CountryCode3,
    CountryName,
    CityName,
    SubdivisionCode,
    SubdivisionName,
    TimeZone,
    ContinentCode,
    Details,
}

pub(super) const FIELD_COUNT: usize = Field::Details as usize + 1;

impl Field {
    /// The column this field is stored in. Also the name of the JSON key it
    /// comes from (inside `location_info` for the location fields): a test
    /// normalizes an event whose every field holds its own name.
    pub const fn column(self) -> &'static str {
        match self {
            Field::Date => "date",
            Field::Type => "type",
            Field::Description => "description",
            Field::Connection => "connection",
            Field::ConnectionId => "connection_id",
            Field::ClientId => "client_id",
            Field::ClientName => "client_name",
            Field::Ip => "ip",
            Field::ClientIp => "client_ip",
            Field::UserAgent => "user_agent",
            Field::Hostname => "hostname",
            Field::UserId => "user_id",
            Field::UserName => "user_name",
            Field::Audience => "audience",
            Field::Scope => "scope",
            Field::Strategy => "strategy",
            Field::StrategyType => "strategy_type",
            Field::TenantName => "tenant_name",
            Field::EnvironmentName => "environment_name",
            Field::CountryCode => "country_code",
            Field::CountryCode3 => "country_code3",
            Field::CountryName => "country_name",
            Field::CityName => "city_name",
            Field::SubdivisionCode => "subdivision_code",
            Field::SubdivisionName => "subdivision_name",
            Field::TimeZone => "time_zone",
            Field::ContinentCode => "continent_code",
            Field::Details => "details",
        }
    }
}

/// A column's value type, as SQLite declares it and DuckDB stores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    Int,
    Real,
    /// 0/1 in SQLite, BOOLEAN in DuckDB and Parquet.
    Bool,
}

/// Where a column's value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    LogId,
    /// Added by the store: which tenant the event was archived from.
    Tenant,
    Text(Field),
    Ts,
    IsMobile,
    Latitude,
    Longitude,
    Raw,
    /// Added by the store: the integrity-chain link that sealed the row.
    /// Archive bookkeeping, so not in the DuckDB copy or the export.
    ChainSeq,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    pub name: &'static str,
    pub kind: Kind,
    pub source: Source,
    /// Never NULL.
    pub required: bool,
}

impl Column {
    /// Whether the column belongs to the event (copied to DuckDB and
    /// exported) rather than to the archive's bookkeeping.
    pub fn is_event_data(&self) -> bool {
        self.source != Source::ChainSeq
    }
}

const fn text(field: Field) -> Column {
    Column {
        name: field.column(),
        kind: Kind::Text,
        source: Source::Text(field),
        required: false,
    }
}

const fn other(name: &'static str, kind: Kind, source: Source) -> Column {
    Column {
        name,
        kind,
        source,
        required: false,
    }
}

const fn required(name: &'static str, kind: Kind, source: Source) -> Column {
    Column {
        name,
        kind,
        source,
        required: true,
    }
}

/// The `events` columns in table order.
pub const COLUMNS: &[Column] = &[
    required("log_id", Kind::Text, Source::LogId),
    required("tenant", Kind::Text, Source::Tenant),
    text(Field::Date),
    other("ts", Kind::Int, Source::Ts),
    text(Field::Type),
    text(Field::Description),
    text(Field::Connection),
    text(Field::ConnectionId),
    text(Field::ClientId),
    text(Field::ClientName),
    text(Field::Ip),
    text(Field::ClientIp),
    text(Field::UserAgent),
    text(Field::Hostname),
    text(Field::UserId),
    text(Field::UserName),
    text(Field::Audience),
    text(Field::Scope),
    text(Field::Strategy),
    text(Field::StrategyType),
    other("is_mobile", Kind::Bool, Source::IsMobile),
    text(Field::TenantName),
    text(Field::EnvironmentName),
    text(Field::CountryCode),
    text(Field::CountryCode3),
    text(Field::CountryName),
    text(Field::CityName),
    text(Field::SubdivisionCode),
    text(Field::SubdivisionName),
    other("latitude", Kind::Real, Source::Latitude),
    other("longitude", Kind::Real, Source::Longitude),
    text(Field::TimeZone),
    text(Field::ContinentCode),
    text(Field::Details),
    required("raw", Kind::Text, Source::Raw),
    other("chain_seq", Kind::Int, Source::ChainSeq),
];

/// The columns of the event itself (see `Column::is_event_data`).
pub fn event_columns() -> impl Iterator<Item = &'static Column> {
    COLUMNS.iter().filter(|c| c.is_event_data())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_text_field_has_exactly_one_column() {
        for i in 0..FIELD_COUNT {
            let n = COLUMNS
                .iter()
                .filter(|c| matches!(c.source, Source::Text(f) if f as usize == i))
                .count();
            assert_eq!(n, 1, "field #{i}");
        }
        let mut names: Vec<&str> = COLUMNS.iter().map(|c| c.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), COLUMNS.len(), "a column name is repeated");
    }
}
