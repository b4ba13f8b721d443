// The "Writing partner" side panel of the editor (templates/writing/_partner_panel.html; docs/ai-partner.md).
// No framework, no inline script (CSP). Everything the server sends is shown with textContent, never as HTML,
// and the partner's questions are plain list items: nothing here can put text into the editor.
//
// The reflection gate: the student writes a reflection; the panel counts words as the server does
// (ai_partner/reflection.py), and sends how long the box was in use (seconds_spent, from the first focus) and
// how many characters came from pasting or dropping (pasted_chars), which the server cross-checks.

const dataEl = document.getElementById("partner-data");
const panel = document.getElementById("partner-panel");
const csrf = document.querySelector('meta[name="csrf-token"]')?.content ?? "";

// the same words as web/partner/routes.py KIND_LABELS
const KIND_LABELS = {
  brainstorming: "Brainstorming questions",
  organisation: "Organisation questions",
  evidence: "Evidence and reasoning questions",
  clarity: "Clarity questions",
  grammar_explanation: "Grammar explanations",
};
const WORD = /[A-Za-zÀ-ÖØ-öø-ÿ']+/g;
export const countWords = (text) => (text.match(WORD) ?? []).length;

const $ = (sel) => panel.querySelector(sel);

function el(tag, text, cls) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (cls) node.className = cls;
  return node;
}

async function post(url, body) {
  let response;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf, Accept: "application/json" },
      body: JSON.stringify(body),
      credentials: "same-origin",
    });
  } catch {
    return { ok: false, status: 0, body: { detail: "No connection. Check your network and try again." } };
  }
  let data = {};
  try {
    data = await response.json();
  } catch {
    data = {};
  }
  return { ok: response.ok, status: response.status, body: data };
}

function errorText(result) {
  const body = result.body ?? {};
  if (typeof body.detail === "string") return body.detail;
  if (Array.isArray(body.detail)) return body.detail.map((d) => d.msg ?? "").filter(Boolean).join(" ") || "Check what you wrote.";
  if (result.status === 401) return "You are signed out. Sign in again in another tab, then try again.";
  return `Something went wrong (${result.status}). Try again.`;
}

