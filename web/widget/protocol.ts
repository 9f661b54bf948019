// What the page's loader and the iframe app say to each other over postMessage. Both sides post
// with an exact target origin and drop anything whose `event.origin` is not the expected one.

/** Loader -> iframe. */
export type ToFrame =
  | { cx: "init"; identity: Identity | null; open: boolean }
  | { cx: "open" }
  | { cx: "close" };

/** Iframe -> loader. */
export type ToPage =
  | { cx: "ready" }
  | { cx: "unread"; count: number }
  | { cx: "color"; color: string }
  | { cx: "close" };

/** What the site may set as `window.cxWidget` before the script tag. */
export interface Identity {
  identifier?: string;
  identifierHash?: string;
  name?: string;
  email?: string;
}
