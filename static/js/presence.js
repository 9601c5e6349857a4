// A teacher's dashboard: which students are online now, updated live.
import { connectLive, refusalMessage } from "./live.js";

const panel = document.querySelector("[data-presence]");
const status = panel?.querySelector("[data-live-status]");

function setOnline(userId, online) {
  for (const item of panel.querySelectorAll(`[data-user-id="${userId}"]`)) {
    item.dataset.online = String(online);
    const state = item.querySelector(".state");
    state.textContent = online ? state.dataset.stateOnline : state.dataset.stateOffline;
  }
}

if (panel) {
  const socket = connectLive();
  socket.on("connect", () => {
    status.textContent = status.dataset.liveLabel;
    // Everything may have changed while we were disconnected: ask for the whole picture.
    socket.emit("presence_sync", {}, (ack) => {
      if (!ack?.ok) {
        // e.g. the session ended in another tab: say so instead of showing stale dots.
        status.textContent = ack?.error?.message || status.dataset.offlineLabel;
        return;
      }
      const online = new Set(ack.online);
      for (const item of panel.querySelectorAll("[data-user-id]")) {
        setOnline(item.dataset.userId, online.has(Number(item.dataset.userId)));
      }
      panel.dataset.synced = "true";
    });
  });
  socket.on("connect_error", (error) => {
    status.textContent = refusalMessage(error) || status.dataset.offlineLabel;
    panel.dataset.synced = "false";
  });
  socket.on("disconnect", () => {
    status.textContent = status.dataset.offlineLabel;
    panel.dataset.synced = "false";
  });
  socket.on("presence", (event) => setOnline(event.user_id, event.online));
}
