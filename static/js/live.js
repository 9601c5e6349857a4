// One Socket.IO connection per page, shared by the page's modules. Logging in is enough:
// the server authenticates the socket with the session cookie.
import { io } from "../vendor/socket.io.esm.min.js";

let socket = null;

export function connectLive() {
  if (!socket) {
    socket = io({ reconnectionDelayMax: 10000 });
  }
  return socket;
}

// Every page that loads this module wants to be live (a student's dashboard shows presence).
connectLive();
