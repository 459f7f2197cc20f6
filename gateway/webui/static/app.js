// wsgate web page. Signing in trades an API token (once) or a one-time
// code from `wsgate web` for a session cookie the page cannot read
// (HttpOnly, SameSite=Strict); the token is kept nowhere. Every API call
// carries the X-Wsgate-Csrf header, which another origin cannot send, and
// the gateway refuses cookie calls without it. Every piece of data reaches
// the page through textContent, never as markup.
//
// What the page offers follows the workspace's allowed_actions, which the
// API computes from the role table it enforces: the page keeps no copy of
// the rules.
"use strict";

const CSRF = { "X-Wsgate-Csrf": "1" };
const POLL_MS = 3000;   // status and "connected now" refresh
const MIN_PREFIX = 2;   // apitypes.ShareCandidatesMinPrefix
const $ = (id) => document.getElementById(id);

const state = {
  user: "",
  workspaces: [],
  info: {},
  // view is the open workspace: ws (the API's workspace, with
  // allowed_actions), acl, conns (null when unknown).
  view: null,
};
let pending = 0;   // calls of run() not finished yet
let pollTimer = 0;
let noticeTimer = 0;
const NOTICE_MS = 10000; // how long a notice stays over the page

// ApiError carries the API's message verbatim, and its per-field
// validations.
class ApiError extends Error {
  constructor(status, message, validations) {
    super(message);
    this.status = status;
    this.validations = validations || [];
  }
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
    throw new ApiError(resp.status, msg, data && Array.isArray(data.validations) ? data.validations : []);
  }
  return data;
}

const enc = encodeURIComponent;
function apiPath(ws) { return "/api/v1/workspaces/" + enc(ws.owner) + "/" + enc(ws.name); }
function viewPath(ws) { return "/workspaces/" + enc(ws.owner) + "/" + enc(ws.name); }
function wsID(ws) { return ws.owner + "/" + ws.name; }

// allowed reports whether the API lets the caller do action on the open
// workspace.
function allowed(action) {
  return !!state.view && (state.view.ws.allowed_actions || []).includes(action);
}

// sharingOff is the API's reason the open workspace's grants give nothing
// now, or "".
function sharingOff() {
  const v = state.view;
  return v ? (v.acl.inactive || v.ws.sharing_inactive || "") : "";
}

function showError(err) {
  const e = $("error");
  e.textContent = err ? String(err.message || err) : "";
  e.hidden = !err;
}

// notice says what just happened, for a while.
function notice(text) {
  clearTimeout(noticeTimer);
  $("notice").textContent = text;
  $("notice").hidden = !text;
  if (text) noticeTimer = setTimeout(() => notice(""), NOTICE_MS);
}

// padForStatusbar keeps the page's end scrollable out from under the
// status bar, which overlays the window's foot: padding at the end moves
// nothing above it.
function padForStatusbar() {
  const h = $("statusbar").getBoundingClientRect().height;
  document.body.style.paddingBottom = "calc(" + Math.ceil(h) + "px + 1rem)";
}

// run shows what fn throws; a 401 signs out. While anything runs, <main>
// is aria-busy.
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
  if (text !== undefined && text !== null) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}

function button(text, cls, label, onClick) {
  const b = el("button", text, cls);
  b.type = "button";
  if (label) b.setAttribute("aria-label", label);
  b.addEventListener("click", onClick);
  return b;
}

function isoSecond(t) { return new Date(t).toISOString().replace(/\.\d{3}Z$/, "Z"); }

// ---- signing in and out ----

