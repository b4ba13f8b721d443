// The live class view (docs/live.md): applies pushed messages from the WebSocket to the server-rendered table,
// reconnects by itself with backoff, and falls back to refreshing /courses/{id}/live.json every 30 s while
// WebSockets fail. The mode line says which: "Live", "Reconnecting…" or "Refreshing every 30 s".
// Student text never reaches this page; names and alert titles are set as text, never as HTML.

const root = document.getElementById("live");
const POLL_MS = 30_000;
const TICK_MS = 15_000;
const FALLBACK_AFTER = 3; // failed connection attempts in a row before refreshing from JSON
const FINAL = { 4401: "Signed out: reload the page to sign in again", 4403: "Live updates are not allowed from this address", 4404: "Live updates are not available for this course" };
const STATUS = { not_started: "Not started", in_progress: "Writing", submitted: "Submitted", late: "Submitted late", graded: "Graded" };
const STAGE = { met: "Met", missed: "Missed", open: "Open", no_target: "No target" };
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

if (root) start(root);

function start(root) {
  const assignmentId = root.dataset.assignmentId || "";
  const writingNowMs = Number(root.dataset.writingNowSeconds || 120) * 1000;
  const modeEl = document.getElementById("live-mode");
  const flashEl = document.getElementById("live-flash");
  const alertList = document.getElementById("live-alert-list");
  const noAlerts = document.getElementById("live-no-alerts");
  let ws = null;
  let failures = 0;
  let pollTimer = null;
  let retryTimer = null;
  let missed = false; // a gap in the stream: refresh once when live again
  let flashTimer = null;

  function setMode(mode, text) {
    modeEl.dataset.mode = mode;
    modeEl.querySelector(".live-mode__text").textContent = text;
  }

  // ---- the connection ----------------------------------------------------------------------------------------
  function connect() {
    retryTimer = null;
    if (!("WebSocket" in window)) {
      startPolling();
      return;
    }
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    try {
      ws = new WebSocket(scheme + location.host + root.dataset.wsPath);
    } catch {
      failed();
      return;
    }
    ws.addEventListener("open", () => {
      failures = 0;
      stopPolling();
      setMode("live", "Live");
      if (missed) refresh();
      missed = false;
    });
    ws.addEventListener("message", (event) => {
      let msg;
      try {
        msg = JSON.parse(event.data);
      } catch {
        return;
      }
      handle(msg);
    });
    ws.addEventListener("close", (event) => {
      ws = null;
      if (FINAL[event.code]) {
        stopPolling();
        setMode("closed", FINAL[event.code]);
        return;
      }
      missed = true;
      failed();
    });
  }

  function failed() {
    failures += 1;
    const delay = Math.min(30_000, 1000 * 2 ** Math.min(failures - 1, 5)) * (0.75 + Math.random() / 2);
    if (failures >= FALLBACK_AFTER) startPolling();
    else setMode("reconnecting", "Reconnecting…");
    if (!retryTimer) retryTimer = setTimeout(connect, delay);
  }

  function startPolling() {
    setMode("polling", "Refreshing every 30 s");
    if (pollTimer) return;
    refresh();
    pollTimer = setInterval(refresh, POLL_MS);
  }

  function stopPolling() {
    if (pollTimer) clearInterval(pollTimer);
    pollTimer = null;
  }

  async function refresh() {
    try {
      const r = await fetch(root.dataset.jsonUrl, { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (!r.ok) return;
      applyState(await r.json());
    } catch {
      // offline: the next refresh or reconnect tries again
    }
  }

  // ---- messages --------------------------------------------------------------------------------------------
  function handle(msg) {
    if (msg.type === "ping") {
      if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: "pong" }));
    } else if (msg.type === "activity") {
      applyActivity(msg);
    } else if (msg.type === "submitted") {
      applySubmitted(msg);
    } else if (msg.type === "alert") {
      applyAlert(msg, true);
    } else if (msg.type === "resync") {
      refresh(); // the server lost pushes (its Redis connection dropped): read the state again
    }
  }

  const rowFor = (userId) => root.querySelector(`tr[data-user-id="${CSS.escape(String(userId || ""))}"]`);

  function applyActivity(msg) {
    const row = rowFor(msg.user_id);
    if (!row) return;
    setLast(row, msg.at);
    if (msg.assignment_id !== assignmentId) {
      tick();
      return;
    }
    // the server refuses batches on a submitted document, so a batch means it is being written (again)
    if (row.dataset.status !== "in_progress") setStatus(row, "in_progress");
    const before = Number(row.dataset.wordCount || 0);
    const after = Number(msg.word_count);
    if (Number.isFinite(after)) {
      if (isToday(msg.at)) setText(row, ".js-today", Number(row.querySelector(".js-today").textContent || 0) + (after - before));
      setWords(row, after);
    }
    tick();
    flashRow(row);
  }

  function applySubmitted(msg) {
    if (msg.assignment_id !== assignmentId) return;
    const row = rowFor(msg.user_id);
    if (!row) return;
    setStatus(row, msg.late ? "late" : "submitted");
    if (Number.isFinite(Number(msg.word_count))) setWords(row, Number(msg.word_count));
    setLast(row, msg.at);
    tick();
    flashRow(row);
  }

  function applyAlert(alert, announce) {
    if (!alert || !alert.alert_id) return;
    if (!alertList.querySelector(`li[data-alert-id="${CSS.escape(String(alert.alert_id))}"]`)) {
      const li = document.createElement("li");
      li.dataset.alertId = alert.alert_id;
      li.append(alertLink(alert), ` · ${alert.student_name || ""} · `);
      const sev = document.createElement("span");
      sev.className = "muted";
      sev.textContent = alert.severity || "";
      li.append(sev);
      alertList.prepend(li);
      noAlerts.hidden = true;
      const row = rowFor(alert.student_user_id);
      if (row) {
        const cell = row.querySelector(".js-alerts");
        let list = cell.querySelector("ul");
        if (!list) {
          cell.textContent = "";
          list = document.createElement("ul");
          list.className = "live-alerts";
          cell.append(list);
        }
        const item = document.createElement("li");
        const link = alertLink(alert);
        link.className = `badge badge--${alert.positive ? "graded" : alert.severity === "urgent" ? "late" : "in_progress"}`;
        item.append(link);
        list.append(item);
        flashRow(row);
      }
      if (announce) flash(`New alert for ${alert.student_name || "a student"}: ${alert.title || alert.rule || ""}`);
    }
  }

  function alertLink(alert) {
    const a = document.createElement("a");
    const url = String(alert.url || "");
    a.href = url.startsWith("/") && !url.startsWith("//") ? url : "#";
    a.textContent = alert.title || alert.rule || "Alert";
    return a;
  }

  function applyState(data) {
    if (!data || !Array.isArray(data.rows)) return;
    for (const r of data.rows) {
      const row = rowFor(r.user_id);
      if (!row) continue;
      setStatus(row, r.status);
      setWords(row, r.word_count);
      setText(row, ".js-today", r.words_today);
      if (r.last_activity_at) setLast(row, r.last_activity_at);
      for (const alert of r.alerts || []) applyAlert(alert, false);
    }
    for (const alert of data.alerts || []) applyAlert(alert, false);
    tick();
  }

  // ---- cells -----------------------------------------------------------------------------------------------
  function setText(row, selector, value) {
    const el = row.querySelector(selector);
    if (el) el.textContent = String(value);
  }

  function setStatus(row, status) {
    row.dataset.status = status;
    const badge = row.querySelector(".js-status");
    badge.className = `badge badge--${status} js-status`;
    badge.textContent = STATUS[status] || status;
  }

  function setWords(row, words) {
    row.dataset.wordCount = String(words);
    setText(row, ".js-words", words);
    const now = Date.now();
    for (const li of row.querySelectorAll(".live-stage")) {
      const target = li.dataset.target === "" ? null : Number(li.dataset.target);
      const due = li.dataset.due ? Date.parse(li.dataset.due) : null;
      let status = "no_target";
      if (target !== null) status = words >= target ? "met" : due !== null && due < now ? "missed" : "open";
      li.className = `live-stage live-stage--${status}`;
      li.querySelector(".js-stage-status").textContent = STAGE[status];
    }
  }

  function setLast(row, iso) {
    if (!iso || (row.dataset.lastActivity && Date.parse(row.dataset.lastActivity) >= Date.parse(iso))) return;
    row.dataset.lastActivity = iso;
    const cell = row.querySelector(".js-last");
    cell.textContent = "";
    const time = document.createElement("time");
    time.dateTime = iso;
    time.textContent = formatTime(iso);
    cell.append(time);
  }

  // "Writing now": a batch within the last two minutes, and not submitted.
  function tick() {
    const now = Date.now();
    for (const row of root.querySelectorAll("tr[data-user-id]")) {
      const last = row.dataset.lastActivity ? Date.parse(row.dataset.lastActivity) : NaN;
      const writing = row.dataset.status === "in_progress" && Number.isFinite(last) && now - last <= writingNowMs;
      const cell = row.querySelector(".js-writing");
      if ((cell.dataset.writing === "1") === writing) continue;
      cell.dataset.writing = writing ? "1" : "0";
      cell.textContent = "";
      if (writing) {
        const dot = document.createElement("span");
        dot.className = "live-dot";
        dot.setAttribute("aria-hidden", "true");
        const label = document.createElement("span");
        label.textContent = "Writing now";
        cell.append(dot, " ", label);
      } else {
        const no = document.createElement("span");
        no.className = "muted";
        no.textContent = "No";
        cell.append(no);
      }
    }
  }

  function flashRow(row) {
    row.classList.add("live-row--flash");
    setTimeout(() => row.classList.remove("live-row--flash"), 1500);
  }

  function flash(text) {
    flashEl.textContent = text;
    clearTimeout(flashTimer);
    flashTimer = setTimeout(() => {
      flashEl.textContent = "";
    }, 15_000);
  }

  function isToday(iso) {
    const d = new Date(iso);
    const now = new Date();
    return d.getUTCFullYear() === now.getUTCFullYear() && d.getUTCMonth() === now.getUTCMonth() && d.getUTCDate() === now.getUTCDate();
  }

  function formatTime(iso) {
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) return "";
    const pad = (n) => String(n).padStart(2, "0");
    return `${pad(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()}, ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())} UTC`;
  }

  for (const row of root.querySelectorAll("tr[data-user-id]")) {
    row.querySelector(".js-writing").dataset.writing = row.querySelector(".live-dot") ? "1" : "0";
  }
  setInterval(tick, TICK_MS);
  setMode("reconnecting", "Connecting…");
  connect();
}
