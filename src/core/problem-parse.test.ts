import { describe, expect, test } from "bun:test";
import { parseProblem, problemMessage } from "./problem-parse.ts";

describe("parseProblem", () => {
  test("an IoTA problem body, with field errors", () => {
    const body = JSON.stringify({
      type: "about:blank",
      status: 400,
      title: "Bad Request",
      detail: "name must be lowercase",
      errors: [{ field: "name", message: "must be lowercase" }],
    });
    expect(parseProblem(body)).toEqual({
      type: "about:blank",
      status: 400,
      title: "Bad Request",
      detail: "name must be lowercase",
      errors: [{ field: "name", message: "must be lowercase" }],
    });
    expect(problemMessage(parseProblem(body))).toBe("name must be lowercase");
  });

  test("members of the wrong type are dropped, not fatal; the title stands in for a missing detail", () => {
    const parsed = parseProblem(
      JSON.stringify({ status: "400", title: "Conflict", detail: 7, errors: "x" }),
    );
    expect(parsed).toEqual({ title: "Conflict" });
    expect(problemMessage(parsed)).toBe("Conflict");
    expect(problemMessage(parseProblem(JSON.stringify({ status: 500 })))).toBeUndefined();
  });

  test.each([["<html>bad gateway</html>"], [""], ["[1,2]"], ["null"], ['"text"']])(
    "%p is no problem",
    (text) => {
      expect(parseProblem(text)).toBeUndefined();
      expect(problemMessage(parseProblem(text))).toBeUndefined();
    },
  );
});
