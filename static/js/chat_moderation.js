// Moderation in a chat channel: report a message (readers), delete or mute its author
// (teachers), and a muted pupil's composer switched off live. Protocol: docs/realtime.md
// ("Chat moderation"). Labels come from data-label-* attributes of [data-chat]; the dialogs
// are server-rendered <dialog> elements (templates/chat/_moderation.html).

const MAX_TIMER_MS = 2 ** 31 - 1; // setTimeout's limit (~24.8 days); a longer mute is checked again then

function linkButton(text, action, context) {
  const b = document.createElement("button");
  b.type = "button";
  b.className = "link-button";
  b.textContent = text;
  if (context) {
    const hint = document.createElement("span");
    hint.className = "visually-hidden";
    hint.textContent = ` ${context}`;
    b.append(hint);
  }
  b.addEventListener("click", action);
  return b;
}

export function setupModeration({ root, socket, emit, label, channelId, userId, mayModerate, composer, status }) {
  const projectId = Number(root.dataset.projectId);
  const zone = root.dataset.timeZone || undefined;
  const mutedNote = document.querySelector("[data-chat-muted]");
  const reportDialog = document.querySelector("[data-report-dialog]");
  const muteDialog = document.querySelector("[data-mute-dialog]");
  const badges = () => document.querySelectorAll("[data-open-reports]");
  let unmuteTimer = null;
  let target = null; // the message a dialog is about

  function formatTime(iso) {
    const options = { dateStyle: "medium", timeStyle: "short", timeZoneName: "short", timeZone: zone };
    try {
      return new Intl.DateTimeFormat(document.documentElement.lang || undefined, options).format(new Date(iso));
    } catch {
      return new Date(iso).toLocaleString();
    }
  }

  // ---- muted: read on, write nothing ----------------------------------------------------

  function setMuted(untilIso, notice) {
    const muted = Boolean(untilIso);
    if (mutedNote) {
      mutedNote.textContent = muted ? notice || label("Muted").replace("{time}", formatTime(untilIso)) : "";
      mutedNote.hidden = !muted;
    }
    root.dataset.muted = String(muted);
    composer?.querySelectorAll("textarea, button").forEach((control) => {
      control.disabled = muted || root.dataset.writable === "false"; // a lifted mute does not undo that
    });
    clearTimeout(unmuteTimer);
    if (muted) {
      const left = new Date(untilIso).getTime() - Date.now();
      unmuteTimer = setTimeout(left > MAX_TIMER_MS ? refreshMute : () => setMuted(null), Math.min(left, MAX_TIMER_MS));
    }
  }

  async function refreshMute() {
    const ack = await emit("chat_mute_status", { channel_id: channelId });
    if (ack.ok) setMuted(ack.muted_until, ack.notice);
  }

  socket.on("chat_muted", (event) => {
    if (event.project_id === projectId) setMuted(event.until);
  });
  socket.on("chat_unmuted", (event) => {
    if (event.project_id === projectId) setMuted(null);
  });
  socket.on("chat_report_count", (event) => {
    if (event.project_id !== projectId) return;
    badges().forEach((badge) => {
      badge.textContent = String(event.open_reports);
      badge.hidden = event.open_reports === 0;
    });
    if (event.open_reports > 0 && status) status.textContent = label("NewReport");
  });
  socket.on("connect", refreshMute);
  if (socket.connected) refreshMute();

  // ---- dialogs -------------------------------------------------------------------------

  function openDialog(dialog, message) {
    target = message;
    const form = dialog.querySelector("form");
    form.reset();
    const error = dialog.querySelector("[data-dialog-error]");
    error.hidden = true;
    const about = dialog.querySelector("[data-dialog-about]");
    if (about) about.textContent = label("About").replace("{name}", message.author_name);
    dialog.showModal();
  }

  function dialogError(dialog, message) {
    const error = dialog.querySelector("[data-dialog-error]");
    error.textContent = message;
    error.hidden = false;
  }

  for (const dialog of [reportDialog, muteDialog]) {
    dialog?.querySelector("[data-dialog-cancel]")?.addEventListener("click", () => dialog.close());
  }

  reportDialog?.querySelector("form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    const reason = form.querySelector("input[name=reason]:checked")?.value;
    if (!reason) {
      dialogError(reportDialog, label("ChooseReason"));
      form.querySelector("input[name=reason]")?.focus();
      return;
    }
    const ack = await emit("chat_report", {
      channel_id: channelId,
      message_id: target.id,
      reason,
      details: form.querySelector("textarea").value,
    });
    if (!ack.ok) {
      dialogError(reportDialog, ack.error.message);
      return;
    }
    reportDialog.close();
    if (status) status.textContent = ack.notice;
  });

  muteDialog?.querySelector("form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    const ack = await emit("chat_mute", {
      channel_id: channelId,
      user_id: target.author_id,
      minutes: Number(form.querySelector("select").value),
      reason: form.querySelector("textarea").value,
    });
    if (!ack.ok) {
      dialogError(muteDialog, ack.error.message);
      return;
    }
    muteDialog.close();
    if (status) status.textContent = label("MutedOther").replace("{name}", target.author_name).replace("{time}", formatTime(ack.until));
  });

  // ---- per-message buttons ---------------------------------------------------------------

  // mayWrite: false where the page has no composer; a teacher's delete counts as a write there.
  function actionsFor(message, mayWrite = true) {
    if (message.state !== "visible" || message.author_id === userId) return [];
    if (!mayModerate) {
      return reportDialog ? [linkButton(label("Report"), () => openDialog(reportDialog, message), message.author_name)] : [];
    }
    const buttons = [];
    if (mayWrite) {
      buttons.push(linkButton(label("Delete"), async () => {
        if (!window.confirm(label("DeleteOtherConfirm").replace("{name}", message.author_name))) return;
        const ack = await emit("chat_delete", { channel_id: channelId, message_id: message.id });
        if (!ack.ok && status) status.textContent = ack.error.message;
      }, message.author_name));
    }
    if (muteDialog) buttons.push(linkButton(label("MuteAuthor"), () => openDialog(muteDialog, message), message.author_name));
    return buttons;
  }

  return { actionsFor };
}
