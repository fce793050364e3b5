// The agreement's drafting page: add term rows without a round trip, and offer the
// default and acceleration clause ticked once two payments by the same party to the
// same party make instalments. Without this script the page still works: it has one
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

  if (clause && offered) {
    clause.addEventListener("change", function () {
      offered.value = "True";
    });
    form.addEventListener("change", function () {
      if (offered.value !== "True" && hasInstalments()) {
        clause.checked = true;
        offered.value = "True";
      }
    });
  }
})();
