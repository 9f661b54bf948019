//! Maps ids to live actor addresses and spawns actors on demand, spread over a few arbiter
//! threads so actor work does not run on the HTTP workers.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use actix::prelude::*;

use crate::conversation::ConversationActor;
use crate::inbox::InboxActor;
use crate::runtime::Runtime;

pub(crate) struct Registry {
    conversations: Mutex<HashMap<String, Addr<ConversationActor>>>,
    inboxes: Mutex<HashMap<String, Addr<InboxActor>>>,
    /// Threads the actors run on; a new actor goes to the next one in turn.
    arbiters: Vec<Arbiter>,
    /// The bus's thread, kept so shutdown can stop it.
    bus_arbiter: Arbiter,
    next: AtomicUsize,
}

impl Registry {
    pub(crate) fn new(threads: usize, bus_arbiter: Arbiter) -> Registry {
        Registry {
            conversations: Mutex::new(HashMap::new()),
            inboxes: Mutex::new(HashMap::new()),
            arbiters: (0..threads).map(|_| Arbiter::new()).collect(),
            bus_arbiter,
            next: AtomicUsize::new(0),
        }
    }

    fn arbiter(&self) -> ArbiterHandle {
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.arbiters.len().max(1);
        match self.arbiters.get(i) {
            Some(a) => a.handle(),
            None => Arbiter::current(),
        }
    }

    pub(crate) fn conversation(&self, rt: &Runtime, org_id: &str, id: &str) -> Addr<ConversationActor> {
        let mut map = self.conversations.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(addr) = map.get(id).filter(|a| a.connected()) {
            return addr.clone();
        }
        let (rt2, org, cid) = (rt.clone(), org_id.to_owned(), id.to_owned());
        let addr = ConversationActor::start_in_arbiter(&self.arbiter(), move |_| ConversationActor::new(rt2, org, cid));
        map.insert(id.to_owned(), addr.clone());
        addr
    }

    pub(crate) fn inbox(&self, rt: &Runtime, org_id: &str, id: &str) -> Addr<InboxActor> {
        let mut map = self.inboxes.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(addr) = map.get(id).filter(|a| a.connected()) {
            return addr.clone();
        }
        let (rt2, org, iid) = (rt.clone(), org_id.to_owned(), id.to_owned());
        let addr = InboxActor::start_in_arbiter(&self.arbiter(), move |_| InboxActor::new(rt2, org, iid));
        map.insert(id.to_owned(), addr.clone());
        addr
    }

    pub(crate) fn forget_conversation(&self, id: &str) {
        self.conversations.lock().unwrap_or_else(|p| p.into_inner()).remove(id);
    }

    pub(crate) fn forget_inbox(&self, id: &str) {
        self.inboxes.lock().unwrap_or_else(|p| p.into_inner()).remove(id);
    }

    /// Removes the entry only if it still points at this actor (a newer one may have replaced
    /// it); says whether it did.
    pub(crate) fn remove_conversation(&self, id: &str, addr: &Addr<ConversationActor>) -> bool {
        let mut map = self.conversations.lock().unwrap_or_else(|p| p.into_inner());
        if map.get(id).is_some_and(|a| a == addr) {
            map.remove(id);
            return true;
        }
        false
    }

    /// Removes whatever actor runs this conversation here, returning it.
    pub(crate) fn remove_any(&self, id: &str) -> Option<Addr<ConversationActor>> {
        self.conversations.lock().unwrap_or_else(|p| p.into_inner()).remove(id)
    }

    /// Whether a live actor runs this conversation here.
    pub(crate) fn has_conversation(&self, id: &str) -> bool {
        self.conversations.lock().unwrap_or_else(|p| p.into_inner()).get(id).is_some_and(|a| a.connected())
    }

    /// Ids of the conversations running here (the leases to renew).
    pub(crate) fn conversation_ids(&self) -> Vec<String> {
        self.conversations.lock().unwrap_or_else(|p| p.into_inner()).keys().cloned().collect()
    }

    pub(crate) fn conversation_count(&self) -> usize {
        self.conversations.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    pub(crate) fn stop(&self) {
        for a in &self.arbiters {
            a.stop();
        }
        self.bus_arbiter.stop();
    }
}
