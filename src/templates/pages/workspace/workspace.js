// The staff workspace's behaviour, wired here so the CSP can forbid inline code (no hx-on, no eval):
// the CSRF token on every htmx request, reading a chosen or dropped file into the import form,
// status messages in the aria-live region, focus kept after a partial update.
(() => {
  const csrf = document.querySelector('meta[name="csrf-token"]')?.getAttribute("content") ?? "";
  const status = document.getElementById("status");
  const say = (message) => {
    if (status) status.textContent = message;
  };

  // Every message this script shows comes from the page's catalogue (src/templates/pages/i18n), which
  // the server puts in a data- attribute in the page's language: `{{name}}` values filled in here, and
  // the plural form chosen by the language's own rules (Intl.PluralRules, as i18next does on the server).
  const wordsEl = document.getElementById("script-words");
  const lang = wordsEl?.dataset.lang || document.documentElement.lang || "en";
  // English pages may show the API's own messages; other languages say the error code's words.
  const serverWords = wordsEl?.hasAttribute("data-server-words") ?? true;
  let catalogue = {};
  try {
    catalogue = JSON.parse(wordsEl?.dataset.words ?? "{}");
  } catch {
    catalogue = {};
  }
  const plural = new Intl.PluralRules(lang);
  const t = (key, values = {}) => {
    let text = catalogue[key];
    if (typeof values.count === "number")
      text = catalogue[`${key}_${plural.select(values.count)}`] ?? catalogue[`${key}_other`] ?? text;
    return String(text ?? key).replace(/\{\{\s*(\w+)\s*\}\}/g, (_, k) => String(values[k] ?? ""));
  };
  const formatName = (format) => catalogue[`format.${format}`] ?? format;
  /**
   * What an API error says on this page: its message in English; otherwise the words of the render
   * failure it names (details[0].field, e.g. redaction), else of its error code.
   */
  const errorText = (body, status) => {
    if (serverWords && body?.message) return body.message;
    const failure = body?.details?.[0]?.field;
    if (failure && catalogue[`failure.${failure}`]) return catalogue[`failure.${failure}`];
    if (body?.error && catalogue[`error.${body.error}`]) return catalogue[`error.${body.error}`];
    return t("wsjs.answered", { status });
  };

  document.body.addEventListener("htmx:configRequest", (e) => {
    e.detail.headers["x-csrf-token"] = csrf;
  });
  document.body.addEventListener("htmx:responseError", (e) => {
    say(t("wsjs.refused", { status: e.detail.xhr.status }));
  });
  document.body.addEventListener("htmx:sendError", () => say(t("wsjs.unreachable")));

  // Import: a chosen or dropped file is read as text into the form (the same bytes the CLI would read).
  const fileInput = document.getElementById("import-file");
  const nameInput = document.getElementById("import-name");
  const contentInput = document.getElementById("import-content");
  const dropzone = document.getElementById("dropzone");
  const form = document.getElementById("import-form");
  async function take(file) {
    if (!file || !nameInput || !contentInput) return;
    if (file.size > 5_000_000) {
      say(t("wsjs.tooLarge", { name: file.name }));
      return;
    }
    nameInput.value = file.name;
    contentInput.value = await file.text();
    say(t("wsjs.fileRead", { name: file.name }));
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

  // A polled fragment that has something to say (the queue's progress when it ends) says it once.
  document.body.addEventListener("htmx:afterSettle", () => {
    for (const el of document.querySelectorAll("[data-announce]:not([data-announced])")) {
      el.setAttribute("data-announced", "true");
      say(el.getAttribute("data-announce") ?? "");
    }
  });

  // Campaign form: a live preview rendered by the workers' own code as the form changes (debounced),
  // and a warning when text and background contrast is below WCAG AA (4.5:1).
  const campaignForm = document.getElementById("campaign-form");
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
  /** The contrast warning each preview card repeats, or undefined when the text reads well. */
  function contrastWarning() {
    const worst = worstContrast();
    return worst !== undefined && worst < 4.5
      ? t("wsjs.lowContrast", { ratio: worst.toFixed(1) })
      : undefined;
  }
  function worstContrast() {
    if (!campaignForm) return undefined;
    const value = (name) => campaignForm.elements.namedItem(name)?.value ?? "#000000";
    const backgrounds = [value("background")];
    if (campaignForm.elements.namedItem("gradient")?.checked) backgrounds.push(value("backgroundTo"));
    return Math.min(...backgrounds.map((bg) => ratio(value("text"), bg)));
  }
  function checkContrast() {
    if (!contrastEl || !campaignForm) return;
    const value = (name) => campaignForm.elements.namedItem(name)?.value ?? "#000000";
    const backgrounds = [value("background")];
    if (campaignForm.elements.namedItem("gradient")?.checked) backgrounds.push(value("backgroundTo"));
    const worst = Math.min(...backgrounds.map((bg) => ratio(value("text"), bg)));
    const shown = worst.toFixed(1);
    contrastEl.textContent =
      worst < 4.5 ? t("wsjs.contrastWarn", { ratio: shown }) : t("wsjs.contrastOk", { ratio: shown });
    contrastEl.className = worst < 4.5 ? "small warn" : "small";
  }
  // The viewer's own time zone, for the schedule's next drops (sent along by htmx with the cron).
  const viewerZone = document.getElementById("viewer-zone");
  if (viewerZone) viewerZone.value = Intl.DateTimeFormat().resolvedOptions().timeZone ?? "";

  // The form as the campaign file says it (the same shape the server's draftFrom builds).
  const words = (s) => (s ?? "").split(/[\s,]+/).filter(Boolean);
  function draftFromForm() {
    const d = new FormData(campaignForm);
    const one = (k) => String(d.get(k) ?? "");
    const int = (k) => (one(k).trim() ? Number(one(k)) : undefined);
    const logo = document.getElementById("preview-grid")?.dataset.logo;
    const brand = {
      background: d.get("gradient")
        ? { from: one("background"), to: one("backgroundTo") }
        : one("background"),
      text: one("text"),
      accent: one("accent"),
    };
    if (logo) brand.logo = logo;
    const exposure = { maxPerSpeakerPerDrop: int("maxPerDrop") ?? 3 };
    if (int("maxPer7Days") !== undefined) exposure.maxPerSpeakerPer7Days = int("maxPer7Days");
    return {
      id: one("id").trim() || "preview",
      name: one("name"),
      audience: { region: one("region"), description: one("description") },
      locales: words(one("locales")),
      narratives: d.getAll("narratives").map(String),
      formats: d.getAll("formats").map(String),
      textVariants: d.getAll("textVariants").map(String),
      brand,
      hashtags: words(one("hashtags")),
      links: one("links").split(/\s+/).filter(Boolean),
      schedule: { cron: one("cron").trim(), timeZone: one("timeZone").trim() },
      exposure,
      encoding: one("encoding") || "png",
    };
  }

  // Live preview: one card per format × locale of the draft, each from POST /api/campaigns/preview
  // (the workers' own code), debounced; each card says on its own when the quote cannot fit.
  const grid = document.getElementById("preview-grid");
  let previewTimer;
  let previewKey = "";
  // "pending" while a change waits out the debounce, "rendering", then "done": tests and people can tell.
  let gridState = "done";
  let changePending = false;
  let inFlight;
  const urls = [];
  function card(format, locale) {
    const fig = document.createElement("figure");
    fig.className = "preview-card";
    fig.dataset.format = format;
    fig.dataset.locale = locale;
    fig.dataset.state = "rendering";
    const img = document.createElement("img");
    img.alt = t("wsjs.cardAlt", { format: formatName(format), locale });
    const cap = document.createElement("figcaption");
    const title = document.createElement("strong");
    title.textContent = `${formatName(format)} · ${locale}`;
    const fit = document.createElement("p");
    fit.className = "small fit";
    fit.textContent = t("wsjs.rendering");
    const contrast = document.createElement("p");
    contrast.className = "small contrast-note";
    cap.append(title, fit, contrast);
    fig.append(img, cap);
    return { fig, img, fit, contrast };
  }
  async function renderCard(c, body, signal) {
    try {
      const res = await fetch("/api/campaigns/preview", {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-csrf-token": csrf,
          accept: "image/*, application/json",
        },
        body: JSON.stringify(body),
        signal,
      });
      if (res.ok) {
        const url = URL.createObjectURL(await res.blob());
        urls.push(url);
        c.img.src = url;
        c.img.hidden = false;
        await c.img.decode().catch(() => undefined);
        c.fit.textContent = t("wsjs.fits", {
          size: res.headers.get("x-font-size") ?? "?",
          width: c.img.naturalWidth,
          height: c.img.naturalHeight,
        });
        c.fit.className = "small fit";
        c.fig.dataset.state = "ok";
        return;
      }
      const err = await res.json().catch(() => ({}));
      const reason = err.details?.[0]?.field;
      c.img.removeAttribute("src");
      c.img.hidden = true;
      if (reason === "cannot_fit") {
        c.fit.textContent = t("wsjs.cannotFit", { format: formatName(body.format) });
        c.fig.dataset.state = "cannot_fit";
      } else {
        c.fit.textContent = t("wsjs.notRendered", { reason: errorText(err, res.status) });
        c.fig.dataset.state = "refused";
      }
      c.fit.className = "small fit warn";
    } catch (e) {
      if (e?.name === "AbortError") return;
      c.fit.textContent = t("wsjs.offline");
      c.fit.className = "small fit warn";
      c.fig.dataset.state = "failed";
    }
  }
  async function refreshPreview() {
    changePending = false;
    if (!campaignForm || !grid) return;
    const quoteId = document.getElementById("p-quote")?.value;
    if (!quoteId) return;
    const draft = draftFromForm();
    const key = JSON.stringify([draft, quoteId]);
    if (key === previewKey) {
      grid.dataset.state = gridState;
      return;
    }
    previewKey = key;
    inFlight?.abort();
    inFlight = new AbortController();
    const signal = inFlight.signal;
    for (const u of urls.splice(0)) URL.revokeObjectURL(u);
    const formats = draft.formats.length ? draft.formats : [];
    const locales = draft.locales.length ? draft.locales : [];
    const cards = [];
    for (const format of formats)
      for (const locale of locales) cards.push({ format, locale, c: card(format, locale) });
    grid.replaceChildren(...cards.map((x) => x.c.fig));
    const low = contrastWarning();
    for (const x of cards) {
      x.c.contrast.textContent = low ?? "";
      x.c.contrast.className = low ? "small contrast-note warn" : "small contrast-note";
    }
    if (previewMessage) {
      previewMessage.textContent = cards.length
        ? t("wsjs.renderingCards", { count: cards.length })
        : t("wsjs.chooseFormat");
    }
    gridState = "rendering";
    grid.dataset.state = gridState;
    // Two at a time: the machine renders while staff keep typing.
    let next = 0;
    const worker = async () => {
      while (next < cards.length && !signal.aborted) {
        const x = cards[next++];
        await renderCard(x.c, { campaign: draft, quoteId, format: x.format, locale: x.locale }, signal);
      }
    };
    await Promise.all([worker(), worker()]);
    if (signal.aborted) return;
    gridState = "done";
    // A change made while this draft rendered waits out its debounce: the grid stays "pending" till then.
    if (!changePending) grid.dataset.state = gridState;
    const bad = cards.filter((x) => x.c.fig.dataset.state !== "ok").length;
    if (previewMessage) {
      previewMessage.textContent = bad
        ? t("wsjs.updatedWarn", { ok: cards.length - bad, count: cards.length, bad })
        : t("wsjs.updated", { count: cards.length });
      previewMessage.className = bad ? "small warn" : "small";
    }
  }
  const schedulePreview = () => {
    changePending = true;
    if (grid) grid.dataset.state = "pending";
    clearTimeout(previewTimer);
    previewTimer = setTimeout(refreshPreview, 300);
  };
  if (campaignForm) {
    for (const type of ["input", "change"]) {
      campaignForm.addEventListener(type, () => {
        checkContrast();
        // Every field: the draft (cron included) is what the API judges; an unchanged draft is not re-sent.
        schedulePreview();
      });
    }
    document.getElementById("p-quote")?.addEventListener("change", schedulePreview);
    checkContrast();
    refreshPreview();
  }

  // Logo upload: type and size checked here and again by the server, which stores the file through
  // the brand service and answers its blob: reference; the hidden field saves it with the form and
  // the preview's drafts use it at once.
  const logoFile = document.getElementById("f-logo-file");
  const logoField = document.getElementById("f-logo");
  const logoStatus = document.getElementById("logo-status");
  const logoSay = (text, bad) => {
    if (!logoStatus) return;
    logoStatus.textContent = text;
    logoStatus.className = bad ? "small bad" : "small";
  };
  logoFile?.addEventListener("change", () => {
    const file = logoFile.files?.[0];
    if (!file) return;
    if (!["image/png", "image/svg+xml"].includes(file.type)) {
      logoSay(t("wsjs.logoType", { name: file.name }), true);
      return;
    }
    if (file.size > 2_000_000) {
      logoSay(t("wsjs.logoSize", { name: file.name, size: (file.size / 1e6).toFixed(1) }), true);
      return;
    }
    logoSay(t("wsjs.uploading", { name: file.name }));
    const reader = new FileReader();
    reader.onload = async () => {
      try {
        const res = await fetch("/workspace/campaigns/logo", {
          method: "POST",
          headers: { "content-type": "application/json", "x-csrf-token": csrf },
          body: JSON.stringify({ logo: String(reader.result) }),
        });
        const body = await res.json().catch(() => ({}));
        if (!res.ok) {
          logoSay(t("wsjs.logoRefused", { name: file.name, reason: errorText(body, res.status) }), true);
          return;
        }
        if (logoField) logoField.value = body.logo;
        if (grid) grid.dataset.logo = body.logo;
        logoSay(t("wsjs.logoUploaded", { name: file.name }));
        if (campaignForm) schedulePreview();
      } catch {
        logoSay(t("wsjs.logoFailed", { name: file.name }), true);
      }
    };
    reader.readAsDataURL(file);
  });

  // Delivery targets: a new row shows only the fields of the type chosen (without script, all show).
  document.addEventListener("change", (e) => {
    const select = e.target;
    if (!(select instanceof HTMLSelectElement) || !select.hasAttribute("data-delivery-type")) return;
    const row = select.closest(".delivery-target");
    for (const group of row?.querySelectorAll("[data-for-type]") ?? [])
      group.hidden = Boolean(select.value) && group.getAttribute("data-for-type") !== select.value;
  });

  // Destructive forms ask first when they carry a data-confirm text (no inline handler needed).
  document.addEventListener("submit", (e) => {
    const text = e.target instanceof HTMLFormElement ? e.target.dataset.confirm : undefined;
    if (text && !window.confirm(text)) e.preventDefault();
  });
})();
