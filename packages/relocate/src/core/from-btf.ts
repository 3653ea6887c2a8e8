/**
 * Adapting `@ebpf/btf`'s `Btf` to the {@link CoreBtf} view CO-RE reads. Types are converted lazily
 * and cached, so relocating against vmlinux touches only the types the relocations reach.
 */
import { type Btf, BtfKind, type BtfType } from "@ebpf/btf";
import type { CoreBtf, CoreType } from "./types.js";

function convert(t: BtfType): CoreType {
  const base = { kind: t.kind as number, name: t.name, kindFlag: false, size: 0, type: 0 };
  switch (t.kind) {
    case BtfKind.Int:
      return { ...base, size: t.size, intEncoding: t.encoding, intOffset: t.offset, intBits: t.bits };
    case BtfKind.Ptr:
    case BtfKind.Typedef:
    case BtfKind.Volatile:
    case BtfKind.Const:
    case BtfKind.Restrict:
    case BtfKind.Func:
    case BtfKind.Var:
    case BtfKind.DeclTag:
    case BtfKind.TypeTag:
      return { ...base, type: t.type };
    case BtfKind.Array:
      return { ...base, array: { type: t.elemType, indexType: t.indexType, nelems: t.nelems } };
    case BtfKind.Struct:
    case BtfKind.Union:
      return { ...base, size: t.size, kindFlag: t.kindFlag, members: t.members };
    case BtfKind.Enum:
      return {
        ...base,
        size: t.size,
        kindFlag: t.signed,
        // libbpf reads 32-bit enum values as s32 and sign-extends them.
        values: t.values.map((v) => ({ name: v.name, value: BigInt.asIntN(32, BigInt(v.value)) })),
      };
    case BtfKind.Enum64:
      return { ...base, size: t.size, kindFlag: t.signed, values: t.values };
    case BtfKind.Fwd:
      return { ...base, kindFlag: t.union };
    case BtfKind.FuncProto:
      return { ...base, type: t.returnType, params: t.params };
    case BtfKind.Datasec:
    case BtfKind.Float:
      return { ...base, size: t.size };
    default:
      return base;
  }
}

const views = new WeakMap<Btf, CoreBtf>();

/**
 * The CO-RE view of a parsed BTF, cached per `Btf` object (so the candidate index of the kernel's BTF
 * is built once per process when the `Btf` is cached).
 *
 * @example
 * ```ts
 * import { loadKernelBtf } from "@ebpf/btf/node";
 * const target = fromBtf(loadKernelBtf());
 * ```
 */
export function fromBtf(btf: Btf): CoreBtf {
  const cached = views.get(btf);
  if (cached) return cached;
  // A Map, not an array of btf.count slots: CO-RE touches a few hundred of the kernel's 130k types.
  const cache = new Map<number, CoreType>();
  const view: CoreBtf = {
    typeCount: btf.count,
    pointerSize: btf.pointerSize,
    type(id: number): CoreType | undefined {
      if (!(id >= 0 && id < btf.count)) return undefined;
      let t = cache.get(id);
      if (!t) {
        t = convert(btf.typeById(id));
        cache.set(id, t);
      }
      return t;
    },
    typeName: (id: number) => btf.name(id),
    typeKind: (id: number) => btf.kind(id),
    findIdsByEssentialName: (name: string) => btf.findIdsByEssentialName(name),
  };
  views.set(btf, view);
  return view;
}
