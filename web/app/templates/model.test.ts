import { describe, it, expect } from "vitest";
import {
  type Draft, EMPTY_DRAFT, paramsOf, variablesOf, isNamed, nextVariable, fill,
  exampleFor, examplesOf, toComponents, fromTemplate, toInput, newButton, checkDraft, problemsOf, editorField, serverErrors,
  previewOfDraft, previewOfSend, formatted, slotKey, slotExample, sendParameters, renderSent, checkSend, sendField, slotLabel, sendableFor,
  matchesSearch, checkHeaderFile, needsLink,
} from "./model";
import { ORDER, template } from "./fixtures";


function draft(p: Partial<Draft> = {}): Draft {
  return { ...EMPTY_DRAFT, name: "order_update", language: "en_US", body: "Hi {{1}}, thanks.", bodyExamples: { "1": "Ana" }, ...p };
}

describe("variables from text", () => {
  it("numbered ones, distinct, in numeric order", () => {
    expect(variablesOf("{{2}} then {{1}} and {{2}} again {{10}}")).toEqual(["1", "2", "10"]);
    expect(variablesOf("no variables")).toEqual([]);
  });
  it("named ones as they appear", () => {
    expect(variablesOf("Hi {{first_name}}, order {{order_id}} for {{first_name}}")).toEqual(["first_name", "order_id"]);
    expect(isNamed(["first_name"])).toBe(true);
    expect(isNamed(["1"])).toBe(false);
    expect(isNamed([])).toBe(false);
  });
  it("malformed ones are named", () => {
    expect(paramsOf("Hi {{First Name}}").error).toMatch(/not a variable/);
    expect(paramsOf("Hi {{1").error).toMatch(/never closed/);
    expect(paramsOf("Hi {{ 1 }}").names).toEqual(["1"]);
  });
  it("the next variable to add", () => {
    expect(nextVariable(["Hi {{1}} and {{2}}", "Order {{1}}"], false)).toBe("{{3}}");
    expect(nextVariable(["", ""], false)).toBe("{{1}}");
    expect(nextVariable(["Hi {{var_1}}"], true)).toBe("{{var_2}}");
  });
  it("fills what has a value, keeps the rest", () => {
    expect(fill("Hi {{1}}, order {{2}}", { "1": "Ana" })).toBe("Hi Ana, order {{2}}");
    expect(fill("Hi {{name}}", { name: "" })).toBe("Hi {{name}}");
  });
});

describe("Meta's example shapes", () => {
  it("positional: body_text is a list of one list, header_text a list", () => {
    expect(exampleFor("body_text", ["1", "2"], { "1": "Ana", "2": "1042" })).toEqual({ body_text: [["Ana", "1042"]] });
    expect(exampleFor("header_text", ["1"], { "1": "1042" })).toEqual({ header_text: ["1042"] });
    expect(exampleFor("body_text", [], {})).toBeUndefined();
  });
  it("named: *_named_params", () => {
    expect(exampleFor("body_text", ["first_name"], { first_name: "Ana" })).toEqual({
      body_text_named_params: [{ param_name: "first_name", example: "Ana" }],
    });
  });
  it("reads them back by variable", () => {
    expect(examplesOf(ORDER[1], "body_text")).toEqual({ "1": "Ana", "2": "1042" });
    expect(examplesOf(ORDER[0], "header_text")).toEqual({ "1": "1042" });
    const named = { type: "BODY", text: "Hi {{n}}", example: { body_text_named_params: [{ param_name: "n", example: "Bo" }] } };
    expect(examplesOf(named, "body_text")).toEqual({ n: "Bo" });
  });
});

