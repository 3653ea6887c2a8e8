/** Where a struct_ops program attaches: a member of a kernel struct, by name. */
import { type Btf, BtfKind } from "@ebpf/btf";
import { loadKernelBtf } from "@ebpf/btf/node";
import { AttachError } from "../errors.js";

/** The struct id and member index a struct_ops program is loaded with, from `"<struct>.<member>"`. */
export function structOpsTarget(
  target: string,
  btf: Btf = loadKernelBtf(),
): { btfId: number; member: number } {
  const [struct, member] = target.split(".");
  const id = btf.findIdsByName(struct, BtfKind.Struct)[0];
  if (id === undefined || member === undefined)
    throw new AttachError(`struct_ops target "${target}": no struct ${struct} in kernel BTF`, {
      code: "ERR_EBPF_ATTACH_TARGET",
    });
  const t = btf.typeById(id);
  const index = t.kind === BtfKind.Struct ? t.members.findIndex((m) => m.name === member) : -1;
  if (index < 0)
    throw new AttachError(`struct ${struct} has no member ${member}`, { code: "ERR_EBPF_ATTACH_TARGET" });
  return { btfId: id, member: index };
}
