// The review page's behaviour: keyboard focus, approve / reject through the session-authenticated
// routes (CSRF token in a header), bulk approval and a full-size viewer. No build step, no framework.
(() => {
  const csrf = document.querySelector('meta[name="csrf-token"]')?.getAttribute("content") ?? "";
  const cards = Array.from(document.querySelectorAll("article.card"));
  const viewer = document.getElementById("viewer");
  const rejectDialog = document.getElementById("reject-dialog");
  const rejectForm = document.getElementById("reject-form");
  const rejectComment = document.getElementById("reject-comment");
  const toastEl = document.getElementById("toast");
  const bulkForm = document.getElementById("bulk");
  const selectedCount = document.getElementById("selected-count");
  // The page's words, in its language: the server puts them on the status region (data-*).
  const say = (name, values = {}) =>
    (toastEl.dataset[name] ?? name).replace(/\{(\w+)\}/g, (_, k) => String(values[k] ?? ""));
  let current = -1;
  let rejecting = null;
  let toastTimer;

  function toast(message, isError) {
    toastEl.textContent = message;
    toastEl.className = isError ? "show error" : "show";
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => {
      toastEl.className = "";
    }, 3500);
  }

  function focusCard(i) {
    if (cards.length === 0) return;
    current = Math.max(0, Math.min(cards.length - 1, i));
    cards.forEach((c, j) => {
      c.classList.toggle("focused", j === current);
    });
    cards[current].focus({ preventScroll: true });
    cards[current].scrollIntoView({ block: "nearest", behavior: "smooth" });
  }

  const isOpen = (card) => !card.classList.contains("decided");
  const checkboxOf = (card) => card.querySelector('input[type="checkbox"][name="ids"]');

  function nextOpen(from) {
    for (let i = from + 1; i < cards.length; i++) if (isOpen(cards[i])) return i;
    return from;
  }

  function updateCount() {
    const n = cards.filter((c) => checkboxOf(c)?.checked).length;
    selectedCount.textContent = String(n);
  }

  function markDecided(card, status) {
    card.classList.add("decided", status);
    card.querySelector("[data-status]").textContent = say(
      status === "approved" ? "statusApproved" : "statusRejected",
    );
    for (const b of card.querySelectorAll("[data-action]")) b.disabled = true;
    const box = checkboxOf(card);
    if (box) {
      box.checked = false;
      box.disabled = true;
    }
    updateCount();
  }

  async function post(url, body) {
    const res = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "content-type": "application/json", accept: "application/json", "x-csrf-token": csrf },
      body: JSON.stringify(body),
    });
    const data = await res.json().catch(() => ({ message: res.statusText }));
    if (!res.ok) {
      // A refusal the page knows is said in the page's language; any other keeps the server's words.
      const known = { invalid_state: "errorDecided", forbidden: "errorForbidden" }[data.error];
      throw new Error(known ? say(known) : data.message || `HTTP ${res.status}`);
    }
    return data;
  }

  async function approve(card) {
    if (!card || !isOpen(card) || !card.querySelector('[data-action="approve"]')) return;
    try {
      await post(`/review/outputs/${encodeURIComponent(card.dataset.id)}/approve`, {});
      markDecided(card, "approved");
      toast(say("approved"));
      focusCard(nextOpen(cards.indexOf(card)));
    } catch (err) {
      toast(err.message, true);
    }
  }

  function askReject(card) {
    if (!card || !isOpen(card) || !card.querySelector('[data-action="reject"]')) return;
    rejecting = card;
    rejectComment.value = "";
    const what = document.getElementById("reject-what");
    what.textContent = card.querySelector("blockquote")?.textContent ?? "";
    what.dir = card.dataset.direction || "auto";
    rejectDialog.showModal();
    rejectComment.focus();
  }

  rejectForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    const card = rejecting;
    const comment = rejectComment.value.trim();
    if (!card || !comment) return;
    try {
      await post(`/review/outputs/${encodeURIComponent(card.dataset.id)}/reject`, { comment });
      rejectDialog.close();
      markDecided(card, "rejected");
      toast(say("rejected"));
      focusCard(nextOpen(cards.indexOf(card)));
    } catch (err) {
      toast(err.message, true);
    }
  });
  rejectComment.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      rejectForm.requestSubmit();
    }
  });
  document.getElementById("reject-cancel").addEventListener("click", () => rejectDialog.close());
  rejectDialog.addEventListener("close", () => {
    if (rejecting) focusCard(cards.indexOf(rejecting));
    rejecting = null;
  });

  function openViewer(card) {
    const img = card?.querySelector("img[data-full]");
    if (!img) return;
    const big = viewer.querySelector("img");
    big.src = img.dataset.full;
    big.alt = img.alt;
    viewer.showModal();
  }

  cards.forEach((card, i) => {
    card.addEventListener("click", (e) => {
      const target = e.target;
      if (target.closest("button, a, input, label, summary")) {
        if (target.closest('[data-action="approve"]')) approve(card);
        if (target.closest('[data-action="reject"]')) askReject(card);
        if (target.matches('input[type="checkbox"]')) updateCount();
        current = i;
        return;
      }
      focusCard(i);
      if (target.closest(".thumb")) openViewer(card);
    });
    card.addEventListener("focus", () => {
      current = i;
      cards.forEach((c, j) => {
        c.classList.toggle("focused", j === i);
      });
    });
  });

  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (document.querySelector("dialog[open]")) return;
    if (e.target.closest?.("input, textarea, select")) return;
    const card = cards[current];
    switch (e.key) {
      case "j":
        focusCard(current + 1);
        break;
      case "k":
        focusCard(current - 1);
        break;
      case "a":
        approve(card);
        break;
      case "r":
        askReject(card);
        break;
      case "x": {
        const box = card && checkboxOf(card);
        if (box && !box.disabled) {
          box.checked = !box.checked;
          updateCount();
        }
        break;
      }
      case "o":
      case "Enter":
        if (card && e.target === card) openViewer(card);
        else return;
        break;
      default:
        return;
    }
    e.preventDefault();
  });

  document.getElementById("select-all")?.addEventListener("click", () => {
    const open = cards.map(checkboxOf).filter((b) => b && !b.disabled);
    const all = open.every((b) => b.checked);
    for (const b of open) b.checked = !all;
    updateCount();
  });

  bulkForm?.addEventListener("submit", async (e) => {
    e.preventDefault();
    const chosen = cards.filter((c) => checkboxOf(c)?.checked);
    if (chosen.length === 0) return toast(say("selectFirst"), true);
    try {
      const { results } = await post("/review/outputs/bulk-approve", {
        ids: chosen.map((c) => c.dataset.id),
      });
      let failed = 0;
      for (const r of results) {
        const card = cards.find((c) => c.dataset.id === r.id);
        if (r.ok) markDecided(card, "approved");
        else failed++;
      }
      const done = say("bulkDone", { approved: results.length - failed });
      toast(failed ? `${done} ${say("bulkRefused", { refused: failed })}` : done, failed > 0);
    } catch (err) {
      toast(err.message, true);
    }
  });

  if (cards.length) focusCard(0);
})();