describe("the editor's state and Meta's components", () => {
  it("a stored template round-trips through the editor", () => {
    const d = fromTemplate(template());
    expect(d.header).toBe("TEXT");
    expect(d.headerExamples).toEqual({ "1": "1042" });
    expect(d.buttons[1]).toMatchObject({ type: "URL", url: "https://shop.test/t/{{1}}", urlExample: "1042" });
    const { components, layout } = toComponents(d);
    expect(components).toEqual(ORDER);
    expect(layout).toEqual({ header: 0, body: 1, footer: 2, buttons: 3 });
  });
  it("leaves out what is empty; a media header carries its handle", () => {
    const { components, layout } = toComponents(draft({ header: "IMAGE", headerHandle: "4::aGVsbG8=" }));
    expect(components).toEqual([
      { type: "HEADER", format: "IMAGE", example: { header_handle: ["4::aGVsbG8="] } },
      { type: "BODY", text: "Hi {{1}}, thanks.", example: { body_text: [["Ana"]] } },
    ]);
    expect(layout).toEqual({ header: 0, body: 1 });
    expect(toComponents(draft()).layout).toEqual({ body: 0 });
  });
  it("buttons of every kind", () => {
    const auth = toComponents(draft({ category: "AUTHENTICATION", buttons: [newButton("OTP")] })).components[1];
    expect(auth.buttons).toEqual([{ type: "OTP", otp_type: "COPY_CODE", text: "Copy code" }]);
    const b = toComponents(draft({ buttons: [{ ...newButton("PHONE_NUMBER"), text: "Call", phone: "+4915112345678" }, { ...newButton("COPY_CODE"), code: "SAVE10" }] })).components[1];
    expect(b.buttons).toEqual([
      { type: "PHONE_NUMBER", text: "Call", phone_number: "+4915112345678" },
      { type: "COPY_CODE", text: "Copy offer code", example: "SAVE10" },
    ]);
  });
  it("the request body: the account only when asked, the header file for media headers", () => {
    const d = draft({ accountId: "a2", header: "IMAGE", headerFile: "f1.jpg", headerHandle: "h" });
    expect(toInput(d, { withAccount: true })).toMatchObject({ accountId: "a2", headerFile: "f1.jpg", name: "order_update" });
    expect(toInput(d, { withAccount: false }).accountId).toBeUndefined();
    expect(toInput(draft({ headerFile: "f1.jpg" }), { withAccount: true }).headerFile).toBeUndefined();
  });
});

describe("Meta's rules before the server", () => {
  it("a complete draft passes", () => {
    expect(checkDraft(fromTemplate(template()))).toEqual({});
  });
  it("name and language; a draft needs only those", () => {
    const e = checkDraft(draft({ name: "Order Update", language: "english", body: "" }), { draftOnly: true });
    expect(Object.keys(e).sort()).toEqual(["language", "name"]);
  });
  it("variables numbered without gaps, not mixed, each with an example, not at the ends", () => {
    expect(checkDraft(draft({ body: "Hi {{2}} and {{1}}", bodyExamples: { "1": "a", "2": "b" } }))["body.text"]).toMatch(/start at/);
    expect(checkDraft(draft({ body: "Hi {{1}} and {{name}}." }))["body.text"]).toMatch(/not both/);
    expect(checkDraft(draft({ body: "Hi {{1}} and {{2}}.", bodyExamples: { "1": "a" } }))).toEqual({ "body.example.2": "Give an example." });
    expect(checkDraft(draft({ body: "{{1}} is your code" }))["body.text"]).toMatch(/start or end/);
  });
  it("header, footer and button limits", () => {
    const e = checkDraft(draft({
      header: "TEXT", headerText: "{{1}} and {{2}}", footer: "Bye {{1}}",
      buttons: [{ ...newButton("URL"), text: "Go", url: "https://x.test/{{1}}/a" }, { ...newButton("OTP") }, { ...newButton("PHONE_NUMBER"), text: "Call", phone: "0151" }],
    }));
    expect(e["header.text"]).toMatch(/at most one/);
    expect(e["footer.text"]).toMatch(/no variables/);
    expect(e["buttons.0.url"]).toMatch(/at the end/);
    expect(e["buttons.1.type"]).toMatch(/AUTHENTICATION/);
    expect(e["buttons.2.phone_number"]).toMatch(/E\.164/);
    expect(checkDraft(draft({ category: "AUTHENTICATION" })).buttons).toMatch(/one-time password/);
    expect(checkDraft(draft({ header: "VIDEO" }))["header.file"]).toMatch(/Upload/);
  });
  it("header files by kind", () => {
    expect(checkHeaderFile("IMAGE", "image/png", 1000)).toBeNull();
    expect(checkHeaderFile("IMAGE", "image/gif", 1000)).toMatch(/JPEG or PNG/);
    expect(checkHeaderFile("VIDEO", "video/mp4", 17 * 1024 * 1024)).toMatch(/16 MB/);
    expect(checkHeaderFile("DOCUMENT", "application/pdf", 10)).toBeNull();
  });
});

