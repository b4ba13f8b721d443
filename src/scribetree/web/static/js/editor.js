// The writing editor (templates/writing/write.html). No framework, no build step, no inline script (CSP).
//
// Every change of the <textarea> becomes an operation of the writing API (docs/api.md, "Writing"): the text
// before and after each input event are compared (common prefix and suffix, kept on whole code points), and
// the event's inputType says what kind of change it was (typing, paste, cut, undo/redo, drop, IME...). So
// whatever the browser does, the operations always reproduce the text in the box. Positions go to the server
// in Unicode code points; each op also keeps its UTF-16 index (_p, _l) for applying it here.
//
// Operations are sent in batches, one request at a time, at most every ~2 s: {session_id, seq, base_revision,
// ops, content_hash}. Everything not yet acknowledged is kept in localStorage (per document and tab session)
// before it is sent, so a reload or a lost connection loses nothing: the next page load of this document
// adopts what an earlier (closed) tab left, shows its text and sends it. A stale base revision (another tab or
// device) is rebased onto the server's text when the changes do not overlap; otherwise the server's text is
// kept and the local text is offered to copy, never dropped silently.

const SEND_EVERY_MS = 2000;
const POLL_MS = 30000; // while idle; also whenever the tab becomes visible again
const ORPHAN_MS = 90000; // longer than Chrome's slowest timer in a hidden tab (once a minute)
const KEY_PREFIX = "scribetree.editor.";
const MAX_OPS_PER_BATCH = 400;
// Text removed from a document in this tab (cut, deleted, typed or pasted over), newest last, at most this many
// UTF-16 units per document: pasting it back is the student moving their own words, not a paste from outside.
// Kept in sessionStorage: it survives a reload, and goes when the tab closes (no deleted words left on a shared
// computer).
const REMOVED_KEY_PREFIX = "scribetree.removed.";
const REMOVED_KEEP = 50000;
const REMOVED_SEP = "\u0000"; // never in pasted text, so a match cannot straddle two removals

const area = document.getElementById("editor");
const dataEl = document.getElementById("editor-data");
const statusEl = document.getElementById("save-status");
const noticeEl = document.getElementById("editor-notice");
const wordsEl = document.querySelector("#word-count [data-words]");
const csrf = document.querySelector('meta[name="csrf-token"]')?.content ?? "";

// ---- text helpers -----------------------------------------------------------------------------------------

const isHigh = (c) => c >= 0xd800 && c <= 0xdbff;
const isLow = (c) => c >= 0xdc00 && c <= 0xdfff;

/** Code points in text[0:end) (UTF-16 index -> code point index). */
export function cpCount(text, end = text.length) {
  let n = 0;
  for (let i = 0; i < end; i++) {
    const c = text.charCodeAt(i);
    if (!(isLow(c) && i > 0 && isHigh(text.charCodeAt(i - 1)))) n++;
  }
  return n;
}

/** The changed stretch between a and b, on whole code points; `caret` (the caret in b) picks among equal
 * answers (typing "a" after "a" is an insert where the caret is). */
export function diffRange(a, b, caret = -1) {
  let maxSuffix = Math.min(a.length, b.length);
  if (caret >= 0 && caret <= b.length) maxSuffix = Math.min(maxSuffix, b.length - caret);
  let s = 0;
  while (s < maxSuffix && a.charCodeAt(a.length - 1 - s) === b.charCodeAt(b.length - 1 - s)) s++;
  const maxPrefix = Math.min(a.length, b.length) - s;
  let p = 0;
  while (p < maxPrefix && a.charCodeAt(p) === b.charCodeAt(p)) p++;
  if (p > 0 && isHigh(a.charCodeAt(p - 1))) p--;
  if (s > 0 && isLow(b.charCodeAt(b.length - s))) s--;
  return { start: p, oldEnd: a.length - s, newEnd: b.length - s };
}

/** Apply ops (with their UTF-16 fields) to a text. */
export function apply16(text, ops) {
  for (const op of ops) {
    if (op.kind === "focus") continue;
    text = text.slice(0, op._p) + (op.text ?? "") + text.slice(op._p + (op._l ?? 0));
  }
  return text;
}

