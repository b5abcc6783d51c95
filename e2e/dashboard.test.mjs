// The dashboard, end to end, in real headless Chromium against a real server.
// Run by scripts/test (after `cargo build`): `node e2e/dashboard.test.mjs`.
import { execFileSync } from "node:child_process";
import { startServer, startReceiver, launch, screenshots, accessibility, runner, assert, DESKTOP } from "./harness.mjs";

const server = await startServer();
const receiver = await startReceiver();
const browser = await launch();
const t = runner();
const context = await browser.newContext({ viewport: DESKTOP, timezoneId: "America/New_York" });
const page = await context.newPage();
const problems = [];
page.on("pageerror", (e) => problems.push(`script error: ${e.message}`));
page.on("response", (r) => {
  if (r.status() === 404 && r.request().resourceType() !== "document") problems.push(`404 for ${r.url()} on ${page.url()}`);
});
// Refused sign-ins answer 401/429 on purpose; anything else logged as an error is a fault.
page.on("console", (m) => {
  if (m.type() === "error" && !/status of (401|429)/.test(m.text())) problems.push(`console error on ${page.url()}: ${m.text()}`);
});
const url = (path) => `${server.base}${path}`;
/** Pages checked for accessibility and screenshotted, by name. */
const visited = [];
let testCallUrl = "";
let webhookPath = "";

async function visit(path, name) {
  const res = await page.goto(url(path));
  assert(res.ok(), `GET ${path} answered ${res.status()}`);
  visited.push({ path, name });
}

async function signIn(p, login, password) {
  await p.goto(url("/login"));
  await p.getByLabel("Name").fill(login);
  await p.getByLabel("Password").fill(password);
  await p.getByRole("button", { name: "Sign in" }).click();
}

