// Shared helpers for the Tranche dashboard: the API, formatting, navigation.
"use strict";

const Tranche = (() => {
  async function api(path, options = {}) {
    let response;
    try {
      response = await fetch(path, {
        ...options,
        headers: { "Content-Type": "application/json", ...(options.headers || {}) },
      });
    } catch (e) {
      const error = new Error("the scheduler did not answer (is it running, is the network up?)");
      error.status = 0;
      throw error;
    }
    if (response.status === 401) {
      // no session, or it expired or was revoked: back to the login page, then here again
      location.assign("/login.html?next=" + encodeURIComponent(location.pathname + location.search));
      const error = new Error("not logged in");
      error.status = 401;
      throw error;
    }
    const text = await response.text();
    let body = {};
    try { body = text ? JSON.parse(text) : {}; } catch (e) { /* not the API's JSON (a proxy's error page): the status says it */ }
    if (!response.ok) {
      const error = new Error(body.message || response.statusText);
      error.code = body.code;
      error.status = response.status;
      throw error;
    }
    return body;
  }

  // who is logged in ({subject, role, projects}), asked once per page
  let sessionPromise = null;
  function session() {
    if (!sessionPromise) sessionPromise = api("/api/v1/session").then(body => body.token || {});
    return sessionPromise;
  }

  // what the dashboard offers: only what the token may do (the API refuses the rest anyway)
  function mayWrite(token, project) {
    return token.role === "ADMIN" || (token.role === "MEMBER" && (token.projects || []).includes(project));
  }

  function nav(active) {
    const pages = [["index.html", "Experiments"], ["cluster.html", "Cluster"], ["quotas.html", "Quotas"], ["usage.html", "Usage"]];
    const header = document.createElement("header");
    header.innerHTML = `<span class="brand">Tranche</span>` +
      pages.map(([href, title]) => `<a href="/${href}" class="${active === href ? "active" : ""}">${title}</a>`).join("");
    const who = document.createElement("span");
    who.className = "who";
    who.id = "who";
    header.append(who);
    document.body.prepend(header);
    session().then(token => {
      who.innerHTML = `${escape(token.subject)} <span class="muted">(${escape(String(token.role || "").toLowerCase())})</span> ` +
        `<button id="logout" class="secondary">Log out</button>`;
      document.getElementById("logout").addEventListener("click", async () => {
        await fetch("/api/v1/session", { method: "DELETE" });
        location.assign("/login.html");
      });
    }).catch(() => {});
  }

  // A load that failed: the server's message in a banner under the header until a load succeeds,
  // so a page never sits blank or stale without saying why.
  function failed(error) {
    if (error.status === 401) return;   // on the way to the login page
    let banner = document.getElementById("load-error");
    if (!banner) {
      banner = document.createElement("p");
      banner.id = "load-error";
      banner.className = "error";
      (document.querySelector("header") || document.body.firstChild).after(banner);
    }
    banner.innerHTML = `Could not load: ${escape(error.message)} <button class="secondary" id="load-reload">Reload</button>`;
    banner.hidden = false;
    document.getElementById("load-reload").addEventListener("click", () => location.reload());
  }

  function loaded() {
    const banner = document.getElementById("load-error");
    if (banner) banner.hidden = true;
  }

  function escape(text) {
    return String(text ?? "").replace(/[&<>"']/g, c => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;" })[c]);
  }

  function gpus(spec) {
    const gpu = spec.resources && spec.resources.gpu;
    if (!gpu) return "-";
    let one = "-";
    if (gpu.fraction) one = `${gpu.fraction} GPU`;
    else if (gpu.count) one = `${gpu.count} GPU${gpu.count > 1 ? "s" : ""}`;
    else if (gpu.memory_mib) one = `${gpu.memory_mib} MiB GPU`;
    const replicas = spec.replicas || 1;
    return replicas > 1 ? `${replicas} x ${one}` : one;
  }

  function age(timestamp) {
    const seconds = Math.max(0, Math.floor((Date.now() - Date.parse(timestamp)) / 1000));
    if (seconds < 120) return `${seconds}s`;
    if (seconds < 7200) return `${Math.floor(seconds / 60)}m`;
    if (seconds < 172800) return `${Math.floor(seconds / 3600)}h`;
    return `${Math.floor(seconds / 86400)}d`;
  }

  function time(timestamp) {
    return timestamp ? new Date(timestamp).toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC") : "";
  }

  function state(name) {
    return `<span class="state ${escape(name)}">${escape(name)}</span>`;
  }

  // A PENDING experiment's typed waiting reason, as a badge ("NO_FIT"); nothing when it has none.
  function waiting(experiment) {
    const w = experiment.waiting;
    return w && w.reason ? `<span class="waiting" title="why it waits">${escape(w.reason)}</span>` : "";
  }

  // What each fit check means, for the per-node counts of a NO_FIT or NEVER_FITS wait.
  const fitChecks = {
    NODE_UNSCHEDULABLE: "not schedulable", INSUFFICIENT_CPU: "lack CPU", INSUFFICIENT_MEMORY: "lack memory",
    TOO_FEW_GPUS: "have too few GPUs", NO_ALLOWED_GPU_MODEL: "have no GPU of an allowed model",
    GPU_MEMORY_TOO_SMALL: "have no GPU with enough memory", INSUFFICIENT_GPU: "lack free GPU",
    NODE_RESERVED: "held for a starving gang",
  };
  function fitCheck(name) {
    return fitChecks[name] || name;
  }

  // One colour per project, stable across pages.
  const palette = ["#2f6fdb", "#e07b39", "#2e9e6a", "#b5457a", "#7b5cd6", "#c9a227", "#2aa1b3", "#8d6e63", "#d64545", "#5c7c8a"];
  function colour(project) {
    let hash = 0;
    for (const c of project) hash = (hash * 31 + c.charCodeAt(0)) >>> 0;
    return palette[hash % palette.length];
  }

  // "1 epoch", "3 epochs"
  function count(n, singular, plural) {
    return `${n} ${Number(n) === 1 ? singular : (plural || singular + "s")}`;
  }

  // Live updates: onExperiment(message) for every change, and onReopen() once the stream is back after
  // a break (what changed meanwhile never comes as events). The page's #live element, if it has one,
  // says whether the stream is up. A watch the server ended for good (too many open for this token,
  // a client that fell behind) is closed rather than retried every few seconds, and the page says why;
  // so does a stream the browser gave up reopening (the server refused it, e.g. the session ended).
  function liveEvents(onExperiment, onReopen) {
    const events = new EventSource("/api/v1/events?skip_current=true");
    const status = text => { const live = document.getElementById("live"); if (live) live.textContent = text; };
    const stopped = why => {
      status("not live");
      let banner = document.getElementById("live-ended");
      if (!banner) {
        banner = document.createElement("p");
        banner.id = "live-ended";
        banner.className = "error";
        (document.querySelector("header") || document.body.firstChild).after(banner);
      }
      banner.innerHTML = `Live updates stopped: ${escape(why)} <button class="secondary" id="live-reload">Reload</button>`;
      document.getElementById("live-reload").addEventListener("click", () => location.reload());
    };
    events.addEventListener("experiment", onExperiment);
    events.addEventListener("watch-ended", message => {
      const ended = JSON.parse(message.data);
      if (ended.retry) return;   // the browser reconnects by itself
      events.close();
      stopped(ended.message);
    });
    let opened = false;
    events.onerror = () => {
      if (events.readyState === EventSource.CLOSED) stopped("the scheduler would not reopen the stream of changes (has your session ended?); reload the page.");
      else status("reconnecting...");
    };
    events.onopen = () => {
      status("live");
      if (opened && onReopen) onReopen();
      opened = true;
    };
    return events;
  }

  // run() 300 ms after the last of a burst of calls, but at most 2 s after the first: a steady stream
  // of events (several a second) would otherwise put it off for as long as the stream lasts.
  function debounced(run) {
    let timer = null;
    let first = 0;
    return () => {
      clearTimeout(timer);
      if (!first) first = Date.now();
      timer = setTimeout(() => { first = 0; run(); }, Math.max(0, Math.min(300, first + 2000 - Date.now())));
    };
  }

  function param(name) {
    return new URLSearchParams(location.search).get(name);
  }

  return { api, session, mayWrite, nav, failed, loaded, escape, gpus, age, time, state, waiting, fitCheck, colour, count, liveEvents, debounced, param };
})();
