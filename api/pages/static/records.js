// 社保费申报查询 (个人社保费查询): the signed-in person and this year by default; another person
// (with their trio) or another year may be chosen; a record opens its 缴费明细.
(function () {
  "use strict";
  if (!SB.requireSession()) return;
  var me = SB.getJSON("sb.me") || {};
  var form = document.getElementById("query");
  var other = document.getElementById("other");
  var otherFields = document.getElementById("other-fields");
  var year = document.getElementById("year");
  var search = document.getElementById("search");
  var body = document.querySelector("#records tbody");
  var thisYear = new Date().getFullYear();
  var BAD = ["REFUNDING", "REFUNDED", "MANUAL_REVIEW", "REJECTED", "EXPIRED", "CANCELLED"];
  var GOOD = ["IN_TREASURY", "COMPLETED"];

  SB.text("self-who", (me.name_masked || "") + " " + (me.id_number_masked || ""));
  // Next year too: 城乡居民医保 is paid this year for the coverage year after it.
  for (var y = thisYear + 1; y > thisYear - 6; y -= 1) {
    var o = document.createElement("option");
    o.value = String(y);
    o.textContent = y + "年01月 至 " + y + "年12月";
    o.selected = y === thisYear;
    year.append(o);
  }
  var yearsRow = document.getElementById("years-row");
  other.addEventListener("change", function () {
    otherFields.hidden = !other.checked;
    document.getElementById("self-row").hidden = other.checked;
    yearsRow.hidden = other.checked || !yearsRow.dataset.loaded;
  });

  // The signed-in person's own counter (null when not registered for the pension).
  async function contributionYears() {
    var r = await SB.api("GET", "/api/v1/records/contribution-years");
    if (!r.ok || !r.data) return;
    SB.text("contribution-years", SB.contributionYears(r.data));
    yearsRow.dataset.loaded = "true";
    yearsRow.hidden = other.checked;
  }

  function badge(record) {
    var span = document.createElement("span");
    span.className = "badge" + (BAD.indexOf(record.status) >= 0 ? " bad" : GOOD.indexOf(record.status) >= 0 ? " ok" : "");
    span.textContent = record.status_label;
    return span;
  }

  function render(records) {
    body.replaceChildren();
    document.getElementById("empty").hidden = records.length > 0;
    records.forEach(function (record) {
      var tr = document.createElement("tr");
      tr.className = "clickable";
      tr.dataset.recordId = String(record.record_id);
      var month = document.createElement("td");
      month.textContent = SB.periodLabel(record.insurance, record.month);
      var amount = document.createElement("td");
      amount.textContent = SB.yuan(record.amount_fen + record.interest_fen);
      var status = document.createElement("td");
      status.append(badge(record));
      tr.append(month, amount, status);
      tr.addEventListener("click", function () {
        window.location.href = "/h5/records/" + encodeURIComponent(record.record_id);
      });
      body.append(tr);
    });
  }

  async function query() {
    SB.clearErrors(form);
    var period = { from: year.value + "-01", to: year.value + "-12" };
    search.disabled = true;
    // Another person's trio goes in a POST body, never in a URL (logs, history).
    var r = other.checked
      ? await SB.api("POST", "/api/v1/records/query", Object.assign(SB.identity(form), period))
      : await SB.api("GET", "/api/v1/records?" + new URLSearchParams(period).toString());
    search.disabled = false;
    if (!r.ok) {
      SB.showError(form, r.data);
      if (other.checked) await SB.identityAnswered(form, r);
      render([]);
      return;
    }
    render(r.data);
  }

  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    await query();
    SB.ready();
  });
  Promise.all([query(), contributionYears()]).then(SB.ready);
})();
