// The staff workspace's behaviour, wired here so the CSP can forbid inline code (no hx-on, no eval):
// the CSRF token on every htmx request, reading a chosen or dropped file into the import form,
// status messages in the aria-live region, focus kept after a partial update.
(() => {
  const csrf = document.querySelector('meta[name="csrf-token"]')?.getAttribute("content") ?? "";
  const status = document.getElementById("status");
  const say = (message) => {
    if (status) status.textContent = message;
  };

  document.body.addEventListener("htmx:configRequest", (e) => {
    e.detail.headers["x-csrf-token"] = csrf;
  });
  document.body.addEventListener("htmx:responseError", (e) => {
    say(`The server refused the request (${e.detail.xhr.status}). Reload the page and try again.`);
  });
  document.body.addEventListener("htmx:sendError", () => say("The server cannot be reached. Try again."));

  // Import: a chosen or dropped file is read as text into the form (the same bytes the CLI would read).
  const fileInput = document.getElementById("import-file");
  const nameInput = document.getElementById("import-name");
  const contentInput = document.getElementById("import-content");
  const dropzone = document.getElementById("dropzone");
  const form = document.getElementById("import-form");
  async function take(file) {
    if (!file || !nameInput || !contentInput) return;
    if (file.size > 5_000_000) {
      say(`${file.name} is larger than 5 MB.`);
      return;
    }
    nameInput.value = file.name;
    contentInput.value = await file.text();
    say(`${file.name} read: checking every row.`);
    if (form && window.htmx) window.htmx.trigger(form, "submit");
    else form?.requestSubmit();
  }
  fileInput?.addEventListener("change", () => take(fileInput.files?.[0]));
  if (dropzone) {
    for (const type of ["dragenter", "dragover"]) {
      dropzone.addEventListener(type, (e) => {
        e.preventDefault();
        dropzone.classList.add("over");
      });
    }
    for (const type of ["dragleave", "drop"]) {
      dropzone.addEventListener(type, () => dropzone.classList.remove("over"));
    }
    dropzone.addEventListener("drop", (e) => {
      e.preventDefault();
      take(e.dataTransfer?.files?.[0]);
    });
  }

  // After a swap, say what happened and move focus to the result, so keyboard users are not lost.
  document.body.addEventListener("htmx:afterSwap", (e) => {
    const target = e.detail.target;
    const heading = target?.querySelector("h2, h3");
    if (heading) {
      heading.setAttribute("tabindex", "-1");
      heading.focus();
      say(heading.textContent ?? "");
    }
  });

  // Destructive forms ask first when they carry a data-confirm text (no inline handler needed).
  document.addEventListener("submit", (e) => {
    const text = e.target instanceof HTMLFormElement ? e.target.dataset.confirm : undefined;
    if (text && !window.confirm(text)) e.preventDefault();
  });
})();
