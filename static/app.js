// Browser client for tornado-socketio-jwt.
//
// Logs in with fetch, keeps the token in memory only (never localStorage, never a URL),
// and connects to Socket.IO with the token in the handshake `auth` payload. Shortly
// before the token expires it fetches a new one (POST token/refresh) and hands it to
// the live socket (`refresh` event), so the chat never drops.
// User data is only ever written with textContent, never innerHTML.
import { io } from "./vendor/socket.io.esm.min.js";

// Every URL is relative to the page, so the client keeps working when the host
// application mounts its routes under a prefix.
const base = new URL(".", document.baseURI);
const LOGIN_URL = new URL("login", base);
const LOGOUT_URL = new URL("logout", base);
const REFRESH_URL = new URL("token/refresh", base);
// The Socket.IO path follows the same prefix ("/socket.io/" when the page is at "/").
// A host can override it with <meta name="socketio-path" content="/some/path/">.
const SOCKETIO_PATH =
  document.querySelector('meta[name="socketio-path"]')?.content ||
  new URL("socket.io/", base).pathname;
// Against a server in the "event" flow (python server.py --auth-flow event), open the
// page as /?auth_flow=event: the token then goes in an `authenticate` event after
// connecting instead of in the handshake.
const EVENT_FLOW = new URLSearchParams(window.location.search).get("auth_flow") === "event";
const WHOAMI_TIMEOUT_MS = 10000;
const REFRESH_ACK_TIMEOUT_MS = 10000;
// Refresh a minute before expiry, or after three quarters of a shorter lifetime. The
// server counts whole seconds (iat is truncated), so a token may have up to one second
// less than `expires_in` says.
const REFRESH_LEAD_S = 60;
const REFRESH_FRACTION = 0.75;
const IAT_ROUNDING_S = 1;
const REFRESH_RETRY_MS = 5000;
// A chat message not acknowledged in this time is reported as not delivered.
const SEND_TIMEOUT_MS = 5000;

// What each refusal code means for the person at the keyboard; the code itself is
// shown in small print beside it. Unknown codes fall back to the server's message.
const CODE_TEXT = {
  credentials_required: "No sign-in token reached the server. Sign in again.",
  credentials_bad_format: "The sign-in token was malformed. Sign in again.",
  invalid_token: "Your sign-in is not valid on this server. Sign in again.",
  token_expired: "Your session has expired. Sign in again.",
  token_revoked: "This session was logged out. Sign in again.",
  session_expired: "Your session is too old to renew. Sign in again.",
  token_mismatch: "The renewed sign-in did not match this session.",
  already_authenticated: "This connection is already signed in.",
  forbidden: "Your account is not allowed to use this.",
  too_many_connections: "Too many open connections for your account or network. Close a tab and try again.",
  too_many_attempts: "Too many requests. Wait a moment and try again.",
  service_unavailable: "The server is busy or restarting. Try again in a moment.",
  server_shutdown: "The server is restarting; reconnecting when it is back.",
  unauthorized: "You are not signed in. Sign in again.",
  bad_request: "The server did not understand the request.",
};

const $ = (id) => document.getElementById(id);
const ui = {
  status: $("status"),
  connectError: $("connect-error"),
  loginForm: $("login-form"),
  username: $("username"),
  password: $("password"),
  loginButton: $("login-button"),
  loginError: $("login-error"),
  chat: $("chat"),
  whoami: $("whoami"),
  logout: $("logout"),
  messages: $("messages"),
  chatForm: $("chat-form"),
  chatInput: $("chat-input"),
  chatSend: $("chat-send"),
  chatError: $("chat-error"),
  sessionWarning: $("session-warning"),
};

// The bearer token, in memory only. A token refresh replaces this variable; the `auth`
// callback below reads it on every (re)connection attempt.
let token = null;
// The current socket; events from an older socket are ignored.
let socket = null;
// The pending token refresh (a setTimeout id), if any.
let refreshTimer = null;
// When the current token expires (ms since the epoch), for the refresh warning.
let tokenExpiresAt = null;

// ---- small view helpers -------------------------------------------------------------

const STATUS_TEXT = {
  "signed-out": "signed out",
  connecting: "connecting",
  connected: "connected",
};

function setStatus(state) {
  ui.status.textContent = STATUS_TEXT[state];
  ui.status.dataset.state = state;
  ui.chatSend.disabled = state !== "connected";
}

