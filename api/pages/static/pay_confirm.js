// 缴费信息确认: payer info, 缴费险种, 费款所属期 (or the arrears for 补缴), 缴费档次 → a quote.
(function () {
  "use strict";
  if (!SB.requireSession()) return;
  var forOther = new URLSearchParams(window.location.search).get("for") === "other";
  var payer = forOther ? SB.getJSON("sb.other") : { payer_ref: "me", person: SB.getJSON("sb.me") };
  if (!payer || !payer.person) { window.location.replace(forOther ? "/h5/payer" : "/h5/menu"); return; }
  var form = document.getElementById("confirm");
  var monthsBox = document.getElementById("months");
  var gradesBox = document.getElementById("grades");
  var next = document.getElementById("next");
  var options = null;

  SB.text("payer-name", payer.person.name_masked);
  SB.text("payer-id-type", SB.idTypeLabel(payer.person.id_type));
  SB.text("payer-id-number", payer.person.id_number_masked);

  function backPayment() {
    return form.querySelector("[name=back_payment]:checked").value === "yes";
  }

  function option(type, name, value, checked, title, sub) {
    var label = document.createElement("label");
    label.className = "cell option";
    var left = document.createElement("span");
    left.className = "opt";
    left.textContent = title;
    if (sub) {
      var s = document.createElement("span");
      s.className = "sub";
      s.textContent = sub;
      left.append(s);
    }
    var input = document.createElement("input");
    input.type = type; input.name = name; input.value = value; input.checked = checked;
    label.append(left, input);
    return label;
  }

  function empty(textValue) {
    var div = document.createElement("div");
    div.className = "empty";
    div.textContent = textValue;
    return div;
  }

  function medical() { return options.insurance === "resident_medical"; }

  function renderMonths() {
    monthsBox.replaceChildren();
    SB.clearErrors(form);
    if (medical()) {
      // One coverage year per person, one amount: no grades, no back payment, no prepayment.
      SB.text("months-title", "缴费年度");
      if (!options.open_months.length) {
        monthsBox.append(empty(options.year_closed ? "集中缴费期已结束" : "当前没有可缴费的年度"));
        return;
      }
      options.open_months.forEach(function (m) {
        monthsBox.append(option("checkbox", "month", m, true, SB.periodLabel(options.insurance, m),
          "¥" + SB.yuan(options.amount_per_person_fen) + "/人"));
      });
    } else if (backPayment()) {
      SB.text("months-title", "需补缴的费款所属期");
      if (!options.arrears.length) { monthsBox.append(empty("没有需要补缴的月份")); return; }
      options.arrears.forEach(function (a) {
        var sub = a.amount_fen === null ? "" : "最低档应缴 ¥" + SB.yuan(a.amount_fen) +
          (a.interest_fen ? "（含利息 ¥" + SB.yuan(a.interest_fen) + "）" : "");
        monthsBox.append(option("checkbox", "month", a.month, true, SB.monthLabel(a.month), sub));
      });
    } else {
      SB.text("months-title", "费款所属期");
      var all = options.open_months.concat(options.prepay_months);
      if (!all.length) { monthsBox.append(empty("当前没有可缴费的月份")); return; }
      var last = options.open_months.length ? options.open_months[options.open_months.length - 1] : all[0];
      all.forEach(function (m) {
        var ahead = options.prepay_months.indexOf(m) >= 0;
        monthsBox.append(option("checkbox", "month", m, m === last, SB.monthLabel(m), ahead ? "预缴" : ""));
      });
    }
  }

  // 预缴方式: each choice checks this month through the end of its period (the API's months).
  var PERIODS = [["month", "按月"], ["quarter", "按季"], ["half_year", "按半年"], ["year", "按年"]];

  function renderPrepay() {
    var box = document.getElementById("prepay");
    box.replaceChildren();
    var available = PERIODS.filter(function (p) { return options.prepay_choices[p[0]]; });
    document.getElementById("prepay-group").hidden = medical() || backPayment() || !options.prepay_months.length;
    available.forEach(function (p, i) {
      var cell = option("radio", "prepay", p[0], i === 0, p[1],
        options.prepay_choices[p[0]].map(SB.monthLabel).join("、"));
      cell.querySelector("input").addEventListener("change", function () {
        var chosen = options.prepay_choices[p[0]];
        monthsBox.querySelectorAll("[name=month]").forEach(function (input) {
          input.checked = chosen.indexOf(input.value) >= 0;
        });
      });
      box.append(cell);
    });
  }

  function renderClosed() {
    var notice = document.getElementById("closed-notice");
    notice.hidden = !options.year_closed;
    notice.textContent = options.closed_notice || "";
  }

  function renderGrades() {
    gradesBox.replaceChildren();
    options.grades.forEach(function (g) {
      gradesBox.append(option(
        "radio", "grade", String(g.grade), g.grade === options.default_grade,
        g.percent + "%档 · 月缴 ¥" + SB.yuan(g.monthly_fen),
        "缴费基数 ¥" + SB.yuan(g.base_fen) + "/月"
      ));
    });
  }

  var select = document.getElementById("insurance");

  async function load(insurance) {
    // Not ready while another insurance's options load: taps would act on the old ones.
    delete document.documentElement.dataset.ready;
    var url = "/api/v1/payers/" + encodeURIComponent(payer.payer_ref) + "/options" +
      (insurance ? "?insurance=" + encodeURIComponent(insurance) : "");
    var r = await SB.api("GET", url);
    if (!r.ok) { SB.showError(form, r.data); next.disabled = true; SB.ready(); return; }
    options = r.data;
    var registered = options.registrations.map(function (reg) { return reg.insurance; });
    if (!registered.length) registered = [options.insurance];
    if (registered.indexOf(options.insurance) < 0) { load(registered[0]); return; }
    next.disabled = false;
    select.replaceChildren();
    registered.forEach(function (value) {
      var o = document.createElement("option");
      o.value = value;
      o.textContent = SB_VOCAB.insurance[value] || value;
      o.selected = value === options.insurance;
      select.append(o);
    });
    document.getElementById("back-row").hidden = medical();
    document.getElementById("grades-group").hidden = medical();
    if (medical()) form.querySelector("[name=back_payment][value=no]").checked = true;
    document.getElementById("provisional").hidden = !options.provisional;
    document.getElementById("years-row").hidden = !options.contribution_years;
    SB.text("contribution-years", SB.contributionYears(options.contribution_years));
    renderClosed();
    renderMonths();
    renderPrepay();
    renderGrades();
    SB.ready();
  }

  select.addEventListener("change", function () { load(select.value); });

  form.querySelectorAll("[name=back_payment]").forEach(function (radio) {
    radio.addEventListener("change", function () { if (options) { renderMonths(); renderPrepay(); } });
  });

  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    if (!options) return;
    SB.clearErrors(form);
    var months = Array.from(form.querySelectorAll("[name=month]:checked")).map(function (i) { return i.value; });
    if (!months.length) {
      SB.showError(form, { field: "months", message: "请选择费款所属期" });
      return;
    }
    var grade = medical() ? { value: "0" } : form.querySelector("[name=grade]:checked");
    if (!grade) { SB.showError(form, { field: "grade", message: "请选择缴费档次" }); return; }
    next.disabled = true;
    var r = await SB.api("POST", "/api/v1/quotes", {
      payer_ref: payer.payer_ref,
      insurance: options.insurance,
      months: months,
      back_payment: backPayment(),
      grade: Number(grade.value)
    });
    next.disabled = false;
    if (!r.ok) { SB.showError(form, r.data); return; }
    SB.setJSON("sb.quote", { quote: r.data, payer: payer.person });
    window.location.href = "/h5/pay/amount";
  });

  load();
})();
