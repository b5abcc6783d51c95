// The test call (/test-call): talk with an agent through the simulator. Posts JSON to
// the page's endpoints (/test-call/start, /test-call/{call}/say, /test-call/{call}/hangup)
// with the session's CSRF header, shows both sides in the transcript, and fills the
// side panel with what the agent has collected. No dependencies; app.js loads first.
"use strict";

(() => {
  const root = document.getElementById("test-call");
  const fd = window.frontdesk;
  if (!root || !fd) return;
  const $ = (id) => document.getElementById(id);
  const startForm = $("tc-start");
  if (!startForm) return; // no agent yet
  const agentSelect = $("tc-agent");
  const fromInput = $("tc-from");
  const startButton = $("tc-start-button");
  const errorBox = $("tc-error");
  const live = $("tc-live");
  const status = $("tc-status");
  const transcript = $("tc-transcript");
  const sayForm = $("tc-say");
  const sayBox = $("tc-say-box");
  const textInput = $("tc-text");
  const hangupButton = $("tc-hangup");
  const endedBox = $("tc-ended");
  const callLink = $("tc-call-link");
  const fieldsList = $("tc-fields");
  const callList = $("tc-call");
  const api = $("tc-api");
  if (api) api.open = false;

  let callId = null;
  let busy = false;

  function showError(message) {
    errorBox.textContent = message;
    errorBox.hidden = !message;
  }

  function failure(res) {
    const m = res.data && res.data.error && res.data.error.message;
    return m || `The request failed (HTTP ${res.status}); reload the page and try again.`;
  }

  function line(who, text) {
    const li = document.createElement("li");
    li.className = who === "caller" ? "caller" : "agent";
    const label = document.createElement("span");
    label.className = "who";
    label.textContent = who === "caller" ? "Caller" : "Receptionist";
    li.append(label, document.createTextNode(text));
    transcript.append(li);
    li.scrollIntoView({ block: "nearest" });
  }

  function fact(list, name, value, note) {
    const dt = document.createElement("dt");
    dt.textContent = name;
    const dd = document.createElement("dd");
    if (value === null || value === undefined || value === "") {
      const span = document.createElement("span");
      span.className = "muted";
      span.textContent = note || "not yet";
      dd.append(span);
    } else {
      dd.textContent = value;
    }
    list.append(dt, dd);
  }

  function panel(p) {
    fieldsList.replaceChildren();
    for (const f of p.fields) {
      let note = f.required ? "not yet (required)" : "not yet";
      if (p.awaiting_field === f.field) note = "asking now…";
      fact(fieldsList, f.field.replaceAll("_", " "), f.value, note);
    }
    if (!p.fields.length) fact(fieldsList, "Fields", null, "this agent collects no fields");
    callList.replaceChildren();
    fact(callList, "Status", p.status.replaceAll("_", " "));
    fact(callList, "Caller", [p.caller.name, p.caller.phone, p.caller.email].filter(Boolean).join(", "));
    fact(callList, "Call type", p.call_type, "not classified yet");
    fact(callList, "Message", p.message, "none");
    fact(callList, "Transferred to", p.transferred_to, "no transfer");
    if (p.awaiting_field === "message") status.textContent = "Taking a message…";
  }

  function setBusy(on) {
    busy = on;
    for (const el of [textInput, hangupButton, ...sayForm.querySelectorAll("button")]) el.disabled = on;
  }

  function progress(p) {
    if (p.say) line("agent", p.say);
    panel(p);
    if (p.ended) finish(p);
  }

  function finish(p) {
    callId = null;
    sayBox.hidden = true;
    status.textContent = "The call has ended.";
    callLink.href = p.call_url;
    endedBox.hidden = false;
    startButton.disabled = false;
    startButton.textContent = "Start another call";
    callLink.focus();
  }

  startForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (busy) return;
    showError("");
    startButton.disabled = true;
    setBusy(true);
    const res = await fd.postJson("/test-call/start", {
      agent_id: agentSelect.value,
      from: fromInput.value.trim(),
    }).catch(() => ({ ok: false, status: 0, data: null }));
    setBusy(false);
    if (!res.ok) {
      startButton.disabled = false;
      showError(failure(res));
      return;
    }
    const p = res.data;
    callId = p.call_id;
    transcript.replaceChildren();
    endedBox.hidden = true;
    sayBox.hidden = false;
    live.hidden = false;
    status.textContent = `Call in progress with ${agentSelect.selectedOptions[0]?.textContent || "the agent"}.`;
    progress(p);
    if (!p.ended) textInput.focus();
  });

  sayForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (busy || !callId) return;
    const text = textInput.value.trim();
    showError("");
    line("caller", text || "(silence)");
    textInput.value = "";
    setBusy(true);
    const res = await fd.postJson(`/test-call/${encodeURIComponent(callId)}/say`, { text })
      .catch(() => ({ ok: false, status: 0, data: null }));
    setBusy(false);
    if (!res.ok) {
      showError(failure(res));
      textInput.focus();
      return;
    }
    progress(res.data);
    if (!res.data.ended) textInput.focus();
  });

  hangupButton.addEventListener("click", async () => {
    if (busy || !callId) return;
    showError("");
    setBusy(true);
    const res = await fd.postJson(`/test-call/${encodeURIComponent(callId)}/hangup`, {})
      .catch(() => ({ ok: false, status: 0, data: null }));
    setBusy(false);
    if (!res.ok) {
      showError(failure(res));
      return;
    }
    line("caller", "(hangs up)");
    progress({ ...res.data, ended: true });
  });
})();
