//! What can be wrong with a submission: not JSON at all, or JSON that is not a
//! valid Claim or Bundle (the whole body), or one entry of a batch Bundle.

pub use claimtrail_events::FieldError;

/// Why a body was refused as a whole. Nothing of it may be stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FhirError {
    /// The body is not JSON (or not UTF-8): answer 400.
    #[error("the body is not JSON: {reason}")]
    Malformed { reason: String },
    /// The body is JSON but not a valid FHIR R4 Claim or claims Bundle: answer 422 with `errors`.
    #[error("the body is not a valid FHIR R4 Claim or Bundle of Claims: {}", summary(errors))]
    Invalid { errors: Vec<FieldError> },
}

/// A Claim entry of a batch Bundle that cannot be mapped; the other entries still count.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Bundle.entry[{entry_index}] is not a valid Claim: {}", summary(errors))]
pub struct EntryError {
    /// 0-based index of the entry in `Bundle.entry`.
    pub entry_index: usize,
    pub errors: Vec<FieldError>,
}

fn summary(errors: &[FieldError]) -> String {
    match errors {
        [] => "no detail".to_owned(),
        [only] => only.to_string(),
        [first, rest @ ..] => format!("{first} (and {} more)", rest.len()),
    }
}

/// Collects field errors up to [`crate::FIELD_ERRORS_MAX`], so that a hostile
/// body cannot make the answer larger than the body.
#[derive(Debug, Default)]
pub(crate) struct Errors {
    list: Vec<FieldError>,
}

impl Errors {
    pub(crate) fn push(&mut self, path: impl Into<String>, message: impl Into<String>) {
        if self.list.len() < crate::FIELD_ERRORS_MAX {
            self.list.push(FieldError::new(path, message));
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.list.len()
    }

    pub(crate) fn extend(&mut self, errors: Vec<FieldError>) {
        for error in errors {
            if self.list.len() >= crate::FIELD_ERRORS_MAX {
                break;
            }
            self.list.push(error);
        }
    }

    pub(crate) fn into_vec(self) -> Vec<FieldError> {
        self.list
    }
}
