// Polls a job's status and updates the progress bar; shows the download link when done.
(function () {
  var box = document.getElementById("job");
  if (!box) return;
  var url = box.getAttribute("data-status-url");
  function tick() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (s) {
        document.getElementById("job-progress").value = s.percent;
        document.getElementById("job-percent").textContent = s.percent + "%";
        document.getElementById("job-status").textContent = s.status_display;
        document.getElementById("job-count").textContent = s.total ? s.done + " / " + s.total : "";
        document.getElementById("job-message").textContent = s.message || "";
        var notice = document.getElementById("job-notice");
        if (notice) { notice.textContent = s.notice || ""; notice.hidden = !s.notice; }
        var again = document.getElementById("job-run-again");
        if (again) again.hidden = !s.can_run_again;
        if (s.download_url) {
          document.getElementById("job-download-link").href = s.download_url;
          document.getElementById("job-download").hidden = false;
          var expiry = document.getElementById("job-expiry");
          if (expiry) expiry.hidden = false;
        }
        if (s.result_url) {
          var link = document.getElementById("job-result-link");
          link.href = s.result_url;
          link.textContent = s.result_label;
          document.getElementById("job-result").hidden = false;
        }
        if (s.finished) {
          box.setAttribute("data-finished", s.status);
          if (s.status === "failed") window.location.reload();
        } else {
          setTimeout(tick, 700);
        }
      })
      .catch(function () { setTimeout(tick, 2000); });
  }
  if (!["succeeded", "failed"].includes(box.getAttribute("data-finished"))) tick();
})();
