import { describe, expect, it } from "vitest";
import { EbpfError, ParseError, withContext } from "../src/index.js";

describe("EbpfError", () => {
  it("carries a code, a name and a cause", () => {
    const cause = new Error("root");
    const e = new EbpfError("ERR_EBPF_TEST", "boom", { cause });
    expect(e).toBeInstanceOf(Error);
    expect(e.code).toBe("ERR_EBPF_TEST");
    expect(e.name).toBe("EbpfError");
    expect(e.cause).toBe(cause);
  });

  it("ParseError names the offset and what was expected", () => {
    const e = new ParseError({ format: "BTF", offset: 24, expected: "a type header" }, "input ends");
    expect(e).toBeInstanceOf(EbpfError);
    expect(e.name).toBe("ParseError");
    expect(e.code).toBe("ERR_EBPF_PARSE");
    expect(e.offset).toBe(24);
    expect(e.message).toBe("BTF: at offset 24 (0x18): expected a type header, input ends");
  });

  it("withContext builds a readable path", () => {
    const inner = new ParseError({ format: "ELF", offset: 0, expected: "magic" });
    const outer = withContext('object "a.o"', inner);
    expect(outer.message).toMatch(/^object "a.o": ELF: at offset 0/);
    expect(outer.code).toBe("ERR_EBPF_PARSE");
    expect(outer.cause).toBe(inner);
  });
});
