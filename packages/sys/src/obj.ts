/** Objects by path and id: pin/get, GET_NEXT_ID, GET_FD_BY_ID, OBJ_GET_INFO_BY_FD and typed info. */
import {
  BpfBtfInfo,
  BpfCmd,
  BpfLinkInfo,
  BpfMapInfo,
  BpfProgInfo,
  GetIdAttr,
  InfoAttr,
  ObjAttr,
} from "./abi.generated.js";
import { cString, get, getString } from "./attr.js";
import { bpfCall, bpfCmdName, bpfRaw, fillAttr } from "./bpf-call.js";
import { Errno } from "./errno.js";
import { SyscallError } from "./errors.js";
import { Fd, rawFd } from "./fd.js";
import { addressOf } from "./libc.js";

/**
 * BPF_OBJ_PIN: pins a map, program, link or BTF fd at `path` on a bpffs mount (e.g. `/sys/fs/bpf/x`).
 * A pin keeps the object alive after every fd is closed; remove it with `fs.unlinkSync(path)`.
 *
 * @example
 * ```ts
 * objPin(mapFd, `/sys/fs/bpf/counts`);
 * ```
 */
export function objPin(fd: Fd | number, path: string, fileFlags = 0): void {
  const p = cString(path);
  fillAttr(ObjAttr, { pathname: addressOf(p), bpf_fd: rawFd(fd), file_flags: fileFlags });
  bpfCall(BpfCmd.OBJ_PIN, ObjAttr, `pin at ${path}`);
}

/**
 * BPF_OBJ_GET: opens a pinned object. `fileFlags` may be `BpfFlags.BPF_F_RDONLY`/`BPF_F_WRONLY`.
 *
 * @example
 * ```ts
 * using fd = objGet("/sys/fs/bpf/counts");
 * ```
 */
export function objGet(path: string, fileFlags = 0, kind = "pinned"): Fd {
  const p = cString(path);
  fillAttr(ObjAttr, { pathname: addressOf(p), file_flags: fileFlags });
  return new Fd(bpfCall(BpfCmd.OBJ_GET, ObjAttr, `get ${path}`), kind);
}

/** What kind of kernel object an id names. */
export type ObjectKind = "prog" | "map" | "link" | "btf";

const NEXT_ID: Record<ObjectKind, number> = {
  prog: BpfCmd.PROG_GET_NEXT_ID,
  map: BpfCmd.MAP_GET_NEXT_ID,
  link: BpfCmd.LINK_GET_NEXT_ID,
  btf: BpfCmd.BTF_GET_NEXT_ID,
};
const FD_BY_ID: Record<ObjectKind, number> = {
  prog: BpfCmd.PROG_GET_FD_BY_ID,
  map: BpfCmd.MAP_GET_FD_BY_ID,
  link: BpfCmd.LINK_GET_FD_BY_ID,
  btf: BpfCmd.BTF_GET_FD_BY_ID,
};
const ID_FIELD: Record<ObjectKind, string> = {
  prog: "prog_id",
  map: "map_id",
  link: "link_id",
  btf: "btf_id",
};

/**
 * BPF_{PROG,MAP,LINK,BTF}_GET_NEXT_ID: the first id greater than `startId`, or undefined at the end.
 *
 * @example
 * ```ts
 * for (let id = getNextId("map", 0); id !== undefined; id = getNextId("map", id)) console.log(id);
 * ```
 */
export function getNextId(kind: ObjectKind, startId: number): number | undefined {
  const s = fillAttr(GetIdAttr, { start_id: startId });
  const r = bpfRaw(NEXT_ID[kind], s.address, GetIdAttr.byteSize);
  if (r === -Errno.ENOENT) return undefined;
  if (r < 0) throw new SyscallError({ syscall: "bpf", command: bpfCmdName(NEXT_ID[kind]), errno: -r });
  return s.view.getUint32(GetIdAttr.fields.next_id.offset, true);
}

/** BPF_*_GET_FD_BY_ID: opens the object with that id (ENOENT when it is gone). */
export function getFdById(kind: ObjectKind, id: number, openFlags = 0): Fd {
  fillAttr(GetIdAttr, { [ID_FIELD[kind]]: id, open_flags: openFlags });
  return new Fd(bpfCall(FD_BY_ID[kind], GetIdAttr, `${kind} id ${id}`), kind);
}

/**
 * BPF_OBJ_GET_INFO_BY_FD into a caller buffer (a `struct bpf_*_info`). Returns the info_len the kernel
 * filled. Pointers inside `info` (e.g. map_ids) must be set by the caller beforehand.
 */
export function objGetInfoByFd(fd: Fd | number, info: Uint8Array): number {
  const s = fillAttr(InfoAttr, { bpf_fd: rawFd(fd), info_len: info.byteLength, info: addressOf(info) });
  bpfCall(BpfCmd.OBJ_GET_INFO_BY_FD, InfoAttr);
  return s.view.getUint32(InfoAttr.fields.info_len.offset, true);
}

const dv = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);

