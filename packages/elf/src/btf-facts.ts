/**
 * What the object parser needs from `.BTF`: the `DATASEC`s of data sections and the externs of `.kconfig`
 * and `.ksyms`. BTF-defined maps are in `btf-maps.ts`.
 */
import { type Btf, BtfKind, FuncLinkage, parseBtf } from "@ebpf/btf";
import { ParseError } from "@ebpf/errors";
import type { DatasecInfo, ExternInfo } from "./data.js";

/** BTF-derived facts, computed once per object. */
export interface BtfFacts {
  btf: Btf;
  /** Section name → its DATASEC. */
  datasecs: Map<string, DatasecInfo>;
  /** Extern name → kind and type. */
  externs: Map<string, ExternInfo>;
}

/** Parses `.BTF` and indexes its datasecs and externs. `sectionOffset` places errors in the file. */
export function readBtfFacts(bytes: Uint8Array, sectionOffset: number): BtfFacts {
  let btf: Btf;
  try {
    btf = parseBtf(bytes);
  } catch (e) {
    if (e instanceof ParseError) {
      throw new ParseError(
        { format: "ELF", offset: sectionOffset + e.offset, expected: `.BTF: ${e.expected}`, cause: e },
        `section .BTF at ${sectionOffset}: ${e.message}`,
      );
    }
    throw e;
  }
  const datasecs = new Map<string, DatasecInfo>();
  const externs = new Map<string, ExternInfo>();
  for (let id = 1; id < btf.count; id++) {
    const kind = btf.kind(id);
    if (kind === BtfKind.Func) {
      const f = btf.typeById(id);
      if (f.kind === BtfKind.Func && f.linkage === FuncLinkage.Extern && !externs.has(f.name)) {
        externs.set(f.name, { kind: "kfunc", typeId: id, size: undefined, offset: undefined });
      }
      continue;
    }
    if (kind !== BtfKind.Datasec) continue;
    const ds = btf.typeById(id);
    if (ds.kind !== BtfKind.Datasec) continue;
    const vars: DatasecInfo["vars"] = [];
    // In object files DATASEC offsets are usually 0 (the loader fills them from the ELF symbols); they are
    // meaningful only once the section size is set.
    const placed = ds.size > 0;
    for (const v of ds.vars) {
      const t = btf.typeById(v.type);
      if (ds.name === ".kconfig" || ds.name === ".ksyms") {
        const isFunc = t.kind === BtfKind.Func;
        const externKind = ds.name === ".kconfig" ? "kconfig" : isFunc ? "kfunc" : "ksym";
        externs.set(t.name, {
          kind: externKind,
          typeId: v.type,
          size: isFunc ? undefined : v.size,
          offset: placed ? v.offset : undefined,
        });
      }
      if (t.kind === BtfKind.Var)
        vars.push({ name: t.name, offset: placed ? v.offset : undefined, size: v.size, typeId: t.type });
    }
    datasecs.set(ds.name, { typeId: id, vars });
  }
  return { btf, datasecs, externs };
}
