// One Socket.IO connection per page, shared by the page's modules. Logging in is enough:
// the server authenticates the socket with the session cookie (protocol: docs/realtime.md).
import { io } from "../vendor/socket.io.esm.min.js";

let socket = null;

export function connectLive() {
  if (!socket) {
    socket = io({ reconnectionDelayMax: 10000 });
    // The server ends a socket when its person's access shrank (a pupil left a class): connect
    // again at once, and every room is checked anew. A refused connect (the account is gone)
    // ends there: the client does not retry a refusal.
    socket.on("disconnect", (reason) => {
      if (reason === "io server disconnect") socket.connect();
    });
  }
  return socket;
}

// A refused connect carries {code, message} in err.data, the message already translated.
// The client retries by itself unless the server turned it away (socket.active is false).
export function refusalMessage(error) {
  return error?.data?.message || null;
}

// Every page that loads this module wants to be live (a student's dashboard shows presence).
connectLive();
