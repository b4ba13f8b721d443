// The similarity page: while the submission is still being compared, ask the API every few seconds and reload the
// page once the comparison is ready (the page itself is rendered on the server; nothing here touches student text).
const data = JSON.parse(document.getElementById("similarity-data")?.textContent || "{}");
const DELAYS_MS = [1000, 2000, 3000, 5000, 8000];

async function poll(attempt) {
  try {
    const r = await fetch(data.api, { headers: { Accept: "application/json" }, credentials: "same-origin" });
    if (r.ok && (await r.json()).state !== "pending") {
      window.location.reload();
      return;
    }
  } catch {
    // offline for a moment: try again below
  }
  setTimeout(() => poll(attempt + 1), DELAYS_MS[Math.min(attempt, DELAYS_MS.length - 1)]);
}

if (data.state === "pending" && data.api) poll(0);
