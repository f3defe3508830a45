// "Add my location" on the not-home form: asked only when pressed, never required.
// Without JavaScript, or on a phone that cannot tell, the form works without it.
(function () {
  "use strict";
  var box = document.getElementById("location");
  if (!box) return;
  var button = document.getElementById("locate");
  var status = document.getElementById("location-status");
  var form = button.form;
  box.hidden = false;
  if (!("geolocation" in navigator)) {
    button.hidden = true;
    status.textContent = box.dataset.unsupported;
    return;
  }
  function fill(latitude, longitude, accuracy) {
    form.elements.latitude.value = latitude;
    form.elements.longitude.value = longitude;
    form.elements.location_accuracy_m.value = accuracy;
  }
  button.addEventListener("click", function () {
    button.disabled = true;
    status.textContent = box.dataset.finding;
    navigator.geolocation.getCurrentPosition(
      function (position) {
        var accuracy = Math.round(position.coords.accuracy);
        fill(position.coords.latitude.toFixed(6), position.coords.longitude.toFixed(6), accuracy);
        status.textContent = box.dataset.added.replace("{metres}", accuracy);
        button.disabled = false;
      },
      function (error) {
        fill("", "", "");
        status.textContent = error.code === error.PERMISSION_DENIED ? box.dataset.denied : box.dataset.unavailable;
        button.disabled = false;
      },
      { enableHighAccuracy: true, timeout: 20000, maximumAge: 60000 }
    );
  });
})();
