// Small helpers every settings screen shares: a form state that turns an `ApiError` naming a
// field into `aria-invalid` plus a `.field-error` under that field (and any other error into a
// message for the whole form), a labelled `Field`, a loader hook, and a confirmation prompt.
import type { ComponentChildren, JSX } from "preact";
import { useCallback, useEffect, useId, useRef, useState } from "preact/hooks";
import { ApiError } from "../api";

export interface ControlProps {
  id: string;
  name: string;
  "aria-invalid"?: "true";
  "aria-describedby"?: string;
}

export interface Form {
  busy: boolean;
  error: Error | null;
  /** Runs `fn`, keeping `busy` set while it runs; an error is kept for display, `undefined` returned. */
  run<T>(fn: () => Promise<T>): Promise<T | undefined>;
  /** Props for the control of `name`: id, name, and the error marks when the error names it. */
  control(name: string): ControlProps;
  /** The `.field-error` text under the control of `name`, or nothing. */
  errorFor(name: string): JSX.Element | null;
  /** The error for the whole form: any error not shown next to a field of this form. */
  formError(): JSX.Element | null;
  clear(): void;
  /** Shows a message that is not an API answer (e.g. a check made before sending). */
  fail(message: string, field?: string): void;
}

export function useForm(): Form {
  const uid = useId();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | null>(null);
  // Field names this form rendered controls for (in this render); reset at every render.
  const shown = useRef(new Set<string>());
  shown.current = new Set();
  const alive = useRef(true);
  useEffect(() => () => { alive.current = false; }, []);

  const idOf = (name: string) => `${uid}-${name.replace(/[^A-Za-z0-9_-]/g, "_")}`;
  const fieldOf = (e: Error | null) => (e instanceof ApiError ? e.field : (e as { field?: string } | null)?.field);

  return {
    busy,
    error,
    async run<T>(fn: () => Promise<T>) {
      setBusy(true);
      setError(null);
      try {
        return await fn();
      } catch (e) {
        if (alive.current) setError(e instanceof Error ? e : new Error(String(e)));
        return undefined;
      } finally {
        if (alive.current) setBusy(false);
      }
    },
    control(name: string): ControlProps {
      shown.current.add(name);
      const bad = error !== null && fieldOf(error) === name;
      return {
        id: idOf(name),
        name,
        "aria-invalid": bad ? "true" : undefined,
        "aria-describedby": bad ? idOf(name) + "-error" : undefined,
      };
    },
    errorFor(name: string) {
      shown.current.add(name);
      if (!error || fieldOf(error) !== name) return null;
      return (
        <div class="field-error" id={idOf(name) + "-error"} role="alert">
          {error.message}
        </div>
      );
    },
    formError() {
      if (!error) return null;
      // A component, so it renders after the `Field`s before it have registered their names.
      return <FormError error={error} shown={shown.current} field={fieldOf(error)} />;
    },
    clear() {
      setError(null);
    },
    fail(message: string, field?: string) {
      const e = field ? new ApiError(400, "validation", message, field) : new Error(message);
      setError(e);
    },
  };
}

function FormError(props: { error: Error; shown: Set<string>; field?: string }) {
  if (props.field && props.shown.has(props.field)) return null;
  return (
    <p class="error" role="alert">
      {props.error.message}
    </p>
  );
}

/** A labelled control: `children` gets the id, name and error marks to spread on the control. */
export function Field(props: {
  form: Form;
  name: string;
  label: string;
  hint?: string;
  class?: string;
  children: (p: ControlProps) => JSX.Element;
}) {
  const p = props.form.control(props.name);
  return (
    <div class={"s-field " + (props.class ?? "")}>
      <label for={p.id}>{props.label}</label>
      {props.children(p)}
      {props.hint && <small class="s-hint">{props.hint}</small>}
      {props.form.errorFor(props.name)}
    </div>
  );
}

/** A checkbox with its label after it. */
export function Check(props: { label: string; checked: boolean; onChange: (v: boolean) => void; name?: string; disabled?: boolean }) {
  return (
    <label class="s-check">
      <input
        type="checkbox"
        name={props.name}
        checked={props.checked}
        disabled={props.disabled}
        onChange={(e) => props.onChange((e.currentTarget as HTMLInputElement).checked)}
      />
      {props.label}
    </label>
  );
}

export interface Loaded<T> {
  data: T | undefined;
  error: Error | null;
  loading: boolean;
  reload: () => Promise<void>;
  set: (v: T | ((prev: T | undefined) => T)) => void;
}

/** Loads `fn()` on mount (and when `deps` change); `reload` loads again. */
export function useLoad<T>(fn: () => Promise<T>, deps: unknown[] = []): Loaded<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<Error | null>(null);
  const [loading, setLoading] = useState(true);
  const seq = useRef(0);
  const reload = useCallback(async () => {
    const n = ++seq.current;
    setLoading(true);
    try {
      const v = await fn();
      if (n === seq.current) {
        setData(v);
        setError(null);
      }
    } catch (e) {
      if (n === seq.current) setError(e instanceof Error ? e : new Error(String(e)));
    } finally {
      if (n === seq.current) setLoading(false);
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);
  useEffect(() => {
    void reload();
    return () => { seq.current++; };
  }, [reload]);
  return { data, error, loading, reload, set: setData as Loaded<T>["set"] };
}

/** Loading, error and empty states around a list. */
export function ListState<T>(props: {
  state: Loaded<T[]>;
  empty: string;
  children: (items: T[]) => ComponentChildren;
}) {
  const { data, error, loading } = props.state;
  if (data === undefined && loading) return <p class="loading" role="status">Loading…</p>;
  if (data === undefined && error) return <p class="error" role="alert">{error.message}</p>;
  return (
    <>
      {error && <p class="error" role="alert">{error.message}</p>}
      {!data || data.length === 0 ? <p class="empty-state">{props.empty}</p> : props.children(data)}
    </>
  );
}

/** `true` once `p` resolves (for calls whose answer is not needed, e.g. 204). */
export const done = (p: Promise<unknown>): Promise<true> => p.then(() => true as const);

/** Asks before a destructive action. */
export function confirmed(message: string): boolean {
  return window.confirm(message);
}

/** The value of an input event. */
export const val = (e: Event) => (e.currentTarget as HTMLInputElement).value;

export function fmtDate(s?: string | null): string {
  if (!s) return "";
  const d = new Date(s);
  return Number.isNaN(d.getTime()) ? s : d.toLocaleString();
}
