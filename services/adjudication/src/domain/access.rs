//! Claim reads through adjudication's API (the explanation, the pended
//! queue, a replay) go to intake's HIPAA access log as `claims.accessed.v1`,
//! so that every read of a claim is recorded where auditors look, whichever
//! service answered it. Pure: [`claims_read`] makes the event from who read
//! what; the API appends it to the outbox.

use claimtrail_events::ClaimsAccessed;
use uuid::Uuid;

/// The views a read through adjudication is recorded under.
pub const EXPLANATION_VIEW: &str = "adjudication:explanation";
pub const PENDED_QUEUE_VIEW: &str = "adjudication:pended-queue";
pub const REPLAY_VIEW: &str = "adjudication:replay";

/// Who read, as the access log records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reader<'a> {
    pub tenant: &'a str,
    pub key_id: &'a str,
}

/// The access-log event of `reader` reading `claim_ids` of `payer_id` through
/// `view`: each claim once, in order; none for an answer that showed no claim.
pub fn claims_read(read_id: Uuid, payer_id: &str, reader: &Reader<'_>, view: &str, claim_ids: impl IntoIterator<Item = Uuid>) -> Option<ClaimsAccessed> {
    let mut claim_ids: Vec<Uuid> = claim_ids.into_iter().collect();
    claim_ids.sort_unstable();
    claim_ids.dedup();
    (!claim_ids.is_empty()).then(|| ClaimsAccessed {
        read_id,
        payer_id: payer_id.to_owned(),
        claim_ids,
        reader_tenant: reader.tenant.to_owned(),
        reader_key_id: reader.key_id.to_owned(),
        view: view.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const READER: Reader<'static> = Reader { tenant: "acme-ops", key_id: "k-42" };

    #[test]
    fn a_read_names_the_reader_the_view_and_each_claim_once() {
        let (a, b) = (Uuid::from_u128(2), Uuid::from_u128(1));
        let event = claims_read(Uuid::from_u128(9), "60054", &READER, PENDED_QUEUE_VIEW, [a, b, a]).unwrap();
        assert_eq!(event.claim_ids, [b, a]);
        assert_eq!(
            (event.read_id, event.payer_id.as_str(), event.reader_tenant.as_str(), event.reader_key_id.as_str(), event.view.as_str()),
            (Uuid::from_u128(9), "60054", "acme-ops", "k-42", "adjudication:pended-queue")
        );
    }

    #[test]
    fn an_answer_that_shows_no_claim_records_nothing() {
        assert_eq!(claims_read(Uuid::nil(), "60054", &READER, PENDED_QUEUE_VIEW, []), None);
    }
}