function forget() {
  stopPolling();
  state.user = "";
  state.workspaces = [];
  state.view = null;
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
  await route();
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

// ---- routing: / is the list, /workspaces/OWNER/NAME a workspace ----

async function route() {
  const m = /^\/workspaces\/([^/]+)\/([^/]+)$/.exec(location.pathname);
  if (!m || !state.user) {
    stopPolling();
    state.view = null;
    render();
    return;
  }
  await openWorkspace({ owner: decodeURIComponent(m[1]), name: decodeURIComponent(m[2]) });
}

function navigate(ws) {
  const path = ws ? viewPath(ws) : "/";
  if (location.pathname !== path) history.pushState(null, "", path);
  return run(route);
}

async function loadWorkspaces() {
  state.workspaces = await api("GET", "/api/v1/workspaces?q=");
}

async function openWorkspace(id) {
  stopPolling();
  const base = apiPath(id);
  let ws, acl;
  try {
    [ws, acl] = await Promise.all([api("GET", base), api("GET", base + "/acl")]);
  } catch (err) {
    state.view = null;
    render();
    throw err;
  }
  state.view = { ws, acl, conns: state.view && wsID(state.view.ws) === wsID(ws) ? state.view.conns : null };
  render();
  await refreshConnections();
  startPolling();
}

// refreshConnections asks who is connected; a gateway that does not
// report it leaves the list unknown.
async function refreshConnections() {
  const v = state.view;
  if (!v) return;
  try {
    v.conns = await api("GET", apiPath(v.ws) + "/connections");
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) throw err;
    v.conns = null;
  }
  renderConnections();
}

// poll refreshes the open workspace's status and connections quietly:
// no busy state, no alert, nothing re-rendered that holds focus.
async function poll() {
  const v = state.view;
  if (!v) return;
  try {
    const ws = await api("GET", apiPath(v.ws));
    if (state.view !== v) return;
    v.ws = ws;
    renderStatus();
    await refreshConnections();
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) forget();
    if (err instanceof ApiError && err.status === 404) run(async () => { await loadWorkspaces(); await navigate(null); });
  }
}

function startPolling() {
  stopPolling();
  pollTimer = setInterval(poll, POLL_MS);
}

function stopPolling() {
  if (pollTimer) clearInterval(pollTimer);
  pollTimer = 0;
}

// ---- rendering ----

