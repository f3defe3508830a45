/* The dispatch board's drag and drop: move a visit along its lane or to another technician's, or drop a
   piece of unplanned work onto a lane. The drop fills in the page's move form (#board-move) and submits it;
   the server decides and the reloaded board says what happened. Without JavaScript every block has a
   move page, so nothing here is needed to plan. Pointer events, no library. */
(function () {
    "use strict";

    var grid = document.querySelector(".board-grid");
    var form = document.getElementById("board-move");
    if (!grid || !form) {
        return;
    }
    var first = Number(grid.dataset.firstMinute);
    var last = Number(grid.dataset.lastMinute);
    var snap = Number(grid.dataset.snap) || 5;
    var THRESHOLD = 4; // pixels before a press becomes a drag: a click still opens the visit
    var drag = null;
    var justDragged = false;

    function tracks() {
        return Array.prototype.slice.call(grid.querySelectorAll(".lane .track"));
    }

    function trackAt(x, y) {
        return tracks().find(function (track) {
            var box = track.getBoundingClientRect();
            return x >= box.left && x <= box.right && y >= box.top && y <= box.bottom;
        }) || null;
    }

    function minutesPerPixel(track) {
        return (last - first) / track.getBoundingClientRect().width;
    }

    function hhmm(minute) {
        var hours = Math.floor(minute / 60);
        var minutes = minute % 60;
        return (hours < 10 ? "0" : "") + hours + ":" + (minutes < 10 ? "0" : "") + minutes;
    }

    function percent(minute) {
        return ((minute - first) * 100) / (last - first) + "%";
    }

    function startAt(track, clientX) {
        var box = track.getBoundingClientRect();
        var raw = first + (clientX - box.left) * minutesPerPixel(track) - drag.grabMinutes;
        var snapped = Math.round(raw / snap) * snap;
        // A visit starts on the board's day; the server refuses one that would end after midnight.
        return Math.min(Math.max(snapped, 0), 1440 - snap);
    }

    function clearPreview() {
        if (drag && drag.preview) {
            drag.preview.remove();
            drag.preview = null;
        }
        tracks().forEach(function (track) {
            track.classList.remove("is-drop-target");
        });
    }

    function showPreview(track, minute) {
        clearPreview();
        track.classList.add("is-drop-target");
        var preview = document.createElement("div");
        preview.className = "block is-dragging " + drag.statusClass;
        preview.style.left = percent(minute);
        preview.style.width = (drag.duration * 100) / (last - first) + "%";
        preview.setAttribute("aria-hidden", "true");
        preview.textContent = drag.label;
        var time = document.createElement("span");
        time.className = "drag-time";
        time.textContent = hhmm(minute);
        preview.appendChild(time);
        track.appendChild(preview);
        drag.preview = preview;
    }

    function begin(event) {
        var source = event.target.closest(".block.is-movable, .unplanned-item");
        if (!source || event.button !== 0) {
            return;
        }
        var grabMinutes = 0;
        var track = source.closest(".track");
        if (track) {
            // Keep the grabbed point under the pointer: a block grabbed at its middle moves by its middle.
            grabMinutes = (event.clientX - source.getBoundingClientRect().left) * minutesPerPixel(track);
        }
        var name = source.querySelector("a");
        drag = {
            source: source,
            fromLane: Boolean(track),
            x: event.clientX,
            y: event.clientY,
            moving: false,
            grabMinutes: grabMinutes,
            duration: Number(source.dataset.duration) || 60,
            label: name ? name.textContent : "",
            statusClass: Array.prototype.find.call(source.classList, function (name) {
                return name.indexOf("status-") === 0;
            }) || "",
            preview: null,
            target: null,
            minute: null,
        };
    }

    function move(event) {
        if (!drag) {
            return;
        }
        if (!drag.moving) {
            if (Math.abs(event.clientX - drag.x) + Math.abs(event.clientY - drag.y) < THRESHOLD) {
                return;
            }
            drag.moving = true;
            drag.source.classList.add("is-dragging");
            document.body.classList.add("board-dragging");
        }
        event.preventDefault();
        var track = trackAt(event.clientX, event.clientY);
        if (!track) {
            clearPreview();
            drag.target = null;
            return;
        }
        drag.target = track;
        drag.minute = startAt(track, event.clientX);
        showPreview(track, drag.minute);
    }

    function submit(source, technician, minute) {
        var fields = form.elements;
        fields.appointment.value = source.dataset.appointment;
        fields.version.value = source.dataset.version;
        fields.technician.value = technician;
        fields.time.value = hhmm(minute);
        form.submit();
    }

    function end() {
        if (!drag) {
            return;
        }
        var current = drag;
        var moved = current.moving;
        clearPreview();
        current.source.classList.remove("is-dragging");
        document.body.classList.remove("board-dragging");
        drag = null;
        if (!moved) {
            return;
        }
        justDragged = true;
        window.setTimeout(function () {
            justDragged = false;
        }, 0);
        if (!current.target) {
            return;
        }
        var source = current.source;
        var technician = current.target.dataset.technician;
        var minute = current.minute;
        var sameLane = current.fromLane && technician === source.dataset.technician;
        if (sameLane && minute === Number(source.dataset.start)) {
            return;
        }
        var insideWindow =
            sameLane && minute >= Number(source.dataset.windowFrom) && minute < Number(source.dataset.windowUntil);
        if (!insideWindow) {
            var question = source.classList.contains("status-requested")
                ? grid.dataset.confirmRequest
                : grid.dataset.confirm;
            if (!window.confirm(question)) {
                return;
            }
        }
        submit(source, technician, minute);
    }

    function cancel() {
        if (drag) {
            clearPreview();
            drag.source.classList.remove("is-dragging");
            document.body.classList.remove("board-dragging");
            drag = null;
        }
    }

    // Links inside blocks would start the browser's own link drag instead of ours.
    document.querySelectorAll(".block.is-movable a, .unplanned-item a").forEach(function (link) {
        link.draggable = false;
    });
    document.addEventListener("pointerdown", begin);
    document.addEventListener("pointermove", move);
    document.addEventListener("pointerup", end);
    document.addEventListener("pointercancel", cancel);
    document.addEventListener("keydown", function (event) {
        if (event.key === "Escape") {
            cancel();
        }
    });
    // A drag ends with a click on whatever is under the pointer: it must not open the visit.
    document.addEventListener(
        "click",
        function (event) {
            if (justDragged) {
                event.preventDefault();
                event.stopPropagation();
            }
        },
        true
    );
})();