class Partner {
  constructor(data) {
    this.data = data;
    this.api = data.api;
    this.docId = data.documentId;
    this.status = $("#partner-status");
    this.reflect = $("#partner-reflect");
    this.scores = $("#partner-scores");
    this.ask = $("#partner-ask");
    this.answer = $("#partner-answer");
    this.textBox = $("#reflection-text");
    this.question = $("#partner-question");
    this.kind = data.due === "follow_up" ? "follow_up" : "initial";
    this.minWords = data.minWords;
    this.resetTiming();
    this.textBox.addEventListener("focus", () => { this.startedAt ??= Date.now(); });
    this.textBox.addEventListener("beforeinput", () => { this.before = this.textBox.value; this.startedAt ??= Date.now(); });
    this.textBox.addEventListener("input", (e) => this.onInput(e));
    $("#reflection-send").addEventListener("click", () => this.sendReflection());
    $("#partner-send").addEventListener("click", () => this.sendQuestion());
    this.question.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); this.sendQuestion(); }
    });
    this.updateCount();
  }

  resetTiming() {
    this.startedAt = null;
    this.pasted = 0;
    this.before = this.textBox.value;
  }

  onInput(e) {
    const kind = e.inputType ?? "";
    if (kind === "insertFromPaste" || kind === "insertFromDrop" || kind === "insertReplacementText") {
      // what came in: the growth of the text plus what the paste replaced (approximately: the growth)
      this.pasted += Math.max(0, this.textBox.value.length - (this.before ?? "").length);
    }
    this.before = this.textBox.value;
    this.updateCount();
  }

  updateCount() {
    const n = countWords(this.textBox.value);
    this.reflect.querySelector("[data-reflection-words]").textContent = String(n);
    for (const m of this.reflect.querySelectorAll("[data-min]")) m.textContent = String(this.minWords);
    $("#reflection-count").dataset.enough = n >= this.minWords ? "yes" : "no";
  }

  say(message, kind = "info") {
    this.status.replaceChildren(el("p", message, kind === "error" ? "callout callout--error" : kind === "warning" ? "callout callout--warning" : ""));
  }

  busy(button, on) {
    button.disabled = on;
    button.setAttribute("aria-busy", on ? "true" : "false");
  }

  showReflect(kind, minWords, prompt) {
    this.kind = kind;
    this.minWords = minWords;
    $("[data-reflect-title]").textContent = kind === "follow_up" ? "What will you change?" : "Reflect first";
    const hint = $("[data-reflect-hint]");
    hint.replaceChildren(
      document.createTextNode((prompt ?? (kind === "follow_up"
        ? "What will you change in your draft after these questions, and why?"
        : "Before you ask, write about your own thinking: what you are trying to say, where you are stuck, what you will try.")) + " At least "),
      el("span", minWords),
      document.createTextNode(" words."),
    );
    hint.lastChild.previousSibling.dataset.min = "";
    if (kind === "follow_up") {
      // read in order: the partner's questions, then "What will you change?", then its scores
      this.scores.hidden = true;
      this.answer.after(this.reflect);
      this.reflect.after(this.scores);
    }
    this.textBox.value = "";
    this.resetTiming();
    this.updateCount();
    this.reflect.hidden = false;
  }

  async sendReflection() {
    const text = this.textBox.value;
    const button = $("#reflection-send");
    const words = countWords(text);
    if (!text.trim()) {
      this.say("Write your reflection first.", "error");
      this.textBox.focus();
      return;
    }
    if (words < this.minWords) {
      this.say(`Your reflection has ${words} ${words === 1 ? "word" : "words"}; it needs at least ${this.minWords}.`, "error");
      this.textBox.focus();
      return;
    }
    const seconds = this.startedAt ? Math.max(1, Math.round((Date.now() - this.startedAt) / 1000)) : 1;
    this.busy(button, true);
    this.say("Sending your reflection…");
    const result = await post(`${this.api}/documents/${this.docId}/reflections`, {
      text,
      kind: this.kind,
      seconds_spent: Math.min(seconds, 86400),
      pasted_chars: Math.min(this.pasted, text.length),
    });
    this.busy(button, false);
    if (!result.ok) {
      this.say(errorText(result), "error");
      return;
    }
    this.showScores(result.body);
  }

  showScores(res) {
    const r = res.reflection;
    this.scores.querySelector("[data-total]").textContent = String(r.total);
    this.scores.querySelector("[data-summary]").textContent = res.summary;
    const list = this.scores.querySelector("[data-dimensions]");
    list.replaceChildren();
    for (const d of Object.values(r.scores)) {
      const li = el("li");
      li.append(el("strong", `${d.label}: ${d.score}/4`), document.createTextNode(` — ${d.reason}`));
      if (d.improve) li.append(document.createTextNode(" "), el("em", `To improve: ${d.improve}`));
      list.append(li);
    }
    const flags = this.scores.querySelector("[data-flags]");
    flags.replaceChildren(...r.flags.map((f) => el("li", f.message)));
    this.scores.hidden = false;
    this.updateLevel(res.level, res.level_change);
    if (r.accepted) {
      this.reflect.hidden = true;
      this.textBox.value = "";
      this.resetTiming();
      this.ask.hidden = !this.data.available;
      this.say(this.data.available ? "Reflection accepted. You can ask a question now." : "Reflection saved.");
    } else {
      this.say(r.gamed
        ? "This reflection did not count (see why below). Write it again in your own words."
        : `This reflection is too short: write at least ${this.minWords} words.`, "warning");
    }
    this.scores.focus();
  }

  updateLevel(level, change) {
    const box = $("#partner-level");
    if (!box || !level) return;
    box.querySelector("[data-level]").textContent = level.level.charAt(0).toUpperCase() + level.level.slice(1);
    box.querySelector("[data-level-description]").textContent = level.description;
    box.querySelector("[data-level-change]").textContent = change
      ? `(changed from ${change.from_level} to ${change.to_level}: ${change.reason})` : "";
    const kinds = level.kinds.map((k) => KIND_LABELS[k] ?? k);
    box.querySelector("[data-level-allows]").replaceChildren(
      document.createTextNode(`Allows: ${kinds.length ? kinds.join(", ") : "no kind of help in this stage"}. Requests: `),
      el("span", level.used_last_hour),
      document.createTextNode(` of ${level.budget_per_hour} this hour, `),
      el("span", level.used_last_day),
      document.createTextNode(` of ${level.budget_per_day} today.`),
    );
    const [hour, day] = box.querySelectorAll("[data-level-allows] span");
    hour.dataset.usedHour = "";
    day.dataset.usedDay = "";
  }

  async waitForSave() {
    const status = document.getElementById("save-status");
    for (let i = 0; i < 40 && status && ["saving", "loading"].includes(status.dataset.state); i++) {
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  async sendQuestion() {
    const question = this.question.value.trim();
    const button = $("#partner-send");
    if (!question) {
      this.say("Write your question first.", "error");
      this.question.focus();
      return;
    }
    this.busy(button, true);
    this.say("Saving your text, then asking the partner…");
    await this.waitForSave(); // the partner reads the server's copy of the draft
    const result = await post(`${this.api}/documents/${this.docId}/partner`, { question });
    this.busy(button, false);
    if (!result.ok) {
      const body = result.body ?? {};
      if (body.error === "ReflectionRequired") {
        this.ask.hidden = true;
        this.showReflect(body.due === "follow_up" ? "follow_up" : "initial", body.min_words ?? this.minWords);
      }
      this.say(errorText(result), result.status === 429 ? "warning" : "error");
      return;
    }
    this.showAnswer(result.body);
  }

  showAnswer(ex) {
    const refusal = this.answer.querySelector("[data-refusal]");
    refusal.textContent = ex.refusal ?? "";
    refusal.hidden = !ex.refusal;
    const list = this.answer.querySelector("[data-questions]");
    list.replaceChildren(...ex.questions.map((q) => el("li", q)));
    this.answer.hidden = false;
    this.question.value = "";
    const n = ex.questions.length;
    this.say(`The partner asked you ${n} ${n === 1 ? "question" : "questions"}.`);
    const used = $("#partner-level [data-used-hour]");
    if (used) used.textContent = String(Number(used.textContent) + 1);
    const usedDay = $("#partner-level [data-used-day]");
    if (usedDay) usedDay.textContent = String(Number(usedDay.textContent) + 1);
    if (ex.follow_up_prompt) {
      // required before the next question when the gate is on; optional (but stored) when it is off
      if (this.data.required) this.ask.hidden = true;
      this.showReflect("follow_up", this.data.followUpMin, ex.follow_up_prompt);
    }
    this.answer.focus();
  }
}

if (dataEl && panel) {
  const data = JSON.parse(dataEl.textContent);
  window.scribetreePartner = new Partner(data);
}