function render() {
  const signedIn = state.user !== "";
  $("signin").hidden = signedIn;
  $("app").hidden = !signedIn;
  $("whoami").hidden = !signedIn;
  $("username").textContent = state.user;
  if (!signedIn) {
    renderDetail();
    return;
  }

  const cur = state.view ? wsID(state.view.ws) : "";
  const items = state.workspaces.map((ws) => {
    const a = el("a");
    a.href = viewPath(ws);
    a.dataset.workspace = wsID(ws);
    a.append(el("span", wsID(ws)), el("span", ws.role, "role"));
    if (wsID(ws) === cur) a.setAttribute("aria-current", "page");
    a.addEventListener("click", (ev) => {
      if (ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
      ev.preventDefault();
      navigate(ws);
    });
    const li = el("li");
    li.append(a);
    return li;
  });
  $("workspaces").replaceChildren(...items);
  $("no-workspaces").hidden = state.workspaces.length > 0;
  renderDetail();
}

function renderDetail() {
  const v = state.view;
  $("detail").hidden = !v;
  document.title = v ? wsID(v.ws) + " — wsgate" : "wsgate";
  if (!v) {
    $("banner-sharing").hidden = true;
    $("banner-agent").hidden = true;
    return;
  }
  const { ws, acl } = v;
  $("ws-title").textContent = wsID(ws);
  $("ws-role").textContent = "Your role: " + ws.role + (ws.org ? " · organization " + ws.org : "");
  $("share-open").hidden = !allowed("share-use");

  const off = sharingOff();
  $("banner-sharing").textContent = off
    ? "Sharing is off: " + off + ". The shares below give no access until it is turned on again; they can still be removed."
    : "";
  $("banner-sharing").hidden = !off;

  const rows = [];
  for (const [kind, entries] of [["user", acl.users || []], ["group", acl.groups || []]]) {
    for (const g of entries) {
      const tr = el("tr", undefined, off ? "inactive" : "");
      tr.dataset.subject = kind + ":" + g.name;
      const role = el("td", g.role, "role-cell");
      if (off) role.append(el("span", "inactive", "badge"));
      tr.append(el("td", kind), el("td", g.name), role, el("td", g.expires_at ? isoSecond(g.expires_at) : "—"));
      rows.push(tr);
    }
  }
  $("shares").tBodies[0].replaceChildren(...rows);
  $("shares").hidden = rows.length === 0;
  $("no-shares").hidden = rows.length > 0;
  $("shares-inactive").textContent = acl.inactive
    ? "Inactive: " + acl.inactive + "; these grants give no access until it is enabled again." : "";
  $("shares-inactive").hidden = !acl.inactive || rows.length === 0;

  $("rename").hidden = !allowed("rename");
  $("transfer-open").hidden = !allowed("transfer");
  $("open-app").hidden = !state.info.apps_url || !allowed("connect");
  renderStatus();
  renderConnections();
  renderAppLink();
}

// renderStatus shows the state and the agent's presence, and which
// lifecycle buttons apply.
function renderStatus() {
  const ws = state.view.ws;
  $("ws-state").textContent = ws.state;
  $("ws-state").dataset.state = ws.state;
  const known = typeof ws.agent_connected === "boolean";
  $("ws-agent").textContent = !known ? "unknown" : ws.agent_connected ? "connected" : "not connected";
  const lost = known && !ws.agent_connected && ws.state !== "stopped";
  $("banner-agent").textContent = lost
    ? "The agent is not connected: nobody can reach this workspace until it connects again." : "";
  $("banner-agent").hidden = !lost;
  const stopped = ws.state === "stopped" || ws.state === "failed";
  for (const [id, action, enabled] of [
    ["ws-start", "start", stopped],
    ["ws-stop", "stop", ws.state === "running" || ws.state === "failed"],
    ["ws-update", "update", ws.state !== "starting" && ws.state !== "stopping"],
  ]) {
    $(id).hidden = !allowed(action);
    $(id).disabled = !enabled;
  }
}

function renderConnections() {
  const v = state.view;
  if (!v) return;
  const rows = (v.conns || []).map((c) => {
    const tr = el("tr");
    tr.dataset.session = c.session_id;
    tr.append(el("td", c.user), el("td", isoSecond(c.since)), el("td", c.remote_addr), el("td", c.via));
    return tr;
  });
  $("connections").tBodies[0].replaceChildren(...rows);
  $("connections").hidden = rows.length === 0;
  $("no-connections").hidden = rows.length > 0;
  $("no-connections").textContent = v.conns ? "Nobody is connected." : "Who is connected is not known here.";
}

// renderAppLink points "Open" at the app on the typed port, under the
// apps domain (each app its own origin); the app's host signs the browser
// in through this page.
function renderAppLink() {
  const v = state.view, port = Number($("app-port").value);
  const link = $("app-link");
  if (!v || !state.info.apps_url || !Number.isInteger(port) || port < 1 || port > 65535) {
    link.hidden = true;
    link.removeAttribute("href");
    return;
  }
  link.href = state.info.apps_url.replace("{port}", String(port)).replace("{name}", v.ws.name).replace("{owner}", v.ws.owner);
  link.setAttribute("aria-label", "Open the app on port " + port);
  link.hidden = false;
}

// ---- lifecycle ----

async function lifecycle(action) {
  const ws = state.view.ws;
  notice(action + " " + wsID(ws) + "…");
  await api("POST", apiPath(ws) + "/" + action);
  notice(wsID(ws) + ": " + action + " done");
  await loadWorkspaces();
  await openWorkspace(ws);
}

async function rename(name) {
  const ws = await api("PATCH", apiPath(state.view.ws), { name });
  history.replaceState(null, "", viewPath(ws));
  await loadWorkspaces();
  await openWorkspace(ws);
  notice("Renamed to " + wsID(ws));
}

// ---- transfer ----

const xfer = { seq: 0, timer: 0 };

function openTransfer() {
  const ws = state.view.ws;
  $("transfer-title").textContent = "Transfer " + wsID(ws);
  $("transfer-owner").textContent = ws.owner;
  $("transfer-to").value = "";
  $("transfer-keep").value = "none";
  $("transfer-candidates").replaceChildren();
  showList("transfer-errors", []);
  renderTransfer();
  $("transfer-dialog").showModal();
  $("transfer-to").focus();
}

function transferTarget() { return $("transfer-to").value.trim().toLowerCase(); }

// transferSummary says what Transfer will do, before it is pressed.
function transferSummary() {
  const v = state.view, ws = v.ws, owner = ws.owner;
  const to = transferTarget(), keep = $("transfer-keep").value;
  if (!to) return "Name the new owner.";
  if (to === owner) return owner + " already owns " + wsID(ws) + ".";
  let text = wsID(ws) + " will belong to " + to + " and move to " + to + "/" + ws.name + ". ";
  if (keep !== "none") return text + owner + " will keep " + keep + " access.";
  const n = v.conns ? v.conns.filter((c) => c.user === owner).length : -1;
  text += owner + " will lose access; ";
  if (n < 0) return text + "their live sessions will be closed.";
  if (n === 0) return text + "they have no live session now.";
  return text + "their " + n + " live session" + (n === 1 ? "" : "s") + " will be closed.";
}

function renderTransfer() {
  const to = transferTarget();
  $("transfer-summary").textContent = transferSummary();
  const ok = to !== "" && to !== state.view.ws.owner;
  $("transfer-confirm").disabled = !ok;
  $("transfer-confirm").textContent = ok ? "Transfer to " + to : "Transfer";
}

// onTransferInput suggests new owners from the share-candidates search
// (users the caller may see), through the input's datalist.
function onTransferInput() {
  renderTransfer();
  clearTimeout(xfer.timer);
  const q = transferTarget();
  const seq = ++xfer.seq;
  if (q.length < MIN_PREFIX) return;
  xfer.timer = setTimeout(async () => {
    let r;
    try {
      r = await api("GET", apiPath(state.view.ws) + "/share-candidates?prefix=" + enc(q));
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) throw err;
      // Suggestions need share-use with sharing on; a name typed in full
      // still works.
      if (seq === xfer.seq) $("transfer-hint").textContent = "No suggestions here; type the new owner's full name.";
      return;
    }
    if (seq !== xfer.seq) return;
    const users = r.users.filter((u) => u.name !== state.view.ws.owner);
    $("transfer-candidates").replaceChildren(...users.map((u) => {
      const o = el("option", u.display_name || null);
      o.value = u.name;
      return o;
    }));
    $("transfer-hint").textContent = users.length ? users.length + " suggestion" + (users.length === 1 ? "" : "s") + "." : "No user found; you can still type a full name.";
  }, 150);
}

