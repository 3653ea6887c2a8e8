import { readFileSync } from "node:fs";
import { sourceDir } from "@ebpf/test-programs";
import { describeKernel } from "@ebpf/testing";
import { describe, expect, it } from "vitest";
import { Program, parseVerifierLog, VerifierError, verifierHint } from "../src/index.js";
import { lineOf, openTestObject } from "./objects.js";

describe("parseVerifierLog", () => {
  it("finds the reason, the failing instruction and its annotated source line", () => {
    const log = [
      "func#0 @0",
      "0: R1=ctx() R10=fp0",
      "; int x = ctx->data; @ a.bpf.c:7",
      "0: (61) r2 = *(u32 *)(r1 +0)         ; R1=ctx() R2_w=pkt(r=0)",
      "; return *(u8 *)x; @ a.bpf.c:8",
      "1: (71) r0 = *(u8 *)(r2 +0)",
      "invalid access to packet, off=0 size=1, R2(id=0,off=0,r=0)",
      "R2 offset is outside of the packet",
      "processed 2 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0",
      "",
    ].join("\n");
    const s = parseVerifierLog(log);
    expect(s.reason).toBe("R2 offset is outside of the packet");
    expect(s.insnIndex).toBe(1);
    expect(s.source).toEqual({ text: "return *(u8 *)x;", file: "a.bpf.c", line: 8 });
  });

  it("takes the instruction from reasons that name one", () => {
    const s = parseVerifierLog("0: (b7) r0 = 0\nunreachable insn 3\nprocessed 1 insns\n");
    expect(s).toMatchObject({ reason: "unreachable insn 3", insnIndex: 3 });
  });

  it("gives a hint for well-known reasons only", () => {
    expect(verifierHint("R1 invalid mem access 'map_value_or_null'")).toMatch(/against NULL/);
    expect(verifierHint("number of funcs in func_info doesn't match number of subprogs")).toMatch(
      /Linux 5\.13/,
    );
    expect(verifierHint("unreleased reference id=2 alloc_insn=7")).toMatch(/bpf_ringbuf_submit/);
    expect(verifierHint("back-edge from insn 12 to 4")).toMatch(/bounded/);
    expect(verifierHint("some reason nobody has seen")).toBeUndefined();
  });

  it("returns an empty reason for an empty log", () => {
    expect(parseVerifierLog("\n").reason).toBe("");
  });
});

describeKernel("VerifierError from broken C programs", () => {
  const source = readFileSync(`${sourceDir}/prog_broken.bpf.c`, "utf8");
  const cases = [
    {
      prog: "ctx_out_of_bounds",
      reason: /invalid bpf_context access/,
      hint: /context field is not readable/,
    },
    {
      prog: "packet_unchecked",
      reason: /invalid access to packet|outside of the packet/,
      hint: /compare against data_end/,
    },
    // Older kernels (5.10) print an unknown scalar as 'inv'.
    { prog: "scalar_deref", reason: /invalid mem access '(scalar|inv)'/, hint: /bpf_probe_read_kernel/ },
  ];
  for (const c of cases) {
    it(`${c.prog}: names the program, the reason and the C line`, () => {
      using obj = openTestObject("prog_broken");
      let err: unknown;
      try {
        Program.load(obj.load(c.prog)).close();
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(VerifierError);
      const v = err as VerifierError;
      const expectedLine = lineOf(source, `FAILS HERE: ${c.prog}`);
      expect(v.reason).toMatch(c.reason);
      expect(v.source?.line).toBe(expectedLine);
      expect(v.source?.file).toMatch(/prog_broken\.bpf\.c$/);
      expect(v.source?.text).toContain(`FAILS HERE: ${c.prog}`);
      const [first, second] = v.message.split("\n");
      expect(first).toBe(`program "${c.prog}" rejected by the verifier: ${v.reason}`);
      expect(second).toContain(`prog_broken.bpf.c:${expectedLine}`);
      expect(v.hint).toMatch(c.hint);
      expect(v.message.split("\n")[2]).toBe(`  hint: ${v.hint}`);
      expect(v.context).toMatch(new RegExp(`>\\s*${v.insnIndex}: `));
      expect(v.log).toContain(v.reason);
    });
  }
});
