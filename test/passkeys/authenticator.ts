/**
 * A software WebAuthn authenticator for tests: ES256 (P-256 via WebCrypto) or Ed25519 keys,
 * attestation `fmt: "none"`, clientDataJSON / authenticatorData / COSE keys built by hand
 * with the tiny CBOR encoder below. Every field can be bent to test a refusal.
 */

type Cbor = number | string | Uint8Array | Cbor[] | Map<Cbor, Cbor> | { [k: string]: Cbor };

function head(major: number, value: number): number[] {
  if (value < 24) return [(major << 5) | value];
  if (value < 0x100) return [(major << 5) | 24, value];
  if (value < 0x10000) return [(major << 5) | 25, value >> 8, value & 0xff];
  return [(major << 5) | 26, (value >>> 24) & 0xff, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff];
}

/** Canonical enough for WebAuthn: unsigned/negative ints, byte and text strings, arrays, maps. */
export function cbor(value: Cbor): Uint8Array {
  const out: number[] = [];
  const enc = (v: Cbor): void => {
    if (typeof v === "number") {
      if (!Number.isInteger(v)) throw new Error("cbor: integers only");
      out.push(...(v >= 0 ? head(0, v) : head(1, -1 - v)));
    } else if (typeof v === "string") {
      const bytes = new TextEncoder().encode(v);
      out.push(...head(3, bytes.length), ...bytes);
    } else if (v instanceof Uint8Array) {
      out.push(...head(2, v.length), ...v);
    } else if (Array.isArray(v)) {
      out.push(...head(4, v.length));
      v.forEach(enc);
    } else {
      const entries = v instanceof Map ? [...v.entries()] : Object.entries(v);
      out.push(...head(5, entries.length));
      for (const [k, val] of entries) {
        enc(k);
        enc(val);
      }
    }
  };
  enc(value);
  return new Uint8Array(out);
}

export function b64url(bytes: Uint8Array | ArrayBuffer): string {
  const u = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let s = "";
  for (const b of u) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function fromB64url(text: string): Uint8Array {
  return Uint8Array.from(atob(text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4)), (c) => c.charCodeAt(0));
}

const concat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};

const sha256 = async (data: Uint8Array) => new Uint8Array(await crypto.subtle.digest("SHA-256", data));

/** ECDSA P1363 (r||s) → ASN.1 DER, as WebAuthn wants it. */
function derSignature(raw: Uint8Array): Uint8Array {
  const int = (x: Uint8Array) => {
    let i = 0;
    while (i < x.length - 1 && x[i] === 0) i++;
    let v = x.slice(i);
    if (v[0]! & 0x80) v = concat(new Uint8Array([0]), v);
    return concat(new Uint8Array([0x02, v.length]), v);
  };
  const body = concat(int(raw.slice(0, 32)), int(raw.slice(32)));
  return concat(new Uint8Array([0x30, body.length]), body);
}

export type Alg = "ES256" | "Ed25519";

export interface Bend {
  origin?: string;
  rpId?: string;
  type?: string;
  challenge?: string;
  counter?: number;
  userVerified?: boolean;
  /** Sign with this authenticator's key instead (a different key). */
  signer?: SoftAuthenticator;
  /** Present this credential id instead. */
  credentialId?: Uint8Array;
  userHandle?: string | null;
}

export class SoftAuthenticator {
  readonly credentialId = crypto.getRandomValues(new Uint8Array(16));
  counter: number;
  userHandle: string | null = null;
  private keys!: CryptoKeyPair;

  private constructor(readonly alg: Alg, opts: { counter?: number }) {
    this.counter = opts.counter ?? 0;
  }

