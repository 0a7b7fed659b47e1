// Microblog's few lines of script; every page works without them.
// 1. Follow / Unfollow buttons update in place (the form posts as usual when this fails).
// 2. Times: the exact time in an anonymous reader's own zone on hover; relative words kept fresh.
// 3. The post box counts down its 280 characters.
"use strict";

document.addEventListener("submit", async (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-follow")) return;
  event.preventDefault();
  const button = form.querySelector("button");
  button.disabled = true;
  try {
    const response = await fetch(form.action, {
      method: "POST", body: new FormData(form), credentials: "same-origin",
      headers: { "Accept": "application/json" },
    });
    const type = response.headers.get("Content-Type") || "";
    if (!type.startsWith("application/json")) { form.submit(); return; }
    const answer = await response.json();
    for (const token of document.querySelectorAll("input[name=csrf_token]")) token.value = answer.csrf_token;
    form.action = answer.action;
    button.textContent = answer.label;
    button.setAttribute("aria-label", answer.aria_label);
    button.className = answer.following ? "secondary" : "primary";
    for (const count of document.querySelectorAll("[data-followers][data-user='" + answer.user + "']")) {
      count.innerHTML = answer.followers_html;
    }
    announce(answer.message);
  } catch (error) {
    form.submit();
  } finally {
    button.disabled = false;
  }
});

function announce(message) {
  const region = document.getElementById("live");  // base.html's status region, there from the start
  const list = Object.assign(document.createElement("ul"), { className: "flashes" });
  list.append(Object.assign(document.createElement("li"), { textContent: message }));
  region.replaceChildren(list);
}

function refreshTimes() {
  const lang = document.documentElement.lang || "en";
  const anonymous = !document.documentElement.dataset.zone;
  const relative = new Intl.RelativeTimeFormat(lang, { numeric: "auto" });
  const exact = new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeStyle: "short", timeZoneName: "short" });
  const now = Date.now();
  for (const time of document.querySelectorAll("time[data-relative]")) {
    const moment = new Date(time.dateTime);
    if (isNaN(moment)) continue;
    if (anonymous) time.title = exact.format(moment);
    const minutes = Math.round((moment - now) / 60000);
    if (minutes > -1) continue;  // "just now" stays as the server wrote it
    const [value, unit] = Math.abs(minutes) < 60 ? [minutes, "minute"]
      : Math.abs(minutes) < 1440 ? [Math.round(minutes / 60), "hour"]
      : Math.abs(minutes) < 43200 ? [Math.round(minutes / 1440), "day"] : [null, null];
    if (unit) time.textContent = relative.format(value, unit);
  }
}

function countDown() {
  for (const box of document.querySelectorAll("textarea[data-counter]")) {
    const counter = document.getElementById(box.dataset.counter);
    const max = Number(box.getAttribute("maxlength")) || 280;
    const words = counter.dataset.left || counter.textContent;
    counter.dataset.left = words;
    const update = () => { counter.textContent = (max - box.value.length) + " / " + max; };
    box.addEventListener("input", update);
  }
}

document.addEventListener("DOMContentLoaded", () => {
  refreshTimes();
  countDown();
  setInterval(refreshTimes, 60000);
});
