// How many account alerts nobody acknowledged, kept current for the settings nav: loaded when the
// settings open, counted up on each `account.alert` the socket brings, set again after an
// acknowledgement. Screens that list alerts hear new ones through `onAccountAlert`.
import { signal } from "@preact/signals";
import { api } from "../api";
import { subscribe } from "../live/socket";
import type { AccountAlert } from "./whatsapp";

export const unreadAlerts = signal<number>(0);

const listeners = new Set<(a: AccountAlert) => void>();

/** Calls `fn` with each alert the socket brings; returns the unsubscribe function. */
export function onAccountAlert(fn: (a: AccountAlert) => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

subscribe((e) => {
  if (e.event !== "account.alert") return;
  unreadAlerts.value += 1;
  for (const fn of [...listeners]) fn(e.data as AccountAlert);
});

/** Reads the count from the server (failures keep the last one). */
export async function refreshUnreadAlerts(): Promise<void> {
  try {
    unreadAlerts.value = (await api<{ count: number }>("/whatsapp-accounts/alerts/unread-count")).count;
  } catch {
    /* keep the last count */
  }
}
