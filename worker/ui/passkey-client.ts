/**
 * /passkeys/client.js: the only script of the hosted pages. It runs the WebAuthn ceremonies
 * against /passkeys/* (JSON over fetch, same origin) and navigates where the server says.
 * Plain ES2017, no framework; buffers travel as base64url.
 */
export const PASSKEY_CLIENT_JS = `(() => {
  "use strict";
  const b64 = (buf) => btoa(String.fromCharCode(...new Uint8Array(buf))).replace(/\\+/g, "-").replace(/\\//g, "_").replace(/=+$/, "");
  const buf = (s) => Uint8Array.from(atob(s.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((s.length + 3) % 4)), (c) => c.charCodeAt(0));
  const errorSlot = () => document.querySelector("[data-passkey-error]");
  function showError(message) {
    const el = errorSlot();
    if (el) { el.textContent = message; el.hidden = false; } else { alert(message); }
  }
  async function post(path, body) {
    const res = await fetch(path, { method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    const data = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(data.error_description || data.error || ("HTTP " + res.status));
    return data;
  }
  function creationOptions(o) {
    return Object.assign({}, o, {
      challenge: buf(o.challenge),
      user: Object.assign({}, o.user, { id: buf(o.user.id) }),
      excludeCredentials: (o.excludeCredentials || []).map((c) => Object.assign({}, c, { id: buf(c.id) })),
    });
  }
  function requestOptions(o) {
    return Object.assign({}, o, {
      challenge: buf(o.challenge),
      allowCredentials: (o.allowCredentials || []).map((c) => Object.assign({}, c, { id: buf(c.id) })),
    });
  }
  function credentialJSON(cred) {
    const r = cred.response;
    const response = { clientDataJSON: b64(r.clientDataJSON) };
    if (r.attestationObject) {
      response.attestationObject = b64(r.attestationObject);
      response.transports = typeof r.getTransports === "function" ? r.getTransports() : [];
    } else {
      response.authenticatorData = b64(r.authenticatorData);
      response.signature = b64(r.signature);
      if (r.userHandle) response.userHandle = b64(r.userHandle);
    }
    return { id: cred.id, rawId: b64(cred.rawId), type: cred.type, response, clientExtensionResults: cred.getClientExtensionResults(), authenticatorAttachment: cred.authenticatorAttachment || undefined };
  }
  async function signIn(next) {
    const start = await post("/passkeys/authenticate/options", {});
    const cred = await navigator.credentials.get({ publicKey: requestOptions(start.options) });
    const done = await post("/passkeys/authenticate/verify", { challenge_id: start.challenge_id, response: credentialJSON(cred), continue: next });
    location.assign(done.redirect);
  }
  async function enrol(button) {
    let start;
    if (button.dataset.challengeId) start = { challenge_id: button.dataset.challengeId, options: JSON.parse(button.dataset.options) };
    else start = await post("/passkeys/register/options", {});
    const cred = await navigator.credentials.create({ publicKey: creationOptions(start.options) });
    const done = await post("/passkeys/register/verify", { challenge_id: start.challenge_id, response: credentialJSON(cred) });
    // passkey_required: enrolment alone is not a sign-in; sign in with the new passkey now.
    if (done.next === "authenticate") return signIn(button.dataset.continue);
    location.assign(button.dataset.continue || "/passkeys");
  }
  function wire(selector, run) {
    for (const button of document.querySelectorAll(selector)) {
      button.addEventListener("click", async () => {
        if (!window.PublicKeyCredential) return showError("This browser does not support passkeys.");
        button.disabled = true;
        try { await run(button); } catch (err) { showError(err && err.message ? err.message : String(err)); }
        finally { button.disabled = false; }
      });
    }
  }
  wire("[data-passkey-signin]", (b) => signIn(b.dataset.continue));
  wire("[data-passkey-enrol]", enrol);
})();
`;