describe("server field errors at their inputs", () => {
  it("splits the server's list of problems", () => {
    expect(problemsOf("components[1].text", "components[1].text: the body is 1 to 1,024 characters; name: name is 1-512 characters")).toEqual([
      { field: "components[1].text", message: "the body is 1 to 1,024 characters" },
      { field: "name", message: "name is 1-512 characters" },
    ]);
    expect(problemsOf("accountId", "this organization has several WhatsApp numbers: say which")).toEqual([
      { field: "accountId", message: "this organization has several WhatsApp numbers: say which" },
    ]);
    expect(problemsOf(undefined, "Meta refused it")).toEqual([{ message: "Meta refused it" }]);
  });
  it("maps components[i] through the draft's layout", () => {
    const d = fromTemplate(template());
    const { layout } = toComponents(d);
    expect(editorField("components[1].text", layout, d)).toBe("body.text");
    expect(editorField("components[0].text", layout, d)).toBe("header.text");
    expect(editorField("components[0].example", layout, d)).toBe("header.example.1");
    expect(editorField("components[2].text", layout, d)).toBe("footer.text");
    expect(editorField("components[3].buttons[1].url", layout, d)).toBe("buttons.1.url");
    expect(editorField("components[3].buttons", layout, d)).toBe("buttons");
    expect(editorField("headerFile", layout, d)).toBe("header.file");
    expect(editorField("components", layout, d)).toBeNull();
    const noHeader = draft({ body: "Hi {{1}} and {{2}}.", bodyExamples: { "1": "a" } });
    expect(editorField("components[0].example", toComponents(noHeader).layout, noHeader)).toBe("body.example.2");
    const media = draft({ header: "IMAGE" });
    expect(editorField("components[0].example", toComponents(media).layout, media)).toBe("header.file");
  });
  it("collects errors by input and keeps the rest for the form", () => {
    const d = draft();
    const { fields, rest } = serverErrors("components[0].text", "components[0].text: too long; components: a template has exactly one BODY", toComponents(d).layout, d);
    expect(fields).toEqual({ "body.text": "too long" });
    expect(rest).toEqual(["components: a template has exactly one BODY"]);
  });
});

describe("the preview", () => {
  it("a draft with its examples filled in", () => {
    const p = previewOfDraft(fromTemplate(template()));
    expect(p).toEqual({
      header: { kind: "TEXT", text: "Order 1042" },
      body: "Hi Ana, your order 1042 ships today.",
      footer: "Demo Shop",
      buttons: [{ type: "QUICK_REPLY", text: "Thanks" }, { type: "URL", text: "Track" }],
    });
    expect(previewOfDraft(draft({ body: "Hi {{1}} and {{2}}.", bodyExamples: { "1": "Ana" } })).body).toBe("Hi Ana and {{2}}.");
  });
  it("a send with the values typed, examples or the variable where none", () => {
    const t = template();
    expect(previewOfSend(t, { "body.1": "Bo" }).body).toBe("Hi Bo, your order 1042 ships today.");
    expect(previewOfSend(t, { "body.1": "Bo" }, false).body).toBe("Hi Bo, your order {{2}} ships today.");
  });
  it("WhatsApp's inline formatting", () => {
    expect(formatted("Hi *Ana*, _now_ ~not~ ```x```!")).toEqual([
      { text: "Hi " }, { text: "Ana", style: "b" }, { text: ", " }, { text: "now", style: "i" }, { text: " " },
      { text: "not", style: "s" }, { text: " " }, { text: "x", style: "code" }, { text: "!" },
    ]);
    expect(formatted("plain * text")).toEqual([{ text: "plain * text" }]);
  });
});

