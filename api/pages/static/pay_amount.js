// 应缴费额确认: each month's base and amount (with interest for back payment) and the total.
(function () {
  "use strict";
  if (!SB.requireSession()) return;
  var saved = SB.getJSON("sb.quote");
  if (!saved) { window.location.replace("/h5/menu"); return; }
  var q = saved.quote;
  var withInterest = q.lines.some(function (l) { return l.interest_fen > 0; });
  SB.text("payer-name", saved.payer.name_masked);
  SB.text("insurance", SB_VOCAB.insurance[q.insurance] || q.insurance);
  SB.text("kind", q.back_payment ? "补缴" : "正常缴费");
  var medical = q.insurance === "resident_medical";
  // 城乡居民医保 has no grades and no base: one amount per person per coverage year.
  document.getElementById("grade-row").hidden = medical;
  SB.text("grade", q.grade + "%档");
  if (medical) {
    var heads = document.querySelectorAll("#lines thead th");
    heads[0].textContent = "缴费年度";
    heads[1].remove();
  }
  SB.text("lines-title", q.back_payment ? "需补缴的社保费" : "应缴费额");
  if (withInterest) {
    var head = document.querySelector("#lines thead tr");
    var th = document.createElement("th");
    th.textContent = "利息(元)";
    head.insertBefore(th, head.lastElementChild);
  }
  var body = document.querySelector("#lines tbody");
  q.lines.forEach(function (line) {
    var tr = document.createElement("tr");
    var cells = medical ? [SB.periodLabel(q.insurance, line.month)] : [SB.monthLabel(line.month), SB.yuan(line.base_fen)];
    if (withInterest) cells.push(SB.yuan(line.interest_fen));
    cells.push(SB.yuan(line.amount_fen + line.interest_fen));
    cells.forEach(function (value) {
      var td = document.createElement("td");
      td.textContent = value;
      tr.append(td);
    });
    body.append(tr);
  });
  SB.text("total", SB.yuan(q.total_fen));
  SB.text("expires", "请在 " + SB.dateTime(q.expires_at) + " 前完成缴费");
  document.getElementById("next").addEventListener("click", function () {
    window.location.href = "/h5/pay/method";
  });
  SB.ready();
})();
