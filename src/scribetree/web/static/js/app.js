// Progressive enhancement only: every page works without this file (plain forms, POST/redirect/GET).
// Loaded as a module (deferred, strict); no inline scripts anywhere, as the Content-Security-Policy requires.

const csrf = document.querySelector('meta[name="csrf-token"]')?.content ?? "";

// htmx requests carry the CSRF token as a header too (forms also send it as a field).
document.addEventListener("htmx:configRequest", (event) => {
  if (csrf) event.detail.headers["X-CSRF-Token"] = csrf;
});

// Announce what the server says happened (HX-Trigger: {"st:announce": {...}}) in the live region.
const live = document.getElementById("live-region");
function announce(message, kind = "success") {
  if (!live || !message) return;
  live.replaceChildren();
  const box = document.createElement("div");
  box.className = `flash flash--${kind === "error" ? "error" : kind}`;
  const p = document.createElement("p");
  p.textContent = message;
  box.append(p);
  // Clearing first and filling on the next frame makes screen readers announce repeated messages.
  requestAnimationFrame(() => live.append(box));
}
document.body.addEventListener("st:announce", (event) => announce(event.detail?.message, event.detail?.kind));

// After htmx swaps a table row, keep keyboard focus where it was (on the row's control).
document.body.addEventListener("htmx:afterSwap", (event) => {
  const target = event.detail?.elt;
  const focusable = target?.querySelector?.("[data-focus-after-swap]");
  if (focusable) focusable.focus();
});

// Error summaries and one-time secrets take focus so they are read first.
const autofocus = document.querySelector("[data-autofocus]");
if (autofocus) autofocus.focus();

// Demo accounts (development): fill the sign-in form.
const signinForm = document.getElementById("signin-form");
for (const button of document.querySelectorAll("[data-demo-email]")) {
  button.hidden = false;
  button.addEventListener("click", () => {
    if (!signinForm) return;
    signinForm.querySelector('input[name="email"]').value = button.dataset.demoEmail;
    signinForm.querySelector('input[name="password"]').value = button.dataset.demoPassword;
    signinForm.querySelector('button[type="submit"]').focus();
    announce(`Filled in ${button.dataset.demoEmail}. Press Sign in.`, "info");
  });
}

// Copy buttons (the new API token).
for (const button of document.querySelectorAll("[data-copy-target]")) {
  const input = document.getElementById(button.dataset.copyTarget);
  if (!input || !navigator.clipboard) continue;
  button.hidden = false;
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(input.value);
      button.textContent = "Copied";
      announce("The token was copied to the clipboard.");
    } catch {
      input.select();
      announce("Copying is blocked here: the token is selected, press Ctrl+C or ⌘C.", "info");
    }
  });
}

// Local times: the server writes UTC; show the reader's own clock where we know it.
for (const el of document.querySelectorAll("time[data-local-time]")) {
  const when = new Date(el.getAttribute("datetime"));
  if (!Number.isNaN(when.getTime())) {
    el.textContent = when.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", timeZoneName: "short" });
  }
}

// Branding: live preview and the same WCAG contrast check as the server (web/branding.py).
const preview = document.getElementById("brand-preview");
const brandingForm = document.getElementById("branding-form");
if (preview && brandingForm) {
  const channel = (c) => {
    const s = c / 255;
    return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  const luminance = (hex) => {
    const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
  };
  const contrast = (a, b) => {
    const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
    return (hi + 0.05) / (lo + 0.05);
  };
  const valid = (hex) => /^#[0-9a-f]{6}$/i.test(hex);
  const primaryInput = brandingForm.elements.namedItem("primary_color");
  const accentInput = brandingForm.elements.namedItem("accent_color");
  const nameInput = brandingForm.elements.namedItem("display_name");
  const ratioOut = document.querySelector("[data-contrast-ratio]");
  const nameOut = preview.querySelector("[data-preview-name]");
  const warnings = document.getElementById("contrast-warnings");
  const fallbackName = nameOut?.textContent ?? "";

  const update = () => {
    const primary = primaryInput.value;
    const accent = accentInput.value;
    if (!valid(primary) || !valid(accent)) return;
    const white = contrast("#ffffff", primary);
    preview.style.setProperty("--brand", primary);
    preview.style.setProperty("--brand-text", white >= 4.5 ? "#ffffff" : "#111418");
    preview.style.setProperty("--accent", accent);
    let link = primary;
    for (let step = 0; step <= 20 && contrast(link, "#ffffff") < 4.5; step++) {
      const f = 1 - step * 0.05;
      const [r, g, b] = [1, 3, 5].map((i) => Math.floor(parseInt(primary.slice(i, i + 2), 16) * f));
      link = `#${[r, g, b].map((v) => v.toString(16).padStart(2, "0")).join("")}`;
    }
    preview.style.setProperty("--brand-link", link);
    if (ratioOut) ratioOut.textContent = `${white.toFixed(1)}:1`;
    if (nameOut) nameOut.textContent = nameInput.value.trim() || fallbackName;
    const messages = [];
    if (white < 4.5) {
      messages.push(`White text on the primary colour ${primary} has a contrast of ${white.toFixed(1)}:1, below the ` +
        "WCAG AA minimum of 4.5:1. Scribe Tree will show dark text on it instead; choose a darker primary colour " +
        "to keep white text.");
    }
    warnings.replaceChildren(...messages.map((text) => {
      const box = document.createElement("div");
      box.className = "callout callout--warning";
      const p = document.createElement("p");
      p.textContent = text;
      box.append(p);
      return box;
    }));
  };
  for (const input of [primaryInput, accentInput, nameInput]) input.addEventListener("input", update);
  update();
}