// transfer hands the workspace over, then follows it to its new address,
// or goes back to the list when the caller kept no access to it.
async function transfer() {
  const ws = state.view.ws, to = transferTarget(), keep = $("transfer-keep").value;
  let moved;
  try {
    moved = await api("POST", apiPath(ws) + "/transfer", { to, keep_access: keep });
  } catch (err) {
    if (!(err instanceof ApiError) || err.status === 401) throw err;
    showList("transfer-errors", err.validations.length ? err.validations.map((v) => v.detail) : [err.message]);
    return;
  }
  $("transfer-dialog").close();
  await loadWorkspaces();
  if (moved) {
    history.replaceState(null, "", viewPath(moved));
    await openWorkspace(moved);
    notice(wsID(ws) + " now belongs to " + to + ": it is " + wsID(moved) + "; your role is " + moved.role + ".");
    return;
  }
  history.replaceState(null, "", "/");
  stopPolling();
  state.view = null;
  render();
  notice(wsID(ws) + " now belongs to " + to + " as " + to + "/" + ws.name + "; you no longer have access to it.");
}

function showList(id, msgs) {
  const list = $(id);
  list.replaceChildren(...msgs.map((m) => el("li", m)));
  list.hidden = msgs.length === 0;
}

// ---- the Share dialog ----

// dlg is the dialog's draft: adds (new grants), changes (subject key to
// a new role, "" to remove), the picker's candidates and highlighted one.
const dlg = { adds: [], changes: new Map(), candidates: [], active: -1, seq: 0, timer: 0 };

function key(kind, name) { return kind + ":" + name; }

function currentShares() {
  const acl = state.view.acl;
  return [
    ...(acl.users || []).map((g) => ({ kind: "user", name: g.name, role: g.role, members: [] })),
    ...(acl.groups || []).map((g) => ({ kind: "group", name: g.name, role: g.role, members: g.members || [] })),
  ];
}

