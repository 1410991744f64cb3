// The dispatcher's board: polls its lanes with the version it has (304 while nothing
// changed), merges what changed without redrawing the rest, keeps the countdowns running,
// and lets the keyboard drive it.
(() => {
  const board = document.getElementById("board");
  if (!board) {
    return;
  }
  const dialog = document.getElementById("send-dialog");
  const dialogBody = document.getElementById("send-dialog-body");
  const status = document.getElementById("board-status");
  const POLL_MS = 3000;
  const TICK_MS = 15000;
  let etag = board.dataset.etag;
  let polling = false;
  let lastCard = null;

  // Polling and merging.

  function merge(html) {
    const fresh = document.createElement("div");
    fresh.innerHTML = html;
    fresh.querySelectorAll("[data-lane]").forEach((newLane) => {
      const lane = board.querySelector(`[data-lane="${newLane.dataset.lane}"]`);
      if (!lane) {
        return;
      }
      const count = lane.querySelector("[data-count]");
      const newCount = newLane.querySelector("[data-count]");
      if (count.textContent !== newCount.textContent) {
        count.textContent = newCount.textContent;
      }
      mergeChildren(lane.querySelector("[data-cards]"), newLane.querySelector("[data-cards]"));
      const more = lane.querySelector(".lane-more");
      const newMore = newLane.querySelector(".lane-more");
      if (more && !newMore) {
        more.remove();
      } else if (newMore && (!more || more.textContent !== newMore.textContent)) {
        if (more) {
          more.replaceWith(newMore);
        } else {
          lane.appendChild(newMore);
        }
      }
    });
  }

  function mergeChildren(list, newList) {
    const focused = list.contains(document.activeElement)
      ? document.activeElement.closest("[data-key]")
      : null;
    const old = new Map([...list.children].map((node) => [node.dataset.key, node]));
    const wanted = [...newList.children].map((node) => {
      const kept = old.get(node.dataset.key);
      if (kept && kept.dataset.rev === node.dataset.rev) {
        return kept; // unchanged: the same element stays where the eye and focus are
      }
      node.classList.add("is-fresh");
      return node;
    });
    wanted.forEach((node, index) => {
      if (list.children[index] !== node) {
        const isNew = old.get(node.dataset.key) !== node;
        list.insertBefore(node, list.children[index] || null);
        if (isNew && window.htmx) {
          window.htmx.process(node);
        }
      }
    });
    while (list.children.length > wanted.length) {
      list.lastElementChild.remove();
    }
    if (focused && !focused.isConnected) {
      const replacement = list.querySelector(`[data-key="${focused.dataset.key}"]`);
      if (replacement) {
        replacement.focus();
      }
    }
    tick();
  }

  async function poll() {
    if (polling || document.hidden) {
      return;
    }
    polling = true;
    try {
      const response = await fetch(board.dataset.pollUrl, {
        headers: { "If-None-Match": etag },
        cache: "no-store",
        credentials: "same-origin",
      });
      if (response.redirected) {
        status.textContent = board.dataset.signedOut || "";
        return;
      }
      if (response.status === 200) {
        etag = response.headers.get("ETag") || etag;
        merge(await response.text());
      }
      status.classList.remove("is-offline");
    } catch (error) {
      status.classList.add("is-offline");
    } finally {
      polling = false;
    }
  }

  setInterval(poll, POLL_MS);
  document.addEventListener("visibilitychange", poll);

  // Countdowns: the colour says how much of the time is left (over half, under, none).

  function duration(totalMinutes) {
    const minutes = Math.abs(totalMinutes);
    const d = Math.floor(minutes / 1440);
    const h = Math.floor((minutes % 1440) / 60);
    const m = String(minutes % 60).padStart(2, "0");
    if (d) {
      return board.dataset.fmtDays.replace("{d}", d).replace("{h}", h);
    }
    if (h) {
      return board.dataset.fmtHours.replace("{h}", h).replace("{m}", m);
    }
    return board.dataset.fmtMinutes.replace("{m}", minutes % 60);
  }

  function tick() {
    const now = Date.now();
    board.querySelectorAll("[data-countdown]").forEach((badge) => {
      const due = Date.parse(badge.dataset.due);
      const total = due - Date.parse(badge.dataset.start);
      const left = due - now;
      let level = "ample";
      if (left < 0) {
        level = "overdue";
      } else if (total > 0 && left / total < 0.5) {
        level = "short";
      }
      badge.classList.remove("deadline-ample", "deadline-short", "deadline-overdue");
      badge.classList.add(`deadline-${level}`);
      const minutes = Math.floor(Math.abs(left) / 60000);
      const format = left < 0 ? board.dataset.fmtOverdue : board.dataset.fmtLeft;
      badge.querySelector("[data-countdown-text]").textContent = format.replace(
        "{time}",
        duration(minutes),
      );
    });
  }

  setInterval(tick, TICK_MS);
  tick();

  // The send dialog.

  document.body.addEventListener("htmx:afterSwap", (event) => {
    if (event.detail.target === dialogBody && !dialog.open) {
      dialog.showModal();
      const choice = dialog.querySelector("input[type=radio]:checked") ||
        dialog.querySelector("input[type=radio]") || dialog.querySelector("[data-confirm-send]");
      if (choice) {
        choice.focus();
      }
    }
  });

  document.body.addEventListener("board-changed", () => {
    dialog.close();
    poll();
  });

  dialog.addEventListener("click", (event) => {
    if (event.target.closest("[data-close-dialog]")) {
      dialog.close();
    }
  });

  dialog.addEventListener("keydown", (event) => {
    // Enter on a chosen crew confirms, as the button would.
    if (event.key === "Enter" && event.target.matches("input[type=radio]")) {
      event.preventDefault();
      event.target.checked = true;
      event.target.form.requestSubmit();
    }
  });

  dialog.addEventListener("close", () => {
    dialogBody.innerHTML = "";
    if (lastCard && lastCard.isConnected) {
      lastCard.focus();
    }
  });

  // Keyboard: arrows move between cards, Enter or D opens the dialog.

  function cardsOf(lane) {
    return [...lane.querySelectorAll(".ticket-card")];
  }

  function move(card, key) {
    const lane = card.closest("[data-lane]");
    const cards = cardsOf(lane);
    const index = cards.indexOf(card);
    if (key === "ArrowDown" || key === "ArrowUp") {
      return cards[index + (key === "ArrowDown" ? 1 : -1)];
    }
    const lanes = [...board.querySelectorAll("[data-lane]")].filter((l) => cardsOf(l).length);
    const next = lanes[lanes.indexOf(lane) + (key === "ArrowRight" ? 1 : -1)];
    if (!next) {
      return null;
    }
    const nextCards = cardsOf(next);
    return nextCards[Math.min(index, nextCards.length - 1)];
  }

  board.addEventListener("keydown", (event) => {
    const card = event.target.closest(".ticket-card");
    if (!card || event.ctrlKey || event.metaKey || event.altKey) {
      return;
    }
    if (["ArrowDown", "ArrowUp", "ArrowLeft", "ArrowRight"].includes(event.key)) {
      const target = move(card, event.key);
      event.preventDefault();
      if (target) {
        target.focus();
      }
    } else if ((event.key === "Enter" && event.target === card) || event.key === "d") {
      const send = card.querySelector("[data-send]");
      if (send) {
        event.preventDefault();
        lastCard = card;
        send.click();
      }
    }
  });

  board.addEventListener("click", (event) => {
    const card = event.target.closest(".ticket-card");
    if (card && event.target.closest("[data-send]")) {
      lastCard = card;
    }
  });
})();