let exitCode = 1;
try {
  await t.step("first start printed the admin password beside the key", async () => {
    assert(server.output.includes("Dashboard user `admin`"), server.output);
  });

  await t.step("a wrong password is refused with a message", async () => {
    await page.goto(url("/calls"));
    assert(page.url().includes("/login"), `redirected to sign in: ${page.url()}`);
    await visit("/login", "login");
    await signIn(page, "admin", "not the password at all");
    await page.getByText("do not match").waitFor();
  });

  await t.step("sign in lands on the overview", async () => {
    await signIn(page, "admin", server.password);
    await page.waitForURL(url("/"));
    await page.getByRole("navigation", { name: "Main" }).waitFor();
    visited.push({ path: "/", name: "overview" });
  });

  await t.step("a new user is locked out after five wrong passwords", async () => {
    await visit("/settings/users", "users");
    await page.getByLabel("Name or e-mail").fill("locked@example.com");
    await page.getByRole("button", { name: "Add user" }).click();
    const password = (await page.locator("#new-user-password").textContent()).trim();
    const other = await browser.newContext({ viewport: DESKTOP });
    const p = await other.newPage();
    for (let i = 0; i < 5; i++) await signIn(p, "locked@example.com", "wrong password number " + i);
    await p.getByText("locked for 15 more minutes").waitFor();
    await signIn(p, "locked@example.com", password);
    await p.getByText("locked for").waitFor();
    assert(p.url().includes("/login"), "still on the sign-in page");
    await other.close();
  });

  await t.step("an API key generated in the dashboard works with curl, until revoked", async () => {
    await visit("/settings/api-keys", "api-keys");
    await page.getByLabel("Name").fill("e2e curl");
    await page.getByRole("button", { name: "Generate key" }).click();
    const key = (await page.locator("#new-key-secret").textContent()).trim();
    assert(key.startsWith("fd_live_"), key);
    const curl = (k) => execFileSync("curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "-H", `Authorization: Bearer ${k}`, url("/v1/calls")]).toString();
    assert(curl(key) === "200", "the key works");
    page.once("dialog", (d) => d.accept());
    await page.getByRole("button", { name: "Revoke e2e curl" }).click();
    await page.waitForLoadState("load");
    await page.getByText("revoked").first().waitFor();
    assert(curl(key) === "401", "the revoked key is refused");
  });

  await t.step("a webhook to a local receiver, with a template whose preview updates as you type", async () => {
    await visit("/webhooks", "webhooks");
    await visit("/webhooks/new", "webhook-new");
    await page.getByLabel("Name", { exact: true }).fill("CRM");
    await page.getByLabel("URL", { exact: true }).fill(receiver.url);
    const template = page.getByLabel("Body template");
    await template.fill('{"text": "Call from {{caller_name}} about {{call_type}}", "oops": "{{no_such_thing}}"}');
    await page.locator("#preview-body").getByText("Call from").waitFor();
    await page.locator("#template-unknown").getByText("no_such_thing").waitFor();
    assert((await screenshots(page, "webhook-preview")) <= 0, "the preview fits a phone");
    await template.fill('{"text": "Call from {{caller_name}} about {{call_type}}"}');
    await page.waitForFunction(() => !document.querySelector("#template-unknown").textContent.includes("no_such_thing"));
    await page.getByRole("button", { name: "Add webhook" }).click();
    const secret = (await page.locator("#webhook-secret").textContent()).trim();
    assert(secret.startsWith("whsec_"), secret);
    await page.getByRole("link", { name: "Edit it or send a test event" }).click();
    await page.waitForURL(/\/webhooks\/wh_[^/]+\/edit/);
    webhookPath = new URL(page.url()).pathname.replace(/\/edit$/, "");
    visited.push({ path: `${webhookPath}/edit`, name: "webhook-edit" });
  });

  await t.step("a test send shows the request as sent and the receiver's response", async () => {
    const before = receiver.got.length;
    await page.getByRole("button", { name: "Send test event" }).click();
    const result = page.locator("#test-result");
    await result.waitFor();
    await result.getByText("webhook-signature").first().waitFor();
    await result.getByText("Call from").first().waitFor();
    await result.getByText("500").first().waitFor();
    assert(receiver.got.length === before + 1, "the receiver got the test");
    assert(receiver.got.at(-1).headers["webhook-signature"], "signed");
    assert((await screenshots(page, "webhook-test-send")) <= 0, "the test send fits a phone");
  });

  await t.step("a test call in the browser fills in the fields as it goes, and links to its page", async () => {
    await visit("/test-call", "test-call");
    await page.getByRole("button", { name: "Start call" }).click();
    await page.locator("#tc-transcript").getByText("Frontdesk Demo Co").waitFor();
    const say = async (text) => {
      await page.getByLabel("What the caller says").fill(text);
      await page.getByLabel("What the caller says").press("Enter");
      await page.locator("#tc-transcript").getByText(text).waitFor();
    };
    await say("Hi, I'd like to book an appointment");
    await page.locator("#tc-call").getByText("appointment").waitFor();
    await say("Jane Doe");
    await page.locator("#tc-fields").getByText("Jane Doe").waitFor();
    assert((await screenshots(page, "test-call-live")) <= 0, "the live test call fits a phone");
    await page.getByRole("button", { name: "Hang up" }).click();
    await page.locator("#tc-ended").waitFor();
    await page.locator("#tc-call-link").click();
    await page.waitForURL(/\/calls\/call_/);
    testCallUrl = page.url();
    await page.getByText("Jane Doe").first().waitFor();
    visited.push({ path: new URL(testCallUrl).pathname, name: "call" });
  });

  await t.step("the call is in the list, and the search finds it by what the caller said", async () => {
    await visit("/calls", "calls");
    const id = new URL(testCallUrl).pathname.split("/").pop();
    await page.locator(`a[href="/calls/${id}"]`).first().waitFor();
    await page.getByLabel("Search caller or transcript").fill("appointment");
    await page.getByLabel("Search caller or transcript").press("Enter");
    await page.waitForURL(/q=appointment/);
    await page.locator(`a[href="/calls/${id}"]`).first().waitFor();
  });

  await t.step("the failing endpoint's deliveries show as failed, with their attempts", async () => {
    // The receiver answers 500: each delivery is tried twice (retry schedule 1s), then failed.
    const deadline = Date.now() + 30000;
    for (;;) {
      await page.goto(url(`${webhookPath}?status=failed`));
      if (await page.locator("td .badge", { hasText: "failed" }).count()) break;
      assert(Date.now() < deadline, "a delivery failed within 30 s");
      await page.waitForTimeout(500);
    }
    visited.push({ path: webhookPath, name: "webhook-log" });
    await page.getByRole("link", { name: /^Details of delivery/ }).first().click();
    await page.waitForURL(/\/deliveries\/dlv_/);
    await page.getByText("Attempt 1").first().waitFor();
    // The latest attempt is open; earlier ones are folded.
    await page.getByText("webhook-signature").filter({ visible: true }).first().waitFor();
    visited.push({ path: new URL(page.url()).pathname, name: "delivery" });
  });

  await t.step("fix the receiver and retry the failed delivery: it succeeds", async () => {
    receiver.status = 200;
    await page.getByRole("button", { name: "Retry now" }).click();
    const deadline = Date.now() + 20000;
    const delivery = page.url().split("?")[0];
    for (;;) {
      await page.goto(delivery);
      if (await page.locator(".badge", { hasText: "succeeded" }).count()) break;
      assert(Date.now() < deadline, "the retried delivery succeeded within 20 s");
      await page.waitForTimeout(500);
    }
  });

  await t.step("recover since a time queues every failed delivery again", async () => {
    await page.goto(url(webhookPath));
    const since = await page.evaluate(() => {
      const d = new Date(Date.now() - 3600 * 1000);
      const p = (n) => String(n).padStart(2, "0");
      return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
    });
    await page.getByLabel("Failed since").fill(since);
    await page.getByRole("button", { name: "Recover failed deliveries" }).click();
    await page.locator(".notice").getByText(/queued/i).waitFor();
    const deadline = Date.now() + 20000;
    for (;;) {
      await page.goto(url(`${webhookPath}?status=pending`));
      const pending = await page.locator("td .badge", { hasText: "pending" }).count();
      if (pending === 0) break;
      assert(Date.now() < deadline, "the recovered deliveries went out within 20 s");
      await page.waitForTimeout(500);
    }
  });

  await t.step("the other pages render: overview with data, events, agents, an agent", async () => {
    await visit("/", "overview-with-calls");
    await page.locator("figure.chart svg").first().waitFor();
    await visit("/events", "events");
    await visit("/agents", "agents");
    await page.locator('a[href^="/agents/agt_"]').first().click();
    await page.waitForURL(/\/agents\/agt_/);
    visited.push({ path: new URL(page.url()).pathname, name: "agent" });
  });

  await t.step("every page: screenshots at desktop and phone width, no serious accessibility violations", async () => {
    const wide = [];
    for (const { path, name } of visited) {
      await page.goto(url(path));
      const overflow = await screenshots(page, name);
      if (overflow > 0) wide.push(`${path} is ${overflow}px wider than a phone`);
      const violations = await accessibility(page);
      assert(violations.length === 0, `${path}:\n  ${violations.join("\n  ")}`);
    }
    assert(wide.length === 0, wide.join("\n"));
  });

  await t.step("no script errors on any page", async () => {
    assert(problems.length === 0, problems.join("\n"));
  });

  await t.step("sign out ends the session", async () => {
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL(/\/login/);
    await page.goto(url("/settings/api-keys"));
    assert(page.url().includes("/login"), "signed out");
  });
  exitCode = t.summary();
} catch (e) {
  t.summary();
  exitCode = 1;
} finally {
  await browser.close();
  receiver.stop();
  server.stop();
}
process.exit(exitCode);
