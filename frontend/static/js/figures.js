(function () {
  "use strict";
  // The period form: only the chosen kind's fields are shown (all are, without script).
  var kind = document.getElementById("period");
  if (kind) {
    var showChosen = function () {
      document.querySelectorAll("[data-period]").forEach(function (field) {
        field.hidden = field.getAttribute("data-period") !== kind.value;
      });
    };
    kind.addEventListener("change", showChosen);
    showChosen();
  }
  var canvas = document.getElementById("figures-chart");
  var source = document.getElementById("figures-chart-data");
  if (!canvas || !source || !window.Chart) {
    return;
  }
  var data = JSON.parse(source.textContent);
  var colours = ["#1f3a5f", "#a4262c", "#1e6b3a"];
  new window.Chart(canvas, {
    type: "line",
    data: {
      labels: data.labels,
      datasets: [data.received, data.closed, data.closed_on_time].map(function (series, index) {
        return {
          label: data.series_labels[index],
          data: series,
          borderColor: colours[index],
          backgroundColor: colours[index],
          tension: 0.2,
        };
      }),
    },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
    },
  });
})();