/** How an insert was entered, from InputEvent.inputType (writing/ops.py VIAS); null for plain typing.
 * Assistive input is typing, never pasting: an IME commit (recorded once at compositionend), voice dictation,
 * autocorrect or spelling replacement, drag and drop, and anything else that is not a keystroke or a paste. */
export function inputVia(type) {
  if (!type || type === "insertText" || type === "insertLineBreak" || type === "insertParagraph") return null;
  if (type === "insertCompositionText") return "ime";
  if (type === "insertReplacementText") return "autocorrect";
  if (type === "insertFromDrop") return "drop";
  if (/dictation|voice|speech/i.test(type)) return "dictation";
  return "other";
}

const wire = (op) => Object.fromEntries(Object.entries(op).filter(([k]) => !k.startsWith("_")));
const byteLength = (s) => new TextEncoder().encode(s).length;

async function sha256(text) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

// Words as the server counts them (writing/ops.py): runs of letters, digits and marks joined by ' ’ -, and one
// word per Chinese/Japanese character.
const CJK = "\\u3040-\\u30ff\\u31f0-\\u31ff\\u3400-\\u4dbf\\u4e00-\\u9fff\\uf900-\\ufaff\\uff66-\\uff9f" +
  "\\u{20000}-\\u{2fa1f}\\u{30000}-\\u{3134f}";
const RUN = `(?:(?![${CJK}])[\\p{L}\\p{N}_\\p{M}])`;
const WORD = new RegExp(`[${CJK}]|${RUN}+(?:['\\u2019\\-]${RUN}+)*`, "gu");
export function wordCount(text) {
  let n = 0;
  WORD.lastIndex = 0;
  while (WORD.exec(text) !== null) n++;
  return n;
}

// ---- the editor -------------------------------------------------------------------------------------------

class Editor {
  constructor(data) {
    this.docId = data.documentId;
    this.api = data.api;
    this.limits = data.limits;
    this.wordMin = data.wordMin;
    this.wordMax = data.wordMax;
    this.maxOps = Math.max(1, Math.min(MAX_OPS_PER_BATCH, data.limits.max_batch_ops));
    this.maxBytes = Math.floor(data.limits.max_batch_bytes * 0.9);
    this.inflight = null; // {seq, base_revision, ops, text, content_hash}
    this.buffer = []; // ops after the in-flight batch (or after the acknowledged text)
    this.sending = false;
    this.blocked = null; // a refusal that only a new edit can fix (document too large)
    this.readOnly = false;
    this.offline = !navigator.onLine;
    this.focusState = null;
    this.retryAt = 0;
    this.backoff = SEND_EVERY_MS;
    this.rescue = null;
    this.lastType = null;
    this.removed = this.loadRemoved();

    const adopted = this.adopt();
    if (adopted) {
      Object.assign(this, adopted.state);
    } else {
      this.sessionId = crypto.randomUUID();
      this.seq = 1;
      this.revision = data.revision;
      this.ackText = data.text;
      this.shadow = data.text;
    }
    this.rememberSession();
    area.value = this.shadow;
    const normalise = area.value !== this.shadow && data.status !== "submitted";
    if (data.status === "submitted") {
      // Left unsaved by an earlier tab, but the document was submitted since: offer the text to copy.
      if (this.shadow !== data.text) this.rescue = this.shadow;
      this.inflight = null;
      this.buffer = [];
      this.ackText = this.shadow = data.text;
      area.value = data.text;
      this.setReadOnly(false);
    } else {
      area.readOnly = false;
      // The box normalises line breaks (\r\n -> \n): record that as an edit, so the log matches what is shown.
      if (normalise) this.record("normalize");
      this.listen();
      this.setStatus(this.pending ? "saving" : "saved");
    }
    this.updateWords();
    if (adopted) {
      const n = [...(this.inflight?.ops ?? []), ...this.buffer].filter((op) => op.kind !== "focus").length;
      if (n) this.notice("info", `${n} unsaved ${n === 1 ? "change was" : "changes were"} kept on this device; saving now.`);
      if (this.rescue) this.conflictNotice(this.rescue);
      this.persist();
    }
    this.timer = setInterval(() => this.tick(), SEND_EVERY_MS);
    this.pollTimer = setInterval(() => this.poll(), POLL_MS);
    if (this.pending) this.send();
  }