function openShare() {
  dlg.adds = [];
  dlg.changes = new Map();
  dlg.candidates = [];
  dlg.active = -1;
  const ws = state.view.ws;
  $("share-title").textContent = "Share " + wsID(ws);
  const roles = ["use"].concat(allowed("share-admin") ? ["admin"] : []);
  $("picker-role").replaceChildren(...roles.map((r) => { const o = el("option", r); o.value = r; return o; }));
  const off = sharingOff();
  $("share-inactive").textContent = off ? "Sharing is off: " + off + ". You can remove shares, not add or change them." : "";
  $("share-inactive").hidden = !off;
  $("add").hidden = !!off;
  $("picker-input").value = "";
  $("share-expires").value = "";
  $("share-expires").parentElement.hidden = !!off;
  showDialogErrors([]);
  hidePicker();
  $("invitation").value = invitation(ws);
  renderDialog();
  $("share-dialog").showModal();
  (off ? $("share-cancel") : $("picker-input")).focus();
}

function closeShare() {
  if ($("share-dialog").open) $("share-dialog").close();
}

// invitation is the text to send collaborators.
function invitation(ws) {
  const url = state.info.access_url || location.origin;
  const host = ws.name + "." + (state.info.hostname_suffix || "coder");
  return "I shared the workspace " + wsID(ws) + " with you on wsgate (" + url + ").\n" +
    "Once, to add host aliases to ~/.ssh/config:\n" +
    "  WSGATE_URL=" + url + " wsgate config-ssh -y\n" +
    "Then connect:\n" +
    "  ssh " + host + "\n" +
    "(or ssh " + ws.owner + "--" + host + "; the web page: " + location.origin + viewPath(ws) + ")";
}

// renderDialog lists the shares as they will be after Confirm: current
// ones with a role selector and Remove as allowed, then the new ones.
function renderDialog() {
  const canAdmin = allowed("share-admin");
  const off = !!sharingOff();
  const rows = [];
  const row = (s, isNew) => {
    const k = key(s.kind, s.name);
    const change = dlg.changes.get(k);
    const removed = change === "";
    // Admin grants are the owner's to change (share-admin).
    const locked = s.role === "admin" && !canAdmin;
    const tr = el("tr", undefined, isNew ? "added" : removed ? "removed" : change ? "changed" : "");
    tr.dataset.subject = k;
    const name = el("td", s.name);
    if (isNew) name.append(el("span", "new", "badge"));
    if (removed) name.append(el("span", "will be removed", "badge"));
    const sel = el("select");
    sel.setAttribute("aria-label", "Role for " + s.kind + " " + s.name);
    const roles = canAdmin || s.role === "admin" ? ["use", "admin"] : ["use"];
    for (const r of roles) { const o = el("option", r); o.value = r; sel.append(o); }
    sel.value = isNew ? s.role : (change || s.role);
    sel.disabled = removed || locked || (off && !isNew);
    sel.addEventListener("change", () => {
      if (isNew) s.role = sel.value;
      else if (sel.value === s.role) dlg.changes.delete(k);
      else dlg.changes.set(k, sel.value);
      renderDialog();
      focusIn(k, "select");
    });
    const roleTd = el("td");
    roleTd.append(sel);
    const act = el("td");
    if (isNew) {
      act.append(button("Remove", "remove", "Remove " + s.kind + " " + s.name, () => {
        dlg.adds = dlg.adds.filter((a) => key(a.kind, a.name) !== k);
        renderDialog();
        $("picker-input").focus();
      }));
    } else if (removed) {
      act.append(button("Undo", "undo", "Keep " + s.kind + " " + s.name, () => {
        dlg.changes.delete(k);
        renderDialog();
        focusIn(k, "button");
      }));
    } else if (!locked) {
      act.append(button("Remove", "remove", "Remove " + s.kind + " " + s.name, () => confirmRemove(s)));
    }
    tr.append(el("td", s.kind), name, roleTd, act);
    rows.push(tr);
  };
  for (const s of currentShares()) row(s, false);
  for (const s of dlg.adds) row(s, true);
  $("dialog-shares").tBodies[0].replaceChildren(...rows);
  $("share-confirm").disabled = dlg.adds.length === 0 && dlg.changes.size === 0;
}

