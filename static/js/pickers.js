// Searchable pickers (jinpin/autocomplete.py): a <select data-autocomplete="url"> becomes a tom-select
// that asks the server as the user types, page by page as the list is scrolled. No inline script (CSP).
(function () {
  if (typeof TomSelect === "undefined") return;
  function pageUrl(base, query, page) {
    var sep = base.indexOf("?") === -1 ? "?" : "&";
    return base + sep + "q=" + encodeURIComponent(query) + "&page=" + page;
  }
  document.querySelectorAll("select[data-autocomplete]").forEach(function (el) {
    if (el.tomselect) return;
    var base = el.getAttribute("data-autocomplete");
    var min = parseInt(el.getAttribute("data-min-chars") || "1", 10);
    var plugins = ["virtual_scroll"];
    if (el.multiple) plugins.push("remove_button");
    new TomSelect(el, {
      plugins: plugins,
      valueField: "value",
      labelField: "text",
      searchField: [],
      placeholder: el.getAttribute("data-placeholder") || "",
      loadThrottle: 250,
      maxOptions: 200,
      shouldLoad: function (query) { return query.length >= min; },
      score: function () { return function () { return 1; }; }, // the server has already matched
      firstUrl: function (query) { return pageUrl(base, query, 1); },
      load: function (query, callback) {
        var self = this;
        var url = this.getUrl(query);
        var page = parseInt(new URL(url, window.location.href).searchParams.get("page") || "1", 10);
        fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
          .then(function (r) { return r.json(); })
          .then(function (data) {
            if (data.more) self.setNextUrl(query, pageUrl(base, query, page + 1));
            callback(data.results);
          })
          .catch(function () { callback(); });
      },
    });
  });
})();
