import { describe, expect, test } from "bun:test";
import { describeNetworkError } from "./service-client.ts";

const failure = (code: string, message: string) => Object.assign(new Error(message), { code });

describe("network failures in a person's words", () => {
  test("a refused connection and an unknown host say what they mean, with the code", () => {
    expect(describeNetworkError(failure("ECONNREFUSED", "connect ECONNREFUSED"))).toBe(
      "nothing accepts connections there (ECONNREFUSED)",
    );
    expect(describeNetworkError(failure("ENOTFOUND", "getaddrinfo ENOTFOUND iota.example"))).toBe(
      "the host name does not resolve (ENOTFOUND)",
    );
  });

  test("an untrusted certificate points at serverCa", () => {
    const text = describeNetworkError(
      failure("UNABLE_TO_VERIFY_LEAF_SIGNATURE", "unable to verify the first certificate"),
    );
    expect(text).toStartWith(
      "its TLS certificate is not trusted (UNABLE_TO_VERIFY_LEAF_SIGNATURE: unable to verify the first certificate)",
    );
    expect(text).toContain("serverCa must be the service's server CA");
  });

  test("anything else keeps its code once, on one line", () => {
    expect(describeNetworkError(failure("ETIMEDOUT", "connect ETIMEDOUT\n10.0.0.5:8440"))).toBe(
      "connect ETIMEDOUT 10.0.0.5:8440",
    );
    expect(describeNetworkError(failure("EPIPE", "broken"))).toBe("EPIPE broken");
    expect(describeNetworkError(new Error("socket hang up"))).toBe("socket hang up");
  });
});