/** Selected fields of `struct bpf_prog_info`. */
export interface ProgInfo {
  type: number;
  id: number;
  /** 8-byte tag as hex. */
  tag: string;
  name: string;
  jitedProgLen: number;
  xlatedProgLen: number;
  loadTime: bigint;
  createdByUid: number;
  nrMapIds: number;
  btfId: number;
  runTimeNs: bigint;
  runCnt: bigint;
  verifiedInsns: number;
  attachBtfId: number;
  /** The whole struct, for fields not decoded here (see BpfProgInfo.fields). */
  raw: Uint8Array;
}

/** OBJ_GET_INFO_BY_FD on a program, decoded. */
export function progInfo(fd: Fd | number): ProgInfo {
  const raw = new Uint8Array(BpfProgInfo.byteSize);
  objGetInfoByFd(fd, raw);
  const v = dv(raw);
  const f = BpfProgInfo.fields;
  const tag = Array.from(raw.subarray(f.tag.offset, f.tag.offset + f.tag.size), (b) =>
    b.toString(16).padStart(2, "0"),
  ).join("");
  return {
    type: get(v, f.type),
    id: get(v, f.id),
    tag,
    name: getString(raw, f.name),
    jitedProgLen: get(v, f.jited_prog_len),
    xlatedProgLen: get(v, f.xlated_prog_len),
    loadTime: v.getBigUint64(f.load_time.offset, true),
    createdByUid: get(v, f.created_by_uid),
    nrMapIds: get(v, f.nr_map_ids),
    btfId: get(v, f.btf_id),
    runTimeNs: v.getBigUint64(f.run_time_ns.offset, true),
    runCnt: v.getBigUint64(f.run_cnt.offset, true),
    verifiedInsns: get(v, f.verified_insns),
    attachBtfId: get(v, f.attach_btf_id),
    raw,
  };
}

/** Selected fields of `struct bpf_map_info`. */
export interface MapInfo {
  type: number;
  id: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
  name: string;
  btfId: number;
  btfKeyTypeId: number;
  btfValueTypeId: number;
  mapExtra: bigint;
  raw: Uint8Array;
}

/** OBJ_GET_INFO_BY_FD on a map, decoded. */
export function mapInfo(fd: Fd | number): MapInfo {
  const raw = new Uint8Array(BpfMapInfo.byteSize);
  objGetInfoByFd(fd, raw);
  const v = dv(raw);
  const f = BpfMapInfo.fields;
  return {
    type: get(v, f.type),
    id: get(v, f.id),
    keySize: get(v, f.key_size),
    valueSize: get(v, f.value_size),
    maxEntries: get(v, f.max_entries),
    flags: get(v, f.map_flags),
    name: getString(raw, f.name),
    btfId: get(v, f.btf_id),
    btfKeyTypeId: get(v, f.btf_key_type_id),
    btfValueTypeId: get(v, f.btf_value_type_id),
    mapExtra: v.getBigUint64(f.map_extra.offset, true),
    raw,
  };
}

/** Common fields of `struct bpf_link_info`; type-specific ones are in `raw` (see BpfLinkInfo.fields). */
export interface LinkInfo {
  type: number;
  id: number;
  progId: number;
  raw: Uint8Array;
}

/** OBJ_GET_INFO_BY_FD on a link, decoded. */
export function linkInfo(fd: Fd | number): LinkInfo {
  const raw = new Uint8Array(BpfLinkInfo.byteSize);
  objGetInfoByFd(fd, raw);
  const v = dv(raw);
  const f = BpfLinkInfo.fields;
  return { type: get(v, f.type), id: get(v, f.id), progId: get(v, f.prog_id), raw };
}

/** Fields of `struct bpf_btf_info`. */
export interface BtfInfo {
  id: number;
  btfSize: number;
  name: string;
  kernelBtf: boolean;
  raw: Uint8Array;
}

/**
 * OBJ_GET_INFO_BY_FD on a BTF object; with `withName` also reads its name (e.g. "vmlinux", a module).
 * Kernels before 5.11 have no name fields: the name is then "" (and `kernelBtf` false).
 */
export function btfInfo(fd: Fd | number, withName = true): BtfInfo {
  const f = BpfBtfInfo.fields;
  const raw = new Uint8Array(BpfBtfInfo.byteSize);
  const v = dv(raw);
  const name = new Uint8Array(withName ? 64 : 0);
  if (withName) {
    v.setBigUint64(f.name.offset, BigInt(addressOf(name)), true);
    v.setUint32(f.name_len.offset, name.byteLength, true);
  }
  try {
    objGetInfoByFd(fd, raw);
  } catch (e) {
    // E2BIG: a kernel without the name fields refuses the non-zero tail; ask again without them.
    if (!(withName && e instanceof SyscallError && e.errno === Errno.E2BIG)) throw e;
    return btfInfo(fd, false);
  }
  const end = name.indexOf(0);
  return {
    id: get(v, f.id),
    btfSize: get(v, f.btf_size),
    name: withName ? new TextDecoder().decode(name.subarray(0, end < 0 ? name.length : end)) : "",
    kernelBtf: get(v, f.kernel_btf) !== 0,
    raw,
  };
}
