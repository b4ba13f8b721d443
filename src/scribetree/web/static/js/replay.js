// The replay player (templates/replay/replay.html). No framework, no build step, no inline script (CSP).
//
// It never holds the whole log: it fetches the manifest (markers, counts), the text at one revision, then
// windows of batches (GET .../replay/batches?after=R&limit=N), applying them one by one while playing and
// dropping them once applied. A jump (scrubber, a marker) fetches the state at the target revision.
//
// Ops count Unicode code points (writing/ops.py); JavaScript strings are UTF-16, so every position and length is
// converted before slicing (an emoji is one code point and two code units), as editor.js does. After each batch
// the text's SHA-256 is compared with the batch's content_hash: a difference is reported, never hidden.

const dataEl = document.getElementById("replay-data");
const textEl = document.getElementById("replay-text");
const playBtn = document.getElementById("replay-play");
const speedEl = document.getElementById("replay-speed");
const skipEl = document.getElementById("replay-skip-gaps");
const scrubber = document.getElementById("replay-scrubber");
const positionEl = document.getElementById("replay-position");
const statusEl = document.getElementById("replay-status");
const progressEl = document.getElementById("replay-progress");
const timelineEl = document.getElementById("replay-timeline");
const markersEl = document.getElementById("replay-markers");
const markersEmpty = document.getElementById("replay-markers-empty");
const startEl = document.getElementById("replay-start");
const endEl = document.getElementById("replay-end");

const REFILL_BELOW = 100; // fetch the next window when fewer batches than this are buffered
const GAP_BEAT_MS = 700; // a skipped pause still shows as a short beat
const MIN_WAIT_MS = 15;

// ---- text helpers (code points <-> UTF-16) -------------------------------------------------------------------

const isHigh = (c) => c >= 0xd800 && c <= 0xdbff;
const SURROGATE = /[\ud800-\udfff]/;

/** The UTF-16 index of code point `cp` in `text` (cp may equal the number of code points: the end). */
export function utf16Index(text, cp) {
  if (!SURROGATE.test(text)) {
    if (cp > text.length) throw new RangeError(`position ${cp} is past the end`);
    return cp;
  }
  let i = 0;
  for (let n = 0; n < cp; n++) {
    if (i >= text.length) throw new RangeError(`position ${cp} is past the end`);
    i += isHigh(text.charCodeAt(i)) && i + 1 < text.length ? 2 : 1;
  }
  return i;
}

/** Apply one stored op (code points) to `text`; returns [newText, start16, removed16, inserted16]. */
export function applyOp(text, op) {
  if (op.kind === "focus") return [text, 0, 0, 0];
  const start = utf16Index(text, op.pos);
  const end = op.len ? start + utf16Index(text.slice(start), op.len) : start;
  const inserted = op.text ?? "";
  return [text.slice(0, start) + inserted + text.slice(end), start, end - start, inserted.length];
}

/** Apply a batch's ops to a text (code points), as writing/ops.py apply() does. */
export function applyOps(text, ops) {
  for (const op of ops) text = applyOp(text, op)[0];
  return text;
}

async function sha256(text) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

// ---- pasted spans (UTF-16 ranges of the shown text), moved by later edits -----------------------------------

function moveSpans(spans, start, removed, inserted) {
  const out = [];
  const end = start + removed;
  for (const s of spans) {
    let a = s.a;
    let b = s.b;
    if (removed) {
      if (b <= start) { /* before */ } else if (a >= end) { a -= removed; b -= removed; } else {
        const left = Math.max(0, start - a);
        const right = Math.max(0, b - end);
        a = Math.min(a, start);
        b = a + left + right;
      }
    }
    if (b <= a) continue;
    if (inserted) {
      if (b <= start) out.push({ a, b });
      else if (a >= start) out.push({ a: a + inserted, b: b + inserted });
      else { out.push({ a, b: start }); out.push({ a: start + inserted, b: b + inserted }); }
    } else out.push({ a, b });
  }
  return out;
}

// ---- the player -------------------------------------------------------------------------------------------

const fmtTime = (iso) => new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });

class Player {
  constructor(data) {
    this.api = `${data.api}/documents/${data.documentId}/replay`;
    this.revisionTo = data.revisionTo;
    this.gapMs = data.gapMinutes * 60000;
    this.gapMinutes = data.gapMinutes;
    this.text = "";
    this.revision = 0;
    this.spans = [];
    this.buffer = []; // batches fetched, not yet applied (in revision order)
    this.nextAfter = 0; // the `after` of the next window (null: no more)
    this.playing = false;
    this.timer = null;
    this.generation = 0; // bumped by every jump, so answers to older requests are ignored
    this.lastAt = null;
    this.mismatch = null;
  }