// `text` in words, and the machine `code` (if any) in small print after it.
function showMessage(el, text, code) {
  const words = document.createElement("span");
  words.textContent = text || "";
  el.replaceChildren(words);
  if (text && code) {
    const small = document.createElement("small");
    small.className = "code";
    small.textContent = code;
    el.append(" ", small);
  }
  el.hidden = !text;
}

// A refusal's words: ours for a known code, else the server's message.
function explain(code, serverMessage) {
  return CODE_TEXT[code] || serverMessage || "The server refused the connection.";
}

function showRefusal(el, code, serverMessage) {
  showMessage(el, explain(code, serverMessage), code);
}

function showLogin() {
  ui.chat.hidden = true;
  ui.loginForm.hidden = false;
  ui.loginButton.disabled = false;
  ui.logout.disabled = false;
  ui.whoami.textContent = "";
  ui.messages.replaceChildren();
  showMessage(ui.chatError, "");
  ui.password.value = "";
  ui.username.focus();
}

// While a first connection is being made, neither the login form nor the chat shows.
function showConnecting() {
  ui.loginForm.hidden = true;
  ui.chat.hidden = true;
}

function showChat() {
  ui.loginForm.hidden = true;
  const wasHidden = ui.chat.hidden;
  ui.chat.hidden = false;
  if (wasHidden) ui.chatInput.focus();
}

// ---- login --------------------------------------------------------------------------

function loginErrorText(status, body, retryAfter) {
  const code = body && typeof body.error === "string" ? body.error : "";
  if (status === 401 || code === "invalid_credentials") {
    return "Invalid username or password.";
  }
  if (status === 429 || code === "too_many_attempts") {
    const seconds = Number.parseInt(retryAfter || "", 10);
    return Number.isFinite(seconds) && seconds > 0
      ? `Too many failed attempts. Try again in ${seconds} second${seconds === 1 ? "" : "s"}.`
      : "Too many failed attempts. Try again later.";
  }
  if (status === 400 || code === "bad_request") {
    return "The request was not understood. Enter a username and a password.";
  }
  if (status === 413) {
    return "The username or password is too long.";
  }
  return `Sign-in failed (HTTP ${status}${code ? `, ${code}` : ""}).`;
}

async function readJson(response) {
  try {
    return await response.json();
  } catch {
    return null;
  }
}

async function login(event) {
  event.preventDefault();
  showMessage(ui.loginError, "");
  showMessage(ui.connectError, "");
  ui.loginButton.disabled = true;
  showMessage(ui.sessionWarning, "");
  try {
    let response;
    try {
      response = await fetch(LOGIN_URL, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ username: ui.username.value, password: ui.password.value }),
        credentials: "same-origin",
        cache: "no-store",
      });
    } catch {
      showMessage(ui.loginError, "Cannot reach the server. Check your connection and try again.");
      return;
    }
    const body = await readJson(response);
    if (!response.ok || !body || typeof body.token !== "string") {
      const text = response.ok
        ? "The server sent an unexpected answer."
        : loginErrorText(response.status, body, response.headers.get("Retry-After"));
      showMessage(ui.loginError, text);
      return;
    }
    token = body.token;
    ui.password.value = "";
    scheduleRefresh(body.expires_in);
    connect();
  } finally {
    ui.loginButton.disabled = false;
  }
}

// ---- Socket.IO ----------------------------------------------------------------------

// Forget the session locally: close the socket, drop the token, show the login form.
function endSession() {
  const old = socket;
  socket = null;
  token = null;
  cancelRefresh();
  showMessage(ui.sessionWarning, "");
  if (old) {
    old.disconnect();
  }
  setStatus("signed-out");
  showLogin();
}

