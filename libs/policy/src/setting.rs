//! Which provider setting a CMS edit table is for.

use std::fmt;

/// CMS publishes NCCI PTP tables for practitioners and outpatient hospitals,
/// and MUE tables for those two and DME suppliers; the header (or the title
/// lines above it) says which a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Setting {
    Practitioner,
    OutpatientHospital,
    DmeSupplier,
}

impl Setting {
    pub fn as_str(self) -> &'static str {
        match self {
            Setting::Practitioner => "practitioner",
            Setting::OutpatientHospital => "outpatient hospital",
            Setting::DmeSupplier => "DME supplier",
        }
    }
}

impl fmt::Display for Setting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
