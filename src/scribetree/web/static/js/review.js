// Review pages: comment on a selected passage, and move between passages and their comments.
// Progressive enhancement: without this file the comment form still works (paste the passage into "Passage").
// Offsets sent to the server are Unicode code points into the text as stored: the text element holds exactly
// that text (the server builds it with no added whitespace), so counting the code points before a selection
// boundary gives its offset.

const textEl = document.getElementById("review-text");
const form = document.getElementById("comment-form");
const button = document.getElementById("comment-selection");

const codePoints = (s) => {
  let n = 0;
  for (const _ of s) n++;
  return n;
};

// The selection inside the text as {start, end, quote}, or null.
function currentPassage() {
  if (!textEl) return null;
  const sel = window.getSelection();
  if (!sel || sel.rangeCount === 0 || sel.isCollapsed) return null;
  const range = sel.getRangeAt(0);
  if (!textEl.contains(range.startContainer) || !textEl.contains(range.endContainer)) return null;
  const before = document.createRange();
  before.selectNodeContents(textEl);
  before.setEnd(range.startContainer, range.startOffset);
  const quote = range.toString();
  if (!quote.trim()) return null;
  const start = codePoints(before.toString());
  return { start, end: start + codePoints(quote), quote };
}

if (textEl && form && button) {
  const quoteInput = form.elements.namedItem("quote");
  const startInput = form.querySelector("[data-anchor-start]");
  const endInput = form.querySelector("[data-anchor-end]");
  const bodyInput = form.elements.namedItem("body");
  let chosen = null;

  button.hidden = false;
  // The last passage selected in the text stays chosen (pressing the button must not lose it).
  const update = () => {
    const passage = currentPassage();
    if (passage) {
      chosen = passage;
      button.disabled = false;
    }
  };
  document.addEventListener("selectionchange", update);

  const use = () => {
    const passage = currentPassage() ?? chosen;
    if (!passage) return;
    quoteInput.value = passage.quote;
    startInput.value = String(passage.start);
    endInput.value = String(passage.end);
    bodyInput.focus();
  };
  button.addEventListener("click", use);
  // Keyboard: with words selected in the text, Enter (or the "c" key) starts a comment on them.
  textEl.addEventListener("keydown", (event) => {
    if ((event.key === "Enter" || event.key === "c") && !event.ctrlKey && !event.metaKey && !event.altKey) {
      if (currentPassage()) {
        event.preventDefault();
        use();
      }
    }
  });
  // Typing in the passage box by hand: the offsets no longer describe it, so the server finds the words itself.
  quoteInput.addEventListener("input", () => {
    startInput.value = "";
    endInput.value = "";
  });
}

// A highlighted passage leads to its comment, and back.
function flash(el) {
  el.classList.add("is-target");
  setTimeout(() => el.classList.remove("is-target"), 1600);
}
if (textEl) {
  textEl.addEventListener("click", (event) => {
    const mark = event.target.closest?.("mark[data-comments]");
    if (!mark || !window.getSelection()?.isCollapsed) return;
    const id = mark.dataset.comments.split(" ")[0];
    const thread = document.getElementById(`comment-${id}`);
    if (thread) {
      thread.scrollIntoView({ block: "nearest" });
      flash(thread);
    }
  });
}
for (const link of document.querySelectorAll("a[data-passage]")) {
  link.addEventListener("click", () => {
    const target = document.getElementById(`passage-${link.dataset.passage}`);
    const mark = target?.closest("mark") ?? target; // a second comment on the same words: an anchor inside the mark
    if (mark) flash(mark);
  });
}