  rememberSession() {
    try {
      sessionStorage.setItem(`${KEY_PREFIX}${this.docId}.session`, this.sessionId);
    } catch {
      // no sessionStorage: a reload adopts what it left once its heartbeat is old
    }
  }

  get pending() {
    return this.inflight !== null || this.buffer.length > 0;
  }

  get key() {
    return `${KEY_PREFIX}${this.docId}.${this.sessionId}`;
  }

  // ---- local storage ----------------------------------------------------------------------------------------

  loadRemoved() {
    try {
      return sessionStorage.getItem(REMOVED_KEY_PREFIX + this.docId) ?? "";
    } catch {
      return "";
    }
  }

  /** Keep `text` among what was removed from this document (see REMOVED_KEEP), in memory and for this tab. */
  rememberRemoved(text) {
    const all = this.removed + REMOVED_SEP + text;
    this.removed = all.length > REMOVED_KEEP ? all.slice(all.length - REMOVED_KEEP) : all;
    this.soon("removed", () => {
      try {
        sessionStorage.setItem(REMOVED_KEY_PREFIX + this.docId, this.removed);
      } catch {
        // storage full or blocked: the memory of this page still counts
      }
    }, 1000);
  }

  /** Whether pasted text was already in this document: in it now, or removed from it earlier in this tab. */
  seenInDocument(before, pasted) {
    return before.includes(pasted) || this.removed.includes(pasted);
  }

  /** What a closed tab (or this tab before a reload) left unsent for this document. */
  adopt() {
    const prefix = `${KEY_PREFIX}${this.docId}.`;
    let best = null;
    let ownSession = null;
    try {
      ownSession = sessionStorage.getItem(`${prefix}session`);
    } catch {
      ownSession = null;
    }
    try {
      for (let i = 0; i < localStorage.length; i++) {
        const key = localStorage.key(i);
        if (!key?.startsWith(prefix)) continue;
        let entry;
        try {
          entry = JSON.parse(localStorage.getItem(key));
        } catch {
          continue;
        }
        // This tab's own entry (the session id survives a reload in sessionStorage), or one a closed tab left.
        const mine = entry && entry.sessionId === ownSession;
        const orphan = entry && (mine || entry.closed || Date.now() - (entry.alive ?? 0) > ORPHAN_MS);
        if (orphan && (!best || mine || (entry.alive > best.entry.alive && !best.mine))) best = { key, entry, mine };
      }
    } catch {
      return null; // storage blocked: start fresh
    }
    if (!best) return null;
    const e = best.entry;
    localStorage.removeItem(best.key);
    return {
      state: {
        sessionId: e.sessionId,
        seq: e.seq,
        revision: e.revision,
        ackText: e.ackText,
        shadow: e.text,
        inflight: e.inflight,
        buffer: e.buffer ?? [],
        rescue: e.rescue ?? null,
      },
    };
  }

  persist({ closed = false } = {}) {
    try {
      if (!this.pending && !this.rescue) {
        localStorage.removeItem(this.key);
        return true;
      }
      const entry = {
        v: 1,
        sessionId: this.sessionId,
        seq: this.seq,
        revision: this.revision,
        ackText: this.ackText,
        text: this.shadow,
        inflight: this.inflight,
        buffer: this.buffer,
        rescue: this.rescue,
        alive: Date.now(),
        closed: closed || this.closing === true,
      };
      localStorage.setItem(this.key, JSON.stringify(entry));
      return true;
    } catch {
      this.setStatus("error", "This browser cannot keep unsaved changes (storage is full or blocked). Keep this tab open until it says Saved.");
      return false;
    }
  }

  // ---- capturing edits --------------------------------------------------------------------------------------

