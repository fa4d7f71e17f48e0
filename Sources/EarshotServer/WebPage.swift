// WebPage: the self-contained page served at `/` (no build step, no CDN) for kiosks that are a browser:
// upload a file or record from the microphone (encoded to WAV in the page), pick a task (transcribe,
// translate, caption, ask, chat), watch the text stream in, download SRT/VTT/JSON of a transcript.
enum WebPage {
    static let html = #"""
<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Earshot</title>
<style>
body{font:16px/1.4 system-ui,sans-serif;max-width:52rem;margin:1.5rem auto;padding:0 1rem;color:#222}
h1{font-size:1.4rem;margin:0 0 .3rem} #model{color:#666;font-size:.9rem}
fieldset{border:1px solid #ccc;border-radius:.4rem;margin:.8rem 0;padding:.6rem .8rem}
button{font-size:1rem;padding:.35rem .8rem;margin:.2rem .3rem .2rem 0} input[type=text],input[type=password]{width:100%;box-sizing:border-box;font-size:1rem;padding:.3rem}
#output{white-space:pre-wrap;border:1px solid #ccc;border-radius:.4rem;min-height:6rem;padding:.6rem;background:#fafafa}
#status{color:#666;font-size:.9rem;margin:.3rem 0} .err{color:#b00}
</style></head><body>
<h1>Earshot</h1><div id="model">loading…</div>
<fieldset><legend>Audio</legend>
<input type="file" id="file" accept="audio/*,.wav,.mp3,.flac,.ogg,.opus">
<button id="rec">● Record</button><span id="recinfo"></span></fieldset>
<fieldset><legend>Task</legend>
<select id="task"><option value="transcribe">Transcribe</option><option value="translate">Translate to English</option>
<option value="caption">Caption</option><option value="ask">Ask about the audio</option><option value="chat">Chat</option></select>
<div id="qbox" style="display:none;margin-top:.5rem"><input type="text" id="question" placeholder="Your question or message"></div>
<div style="margin-top:.5rem"><button id="run">Run</button><button id="reset">New conversation</button></div>
<details style="margin-top:.4rem"><summary>API key</summary><input type="password" id="key" placeholder="only if the server was started with --api-key"></details>
</fieldset>
<div id="status"></div><div id="output" aria-live="polite"></div>
<div id="downloads" style="display:none"><button data-f="srt">Download SRT</button><button data-f="vtt">Download VTT</button><button data-f="json">Download JSON</button></div>
<script>
"use strict";
const $ = id => document.getElementById(id);
let recorded = null, transcript = null, history = [], endpoints = [];
const key = $("key"); key.value = localStorage.getItem("earshot-key") || "";
key.onchange = () => localStorage.setItem("earshot-key", key.value);
const auth = () => key.value ? {"Authorization": "Bearer " + key.value} : {};
const status = (t, err) => { $("status").textContent = t; $("status").className = err ? "err" : ""; };
async function models() {
  try {
    const r = await fetch("/v1/models", {headers: auth()}); const j = await r.json();
    if (!r.ok) throw new Error(j.error ? j.error.message : r.status);
    const m = j.data[0]; endpoints = m.earshot.endpoints;
    $("model").textContent = m.id + " · " + m.earshot.family + " · serves " + endpoints.join(", ");
    for (const o of $("task").options) {
      const need = {transcribe: "/v1/audio/transcriptions", translate: "/v1/audio/translations", caption: "/v1/audio/tasks",
                    ask: "/v1/audio/tasks", chat: "/v1/chat/completions"}[o.value];
      o.disabled = !endpoints.includes(need);
    }
  } catch (e) { $("model").textContent = "cannot list the model: " + e.message; }
}
$("task").onchange = () => { $("qbox").style.display = ["ask", "chat"].includes($("task").value) ? "" : "none"; };
$("file").onchange = () => { recorded = null; $("recinfo").textContent = ""; };
$("reset").onclick = () => { history = []; $("output").textContent = ""; status("new conversation"); };
// Recording: raw PCM from the microphone, encoded as 16-bit mono WAV (every server format reads it).
let rec = null;
$("rec").onclick = async () => {
  if (rec) { rec.stop(); return; }
  try {
    const stream = await navigator.mediaDevices.getUserMedia({audio: true});
    const ctx = new AudioContext(); const src = ctx.createMediaStreamSource(stream);
    const node = ctx.createScriptProcessor(4096, 1, 1); const chunks = [];
    node.onaudioprocess = e => chunks.push(new Float32Array(e.inputBuffer.getChannelData(0)));
    src.connect(node); node.connect(ctx.destination);
    $("rec").textContent = "■ Stop"; $("recinfo").textContent = " recording…";
    rec = {stop() {
      node.disconnect(); src.disconnect(); stream.getTracks().forEach(t => t.stop());
      recorded = wav(chunks, ctx.sampleRate); ctx.close(); rec = null;
      $("rec").textContent = "● Record"; $("recinfo").textContent = " recorded " + (recorded.size / 2 / ctx.sampleRate).toFixed(1) + " s";
    }};
  } catch (e) { status("microphone: " + e.message, true); }
};
function wav(chunks, rate) {
  const n = chunks.reduce((a, c) => a + c.length, 0), b = new DataView(new ArrayBuffer(44 + 2 * n));
  const s = (o, t) => { for (let i = 0; i < t.length; i++) b.setUint8(o + i, t.charCodeAt(i)); };
  s(0, "RIFF"); b.setUint32(4, 36 + 2 * n, true); s(8, "WAVEfmt "); b.setUint32(16, 16, true); b.setUint16(20, 1, true);
  b.setUint16(22, 1, true); b.setUint32(24, rate, true); b.setUint32(28, 2 * rate, true); b.setUint16(32, 2, true);
  b.setUint16(34, 16, true); s(36, "data"); b.setUint32(40, 2 * n, true);
  let o = 44; for (const c of chunks) for (const v of c) { b.setInt16(o, Math.max(-1, Math.min(1, v)) * 32767, true); o += 2; }
  return new Blob([b], {type: "audio/wav"});
}
function audio() {
  if (recorded) return {blob: recorded, name: "recording.wav", format: "wav"};
  const f = $("file").files[0]; if (!f) return null;
  const ext = (f.name.split(".").pop() || "wav").toLowerCase();
  return {blob: f, name: f.name, format: ["wav", "mp3", "flac", "ogg"].includes(ext) ? ext : (ext === "opus" ? "ogg" : "wav")};
}
async function fail(r) { let m = r.status + ""; try { const j = await r.json(); m = j.error.message; } catch (_) {} throw new Error(m); }
$("run").onclick = async () => {
  const task = $("task").value, a = audio(), out = $("output");
  $("downloads").style.display = "none"; transcript = null;
  if (!a && task !== "chat") { status("choose a file or record first", true); return; }
  status("working…"); $("run").disabled = true;
  try {
    if (task === "transcribe" || task === "translate") {
      const fd = new FormData(); fd.append("file", a.blob, a.name); fd.append("response_format", "verbose_json");
      const r = await fetch("/v1/audio/" + (task === "transcribe" ? "transcriptions" : "translations"), {method: "POST", body: fd, headers: auth()});
      if (!r.ok) await fail(r);
      transcript = await r.json(); out.textContent = transcript.text; $("downloads").style.display = "";
    } else if (task === "caption" || task === "ask") {
      const fd = new FormData(); fd.append("file", a.blob, a.name); fd.append("task", task);
      if (task === "ask") fd.append("question", $("question").value);
      const r = await fetch("/v1/audio/tasks", {method: "POST", body: fd, headers: auth()});
      if (!r.ok) await fail(r);
      out.textContent = (await r.json()).text;
    } else {
      const parts = [];
      if (a) parts.push({type: "input_audio", input_audio: {data: await base64(a.blob), format: a.format}});
      parts.push({type: "text", text: $("question").value || "What is in this audio?"});
      history.push({role: "user", content: parts});
      const r = await fetch("/v1/chat/completions", {method: "POST", headers: Object.assign({"Content-Type": "application/json"}, auth()),
                                                    body: JSON.stringify({messages: history, stream: true})});
      if (!r.ok) { history.pop(); await fail(r); }
      const reader = r.body.getReader(), dec = new TextDecoder(); let buf = "", reply = "";
      out.textContent += (out.textContent ? "\n\n" : "") + "› " + parts[parts.length - 1].text + "\n";
      for (;;) {
        const {value, done} = await reader.read(); if (done) break;
        buf += dec.decode(value, {stream: true}); let i;
        while ((i = buf.indexOf("\n\n")) >= 0) {
          const ev = buf.slice(0, i); buf = buf.slice(i + 2);
          if (!ev.startsWith("data: ") || ev === "data: [DONE]") continue;
          const j = JSON.parse(ev.slice(6));
          if (j.error) throw new Error(j.error.message);
          const d = j.choices && j.choices[0] && j.choices[0].delta;
          if (d && d.content) { reply += d.content; out.textContent += d.content; }
        }
      }
      history.push({role: "assistant", content: reply.trim()});
      $("recinfo").textContent = ""; recorded = null; $("file").value = "";
    }
    status("done");
  } catch (e) { status(e.message, true); } finally { $("run").disabled = false; }
};
function base64(blob) {
  return new Promise((ok, no) => { const r = new FileReader(); r.onload = () => ok(r.result.split(",")[1]); r.onerror = no; r.readAsDataURL(blob); });
}
const clock = (t, sep) => { const ms = Math.round(t * 1000), p = (v, n) => String(v).padStart(n, "0");
  return p(Math.floor(ms / 3600000), 2) + ":" + p(Math.floor(ms / 60000) % 60, 2) + ":" + p(Math.floor(ms / 1000) % 60, 2) + sep + p(ms % 1000, 3); };
for (const b of $("downloads").querySelectorAll("button")) b.onclick = () => {
  const f = b.dataset.f, segs = transcript.segments || [];
  const text = f === "json" ? JSON.stringify(transcript, null, 2)
    : f === "srt" ? segs.map((s, i) => (i + 1) + "\n" + clock(s.start, ",") + " --> " + clock(s.end, ",") + "\n" + s.text.trim() + "\n").join("\n")
    : "WEBVTT\n\n" + segs.map(s => clock(s.start, ".") + " --> " + clock(s.end, ".") + "\n" + s.text.trim() + "\n").join("\n");
  const url = URL.createObjectURL(new Blob([text], {type: "text/plain"})), l = document.createElement("a");
  l.href = url; l.download = "transcript." + f; l.click(); URL.revokeObjectURL(url);
};
models();
</script></body></html>
"""#
}
