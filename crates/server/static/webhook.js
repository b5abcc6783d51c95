// The webhook form's live body-template preview: as the URL or the template changes,
// (debounced) asks the server to render them against a sample call exactly as a
// delivery would, and shows the body, the URL, the unknown variables and any error.
// Without this script the form still works; the server checks everything on submit.
"use strict";

(() => {
  const form = document.getElementById("webhook-form");
  const fd = window.frontdesk;
  if (!form || !fd) return;
  const url = form.elements.namedItem("url");
  const template = form.elements.namedItem("body_template");
  const el = (id) => document.getElementById(id);
  const out = {
    url: el("preview-url"),
    body: el("preview-body"),
    unknown: el("template-unknown"),
    error: el("template-live-error"),
    urlError: el("url-live-error"),
  };
  if (!url || !template || Object.values(out).some((x) => !x)) return;

  let timer = null;
  let latest = 0;

  function unknownItem(name) {
    const li = document.createElement("li");
    const badge = document.createElement("span");
    badge.className = "badge warn";
    badge.textContent = "unknown";
    const code = document.createElement("code");
    code.textContent = `{{${name}}}`;
    li.append(badge, " unknown variable ", code, ": it renders empty; use one of the variables listed below.");
    return li;
  }

  async function refresh() {
    const mine = ++latest;
    let res;
    try {
      res = await fd.postJson("/webhooks/preview", { url: url.value, body_template: template.value });
    } catch (_) {
      res = { ok: false, status: 0, data: null };
    }
    if (mine !== latest) return; // a newer preview is on its way
    if (!res.ok || !res.data) {
      const why = res.data?.error?.message || (res.status ? `the server answered ${res.status}` : "the server could not be reached");
      out.error.textContent = `No preview: ${why}. The form still saves and checks on submit.`;
      return;
    }
    const d = res.data;
    out.url.textContent = d.url || "";
    out.body.textContent = d.body ?? "(no preview until the template is valid JSON)";
    out.error.textContent = d.error ? `Body template: ${d.error}` : "";
    out.urlError.textContent = d.url_error ? `URL: ${d.url_error}` : "";
    out.unknown.replaceChildren(...(d.unknown || []).map(unknownItem));
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(refresh, 300);
  }

  url.addEventListener("input", schedule);
  template.addEventListener("input", schedule);
})();
