// GridLaw mobile intake: sign in, locate (GPS or a tap on the grid outline map), fill the form,
// queue every submission in IndexedDB with its own idempotency key, and send the queue
// whenever the network is there. User text only ever goes into textContent / attributes.
"use strict";

const API = "/open311/v2";
const TEXTS = {
  zh: {
    title: "网格法律需求采集", username: "用户名", password: "密码", signin: "登录", signout: "退出",
    where: "位置", locate: "使用当前位置", tap_map: "或在下方网格图上点选位置", category: "类别",
    dispute: "纠纷类型", source: "来源", description: "情况描述", resident: "当事人", last_name: "姓",
    first_name: "名", phone: "电话", photo: "照片", submit: "提交", other_lang: "English",
    located: "位置:{lat}, {lon}(精度约 {acc} 米)", tapped: "已在图上选定位置:{lat}, {lon}",
    no_position: "请先确定位置", geo_failed: "无法取得当前位置:{msg};请在图上点选",
    queued: "待发送 {n} 条(网络恢复后自动发送)", sent: "已提交,编号 {id}(网格 {grid})",
    refused: "未被接受:{msg}", saved_offline: "当前离线,已保存,网络恢复后自动发送",
    signin_failed: "登录失败", who: "{name}({role},区域 {area})",
    role_admin: "管理员", role_grid_assistant: "网格员", role_mediator: "调解员", role_lawyer: "律师",
    role_street_office: "街道办", role_community_leader: "社区负责人", role_planner: "规划人员",
  },
  en: {
    title: "Grid legal needs intake", username: "Username", password: "Password", signin: "Sign in",
    signout: "Sign out", where: "Location", locate: "Use my position",
    tap_map: "or tap your position on the grid map below", category: "Category",
    dispute: "Dispute type", source: "Source", description: "Description", resident: "Resident",
    last_name: "Family name", first_name: "Given name", phone: "Phone", photo: "Photo",
    submit: "Submit", other_lang: "中文",
    located: "Position: {lat}, {lon} (about {acc} m)", tapped: "Position chosen on the map: {lat}, {lon}",
    no_position: "Set the position first", geo_failed: "No position: {msg}; tap the map instead",
    queued: "{n} waiting to be sent (sent when the network is back)",
    sent: "Submitted: no. {id} (grid {grid})", refused: "Not accepted: {msg}",
    saved_offline: "Offline: saved, sent when the network is back", signin_failed: "Sign-in failed",
    who: "{name} ({role}, area {area})",
    role_admin: "administrator", role_grid_assistant: "grid assistant", role_mediator: "mediator",
    role_lawyer: "lawyer", role_street_office: "street office", role_community_leader: "community leader",
    role_planner: "planner",
  },
};

let lang = localStorage.getItem("gridlaw.lang") === "en" ? "en" : "zh";
let sending = false;
const $ = (id) => document.getElementById(id);

function tr(key, values) {
  let text = TEXTS[lang][key] || key;
  for (const [k, v] of Object.entries(values || {})) text = text.split("{" + k + "}").join(String(v));
  return text;
}

function applyTexts() {
  document.documentElement.lang = lang;
  for (const el of document.querySelectorAll("[data-t]")) el.textContent = tr(el.dataset.t);
  $("lang").textContent = tr("other_lang");
  document.title = tr("title") + " · GridLaw";
}

function say(text, kind) {
  const el = $("status");
  el.textContent = text;
  el.className = "status " + (kind || "");
}

