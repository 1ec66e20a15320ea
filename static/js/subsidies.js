// Award list: the header checkbox selects every award on the page.
(function () {
  var all = document.getElementById("select-all");
  if (!all) return;
  all.addEventListener("change", function () {
    document.querySelectorAll("input.award-check").forEach(function (c) { c.checked = all.checked; });
  });
})();
