// Notifications arrive live: the unread count in the navigation goes up without a reload.
// Without JavaScript (or a socket) the count is still right on the next page.
import { connectLive } from "./live.js";

const badge = document.querySelector("[data-unread-count]");

if (badge) {
  const socket = connectLive();
  socket.on("notification", () => {
    const count = (Number.parseInt(badge.firstChild?.textContent ?? "0", 10) || 0) + 1;
    badge.firstChild.textContent = String(count);
    badge.hidden = false;
  });
}
