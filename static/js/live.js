// One Socket.IO connection per page, shared by the page's modules. Logging in is enough:
// the server authenticates the socket with the session cookie (protocol: docs/realtime.md).
import { io } from "../vendor/socket.io.esm.min.js";

let socket = null;
let replacedNotice = null; // shown while a newer window has taken this one's place

export function connectLive() {
  if (!socket) {
    socket = io({
      reconnectionDelayMax: 10000,
      // WebSocket first, long-polling only where a WebSocket cannot get through (tryAllTransports).
      // One connection instead of polling then switching: it is up sooner, and a page left while
      // connecting no longer leaves a polling session that the server holds for its ping timeout.
      transports: ["websocket", "polling"],
      tryAllTransports: true,
    });
    // Close on leaving the page, so the server frees this socket's place (SOCKETS_PER_USER) at
    // once rather than when the network notices; connect again when the page comes back from
    // the back/forward cache.
    addEventListener("pagehide", () => socket.disconnect());
    addEventListener("pageshow", (event) => {
      if (event.persisted) comeBack();
    });
    // Opened in more windows than SOCKETS_PER_USER, the person's oldest window gives way to the
    // newest: it stays off until the person comes back to it (then it is the newest), so two
    // windows never take turns pushing each other out.
    socket.on("socket_replaced", (notice) => showReplaced(notice.message));
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible" && replacedNotice) comeBack();
    });
    // The server ends a socket when its person's access shrank (a pupil left a class): connect
    // again at once, and every room is checked anew. A refused connect (the account is gone)
    // ends there: the client does not retry a refusal.
    socket.on("disconnect", (reason) => {
      if (reason === "io server disconnect" && !replacedNotice) socket.connect();
    });
  }
  return socket;
}

function showReplaced(message) {
  replacedNotice?.remove();
  replacedNotice = document.createElement("div");
  replacedNotice.className = "flashes";
  replacedNotice.setAttribute("role", "status");
  const text = document.createElement("p");
  text.className = "alert alert-info";
  text.textContent = message;
  replacedNotice.append(text);
  document.querySelector("main")?.prepend(replacedNotice);
}

function comeBack() {
  replacedNotice?.remove();
  replacedNotice = null;
  if (!socket.connected) socket.connect();
}

// A refused connect carries {code, message} in err.data, the message already translated.
// The client retries by itself unless the server turned it away (socket.active is false).
export function refusalMessage(error) {
  return error?.data?.message || null;
}

// Every page that loads this module wants to be live (a student's dashboard shows presence).
connectLive();
