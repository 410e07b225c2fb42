/* Case files: pick or drop several files, give each its own document type and description,
   and send them one request per file with a progress bar. Without this script the form is a
   plain multipart POST of all chosen files. The server checks everything again; the checks here
   only spare sending a file that will be refused anyway. */
(function () {
  "use strict";

  function sizeText(bytes) {
    if (bytes < 1024) return bytes + " bytes";
    if (bytes < 1024 * 1024) return (bytes / 1024).toFixed(1) + " KB";
    return (bytes / 1024 / 1024).toFixed(1) + " MB";
  }

  function enhance(form) {
    if (form.dataset.enhanced) return;
    form.dataset.enhanced = "1";
    var input = form.querySelector("input[type=file]");
    var queue = form.querySelector("[data-queue]");
    var summary = form.querySelector("[data-summary]");
    var zone = form.querySelector("[data-dropzone]");
    var template = document.getElementById("upload-row");
    var csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
    var token = form.querySelector("input[name=token]").value;
    var maxBytes = parseInt(form.dataset.maxBytes, 10);
    var extensions = (form.dataset.extensions || "").split(",");
    var sharedType = form.querySelector("[data-shared] select");
    var counter = 0;
    var sending = false;

    form.querySelector("[data-shared]").hidden = true; // each file gets its own fields
    form.querySelector("[data-drop-hint]").hidden = false;
    input.removeAttribute("required");

    function localProblem(file) {
      var dot = file.name.lastIndexOf(".");
      var extension = dot >= 0 ? file.name.slice(dot).toLowerCase() : "";
      if (extensions.indexOf(extension) < 0) {
        return file.name + ": files of type " + (extension || "(none)") + " are not accepted by Debitura.";
      }
      if (file.size > maxBytes) return file.name + " is " + sizeText(file.size) + ", larger than 25 MB.";
      if (file.size === 0) return file.name + " is empty.";
      return "";
    }

    function add(files) {
      Array.prototype.forEach.call(files, function (file) {
        var row = template.content.firstElementChild.cloneNode(true);
        row.file = file;
        // One token per file for all its sends: a resend after an interrupted answer (the server
        // may have queued it) returns the first row instead of queueing the file again.
        row.token = token + ":js" + counter++;
        row.querySelector(".upload-name").textContent = file.name;
        row.querySelector(".upload-size").textContent = sizeText(file.size);
        row.querySelector("select").value = sharedType.value;
        row.querySelector("[data-remove]").addEventListener("click", function () {
          if (row.dataset.state !== "sending") row.remove();
        });
        var problem = localProblem(file);
        if (problem) {
          row.dataset.state = "refused";
          row.querySelector(".upload-status").textContent = problem;
        }
        queue.appendChild(row);
      });
      queue.hidden = !queue.children.length;
    }

    function sendOne(row) {
      return new Promise(function (resolve) {
        var bar = row.querySelector("progress");
        var status = row.querySelector(".upload-status");
        var data = new FormData();
        data.append("csrfmiddlewaretoken", csrf);
        data.append("documents", row.file, row.file.name);
        data.append("document_type", row.querySelector("select").value);
        data.append("description", row.querySelector("input[name=description]").value);
        data.append("token", row.token);
        var xhr = new XMLHttpRequest();
        xhr.open("POST", form.action);
        xhr.setRequestHeader("HX-Request", "true");
        xhr.upload.addEventListener("progress", function (event) {
          if (event.lengthComputable) bar.value = Math.round((event.loaded * 100) / event.total);
        });
        xhr.addEventListener("load", function () {
          // Signed out meanwhile: the answer is the login page the request was redirected to.
          if (xhr.responseURL && new URL(xhr.responseURL).pathname !== new URL(form.action, location.href).pathname) {
            row.dataset.state = "";
            bar.value = 0;
            status.textContent = "You were signed out, so nothing was uploaded: sign in again (in a new tab keeps this list), then press Upload.";
            resolve();
            return;
          }
          var ok = xhr.status === 200;
          row.dataset.state = ok ? "queued" : "refused";
          if (ok) bar.value = 100;
          // The server's answer is its own escaped HTML (documents/_files.html#upload_result).
          status.innerHTML = xhr.status === 200 || xhr.status === 400 ? xhr.responseText : "";
          if (!status.textContent.trim()) status.textContent = "The portal refused the upload (" + xhr.status + ").";
          resolve();
        });
        xhr.addEventListener("error", function () {
          row.dataset.state = "";
          status.textContent = "The upload was interrupted; press Upload to try again.";
          resolve();
        });
        row.dataset.state = "sending";
        status.textContent = "Uploading…";
        xhr.send(data);
      });
    }

    async function sendAll() {
      if (sending) return;
      sending = true;
      try {
        var rows = Array.prototype.filter.call(queue.children, function (row) {
          return !row.dataset.state;
        });
        for (var i = 0; i < rows.length; i++) await sendOne(rows[i]);
        // A queued file leaves this list: the Files table shows it from now on, pending until
        // Debitura has it, then as Debitura's file (it follows the case live).
        var queued = rows.filter(function (row) { return row.dataset.state === "queued"; });
        queued.forEach(function (row) { row.remove(); });
        queue.hidden = !queue.children.length;
        if (queued.length) {
          summary.textContent = queued.length + (queued.length === 1 ? " file" : " files") +
            " queued at " + new Date().toTimeString().slice(0, 5) + ": see Files below for where each stands.";
          summary.hidden = false;
        }
        // Ask the page's poller to look now rather than at its next tick.
        if (rows.length && window.htmx) window.htmx.trigger(document.body, "case-check");
      } finally {
        sending = false;
      }
    }

    input.addEventListener("change", function () {
      add(input.files);
      input.value = "";
    });
    ["dragenter", "dragover"].forEach(function (name) {
      zone.addEventListener(name, function (event) {
        event.preventDefault();
        zone.classList.add("dragging");
      });
    });
    ["dragleave", "drop"].forEach(function (name) {
      zone.addEventListener(name, function () {
        zone.classList.remove("dragging");
      });
    });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      add(event.dataTransfer.files);
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      sendAll();
    });
  }

  function start(root) {
    (root && root.querySelectorAll ? root : document).querySelectorAll("form.file-upload").forEach(enhance);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", function () { start(); });
  else start();
  // The form arrives again when the action panel is redrawn (the case's lifecycle changed).
  document.addEventListener("htmx:load", function (event) { start(event.target); });
})();
