/**
 * struct_ops: BPF programs implementing the function members of a kernel struct (tcp_congestion_ops,
 * sched_ext_ops, hid_bpf_ops...), registered through a STRUCT_OPS map whose value is the struct itself.
 */
import { BtfBuilder, BtfKind, IntEncoding } from "@ebpf/btf";
import { loadKernelBtf } from "@ebpf/btf/node";
import {
  BpfAttachType,
  BpfFlags,
  BpfMapType,
  BpfProgType,
  Errno,
  type Fd,
  kernelSyscalls,
  NotSupportedError,
  SyscallError,
  type Syscalls,
} from "@ebpf/sys";
import { AttachError } from "../errors.js";
import { CallbackLink, FdLink, type Link } from "../link.js";
import { Program } from "../program.js";

/** A struct_ops program: one function member (`attachTo: "tcp_congestion_ops.ssthresh"` at load). */
export class StructOps extends Program {
  static readonly programTypes: readonly number[] = [BpfProgType.STRUCT_OPS];
}

/** A BTF blob with a single `int`: what a struct_ops map needs when the caller has no object BTF. */
function minimalBtf(): Uint8Array {
  const b = new BtfBuilder();
  b.addInt("int", 4, IntEncoding.Signed);
  return b.marshal();
}

/** A value of a member of the registered struct: a program for a function pointer, else data. */
export type StructOpsMember = StructOps | number | bigint | string;

/** Options of {@link registerStructOps}. */
export interface RegisterStructOpsOptions {
  /**
   * Register through a bpf_link (6.4+; detached with the link) instead of the map update alone. Before 6.4
   * this throws NotSupportedError.
   */
  link?: boolean;
  /**
   * The BTF of the object the programs come from. The kernel wants some BTF fd for a struct_ops map
   * even though its value type is the kernel's; without one a one-type BTF is loaded for the call.
   */
  btfFd?: Fd;
  sys?: Syscalls;
}

/**
 * Fills a `struct <name>` with programs and values and registers it with the kernel. Returns a link whose
 * `detach()`/`close()` unregisters it.
 *
 * @example
 * ```ts
 * using cc = registerStructOps("tcp_congestion_ops", {
 *   ssthresh, undo_cwnd, cong_avoid, name: "my_cc",
 * });
 * ```
 */
export function registerStructOps(
  name: string,
  members: Record<string, StructOpsMember>,
  options: RegisterStructOpsOptions = {},
): Link {
  const sys = options.sys ?? kernelSyscalls;
  const btf = loadKernelBtf();
  const valueName = `bpf_struct_ops_${name}`;
  const valueId = btf.findIdsByName(valueName, BtfKind.Struct)[0];
  const structId = btf.findIdsByName(name, BtfKind.Struct)[0];
  if (valueId === undefined || structId === undefined)
    throw new AttachError(`struct_ops ${name}: not in kernel BTF (no struct ${valueName})`, {
      code: "ERR_EBPF_ATTACH_TARGET",
    });
  const valueType = btf.typeById(valueId);
  const structType = btf.typeById(structId);
  if (valueType.kind !== BtfKind.Struct || structType.kind !== BtfKind.Struct)
    throw new AttachError(`struct_ops ${name}: unexpected BTF`);
  const data = valueType.members.find((m) => m.name === "data");
  if (!data) throw new AttachError(`${valueName} has no data member`);
  const value = new Uint8Array(btf.sizeOf(valueId));
  const view = new DataView(value.buffer);
  const base = data.bitOffset / 8;
  for (const [memberName, v] of Object.entries(members)) {
    const m = structType.members.find((x) => x.name === memberName);
    if (!m) throw new AttachError(`struct ${name} has no member ${memberName}`);
    const off = base + m.bitOffset / 8;
    const size = btf.sizeOf(m.type);
    if (v instanceof Program) view.setBigUint64(off, BigInt(v.fd.raw), true);
    else if (typeof v === "string") value.set(new TextEncoder().encode(v).subarray(0, size - 1), off);
    else if (size === 8) view.setBigUint64(off, BigInt(v), true);
    else if (size === 4) view.setUint32(off, Number(v), true);
    else if (size === 2) view.setUint16(off, Number(v), true);
    else if (size === 1) view.setUint8(off, Number(v));
    else throw new AttachError(`member ${memberName} (${size} bytes) cannot take a number`);
  }
  const ownBtf = options.btfFd ? undefined : sys.btfLoad({ btf: minimalBtf() });
  let map: Fd;
  try {
    const create = (flags: number) =>
      sys.mapCreate({
        type: BpfMapType.STRUCT_OPS,
        keySize: 4,
        valueSize: value.byteLength,
        maxEntries: 1,
        flags,
        btfVmlinuxValueTypeId: valueId,
        btfFd: options.btfFd ?? ownBtf,
        name: name.slice(0, 15),
      });
    try {
      map = create(options.link ? BpfFlags.BPF_F_LINK : 0);
    } catch (e) {
      if (!(options.link && e instanceof SyscallError && e.errno === Errno.EINVAL)) throw e;
      // Before 6.4 a struct_ops map takes no BPF_F_LINK: if the same map without it is fine, that is why.
      try {
        create(0).close();
      } catch {
        throw e;
      }
      throw new NotSupportedError({
        feature: `struct_ops links (${name} registered with BPF_F_LINK)`,
        minKernel: "6.4",
        cause: e,
      });
    }
  } finally {
    ownBtf?.close();
  }
  try {
    sys.mapUpdateElem(map, new Uint8Array(4), value, 0);
    if (options.link) {
      const link = sys.linkCreate({ mapFd: map, attachType: BpfAttachType.STRUCT_OPS });
      map.close();
      return new FdLink(link, `struct_ops ${name} (link)`, sys);
    }
  } catch (e) {
    map.close();
    throw e;
  }
  // Without a link the registration lives as long as the map: deleting the element unregisters it.
  return new CallbackLink(`struct_ops ${name} (map)`, () => {
    try {
      sys.mapDeleteElem(map, new Uint8Array(4));
    } finally {
      map.close();
    }
  });
}
