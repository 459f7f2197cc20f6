// wsgate sharing page. The API token lives in sessionStorage (this tab
// only) and goes out as a bearer header: never in a URL or a cookie, so
// there is nothing for another site to forge. Every piece of data reaches
// the page through textContent, never as markup.
"use strict";

const TOKEN_KEY = "wsgate.token";
const $ = (id) => document.getElementById(id);

const state = { user: "", workspaces: [], selected: null };
let pending = 0; // calls of run() not finished yet

function token() { return sessionStorage.getItem(TOKEN_KEY) || ""; }

// ApiError carries the API's message verbatim.
class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

async function api(method, path, body) {
  const headers = { "Authorization": "Bearer " + token(), "Accept": "application/json" };
  const init = { method, headers, cache: "no-store", credentials: "omit" };
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
    if (err instanceof ApiError && err.status === 401) signOut();
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

function signOut() {
  sessionStorage.removeItem(TOKEN_KEY);
  state.user = "";
  state.workspaces = [];
  state.selected = null;
  render();
}

async function signIn(secret) {
  sessionStorage.setItem(TOKEN_KEY, secret);
  const me = await api("GET", "/api/v1/users/me");
  state.user = me.name;
  await loadWorkspaces();
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
  const signedIn = token() !== "" && state.user !== "";
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
}

document.addEventListener("DOMContentLoaded", () => {
  $("signin").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const secret = $("token").value.trim();
    $("token").value = "";
    run(() => signIn(secret));
  });
  $("signout").addEventListener("click", () => { showError(null); signOut(); });
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
  if (token()) {
    run(async () => {
      const me = await api("GET", "/api/v1/users/me");
      state.user = me.name;
      await loadWorkspaces();
    });
  } else {
    render();
  }
});
