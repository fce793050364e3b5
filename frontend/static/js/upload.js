// Uploads with a progress bar: the form is sent with XMLHttpRequest so the browser
// reports how much has gone; without JavaScript it posts as usual.
(function () {
  "use strict";
  document.querySelectorAll("form[data-upload]").forEach(function (form) {
    var bar = form.querySelector("[data-upload-progress]");
    var error = form.querySelector("[data-upload-error]");
    form.addEventListener("submit", function (event) {
      if (!window.FormData || !window.XMLHttpRequest) {
        return;
      }
      event.preventDefault();
      var request = new XMLHttpRequest();
      request.open("POST", form.action);
      request.setRequestHeader("Accept", "application/json");
      request.upload.addEventListener("progress", function (progress) {
        if (progress.lengthComputable) {
          bar.hidden = false;
          bar.value = Math.round((progress.loaded / progress.total) * 100);
        }
      });
      request.addEventListener("load", function () {
        if (request.status === 201) {
          window.location.reload();
          return;
        }
        var messages = [];
        try {
          var errors = JSON.parse(request.responseText).errors || {};
          Object.keys(errors).forEach(function (field) { messages = messages.concat(errors[field]); });
        } catch (parseError) {
          messages.push(gettext("The upload failed. Try again."));
        }
        bar.hidden = true;
        error.textContent = messages.join(" ");
        error.hidden = false;
      });
      request.addEventListener("error", function () {
        bar.hidden = true;
        error.textContent = gettext("The upload failed: check your connection and try again.");
        error.hidden = false;
      });
      error.hidden = true;
      bar.hidden = false;
      bar.value = 0;
      request.send(new FormData(form));
    });
  });
})();
