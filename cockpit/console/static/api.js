// The REST client every page uses: the signed-in key on every call, errors as ApiError.

const KEY = "cockpit.key";

export class ApiError extends Error {
  constructor(status, body) {
    const b = body && typeof body === "object" ? body : {};
    super(b.message || `the server answered ${status}`);
    this.status = status;
    this.type = b.type || (status === 0 ? "network_error" : "api_error");
    this.code = b.code || (status === 0 ? "unreachable" : `http_${status}`);
    this.param = b.param ?? null;
    this.details = b.details ?? null;
  }
}

export const session = {
  key: () => sessionStorage.getItem(KEY),
  set: (key) => sessionStorage.setItem(KEY, key),
  clear: () => sessionStorage.removeItem(KEY),
};

function url(path, query) {
  const u = new URL(path, location.origin);
  for (const [k, v] of Object.entries(query || {})) {
    if (v === undefined || v === null || v === "") continue;
    for (const item of Array.isArray(v) ? v : [v]) u.searchParams.append(k, String(item));
  }
  return u.pathname + u.search;
}

function headers(extra, key) {
  const h = { accept: "application/json", ...(extra || {}) };
  const k = key ?? session.key();
  if (k) h["x-api-key"] = k;
  return h;
}

async function fail(res) {
  let body = null;
  try {
    body = await res.json();
  } catch {
    body = { message: `the server answered ${res.status} ${res.statusText}` };
  }
  return new ApiError(res.status, body);
}

async function send(method, path, body, opts = {}) {
  const h = headers(opts.headers, opts.key);
  let payload;
  if (body instanceof FormData || typeof body === "string") payload = body;
  else if (body !== undefined) {
    payload = JSON.stringify(body);
    h["content-type"] = "application/json";
  }
  let res;
  try {
    res = await fetch(url(path, opts.query), { method, headers: h, body: payload, signal: opts.signal });
  } catch (e) {
    if (e.name === "AbortError") throw e;
    throw new ApiError(0, { message: "cannot reach the Cockpit server" });
  }
  if (!res.ok) throw await fail(res);
  if (opts.raw) return res;
  if (res.status === 204) return null;
  const type = res.headers.get("content-type") || "";
  return type.includes("json") ? res.json() : res.text();
}

// Server-sent events from a POST: onEvent({event, data}) per event, data parsed as JSON.
async function stream(path, body, onEvent, opts = {}) {
  const res = await send("POST", path, body, { ...opts, raw: true, headers: { accept: "text/event-stream" } });
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  const flush = (block) => {
    let event = "message";
    const data = [];
    for (const line of block.split("\n")) {
      if (line.startsWith("event:")) event = line.slice(6).trim();
      else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
    }
    if (!data.length) return;
    let parsed = data.join("\n");
    try {
      parsed = JSON.parse(parsed);
    } catch {
      /* not JSON: hand over the text */
    }
    onEvent({ event, data: parsed });
  };
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true }).replace(/\r\n/g, "\n");
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      flush(buffer.slice(0, cut));
      buffer = buffer.slice(cut + 2);
    }
  }
  if (buffer.trim()) flush(buffer);
}

// Multipart upload with progress (0..1); resolves with the parsed answer.
function upload(path, formData, onProgress, opts = {}) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(opts.method || "POST", url(path, opts.query));
    for (const [k, v] of Object.entries(headers(opts.headers))) xhr.setRequestHeader(k, v);
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress && onProgress(e.loaded / e.total);
    xhr.onerror = () => reject(new ApiError(0, { message: "cannot reach the Cockpit server" }));
    xhr.onload = () => {
      let body = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        body = xhr.responseText;
      }
      if (xhr.status >= 200 && xhr.status < 300) {
        if (onProgress) onProgress(1);
        resolve(body);
      } else reject(new ApiError(xhr.status, body));
    };
    xhr.send(formData);
  });
}

// Fetch with the key and save the answer as a file.
async function download(path, filename, opts = {}) {
  const res = await send("GET", path, undefined, { ...opts, raw: true, headers: { accept: "*/*" } });
  const blob = await res.blob();
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  return blob;
}

export const api = {
  get: (path, query, opts = {}) => send("GET", path, undefined, { ...opts, query }),
  post: (path, body, opts) => send("POST", path, body, opts),
  put: (path, body, opts) => send("PUT", path, body, opts),
  patch: (path, body, opts) => send("PATCH", path, body, opts),
  del: (path, opts) => send("DELETE", path, undefined, opts),
  stream,
  upload,
  download,
};
