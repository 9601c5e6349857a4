// One Socket.IO connection per page, shared by the page's modules. Logging in is enough:
// the server authenticates the socket with the session cookie (protocol: docs/realtime.md).
import { io } from "../vendor/socket.io.esm.min.js";

let socket = null;
let notice = null; // the notice shown while this page is off: {element, kind: "replaced" | "paused"}
let pausedUntil = 0; // Date.now() until which the server refuses this user's connects (flood cool-down)
let pauseTimer = null;

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
    socket.on("socket_replaced", (replaced) => showNotice(replaced.message, "replaced"));
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible" && notice?.kind === "replaced") comeBack();
    });
    // The server ends a socket when its person's access shrank (a pupil left a class): connect
    // again at once, and every room is checked anew. A refused connect (the account is gone)
    // ends there: the client does not retry a refusal.
    socket.on("disconnect", (reason) => {
      if (reason === "io server disconnect" && !notice && Date.now() >= pausedUntil) socket.connect();
    });
    // Sending far over the rate limit (a runaway script) gets the socket cut off and its user's
    // connects refused for a cool-down (retry_after seconds): say so calmly and connect once
    // when it is over, not in a loop that the server would only refuse again.
    socket.on("rate_limited", (details) => pauseFor(details));
    socket.on("connect_error", (error) => {
      if (error?.data?.code === "rate_limited") pauseFor(error.data);
    });
  }
  return socket;
}

function pauseFor(details) {
  const seconds = Math.max(1, Number(details.retry_after) || 60);
  pausedUntil = Date.now() + seconds * 1000;
  showNotice(details.message, "paused");
  clearTimeout(pauseTimer);
  // A little after the cool-down, spread out, so a user's tabs do not all come back at once.
  pauseTimer = setTimeout(comeBack, seconds * 1000 + Math.random() * 2000);
}

function showNotice(message, kind) {
  notice?.element.remove();
  const element = document.createElement("div");
  element.className = "flashes";
  element.setAttribute("role", "status");
  const text = document.createElement("p");
  text.className = "alert alert-info";
  text.textContent = message;
  element.append(text);
  document.querySelector("main")?.prepend(element);
  notice = { element, kind };
}

function comeBack() {
  if (Date.now() < pausedUntil) return; // the timer of pauseFor comes back then
  notice?.element.remove();
  notice = null;
  if (!socket.connected) socket.connect();
}

// A refused connect carries {code, message} in err.data, the message already translated.
// The client retries by itself unless the server turned it away (socket.active is false).
export function refusalMessage(error) {
  return error?.data?.message || null;
}

// Every page that loads this module wants to be live (a student's dashboard shows presence).
connectLive();
