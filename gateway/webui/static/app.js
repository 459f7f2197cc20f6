// wsgate sharing page. Signing in trades an API token (once) or a one-time
// code from `wsgate web` for a session cookie the page cannot read
// (HttpOnly, SameSite=Strict); the token is kept nowhere. Every API call
// carries the X-Wsgate-Csrf header, which another origin cannot send, and
// the gateway refuses cookie calls without it. Every piece of data reaches
// the page through textContent, never as markup.
"use strict";

const CSRF = { "X-Wsgate-Csrf": "1" };
const $ = (id) => document.getElementById(id);

const state = { user: "", workspaces: [], selected: null, appsURL: "" };
let pending = 0; // calls of run() not finished yet

// ApiError carries the API's message verbatim.
class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

async function api(method, path, body, extra) {
  const headers = Object.assign({ "Accept": "application/json" }, CSRF, extra || {});
  const init = { method, headers, cache: "no-store", credentials: "same-origin" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const resp = await fetch(path, init);
  if (resp.status === 204) return null;
  let data = null;
  try { data = await resp.json(); } catch (_) { /* not JSON */ }
  if (!resp.ok) {
    const msg = data && typeof data.message === "string" ? data.message : resp.status + " " + resp.statusText;
    throw new ApiError(resp.status, msg);
  }
  return data;
}

function wsPath(ws) {
  return "/api/v1/workspaces/" + encodeURIComponent(ws.owner) + "/" + encodeURIComponent(ws.name);
}

function showError(err) {
  const el = $("error");
  el.textContent = err ? String(err.message || err) : "";
  el.hidden = !err;
}

// run shows what fn throws; a 401 signs out, since the token is no good.
// While anything runs, <main> is aria-busy.
async function run(fn) {
  showError(null);
  pending++;
  $("main").setAttribute("aria-busy", "true");
  try {
    await fn();
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) forget();
    showError(err);
  } finally {
    if (--pending === 0) $("main").setAttribute("aria-busy", "false");
  }
}

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}

function mayShare(ws) { return ws.role === "owner" || ws.role === "admin"; }

// forget drops what the page knows of the signed-in user.
function forget() {
  state.user = "";
  state.workspaces = [];
  state.selected = null;
  render();
}

async function signOut() {
  await api("POST", "/api/v1/signout");
  forget();
}

// signIn trades the token for the session cookie; the token is not kept.
async function signIn(secret) {
  await api("POST", "/api/v1/signin", undefined, { "Authorization": "Bearer " + secret });
  await afterSignIn();
}

async function afterSignIn() {
  const me = await api("GET", "/api/v1/users/me");
  state.user = me.name;
  if (await continueToApp()) return;
  await loadWorkspaces();
}

// continueToApp: on /signin?app=HOST&state=S (an app host sent the browser
// here), get a one-time code for that host and go back to it.
async function continueToApp() {
  if (location.pathname !== "/signin") return false;
  const q = new URLSearchParams(location.search);
  const host = q.get("app"), st = q.get("state");
  if (!host || !st) return false;
  const r = await api("POST", "/api/v1/signin/app-code", { host, state: st });
  location.replace(r.redirect);
  return true;
}

async function loadWorkspaces() {
  state.workspaces = await api("GET", "/api/v1/workspaces?q=");
  if (state.selected) {
    const id = state.selected.ws.owner + "/" + state.selected.ws.name;
    const ws = state.workspaces.find((w) => w.owner + "/" + w.name === id);
    state.selected = ws ? { ws, acl: state.selected.acl } : null;
  }
  render();
}

async function select(ws) {
  const acl = await api("GET", wsPath(ws) + "/acl");
  state.selected = { ws, acl };
  render();
}

// patch sends one change ("" role removes), with an optional RFC 3339
// expiry, and shows the ACL it answers.
async function patch(kind, name, role, expiresAt) {
  const ws = state.selected.ws;
  const body = kind === "group" ? { groups: { [name]: role } } : { users: { [name]: role } };
  if (expiresAt) body.expires_at = expiresAt;
  const acl = await api("PATCH", wsPath(ws) + "/acl", body);
  state.selected = { ws, acl };
  render();
}

