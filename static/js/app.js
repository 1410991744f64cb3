// Small behaviours shared by every page; no inline script anywhere, so a strict
// Content-Security-Policy can forbid it.
document.documentElement.classList.add("js");

document.addEventListener("change", (event) => {
  const field = event.target.closest("[data-autosubmit]");
  if (field && field.form) {
    field.form.requestSubmit();
  }
});

// A filter form leaves out the filters left at "any": the address stays short, and a blank
// choice never reaches a filter that would refuse it (state= is not a valid state).
document.addEventListener("htmx:configRequest", (event) => {
  const form = event.detail.elt;
  if (!form.matches || !form.matches("form[data-drop-empty]")) {
    return;
  }
  const data = event.detail.formData;
  for (const name of new Set(data.keys())) {
    const kept = data.getAll(name).filter((value) => value !== "");
    data.delete(name);
    kept.forEach((value) => data.append(name, value));
  }
});

// Keyboard: "/" focuses the page's search box, as in most work tools.
document.addEventListener("keydown", (event) => {
  if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) {
    return;
  }
  const tag = (event.target.tagName || "").toLowerCase();
  if (["input", "textarea", "select"].includes(tag) || event.target.isContentEditable) {
    return;
  }
  const search = document.querySelector("[data-search]");
  if (search) {
    event.preventDefault();
    search.focus();
  }
});

// Keyboard: a button that names an Alt shortcut (aria-keyshortcuts="Alt+I") is pressed by
// it, the same in every browser (access keys differ: Alt in Chromium, Alt+Shift in Firefox).
document.addEventListener("keydown", (event) => {
  if (!event.altKey || event.ctrlKey || event.metaKey || event.key.length !== 1) {
    return;
  }
  const shortcut = `Alt+${event.key.toUpperCase()}`;
  const button = document.querySelector(`[aria-keyshortcuts="${shortcut}"]`);
  if (button && !button.disabled) {
    event.preventDefault();
    button.click();
  }
});

// The console's "use this name / address" buttons fill the call form from the caller's
// history; each field filled announces a change, so the panels that depend on it refresh.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-fill]");
  const form = document.getElementById("console-form");
  if (!button || !form) {
    return;
  }
  const values = JSON.parse(button.dataset.fill);
  for (const [name, value] of Object.entries(values)) {
    const field = form.elements.namedItem(name);
    if (field && "value" in field) {
      field.value = value;
      field.dispatchEvent(new Event("change", { bubbles: true }));
    }
  }
});

// A community put in by "use this address" arrives chosen: announce it like a choice made
// by hand, so the address panel refreshes with it.
document.addEventListener("htmx:afterSwap", (event) => {
  if (event.detail.target.id !== "community-choices") {
    return;
  }
  const chosen = event.detail.target.querySelector("input[name=community]:checked");
  if (chosen) {
    chosen.dispatchEvent(new Event("change", { bubbles: true }));
  }
});

// A refused htmx request (400 with the fields to fix, 403, 404, 409 with what changed) is
// shown where the answer was meant to go: the person reads what to do instead of nothing.
document.addEventListener("htmx:beforeSwap", (event) => {
  if ([400, 403, 404, 409, 429].includes(event.detail.xhr.status)) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});
