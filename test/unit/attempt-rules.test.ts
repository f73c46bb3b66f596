import { describe, expect, it } from "vitest";
import { ATTEMPT_LIMITS, current, decide, failureEventReason, giveBack, shardOf, waitFor } from "../../worker/identity/attempt-rules";
import { clientAddress } from "../../worker/http/client-address";

const { pair, account, address } = ATTEMPT_LIMITS;
const now = 1_000_000_000;

describe("attempt rules", () => {
  it("keeps the documented limits: 10 per account and address, 100 per account, 100 per address, 15 minutes", () => {
    expect(pair).toEqual({ max: 10, windowMs: 900_000 });
    expect(account).toEqual({ max: 100, windowMs: 900_000 });
    expect(address).toEqual({ max: 100, windowMs: 900_000 });
  });

  it("counts attempts until a counter is full, then refuses with the seconds left in its window", () => {
    let counters = [{ start: now, count: 0 }];
    for (let i = 0; i < pair.max; i++) {
      const d = decide([{ counter: counters[0], rule: pair }], now + i);
      expect(d.wait).toBe(0);
      counters = d.next;
    }
    expect(counters[0]!.count).toBe(10);
    const refused = decide([{ counter: counters[0], rule: pair }], now + 60_000);
    expect(refused).toEqual({ wait: 840, next: counters });
    expect(waitFor({ start: now, count: 10 }, pair, now + pair.windowMs - 1)).toBe(1);
  });

  it("a refusal counts nothing anywhere, so a locked pair cannot push the account-wide counter", () => {
    const d = decide(
      [
        { counter: { start: now, count: 50 }, rule: account },
        { counter: { start: now, count: 10 }, rule: pair },
      ],
      now,
    );
    expect(d.wait).toBe(900);
    expect(d.next.map((c) => c.count)).toEqual([50, 10]);
  });

  it("the longest wait wins; an ended window reads as empty", () => {
    const d = decide(
      [
        { counter: { start: now - 600_000, count: 10 }, rule: pair },
        { counter: { start: now - 100_000, count: 100 }, rule: account },
      ],
      now,
    );
    expect(d.wait).toBe(800);
    expect(current({ start: now - pair.windowMs, count: 10 }, pair, now)).toEqual({ start: now, count: 0 });
    expect(decide([{ counter: { start: now - pair.windowMs, count: 10 }, rule: pair }], now)).toEqual({ wait: 0, next: [{ start: now, count: 1 }] });
  });

  it("a success gives back one attempt, never below zero", () => {
    expect(giveBack({ start: now, count: 3 }, address, now)).toEqual({ start: now, count: 2 });
    expect(giveBack({ start: now, count: 0 }, address, now)).toEqual({ start: now, count: 0 });
    expect(giveBack(null, address, now)).toEqual({ start: now, count: 0 });
  });

  it("logs a failure event only for the failure that fills a lock (pair or account-wide)", () => {
    expect(failureEventReason({ account: 37, pair: 10 })).toBe("too_many_failures");
    expect(failureEventReason({ account: 100, pair: 3 })).toBe("too_many_failures");
    for (const [account, pair] of [[1, 1], [9, 9], [11, 9], [99, 1], [101, 1], [0, 0]]) expect(failureEventReason({ account: account!, pair: pair! })).toBeNull();
  });

  it("shards by the digest's first 32 bits", () => {
    expect(shardOf("00000000ffff")).toBe(0);
    expect(shardOf("ffffffff")).toBe(0xffffffff % 64);
    expect(shardOf("0000002a", 64)).toBe(42);
  });
});

describe("client address", () => {
  const headers = new Headers({ "CF-Connecting-IP": "203.0.113.1", "X-Real-IP": "198.51.100.2", "X-Forwarded-For": "10.0.0.1, 192.0.2.3" });

  it("reads cf-connecting-ip by default, and `local` without it", () => {
    expect(clientAddress({}, headers)).toBe("203.0.113.1");
    expect(clientAddress({ CLIENT_ADDRESS_HEADER: "" }, headers)).toBe("203.0.113.1");
    expect(clientAddress({}, new Headers())).toBe("local");
  });

  it("reads only the configured header when CLIENT_ADDRESS_HEADER is set", () => {
    expect(clientAddress({ CLIENT_ADDRESS_HEADER: "x-real-ip" }, headers)).toBe("198.51.100.2");
    expect(clientAddress({ CLIENT_ADDRESS_HEADER: "x-real-ip" }, new Headers({ "CF-Connecting-IP": "203.0.113.1" }))).toBe("local");
  });

  it("takes a list's last entry (what the nearest proxy appended) and bounds the length", () => {
    expect(clientAddress({ CLIENT_ADDRESS_HEADER: "X-Forwarded-For" }, headers)).toBe("192.0.2.3");
    expect(clientAddress({}, new Headers({ "CF-Connecting-IP": "x".repeat(500) }))).toHaveLength(64);
  });

  it("counts an IPv6 address by its /64, so one host cannot take a fresh budget per address", () => {
    const of = (ip: string) => clientAddress({}, new Headers({ "CF-Connecting-IP": ip }));
    expect(of("2001:db8:1:2:aaaa:bbbb:cccc:dddd")).toBe("2001:db8:1:2::/64");
    expect(of("2001:db8:1:2::1")).toBe(of("2001:DB8:1:2:ffff::9"));
    expect(of("2001:db8:1:3::1")).not.toBe(of("2001:db8:1:2::1"));
    expect(of("::ffff:192.0.2.7")).toBe("192.0.2.7");
    expect(of("192.0.2.7")).toBe("192.0.2.7");
  });
});
