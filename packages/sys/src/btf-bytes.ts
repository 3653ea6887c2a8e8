/**
 * Reading a loaded BTF object back (OBJ_GET_INFO_BY_FD with a buffer for the raw BTF): what a loader needs
 * to find a function in another program's BTF (freplace targets). Added by @ebpf/programs.
 */
import { BpfBtfInfo } from "./abi.generated.js";
import type { Fd } from "./fd.js";
import { addressOf } from "./libc.js";
import { btfInfo, objGetInfoByFd } from "./obj.js";

/**
 * The raw bytes of a BTF object loaded in the kernel (by fd: see `getFdById("btf", id)`).
 *
 * @example
 * ```ts
 * using fd = getFdById("btf", progInfo(prog).btfId);
 * const btf = parseBtf(btfBytes(fd));
 * ```
 */
export function btfBytes(fd: Fd | number): Uint8Array {
  const size = btfInfo(fd, false).btfSize;
  const bytes = new Uint8Array(size);
  const info = new Uint8Array(BpfBtfInfo.byteSize);
  const v = new DataView(info.buffer);
  v.setBigUint64(BpfBtfInfo.fields.btf.offset, BigInt(addressOf(bytes)), true);
  v.setUint32(BpfBtfInfo.fields.btf_size.offset, size, true);
  objGetInfoByFd(fd, info);
  return bytes;
}
