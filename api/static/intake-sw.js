// GridLaw intake service worker: the page, its script and style, and the lists it reads
// (services, the grid outlines, who is signed in) from the network when there is one, else
// from the last copy, so the page opens without a network. Writes are never cached: the page
// queues them itself (IndexedDB) and sends them with their idempotency keys.
"use strict";

const CACHE = "gridlaw-intake-v1";
const SHELL = ["/intake", "/static/intake.js", "/static/intake.css"];
const READS = ["/open311/v2/services.json", "/open311/v2/grids.json", "/intake/session"];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((c) => c.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

function cacheable(url) {
  return SHELL.includes(url.pathname) || READS.includes(url.pathname)
    || url.pathname.startsWith("/open311/v2/services/");
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin || !cacheable(url)) return;
  event.respondWith(
    fetch(request)
      .then((response) => {
        const copy = response.clone();
        if (response.ok) caches.open(CACHE).then((c) => c.put(request, copy));
        else if (url.pathname === "/intake/session") caches.open(CACHE).then((c) => c.delete(request));
        return response;
      })
      .catch(() => caches.match(request).then((hit) => hit || Response.error())),
  );
});