function focusIn(k, sel) {
  const e = document.querySelector('#dialog-shares tr[data-subject="' + CSS.escape(k) + '"] ' + sel);
  if (e) e.focus();
}

// confirmRemove asks before marking a share for removal, naming what it
// does to live sessions (this gateway's connections).
function confirmRemove(s) {
  const ws = state.view.ws;
  const conns = state.view.conns;
  const who = s.kind === "user" ? [s.name] : s.members;
  const live = (conns || []).filter((c) => who.includes(c.user));
  const n = live.length;
  const sessions = n + " live session" + (n === 1 ? "" : "s");
  let text;
  if (conns === null) {
    text = "Live sessions that rest on this share will be closed.";
  } else if (s.kind === "user") {
    text = n ? s.name + " has " + sessions + " on " + wsID(ws) + "; " + (n === 1 ? "it" : "they") + " will be closed."
      : s.name + " has no live sessions on " + wsID(ws) + ".";
  } else {
    const users = [...new Set(live.map((c) => c.user))].join(", ");
    text = n ? "Members of " + s.name + " (" + users + ") have " + sessions + " on " + wsID(ws) +
      "; " + (n === 1 ? "it" : "they") + " will be closed unless another share gives them access."
      : "No member of " + s.name + " has a live session on " + wsID(ws) + ".";
  }
  $("confirm-title").textContent = "Remove " + s.kind + " " + s.name + "?";
  $("confirm-text").textContent = text + " This takes effect when you confirm the share dialog.";
  const d = $("confirm-dialog");
  d.dataset.subject = key(s.kind, s.name);
  d.showModal();
  $("confirm-no").focus();
}

function answerRemove(yes) {
  const d = $("confirm-dialog");
  const k = d.dataset.subject;
  d.close();
  if (yes) {
    dlg.changes.set(k, "");
    renderDialog();
    focusIn(k, "button");
    return;
  }
  focusIn(k, "button.remove");
}

// Picker: type-ahead over the share-candidates endpoint.

function onPickerInput() {
  clearTimeout(dlg.timer);
  const q = $("picker-input").value.trim().toLowerCase();
  if (q.length < MIN_PREFIX) {
    dlg.seq++;
    hidePicker();
    return;
  }
  dlg.timer = setTimeout(() => search(q), 150);
}

async function search(q) {
  const seq = ++dlg.seq;
  let r;
  try {
    r = await api("GET", apiPath(state.view.ws) + "/share-candidates?prefix=" + enc(q));
  } catch (err) {
    if (seq === dlg.seq) $("picker-hint").textContent = err.message;
    return;
  }
  if (seq !== dlg.seq) return; // a newer search is under way
  const taken = new Set(currentShares().map((s) => key(s.kind, s.name)).concat(dlg.adds.map((s) => key(s.kind, s.name))));
  dlg.candidates = [
    ...r.users.map((u) => ({ kind: "user", name: u.name, display: u.display_name || "" })),
    ...r.groups.map((g) => ({ kind: "group", name: g.name, display: "" })),
  ].filter((c) => !taken.has(key(c.kind, c.name)));
  dlg.active = dlg.candidates.length ? 0 : -1;
  $("picker-hint").textContent = dlg.candidates.length
    ? dlg.candidates.length + " match" + (dlg.candidates.length === 1 ? "" : "es") + (r.truncated ? " (more: type more letters)" : "") + "; ↓ and Enter pick one."
    : "No match you may share with; you can still add a full name.";
  renderPicker();
}

function renderPicker() {
  const list = $("picker-list");
  const opts = dlg.candidates.map((c, i) => {
    const li = el("li", undefined, i === dlg.active ? "active" : "");
    li.id = "picker-opt-" + i;
    li.setAttribute("role", "option");
    li.setAttribute("aria-selected", i === dlg.active ? "true" : "false");
    li.dataset.subject = key(c.kind, c.name);
    li.append(el("span", c.name), el("span", c.display, "display"), el("span", c.kind, "role"));
    // mousedown, so that the input keeps focus.
    li.addEventListener("mousedown", (ev) => { ev.preventDefault(); pick(c); });
    return li;
  });
  list.replaceChildren(...opts);
  const open = opts.length > 0;
  list.hidden = !open;
  $("picker-input").setAttribute("aria-expanded", open ? "true" : "false");
  if (open && dlg.active >= 0) $("picker-input").setAttribute("aria-activedescendant", "picker-opt-" + dlg.active);
  else $("picker-input").removeAttribute("aria-activedescendant");
}