describe("sending", () => {
  const values = { "header.1": "77", "body.1": "Ana", "body.2": "77", "button.1": "77" };
  it("the parameters in the API's shape", () => {
    expect(sendParameters(template(), values)).toEqual({ header: ["77"], body: ["Ana", "77"], buttons: [null, "77"] });
    const named = template({
      parameterFormat: "NAMED",
      components: [{ type: "BODY", text: "Hi {{first_name}}", example: { body_text_named_params: [{ param_name: "first_name", example: "Ana" }] } }],
      parameters: [{ place: "body", name: "first_name", example: "Ana" }],
    });
    expect(sendParameters(named, { "body.first_name": "Bo" })).toEqual({ body: { first_name: "Bo" } });
  });
  it("media and location headers", () => {
    const image = template({ components: [{ type: "HEADER", format: "IMAGE" }, { type: "BODY", text: "New in" }], parameters: [] });
    expect(needsLink(image)).toBe(true);
    expect(sendParameters(image, {}, { headerLink: " https://cdn.test/a.jpg " })).toEqual({ headerLink: "https://cdn.test/a.jpg" });
    expect(needsLink({ ...image, headerMediaUrl: "/api/v1/templates/t1/header-media" })).toBe(false);
    expect(checkSend(image, {}, { headerLink: "http://x" })).toEqual({ headerLink: "A public https:// link to the file." });
    const loc = template({ components: [{ type: "HEADER", format: "LOCATION" }, { type: "BODY", text: "Here" }], parameters: [] });
    expect(sendParameters(loc, {}, { latitude: "52.5", longitude: "13.4", locationName: "Shop" })).toEqual({
      headerLocation: { latitude: 52.5, longitude: 13.4, name: "Shop" },
    });
    expect(Object.keys(checkSend(loc, {}, { latitude: "95" })).sort()).toEqual(["latitude", "longitude"]);
    expect(renderSent(loc, {})).toBe("[location]\nHere");
  });
  it("renders the text the server stores", () => {
    expect(renderSent(template(), values)).toBe("Order 77\nHi Ana, your order 77 ships today.\nDemo Shop\n[Thanks] [Track]");
  });
  it("checks the values as Meta does", () => {
    expect(checkSend(template(), { ...values, "body.2": "7\n7", "button.1": "" })).toEqual({
      "body.2": "No new lines, tabs or more than four spaces in a row.",
      "button.1": "Fill this in.",
    });
    expect(checkSend(template(), values)).toEqual({});
  });
  it("maps the server's parameter fields to the inputs", () => {
    const t = template();
    expect(sendField("parameters.body[1]", t)).toBe("body.2");
    expect(sendField("parameters.body", t)).toBe("body.1");
    expect(sendField("parameters.header[0]", t)).toBe("header.1");
    expect(sendField("parameters.buttons[1]", t)).toBe("button.1");
    expect(sendField("parameters.buttons[0]", t)).toBeNull();
    expect(sendField("parameters.headerLink", t)).toBe("headerLink");
    expect(sendField("language", t)).toBeNull();
    const named = template({ parameters: [{ place: "body", name: "first_name" }] });
    expect(sendField("parameters.body.first_name", named)).toBe("body.first_name");
  });
  it("labels and keys of the slots", () => {
    const t = template();
    expect(t.parameters.map(slotKey)).toEqual(["header.1", "body.1", "body.2", "button.1"]);
    expect(slotLabel(t.parameters[2], t)).toBe("Body {{2}}");
    expect(slotLabel(t.parameters[3], t)).toBe("Button “Track”: https://shop.test/t/…");
    expect(slotExample(t.parameters[3], t)).toBe("1042");
    expect(slotExample(t.parameters[1], t)).toBe("Ana");
  });
  it("the conversation's business account's approved templates, searched", () => {
    const ts = [template(), template({ id: "t2", status: "PAUSED" }), template({ id: "t3", wabaId: "w2" }), template({ id: "t4", wabaId: null, accountId: "a1" })];
    expect(sendableFor(ts, { id: "a1", wabaId: "w1" }).map((t) => t.id)).toEqual(["t1", "t4"]);
    expect(sendableFor(ts, null).map((t) => t.id)).toEqual(["t1", "t3", "t4"]);
    expect(matchesSearch(template(), "order ships")).toBe(true);
    expect(matchesSearch(template(), "refund")).toBe(false);
  });
});
