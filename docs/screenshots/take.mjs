// Takes the README's screenshots from a running demo: node take.mjs <address> <adminEmail> <adminPassword> <outDir>
// (playwright-core from npm, outside web/; Debian's Chromium at /usr/bin/chromium).
import { chromium } from "playwright-core";
const [base, email, password, out] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
});
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 });
const page = await ctx.newPage();
await page.goto(base + "/");
await page.screenshot({ path: `${out}/sign-in.png` });
await page.fill("input[name=email]", email);
await page.fill("input[name=password]", password);
await page.click("[data-testid=signin-submit]");
await page.waitForSelector("[data-testid=conversation-list]");
await page.click("[data-testid=tab-all]");
await sleep(1500);
// A conversation the bot handed to the team: take it over and answer, as an agent would.
const rows = await page.$$("[data-testid=conversation-row]");
let best = null;
for (const r of rows) {
  if ((await r.innerText()).includes("OPEN")) { best = await r.getAttribute("data-id"); break; }
}
best = best ?? (await rows[0].getAttribute("data-id"));
await page.click(`[data-testid=conversation-row][data-id='${best}']`);
await page.waitForSelector("[data-testid=thread]");
await sleep(800);
if (await page.$("[data-testid=action-takeover]")) {
  await page.click("[data-testid=action-takeover]");
  await sleep(800);
  await page.fill("[data-testid=composer-input]", "I'm sorry to hear that! I've started a return for you; the label is on its way by email.");
  await page.keyboard.press("Enter");
  await sleep(4000);
}
await page.screenshot({ path: `${out}/inbox.png` });
await page.keyboard.press("Control+k");
await sleep(500);
await page.screenshot({ path: `${out}/command-menu.png` });
await page.keyboard.press("Escape");
await page.click("[data-testid=nav-settings]");
await sleep(1200);
await page.screenshot({ path: `${out}/settings.png` });
const links = await page.$$eval("nav a, [role=tab], aside a", (as) => as.map((a) => a.textContent.trim()));
console.log("settings links:", links.join(" | "));
for (const [name, file] of [["Routing & hours", "routing"], ["Bot", "bot"]]) {
  const l = page.getByRole("link", { name, exact: true }).first();
  if (await l.count()) {
    await l.click();
    await sleep(1000);
    await page.screenshot({ path: `${out}/settings-${file}.png` });
  }
}
const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
const p2 = await phone.newPage();
await p2.goto(base + "/");
await p2.fill("input[name=email]", email);
await p2.fill("input[name=password]", password);
await p2.click("[data-testid=signin-submit]");
await p2.waitForSelector("[data-testid=conversation-list]");
await p2.click("[data-testid=tab-all]");
await sleep(1200);
await p2.screenshot({ path: `${out}/phone-list.png` });
await p2.click(`[data-testid=conversation-row][data-id='${best}']`);
await sleep(1200);
await p2.screenshot({ path: `${out}/phone-thread.png` });
await browser.close();
