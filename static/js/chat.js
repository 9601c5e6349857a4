// A project chat channel, live. Protocol: docs/realtime.md ("Chat").
// Delivery: every event carries the channel's seq; we apply them in order, ask for any
// missing range, rejoin with the last seq after a reconnect, and resend unacknowledged
// messages with their original client_id (the server answers a retry with the original).
import { connectLive, refusalMessage } from "./live.js";
import { setupModeration } from "./chat_moderation.js";

const root = document.querySelector("[data-chat]");
const ACK_TIMEOUT_MS = 10000;
const TYPING_SEND_EVERY_MS = 3000; // at most one typing notice per 3 s while typing
const TYPING_SHOWN_MS = 5000; // a notice not renewed within 5 s is taken as stopped
const PRESENCE_REFRESH_MS = 30000; // leaving is not announced: ask again now and then
const READ_REPORT_DELAY_MS = 1000;
// A gap still open this long is asked for. With several server processes an event can come
// just after a later one (each server holds a room's events up to SOCKET_REORDER_WINDOW_MS,
// 100 ms, for the ones before them): most gaps close by themselves, and a repair costs a read.
const REPAIR_DELAY_MS = 250;
const AROUND_MAX_PAGES = 20; // how far back a link to an old message may load
const NEAR_BOTTOM_PX = 80; // a reader this close to the newest message is following the conversation
const NEAR_TOP_PX = 40; // this close to the oldest shown message, older ones are asked for
const ANNOUNCED_KEPT = 3; // announcements left in the live region (older ones are dropped unread)
const ANNOUNCE_EXCERPT = 140; // characters of a message read out; the list has the rest
const RETRYABLE = new Set(["rate_limited", "server_error", "timeout", "unauthorized"]);

function uuid4() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

