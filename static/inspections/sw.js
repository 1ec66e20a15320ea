/* jinpin's field service worker: keeps the household cards page and its static files so that the
 * inspector can open them without a connection. Served from /inspections/sw.js (scope /inspections/).
 * Network first: online, the page is always fresh and the copy is refreshed; offline, the copy is used.
 * Results are never sent from here: checks.js keeps them in IndexedDB and sends them itself. */
var CACHE = "jinpin-field-v1";

self.addEventListener("install", function () { self.skipWaiting(); });
self.addEventListener("activate", function (event) { event.waitUntil(self.clients.claim()); });

self.addEventListener("message", function (event) {
  var urls = event.data && event.data.cache;
  if (!Array.isArray(urls)) return;
  urls = urls.filter(function (u) { return typeof u === "string" && u; });
  event.waitUntil(caches.open(CACHE).then(function (cache) { return cache.addAll(urls); }).catch(function () {}));
});

function cacheable(url) {
  return url.origin === self.location.origin &&
    (/^\/inspections\/groups\/\d+\/cards\/$/.test(url.pathname) || url.pathname.indexOf("/static/") === 0);
}

self.addEventListener("fetch", function (event) {
  var req = event.request;
  if (req.method !== "GET") return;
  var url = new URL(req.url);
  if (!cacheable(url)) return;
  event.respondWith(
    fetch(req).then(function (resp) {
      if (resp.ok && !resp.redirected) {
        var copy = resp.clone();
        caches.open(CACHE).then(function (cache) { cache.put(req, copy); });
      }
      return resp;
    }).catch(function () {
      return caches.match(req, { ignoreSearch: true, ignoreVary: true }).then(function (hit) { return hit || Response.error(); });
    })
  );
});
