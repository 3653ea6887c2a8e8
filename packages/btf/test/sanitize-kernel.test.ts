// The kernel is the judge of sanitized BTF: BPF_BTF_LOAD must accept program BTF rewritten for the BTF
// kinds the running kernel has (probed), and the fully downgraded form (no kind newer than 4.18's).
// On an old kernel (test-vm) the first check is the real test: the unsanitized blob is refused there.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  type Btf,
  BtfBuilder,
  type BtfFeatures,
  BtfKind,
  marshalBtf,
  needsSanitization,
  parseBtf,
  sanitizeBtf,
} from "@ebpf/btf";
import { describeKernel } from "@ebpf/testing";
import { expect, it } from "vitest";

interface SysForTest {
  btfLoad(options: { btf: Uint8Array; logBuf?: Uint8Array }): { close(): void };
  haveBtfKind(kind: number): boolean;
}

// @ebpf/btf is pure and does not depend on @ebpf/sys; only this kernel test borrows its bpf() wrapper
// (resolved through the workspace aliases at test time).
const SYS = "@ebpf/sys";
const loadSys = async (): Promise<SysForTest> => (await import(/* @vite-ignore */ SYS)) as SysForTest;

const fixtures = join(import.meta.dirname, "fixtures", "codec");
const features = fixupDatasecs(parseBtf(readFileSync(join(fixtures, "features.el.btf"))));

/**
 * What a loader does before BPF_BTF_LOAD: clang leaves DATASEC sizes 0 in an object file, the kernel
 * wants the section size (here: the end of the last variable).
 */
function fixupDatasecs(btf: Btf): Btf {
  const b = new BtfBuilder({ littleEndian: btf.littleEndian });
  for (const t of btf) {
    if (t.kind === BtfKind.Datasec && t.size === 0) {
      b.add({ ...t, size: Math.max(0, ...t.vars.map((v) => v.offset + v.size)) });
    } else b.add(t);
  }
  return b.build();
}
const hostLittleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

describeKernel("sanitized BTF in the kernel (BPF_BTF_LOAD)", () => {
  function load(sys: SysForTest, bytes: Uint8Array): void {
    const logBuf = new Uint8Array(64 * 1024);
    try {
      sys.btfLoad({ btf: bytes, logBuf }).close();
    } catch (e) {
      const log = new TextDecoder().decode(logBuf.subarray(0, Math.max(0, logBuf.indexOf(0))));
      throw new Error(`BPF_BTF_LOAD refused the blob: ${(e as Error).message}\n${log}`);
    }
  }

  it("loads program BTF sanitized for the kinds this kernel has", async () => {
    const sys = await loadSys();
    const have: BtfFeatures = {
      func: sys.haveBtfKind(BtfKind.Func),
      datasec: sys.haveBtfKind(BtfKind.Datasec),
      float: sys.haveBtfKind(BtfKind.Float),
      declTag: sys.haveBtfKind(BtfKind.DeclTag),
      typeTag: sys.haveBtfKind(BtfKind.TypeTag),
      enum64: sys.haveBtfKind(BtfKind.Enum64),
    };
    const sanitized = sanitizeBtf(features, have);
    if (!needsSanitization(features, have)) expect(sanitized).toBe(features);
    // Where sanitizing matters (an old kernel), the original is refused: the test is not vacuous there.
    else expect(() => load(sys, marshalBtf(features, { littleEndian: hostLittleEndian }))).toThrow(/refused/);
    load(sys, marshalBtf(sanitized, { littleEndian: hostLittleEndian }));
  });

  it("loads the fully downgraded form (INT, PTR, ARRAY, STRUCT, UNION, ENUM, TYPEDEF, CONST only)", async () => {
    const sys = await loadSys();
    const none = sanitizeBtf(features, {
      func: false,
      funcGlobal: false,
      datasec: false,
      float: false,
      declTag: false,
      typeTag: false,
      enum64: false,
    });
    load(sys, marshalBtf(none, { littleEndian: hostLittleEndian }));
  });
});
