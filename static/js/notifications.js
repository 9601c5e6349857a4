// Notifications arrive live on every page: the unread count in the header goes up without a
// reload, and screen readers hear that something new came (a polite status, once per news).
// Without JavaScript (or a socket) the count is still right on the next page.
import { connectLive } from "./live.js";

const badge = document.querySelector("[data-unread-count]");
const announcer = document.querySelector("[data-notification-announce]");

if (badge) {
  const socket = connectLive();
  socket.on("notification", () => {
    const count = (Number.parseInt(badge.firstChild?.textContent ?? "0", 10) || 0) + 1;
    badge.firstChild.textContent = String(count);
    badge.hidden = false;
    if (announcer) {
      // Emptied first: the same words again are a new announcement.
      announcer.textContent = "";
      requestAnimationFrame(() => {
        announcer.textContent = announcer.dataset.label;
      });
    }
  });
}
