//! The FHIR R4 bodies of the claims API in the OpenAPI document. Each is a
//! component that refers to its definition in HL7's JSON Schema of FHIR R4
//! ([`FHIR_R4_JSON_SCHEMA`]) rather than copying it (the definitions of
//! Claim, Bundle, ClaimResponse and ExplanationOfBenefit reach most of the
//! schema's thousand definitions). Handlers name these types in their
//! `#[utoipa::path]` bodies, which puts the components in the document.

use std::borrow::Cow;

use utoipa::openapi::schema::{OneOfBuilder, Schema};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{PartialSchema, ToSchema};

/// HL7's JSON Schema of FHIR R4 (v4.0.1), whose `definitions` name every resource.
pub const FHIR_R4_JSON_SCHEMA: &str = "https://hl7.org/fhir/R4/fhir.schema.json";

/// A reference to the definition of `resource` in [`FHIR_R4_JSON_SCHEMA`].
fn hl7_definition(resource: &str) -> RefOr<Schema> {
    let description = format!("A FHIR R4 {resource}, as HL7's FHIR R4 JSON Schema defines it");
    RefOr::Ref(Ref::builder().ref_location(format!("{FHIR_R4_JSON_SCHEMA}#/definitions/{resource}")).description(Some(description)).build())
}

macro_rules! fhir_resource {
    ($(#[$doc:meta])* $name:ident, $resource:literal) => {
        $(#[$doc])*
        pub struct $name;

        impl PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                hl7_definition($resource)
            }
        }

        impl ToSchema for $name {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed(stringify!($name))
            }
        }
    };
}

fhir_resource!(
    /// A FHIR R4 Claim.
    FhirClaim,
    "Claim"
);
fhir_resource!(
    /// A FHIR R4 Bundle.
    FhirBundle,
    "Bundle"
);
fhir_resource!(
    /// A FHIR R4 ClaimResponse.
    FhirClaimResponse,
    "ClaimResponse"
);
fhir_resource!(
    /// A FHIR R4 ExplanationOfBenefit.
    FhirExplanationOfBenefit,
    "ExplanationOfBenefit"
);
fhir_resource!(
    /// A FHIR R4 PaymentReconciliation.
    FhirPaymentReconciliation,
    "PaymentReconciliation"
);

/// What `POST /v1/claims` takes: a FHIR R4 Claim, or a Bundle of Claims.
pub struct FhirClaimSubmission;

impl PartialSchema for FhirClaimSubmission {
    fn schema() -> RefOr<Schema> {
        let one_of = OneOfBuilder::new()
            .item(Ref::from_schema_name(FhirClaim::name()))
            .item(Ref::from_schema_name(FhirBundle::name()))
            .description(Some("A FHIR R4 Claim, or a Bundle (batch, transaction or collection) of Claims with their supporting resources"));
        RefOr::T(Schema::OneOf(one_of.build()))
    }
}

impl ToSchema for FhirClaimSubmission {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("FhirClaimSubmission")
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((FhirClaim::name().into_owned(), FhirClaim::schema()));
        schemas.push((FhirBundle::name().into_owned(), FhirBundle::schema()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_resource_refers_to_its_hl7_definition_and_a_submission_is_a_claim_or_a_bundle() {
        let claim = serde_json::to_value(FhirClaim::schema()).unwrap();
        assert_eq!(claim["$ref"], "https://hl7.org/fhir/R4/fhir.schema.json#/definitions/Claim");
        let submission = serde_json::to_value(FhirClaimSubmission::schema()).unwrap();
        assert_eq!(submission["oneOf"][1]["$ref"], "#/components/schemas/FhirBundle");
        let mut collected = Vec::new();
        FhirClaimSubmission::schemas(&mut collected);
        assert_eq!(collected.iter().map(|(name, _)| name.as_str()).collect::<Vec<_>>(), ["FhirClaim", "FhirBundle"]);
    }
}
