/** http/ssrf.ts: where Latch may send a request someone else chose (pure). */
import { describe, expect, it } from "vitest";
import { addressKind, outboundProblem, parseIPv4, parseIPv6, privateName } from "../../worker/http/ssrf";

const production = { development: false };
const development = { development: true };

describe("IP literals", () => {
  it("parses IPv4 and IPv6 (embedded IPv4, brackets, ::)", () => {
    expect(parseIPv4("10.1.2.3")).toEqual([10, 1, 2, 3]);
    expect(parseIPv4("10.1.2")).toBeNull();
    expect(parseIPv4("256.1.1.1")).toBeNull();
    expect(parseIPv4("01.1.1.1")).toBeNull();
    expect(parseIPv6("[::1]")).toEqual([...Array(15).fill(0), 1]);
    expect(parseIPv6("::ffff:169.254.169.254")!.slice(10)).toEqual([0xff, 0xff, 169, 254, 169, 254]);
    expect(parseIPv6("2001:db8::1")!.slice(0, 4)).toEqual([0x20, 0x01, 0x0d, 0xb8]);
    expect(parseIPv6("1::2::3")).toBeNull();
    expect(parseIPv6("fe80::1%eth0")).toBeNull();
    expect(parseIPv6("example.com")).toBeNull();
  });

  it.each([
    ["127.0.0.1", "loopback"],
    ["127.255.0.9", "loopback"],
    ["10.0.0.1", "private"],
    ["172.16.0.1", "private"],
    ["172.31.255.255", "private"],
    ["192.168.1.1", "private"],
    ["100.64.0.1", "private"],
    ["169.254.169.254", "link_local"],
    ["0.0.0.0", "special"],
    ["224.0.0.1", "special"],
    ["255.255.255.255", "special"],
    ["198.18.0.1", "special"],
    ["8.8.8.8", "public"],
    ["172.32.0.1", "public"],
    ["[::1]", "loopback"],
    ["[::]", "special"],
    ["[fc00::1]", "private"],
    ["[fd12:3456::1]", "private"],
    ["[fe80::1]", "link_local"],
    ["[::ffff:10.0.0.1]", "private"],
    ["[::ffff:127.0.0.1]", "loopback"],
    ["[64:ff9b::a9fe:a9fe]", "link_local"],
    ["[2002:a00:1::]", "special"],
    ["[ff02::1]", "special"],
    ["[2606:4700::1111]", "public"],
  ])("%s is %s", (host, kind) => {
    expect(addressKind(host)).toBe(kind);
  });

  it("treats names as names", () => {
    expect(addressKind("example.com")).toBeNull();
    expect(privateName("example.com")).toBe(false);
    for (const name of ["localhost", "metadata", "intranet.", "db.internal", "printer.local", "x.home.arpa", "app.localhost", "metadata.google.internal"]) {
      expect(privateName(name), name).toBe(true);
    }
  });
});

describe("outboundProblem", () => {
  it("allows https to public hosts and addresses", () => {
    expect(outboundProblem("https://client.example.com/meta.json", production)).toBeNull();
    expect(outboundProblem("https://8.8.8.8/x", production)).toBeNull();
    expect(outboundProblem("https://[2606:4700::1111]/x", production)).toBeNull();
  });

  it.each([
    "http://client.example.com/x",
    "ftp://client.example.com/x",
    "https://user:pw@client.example.com/x",
    "https://127.0.0.1/x",
    "https://localhost/x",
    "http://127.0.0.1:8080/x",
    "https://[::1]/x",
    "https://10.0.0.5/x",
    "https://169.254.169.254/latest/meta-data",
    "https://[::ffff:169.254.169.254]/x",
    "https://2130706433/x", // 127.0.0.1 as one number: the URL parser makes it dotted
    "https://0x7f.1/x",
    "https://metadata/x",
    "https://db.internal/x",
    "not a url",
  ])("refuses %s in production", (url) => {
    expect(outboundProblem(url, production)).not.toBeNull();
  });

  it("allows loopback (http too) in development, never private ranges", () => {
    expect(outboundProblem("http://127.0.0.1:8080/client.json", development)).toBeNull();
    expect(outboundProblem("http://localhost:8080/client.json", development)).toBeNull();
    expect(outboundProblem("http://[::1]:8080/client.json", development)).toBeNull();
    expect(outboundProblem("http://10.0.0.1/x", development)).not.toBeNull();
    expect(outboundProblem("https://192.168.0.1/x", development)).not.toBeNull();
    expect(outboundProblem("http://client.example.com/x", development)).not.toBeNull();
  });
});
