// The signing form: draw on the canvas (or choose to type the name instead); the
// drawing travels as a PNG data URL in a hidden field.
(function () {
  "use strict";
  var form = document.querySelector("[data-sign-form]");
  if (!form || !window.SignaturePad) {
    return;
  }
  var canvas = form.querySelector("[data-signature-pad] canvas");
  var pad = new window.SignaturePad(canvas, { minWidth: 1.2, maxWidth: 3.2, penColor: "#14215a" });
  var hidden = form.querySelector("input[name=signature]");
  var area = form.querySelector("[data-signature-pad]");
  var typedHint = form.querySelector("[data-typed-hint]");

  // A drawing the server gave back after a refused attempt (a wrong password): it
  // is drawn again, so the signer need not draw it twice. Until they draw on, it
  // stays the signature sent.
  var restored = hidden.value.indexOf("data:image/png;base64,") === 0 ? hidden.value : "";

  function redraw() {
    return pad.fromDataURL(restored, {
      ratio: 1,
      width: canvas.offsetWidth,
      height: canvas.offsetHeight,
    });
  }

  function resize() {
    var ratio = Math.max(window.devicePixelRatio || 1, 1);
    var data = pad.toData();
    canvas.width = canvas.offsetWidth * ratio;
    canvas.height = canvas.offsetHeight * ratio;
    canvas.getContext("2d").scale(ratio, ratio);
    pad.clear();
    if (restored) {
      redraw();
    } else {
      pad.fromData(data);
    }
  }

  function method() {
    var checked = form.querySelector("input[name=method]:checked");
    return checked ? checked.value : "drawn";
  }

  function showMethod() {
    var drawn = method() === "drawn";
    area.hidden = !drawn;
    typedHint.hidden = drawn;
  }

  form.querySelector("[data-clear]").addEventListener("click", function () {
    restored = "";
    pad.clear();
  });
  pad.addEventListener("beginStroke", function () {
    // Drawing on the given-back signature makes a new one, the strokes over the image.
    if (restored) {
      restored = "";
    }
  });
  form.querySelectorAll("input[name=method]").forEach(function (input) {
    input.addEventListener("change", showMethod);
  });
  form.addEventListener("submit", function (event) {
    // "Text me a code" sends the form too, so that the drawing comes back with the page.
    var askingForCode = event.submitter && event.submitter.hasAttribute("data-send-code");
    if (method() === "drawn") {
      if (restored) {
        hidden.value = restored;
        return;
      }
      if (pad.isEmpty() && askingForCode) {
        hidden.value = "";
        return;
      }
      if (pad.isEmpty()) {
        event.preventDefault();
        window.alert(gettext("Draw your signature first, or choose to type your name."));
        return;
      }
      hidden.value = pad.toDataURL("image/png");
    } else {
      hidden.value = "";
    }
  });
  window.addEventListener("resize", resize);
  resize();
  showMethod();
})();
