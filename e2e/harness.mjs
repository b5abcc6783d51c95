// Test harness for the browser suite: starts the real `frontdesk serve` on a fresh
// SQLite database, reads the first-start output (bootstrap key, admin password), runs
// a local webhook receiver, and launches Debian's Chromium through playwright-core.
// Nothing is downloaded: the browser is /usr/bin/chromium (or FRONTDESK_CHROMIUM).
import { spawn } from "node:child_process";
import { mkdtempSync, mkdirSync, existsSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
export const root = resolve(here, "..");
export const shots = resolve(process.env.CARGO_TARGET_DIR || join(root, "target"), "e2e-screenshots");

/** Starts the server; resolves once it listens, with its address and first-start secrets. */
export async function startServer() {
  const bin = process.env.FRONTDESK_BIN || join(process.env.CARGO_TARGET_DIR || join(root, "target"), "debug", "frontdesk");
  if (!existsSync(bin)) throw new Error(`no server binary at ${bin}; build it with \`cargo build\` or set FRONTDESK_BIN`);
  const dir = mkdtempSync(join(tmpdir(), "frontdesk-e2e-"));
  const child = spawn(bin, ["serve", "--listen", "127.0.0.1:0"], {
    cwd: dir,
    env: {
      ...process.env,
      FRONTDESK_DATABASE_URL: `sqlite://${dir}/frontdesk.db`,
      FRONTDESK_ALLOW_PRIVATE_TARGETS: "true",
      FRONTDESK_RETRY_SCHEDULE: "1s",
      FRONTDESK_DELIVERY_TIMEOUT: "2s",
      FRONTDESK_LOG: "warn",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stderr.on("data", (d) => process.stderr.write(`[server] ${d}`));
  const ready = new Promise((resolveReady, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server did not start:\n${out}`)), 60000);
    child.stdout.on("data", (d) => {
      out += d;
      const m = out.match(/listening on (http:\/\/\S+)/);
      if (m) { clearTimeout(timer); resolveReady(m[1]); }
    });
    child.on("exit", (code) => reject(new Error(`the server exited with ${code}:\n${out}`)));
  });
  const base = await ready;
  const key = out.match(/\n\s+(fd_live_\S+)/)?.[1];
  const password = out.match(/`admin`, password \(shown only this once\): (\S+)/)?.[1];
  if (!key || !password) throw new Error(`no key or admin password in the first-start output:\n${out}`);
  return { base, key, password, output: out, dir, stop: () => child.kill("SIGTERM") };
}

/** A webhook receiver whose answer the test sets (`status`); keeps what it got. */
export async function startReceiver() {
  const r = { status: 500, got: [] };
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => {
      r.got.push({ method: req.method, url: req.url, headers: req.headers, body });
      res.writeHead(r.status, { "content-type": "application/json", "x-receiver": "e2e" });
      res.end(JSON.stringify({ received: r.got.length }));
    });
  });
  await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
  r.url = `http://127.0.0.1:${server.address().port}/hook`;
  r.stop = () => server.close();
  return r;
}

export async function launch() {
  const executablePath = process.env.FRONTDESK_CHROMIUM || "/usr/bin/chromium";
  if (!existsSync(executablePath)) {
    throw new Error(`no Chromium at ${executablePath}; install Debian's (apt-get install chromium) or set FRONTDESK_CHROMIUM`);
  }
  return chromium.launch({ executablePath, headless: true, args: ["--no-sandbox", "--disable-dev-shm-usage"] });
}

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 375, height: 740 };

/**
 * Screenshots a page at desktop and phone width under target/e2e-screenshots; returns
 * how far the page is wider than a phone's screen (0 when it fits).
 */
export async function screenshots(page, name) {
  mkdirSync(shots, { recursive: true });
  let overflow = 0;
  for (const [label, size] of [["desktop", DESKTOP], ["phone", PHONE]]) {
    await page.setViewportSize(size);
    await page.screenshot({ path: join(shots, `${name}-${label}.png`), fullPage: true });
    if (label === "phone") overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  }
  await page.setViewportSize(DESKTOP);
  return overflow;
}

const axeSource = readFileSync(join(here, "node_modules", "axe-core", "axe.min.js"), "utf8");

/** Runs axe-core on the page; returns the serious and critical violations. */
export async function accessibility(page) {
  // Evaluated over the DevTools protocol: the pages' CSP forbids inline script, rightly.
  await page.evaluate(axeSource);
  const result = await page.evaluate(async () => await window.axe.run(document, { resultTypes: ["violations"] }));
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", ")}`);
}

/** A tiny runner: named steps, stop at the first failure, a summary line. */
export function runner() {
  const results = [];
  return {
    async step(name, fn) {
      const t0 = Date.now();
      try {
        await fn();
        results.push({ name, ok: true });
        console.log(`ok   ${name} (${Date.now() - t0} ms)`);
      } catch (e) {
        results.push({ name, ok: false });
        console.log(`FAIL ${name}\n${e.stack || e}`);
        throw e;
      }
    },
    summary() {
      const failed = results.filter((r) => !r.ok).length;
      console.log(`e2e: ${results.length - failed} passed, ${failed} failed; screenshots in ${shots}`);
      return failed;
    },
  };
}

export function assert(cond, message) {
  if (!cond) throw new Error(`assertion failed: ${message}`);
}
