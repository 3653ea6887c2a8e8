// CO-RE candidates come from the target BTF's own name index when it has one (the kernel's does). That fast
// path must find exactly what the full essential-name index finds, for every root type of real kernels'
// BTF: the running kernel's and the test-vm kernels' (fixtures fetched by `bash test-vm/fetch.sh`).
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseBtf } from "@ebpf/btf";
import { describeRequires, needsPath } from "@ebpf/testing";
import { expect, it } from "vitest";
import { candidateIds, essentialNameIndex } from "../src/core/relocator.js";
import type { CoreBtf } from "../src/core/types.js";
import { fromBtf } from "../src/index.js";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const kernels = [
  { name: "running kernel", path: "/sys/kernel/btf/vmlinux", hint: "the kernel has no BTF" },
  ...["5.10", "6.1", "6.12"].map((k) => ({
    name: `Debian ${k}`,
    path: `${root}test-vm/.cache/kernels/${k}/vmlinux.btf`,
    hint: `bash test-vm/fetch.sh ${k}`,
  })),
];

for (const k of kernels) {
  describeRequires(needsPath(k.path, k.hint))(`CO-RE candidates on ${k.name}`, () => {
    it("the BTF name index finds exactly what the essential-name index finds", () => {
      if (!existsSync(k.path)) return;
      const btf = parseBtf(readFileSync(k.path));
      const fast = fromBtf(btf);
      expect(fast.findIdsByEssentialName).toBeDefined();
      // The same view without the fast path: candidates then come from the full index.
      const slow: CoreBtf = {
        typeCount: fast.typeCount,
        type: (id) => fast.type(id),
        typeName: fast.typeName,
        typeKind: fast.typeKind,
      };
      const full = essentialNameIndex(slow);
      expect(full.size).toBeGreaterThan(5_000);
      for (const [name, ids] of full) expect(candidateIds(fast, name), name).toEqual(ids);
      // And the slow path itself answers through that index.
      expect(candidateIds(slow, "task_struct")).toEqual(full.get("task_struct"));
      expect(candidateIds(fast, "no_such_type_anywhere")).toEqual([]);
    });
  });
}
