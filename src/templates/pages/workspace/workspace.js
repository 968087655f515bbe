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

  // Campaign form: a live preview rendered by the workers' own code as the form changes (debounced),
  // and a warning when text and background contrast is below WCAG AA (4.5:1).
  const campaignForm = document.getElementById("campaign-form");
  const preview = document.getElementById("preview");
  const previewMessage = document.getElementById("preview-message");
  const contrastEl = document.getElementById("contrast");
  const luminance = (hex) => {
    const [r, g, b] = [1, 3, 5].map((i) => {
      const c = Number.parseInt(hex.slice(i, i + 2), 16) / 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const ratio = (a, b) => {
    const [x, y] = [luminance(a), luminance(b)].sort((m, n) => n - m);
    return (x + 0.05) / (y + 0.05);
  };
  function checkContrast() {
    if (!contrastEl || !campaignForm) return;
    const value = (name) => campaignForm.elements.namedItem(name)?.value ?? "#000000";
    const backgrounds = [value("background")];
    if (campaignForm.elements.namedItem("gradient")?.checked) backgrounds.push(value("backgroundTo"));
    const worst = Math.min(...backgrounds.map((bg) => ratio(value("text"), bg)));
    const shown = worst.toFixed(1);
    contrastEl.textContent =
      worst < 4.5
        ? `Warning: text contrast ${shown}:1 is below WCAG AA (4.5:1); the text will be hard to read.`
        : `Text contrast ${shown}:1 (WCAG AA needs 4.5:1).`;
    contrastEl.className = worst < 4.5 ? "small warn" : "small";
  }
  let previewTimer;
  let previewUrl = "";
  function refreshPreview() {
    if (!campaignForm || !preview) return;
    const params = new URLSearchParams(new FormData(campaignForm));
    params.delete("_csrf");
    const url = `/workspace/campaigns/preview?${params}`;
    if (url === previewUrl) return;
    previewUrl = url;
    if (previewMessage) previewMessage.textContent = "Rendering…";
    preview.src = url;
  }
  if (campaignForm) {
    campaignForm.addEventListener("input", () => {
      checkContrast();
      clearTimeout(previewTimer);
      previewTimer = setTimeout(refreshPreview, 250);
    });
    campaignForm.addEventListener("change", () => {
      checkContrast();
      clearTimeout(previewTimer);
      previewTimer = setTimeout(refreshPreview, 250);
    });
    checkContrast();
    refreshPreview();
  }
  if (preview) {
    preview.addEventListener("load", () => {
      if (previewMessage) {
        previewMessage.textContent = `Preview updated: ${preview.naturalWidth}×${preview.naturalHeight}.`;
        previewMessage.className = "small";
      }
      preview.dataset.state = "ok";
    });
    preview.addEventListener("error", async () => {
      preview.dataset.state = "failed";
      if (!previewUrl || !previewMessage) return;
      // The image said nothing; ask the same address for its reason.
      try {
        const res = await fetch(previewUrl, { headers: { accept: "application/json" } });
        const body = await res.json();
        previewMessage.textContent = `Warning: ${body.message}`;
      } catch {
        previewMessage.textContent = "Warning: the preview could not be rendered.";
      }
      previewMessage.className = "small warn";
    });
  }

  // Destructive forms ask first when they carry a data-confirm text (no inline handler needed).
  document.addEventListener("submit", (e) => {
    const text = e.target instanceof HTMLFormElement ? e.target.dataset.confirm : undefined;
    if (text && !window.confirm(text)) e.preventDefault();
  });
})();
