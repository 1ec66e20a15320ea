/* 户户不落 in the field: household cards that work offline.
 *
 * The page carries its data (json_script #field-data); the service worker (/inspections/sw.js) keeps
 * the page and its static files so it opens without a connection. A saved check or photo goes into
 * IndexedDB ("outbox") with an id made here (crypto.randomUUID), and is sent when the connection is
 * there; the server records an id once, so sending twice is harmless. The outbox is listed on the page.
 */
(function () {
  "use strict";
  var dataEl = document.getElementById("field-data");
  if (!dataEl) return;
  var DATA = JSON.parse(dataEl.textContent);
  var script = document.getElementById("checks-js");
  var T = {};
  var tpl = document.getElementById("tpl-strings");
  Array.prototype.forEach.call(tpl.content.querySelectorAll("[data-k]"), function (s) { T[s.dataset.k] = s.textContent; });

  function el(tag, attrs, children) {
    var n = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") n.textContent = attrs[k];
      else if (k === "className") n.className = attrs[k];
      else n.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { if (c) n.appendChild(c); });
    return n;
  }

  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  function csrf() {
    var m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  }

  // -- IndexedDB outbox ---------------------------------------------------------------------------
  var dbp = new Promise(function (resolve, reject) {
    var req = indexedDB.open("jinpin-field", 1);
    req.onupgradeneeded = function () { req.result.createObjectStore("outbox", { keyPath: "uuid" }); };
    req.onsuccess = function () { resolve(req.result); };
    req.onerror = function () { reject(req.error); };
  });
  function tx(mode, fn) {
    return dbp.then(function (db) {
      return new Promise(function (resolve, reject) {
        var t = db.transaction("outbox", mode);
        var out = fn(t.objectStore("outbox"));
        t.oncomplete = function () { resolve(out && out.result !== undefined ? out.result : out); };
        t.onerror = function () { reject(t.error); };
      });
    });
  }
  function put(entry) { return tx("readwrite", function (s) { return s.put(entry); }); }
  function del(key) { return tx("readwrite", function (s) { return s.delete(key); }); }
  function all() { return tx("readonly", function (s) { return s.getAll(); }); }

  // -- rendering -----------------------------------------------------------------------------------
  var cardsById = {};
  var villageById = {};
  DATA.villages.forEach(function (v) { villageById[v.id] = v; });

  function fmt(v) {
    if (v === true) return "✓"; if (v === false) return "—"; return v === null || v === undefined ? "" : String(v);
  }

  function compare(card) {
    var rows = [["number", "#"], ["head_name", ""], ["members", T.members], ["status", T.status], ["is_dibao", "低保"], ["is_tekun", "特困"]];
    var body = el("tbody");
    rows.forEach(function (r) {
      var a = card.then[r[0]], b = card.now[r[0]];
      var tr = el("tr", a === b ? {} : { className: "changed" }, [el("th", { text: r[1] }), el("td", { text: fmt(a) }), el("td", { text: fmt(b) })]);
      body.appendChild(tr);
    });
    return el("table", { className: "compare" }, [el("thead", {}, [el("tr", {}, [el("th"), el("th", { text: T.then }), el("th", { text: T.now })])]), body]);
  }

  function checkForm(card) {
    var f = el("form", { className: "check-form", "data-card": card.id });
    var name = "outcome-" + card.id;
    var visited = el("input", { type: "radio", name: name, value: "visited", checked: "checked", id: name + "-v" });
    var notFound = el("input", { type: "radio", name: name, value: "not_found", id: name + "-n" });
    f.appendChild(el("p", { className: "outcome" }, [
      el("label", {}, [visited, document.createTextNode(" " + T.visited)]),
      el("label", {}, [notFound, document.createTextNode(" " + T.not_found)]),
    ]));
    var reason = el("input", { type: "text", name: "reason", placeholder: T.reason, className: "reason", maxlength: "200" });
    f.appendChild(reason);
    var list = el("ol", { className: "checklist" });
    DATA.checklist.forEach(function (it) {
      var sel = el("select", { name: "item-" + it.id, "data-item": it.id }, [
        el("option", { value: "1", text: T.passed }), el("option", { value: "0", text: T.failed }),
      ]);
      var note = el("input", { type: "text", name: "note-" + it.id, placeholder: T.note, maxlength: "300" });
      list.appendChild(el("li", {}, [el("span", { text: it.label, title: it.help_text }), sel, note]));
    });
    f.appendChild(list);
    f.appendChild(el("label", { className: "photo-label" }, [document.createTextNode(T.photo + " "),
      el("input", { type: "file", name: "photos", accept: "image/*", capture: "environment", multiple: "multiple" })]));
    f.appendChild(el("textarea", { name: "note", rows: "2", placeholder: T.note }));
    f.appendChild(el("p", { className: "error", role: "alert" }));
    f.appendChild(el("button", { type: "submit", className: "save", text: T.save }));
    f.addEventListener("submit", function (ev) { ev.preventDefault(); saveCheck(card, f); });
    return f;
  }

  function render() {
    var box = document.getElementById("cards");
    var vbox = document.getElementById("villages");
    box.textContent = ""; vbox.textContent = "";
    var byVillage = {};
    DATA.cards.forEach(function (c) { cardsById[c.id] = c; (byVillage[c.village] = byVillage[c.village] || []).push(c); });
    DATA.villages.forEach(function (v) {
      var input = el("input", { type: "file", accept: "image/*", capture: "environment", "data-village": v.id, id: "village-photo-" + v.id });
      input.addEventListener("change", function () { savePhotos(input.files, { village: v.id }); input.value = ""; });
      var state = el("span", { className: "badge " + (v.photo ? "green" : "amber"), id: "village-state-" + v.id, text: v.photo ? T.has_photo : T.no_photo });
      var section = el("section", { className: "village panel", id: "village-" + v.id }, [
        el("h2", { text: (v.town || "") + " " + (v.name || "") }), state,
        el("label", { className: "photo-label" }, [document.createTextNode(" " + T.village_photo + " "), input]),
      ]);
      (byVillage[v.id] || []).forEach(function (c) {
        var head = el("summary", {}, [el("strong", { text: c.then.number + " " + c.then.head_name }),
          el("span", { className: "badge card-state", id: "state-" + c.id, text: c.checked ? T.checked : "" })]);
        var details = el("details", { className: "card", id: "card-" + c.id }, [head, compare(c)]);
        if (!c.checked && DATA.can_write) details.appendChild(checkForm(c));
        section.appendChild(details);
      });
      vbox.appendChild(section);
    });
  }

  function saveCheck(card, f) {
    var outcome = f.querySelector("input[type=radio]:checked").value;
    var reason = f.querySelector("input.reason").value.trim();
    var err = f.querySelector(".error");
    if (outcome === "not_found" && !reason) { err.textContent = T.need_reason; return; }
    var results = [];
    if (outcome === "visited") {
      Array.prototype.forEach.call(f.querySelectorAll("select[data-item]"), function (s) {
        var note = f.querySelector("input[name=note-" + s.dataset.item + "]").value;
        results.push({ item: Number(s.dataset.item), passed: s.value === "1", note: note });
      });
    }
    var entry = {
      uuid: uuid(), type: "check", created: Date.now(),
      label: card.then.number + " " + card.then.head_name,
      payload: { client_uuid: null, item: card.id, outcome: outcome, not_found_reason: reason, note: f.querySelector("textarea").value, results: results, checked_at: new Date().toISOString() },
    };
    entry.payload.client_uuid = entry.uuid;
    var files = f.querySelector("input[type=file]").files;
    put(entry).then(function () { return savePhotos(files, { item: card.id, label: entry.label }, true); }).then(function () {
      f.remove();
      var st = document.getElementById("state-" + card.id);
      st.textContent = T.queued; st.className = "badge amber card-state";
      refreshOutbox(); flush();
    });
  }

  function savePhotos(files, target, quiet) {
    var list = Array.prototype.slice.call(files || []);
    return list.reduce(function (p, file) {
      return p.then(function () {
        var entry = {
          uuid: uuid(), type: "photo", created: Date.now(), blob: file, filename: file.name || "photo.jpg",
          captured_at: file.lastModified ? new Date(file.lastModified).toISOString() : "",
          item: target.item || null, village: target.village || null,
          label: T.photo_of + " " + (target.label || (villageById[target.village] || {}).name || ""),
        };
        return put(entry);
      });
    }, Promise.resolve()).then(function () { if (!quiet) { refreshOutbox(); flush(); } });
  }

  function refreshOutbox() {
    return all().then(function (entries) {
      entries.sort(function (a, b) { return a.created - b.created; });
      var ul = document.getElementById("outbox-list");
      ul.textContent = "";
      entries.forEach(function (e) {
        if (e.type === "check") {
          // a check still waiting (e.g. after reopening the page offline): no second form for it
          var form = document.querySelector("form.check-form[data-card='" + e.payload.item + "']");
          if (form) form.remove();
          var st = document.getElementById("state-" + e.payload.item);
          if (st) { st.textContent = T.queued; st.className = "badge amber card-state"; }
        }
        ul.appendChild(el("li", { "data-uuid": e.uuid, className: e.error ? "error" : "" }, [
          document.createTextNode((e.type === "check" ? T.check : T.photo) + " · " + e.label + (e.error ? " · " + T.error + ": " + e.error : "")),
        ]));
      });
      document.getElementById("outbox-count").textContent = String(entries.length);
      return entries;
    });
  }

  // -- sending ---------------------------------------------------------------------------------------
  var sending = false;
  function sendOne(e) {
    var req;
    if (e.type === "check") {
      req = fetch(DATA.urls.checks, {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrf() },
        body: JSON.stringify(e.payload),
      });
    } else {
      var fd = new FormData();
      fd.append("client_uuid", e.uuid);
      fd.append("campaign", DATA.campaign);
      if (e.item) fd.append("item", e.item);
      if (e.village) fd.append("village", e.village);
      if (e.captured_at) fd.append("captured_at", e.captured_at);
      fd.append("image", e.blob, e.filename);
      req = fetch(DATA.urls.photos, { method: "POST", credentials: "same-origin", headers: { "X-CSRFToken": csrf() }, body: fd });
    }
    return req.then(function (resp) {
      if (resp.ok) {
        return del(e.uuid).then(function () {
          if (e.type === "check") {
            var st = document.getElementById("state-" + e.payload.item);
            if (st) { st.textContent = T.sent; st.className = "badge green card-state"; }
            var n = document.getElementById("n-checked"); n.textContent = String(Number(n.textContent) + 1);
          } else if (e.village) {
            var vs = document.getElementById("village-state-" + e.village);
            if (vs) { vs.textContent = T.has_photo; vs.className = "badge green"; }
          }
        });
      }
      if (resp.status >= 400 && resp.status < 500 && resp.status !== 408 && resp.status !== 429) {
        return resp.text().then(function (t) { e.error = resp.status + " " + t.slice(0, 200); return put(e); });
      }
      throw new Error("server " + resp.status);
    });
  }

  function flush() {
    if (sending || !navigator.onLine) return Promise.resolve();
    sending = true;
    return all().then(function (entries) {
      entries = entries.filter(function (e) { return !e.error; });
      // checks first, then photos, each in the order they were made
      entries.sort(function (a, b) { return (a.type === b.type ? 0 : a.type === "check" ? -1 : 1) || a.created - b.created; });
      return entries.reduce(function (p, e) { return p.then(function () { return sendOne(e); }); }, Promise.resolve());
    }).catch(function () { /* offline or server away: the entries wait for the next try */ })
      .then(function () { sending = false; return refreshOutbox(); });
  }

  function showNet() {
    var s = document.getElementById("net-state");
    s.textContent = navigator.onLine ? s.dataset.online : s.dataset.offline;
    s.className = navigator.onLine ? "badge green" : "badge amber";
  }

  window.addEventListener("online", function () { showNet(); flush(); });
  window.addEventListener("offline", showNet);
  document.getElementById("send-now").addEventListener("click", function () { flush(); });
  setInterval(function () { if (navigator.onLine) flush(); }, 4000);

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register(script.dataset.sw, { scope: "/inspections/" }).then(function () {
      return navigator.serviceWorker.ready;
    }).then(function (reg) {
      if (reg.active) reg.active.postMessage({ cache: [location.pathname, script.src, script.dataset.css, script.dataset.fieldcss] });
    }).catch(function () { /* no service worker: the page still queues while it stays open */ });
  }

  // -- whose data this phone holds ------------------------------------------------------------------
  // Logging out clears everything (the server sends Clear-Site-Data, see inspections/field_data.py).
  // Should another user's copy still be here, it is wiped before anything else runs.
  function wipe() {
    var jobs = [tx("readwrite", function (s) { return s.clear(); })];
    if (window.caches) jobs.push(caches.keys().then(function (keys) { return Promise.all(keys.map(function (k) { return caches.delete(k); })); }));
    return Promise.all(jobs).catch(function () {});
  }
  var owner = String(DATA.user);
  var ready = (localStorage.getItem("jinpin-field-owner") || owner) !== owner ? wipe() : Promise.resolve();
  localStorage.setItem("jinpin-field-owner", owner);

  // logging out deletes what waits on the phone: say so first
  Array.prototype.forEach.call(document.querySelectorAll("form[action$='/accounts/logout/']"), function (f) {
    f.addEventListener("submit", function (ev) {
      var n = Number(document.getElementById("outbox-count").textContent || "0");
      if (n > 0 && !window.confirm(T.logout_pending.replace("__N__", n))) ev.preventDefault();
    });
  });

  render();
  showNet();
  ready.then(refreshOutbox).then(function () { flush(); });
  window.jinpinField = { flush: flush, outbox: all };
})();