  /** `counter`: 0 keeps the signature counter unused (as most platform authenticators do). */
  static async create(alg: Alg, opts: { counter?: number } = {}): Promise<SoftAuthenticator> {
    const a = new SoftAuthenticator(alg, opts);
    a.keys =
      alg === "ES256"
        ? ((await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"])) as CryptoKeyPair)
        : ((await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"])) as CryptoKeyPair);
    return a;
  }

  get id(): string {
    return b64url(this.credentialId);
  }

  async coseKey(): Promise<Uint8Array> {
    const raw = new Uint8Array((await crypto.subtle.exportKey("raw", this.keys.publicKey)) as ArrayBuffer);
    if (this.alg === "ES256") {
      return cbor(new Map<Cbor, Cbor>([[1, 2], [3, -7], [-1, 1], [-2, raw.slice(1, 33)], [-3, raw.slice(33, 65)]]));
    }
    return cbor(new Map<Cbor, Cbor>([[1, 1], [3, -8], [-1, 6], [-2, raw]]));
  }

  async sign(data: Uint8Array): Promise<Uint8Array> {
    if (this.alg === "ES256") {
      const raw = new Uint8Array(await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, this.keys.privateKey, data));
      return derSignature(raw);
    }
    return new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, this.keys.privateKey, data));
  }

  private async authData(rpId: string, flags: number, counter: number, attested?: Uint8Array): Promise<Uint8Array> {
    const c = new Uint8Array([(counter >>> 24) & 0xff, (counter >>> 16) & 0xff, (counter >>> 8) & 0xff, counter & 0xff]);
    return concat(await sha256(new TextEncoder().encode(rpId)), new Uint8Array([flags]), c, attested ?? new Uint8Array());
  }

  private clientData(type: string, challenge: string, origin: string): Uint8Array {
    return new TextEncoder().encode(JSON.stringify({ type, challenge, origin, crossOrigin: false }));
  }

  /** navigator.credentials.create() for creation options (the JSON form the server sent). */
  async register(options: { challenge: string; rp: { id?: string }; user: { id: string } }, origin: string, bend: Bend = {}) {
    const rpId = bend.rpId ?? options.rp.id ?? new URL(origin).hostname;
    this.userHandle = options.user.id;
    const flags = 0x01 | (bend.userVerified === false ? 0 : 0x04) | 0x40;
    const attested = concat(new Uint8Array(16), new Uint8Array([0, this.credentialId.length]), this.credentialId, await this.coseKey());
    const authData = await this.authData(rpId, flags, bend.counter ?? this.counter, attested);
    const attestationObject = cbor({ fmt: "none", attStmt: {}, authData });
    const clientDataJSON = this.clientData(bend.type ?? "webauthn.create", bend.challenge ?? options.challenge, bend.origin ?? origin);
    return {
      id: this.id,
      rawId: this.id,
      type: "public-key",
      response: { clientDataJSON: b64url(clientDataJSON), attestationObject: b64url(attestationObject), transports: ["internal"] },
      clientExtensionResults: {},
      authenticatorAttachment: "platform",
    };
  }

  /** navigator.credentials.get() for request options. Bumps the counter when counters are in use. */
  async assert(options: { challenge: string; rpId?: string }, origin: string, bend: Bend = {}) {
    const rpId = bend.rpId ?? options.rpId ?? new URL(origin).hostname;
    if (this.counter > 0 && bend.counter === undefined) this.counter += 1;
    const flags = 0x01 | (bend.userVerified === false ? 0 : 0x04);
    const authData = await this.authData(rpId, flags, bend.counter ?? this.counter);
    const clientDataJSON = this.clientData(bend.type ?? "webauthn.get", bend.challenge ?? options.challenge, bend.origin ?? origin);
    const signature = await (bend.signer ?? this).sign(concat(authData, await sha256(clientDataJSON)));
    const id = bend.credentialId ? b64url(bend.credentialId) : this.id;
    const handle = bend.userHandle === undefined ? this.userHandle : bend.userHandle;
    return {
      id,
      rawId: id,
      type: "public-key",
      response: {
        clientDataJSON: b64url(clientDataJSON),
        authenticatorData: b64url(authData),
        signature: b64url(signature),
        ...(handle ? { userHandle: handle } : {}),
      },
      clientExtensionResults: {},
      authenticatorAttachment: "platform",
    };
  }
}