function connect() {
  if (socket) {
    const old = socket;
    socket = null;
    old.disconnect();
  }
  const sock = io({
    path: SOCKETIO_PATH,
    // The callback form runs on every connection attempt, so a reconnect sends the
    // newest token.
    auth: EVENT_FLOW ? undefined : (cb) => cb({ token }),
    forceNew: true,
  });
  socket = sock;
  setStatus("connecting");
  showConnecting();
  ui.whoami.textContent = "";

  const current = () => sock === socket;

  const showIdentity = () => {
    sock.timeout(WHOAMI_TIMEOUT_MS).emit("whoami", (err, claims) => {
      if (!current()) return;
      if (err || !claims || typeof claims !== "object") {
        ui.whoami.textContent = "Signed in (identity unavailable)";
        return;
      }
      const name = [claims.first_name, claims.last_name].filter(Boolean).join(" ");
      ui.whoami.textContent = `Signed in as ${name || claims.sub} (${claims.email})`;
    });
  };

  sock.on("connect", () => {
    if (!current()) return;
    setStatus("connected");
    // Connection state recovery needs no client option: socket.io-client 4.6+
    // keeps the pid the server sends and asks for its session back on reconnect.
    // When the server gave it back, the chat messages sent while this page was
    // offline arrive through the "message" handler below, before anything new.
    ui.status.dataset.recovered = String(Boolean(sock.recovered));
    showMessage(ui.connectError, "");
    showChat();
    ui.whoami.textContent = "";
    if (EVENT_FLOW) {
      // The server handles nothing else until it answers `authenticated`.
      sock.emit("authenticate", { token });
    } else {
      showIdentity();
    }
  });

  sock.on("authenticated", () => {
    if (current()) showIdentity();
  });

  sock.on("connect_error", (err) => {
    if (!current()) return;
    showRefusal(ui.connectError, err && err.data && err.data.code, err && err.message);
    if (sock.active) {
      // A transport problem: the client retries on its own.
      setStatus("connecting");
    } else {
      // Refused by the server (bad, expired or revoked token): the token is useless.
      endSession();
    }
  });

  sock.on("disconnect", (reason) => {
    if (!current()) return;
    if (sock.active) {
      // Lost the connection; socket.io-client reconnects (with the newest token).
      setStatus("connecting");
    } else {
      // "io server disconnect": the server closed this session.
      endSession();
    }
  });

  sock.io.on("reconnect_attempt", () => {
    if (current()) setStatus("connecting");
  });

  const onTokenEnd = (payload) => {
    if (!current()) return;
    const p = payload && typeof payload === "object" ? payload : {};
    showRefusal(ui.connectError, p.code, p.message || "Your session ended.");
    endSession();
  };
  sock.on("token_expired", onTokenEnd);
  sock.on("token_revoked", onTokenEnd);
  sock.on("unauthorized", onTokenEnd);
  sock.on("server_shutdown", () => {
    if (current()) showRefusal(ui.connectError, "server_shutdown");
  });

  // A message carries its offset as a second argument while recovery is on.
  sock.on("message", (msg) => {
    if (!current()) return;
    appendMessage(msg);
  });
}

// ---- token refresh ------------------------------------------------------------------

function cancelRefresh() {
  if (refreshTimer !== null) {
    clearTimeout(refreshTimer);
    refreshTimer = null;
  }
}

function scheduleRefresh(expiresIn) {
  cancelRefresh();
  if (typeof expiresIn !== "number" || !Number.isFinite(expiresIn) || expiresIn <= 0) return;
  tokenExpiresAt = Date.now() + (expiresIn - IAT_ROUNDING_S) * 1000;
  const lifetime = expiresIn - IAT_ROUNDING_S;
  const seconds = Math.max(lifetime - REFRESH_LEAD_S, lifetime * REFRESH_FRACTION, 0);
  refreshTimer = setTimeout(refreshToken, seconds * 1000);
}

// Trade the token for a new one, then move the live socket onto it. If the socket is
// reconnecting instead, the `auth` callback sends the new token on the next attempt.
async function refreshToken() {
  refreshTimer = null;
  const old = token;
  if (!old) return;
  let response;
  try {
    response = await fetch(REFRESH_URL, {
      method: "POST",
      headers: { Authorization: `Bearer ${old}`, Accept: "application/json" },
      credentials: "same-origin",
      cache: "no-store",
    });
  } catch {
    // Offline for now: say so, and try again (the server still ends the socket
    // at expiry).
    if (token !== old) return;
    warnSessionEnding("Cannot reach the server to renew your session; retrying.", "");
    refreshTimer = setTimeout(refreshToken, REFRESH_RETRY_MS);
    return;
  }
  const body = await readJson(response);
  if (token !== old) return; // logged out (or refreshed) meanwhile
  if (!response.ok || !body || typeof body.token !== "string") {
    // session_expired, token_revoked, too many refreshes: no new token. Warn now;
    // the server sends token_expired at expiry, which ends the session.
    const code = body && typeof body.error === "string" ? body.error : `HTTP ${response.status}`;
    warnSessionEnding(`Your session could not be renewed: ${explain(code, "")}`, code);
    return;
  }
  token = body.token;
  showMessage(ui.sessionWarning, "");
  scheduleRefresh(body.expires_in);
  const sock = socket;
  if (sock && sock.connected) {
    sock.timeout(REFRESH_ACK_TIMEOUT_MS).emit("refresh", { token }, (err, ack) => {
      if (sock !== socket || (ack && ack.ok)) return;
      // Refused (e.g. token_mismatch) or unanswered: the socket keeps its old token
      // until it expires.
      const code = err ? "" : ack && ack.code;
      const why = err ? "the server did not answer." : explain(code, ack && ack.message);
      warnSessionEnding(`Your session could not be renewed: ${why}`, code);
    });
  }
}

