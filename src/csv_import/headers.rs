//! Column names in English, Dutch and Indonesian, and the sample files.

use super::FileError;
use crate::domain::Action;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    Email,
    TransferTo,
    Meetings,
    Webinars,
    Events,
    Recordings,
    /// Optional: the row is scheduled for this date instead of applied now (B7).
    EffectiveDate,
}

/// The portal's one language type: the sample follows the admin's language.
pub use crate::i18n::Lang;

/// The sample's columns; the effective date is optional and not in it.
const SAMPLE: [Column; 6] = [
    Column::Email,
    Column::TransferTo,
    Column::Meetings,
    Column::Webinars,
    Column::Events,
    Column::Recordings,
];

/// The header each language's sample writes; the reader accepts all of them.
fn name(col: Column, lang: Lang) -> &'static str {
    use Column::*;
    match (col, lang) {
        (Email, Lang::En) => "Email",
        (Email, Lang::Nl) => "E-mailadres",
        (Email, Lang::Id) => "Email",
        (TransferTo, Lang::En) => "Transfer data to email",
        (TransferTo, Lang::Nl) => "Gegevens overdragen naar e-mailadres",
        (TransferTo, Lang::Id) => "Transfer data ke email",
        (Meetings, Lang::En) => "Transfer meetings",
        (Meetings, Lang::Nl) => "Vergaderingen overdragen",
        (Meetings, Lang::Id) => "Transfer rapat",
        (Webinars, Lang::En) => "Transfer webinars",
        (Webinars, Lang::Nl) => "Webinars overdragen",
        (Webinars, Lang::Id) => "Transfer webinar",
        (Events, Lang::En) => "Transfer events",
        (Events, Lang::Nl) => "Evenementen overdragen",
        (Events, Lang::Id) => "Transfer acara",
        (Recordings, Lang::En) => "Transfer recordings",
        (Recordings, Lang::Nl) => "Opnamen overdragen",
        (Recordings, Lang::Id) => "Transfer rekaman",
        (EffectiveDate, Lang::En) => "Effective date",
        (EffectiveDate, Lang::Nl) => "Ingangsdatum",
        (EffectiveDate, Lang::Id) => "Tanggal efektif",
    }
}

/// Lowercase, with runs of spaces, hyphens and underscores made one space.
fn normalise(h: &str) -> String {
    h.trim()
        .to_lowercase()
        .split(|c: char| c.is_whitespace() || c == '-' || c == '_')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn recognise(header: &str) -> Option<Column> {
    let h = normalise(header);
    let extra: &[(&str, Column)] = &[
        ("email address", Column::Email),
        ("e mail", Column::Email),
        ("alamat email", Column::Email),
        ("transfer data to", Column::TransferTo),
        ("effective on", Column::EffectiveDate),
        ("date", Column::EffectiveDate),
        ("datum", Column::EffectiveDate),
        ("tanggal", Column::EffectiveDate),
        ("tanggal berlaku", Column::EffectiveDate),
    ];
    SAMPLE
        .iter()
        .chain([Column::EffectiveDate].iter())
        .copied()
        .find(|c| {
            [Lang::En, Lang::Nl, Lang::Id]
                .iter()
                .any(|l| normalise(name(*c, *l)) == h)
        })
        .or_else(|| extra.iter().find(|(n, _)| *n == h).map(|(_, c)| *c))
}

/// Which column each header is; empty headers (Excel's trailing columns)
/// are `None`. Refuses unknown, repeated and missing columns.
pub fn map_columns(headers: &[String], action: Action) -> Result<Vec<Option<Column>>, FileError> {
    let mut out = Vec::with_capacity(headers.len());
    for h in headers {
        if h.trim().is_empty() {
            out.push(None);
            continue;
        }
        let col = recognise(h).ok_or_else(|| FileError::UnknownColumn(h.clone()))?;
        if out.contains(&Some(col)) {
            return Err(FileError::DuplicateColumn(h.clone()));
        }
        if action == Action::Deactivate && !matches!(col, Column::Email | Column::EffectiveDate) {
            return Err(FileError::NotForDeactivate(h.clone()));
        }
        out.push(Some(col));
    }
    if !out.contains(&Some(Column::Email)) {
        return Err(FileError::MissingColumn(format!(
            "\"{}\"",
            name(Column::Email, Lang::En)
        )));
    }
    Ok(out)
}

/// The sample for an action (R61, R62), in the admin's language, written
/// as every CSV of the portal is (`write`).
pub fn sample(action: Action, lang: Lang) -> String {
    let cols: &[Column] = if action == Action::Deactivate {
        &[Column::Email]
    } else {
        &SAMPLE
    };
    let (yes, no) = match lang {
        Lang::En => ("Yes", "No"),
        Lang::Nl => ("Ja", "Nee"),
        Lang::Id => ("Ya", "Tidak"),
    };
    let header: Vec<&str> = cols.iter().map(|c| name(*c, lang)).collect();
    let example: &[&str] = if action == Action::Deactivate {
        &["user@example.com"]
    } else {
        &["user@example.com", "colleague@example.com", yes, no, no, yes]
    };
    let style = super::CsvStyle::of(lang.code());
    format!("{}{}{}", super::BOM, style.line(&header), style.line(example))
}
