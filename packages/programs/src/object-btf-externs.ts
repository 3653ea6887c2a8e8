/**
 * Extern declarations in an object's BTF, made acceptable to BPF_BTF_LOAD as libbpf does: the kernel takes
 * neither extern FUNC/VAR linkage nor FUNCs inside a DATASEC, and clang leaves `.kconfig`/`.ksyms`
 * offsets and sizes at 0.
 *
 * - extern FUNC (kfuncs): linkage → global; unnamed parameters get a name (global FUNC_PROTOs need them);
 *   their `.ksyms` DATASEC slot points at a 4-byte dummy VAR instead.
 * - extern VAR in `.ksyms`: linkage → allocated, type → a 4-byte int.
 * - extern VAR in `.kconfig`: linkage → allocated, offsets from libbpf's `.kconfig` layout.
 *
 * Type ids are preserved (the dummy VAR and int are appended), and so are string offsets.
 */
import {
  type Btf,
  type BtfDatasec,
  type BtfFuncProto,
  BtfKind,
  type BtfTypeInit,
  FuncLinkage,
  IntEncoding,
  VarLinkage,
} from "@ebpf/btf";
import type { BpfObjectSpec } from "@ebpf/elf";
import { fromBtf, kconfigLayout } from "@ebpf/relocate";

const DUMMY_KSYM_VAR = "dummy_ksym";

/** True when `btf` has extern FUNCs or VARs that BPF_BTF_LOAD would refuse. */
export function hasExterns(btf: Btf): boolean {
  for (let id = btf.startId; id < btf.count; id++) {
    const t = btf.typeById(id);
    if (t.kind === BtfKind.Func && t.linkage === FuncLinkage.Extern) return true;
    if (t.kind === BtfKind.Var && t.linkage === VarLinkage.GlobalExtern) return true;
  }
  return false;
}

/**
 * The types of `btf` with its externs rewritten (see the file comment), followed by the appended types.
 * Feed the result to a builder seeded with `btf`'s strings.
 */
export function fixupExternTypes(btf: Btf, spec: BpfObjectSpec): BtfTypeInit[] {
  const types: BtfTypeInit[] = [];
  for (let id = btf.startId; id < btf.count; id++) types.push({ ...btf.typeById(id) } as BtfTypeInit);
  const at = (id: number) => types[id - btf.startId];
  const intId = btf.count;
  const dummyId = btf.count + 1;
  const kconfig = kconfigLayout(spec.externs, fromBtf(btf));

  for (let id = btf.startId; id < btf.count; id++) {
    const t = at(id);
    if (t.kind === BtfKind.Func && t.linkage === FuncLinkage.Extern) {
      types[id - btf.startId] = { ...t, linkage: FuncLinkage.Global };
      const proto = at(t.type) as BtfFuncProto;
      if (proto.params.some((p) => p.type !== 0 && !p.name)) {
        types[t.type - btf.startId] = {
          ...proto,
          params: proto.params.map((p) => (p.type !== 0 && !p.name ? { ...p, name: DUMMY_KSYM_VAR } : p)),
        } as BtfTypeInit;
      }
    }
    if (t.kind !== BtfKind.Datasec || (t.name !== ".ksyms" && t.name !== ".kconfig")) continue;
    const sec = t as Omit<BtfDatasec, "id">;
    if (t.name === ".ksyms") {
      const vars = sec.vars.map((v, i) => {
        const target = at(v.type);
        if (target.kind === BtfKind.Var) {
          types[v.type - btf.startId] = { ...target, linkage: VarLinkage.GlobalAllocated, type: intId };
          return { type: v.type, offset: i * 4, size: 4 };
        }
        return { type: dummyId, offset: i * 4, size: 4 };
      });
      types[id - btf.startId] = { ...sec, size: vars.length * 4, vars } as BtfTypeInit;
    } else {
      const vars = sec.vars
        .map((v) => {
          const target = at(v.type);
          if (target.kind === BtfKind.Var)
            types[v.type - btf.startId] = { ...target, linkage: VarLinkage.GlobalAllocated };
          return { ...v, offset: kconfig.offsets.get(btf.name(v.type)) ?? v.offset };
        })
        .sort((a, b) => a.offset - b.offset);
      types[id - btf.startId] = { ...sec, size: Math.max(kconfig.size, 1), vars } as BtfTypeInit;
    }
  }
  types.push({
    kind: BtfKind.Int,
    name: "int",
    size: 4,
    encoding: IntEncoding.Signed,
    offset: 0,
    bits: 32,
  } as BtfTypeInit);
  types.push({
    kind: BtfKind.Var,
    name: DUMMY_KSYM_VAR,
    type: intId,
    linkage: VarLinkage.GlobalAllocated,
  } as BtfTypeInit);
  return types;
}