  async get(path) {
    const r = await fetch(`${this.api}${path}`, { headers: { Accept: "application/json" }, credentials: "same-origin" });
    const body = await r.json().catch(() => ({}));
    if (!r.ok) throw new Error(typeof body.detail === "string" ? body.detail : `The server answered ${r.status}.`);
    return body;
  }

  status(message, state = "") {
    statusEl.textContent = message;
    statusEl.dataset.state = state;
  }

  async start() {
    progressEl.hidden = false;
    try {
      this.manifest = await this.get(`?gap_minutes=${this.gapMinutes}`);
    } catch (e) {
      progressEl.hidden = true;
      this.status(`The timeline could not be loaded: ${e.message}`, "error");
      return;
    }
    this.revisionTo = this.manifest.revision_to;
    this.pageSize = this.manifest.page_size;
    scrubber.max = String(this.revisionTo);
    scrubber.disabled = this.revisionTo === 0;
    if (this.manifest.started_at) startEl.textContent = fmtTime(this.manifest.started_at);
    if (this.manifest.ended_at) endEl.textContent = fmtTime(this.manifest.ended_at);
    this.drawMarkers();
    await this.jump(0);
    playBtn.disabled = this.revisionTo === 0;
    if (this.revisionTo === 0) this.status("Nothing has been written in this document yet.");
  }

  drawMarkers() {
    const m = this.manifest;
    const at = (rev) => `${this.revisionTo ? (100 * rev) / this.revisionTo : 0}%`;
    const add = (cls, rev) => {
      const el = document.createElement("span");
      el.className = cls;
      el.style.left = `calc(${at(rev)} - 1px)`;
      timelineEl.append(el);
    };
    const items = [];
    for (const p of m.pastes) {
      add("mark", p.revision);
      const kind = p.seen_in_doc ? "Paste of text already in the document" : "Paste";
      items.push([p.revision, `${kind}: ${p.size.toLocaleString()} characters, revision ${p.revision}, ${fmtTime(p.at)}`]);
    }
    for (const g of m.gaps) {
      add("gap", g.after_revision);
      items.push([g.after_revision, `Pause of ${Math.round(g.minutes)} minutes after revision ${g.after_revision}, ${fmtTime(g.start)}`]);
    }
    for (const r of m.restores) {
      add("restore", r.revision);
      items.push([r.revision, `An earlier version restored: revision ${r.revision}, ${fmtTime(r.at)}`]);
    }
    for (const s of m.submissions) {
      items.push([s.revision, `Submission ${s.attempt}${s.late ? " (late)" : ""}: revision ${s.revision}, ${fmtTime(s.at)}`]);
    }
    if (m.pastes_total > m.pastes.length) {
      items.push([null, `${m.pastes_total - m.pastes.length} smaller pastes are not listed.`]);
    }
    items.sort((a, b) => (a[0] ?? Infinity) - (b[0] ?? Infinity));
    for (const [rev, label] of items) {
      const li = document.createElement("li");
      if (rev === null) li.textContent = label;
      else {
        const b = document.createElement("button");
        b.type = "button";
        b.className = "btn btn-secondary btn-small";
        b.textContent = label;
        b.addEventListener("click", () => { this.pause(); this.jump(rev); });
        li.append(b);
      }
      markersEl.append(li);
    }
    markersEmpty.hidden = items.length > 0;
  }

  render() {
    const frag = document.createDocumentFragment();
    let at = 0;
    for (const s of [...this.spans].sort((x, y) => x.a - y.a)) {
      if (s.a < at) continue;
      frag.append(this.text.slice(at, s.a));
      const mark = document.createElement("mark");
      mark.className = "replay-paste";
      mark.textContent = this.text.slice(s.a, s.b);
      frag.append(mark);
      at = s.b;
    }
    frag.append(this.text.slice(at));
    textEl.replaceChildren(frag);
    textEl.dataset.revision = String(this.revision);
    scrubber.value = String(this.revision);
    const when = this.lastAt ? `, ${fmtTime(this.lastAt)}` : "";
    const label = `Revision ${this.revision} of ${this.revisionTo}${when}`;
    scrubber.setAttribute("aria-valuetext", label);
    positionEl.textContent = label;
  }

  /** Show the text at `revision` (from the server) and restart the batch window there. */
  async jump(revision) {
    const gen = ++this.generation;
    progressEl.hidden = false;
    this.status(`Loading revision ${revision}…`);
    try {
      const state = await this.get(`/state?revision=${revision}`);
      if (gen !== this.generation) return;
      this.text = state.text;
      this.revision = state.revision;
      this.spans = [];
      this.buffer = [];
      this.nextAfter = revision < this.revisionTo ? revision : null;
      this.lastAt = this.timeOf(revision);
      this.render();
      this.status(revision === this.revisionTo ? "This is the end of the writing." : `At revision ${revision}.`);
      textEl.dataset.ready = "true";
    } catch (e) {
      if (gen === this.generation) this.status(`Revision ${revision} could not be loaded: ${e.message}`, "error");
    } finally {
      if (gen === this.generation) progressEl.hidden = true;
    }
  }