function newKey() {
  if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

async function api(path, options) {
  const headers = Object.assign({ "Accept-Language": lang, "X-GridLaw-Intake": "1" },
    (options && options.headers) || {});
  return fetch(path, Object.assign({ credentials: "same-origin" }, options || {}, { headers }));
}

async function describe(response) {
  try {
    const body = await response.json();
    if (Array.isArray(body)) return body.map((e) => e.description).join("; ");
  } catch (e) { /* not JSON */ }
  return String(response.status);
}

// --- the queue (IndexedDB: entries keep their photo as a Blob) -------------------------------

function openQueue() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open("gridlaw-intake", 1);
    req.onupgradeneeded = () => req.result.createObjectStore("queue", { keyPath: "key" });
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

async function store(mode, work) {
  const dbh = await openQueue();
  return new Promise((resolve, reject) => {
    const tx = dbh.transaction("queue", mode);
    const req = work(tx.objectStore("queue"));
    tx.oncomplete = () => resolve(req && req.result);
    tx.onerror = () => reject(tx.error);
  });
}

const queueAll = () => store("readonly", (s) => s.getAll());
const queuePut = (entry) => store("readwrite", (s) => s.put(entry));
const queueDelete = (key) => store("readwrite", (s) => s.delete(key));

async function showQueue() {
  const entries = await queueAll();
  $("queue").textContent = entries.length ? tr("queued", { n: entries.length }) : "";
}

async function sendOne(entry) {
  const body = new FormData();
  for (const [k, v] of entry.fields) body.append(k, v);
  if (entry.photo) body.append("media", entry.photo, entry.photoName || "photo");
  const response = await api(API + "/requests.json", {
    method: "POST", body, headers: { "Idempotency-Key": entry.key },
  });
  if (response.ok) {
    const [created] = await response.json();
    await queueDelete(entry.key);
    say(tr("sent", { id: created.service_request_id, grid: created.grid || "-" }), "ok");
    return true;
  }
  if (response.status === 429 || response.status >= 500) return false; // try again later
  if (response.status === 403) { // signed out meanwhile: keep it until signed in again
    say(tr("refused", { msg: await describe(response) }), "bad");
    return false;
  }
  await queueDelete(entry.key); // refused for what it is: retrying will not help
  say(tr("refused", { msg: await describe(response) }), "bad");
  return true;
}

async function flush() {
  if (sending) return;
  sending = true;
  try {
    for (const entry of await queueAll()) {
      if (!(await sendOne(entry))) break;
    }
  } catch (e) {
    // offline: the entries stay queued
  } finally {
    sending = false;
    await showQueue();
  }
}

// --- the map: grid outlines, no base map ------------------------------------------------------

let frame = null;

function drawMap(grids, area) {
  const svg = $("map");
  while (svg.firstChild) svg.removeChild(svg.firstChild);
  const pts = grids.flatMap((g) => g.rings.flat());
  if (!pts.length) return;
  const xs = pts.map((p) => p[0]), ys = pts.map((p) => p[1]);
  const x0 = Math.min(...xs), x1 = Math.max(...xs), y0 = Math.min(...ys), y1 = Math.max(...ys);
  const k = 96 / Math.max(x1 - x0, (y1 - y0) || 1e-9);
  frame = { x0, y1, k };
  const ns = "http://www.w3.org/2000/svg";
  for (const g of grids) {
    for (const ring of g.rings) {
      const poly = document.createElementNS(ns, "polygon");
      poly.setAttribute("points", ring.map((p) => toSvg(p).join(",")).join(" "));
      poly.setAttribute("class", "grid" + (area && g.code.startsWith(area) ? " mine" : ""));
      svg.appendChild(poly);
    }
    const c = toSvg(centre(g.rings[0]));
    const label = document.createElementNS(ns, "text");
    label.setAttribute("x", c[0]);
    label.setAttribute("y", c[1]);
    label.setAttribute("text-anchor", "middle");
    label.textContent = g.name || g.code;
    svg.appendChild(label);
  }
}

function centre(ring) {
  const pts = ring.slice(0, -1); // a ring ends where it starts
  const n = pts.length || 1;
  return [pts.reduce((a, p) => a + p[0], 0) / n, pts.reduce((a, p) => a + p[1], 0) / n];
}

function toSvg(p) {
  return [2 + (p[0] - frame.x0) * frame.k, 2 + (frame.y1 - p[1]) * frame.k];
}

function fromSvg(x, y) {
  return [frame.x0 + (x - 2) / frame.k, frame.y1 - (y - 2) / frame.k];
}

function setPosition(lon, lat) {
  $("lat").value = lat.toFixed(6);
  $("long").value = lon.toFixed(6);
  if (!frame) return;
  let pin = $("pin");
  if (!pin) {
    pin = document.createElementNS("http://www.w3.org/2000/svg", "circle");
    pin.setAttribute("id", "pin");
    pin.setAttribute("class", "pin");
    pin.setAttribute("r", "1.6");
    $("map").appendChild(pin);
  }
  const [x, y] = toSvg([lon, lat]);
  pin.setAttribute("cx", x);
  pin.setAttribute("cy", y);
}

function tapMap(event) {
  if (!frame) return;
  const svg = $("map");
  const pt = svg.createSVGPoint();
  pt.x = event.clientX;
  pt.y = event.clientY;
  const local = pt.matrixTransform(svg.getScreenCTM().inverse());
  const [lon, lat] = fromSvg(local.x, local.y);
  setPosition(lon, lat);
  $("position").textContent = tr("tapped", { lat: lat.toFixed(5), lon: lon.toFixed(5) });
}

function locate() {
  if (!navigator.geolocation) return;
  navigator.geolocation.getCurrentPosition(
    (pos) => {
      setPosition(pos.coords.longitude, pos.coords.latitude);
      $("position").textContent = tr("located", {
        lat: pos.coords.latitude.toFixed(5), lon: pos.coords.longitude.toFixed(5),
        acc: Math.round(pos.coords.accuracy || 0),
      });
    },
    (err) => { $("position").textContent = tr("geo_failed", { msg: err.message }); },
    { enableHighAccuracy: true, timeout: 15000, maximumAge: 30000 },
  );
}

// --- the form ---------------------------------------------------------------------------------

function option(select, value, label) {
  const o = document.createElement("option");
  o.value = value;
  o.textContent = label;
  select.appendChild(o);
}

async function loadChoices() {
  const services = await (await api(API + "/services.json")).json();
  const category = $("category");
  category.replaceChildren();
  for (const s of services) option(category, s.service_code, s.service_name);
  category.value = "consultation";
  const def = await (await api(API + "/services/mediation.json")).json();
  const values = (code) => (def.attributes.find((a) => a.code === code) || { values: [] }).values;
  const dispute = $("dispute");
  dispute.replaceChildren();
  option(dispute, "", "—");
  for (const v of values("dispute_type")) option(dispute, v.key, v.name);
  const source = $("source");
  source.replaceChildren();
  for (const v of values("source")) option(source, v.key, v.name);
  source.value = "diary";
  showDispute();
}

function showDispute() {
  $("dispute-row").hidden = $("category").value !== "mediation";
}

async function submitNeed(event) {
  event.preventDefault();
  if (!$("lat").value) { say(tr("no_position"), "bad"); return; }
  const form = $("need-form");
  const fields = [];
  for (const [k, v] of new FormData(form)) {
    if (k === "media" || v === "") continue;
    if (k === "attribute[dispute_type]" && $("category").value !== "mediation") continue;
    fields.push([k, v]);
  }
  const file = $("photo").files[0];
  const entry = { key: newKey(), fields, photo: file || null, photoName: file ? file.name : null };
  await queuePut(entry);
  form.reset();
  $("source").value = "diary";
  $("category").value = "consultation";
  showDispute();
  if (!navigator.onLine) say(tr("saved_offline"), "");
  await flush();
  if (await queueAll().then((q) => q.some((e) => e.key === entry.key))) say(tr("saved_offline"), "");
}

// --- sign-in ----------------------------------------------------------------------------------

async function signIn(event) {
  event.preventDefault();
  const response = await api("/intake/session", { method: "POST", body: new FormData($("signin-form")) });
  if (!response.ok) {
    $("signin-error").textContent = (await describe(response)) || tr("signin_failed");
    return;
  }
  $("signin-form").reset();
  await start(await response.json());
}

async function start(me) {
  $("signin").hidden = true;
  $("intake").hidden = false;
  $("who").textContent = tr("who", { name: me.name, role: tr("role_" + me.role), area: me.area_code || "-" });
  await loadChoices();
  try {
    drawMap(await (await api(API + "/grids.json")).json(), me.area_code);
  } catch (e) { /* the map is optional */ }
  locate();
  await flush();
}

async function boot() {
  applyTexts();
  $("lang").addEventListener("click", () => {
    lang = lang === "zh" ? "en" : "zh";
    localStorage.setItem("gridlaw.lang", lang);
    applyTexts();
    if (!$("intake").hidden) loadChoices();
  });
  $("signin-form").addEventListener("submit", signIn);
  $("need-form").addEventListener("submit", submitNeed);
  $("category").addEventListener("change", showDispute);
  $("locate").addEventListener("click", locate);
  $("map").addEventListener("click", tapMap);
  $("signout").addEventListener("click", async () => {
    await api("/intake/session", { method: "DELETE" });
    if (window.caches) await caches.delete("gridlaw-intake-v1");
    location.reload();
  });
  window.addEventListener("online", flush);
  setInterval(flush, 10000);
  let me = null;
  try {
    const response = await api("/intake/session");
    if (response.ok) me = await response.json();
  } catch (e) { /* offline at start: sign-in shown */ }
  if (me) await start(me);
  else $("signin").hidden = false;
  await showQueue();
}

document.addEventListener("DOMContentLoaded", boot);
if ("serviceWorker" in navigator) {
  // the page opens again without a network (only in a secure context: https or this machine)
  navigator.serviceWorker.register("/intake-sw.js", { scope: "/" }).catch(() => {});
}
