/* Dashboard charts: reads the page's json_script data (#dashboard-data) and draws each
   <div data-chart="..."> with the vendored Apache ECharts. No inline script (strict CSP). */
(function () {
  "use strict";
  var el = document.getElementById("dashboard-data");
  if (!el || !window.echarts) { return; }
  var d = JSON.parse(el.textContent);
  var L = d.labels || {};
  var narrow = window.matchMedia && window.matchMedia("(max-width: 600px)").matches;
  var grid = { left: narrow ? 40 : 60, right: 12, top: 36, bottom: narrow ? 80 : 60, containLabel: true };
  var xCat = function (names) {
    return { type: "category", data: names, axisLabel: { interval: 0, rotate: narrow ? 60 : 30, fontSize: 11 } };
  };
  var pairs = function (rows) {
    return { names: (rows || []).map(function (r) { return r.name; }), values: (rows || []).map(function (r) { return r.value; }) };
  };
  var bar = function (rows, name) {
    var p = pairs(rows);
    return {
      tooltip: { trigger: "axis" }, grid: grid, xAxis: xCat(p.names), yAxis: { type: "value" },
      series: [{ type: "bar", name: name, data: p.values }]
    };
  };
  var options = {
    teachers: function () {
      return {
        tooltip: { trigger: "axis" }, legend: { top: 0 }, grid: grid, xAxis: xCat(d.counties), yAxis: { type: "value" },
        series: [
          { type: "bar", name: L.into_poor, data: d.teachers.into_poor },
          { type: "bar", name: L.target_poor, data: d.teachers.target_poor }
        ]
      };
    },
    twinning: function () {
      return {
        tooltip: { trigger: "axis" }, legend: { top: 0 }, grid: grid, xAxis: xCat(d.counties),
        yAxis: { type: "value", max: 100 },
        series: [
          { type: "bar", name: L.coverage, data: d.coverage },
          { type: "bar", name: L.compliance, data: d.compliance }
        ]
      };
    },
    rates: function () {
      return {
        tooltip: { trigger: "axis" }, legend: { top: 0 }, grid: grid, xAxis: xCat(d.counties),
        yAxis: { type: "value", max: 100 },
        series: [{ type: "bar", name: L.training, data: d.training }]
      };
    },
    paid_by_scheme: function () { return bar(d.paid_by_scheme, L.yuan); },
    paid_by_county: function () { return bar(d.paid_by_county, L.yuan); },
    paid_by_month: function () {
      var p = pairs(d.paid_by_month);
      return { tooltip: { trigger: "axis" }, grid: grid, xAxis: xCat(p.names), yAxis: { type: "value" },
        series: [{ type: "line", name: L.yuan, data: p.values }] };
    },
    findings: function () {
      return { tooltip: { trigger: "item" }, series: [{ type: "pie", radius: narrow ? "55%" : "65%", data: d.findings || [] }] };
    }
  };
  var charts = [];
  document.querySelectorAll("[data-chart]").forEach(function (node) {
    var make = options[node.getAttribute("data-chart")];
    if (!make) { return; }
    var chart = window.echarts.init(node, null, { renderer: "svg" });
    chart.setOption(make());
    node.setAttribute("data-drawn", "1");
    charts.push(chart);
  });
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
}());
