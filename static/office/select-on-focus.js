// A field to copy from (a calendar link shown once) selects its whole text when it gets the focus.
(function () {
    "use strict";
    document.querySelectorAll("[data-select-on-focus]").forEach(function (field) {
        field.addEventListener("focus", function () {
            field.select();
        });
    });
})();
