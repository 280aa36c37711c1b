// Draws the realised curve against the consigne from the JSON in <script id="curve-data">.
(function () {
  "use strict";
  var source = document.getElementById("curve-data");
  var target = document.getElementById("curve-chart");
  if (!source || !target || typeof uPlot === "undefined") { return; }
  var data = JSON.parse(source.textContent);
  var points = function (colour, size) {
    return { stroke: colour, scale: "kWh", paths: function () { return null; },
             points: { show: true, size: size, fill: colour, stroke: colour } };
  };
  var neutralised = points("#e69500", 7);
  neutralised.label = data.labels.neutralised;
  var breach = points("#d1242f", 9);
  breach.label = data.labels.breach;
  var options = {
    width: Math.max(target.clientWidth, 280),
    height: 360,
    tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1000), "Europe/Paris"); },
    scales: { x: { time: true }, c: { range: [0, 1.05] } },
    series: [
      { label: data.labels.time },
      { label: data.labels.energy, stroke: "#1f6feb", width: 1, scale: "kWh" },
      { label: data.labels.consigne, stroke: "#8c959f", fill: "rgba(209, 36, 47, 0.08)", scale: "c",
        paths: uPlot.paths.stepped({ align: 1 }) },
      neutralised,
      breach
    ],
    axes: [{}, { scale: "kWh", label: "kWh" }, { scale: "c", side: 1, grid: { show: false } }]
  };
  new uPlot(options, [data.x, data.energy, data.consigne, data.neutralised, data.breach], target);
})();
