// The agreement's drafting page: add term rows without a round trip, preview the
// instalment schedule, and offer the default and acceleration clause ticked once two
// payments by the same party to the same party (or a schedule) make instalments. Without this script the page still works: it has one
// empty row, and the server offers the clause on the next visit.
(function () {
  "use strict";
  var form = document.querySelector("[data-agreement-form]");
  if (!form) {
    return;
  }
  var list = form.querySelector("[data-terms]");
  var template = form.querySelector("[data-term-template]");
  var total = form.querySelector("input[name='terms-TOTAL_FORMS']");
  var maximum = form.querySelector("input[name='terms-MAX_NUM_FORMS']");
  var add = form.querySelector("[data-add-term]");
  var hint = form.querySelector("[data-add-term-hint]");

  if (list && template && total && add) {
    add.hidden = false;
    if (hint) {
      hint.hidden = true;
    }
    add.addEventListener("click", function () {
      var index = parseInt(total.value, 10);
      if (maximum && index >= parseInt(maximum.value, 10)) {
        return;
      }
      var html = template.innerHTML.replace(/__prefix__/g, String(index)).replace(/__number__/g, String(index + 1));
      list.insertAdjacentHTML("beforeend", html);
      total.value = String(index + 1);
      var added = list.lastElementChild;
      var first = added && added.querySelector("select, input, textarea");
      if (first) {
        first.focus();
      }
    });
  }

  var clause = form.querySelector("input[name='default_clause']");
  var offered = form.querySelector("input[name='default_clause_offered']");

  function hasInstalments() {
    var counts = {};
    var rows = list ? list.querySelectorAll("[data-term]") : [];
    for (var i = 0; i < rows.length; i += 1) {
      var kind = rows[i].querySelector("select[name$='-kind']");
      var obligor = rows[i].querySelector("select[name$='-obligor']");
      var obligee = rows[i].querySelector("select[name$='-obligee']");
      var removed = rows[i].querySelector("input[name$='-DELETE']");
      if (kind && kind.value === "payment" && obligor && obligee && obligor.value && obligee.value && !(removed && removed.checked)) {
        var pair = obligor.value + ">" + obligee.value;
        counts[pair] = (counts[pair] || 0) + 1;
        if (counts[pair] > 1) {
          return true;
        }
      }
    }
    return false;
  }

  // The instalment schedule: a preview of the terms saving will make. The server makes
  // them (documents.services.agreement_content.instalment_terms) and is the truth;
  // this repeats its arithmetic in whole cents only to show it before saving.
  var schedule = form.querySelector("[data-instalment-schedule]");
  var preview = schedule && schedule.querySelector("[data-schedule-preview]");
  var previewList = schedule && schedule.querySelector("[data-schedule-preview-list]");

  function scheduleField(name) {
    return schedule ? schedule.querySelector("[name='schedule-" + name + "']") : null;
  }

  function pad(number) {
    return (number < 10 ? "0" : "") + String(number);
  }

  function isoDate(date) {
    return date.getUTCFullYear() + "-" + pad(date.getUTCMonth() + 1) + "-" + pad(date.getUTCDate());
  }

  function scheduleRows() {
    var total = scheduleField("total");
    var count = scheduleField("count");
    var first = scheduleField("first_due");
    var interval = scheduleField("interval");
    var days = scheduleField("interval_days");
    if (!total || !count || !first) {
      return [];
    }
    var cents = Math.round(parseFloat(total.value) * 100);
    var n = parseInt(count.value, 10);
    var parts = /^(\d{4})-(\d{2})-(\d{2})$/.exec(first.value);
    var everyDays = interval && interval.value === "days" ? parseInt(days && days.value, 10) : 0;
    if (!(cents > 0) || !(n >= 2 && n <= 24) || !parts || Math.floor(cents / n) < 1) {
      return [];
    }
    if (interval && interval.value === "days" && !(everyDays >= 1 && everyDays <= 366)) {
      return [];
    }
    var year = parseInt(parts[1], 10);
    var month = parseInt(parts[2], 10) - 1;
    var day = parseInt(parts[3], 10);
    var share = Math.floor(cents / n);
    var rows = [];
    for (var k = 0; k < n; k += 1) {
      var due;
      if (everyDays) {
        due = new Date(Date.UTC(year, month, day + everyDays * k));
      } else {
        var lastDay = new Date(Date.UTC(year, month + k + 1, 0)).getUTCDate();
        due = new Date(Date.UTC(year, month + k, Math.min(day, lastDay)));
      }
      var amount = k < n - 1 ? share : cents - share * (n - 1);
      rows.push({ due: isoDate(due), amount: (amount / 100).toLocaleString("en-US", { minimumFractionDigits: 2 }) });
    }
    return rows;
  }

  function showPreview() {
    if (!preview || !previewList) {
      return;
    }
    var rows = scheduleRows();
    while (previewList.firstChild) {
      previewList.removeChild(previewList.firstChild);
    }
    rows.forEach(function (row) {
      var item = document.createElement("li");
      item.textContent = row.due + " · " + row.amount;
      previewList.appendChild(item);
    });
    preview.hidden = rows.length === 0;
  }

  if (schedule) {
    schedule.addEventListener("input", showPreview);
    schedule.addEventListener("change", showPreview);
    showPreview();
  }

  function scheduleMakesInstalments() {
    var obligor = scheduleField("obligor");
    var obligee = scheduleField("obligee");
    return Boolean(obligor && obligee && obligor.value && obligee.value && scheduleRows().length);
  }

  if (clause && offered) {
    clause.addEventListener("change", function () {
      offered.value = "True";
    });
    form.addEventListener("change", function () {
      if (offered.value !== "True" && (hasInstalments() || scheduleMakesInstalments())) {
        clause.checked = true;
        offered.value = "True";
      }
    });
  }
})();
