import { execFileSync } from "node:child_process";
import { objectPath } from "@ebpf/test-programs";
import { describeKernel, needsTool } from "@ebpf/testing";
import { Ebpf, Program } from "ebpf";
import { describe, expect, it } from "vitest";
import { run, UsageError } from "../src/index.js";

describe("ebpf CLI (no kernel)", () => {
  it("describes an object: programs with their types, maps, global data", () => {
    const text = run(["object", objectPath("minimal")]);
    expect(text).toMatch(/^xdp_count\s+xdp\s+xdp\s+xdp\s+-\s+\d+\s+-$/m);
    expect(text).toMatch(/^counts\s+hash\s+4\s+8\s+16\s+0x0\s+btf$/m);
    expect(text).toContain('license "GPL"');
  });

  it("refuses unknown commands and bad options with a UsageError", () => {
    expect(() => run(["frobnicate"])).toThrow(UsageError);
    expect(() => run(["btf", "dump", objectPath("minimal"), "--format", "json"])).toThrow(
      /--format must be c or raw/,
    );
    expect(() => run(["disasm", objectPath("minimal"), "missing"])).toThrow(/no program "missing"/);
    expect(run(["help"])).toContain("ebpf object FILE");
  });

  it("prints an object's BTF exactly as bpftool does", () => {
    const ours = run(["btf", "dump", objectPath("minimal")]);
    const theirs = execFileSync("bpftool", ["btf", "dump", "file", objectPath("minimal"), "format", "raw"], {
      encoding: "utf8",
    });
    expect(ours.trimEnd()).toBe(theirs.trimEnd());
  });
});

describeKernel(
  "ebpf CLI (kernel)",
  () => {
    it("disassembles a relocated program", () => {
      const text = run(["disasm", objectPath("minimal"), "xdp_count"]);
      expect(text.split("\n")[0]).toBe("xdp_count (xdp):");
      expect(text).toMatch(/call bpf_map_lookup_elem#1/);
      expect(text).toMatch(/\(95\) exit$/m);
    });

    it("lists a program we loaded, by id and name", () => {
      using bpf = Ebpf.loadFile(objectPath("minimal"));
      const prog = bpf.program("xdp_count", Program).load();
      const id = prog.info().id;
      expect(run(["prog", "list"])).toMatch(new RegExp(`^${id}\\s+xdp\\s+xdp_count\\s`, "m"));
      expect(run(["map", "list"])).toMatch(/\shash\s+counts\s+4\s+8\s+16$/m);
      expect(run(["features"])).toMatch(/^BTF\s+true$/m);
    });
  },
  needsTool("bpftool"),
);