  listen() {
    area.addEventListener("beforeinput", (e) => {
      this.lastType = e.inputType; // the input event's own inputType wins; this covers browsers that omit it
    });
    area.addEventListener("input", (e) => {
      if (e.isComposing || this.composing) return; // recorded once at compositionend
      this.record(e.inputType || this.lastType || "");
    });
    // An IME (CJK input, Android keyboards, some voice typing) composes text in place; its commit is recorded as
    // one insert marked via "ime" (typing, not pasting), whatever the browser reports in between.
    area.addEventListener("compositionstart", () => {
      this.composing = true;
    });
    area.addEventListener("compositionend", () => {
      this.composing = false;
      this.record("insertCompositionText");
    });
    area.addEventListener("focus", () => this.focusOp("gained"));
    area.addEventListener("blur", () => this.focusOp("lost"));
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "hidden") {
        this.focusOp("lost");
        this.persist({ closed: false });
      } else {
        if (document.activeElement === area) this.focusOp("gained");
        this.poll();
      }
    });
    window.addEventListener("pagehide", () => {
      this.closing = true;
      this.persist({ closed: true });
    });
    window.addEventListener("pageshow", (e) => {
      if (e.persisted) this.closing = false; // back from the back-forward cache
    });
    window.addEventListener("online", () => {
      this.offline = false;
      this.retryAt = 0;
      this.send();
    });
    window.addEventListener("offline", () => {
      this.offline = true;
      this.setStatus(this.pending ? "offline" : "saved");
    });
  }

  focusOp(state) {
    if (this.readOnly || this.focusState === state) return;
    this.focusState = state;
    this.buffer.push({ kind: "focus", t: Date.now(), state });
    this.persist();
  }

  /** Turn the difference between the last recorded text and the box into ops. */
  record(type) {
    if (this.readOnly) return;
    const before = this.shadow;
    const after = area.value;
    this.lastType = null;
    if (after === before) return;
    const { start, oldEnd, newEnd } = diffRange(before, after, area.selectionEnd);
    const removed = before.slice(start, oldEnd);
    const inserted = after.slice(start, newEnd);
    const t = Date.now();
    const pos = cpCount(before, start);
    if (removed.length > 1) this.rememberRemoved(removed); // a key's one character tells nothing
    if (type === "historyUndo" || type === "historyRedo") {
      const op = { kind: type === "historyUndo" ? "undo" : "redo", t, pos, len: cpCount(removed), _p: start, _l: removed.length };
      if (inserted) op.text = inserted;
      this.buffer.push(op);
    } else {
      if (removed) {
        const kind = type === "deleteByCut" ? "cut" : "delete";
        this.buffer.push({ kind, t, pos, len: cpCount(removed), _p: start, _l: removed.length });
      }
      if (inserted) {
        const paste = type === "insertFromPaste" || type === "insertFromPasteAsQuotation";
        const via = paste ? null : inputVia(type);
        const extra = paste ? { seen_in_doc: this.seenInDocument(before, inserted) } : via ? { via } : {};
        // A very long paste goes in pieces that each fit a batch (at most 3 bytes of UTF-8 per UTF-16 unit).
        const size = Math.max(2, Math.floor(this.maxBytes / 3));
        let p16 = start;
        let cp = pos;
        for (let i = 0; i < inserted.length;) {
          let j = Math.min(inserted.length, i + size);
          if (j < inserted.length && isHigh(inserted.charCodeAt(j - 1))) j--;
          const piece = inserted.slice(i, j);
          this.buffer.push({ kind: paste ? "paste" : "insert", t, pos: cp, text: piece, ...extra, _p: p16, _l: 0 });
          p16 += piece.length;
          cp += cpCount(piece);
          i = j;
        }
      }
    }
    this.shadow = after;
    this.blocked = null;
    this.soon("words", () => this.updateWords(), after.length > 20000 ? 300 : 0);
    this.soon("persist", () => this.persist(), 250); // and always before sending, and when the page goes away
    if (!this.sending) this.setStatus(this.offline ? "offline" : "saving");
  }

  /** Run `fn` once after `ms` however often it is asked for meanwhile (long texts: not on every key). */
  soon(name, fn, ms) {
    this.timers ??= {};
    if (ms === 0) return fn();
    if (this.timers[name]) return;
    this.timers[name] = setTimeout(() => {
      this.timers[name] = null;
      fn();
    }, ms);
  }

  updateWords() {
    if (!wordsEl) return;
    const n = wordCount(this.shadow);
    wordsEl.textContent = String(n);
    const label = document.querySelector("#word-count [data-words-label]");
    if (label) label.textContent = n === 1 ? "word" : "words";
    const box = wordsEl.parentElement;
    box.classList.toggle("word-count--over", this.wordMax != null && n > this.wordMax);
    box.classList.toggle("word-count--under", this.wordMin != null && n < this.wordMin);
  }

  // ---- sending ----------------------------------------------------------------------------------------------

  tick() {
    if (this.pending) this.persist();
    if (!this.sending && this.pending && !this.blocked && Date.now() >= this.retryAt) this.send();
  }

  /** Move the next ops of the buffer into the in-flight batch (within the op and byte limits). */
  cut() {
    let n = 0;
    let bytes = 0;
    while (n < this.buffer.length && n < this.maxOps) {
      const size = this.buffer[n].text ? byteLength(this.buffer[n].text) : 0;
      if (n > 0 && bytes + size > this.maxBytes) break;
      bytes += size;
      n++;
    }
    const ops = this.buffer.splice(0, n);
    this.inflight = { seq: this.seq, base_revision: this.revision, ops, text: apply16(this.ackText, ops), content_hash: null };
  }

  async send() {
    if (this.sending || this.readOnly || !this.pending || this.blocked) return;
    this.sending = true;
    try {
      if (!this.inflight) this.cut();
      const batch = this.inflight;
      if (!batch.content_hash) batch.content_hash = await sha256(batch.text);
      if (batch !== this.inflight) return; // replaced meanwhile (a conflict)
      this.persist(); // kept before it goes out
      this.setStatus("saving");
      let response;
      try {
        response = await fetch(`${this.api}/documents/${this.docId}/batches`, {
          method: "POST",
          headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
          body: JSON.stringify({
            session_id: this.sessionId,
            seq: batch.seq,
            base_revision: batch.base_revision,
            ops: batch.ops.map(wire),
            content_hash: batch.content_hash,
          }),
        });
      } catch {
        this.offline = true;
        this.later();
        this.setStatus("offline");
        return;
      }
      this.offline = false;
      const body = await response.json().catch(() => ({}));
      if (batch !== this.inflight) return;
      if (response.ok) {
        this.acknowledged(batch, body);
      } else {
        await this.refused(batch, response.status, body);
      }
    } catch (err) {
      this.later();
      this.setStatus("error", `Saving failed (${err?.message ?? err}); your changes are kept on this device and will be sent again.`);
    } finally {
      this.sending = false;
    }
    // More to send right away only after a refusal that was fixed; new edits wait for the next tick.
    if (this.resendNow) {
      this.resendNow = false;
      this.send();
    }
  }

  later() {
    this.failures = (this.failures ?? 0) + 1;
    this.retryAt = Date.now() + this.backoff;
    this.backoff = Math.min(this.backoff * 2, 30000);
  }

  acknowledged(batch, body) {
    this.inflight = null;
    this.ackText = batch.text;
    this.revision = body.revision;
    this.seq = batch.seq + 1;
    this.backoff = SEND_EVERY_MS;
    this.retryAt = 0;
    this.persist();
    this.setStatus(this.pending ? "saving" : "saved");
  }

  async refused(batch, status, body) {
    const code = body.error ?? "";
    if (status === 409 && code === "StaleRevision" && body.current) {
      this.rebase(body.current);
      this.resendNow = true;
    } else if (status === 409 && code === "SeqGap" && Number.isInteger(body.expected_seq) && body.expected_seq !== batch.seq) {
      batch.seq = body.expected_seq;
      this.seq = body.expected_seq;
      this.persist();
      this.resendNow = true;
    } else if (status === 409 && code === "SeqReused") {
      localStorage.removeItem(this.key);
      this.sessionId = crypto.randomUUID();
      this.rememberSession();
      this.seq = 1;
      batch.seq = 1;
      this.persist();
      this.resendNow = true;
    } else if (status === 409 && code === "DocumentSubmitted") {
      const local = this.shadow;
      const lost = local !== this.ackText;
      this.inflight = null;
      this.buffer = [];
      area.value = this.ackText;
      this.shadow = this.ackText;
      if (lost) this.conflictNotice(local, "This document was submitted (in another tab or device), so your latest changes could not be saved.");
      this.persist();
      this.setReadOnly(!lost); // the notice with the text to copy says it already
    } else if (status === 413 && code === "BatchTooLarge" && batch.ops.length > 1) {
      const half = Math.ceil(batch.ops.length / 2);
      this.maxOps = Math.max(1, Math.min(this.maxOps, half));
      this.buffer = [...batch.ops.slice(half), ...this.buffer];
      batch.ops = batch.ops.slice(0, half);
      batch.text = apply16(this.ackText, batch.ops);
      batch.content_hash = null;
      this.persist();
      this.resendNow = true;
    } else if (status === 413) {
      // The document would be too large (or one paste is too big): nothing is lost; the next edit tries again.
      this.buffer = [...batch.ops, ...this.buffer];
      this.inflight = null;
      this.blocked = code;
      this.persist();
      const limit = body.limit ? ` The limit is ${Number(body.limit).toLocaleString()}${code === "DocumentTooLarge" ? " characters" : ""}.` : "";
      this.setStatus("error", `Not saved: ${body.detail ?? "too large."}${limit} Shorten the text to save it; your changes are kept on this device.`);
    } else if (status === 401) {
      this.later();
      this.setStatus("error", "You are signed out. Sign in again in another tab; your changes are kept on this device and will be sent then.");
    } else if (status === 403 || status === 404) {
      this.setReadOnly(true);
      this.setStatus("error", `${body.detail ?? "You cannot change this document."} Your unsaved text is kept on this device.`);
    } else if (status === 422) {
      // A hash mismatch or an op the server refuses: take the server's text, offer ours to copy.
      await this.reload(`Your latest changes could not be saved (${code || "refused"}).`);
    } else {
      this.later();
      this.setStatus("error", `Saving failed (${body.detail ?? `error ${status}`}). Your changes are kept on this device and will be sent again.`);
    }
  }

  /** Another tab or device changed the text: replay our unsent ops on the server's text if they do not overlap. */
  rebase(current) {
    const base = this.ackText;
    const server = current.text;
    const ops = [...(this.inflight?.ops ?? []), ...this.buffer];
    const { start, oldEnd, newEnd } = diffRange(base, server);
    let rs = start;
    let re = oldEnd;
    const serverLen = newEnd - start;
    const cpShift = cpCount(server.slice(start, newEnd)) - cpCount(base.slice(start, oldEnd));
    const rebased = [];
    let text = server;
    let ok = true;
    for (const op of ops) {
      if (op.kind === "focus") {
        rebased.push(op);
        continue;
      }
      const len = op._l ?? 0;
      const delta = (op.text ?? "").length - len;
      if (op._p + len <= rs) {
        rebased.push({ ...op });
        rs += delta;
        re += delta;
      } else if (op._p >= re) {
        rebased.push({ ...op, _p: op._p + serverLen - (re - rs), pos: op.pos + cpShift });
      } else {
        ok = false;
        break;
      }
      text = apply16(text, [rebased[rebased.length - 1]]);
    }
    const caret = area.selectionEnd;
    const local = this.shadow;
    this.inflight = null;
    this.ackText = server;
    this.revision = current.revision;
    if (!ok) {
      this.buffer = [];
      this.show(server, caret <= rs ? caret : caret - (re - rs) + serverLen);
      this.conflictNotice(local);
      this.setStatus("saved"); // what the box shows now is the saved text
    } else {
      this.buffer = rebased;
      let newCaret = caret;
      if (caret >= re) newCaret = caret + serverLen - (re - rs);
      else if (caret > rs) newCaret = rs + serverLen;
      this.show(text, newCaret);
      if (server !== base) this.notice("info", "Changes made in another tab or device were combined with yours.");
    }
    this.persist();
  }

  show(text, caret) {
    this.remoteChanges = (this.remoteChanges ?? 0) + 1; // only changes from elsewhere come through here
    const focused = document.activeElement === area;
    area.value = text;
    this.shadow = area.value;
    if (focused) area.setSelectionRange(caret, caret);
    this.updateWords();
  }

  /** Fetch the server's document and show it; keep the local text to copy. */
  async reload(why) {
    const local = this.shadow;
    try {
      const r = await fetch(`${this.api}/documents/${this.docId}`);
      if (!r.ok) throw new Error(`error ${r.status}`);
      const doc = await r.json();
      this.inflight = null;
      this.buffer = [];
      this.ackText = doc.text;
      this.revision = doc.revision;
      this.show(doc.text, area.selectionEnd);
      if (local !== doc.text) this.conflictNotice(local, why);
      this.persist();
      if (doc.status === "submitted") this.setReadOnly(true);
      else this.setStatus("saved");
    } catch (err) {
      this.later();
      this.setStatus("error", `${why} Reloading the document failed too (${err.message}); try again in a moment.`);
    }
  }

  /** While idle, pick up what another tab or device saved. */
  async poll() {
    if (this.readOnly || this.pending || this.sending || document.visibilityState === "hidden") return;
    let doc;
    try {
      const r = await fetch(`${this.api}/documents/${this.docId}`);
      if (!r.ok) return;
      doc = await r.json();
    } catch {
      return;
    }
    if (this.pending || this.sending || doc.revision <= this.revision) return;
    const caret = area.selectionEnd;
    const { start, oldEnd, newEnd } = diffRange(this.ackText, doc.text);
    this.ackText = doc.text;
    this.revision = doc.revision;
    this.show(doc.text, caret >= oldEnd ? caret + newEnd - oldEnd : Math.min(caret, start));
    if (doc.status === "submitted") this.setReadOnly(true);
  }

  /** Send everything now (before submitting): "saved", "unsaved" (offline, refused, too slow) or "changed" (text
   * from another tab or device came in meanwhile, so what the student confirmed is not what would be submitted). */
  async flush(timeoutMs = 15000) {
    const remote = this.remoteChanges ?? 0;
    const outcome = await this.sendPending(timeoutMs);
    if ((this.remoteChanges ?? 0) > remote) return "changed";
    return outcome ? "saved" : "unsaved";
  }

  async sendPending(timeoutMs) {
    const until = Date.now() + timeoutMs;
    this.retryAt = 0;
    while (this.pending && Date.now() < until) {
      if (this.blocked || this.readOnly) return false;
      if (this.sending) {
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      const failures = this.failures ?? 0;
      await this.send();
      if ((this.failures ?? 0) > failures) return false; // offline or refused: the status says why
    }
    return !this.pending;
  }

  // ---- showing state ----------------------------------------------------------------------------------------

  setStatus(state, message) {
    if (!statusEl) return;
    const text = {
      saved: "Saved",
      saving: "Saving…",
      offline: "Offline — changes kept on this device",
      readonly: "Submitted — read-only",
    }[state] ?? message ?? "";
    const was = statusEl.dataset.state;
    statusEl.dataset.state = state;
    if (statusEl.textContent !== (message && state === "error" ? message : text)) {
      statusEl.textContent = state === "error" ? message : text;
    }
    // The visible status changes every few seconds while typing; a screen reader is told only what needs
    // attention: going offline, a refusal, read-only, and that everything is saved again after one of those.
    const announce = document.getElementById("save-announce");
    if (!announce || state === was) return;
    if (state === "offline" || state === "error" || state === "readonly") {
      announce.textContent = statusEl.textContent;
      this.troubleAnnounced = state !== "readonly";
    } else if (state === "saved" && this.troubleAnnounced) {
      announce.textContent = "All changes saved.";
      this.troubleAnnounced = false;
    }
  }

  setReadOnly(announce) {
    this.readOnly = true;
    area.readOnly = true;
    document.getElementById("submit-open")?.setAttribute("hidden", "");
    this.setStatus("readonly");
    if (announce) this.notice("info", "This document is submitted, so it is read-only. Reload the page to see the receipt.");
  }

  notice(kind, message) {
    if (!noticeEl) return;
    const box = document.createElement("div");
    box.className = `callout callout--${kind}`;
    const p = document.createElement("p");
    p.textContent = message;
    box.append(p, this.dismissButton(box));
    noticeEl.replaceChildren(box);
    noticeEl.hidden = false;
  }

  conflictNotice(localText, why) {
    this.rescue = localText;
    if (!noticeEl) return;
    const box = document.createElement("div");
    box.className = "callout callout--warning";
    box.setAttribute("role", "alert");
    const p = document.createElement("p");
    p.textContent = `${why ?? "Your latest changes overlap with changes made in another tab or device, so they could not be combined."} ` +
      "The editor shows the saved text. Your version is below: copy what you need back in.";
    const label = document.createElement("label");
    label.className = "field__label";
    label.htmlFor = "rescued-text";
    label.textContent = "Your version (not saved)";
    const copy = document.createElement("textarea");
    copy.className = "input rescued-text";
    copy.id = "rescued-text";
    copy.readOnly = true;
    copy.rows = 6;
    copy.value = localText;
    const actions = document.createElement("div");
    actions.className = "form-actions";
    const copyButton = document.createElement("button");
    copyButton.type = "button";
    copyButton.className = "btn btn-secondary btn-small";
    copyButton.textContent = "Copy my version";
    copyButton.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(localText);
        copyButton.textContent = "Copied";
      } catch {
        copy.select();
        copyButton.textContent = "Selected: press Ctrl+C or ⌘C";
      }
    });
    actions.append(copyButton, this.dismissButton(box, () => {
      this.rescue = null;
      this.persist();
    }));
    box.append(p, label, copy, actions);
    noticeEl.replaceChildren(box);
    noticeEl.hidden = false;
  }

  dismissButton(box, then) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "btn btn-quiet btn-small";
    b.textContent = "Dismiss";
    b.addEventListener("click", () => {
      box.remove();
      if (!noticeEl.children.length) noticeEl.hidden = true;
      then?.();
      area.focus();
    });
    return b;
  }
}