  timeOf(revision) {
    const ticks = this.manifest?.ticks ?? [];
    let best = null;
    for (const t of ticks) if (t.revision <= revision) best = t.at;
    return best;
  }

  async refill() {
    if (this.nextAfter === null || this.filling) return;
    this.filling = true;
    const gen = this.generation;
    try {
      const page = await this.get(`/batches?after=${this.nextAfter}&limit=${this.pageSize}`);
      if (gen !== this.generation) return;
      this.buffer.push(...page.items);
      this.nextAfter = page.next_after;
    } finally {
      this.filling = false;
    }
  }

  /** Apply the next batch; false at the end. */
  async step() {
    const gen = this.generation;
    if (this.buffer.length < REFILL_BELOW && this.nextAfter !== null) {
      const refill = this.refill();
      if (!this.buffer.length) await refill;
      else refill.catch(() => {}); // retried at the next step
    }
    if (gen !== this.generation) return true;
    const batch = this.buffer.shift();
    if (!batch) return false;
    if (batch.base_revision !== this.revision) {
      // a restore made the revision in between: its text is a state of its own
      const state = await this.get(`/state?revision=${batch.base_revision}`);
      if (gen !== this.generation) return true;
      this.text = state.text;
      this.spans = [];
    }
    let text = this.text;
    let spans = this.spans;
    for (const op of batch.ops) {
      const [next, start, removed, inserted] = applyOp(text, op);
      spans = moveSpans(spans, start, removed, inserted);
      if (op.kind === "paste") spans.push({ a: start, b: start + inserted });
      text = next;
    }
    this.text = text;
    this.spans = spans;
    this.revision = batch.revision;
    this.lastAt = batch.at;
    this.render();
    if (crypto.subtle) {
      const hash = await sha256(text);
      if (hash !== batch.content_hash && this.mismatch === null) {
        this.mismatch = batch.revision;
        this.status(`The replayed text differs from the recorded one at revision ${batch.revision}.`, "error");
      }
    }
    return this.revision < this.revisionTo;
  }

  waitBefore(batch) {
    if (!batch || !this.lastAt) return MIN_WAIT_MS;
    const real = new Date(batch.at) - new Date(this.lastAt);
    const speed = Number(speedEl.value) || 1;
    if (skipEl.checked && real > this.gapMs) {
      this.status(`Skipped a pause of ${Math.round(real / 60000)} minutes.`);
      return GAP_BEAT_MS;
    }
    return Math.max(MIN_WAIT_MS, real / speed);
  }

  play() {
    if (this.playing) return;
    if (this.revision >= this.revisionTo) {
      this.jump(0).then(() => this.play());
      return;
    }
    this.playing = true;
    playBtn.textContent = "Pause";
    playBtn.setAttribute("aria-pressed", "true");
    if (statusEl.dataset.state !== "error") this.status("Playing.");
    const gen = this.generation;
    const tick = async () => {
      if (!this.playing || gen !== this.generation) return;
      let more;
      try {
        more = await this.step();
      } catch (e) {
        this.pause();
        this.status(`Playback stopped: ${e.message}`, "error");
        return;
      }
      if (!this.playing || gen !== this.generation) return;
      if (!more) {
        this.pause();
        if (this.mismatch === null) this.status("This is the end of the writing.");
        return;
      }
      this.timer = setTimeout(tick, this.waitBefore(this.buffer[0]));
    };
    this.timer = setTimeout(tick, MIN_WAIT_MS);
  }

  pause() {
    this.playing = false;
    clearTimeout(this.timer);
    playBtn.textContent = "Play";
    playBtn.setAttribute("aria-pressed", "false");
    if (statusEl.dataset.state !== "error") this.status("Paused.");
  }
}

if (dataEl && textEl) {
  const player = new Player(JSON.parse(dataEl.textContent));
  window.scribetreeReplay = player; // for tests and debugging
  playBtn.addEventListener("click", () => (player.playing ? player.pause() : player.play()));
  let scrubTimer = null;
  scrubber.addEventListener("input", () => {
    player.pause();
    const target = Number(scrubber.value);
    positionEl.textContent = `Revision ${target} of ${player.revisionTo}`;
    clearTimeout(scrubTimer);
    scrubTimer = setTimeout(() => player.jump(target), 150);
  });
  player.start();
}
