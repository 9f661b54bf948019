//! The event bus on its own: strict per-organization order, gap repair from the database, no
//! duplicates.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use ::actors::bus::{Deliver, EventBus, Publish, Subscribe};
use ::actors::store::events::{NewEvent, number_and_insert};
use ::actors::{Db, Event, events::EventName};
use actix::prelude::*;

struct Collector(Arc<Mutex<Vec<i64>>>);

impl Actor for Collector {
    type Context = Context<Self>;
}

impl Handler<Deliver> for Collector {
    type Result = ();
    fn handle(&mut self, Deliver(ev): Deliver, _: &mut Context<Self>) {
        self.0.lock().unwrap().push(ev.org_seq);
    }
}

async fn db_with_events(n: usize) -> (Db, Vec<Event>) {
    let db = common::db_with_org().await;
    let txn = db.begin_write().await.unwrap();
    let items = (0..n)
        .map(|i| NewEvent {
            conversation: None,
            name: EventName::ConversationUpdated,
            payload: format!("{{\"i\":{i}}}"),
        })
        .collect();
    let mut events = Vec::new();
    number_and_insert(&*txn, "org", items, &mut events).await.unwrap();
    txn.commit().await.unwrap();
    (db, events)
}

#[actix::test]
async fn the_bus_delivers_in_order_and_reads_a_lost_event_back_from_the_database() {
    let (db, mut events) = db_with_events(4).await;
    assert_eq!(events.iter().map(|e| e.org_seq).collect::<Vec<_>>(), vec![1, 2, 3, 4]);
    let bus = EventBus::new(db, Duration::from_millis(50)).start();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let collector = Collector(seen.clone()).start();
    bus.send(Subscribe { org_id: "org".into(), session_id: 1, recipient: collector.recipient() }).await.unwrap();

    let e4 = Arc::new(events.pop().unwrap());
    let _lost = events.pop().unwrap(); // event 3 is never published: a dropped publish
    let e2 = Arc::new(events.pop().unwrap());
    let e1 = Arc::new(events.pop().unwrap());
    // Out of order, one missing, one twice.
    bus.do_send(Publish(vec![e1.clone()]));
    bus.do_send(Publish(vec![e4.clone()]));
    bus.do_send(Publish(vec![e2.clone()]));
    bus.do_send(Publish(vec![e1]));

    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(*seen.lock().unwrap(), vec![1, 2], "4 waits for 3");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(*seen.lock().unwrap(), vec![1, 2, 3, 4], "3 was read back from the database, then 4 followed");
    bus.do_send(Publish(vec![e4]));
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(seen.lock().unwrap().len(), 4, "late duplicates are dropped");
}

#[test]
fn event_ids_are_time_ordered() {
    let a = ::actors::new_id();
    let b = ::actors::new_id();
    assert!(a < b);
}
