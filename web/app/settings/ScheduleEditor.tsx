// A weekly schedule (business hours or a team's working hours): IANA time zone, enforced or
// not, open slots per weekday in local time, and closed days. Errors the server names
// (`timezone`, `slots[2].start`, `holidays[0].date`) show next to that control.
import { useState } from "preact/hooks";
import { Check, Field, type Form, val } from "./form";

export interface Slot {
  day: string;
  start: string;
  end: string;
}
export interface Holiday {
  date: string;
  name?: string | null;
}
export interface WeeklySchedule {
  timezone: string;
  isEnabled: boolean;
  slots: Slot[];
  holidays: Holiday[];
}

export const DAYS = ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"];

export function defaultSchedule(): WeeklySchedule {
  let timezone = "UTC";
  try {
    timezone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  } catch {
    /* keep UTC */
  }
  return {
    timezone,
    isEnabled: true,
    slots: DAYS.slice(0, 5).map((day) => ({ day, start: "09:00", end: "17:00" })),
    holidays: [],
  };
}

let zones: string[] | null = null;
function timeZones(): string[] {
  if (zones) return zones;
  try {
    zones = (Intl as unknown as { supportedValuesOf(k: string): string[] }).supportedValuesOf("timeZone");
  } catch {
    zones = ["UTC"];
  }
  return zones;
}

/** The day of a slot as the select's value (`monday` → `MON`). */
function dayKey(d: string): string {
  const k = d.trim().slice(0, 3).toUpperCase();
  return DAYS.includes(k) ? k : d;
}

export function ScheduleEditor(props: { form: Form; value: WeeklySchedule; onChange: (s: WeeklySchedule) => void; idPrefix: string }) {
  const { form, value: s, onChange } = props;
  const [listId] = useState(() => props.idPrefix + "-zones");
  const setSlot = (i: number, patch: Partial<Slot>) =>
    onChange({ ...s, slots: s.slots.map((x, j) => (j === i ? { ...x, ...patch } : x)) });
  const setHoliday = (i: number, patch: Partial<Holiday>) =>
    onChange({ ...s, holidays: s.holidays.map((x, j) => (j === i ? { ...x, ...patch } : x)) });

  return (
    <div class="s-schedule">
      <div class="s-grid2">
        <Field form={form} name="timezone" label="Time zone" hint="An IANA name, e.g. Europe/Berlin.">
          {(p) => <input {...p} list={listId} value={s.timezone} onInput={(e) => onChange({ ...s, timezone: val(e) })} />}
        </Field>
        <div class="s-field">
          <Check label="Enforce these hours" checked={s.isEnabled} onChange={(isEnabled) => onChange({ ...s, isEnabled })} />
          <small class="s-hint">Off: always counts as open.</small>
        </div>
      </div>
      <datalist id={listId}>
        {timeZones().map((z) => <option key={z} value={z} />)}
      </datalist>

      <fieldset>
        <legend>Open hours (local time)</legend>
        {s.slots.length === 0 && <p class="muted">No open hours: always closed while enforced.</p>}
        {s.slots.map((slot, i) => (
          <div class="s-slot" key={i} data-testid="schedule-slot">
            <Field form={form} name={`slots[${i}].day`} class={i > 0 ? "s-nolabel" : ""} label="Day">
              {(p) => (
                <select {...p} value={dayKey(slot.day)} onChange={(e) => setSlot(i, { day: val(e) })}>
                  {DAYS.map((d) => <option key={d} value={d}>{d}</option>)}
                </select>
              )}
            </Field>
            <Field form={form} name={`slots[${i}].start`} class={i > 0 ? "s-nolabel" : ""} label="From">
              {(p) => <input {...p} class="s-time" placeholder="09:00" pattern="[0-2][0-9]:[0-5][0-9]" value={slot.start} onInput={(e) => setSlot(i, { start: val(e) })} />}
            </Field>
            <Field form={form} name={`slots[${i}].end`} class={i > 0 ? "s-nolabel" : ""} label="To">
              {(p) => <input {...p} class="s-time" placeholder="17:00" pattern="[0-2][0-9]:[0-5][0-9]" value={slot.end} onInput={(e) => setSlot(i, { end: val(e) })} />}
            </Field>
            <button type="button" class="link danger" aria-label={`Remove ${dayKey(slot.day)} ${slot.start}–${slot.end}`}
              onClick={() => onChange({ ...s, slots: s.slots.filter((_, j) => j !== i) })}>
              Remove
            </button>
          </div>
        ))}
        <button type="button" onClick={() => {
          const last = s.slots[s.slots.length - 1];
          const next = last ? DAYS[(DAYS.indexOf(dayKey(last.day)) + 1) % 7] : "MON";
          onChange({ ...s, slots: [...s.slots, { day: next, start: last?.start ?? "09:00", end: last?.end ?? "17:00" }] });
        }}>
          Add hours
        </button>
        {form.errorFor("slots")}
      </fieldset>

      <fieldset>
        <legend>Closed days</legend>
        {s.holidays.length === 0 && <p class="muted">None.</p>}
        {s.holidays.map((h, i) => (
          <div class="s-slot" key={i}>
            <Field form={form} name={`holidays[${i}].date`} class={i > 0 ? "s-nolabel" : ""} label="Date">
              {(p) => <input {...p} type="date" value={h.date} onInput={(e) => setHoliday(i, { date: val(e) })} />}
            </Field>
            <Field form={form} name={`holidays[${i}].name`} class={i > 0 ? "s-nolabel" : ""} label="Name">
              {(p) => <input {...p} value={h.name ?? ""} onInput={(e) => setHoliday(i, { name: val(e) || null })} />}
            </Field>
            <button type="button" class="link danger" aria-label={`Remove closed day ${h.date}`}
              onClick={() => onChange({ ...s, holidays: s.holidays.filter((_, j) => j !== i) })}>
              Remove
            </button>
          </div>
        ))}
        <button type="button" onClick={() => onChange({ ...s, holidays: [...s.holidays, { date: "", name: null }] })}>
          Add closed day
        </button>
        {form.errorFor("holidays")}
      </fieldset>
    </div>
  );
}