function hidePicker() {
  dlg.candidates = [];
  dlg.active = -1;
  renderPicker();
  $("picker-hint").textContent = "Type two letters to search; ↓ and Enter pick one.";
}

function pick(c) {
  addEntry(c.kind, c.name);
}

function addEntry(kind, name) {
  showDialogErrors([]);
  if (dlg.adds.some((a) => a.kind === kind && a.name === name) || currentShares().some((s) => s.kind === kind && s.name === name)) {
    showDialogErrors([kind + " " + name + " is already in the list"]);
    return;
  }
  dlg.adds.push({ kind, name, role: $("picker-role").value, members: [] });
  $("picker-input").value = "";
  dlg.seq++;
  hidePicker();
  renderDialog();
  $("picker-input").focus();
}

function onPickerKey(ev) {
  const open = !$("picker-list").hidden;
  switch (ev.key) {
    case "ArrowDown":
    case "ArrowUp":
      if (!dlg.candidates.length) return;
      ev.preventDefault();
      dlg.active = (dlg.active + (ev.key === "ArrowDown" ? 1 : dlg.candidates.length - 1)) % dlg.candidates.length;
      renderPicker();
      break;
    case "Enter":
      ev.preventDefault();
      if (open && dlg.active >= 0) pick(dlg.candidates[dlg.active]);
      else addTyped();
      break;
    case "Escape":
      if (open) {
        // Close the list, not the dialog.
        ev.preventDefault();
        ev.stopPropagation();
        dlg.seq++;
        hidePicker();
      }
      break;
  }
}

function addTyped() {
  const name = $("picker-input").value.trim().toLowerCase();
  if (!name) {
    showDialogErrors(["type a user or group name"]);
    return;
  }
  addEntry($("picker-kind").value, name);
}

function showDialogErrors(msgs) { showList("dialog-errors", msgs); }

// confirmShare applies the whole draft in one PATCH (the API's merge: ""
// removes) and shows per-entry refusals in the dialog.
async function confirmShare() {
  const body = {};
  const put = (kind, name, role) => {
    const f = kind === "group" ? "groups" : "users";
    (body[f] = body[f] || {})[name] = role;
  };
  for (const a of dlg.adds) put(a.kind, a.name, a.role);
  for (const [k, role] of dlg.changes) {
    const i = k.indexOf(":");
    put(k.slice(0, i), k.slice(i + 1), role);
  }
  const local = $("share-expires").value;
  if (local) {
    const t = new Date(local);
    if (isNaN(t.getTime())) { showDialogErrors(["invalid expiry: " + local]); return; }
    body.expires_at = isoSecond(t);
  }
  const ws = state.view.ws;
  let acl;
  try {
    acl = await api("PATCH", apiPath(ws) + "/acl", body);
  } catch (err) {
    if (!(err instanceof ApiError) || err.status === 401) throw err;
    markErrors(err);
    return;
  }
  const n = dlg.adds.length + dlg.changes.size;
  state.view.acl = acl;
  closeShare();
  notice("Sharing of " + wsID(ws) + " updated (" + n + " change" + (n === 1 ? "" : "s") + ").");
  await loadWorkspaces();
  await openWorkspace(ws);
}

// markErrors lists the API's refusal, one line per entry it names, and
// marks those rows.
function markErrors(err) {
  for (const tr of $("dialog-shares").tBodies[0].rows) tr.removeAttribute("aria-invalid");
  const msgs = err.validations.length ? err.validations.map((v) => v.detail) : [err.message];
  for (const v of err.validations) {
    const m = /^(users|groups)\.(.+)$/.exec(v.field);
    if (!m) continue;
    const k = key(m[1] === "users" ? "user" : "group", m[2]);
    const tr = document.querySelector('#dialog-shares tr[data-subject="' + CSS.escape(k) + '"]');
    if (tr) tr.setAttribute("aria-invalid", "true");
  }
  showDialogErrors(msgs);
}

