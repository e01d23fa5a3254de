// Shared helpers of the H5 pages: the JSON API with the session token, errors beside fields, money.
(function () {
  "use strict";
  var store = window.sessionStorage;
  // The vocabulary (证件类型, 险种, status labels) rendered by the server as a JSON data block.
  window.SB_VOCAB = JSON.parse(document.getElementById("sb-vocab").textContent);
  document.querySelectorAll("[data-history-back]").forEach(function (link) {
    link.addEventListener("click", function (event) {
      if (window.history.length > 1) { event.preventDefault(); window.history.back(); }
    });
  });

  function getJSON(key) {
    var raw = store.getItem(key);
    if (raw === null) return null;
    try { return JSON.parse(raw); } catch (e) { return null; }
  }

  function setJSON(key, value) { store.setItem(key, JSON.stringify(value)); }

  // An Idempotency-Key: random hex from getRandomValues (randomUUID needs a secure context).
  function newKey() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  async function api(method, path, body, headers) {
    var h = Object.assign({ "Accept": "application/json" }, headers || {});
    var token = store.getItem("sb.token");
    if (token) h["Authorization"] = "Bearer " + token;
    if (body !== undefined) h["Content-Type"] = "application/json";
    var response;
    try {
      response = await fetch(path, {
        method: method, headers: h, body: body === undefined ? undefined : JSON.stringify(body)
      });
    } catch (e) {
      return { ok: false, status: 0, data: { code: "NETWORK", message: "网络异常，请稍后重试", field: null } };
    }
    var data = null;
    try { data = await response.json(); } catch (e) { data = null; }
    if (!response.ok && (!data || !data.message)) {
      data = { code: "HTTP_" + response.status, message: "服务暂不可用，请稍后重试", field: null };
    }
    if (response.status === 401 && data && data.code !== "IDENTITY_MISMATCH" && token) {
      // The session ended: start again from 用户认证.
      store.removeItem("sb.token");
    }
    return { ok: response.ok, status: response.status, data: data };
  }

  function clearErrors(root) {
    (root || document).querySelectorAll("[data-error-for]").forEach(function (el) {
      el.textContent = "";
    });
  }

  // The envelope's `field` picks the error slot beside that field; else the form's own slot.
  function showError(root, error) {
    clearErrors(root);
    var scope = root || document;
    var field = (error && error.field) || "";
    var slot = field ? scope.querySelector('[data-error-for="' + CSS.escape(field) + '"]') : null;
    if (!slot) slot = scope.querySelector('[data-error-for=""]');
    if (slot) slot.textContent = (error && error.message) || "操作失败";
    return slot;
  }

  // Integer fen to yuan with two decimals, without floating point.
  function yuan(fen) {
    if (fen === null || fen === undefined) return "—";
    var negative = fen < 0;
    var abs = Math.abs(fen);
    var whole = Math.floor(abs / 100).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    var cents = ("0" + (abs % 100)).slice(-2);
    return (negative ? "-" : "") + whole + "." + cents;
  }

  function monthLabel(m) {
    var parts = String(m).split("-");
    return parts[0] + "年" + parts[1] + "月";
  }

  // An expected date from a provisional calendar year (the holiday notice is not out yet).
  function expectedDate(isoDate, provisional) {
    if (!isoDate) return "";
    return provisional ? "预计 " + isoDate + "（节假日安排尚未公布）" : isoDate;
  }

  function yearsMonths(months) {
    var years = Math.floor(months / 12);
    var rest = months % 12;
    return (years ? years + "年" : "") + (rest || !years ? rest + "个月" : "");
  }

  // 累计缴费年限 against the minimum in force (最低缴费年限), and what is still missing.
  function contributionYears(c) {
    if (!c) return "";
    var text = "已缴" + yearsMonths(c.months) + "，最低缴费年限" + yearsMonths(c.minimum_months);
    return text + (c.short_months ? "，尚差" + yearsMonths(c.short_months) : "，已满足");
  }

  // 城乡居民基本医疗保险 pays a coverage year, carried as its YYYY-01: shown as "YYYY年度".
  function periodLabel(insurance, m) {
    return insurance === "resident_medical" ? String(m).split("-")[0] + "年度" : monthLabel(m);
  }

  function dateTime(iso) {
    if (!iso) return "—";
    return String(iso).replace("T", " ").slice(0, 19);
  }

  function idTypeLabel(value) {
    var found = window.SB_VOCAB.idTypes.find(function (pair) { return pair[0] === value; });
    return found ? found[1] : value;
  }

  function requireSession() {
    if (!store.getItem("sb.token")) {
      window.location.replace("/h5/");
      return false;
    }
    return true;
  }

  function identity(form) {
    var trio = {
      id_type: form.querySelector("[name=id_type]").value,
      id_number: form.querySelector("[name=id_number]").value.trim(),
      name: form.querySelector("[name=name]").value.trim()
    };
    var block = form.querySelector("[data-captcha]");
    if (block && !block.hidden) {
      trio.captcha_id = block.dataset.captchaId || "";
      trio.captcha_answer = block.querySelector("[name=captcha_answer]").value.trim();
    }
    return trio;
  }

  async function refreshCaptcha(form) {
    var block = form.querySelector("[data-captcha]");
    var r = await api("GET", "/api/v1/captcha");
    if (!r.ok) { showError(form, Object.assign({}, r.data, { field: "captcha_answer" })); return; }
    block.dataset.captchaId = r.data.captcha_id;
    block.querySelector("[data-captcha-image]").src = r.data.image;
    block.querySelector("[name=captcha_answer]").value = "";
  }

  // After a request that carried the trio: past the identity's budget of failures the server
  // asks for a captcha (428); once shown, every further attempt needs a fresh one (single use).
  async function identityAnswered(form, r) {
    var block = form.querySelector("[data-captcha]");
    if (!block || r.ok) return;
    var code = r.data && r.data.code;
    if (block.hidden && code !== "CAPTCHA_REQUIRED") return;
    if (block.hidden) {
      block.hidden = false;
      block.querySelector("[data-captcha-image]").addEventListener("click", function () {
        refreshCaptcha(form);
      });
    }
    await refreshCaptcha(form);
    showError(form, r.data);
  }

  function text(id, value) {
    var el = document.getElementById(id);
    if (el) el.textContent = value;
    return el;
  }

  // WeChat's own browser (公众号 pages): its user agent says MicroMessenger.
  function inWeChat() { return /MicroMessenger/i.test(window.navigator.userAgent); }

  // Marks the page as wired (handlers attached, data loaded): tests and slow phones tap after it.
  function ready() { document.documentElement.dataset.ready = "true"; }

  window.SB = {
    store: store, getJSON: getJSON, setJSON: setJSON, newKey: newKey, api: api,
    clearErrors: clearErrors, showError: showError, yuan: yuan, monthLabel: monthLabel, periodLabel: periodLabel,
    expectedDate: expectedDate, contributionYears: contributionYears,
    dateTime: dateTime, idTypeLabel: idTypeLabel, requireSession: requireSession,
    identity: identity, identityAnswered: identityAnswered, text: text, ready: ready,
    inWeChat: inWeChat
  };
})();