// Shown while the session still runs: when it will be cut, and why.
function warnSessionEnding(why, code) {
  const at = tokenExpiresAt ? new Date(tokenExpiresAt).toLocaleTimeString() : "soon";
  showMessage(ui.sessionWarning, `${why} It ends at ${at} unless renewed; sign in again then.`, code);
}

// ---- chat ---------------------------------------------------------------------------

function appendMessage(msg) {
  if (!msg || typeof msg !== "object") return;
  const li = document.createElement("li");

  const from = document.createElement("span");
  from.className = "from";
  from.textContent = (msg.from && (msg.from.email || msg.from.sub)) || "unknown";
  li.append(from);

  if (typeof msg.ts === "number" && Number.isFinite(msg.ts)) {
    const when = new Date(msg.ts * 1000);
    const time = document.createElement("time");
    time.dateTime = when.toISOString();
    time.textContent = when.toLocaleTimeString();
    li.append(" ", time);
  }

  const text = document.createElement("span");
  text.className = "text";
  text.textContent = typeof msg.text === "string" ? msg.text : String(msg.text ?? "");
  li.append(text);

  const atBottom =
    ui.messages.scrollTop + ui.messages.clientHeight >= ui.messages.scrollHeight - 4;
  ui.messages.append(li);
  if (atBottom) {
    ui.messages.scrollTop = ui.messages.scrollHeight;
  }
}

// Every message waits for the server's acknowledgement; one refused or unanswered
// is reported and put back in the box, never silently lost.
function sendMessage(event) {
  event.preventDefault();
  const text = ui.chatInput.value.trim();
  const sock = socket;
  if (!text || !sock || !sock.connected) return;
  showMessage(ui.chatError, "");
  sock.timeout(SEND_TIMEOUT_MS).emit("message", { text }, (err, ack) => {
    if (sock !== socket || (!err && ack && ack.ok === true)) return;
    const code = err ? "" : (ack && (ack.code || ack.error)) || "";
    const why = err
      ? "the server did not answer in time."
      : explain(code, ack && ack.message || "the server refused it.");
    showMessage(ui.chatError, `Not delivered: ${why}`, code);
    if (!ui.chatInput.value) ui.chatInput.value = text;
  });
  ui.chatInput.value = "";
  ui.chatInput.focus();
}

// ---- logout -------------------------------------------------------------------------

async function logout() {
  const oldToken = token;
  const old = socket;
  cancelRefresh();
  // Ignore the old socket's events from now on (the server disconnects it on logout).
  socket = null;
  ui.logout.disabled = true;
  if (oldToken) {
    try {
      await fetch(LOGOUT_URL, {
        method: "POST",
        headers: { Authorization: `Bearer ${oldToken}` },
        credentials: "same-origin",
        cache: "no-store",
      });
    } catch {
      // Offline: the token is still dropped locally below and expires on its own.
    }
  }
  if (old) {
    old.disconnect();
  }
  token = null;
  showMessage(ui.connectError, "");
  showMessage(ui.sessionWarning, "");
  showMessage(ui.chatError, "");
  setStatus("signed-out");
  showLogin();
}

// ---- wiring -------------------------------------------------------------------------

ui.loginForm.addEventListener("submit", login);
ui.chatForm.addEventListener("submit", sendMessage);
ui.logout.addEventListener("click", logout);
setStatus("signed-out");
showLogin();
