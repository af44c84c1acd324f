//! A partition's consumer receives its partition's events in publish order,
//! whatever batches it fetches them in, and every event is in exactly one
//! partition (JetStream at `CLAIMTRAIL_TEST_NATS_URL`, default 127.0.0.1:4222).

use std::time::{Duration, Instant};

use bytes::Bytes;
use claimtrail_bus::jetstream::{JetStreamBus, delete_streams};
use claimtrail_bus::{Bus, ConsumerSpec, Naming, OutgoingEvent};
use claimtrail_events::{Family, partition_token};

const FAMILIES: usize = 12;
const EVENTS: usize = 120;

fn spec(service: &str, partition: Option<u32>) -> ConsumerSpec {
    ConsumerSpec {
        service: service.to_owned(),
        family: Family::Claims,
        event_types: vec!["claim.submitted.v1".to_owned()],
        ack_wait: Duration::from_secs(30),
        ack_pending_max: 1_000,
        partition,
    }
}

/// Reads `expected` messages through a new durable, fetching at most `batch`
/// at a time and acknowledging each batch before the next, as the consumer
/// loop does; returns the bodies in the order they came.
async fn read(bus: &JetStreamBus, spec: &ConsumerSpec, batch: usize, expected: usize) -> Result<Vec<String>, Box<dyn std::error::Error>> {
    let mut subscription = bus.subscribe(spec).await?;
    let mut bodies = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while bodies.len() < expected && Instant::now() < deadline {
        let deliveries = subscription.fetch(batch, Duration::from_millis(500)).await?;
        assert!(deliveries.len() <= batch);
        for delivery in deliveries {
            bodies.push(String::from_utf8(delivery.payload.to_vec())?);
            delivery.acker.ack().await?;
        }
    }
    // Nothing more than the partition's share comes.
    let extra = subscription.fetch(10, Duration::from_millis(300)).await?;
    assert!(extra.is_empty(), "{} messages beyond the partition's share", extra.len());
    Ok(bodies)
}

#[tokio::test(flavor = "multi_thread")]
async fn each_partition_delivers_its_families_events_in_publish_order_whatever_the_batch_split() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("CLAIMTRAIL_TEST_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".to_owned());
    let prefix = format!("pt{}", &uuid::Uuid::now_v7().simple().to_string()[20..]);
    let naming = Naming::new(&prefix).with_partitions(4);
    let bus = JetStreamBus::connect(&url, naming.clone(), 1, Duration::ZERO).await?;

    // Events of twelve families, interleaved, published in batches of seven.
    let tokens: Vec<String> = (0..FAMILIES).map(|n| partition_token("60054", &format!("SUB-{n}"))).collect();
    let events: Vec<OutgoingEvent> = (0..EVENTS)
        .map(|i| OutgoingEvent {
            event_id: uuid::Uuid::now_v7(),
            event_type: "claim.submitted.v1".to_owned(),
            bytes: Bytes::from(i.to_string()),
            traceparent: None,
            batch: None,
            partition: Some(tokens[(i * 7 + i / FAMILIES) % FAMILIES].clone()),
        })
        .collect();
    for chunk in events.chunks(7) {
        bus.publish(chunk).await?;
    }

    let mut seen = 0;
    for partition in 0..naming.partitions() {
        let expected: Vec<String> =
            events.iter().enumerate().filter(|(_, event)| naming.partition_of(event.partition.as_deref()) == partition).map(|(i, _)| i.to_string()).collect();
        let one_by_one = read(&bus, &spec("one", Some(partition)), 1, expected.len()).await?;
        let by_five = read(&bus, &spec("five", Some(partition)), 5, expected.len()).await?;
        let by_all = read(&bus, &spec("all", Some(partition)), 500, expected.len()).await?;
        assert_eq!(one_by_one, expected, "partition {partition} one at a time");
        assert_eq!(by_five, expected, "partition {partition} five at a time");
        assert_eq!(by_all, expected, "partition {partition} in one batch");
        seen += expected.len();
    }
    assert_eq!(seen, EVENTS, "every event is in exactly one partition");
    let whole: Vec<String> = (0..EVENTS).map(|i| i.to_string()).collect();
    assert_eq!(read(&bus, &spec("whole", None), 64, EVENTS).await?, whole, "a consumer of the whole family reads every partition in publish order");

    delete_streams(&url, &naming).await?;
    Ok(())
}
