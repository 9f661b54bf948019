// Test fixtures shared by the template and campaign model tests.
import type { MessageTemplate, TemplateComponent } from "./model";

/** The order update of the server's tests: a text header with a variable, a body with two, a footer, two buttons. */
export const ORDER: TemplateComponent[] = [
  { type: "HEADER", format: "TEXT", text: "Order {{1}}", example: { header_text: ["1042"] } },
  { type: "BODY", text: "Hi {{1}}, your order {{2}} ships today.", example: { body_text: [["Ana", "1042"]] } },
  { type: "FOOTER", text: "Demo Shop" },
  { type: "BUTTONS", buttons: [
    { type: "QUICK_REPLY", text: "Thanks" },
    { type: "URL", text: "Track", url: "https://shop.test/t/{{1}}", example: ["https://shop.test/t/1042"] },
  ] },
];

export function template(p: Partial<MessageTemplate> = {}): MessageTemplate {
  return {
    id: "t1", accountId: "a1", wabaId: "w1", metaId: "m1", name: "order_update", language: "en_US", category: "UTILITY",
    parameterFormat: "POSITIONAL", components: ORDER, status: "APPROVED",
    parameters: [
      { place: "header", name: "1", example: "1042" },
      { place: "body", name: "1", example: "Ana" },
      { place: "body", name: "2", example: "1042" },
      { place: "button", name: "url", index: 1, example: "https://shop.test/t/1042" },
    ],
    createdAt: "2026-01-01T00:00:00Z", updatedAt: "2026-01-01T00:00:00Z", ...p,
  };
}
