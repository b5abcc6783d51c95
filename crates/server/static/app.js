// Frontdesk dashboard script: small, no dependencies, no build step. The pages work
// without it; it adds local times, copy buttons, confirmations, and the live parts
// (template preview, test call) on the pages that have them.
"use strict";

const csrf = () => document.querySelector('meta[name="csrf-token"]')?.content || "";

async function postJson(url, body) {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", "x-csrf-token": csrf() },
    body: JSON.stringify(body ?? {}),
  });
  let data = null;
  try { data = await res.json(); } catch (_) { /* not JSON */ }
  return { ok: res.ok, status: res.status, data };
}

function localTimes(root) {
  const fmt = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });
  for (const t of root.querySelectorAll("time[datetime]")) {
    const d = new Date(t.getAttribute("datetime"));
    if (!isNaN(d)) { t.title = t.textContent; t.textContent = fmt.format(d); }
  }
  // datetime-local inputs carry UTC on the wire: fill hidden companions on submit.
  for (const input of root.querySelectorAll("input[data-utc]")) {
    const hidden = document.getElementById(input.dataset.utc);
    const form = input.form;
    if (!hidden || !form) continue;
    if (hidden.value && !input.value) {
      const d = new Date(hidden.value);
      if (!isNaN(d)) {
        const pad = (n) => String(n).padStart(2, "0");
        input.value = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
      }
    }
    form.addEventListener("submit", () => {
      hidden.value = input.value ? new Date(input.value).toISOString() : "";
    });
  }
}

function copyButtons(root) {
  for (const b of root.querySelectorAll("button[data-copy]")) {
    b.addEventListener("click", async () => {
      const el = document.getElementById(b.dataset.copy);
      if (!el) return;
      try { await navigator.clipboard.writeText(el.textContent.trim()); b.textContent = "Copied"; }
      catch (_) { b.textContent = "Select and copy it"; }
    });
  }
}

function confirmations(root) {
  for (const f of root.querySelectorAll("form[data-confirm]")) {
    f.addEventListener("submit", (e) => { if (!window.confirm(f.dataset.confirm)) e.preventDefault(); });
  }
}

document.addEventListener("DOMContentLoaded", () => {
  localTimes(document);
  copyButtons(document);
  confirmations(document);
});

// Page scripts (webhook.js, test-call.js) use these.
window.frontdesk = { postJson, localTimes, csrf };