async function copyInvitation() {
  const t = $("invitation");
  try {
    await navigator.clipboard.writeText(t.value);
  } catch (_) {
    t.select();
    document.execCommand("copy");
  }
  $("copy-invitation").textContent = "Copied";
}

// trapFocus keeps Tab inside an open modal dialog.
function trapFocus(ev) {
  if (ev.key !== "Tab") return;
  const d = ev.currentTarget;
  const all = [...d.querySelectorAll("button, input, select, textarea, summary, a[href]")]
    .filter((e) => !e.disabled && e.getClientRects().length > 0);
  if (!all.length) return;
  const first = all[0], last = all[all.length - 1];
  if (ev.shiftKey && document.activeElement === first) { ev.preventDefault(); last.focus(); }
  else if (!ev.shiftKey && document.activeElement === last) { ev.preventDefault(); first.focus(); }
}

// ---- wiring ----

document.addEventListener("DOMContentLoaded", () => {
  $("signin").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const secret = $("token").value.trim();
    $("token").value = "";
    run(() => signIn(secret));
  });
  $("signout").addEventListener("click", () => run(signOut));
  $("home").addEventListener("click", (ev) => {
    if (!state.user) return;
    ev.preventDefault();
    navigate(null);
  });
  window.addEventListener("popstate", () => run(route));
  $("app-port").addEventListener("input", renderAppLink);
  $("open-app").addEventListener("submit", (ev) => ev.preventDefault());
  for (const action of ["start", "stop", "update"]) {
    $("ws-" + action).addEventListener("click", () => run(() => lifecycle(action)));
  }
  $("rename").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const name = $("rename-name").value.trim();
    run(async () => { await rename(name); $("rename-name").value = ""; });
  });

  $("share-open").addEventListener("click", openShare);
  const sd = $("share-dialog");
  sd.addEventListener("keydown", trapFocus);
  sd.addEventListener("close", () => {
    clearTimeout(dlg.timer);
    dlg.seq++;
    $("copy-invitation").textContent = "Copy invitation";
    if (!$("share-open").hidden) $("share-open").focus();
  });
  $("share-form").addEventListener("submit", (ev) => ev.preventDefault());
  $("share-cancel").addEventListener("click", closeShare);
  $("share-confirm").addEventListener("click", () => run(confirmShare));
  $("picker-input").addEventListener("input", onPickerInput);
  $("picker-input").addEventListener("keydown", onPickerKey);
  $("picker-input").addEventListener("blur", () => setTimeout(() => { if (document.activeElement !== $("picker-input")) hidePicker(); }, 0));
  $("picker-add").addEventListener("click", addTyped);
  $("copy-invitation").addEventListener("click", copyInvitation);

  const td = $("transfer-dialog");
  td.addEventListener("keydown", trapFocus);
  td.addEventListener("close", () => {
    clearTimeout(xfer.timer);
    xfer.seq++;
    if (!$("transfer-open").hidden) $("transfer-open").focus();
  });
  $("transfer-open").addEventListener("click", openTransfer);
  $("transfer-to").addEventListener("input", onTransferInput);
  $("transfer-keep").addEventListener("change", renderTransfer);
  $("transfer-cancel").addEventListener("click", () => td.close());
  $("transfer-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    run(transfer);
  });
  new ResizeObserver(padForStatusbar).observe($("statusbar"));

  const cd = $("confirm-dialog");
  cd.addEventListener("keydown", trapFocus);
  cd.addEventListener("cancel", (ev) => { ev.preventDefault(); answerRemove(false); });
  $("confirm-no").addEventListener("click", () => answerRemove(false));
  $("confirm-yes").addEventListener("click", () => answerRemove(true));
  run(start);
});

// start: redeem a `wsgate web` code from the URL's fragment (never sent to
// a server), then see whether the session cookie signs us in.
async function start() {
  state.info = await api("GET", "/api/v1/info");
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