function render() {
  const signedIn = state.user !== "";
  $("signin").hidden = signedIn;
  $("app").hidden = !signedIn;
  $("whoami").hidden = !signedIn;
  $("username").textContent = state.user;
  if (!signedIn) return;

  const list = $("workspaces");
  list.replaceChildren();
  for (const ws of state.workspaces) {
    const b = el("button");
    b.type = "button";
    b.dataset.workspace = ws.owner + "/" + ws.name;
    b.append(el("span", ws.owner + "/" + ws.name), el("span", ws.role, "role"));
    const cur = state.selected && state.selected.ws.owner === ws.owner && state.selected.ws.name === ws.name;
    b.setAttribute("aria-current", cur ? "true" : "false");
    b.addEventListener("click", () => run(() => select(ws)));
    const li = el("li");
    li.append(b);
    list.append(li);
  }
  $("no-workspaces").hidden = state.workspaces.length > 0;
  renderDetail();
}

function renderDetail() {
  const sel = state.selected;
  $("detail").hidden = !sel;
  if (!sel) return;
  const { ws, acl } = sel;
  $("ws-title").textContent = ws.owner + "/" + ws.name;
  $("ws-role").textContent = "Your role: " + ws.role + (ws.org ? " · organization " + ws.org : "");
  const canShare = mayShare(ws);
  const rows = [];
  for (const [kind, entries] of [["user", acl.users || []], ["group", acl.groups || []]]) {
    for (const g of entries) {
      const tr = el("tr");
      tr.dataset.subject = kind + ":" + g.name;
      const expires = g.expires_at ? new Date(g.expires_at).toISOString().replace(/\.\d{3}Z$/, "Z") : "—";
      tr.append(el("td", kind), el("td", g.name), el("td", g.role, "role-cell"), el("td", expires));
      const act = el("td");
      if (canShare) {
        const rm = el("button", "Remove", "remove");
        rm.type = "button";
        rm.setAttribute("aria-label", "Remove " + kind + " " + g.name);
        rm.addEventListener("click", () => run(async () => {
          await patch(kind, g.name, "");
          await loadWorkspaces();
        }));
        act.append(rm);
      }
      tr.append(act);
      rows.push(tr);
    }
  }
  $("shares").tBodies[0].replaceChildren(...rows);
  $("shares").hidden = rows.length === 0;
  $("no-shares").hidden = rows.length > 0;
  // Grants that give nothing while sharing is disabled; they can be removed.
  $("shares-inactive").textContent = acl.inactive
    ? "Inactive: " + acl.inactive + "; these grants give no access until it is enabled again." : "";
  $("shares-inactive").hidden = !acl.inactive || rows.length === 0;
  $("share").hidden = !canShare;
  $("open-app").hidden = !state.appsURL;
  renderAppLink();
}

// renderAppLink points "Open" at the app on the typed port, under the
// apps domain (each app its own origin).
function renderAppLink() {
  const sel = state.selected, port = Number($("app-port").value);
  const link = $("app-link");
  if (!sel || !state.appsURL || !Number.isInteger(port) || port < 1 || port > 65535) {
    link.hidden = true;
    link.removeAttribute("href");
    return;
  }
  link.href = state.appsURL.replace("{port}", String(port)).replace("{name}", sel.ws.name).replace("{owner}", sel.ws.owner);
  link.hidden = false;
}

document.addEventListener("DOMContentLoaded", () => {
  $("signin").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const secret = $("token").value.trim();
    $("token").value = "";
    run(() => signIn(secret));
  });
  $("signout").addEventListener("click", () => run(signOut));
  $("app-port").addEventListener("input", renderAppLink);
  $("open-app").addEventListener("submit", (ev) => ev.preventDefault());
  $("share").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const name = $("share-name").value.trim();
    run(async () => {
      // datetime-local is the browser's local time; the API wants UTC.
      const local = $("share-expires").value;
      let expiresAt = "";
      if (local) {
        const t = new Date(local);
        if (isNaN(t.getTime())) throw new Error("invalid expiry: " + local);
        expiresAt = t.toISOString().replace(/\.\d{3}Z$/, "Z");
      }
      await patch($("share-kind").value, name, $("share-role").value, expiresAt);
      $("share-name").value = "";
      $("share-expires").value = "";
      // The list shows every workspace's role: keep it current.
      await loadWorkspaces();
    });
  });
  run(start);
});

// start: redeem a `wsgate web` code from the URL's fragment (never sent to
// a server), then see whether the session cookie signs us in.
async function start() {
  const info = await api("GET", "/api/v1/info");
  state.appsURL = info.apps_url || "";
  const code = new URLSearchParams(location.hash.slice(1)).get("code");
  if (code) {
    history.replaceState(null, "", location.pathname + location.search);
    await api("POST", "/api/v1/signin", { code });
  }
  try {
    await afterSignIn();
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 401) || code) throw err;
    forget(); // not signed in yet: the form
  }
}
