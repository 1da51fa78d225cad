// Filters of the check matrix: verdict, level, protocol and free text; groups with no visible row hide too.
(function () {
  var form = document.getElementById("filters");
  if (!form) return;
  var rows = Array.prototype.slice.call(document.querySelectorAll("tr.check"));
  var groups = Array.prototype.slice.call(document.querySelectorAll("tbody.group"));
  var shown = document.getElementById("shown");
  function checked(name) {
    return Array.prototype.slice.call(form.querySelectorAll("input[name=" + name + "]:checked"))
      .map(function (e) { return e.value; });
  }
  function apply() {
    var verdicts = checked("verdict"), levels = checked("level");
    var protocol = form.querySelector("select[name=protocol]").value;
    var text = form.querySelector("input[name=text]").value.trim().toLowerCase();
    var n = 0;
    rows.forEach(function (row) {
      var ok = row.dataset.verdicts.split(" ").some(function (v) { return verdicts.indexOf(v) >= 0; }) &&
        levels.indexOf(row.dataset.level) >= 0 &&
        (!protocol || row.dataset.protocol === protocol) &&
        (!text || row.dataset.text.indexOf(text) >= 0);
      row.hidden = !ok;
      if (ok) n++;
    });
    groups.forEach(function (g) { g.hidden = !g.querySelector("tr.check:not([hidden])"); });
    shown.textContent = n + " of " + rows.length + " checks shown";
  }
  form.addEventListener("input", apply);
  form.addEventListener("change", apply);
  apply();
})();