// ---- submitting -------------------------------------------------------------------------------------------

/** Links out of the editor (History) send the last changes first, so the page they open (a checkpoint made
 * there, a diff) has them; after a few seconds without an answer they go anyway: the changes stay on this device. */
function saveBeforeLeaving(editor) {
  for (const link of document.querySelectorAll("a[data-save-first]")) {
    link.addEventListener("click", async (event) => {
      if (!editor.pending || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return;
      event.preventDefault();
      link.setAttribute("aria-busy", "true");
      link.textContent = "Saving…";
      await editor.sendPending(5000);
      window.location.assign(link.href);
    });
  }
}

function submitDialog(editor) {
  const open = document.getElementById("submit-open");
  const dialog = document.getElementById("submit-dialog");
  const form = document.getElementById("submit-form");
  if (!open || !dialog || !form || editor.readOnly) return;
  const cancel = document.getElementById("submit-cancel");
  const confirm = document.getElementById("submit-confirm");
  const words = dialog.querySelector("[data-submit-words]");
  const warning = dialog.querySelector("[data-word-warning]");
  open.hidden = false;
  let seen = 0; // changes from elsewhere shown before the dialog opened: the text the student confirms
  open.addEventListener("click", () => {
    seen = editor.remoteChanges ?? 0;
    const n = wordCount(editor.shadow);
    words.textContent = String(n);
    let message = "";
    if (editor.wordMin != null && n < editor.wordMin) message = `This is below the minimum of ${editor.wordMin} words.`;
    if (editor.wordMax != null && n > editor.wordMax) message = `This is above the maximum of ${editor.wordMax} words.`;
    warning.textContent = message;
    warning.hidden = !message;
    dialog.showModal();
  });
  cancel.addEventListener("click", () => dialog.close());
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    confirm.disabled = true;
    confirm.textContent = "Saving your last changes…";
    let outcome = await editor.flush();
    if (outcome === "saved" && (editor.remoteChanges ?? 0) > seen) outcome = "changed";
    if (outcome !== "saved") {
      confirm.disabled = false;
      confirm.textContent = "Submit now";
      warning.textContent = outcome === "changed"
        ? "Your text was changed in another tab or device while saving, so nothing was submitted. Check it, then submit again."
        : "Your latest changes are not saved yet, so nothing was submitted. Wait until the status says Saved, then submit.";
      warning.hidden = false;
      return;
    }
    form.querySelector("[data-submit-revision]").value = String(editor.revision);
    confirm.textContent = "Submitting…";
    editor.readOnly = true; // leaving the page: nothing more to record (the answer reloads the editor)
    form.submit();
  });
}

if (area && dataEl) {
  const data = JSON.parse(dataEl.textContent);
  if (!window.isSecureContext || !crypto.subtle) {
    statusEl.dataset.state = "error";
    statusEl.textContent = "This page must be opened over a secure (https) connection to save your work.";
  } else {
    const editor = new Editor(data);
    submitDialog(editor);
    saveBeforeLeaving(editor);
    window.scribetreeEditor = editor; // for tests and debugging
  }
}
