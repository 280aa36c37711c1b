// Draws the realised curve against the consigne from the JSON in <script id="curve-data">.
// Times are written in the page's language and in Paris time, whatever the browser's language and time zone
// (a French page: "01/12", "14:05", "01/12/2026 14:05"; the figures with a decimal comma).
(function () {
  "use strict";
  var source = document.getElementById("curve-data");
  var target = document.getElementById("curve-chart");
  if (!source || !target || typeof uPlot === "undefined") { return; }
  var data = JSON.parse(source.textContent);
  var language = document.documentElement.lang || "fr";
  var locale = language.indexOf("fr") === 0 ? "fr-FR" : "en-GB";
  var inParis = function (options) {
    options.timeZone = "Europe/Paris";
    return new Intl.DateTimeFormat(locale, options);
  };
  var dayFormat = inParis({ day: "2-digit", month: "2-digit" });
  var timeFormat = inParis({ hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
  var momentFormat = inParis({ day: "2-digit", month: "2-digit", year: "numeric", hour: "2-digit",
                               minute: "2-digit", hourCycle: "h23" });
  var numberFormat = new Intl.NumberFormat(locale, { maximumFractionDigits: 3 });
  var write = function (format, seconds) { return format.format(new Date(seconds * 1000)); };
  // Ticks a day or more apart show the day; closer ones the time, with the day under the first tick of each day.
  var timeTicks = function (u, splits, axisIdx, space, step) {
    var seen = {};
    return splits.map(function (ts) {
      if (step >= 86400) { return write(dayFormat, ts); }
      var day = write(dayFormat, ts);
      var label = write(timeFormat, ts);
      if (!seen[day]) { seen[day] = true; label += "\n" + day; }
      return label;
    });
  };
  var number = function (u, value) { return value == null ? "—" : numberFormat.format(value); };
  var numberTicks = function (u, splits) { return splits.map(function (v) { return numberFormat.format(v); }); };
  var points = function (colour, size) {
    return { stroke: colour, scale: "kWh", paths: function () { return null; },
             points: { show: true, size: size, fill: colour, stroke: colour } };
  };
  var neutralised = points("#e69500", 7);
  neutralised.label = data.labels.neutralised;
  neutralised.value = number;
  var breach = points("#d1242f", 9);
  breach.label = data.labels.breach;
  breach.value = number;
  var options = {
    width: Math.max(target.clientWidth, 280),
    height: 360,
    tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1000), "Europe/Paris"); },
    scales: { x: { time: true }, c: { range: [0, 1.05] } },
    series: [
      { label: data.labels.time, value: function (u, ts) { return ts == null ? "—" : write(momentFormat, ts); } },
      { label: data.labels.energy, stroke: "#1f6feb", width: 1, scale: "kWh", value: number },
      { label: data.labels.consigne, stroke: "#8c959f", fill: "rgba(209, 36, 47, 0.08)", scale: "c",
        paths: uPlot.paths.stepped({ align: 1 }), value: number },
      neutralised,
      breach
    ],
    axes: [{ values: timeTicks }, { scale: "kWh", label: "kWh", values: numberTicks },
           { scale: "c", side: 1, grid: { show: false }, values: numberTicks }]
  };
  // Kept on the element: the browser tests read the axis labels drawn on the canvas from it.
  target.chart = new uPlot(options, [data.x, data.energy, data.consigne, data.neutralised, data.breach], target);
})();
