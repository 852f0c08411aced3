// vbr studio: the page. Plain JS, no build step. Everything it shows comes from the
// studio's /api routes; every request carries the token the page was opened with.
"use strict";
(() => {
  const token = new URLSearchParams(location.search).get("token") || "";
  const $ = (id) => document.getElementById(id);
  const MODE_LABELS = { composite: "Composite", matte: "Matte", original: "Original", split: "Split", transparency: "Alpha" };
  const TEXT_INPUTS = new Set(["text", "number", "search", "email", "url", "password"]);

  let state = null;          // the last /api/state
  let index = 0;             // the output frame on screen (or wanted)
  let mode = "composite";
  let shownKey = null;       // graph key, frame and mode of the image on screen
  let wanted = null;         // the newest frame asked for while one is loading
  let loading = false;
  let stateLoading = null, stateAgain = false;
  let thumbsKey = null, thumbsRun = 0;
  let varsShape = null, valuesTimer = null;
  let renderStatus = "idle", outputShown = null;

  // --- requests ------------------------------------------------------------------------------------
  function url(path, params = {}) {
    const u = new URL(path, location.origin);
    for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
    u.searchParams.set("token", token);
    return u.toString();
  }
  function call(path, { params = {}, method = "GET", body } = {}) {
    const headers = { "X-Vbr-Token": token };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    return fetch(url(path, params), { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: "no-store" });
  }
  async function errorsOf(response) {
    try { return (await response.json()).errors || [response.statusText]; } catch (e) { return [`${response.status} ${response.statusText}`]; }
  }

  // --- time ----------------------------------------------------------------------------------------
  const pad = (n, w = 2) => String(n).padStart(w, "0");
  function timecode(i) {
    const [num, den] = state.project.fps;
    const ms = Math.floor((i * den * 1000) / num);
    const h = Math.floor(ms / 3600000), m = Math.floor(ms / 60000) % 60, s = Math.floor(ms / 1000) % 60;
    return `${pad(h)}:${pad(m)}:${pad(s)}.${pad(ms % 1000, 3)}`;
  }
  function fpsValue() { const [n, d] = state.project.fps; return n / d; }

  // --- state ---------------------------------------------------------------------------------------
  async function loadState() {
    if (stateLoading) { stateAgain = true; return stateLoading; }
    stateLoading = (async () => {
      do {
        stateAgain = false;
        const response = await call("/api/state");
        if (!response.ok) { showStatus(`state: ${response.status}`); break; }
        state = await response.json();
        showState();
      } while (stateAgain);
      stateLoading = null;
    })();
    return stateLoading;
  }

  function showState() {
    $("file").textContent = state.file + (state.row ? `  ·  row at line ${state.row}` : "");
    document.body.dataset.version = state.version;
    showRows();
    showVars();
    showPlan();
    showRender(state.render);
    if (state.errors.length) {
      showErrors(state.errors);
      return;
    }
    const p = state.project;
    $("scrubber").max = String(p.frames - 1);
    if (index > p.frames - 1) index = p.frames - 1;
    showTime();
    showThumbs();
    requestFrame(true);
    showOutput();
  }

  function showErrors(lines) {
    const box = $("errors");
    box.textContent = lines.join("\n");
    box.hidden = false;
    $("frame").hidden = true;
    shownKey = null;
    hideStatus();
  }

  function hideErrors() { $("errors").hidden = true; $("errors").textContent = ""; }

  // --- the frame -----------------------------------------------------------------------------------
  function frameKey() { return `${state.project.graph_key}:${index}:${mode}`; }

  function requestFrame() {
    if (!state || !state.project || state.errors.length) return;
    const key = frameKey();
    if (key === shownKey && $("errors").hidden) return;
    wanted = { key, index, mode };
    if (!loading) pump();
  }

  async function pump() {
    loading = true;
    while (wanted) {
      const job = wanted;
      wanted = null;
      try { await fetchFrame(job); } catch (e) { showStatus(`error: ${e}`); }
    }
    loading = false;
  }

  async function fetchFrame(job) {
    const img = $("frame");
    img.classList.add("stale");
    const slow = setTimeout(() => showStatus("computing…"), 150);
    try {
      const info = await call("/api/frame-info", { params: { i: job.index } });
      if (info.ok) {
        const body = await info.json();
        if (body.masks_to_infer > 0) showStatus(`model running… (${body.masks_to_infer} mask${body.masks_to_infer === 1 ? "" : "s"} to infer)`);
      }
      const response = await call("/api/frame", { params: { i: job.index, mode: job.mode, g: job.key } });
      if (wanted && wanted.key !== job.key) return;  // the user moved on: show the newest one instead
      if (!response.ok) {
        if (response.status === 409 || response.status === 422) showErrors(await errorsOf(response));
        else showStatus((await errorsOf(response)).join(" "));
        return;
      }
      const blob = await response.blob();
      const previous = img.src;
      img.src = URL.createObjectURL(blob);
      try { await img.decode(); } catch (e) { /* shown anyway */ }
      if (previous.startsWith("blob:")) URL.revokeObjectURL(previous);
      img.dataset.key = job.key;
      img.dataset.index = String(job.index);
      img.dataset.mode = job.mode;
      img.hidden = false;
      hideErrors();
      shownKey = job.key;
      document.body.dataset.shown = job.key;
    } finally {
      clearTimeout(slow);
      img.classList.remove("stale");
      if (!wanted) hideStatus();
    }
  }

  function setIndex(i) {
    if (!state || !state.project) return;
    index = Math.max(0, Math.min(state.project.frames - 1, i));
    $("scrubber").value = String(index);
    showTime();
    requestFrame();
  }

  function showTime() {
    if (!state.project) return;
    $("timecode").textContent = timecode(index);
    $("frame-number").textContent = `frame ${index} / ${state.project.frames - 1}`;
    $("scrubber").value = String(index);
    for (const el of document.querySelectorAll(".thumb")) {
      el.classList.toggle("current", Number(el.dataset.first) <= index && index <= Number(el.dataset.last));
    }
  }

  function showStatus(text) { const el = $("status"); el.textContent = text; el.hidden = false; }
  function hideStatus() { $("status").hidden = true; }

  function setMode(m) {
    mode = m;
    for (const b of $("modes").children) b.classList.toggle("on", b.dataset.mode === m);
    $("viewer").classList.toggle("checker", m === "transparency");
    $("viewer").classList.toggle("dark", m !== "transparency");
    requestFrame();
  }

  // --- thumbnails: only frames whose masks are cached (a thumbnail never starts the model) -----------
  function showThumbs() {
    const strip = $("thumbs");
    const key = state.project.graph_key;
    const list = state.thumbnails;
    if (key !== thumbsKey) {
      thumbsKey = key;
      strip.textContent = "";
      list.forEach((t, k) => {
        const el = document.createElement("div");
        el.className = "thumb pending";
        el.dataset.k = String(t.k);
        el.dataset.index = String(t.index);
        el.dataset.first = String(k === 0 ? 0 : Math.floor((list[k - 1].index + t.index) / 2) + 1);
        el.dataset.last = String(k === list.length - 1 ? state.project.frames - 1 : Math.floor((t.index + list[k + 1].index) / 2));
        el.title = `frame ${t.index} (${timecode(t.index)}): masks not cached yet`;
        el.addEventListener("click", () => setIndex(t.index));
        strip.appendChild(el);
      });
      showTime();
    }
    fillThumbs(++thumbsRun, key);
  }

  async function fillThumbs(run, key) {
    for (const el of Array.from(document.querySelectorAll(".thumb.pending"))) {
      while (loading) await new Promise((r) => setTimeout(r, 50));  // the main frame first
      if (run !== thumbsRun || key !== thumbsKey) return;
      const response = await call("/api/thumb", { params: { k: el.dataset.k, g: key } });
      if (run !== thumbsRun || key !== thumbsKey) return;
      if (response.status !== 200) continue;
      const img = document.createElement("img");
      img.src = URL.createObjectURL(await response.blob());
      img.alt = `frame ${el.dataset.index}`;
      el.textContent = "";
      el.appendChild(img);
      el.classList.remove("pending");
      el.title = `frame ${el.dataset.index} (${timecode(Number(el.dataset.index))})`;
    }
  }

  // --- variables form ------------------------------------------------------------------------------
  function showVars() {
    const vars = state.variables;
    $("vars-panel").hidden = vars.length === 0;
    const shape = JSON.stringify(vars.map((v) => [v.name, v.type, v.choices]));
    const form = $("vars");
    if (shape !== varsShape) {
      varsShape = shape;
      form.textContent = "";
      for (const v of vars) form.appendChild(field(v));
    }
    for (const v of vars) {
      const input = form.querySelector(`[name="${CSS.escape(v.name)}"]`);
      if (!input || document.activeElement === input) continue;
      const value = v.value !== null ? v.value : v.default !== null ? v.default : "";
      if (input.type === "checkbox") input.checked = ["true", "yes", "on", "1"].includes(String(value).toLowerCase());
      else input.value = value;
      const picker = form.querySelector(`[data-picker="${CSS.escape(v.name)}"]`);
      if (picker && /^#[0-9a-fA-F]{6}/.test(value)) picker.value = value.slice(0, 7);
    }
  }

  function field(v) {
    const label = document.createElement("label");
    const name = document.createElement("span");
    name.className = "name";
    name.textContent = `${v.name} (${v.type}${v.default === null ? ", required" : ""})`;
    label.appendChild(name);
    let input;
    if (v.type === "enum") {
      input = document.createElement("select");
      for (const choice of v.choices || []) {
        const o = document.createElement("option");
        o.value = o.textContent = choice;
        input.appendChild(o);
      }
    } else if (v.type === "bool") {
      input = document.createElement("input");
      input.type = "checkbox";
    } else {
      input = document.createElement("input");
      input.type = v.type === "number" ? "number" : "text";
      if (v.type === "number") input.step = "any";
    }
    input.name = v.name;
    input.dataset.type = v.type;
    input.addEventListener(input.type === "text" || input.type === "number" ? "input" : "change", () => valuesChanged(input.type === "text" || input.type === "number"));
    if (v.type === "color") {
      const row = document.createElement("div");
      row.className = "colour";
      const picker = document.createElement("input");
      picker.type = "color";
      picker.dataset.picker = v.name;
      picker.addEventListener("input", () => { input.value = picker.value; valuesChanged(true); });
      input.addEventListener("input", () => { if (/^#[0-9a-fA-F]{6}/.test(input.value)) picker.value = input.value.slice(0, 7); });
      row.append(picker, input);
      label.appendChild(row);
    } else {
      label.appendChild(input);
    }
    return label;
  }

  function valuesChanged(typing) {
    clearTimeout(valuesTimer);
    valuesTimer = setTimeout(sendValues, typing ? 350 : 0);
  }

  async function sendValues() {
    const values = {};
    for (const input of $("vars").querySelectorAll("[name]")) {
      values[input.name] = input.type === "checkbox" ? String(input.checked) : input.value;
    }
    await call("/api/values", { method: "POST", body: { values } });
    await loadState();
  }

  // --- rows ----------------------------------------------------------------------------------------
  function showRows() {
    const panel = $("rows-panel");
    panel.hidden = !state.rows_file;
    if (!state.rows_file) return;
    const select = $("rows");
    const options = [["", "form values (no row)"], ...state.rows.map((r) => [String(r.line), `line ${r.line}: ${r.label}`])];
    const shape = JSON.stringify(options);
    if (select.dataset.shape !== shape) {
      select.dataset.shape = shape;
      select.textContent = "";
      for (const [value, text] of options) {
        const o = document.createElement("option");
        o.value = value;
        o.textContent = text;
        select.appendChild(o);
      }
    }
    select.value = state.row === null ? "" : String(state.row);
    const errors = $("rows-errors");
    errors.textContent = state.rows_errors.join("\n");
    errors.hidden = state.rows_errors.length === 0;
  }

  async function pickRow() {
    const value = $("rows").value;
    await call("/api/row", { method: "POST", body: { line: value === "" ? null : Number(value) } });
    await loadState();
  }

  // --- plan ----------------------------------------------------------------------------------------
  function showPlan() {
    const body = $("plan").tBodies[0];
    body.textContent = "";
    const plan = state.plan;
    $("plan-summary").textContent = plan
      ? `${plan.frames} frames · ${plan.exact ? "" : "at most "}${plan.frames_to_infer} to infer · ${plan.masks_cached} masks cached`
      : state.errors.length ? "the project does not load" : "";
    for (const node of plan ? plan.nodes : []) {
      const tr = body.insertRow();
      tr.insertCell().textContent = node.stage;
      const status = tr.insertCell();
      status.textContent = node.status;
      status.className = `status-${node.status}`;
      tr.insertCell().textContent = node.detail || node.key.slice(0, 10);
      tr.title = node.key;
    }
    const errors = $("plan-errors");
    errors.textContent = state.plan_errors.join("\n");
    errors.hidden = state.plan_errors.length === 0;
  }

  // --- render --------------------------------------------------------------------------------------
  function showRender(r) {
    const running = r.status === "running";
    $("render").disabled = running || !state || !state.project;
    $("cancel").hidden = !running;
    const bar = $("progress");
    bar.hidden = r.status === "idle";
    bar.max = Math.max(1, r.frames);
    bar.value = r.frames_done;
    let text = "";
    if (running) {
      text = `${r.frames_done}/${r.frames} frames · ${r.fps.toFixed(1)} fps` + (r.eta !== null ? ` · ETA ${formatSeconds(r.eta)}` : "");
    } else if (r.status === "done") {
      text = r.skipped ? "up to date" : `done: ${r.frames_done} frames in ${formatSeconds(r.seconds)} (${r.inferred} inferred, ${r.cached} from cache)`;
    } else if (r.status === "cancelled") {
      text = "cancelled: nothing written";
    } else if (r.status === "failed") {
      text = "failed";
    }
    $("progress-text").textContent = text;
    document.body.dataset.render = r.status;
    const errors = $("render-errors");
    errors.textContent = (r.errors || []).join("\n");
    errors.hidden = !(r.errors && r.errors.length);
    if (r.status !== renderStatus) {
      const finished = renderStatus === "running" && r.status !== "running";
      renderStatus = r.status;
      if (finished) loadState();
    }
  }

  function formatSeconds(s) {
    s = Math.max(0, Math.round(s));
    return s >= 60 ? `${Math.floor(s / 60)}m${pad(s % 60)}s` : `${s}s`;
  }

  function showOutput() {
    const panel = $("output-panel");
    const out = state.output;
    const r = state.render;
    if (!out.exists || r.status === "running") { panel.hidden = true; return; }
    const stamp = `${out.path}:${r.status}:${r.seconds}:${state.version}`;
    const tag = `${out.path}:${r.status}:${r.seconds}`;
    panel.hidden = false;
    const encode = state.plan && state.plan.nodes.find((n) => n.stage === "encode");
    const stale = encode && encode.status === "stale" ? " (older than the project: render again)" : "";
    const video = $("output");
    // Chromium plays neither ProRes nor a PNG sequence: say where the export is and what it holds.
    video.hidden = !out.playable;
    $("output-path").textContent = out.playable ? out.path + stale : `${describeExport(out)}${stale}`;
    if (!out.playable) { video.pause(); return; }
    if (outputShown === tag) return;
    outputShown = tag;
    video.src = url("/api/output", { v: stamp });
    video.load();
    video.play().catch(() => {});
  }

  function describeExport(out) {
    const kind = state.project && state.project.format === "png" ? "PNG sequence" : "ProRes 4444 MOV";
    const frames = out.frames === null ? "" : `, ${out.frames} frames`;
    return `written to ${out.path} (${kind}${frames}): open it in your editor`;
  }

  async function startRender() {
    const response = await call("/api/render", { method: "POST" });
    if (!response.ok) $("progress-text").textContent = (await errorsOf(response)).join(" ");
    $("output-panel").hidden = true;
    outputShown = null;
  }

  async function cancelRender() { await call("/api/render/cancel", { method: "POST" }); }

  // --- live events ---------------------------------------------------------------------------------
  function listen() {
    const events = new EventSource(url("/api/events"));
    const pill = $("connection");
    events.addEventListener("hello", () => { pill.textContent = "live"; pill.className = "pill live"; loadState(); });
    events.addEventListener("state", () => loadState());
    events.addEventListener("render", (e) => { if (state) showRender(JSON.parse(e.data)); });
    events.addEventListener("warning", (e) => { $("progress-text").textContent = `warning: ${JSON.parse(e.data).message}`; });
    events.onerror = () => { pill.textContent = "reconnecting…"; pill.className = "pill lost"; };
  }

  // --- controls ------------------------------------------------------------------------------------
  function setup() {
    for (const [i, m] of Object.keys(MODE_LABELS).entries()) {
      const b = document.createElement("button");
      b.type = "button";
      b.dataset.mode = m;
      b.textContent = MODE_LABELS[m];
      b.title = `${MODE_LABELS[m]} (${i + 1})`;
      b.addEventListener("click", () => setMode(m));
      $("modes").appendChild(b);
    }
    setMode(mode);
    $("scrubber").addEventListener("input", (e) => setIndex(Number(e.target.value)));
    $("prev").addEventListener("click", () => setIndex(index - 1));
    $("next").addEventListener("click", () => setIndex(index + 1));
    $("render").addEventListener("click", startRender);
    $("cancel").addEventListener("click", cancelRender);
    $("rows").addEventListener("change", pickRow);
    $("vars").addEventListener("submit", (e) => e.preventDefault());
    document.addEventListener("keydown", (e) => {
      const t = e.target;
      if (t.tagName === "SELECT" || t.tagName === "TEXTAREA" || (t.tagName === "INPUT" && TEXT_INPUTS.has(t.type))) return;
      if (e.ctrlKey || e.metaKey || e.altKey || !state || !state.project) return;
      const second = Math.max(1, Math.round(fpsValue()));
      const keys = {
        ArrowLeft: () => setIndex(index - (e.shiftKey ? second : 1)),
        ArrowRight: () => setIndex(index + (e.shiftKey ? second : 1)),
        Home: () => setIndex(0),
        End: () => setIndex(state.project.frames - 1),
        r: () => { if (!$("render").disabled) startRender(); },
        Escape: () => { if (!$("cancel").hidden) cancelRender(); },
      };
      Object.keys(MODE_LABELS).forEach((m, i) => { keys[String(i + 1)] = () => setMode(m); });
      const action = keys[e.key];
      if (action) { e.preventDefault(); action(); }
    });
    listen();
    loadState();
  }

  setup();
})();