if (root) {
  const label = (name) => root.dataset[`label${name}`];
  const channelId = Number(root.dataset.channelId);
  const userId = Number(root.dataset.userId);
  const mayModerate = root.dataset.mayModerate === "true";
  const list = root.querySelector("[data-chat-messages]");
  const scroller = root.querySelector("[data-chat-scroll]"); // the list and "Show older messages" scroll in it
  const status = root.querySelector("[data-chat-status]");
  const composer = root.querySelector("[data-chat-composer]");
  const textarea = composer?.querySelector("textarea");
  const errorBox = composer?.querySelector("[data-chat-error]");
  const replying = composer?.querySelector("[data-chat-replying]");
  const olderButton = root.querySelector("[data-chat-older]");
  const jumpButton = root.querySelector("[data-chat-jump]");
  const jumpText = root.querySelector("[data-chat-jump-text]");
  const announcer = root.querySelector("[data-chat-announce]");
  const lockedNote = root.querySelector("[data-chat-locked]");
  const lockButton = root.querySelector("[data-chat-lock]");
  const mayWrite = root.dataset.mayWrite === "true";
  const readOnly = root.dataset.readOnly === "true"; // a closed exchange: no actions at all
  const reactionSet = (root.dataset.reactions || "").split(" ").filter(Boolean);
  const typingLine = root.querySelector("[data-chat-typing]");
  const presenceCount = root.querySelector("[data-chat-presence-count]");
  const presenceList = root.querySelector("[data-chat-presence-list]");
  const ownBadge = document.querySelector(`[data-unread-badge="${root.dataset.channelId}"]`);
  let around = root.dataset.around ? Number(root.dataset.around) : null;
  // Live events name people by their public name (a pupil's username, unless their classes
  // let partners see first names). The page gives the display names this reader may see
  // (own-school staff: their pupils; a pupil: themself), shown instead.
  const roster = new Map(Object.entries(JSON.parse(root.dataset.names || "{}")).map(([id, name]) => [Number(id), name]));
  const nameOf = (id, publicName) => roster.get(id) ?? publicName;
  const typers = new Map(); // user id -> {name, timer}
  const online = new Map(); // user id -> name
  let lastTypingSent = 0;
  let readSent = 0; // the highest seq reported as read
  let readTimer = null;

  const socket = connectLive();
  let lastSeq = null; // the highest seq applied with nothing missing below it
  let oldestSeq = null; // the oldest message shown, for scroll-back
  let repairing = false;
  let repairTimer = null;
  let loadingOlder = false;
  let unseen = 0; // messages from others that arrived while the reader was scrolled up
  let toAnnounce = []; // new messages from others, announced together once the frame is applied
  let catchingUp = false; // a rejoin replays what came while offline: counted, not read out
  let replyTo = null;
  const ahead = new Map(); // seq -> event that arrived before the ones below it
  const pending = new Map(); // client_id -> {body, replyTo, node, attempts, timer}

  function emit(name, payload) {
    return new Promise((resolve) => {
      socket.timeout(ACK_TIMEOUT_MS).emit(name, payload, (err, ack) => {
        resolve(err ? { ok: false, error: { code: "timeout", message: label("Failed") } } : ack);
      });
    });
  }

  const moderation = setupModeration({ root, socket, emit, label, channelId, userId, mayModerate, composer, status });

  // ---- rendering --------------------------------------------------------------------

  function messageNode(id) {
    return list.querySelector(`[data-message-id="${id}"]`);
  }

  function placeBySeq(node, seq) {
    node.dataset.seq = String(seq);
    const after = [...list.querySelectorAll("[data-seq]")].find((other) => other !== node && Number(other.dataset.seq) > seq);
    if (after) list.insertBefore(node, after);
    else list.insertBefore(node, list.querySelector("[data-pending]"));
  }

  function setStatus(node, state, text) {
    const badge = node.querySelector(".chat-status");
    node.dataset.status = state;
    badge.textContent = text || label(state === "sent" ? "Sent" : state === "sending" ? "Sending" : "Failed");
  }

  function skeleton(authorName, country, when) {
    const node = element("li", "chat-message");
    const header = element("p", "chat-meta");
    header.append(element("strong", "", authorName));
    if (country) header.append(" ", element("span", "muted", `(${country})`));
    if (when) header.append(" ", element("time", "muted", new Date(when).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })));
    header.append(" ", element("span", "chat-status muted"));
    node.append(header, element("div", "chat-body"), element("div", "chat-actions"));
    return node;
  }

  function named(message) {
    const reply = message.reply_to && { ...message.reply_to, author_name: nameOf(message.reply_to.author_id, message.reply_to.author_name) };
    return { ...message, author_name: nameOf(message.author_id, message.author_name), reply_to: reply };
  }

  function render(received) {
    const message = named(received);
    let node = messageNode(message.id);
    const pendingEntry = pending.get(message.client_id);
    if (!node && pendingEntry) {
      node = pendingEntry.node; // our own message, acknowledged or echoed by the room
      clearTimeout(pendingEntry.timer);
      pending.delete(message.client_id);
      delete node.dataset.pending;
    }
    const fresh = skeleton(message.author_name, message.author_country, message.created_at);
    fresh.dataset.messageId = String(message.id);
    fresh.dataset.state = message.state;
    if (node) node.replaceWith(fresh);
    node = fresh;
    if (message.author_id === userId) setStatus(node, "sent");
    const body = node.querySelector(".chat-body");
    if (message.reply_to) {
      const quote = element("blockquote", "chat-quote");
      quote.append(element("strong", "", message.reply_to.author_name), " ", message.reply_to.excerpt || label("Deleted"));
      body.append(quote);
    }
    if (message.state === "visible") {
      const content = element("div", "chat-text");
      content.innerHTML = message.body_html; // sanitized on the server (markdown-it + nh3 allowlist)
      body.append(content);
      if (message.is_edited) body.append(element("span", "muted chat-edited", `(${label("Edited")})`));
    } else {
      body.append(element("p", "chat-tombstone muted", message.state === "hidden" ? label("Hidden") : label("Deleted")));
    }
    if (message.state === "visible") addReactions(node, message);
    // Readers without a composer (a visitor, a pupil in a conversation kept for reading) may still report.
    if (message.state === "visible" && (composer || !readOnly)) addActions(node, message);
    node.id = `message-${message.seq}`;
    placeBySeq(node, message.seq);
    if (oldestSeq === null || message.seq < oldestSeq) oldestSeq = message.seq;
  }

  function button(text, action) {
    const b = element("button", "link-button", text);
    b.type = "button";
    b.addEventListener("click", action);
    return b;
  }

  function addActions(node, message) {
    const actions = node.querySelector(".chat-actions");
    const add = (control) => actions.append(...(actions.childNodes.length ? [" ", control] : [control]));
    if (composer) {
      add(button(label("Reply"), () => startReply(message)));
      if (message.author_id === userId) {
        add(button(label("Edit"), () => startEdit(node, message)));
        add(
          button(label("Delete"), () => {
            if (window.confirm(label("DeleteConfirm"))) act("chat_delete", { message_id: message.id });
          }),
        );
      }
    }
    // Hiding needs no right to write: a teacher hides in a pupils' direct conversation too.
    if (mayModerate) add(button(label("Hide"), () => act("chat_hide", { message_id: message.id })));
    for (const extra of moderation.actionsFor(message, Boolean(composer))) add(extra); // report; teacher delete, mute
  }

  function startReply(message) {
    replyTo = message.id;
    replying.textContent = "";
    replying.append(label("Replying").replace("{name}", message.author_name), " ");
    replying.append(button(label("Cancel"), stopReply));
    replying.hidden = false;
    textarea.focus();
  }

  function stopReply() {
    replyTo = null;
    replying.hidden = true;
  }

  function startEdit(node, message) {
    const body = node.querySelector(".chat-body");
    const form = element("form", "chat-edit");
    const field = element("textarea");
    field.value = message.body_source;
    field.setAttribute("aria-label", label("Edit"));
    const save = element("button", "button button-small", label("Save"));
    save.type = "submit";
    form.append(field, save, " ", button(label("Cancel"), () => render(message)));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const ack = await act("chat_edit", { message_id: message.id, body: field.value });
      if (ack.ok) keepingPlace(() => render(ack.message));
    });
    body.replaceChildren(form);
    field.focus();
  }

  function setLocked(locked) {
    lockedNote.hidden = !locked;
    if (lockButton) {
      lockButton.textContent = locked ? label("Unlock") : label("Lock");
      lockButton.dataset.locked = String(locked);
    }
  }

  // ---- following the conversation -------------------------------------------------------

  function isNearBottom() {
    return scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight <= NEAR_BOTTOM_PX;
  }

  function scrollToNewest() {
    scroller.scrollTop = scroller.scrollHeight;
  }

  function topShown() {
    // The message at the top of the view and how far below the list's edge it starts.
    const edge = scroller.getBoundingClientRect().top;
    const node = [...list.children].find((child) => child.getBoundingClientRect().bottom > edge);
    return node && { node, id: node.dataset.messageId, offset: node.getBoundingClientRect().top - edge };
  }

  function keepingPlace(change, { follow = true } = {}) {
    // A reader at the bottom stays there, so new messages come into view. A reader further
    // up keeps the message at the top of the view in its place, whatever is added or redrawn
    // above it (render replaces a message's node, so it is found again by id). Answers
    // whether the reader was following.
    const following = follow && isNearBottom();
    const anchor = following ? null : topShown();
    change();
    if (following) scrollToNewest();
    else if (anchor) {
      const node = (anchor.id && messageNode(anchor.id)) || (anchor.node.isConnected ? anchor.node : null);
      if (node) scroller.scrollTop += node.getBoundingClientRect().top - scroller.getBoundingClientRect().top - anchor.offset;
    }
    return following;
  }

  function focusMessage(node) {
    if (!node) return;
    node.tabIndex = -1;
    node.focus({ preventScroll: true });
  }

  function isNewFromOther(event) {
    return event.kind === "message" && event.message?.state === "visible" && event.message.author_id !== userId;
  }

  function showUnseen(count) {
    unseen = count;
    jumpButton.hidden = count === 0;
    if (!count) return;
    const form = pluralRules.select(count) === "one" ? "NewOne" : "NewOther";
    jumpText.textContent = label(form).replace("{count}", String(count));
  }

  function announceSoon(messages) {
    // A batch frame applies its messages one by one: they are read out as one group.
    if (!toAnnounce.length) {
      queueMicrotask(() => {
        announce(toAnnounce);
        toAnnounce = [];
      });
    }
    toAnnounce.push(...messages);
  }

  function announce(messages) {
    // Author and the start of the text, the last few only; the list itself is not a live region.
    for (const message of messages.slice(-ANNOUNCED_KEPT)) {
      const full = messageNode(message.id)?.querySelector(".chat-text")?.textContent.trim() || "";
      const text = full.length > ANNOUNCE_EXCERPT ? `${full.slice(0, ANNOUNCE_EXCERPT - 1)}…` : full;
      const words = { name: nameOf(message.author_id, message.author_name), text };
      announcer.append(element("p", "", label("Announce").replace(/\{(name|text)\}/g, (_, key) => words[key])));
    }
    while (announcer.childElementCount > ANNOUNCED_KEPT) announcer.firstElementChild.remove();
  }

  async function loadOlder() {
    // At the top: the page before the oldest shown, without moving what the reader looks at.
    if (loadingOlder || olderButton.hidden || lastSeq === null) return;
    loadingOlder = true;
    try {
      const ack = await emit("chat_history", { channel_id: channelId, before_seq: oldestSeq ?? 1 });
      if (!ack.ok) return;
      const hadFocus = document.activeElement === olderButton;
      keepingPlace(
        () => {
          ack.messages.forEach(render);
          olderButton.hidden = !ack.has_older; // above the kept place too
        },
        { follow: false },
      );
      if (hadFocus && olderButton.hidden) focusMessage(list.querySelector(".chat-message")); // nothing older: on the oldest
    } finally {
      loadingOlder = false;
    }
  }

  // ---- ordered delivery ---------------------------------------------------------------

  function apply(event) {
    if (event.kind === "message" && event.message) stopTyping(event.message.author_id);
    if (event.message) render(event.message);
    if (event.is_locked !== undefined) setLocked(event.is_locked);
  }

  function receive(event) {
    if (lastSeq === null || event.seq <= lastSeq) return; // not joined yet (the join answers) or already applied
    ahead.set(event.seq, event);
    const arrived = [];
    const wasFollowing = keepingPlace(() => {
      while (ahead.has(lastSeq + 1)) {
        lastSeq += 1;
        const next = ahead.get(lastSeq);
        apply(next);
        if (isNewFromOther(next)) arrived.push(next.message);
        ahead.delete(lastSeq);
      }
    });
    if (arrived.length) {
      if (!catchingUp) announceSoon(arrived);
      if (!wasFollowing) showUnseen(unseen + arrived.length);
    }
    if (ahead.size) repairSoon();
    reportRead();
  }

  function repairSoon() {
    if (repairTimer !== null) return;
    repairTimer = setTimeout(() => {
      repairTimer = null;
      if (ahead.size) repair();
    }, REPAIR_DELAY_MS);
  }

  async function repair() {
    // Something below a received seq is missing: ask for each missing range in turn, from
    // the last seq applied up to the lowest one held (not the events already held).
    if (repairing) return;
    repairing = true;
    try {
      let more = true;
      while (more && ahead.size) {
        const until = Math.min(...ahead.keys()) - 1;
        const ack = await emit("chat_events", { channel_id: channelId, after_seq: lastSeq, until_seq: until });
        if (!ack.ok) break;
        ack.events.forEach(receive);
        more = ack.has_more;
      }
    } finally {
      repairing = false;
    }
  }

  const pluralRules = new Intl.PluralRules(document.documentElement.lang || "en");

  function showUnread(badge, count) {
    badge.dataset.count = String(count);
    badge.querySelector("[data-unread-count]").textContent = String(count);
    const form = pluralRules.select(count) === "one" ? "UnreadOne" : "UnreadOther";
    badge.querySelector("[data-unread-label]").textContent = ` ${label(form)}`;
    badge.hidden = count === 0;
  }

  async function watchOtherChannels() {
    // The server sends a chat_notice per new message in those the user may read.
    const others = [...document.querySelectorAll("[data-unread-badge]")]
      .map((badge) => Number(badge.dataset.unreadBadge))
      .filter((id) => id !== channelId);
    if (others.length) await emit("chat_watch", { channel_ids: others });
  }

  async function join() {
    const ack = await emit("chat_join", { channel_id: channelId, last_seq: lastSeq });
    if (!ack.ok) {
      status.textContent = ack.error.message;
      return;
    }
    setLocked(ack.channel.is_locked);
    if (lastSeq === null) {
      ack.messages.forEach(render);
      olderButton.hidden = !ack.has_older;
      lastSeq = ack.channel.last_seq;
      scrollToNewest(); // the chat opens at the newest message
    } else {
      catchingUp = true;
      try {
        ack.events.forEach(receive);
        let more = ack.has_more;
        while (more) {
          const page = await emit("chat_events", { channel_id: channelId, after_seq: lastSeq });
          if (!page.ok) break;
          page.events.forEach(receive);
          more = page.has_more;
        }
      } finally {
        catchingUp = false;
      }
    }
    for (const event of [...ahead.values()]) receive(event);
    status.textContent = label("Online");
    if (around !== null) await showAround();
    root.dataset.joined = "true";
    syncPresence();
    watchOtherChannels();
    reportRead();
    for (const clientId of pending.keys()) deliver(clientId); // resend what was not acknowledged
  }

  // ---- reactions ----------------------------------------------------------------------

  function addReactions(node, message) {
    const bar = element("div", "chat-reactions");
    const byEmoji = new Map((message.reactions || []).map((r) => [r.emoji, r.user_ids]));
    for (const emoji of reactionSet) {
      const users = byEmoji.get(emoji) || [];
      if (!users.length) continue;
      const mine = users.includes(userId);
      const name = label(mine ? "ReactionCount" : "ReactionCountOthers")
        .replace("{emoji}", emoji)
        .replace("{count}", String(users.length));
      if (mayWrite) {
        const b = button(`${emoji} ${users.length}`, () => react(message.id, emoji, !mine));
        b.className = "chat-reaction";
        b.setAttribute("aria-pressed", String(mine));
        b.setAttribute("aria-label", name);
        bar.append(b);
      } else {
        const chip = element("span", "chat-reaction", `${emoji} ${users.length}`);
        chip.setAttribute("aria-label", name);
        chip.setAttribute("role", "img");
        bar.append(chip);
      }
    }
    if (mayWrite) {
      const picker = element("details", "chat-react-picker");
      const summary = element("summary", "link-button", label("AddReaction"));
      picker.append(summary);
      const choices = element("div", "chat-react-choices");
      for (const emoji of reactionSet) {
        const mine = (byEmoji.get(emoji) || []).includes(userId);
        const b = button(emoji, () => {
          picker.open = false;
          react(message.id, emoji, !mine);
        });
        b.className = "chat-reaction-choice";
        b.setAttribute("aria-label", label("React").replace("{emoji}", emoji));
        b.setAttribute("aria-pressed", String(mine));
        choices.append(b);
      }
      picker.append(choices);
      bar.append(picker);
    }
    if (bar.childElementCount) node.querySelector(".chat-body").after(bar);
  }

  async function react(messageId, emoji, on) {
    const ack = await act("chat_react", { message_id: messageId, emoji, on });
    if (ack.ok) {
      // The room's event redraws the message; focus stays near the reactions of this one.
      messageNode(messageId)?.querySelector(".chat-reactions summary, .chat-reaction")?.focus();
    }
  }

  // ---- typing, presence, read marks --------------------------------------------------

  function showTyping() {
    const names = [...typers.values()].map((t) => t.name);
    if (!names.length) typingLine.textContent = "";
    else if (names.length === 1) typingLine.textContent = label("TypingOne").replace("{a}", names[0]);
    else if (names.length === 2) typingLine.textContent = label("TypingTwo").replace("{a}", names[0]).replace("{b}", names[1]);
    else typingLine.textContent = label("TypingMany");
  }

  function stopTyping(authorId) {
    const typer = typers.get(authorId);
    if (!typer) return;
    clearTimeout(typer.timer);
    typers.delete(authorId);
    showTyping();
  }

  function someoneTyping(event) {
    if (event.channel_id !== channelId || event.user_id === userId) return;
    clearTimeout(typers.get(event.user_id)?.timer);
    typers.set(event.user_id, { name: nameOf(event.user_id, event.name), timer: setTimeout(() => stopTyping(event.user_id), TYPING_SHOWN_MS) });
    showTyping();
  }

  function typed() {
    const now = Date.now();
    if (!socket.connected || now - lastTypingSent < TYPING_SEND_EVERY_MS || !textarea.value.trim()) return;
    lastTypingSent = now;
    socket.emit("chat_typing", { channel_id: channelId });
  }

  function showPresence() {
    const people = [...online.entries()].sort((a, b) => a[1].localeCompare(b[1]));
    presenceCount.textContent = label("OnlineCount").replace("{count}", String(people.length));
    presenceList.replaceChildren(
      ...people.map(([id, name]) => {
        const item = element("li", "", name);
        item.dataset.userId = String(id);
        return item;
      }),
    );
  }

  async function syncPresence() {
    const ack = await emit("chat_presence", { channel_id: channelId });
    if (!ack.ok) return;
    online.clear();
    for (const person of ack.online) online.set(person.user_id, nameOf(person.user_id, person.name));
    showPresence();
  }

  function reportRead() {
    // Only what was on a visible page, with the reader down at the newest messages, counts as read.
    if (document.visibilityState !== "visible" || lastSeq === null || lastSeq <= readSent || readTimer) return;
    if (!isNearBottom()) return;
    readTimer = setTimeout(async () => {
      readTimer = null;
      const seq = lastSeq;
      if (document.visibilityState !== "visible" || seq <= readSent) return;
      const ack = await emit("chat_read", { channel_id: channelId, seq });
      if (ack.ok) {
        readSent = Math.max(readSent, ack.last_read_seq);
        if (ownBadge) showUnread(ownBadge, 0);
      }
    }, READ_REPORT_DELAY_MS);
  }

  async function showAround() {
    // A link from search: load older pages until the message is there, then show it.
    const target = around;
    around = null;
    loadingOlder = true; // the pages come here, not through the scroll-up loader
    for (let pages = 0; pages < AROUND_MAX_PAGES && !olderButton.hidden && (oldestSeq ?? 0) > target; pages += 1) {
      const ack = await emit("chat_history", { channel_id: channelId, before_seq: oldestSeq ?? 1 });
      if (!ack.ok) break;
      ack.messages.forEach(render);
      olderButton.hidden = !ack.has_older;
    }
    loadingOlder = false;
    const node = list.querySelector(`#message-${target}`);
    if (!node || node.dataset.state !== "visible") {
      status.textContent = label("NotFound");
      return;
    }
    node.classList.add("chat-message-target");
    node.tabIndex = -1;
    node.scrollIntoView({ block: "center" });
    node.focus({ preventScroll: true });
  }

  // ---- sending ----------------------------------------------------------------------

  async function deliver(clientId) {
    const entry = pending.get(clientId);
    if (!entry || entry.inFlight) return;
    entry.inFlight = true;
    setStatus(entry.node, "sending");
    const ack = await emit("chat_send", {
      channel_id: channelId,
      client_id: clientId,
      body: entry.body,
      reply_to: entry.replyTo,
    });
    entry.inFlight = false;
    if (ack.ok) {
      keepingPlace(() => render(ack.message));
      return;
    }
    if (!pending.has(clientId)) return;
    setStatus(entry.node, "failed", ack.error.code === "timeout" ? label("Failed") : ack.error.message);
    if (RETRYABLE.has(ack.error.code)) {
      entry.attempts += 1;
      const delay = Math.min(30000, 1000 * 2 ** Math.min(entry.attempts, 5));
      entry.timer = setTimeout(() => socket.connected && deliver(clientId), delay);
    } else {
      errorBox.textContent = ack.error.message;
      errorBox.hidden = false;
    }
  }

  function send(body) {
    const clientId = uuid4();
    const node = skeleton(root.dataset.userName || "", null, null);
    node.querySelector(".chat-meta strong").remove();
    node.dataset.pending = "true";
    node.querySelector(".chat-body").append(element("p", "chat-text", body));
    list.append(node);
    scrollToNewest(); // one's own message is shown, wherever the reader was
    pending.set(clientId, { body, replyTo, node, attempts: 0, timer: null });
    setStatus(node, "sending");
    stopReply();
    if (socket.connected) deliver(clientId);
  }

  async function act(name, payload) {
    const ack = await emit(name, { channel_id: channelId, ...payload });
    if (!ack.ok) {
      status.textContent = ack.error.message;
    }
    return ack;
  }

  composer?.addEventListener("submit", (event) => {
    event.preventDefault();
    const body = textarea.value.trim();
    if (!body) return;
    errorBox.hidden = true;
    send(body);
    textarea.value = "";
  });
  textarea?.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      composer.requestSubmit();
    }
  });
  olderButton?.addEventListener("click", loadOlder);
  scroller.addEventListener(
    "scroll",
    () => {
      if (isNearBottom()) {
        showUnseen(0);
        reportRead(); // what came while scrolled up is read once the reader is down here
      }
      if (scroller.scrollTop <= NEAR_TOP_PX) loadOlder();
    },
    { passive: true },
  );
  jumpButton.addEventListener("click", () => {
    scrollToNewest();
    showUnseen(0);
    // The button is gone now: focus goes to the newest message rather than to the page's start.
    focusMessage(list.querySelector(".chat-message:last-child"));
  });
  lockButton?.addEventListener("click", () => act("chat_lock", { locked: lockButton.dataset.locked !== "true" }));
  textarea?.addEventListener("input", typed);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState !== "visible") return;
    reportRead();
    if (socket.connected) syncPresence();
  });
  setInterval(() => {
    if (socket.connected && document.visibilityState === "visible") syncPresence();
  }, PRESENCE_REFRESH_MS);
  socket.on("chat_typing", someoneTyping);
  socket.on("chat_read", (mark) => {
    // Another tab of this user read a channel: its count goes.
    if (mark.channel_id === channelId) readSent = Math.max(readSent, mark.last_read_seq);
    const badge = document.querySelector(`[data-unread-badge="${mark.channel_id}"]`);
    if (!badge) return;
    badge.dataset.readSeq = String(mark.last_read_seq);
    showUnread(badge, 0);
  });
  socket.on("chat_notice", (notice) => {
    // New messages in another channel of the list (chat_watch): its unread count goes up.
    const badge = notice.channel_id !== channelId && document.querySelector(`[data-unread-badge="${notice.channel_id}"]`);
    const added = notice.author_ids.filter((id) => id !== userId).length;
    if (badge && added) showUnread(badge, Number(badge.dataset.count) + added);
  });
  socket.on("chat_notice_removed", (removed) => {
    // A message in another channel was deleted or hidden: if it was counted as unread, not now.
    const badge = removed.channel_id !== channelId && document.querySelector(`[data-unread-badge="${removed.channel_id}"]`);
    const counted = badge && removed.author_id !== userId && removed.seq > Number(badge.dataset.readSeq);
    if (counted && Number(badge.dataset.count) > 0) showUnread(badge, Number(badge.dataset.count) - 1);
  });
  socket.on("chat_online", (person) => {
    if (person.channel_id !== channelId) return;
    online.set(person.user_id, nameOf(person.user_id, person.name));
    showPresence();
  });
  socket.on("chat_offline", (person) => {
    // Their last socket closed (on any process): off the list now, not at the next sync.
    if (person.channel_id !== channelId || !online.delete(person.user_id)) return;
    showPresence();
  });

  socket.on("chat_event", (event) => {
    if (event.channel_id === channelId) receive(event);
  });
  socket.on("chat_event_batch", (batch) => {
    // Messages committed together (group commit) come in one frame, in seq order.
    if (batch.channel_id === channelId) batch.events.forEach(receive);
  });
  socket.on("chat_writable", (event) => {
    // A teacher stopped direct messages: this conversation stays readable, the composer goes off.
    if (event.channel_id !== channelId || event.writable !== false || !composer) return;
    root.dataset.writable = "false";
    composer.querySelectorAll("textarea, button").forEach((control) => {
      control.disabled = true;
    });
    errorBox.textContent = label("NoLongerWritten");
    errorBox.hidden = false;
  });
  // A newer window took this one's place: live.js shows why, once (a second status line saying
  // the same would be read out twice), and this window does not reconnect by itself.
  let replaced = false;
  socket.on("connect", () => {
    replaced = false;
    join();
  });
  socket.on("socket_replaced", () => {
    replaced = true;
    status.textContent = "";
  });
  socket.on("disconnect", () => {
    if (!replaced) status.textContent = label("Offline");
    root.dataset.joined = "false";
  });
  socket.on("connect_error", (error) => {
    status.textContent = refusalMessage(error) || label("Offline");
  });
  if (socket.connected) join();
}
