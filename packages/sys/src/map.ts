/**
 * BPF map commands: create, element operations (generic and the preallocated hot path), batches, freeze.
 */
import { BpfCmd, MapBatchAttr, MapCreateAttr, MapElemAttr } from "./abi.generated.js";
import { putString, Scratch } from "./attr.js";
import { bpfCall, bpfCmdName, bpfRaw, fillAttr } from "./bpf-call.js";
import { Errno } from "./errno.js";
import { InvalidArgumentError, SyscallError } from "./errors.js";
import { Fd, rawFd } from "./fd.js";
import { addressOf } from "./libc.js";

/** Options of {@link mapCreate} (fields of the BPF_MAP_CREATE attr). */
export interface MapCreateOptions {
  /** A {@link BpfMapType} value. */
  type: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  /** `BpfFlags.BPF_F_*` map flags. */
  flags?: number;
  /** Inner map template for map-in-map types. */
  innerMapFd?: Fd | number;
  numaNode?: number;
  /** Up to 15 characters (BPF_OBJ_NAME_LEN - 1); longer names are truncated. */
  name?: string;
  ifindex?: number;
  btfFd?: Fd | number;
  btfKeyTypeId?: number;
  btfValueTypeId?: number;
  btfVmlinuxValueTypeId?: number;
  mapExtra?: number | bigint;
  valueTypeBtfObjFd?: Fd | number;
  mapTokenFd?: Fd | number;
}

const optFd = (fd: Fd | number | undefined) => (fd === undefined ? undefined : rawFd(fd));

/**
 * BPF_MAP_CREATE. Returns the owned map fd.
 *
 * @throws {@link SyscallError} (EINVAL for an unknown type or bad sizes, EPERM without CAP_BPF...)
 * @example
 * ```ts
 * using fd = mapCreate({ type: BpfMapType.HASH, keySize: 4, valueSize: 8, maxEntries: 1024, name: "counts" });
 * ```
 */
export function mapCreate(options: MapCreateOptions): Fd {
  const s = fillAttr(MapCreateAttr, {
    map_type: options.type,
    key_size: options.keySize,
    value_size: options.valueSize,
    max_entries: options.maxEntries,
    map_flags: options.flags,
    inner_map_fd: optFd(options.innerMapFd),
    numa_node: options.numaNode,
    map_ifindex: options.ifindex,
    btf_fd: optFd(options.btfFd),
    btf_key_type_id: options.btfKeyTypeId,
    btf_value_type_id: options.btfValueTypeId,
    btf_vmlinux_value_type_id: options.btfVmlinuxValueTypeId,
    map_extra: options.mapExtra,
    value_type_btf_obj_fd: optFd(options.valueTypeBtfObjFd),
    map_token_fd: optFd(options.mapTokenFd),
  });
  if (options.name) putString(s.bytes, MapCreateAttr.fields.map_name, options.name);
  return new Fd(bpfCall(BpfCmd.MAP_CREATE, MapCreateAttr), "map");
}

const E = MapElemAttr.fields;
const MAP_FD = E.map_fd.offset;
const FLAGS = E.flags.offset;

// Small keys and values are copied through a scratch block whose addresses were taken once: cheaper than
// taking the address of the caller's buffers (~70 ns each) on every call.
const SMALL = 512;
let elemScratch:
  | { attr: Scratch; key: Scratch; value: Scratch; keyAddr: bigint; valueAddr: bigint }
  | undefined;
function scratch() {
  if (!elemScratch) {
    const key = new Scratch(SMALL);
    const value = new Scratch(SMALL);
    elemScratch = {
      attr: new Scratch(MapElemAttr.byteSize),
      key,
      value,
      keyAddr: BigInt(key.address),
      valueAddr: BigInt(value.address),
    };
  }
  return elemScratch;
}

function elemCall(
  cmd: number,
  fd: Fd | number,
  key: Uint8Array | null,
  value: Uint8Array | null,
  flags: number | bigint,
  valueField: typeof E.value | typeof E.next_key = E.value,
  valueIn = true,
): number {
  const s = scratch();
  const v = s.attr.view;
  v.setUint32(MAP_FD, rawFd(fd), true);
  if (key && key.byteLength > 0) {
    if (key.byteLength <= SMALL) {
      s.key.bytes.set(key);
      v.setBigUint64(E.key.offset, s.keyAddr, true);
    } else v.setBigUint64(E.key.offset, BigInt(addressOf(key)), true);
  } else v.setBigUint64(E.key.offset, 0n, true); // no key (queues, stacks; GET_NEXT_KEY from the start)
  const smallValue = value !== null && value.byteLength > 0 && value.byteLength <= SMALL;
  if (value && value.byteLength > 0) {
    if (smallValue) {
      if (valueIn) s.value.bytes.set(value);
      v.setBigUint64(valueField.offset, s.valueAddr, true);
    } else v.setBigUint64(valueField.offset, BigInt(addressOf(value)), true);
  } else v.setBigUint64(E.value.offset, 0n, true);
  v.setBigUint64(FLAGS, typeof flags === "bigint" ? flags : BigInt(flags), true);
  const r = bpfRaw(cmd, s.attr.address, MapElemAttr.byteSize);
  if (r >= 0 && smallValue && !valueIn) value.set(s.value.bytes.subarray(0, value.byteLength));
  return r;
}

function fail(cmd: number, r: number): never {
  throw new SyscallError({ syscall: "bpf", command: bpfCmdName(cmd), errno: -r });
}

/**
 * BPF_MAP_LOOKUP_ELEM: copies the value of `key` into `value`. Returns false when the key is absent.
 * `value` must hold the map's value size (times the possible CPUs for per-CPU maps).
 *
 * @example
 * ```ts
 * const found = mapLookupElem(fd, key, value);
 * ```
 */
export function mapLookupElem(
  fd: Fd | number,
  key: Uint8Array,
  value: Uint8Array,
  flags: number | bigint = 0,
): boolean {
  const r = elemCall(BpfCmd.MAP_LOOKUP_ELEM, fd, key, value, flags, E.value, false);
  if (r === -Errno.ENOENT) return false;
  if (r < 0) fail(BpfCmd.MAP_LOOKUP_ELEM, r);
  return true;
}

/**
 * BPF_MAP_UPDATE_ELEM with `BpfFlags.BPF_ANY` (default), `BPF_NOEXIST`, `BPF_EXIST`, maybe `| BPF_F_LOCK`.
 * @throws {@link SyscallError} E2BIG when the map is full, EEXIST/ENOENT for NOEXIST/EXIST conflicts
 */
export function mapUpdateElem(
  fd: Fd | number,
  key: Uint8Array,
  value: Uint8Array,
  flags: number | bigint = 0,
): void {
  const r = elemCall(BpfCmd.MAP_UPDATE_ELEM, fd, key, value, flags);
  if (r < 0) fail(BpfCmd.MAP_UPDATE_ELEM, r);
}

/** BPF_MAP_DELETE_ELEM. Returns false when the key was absent. */
export function mapDeleteElem(fd: Fd | number, key: Uint8Array, flags: number | bigint = 0): boolean {
  const r = elemCall(BpfCmd.MAP_DELETE_ELEM, fd, key, null, flags);
  if (r === -Errno.ENOENT) return false;
  if (r < 0) fail(BpfCmd.MAP_DELETE_ELEM, r);
  return true;
}

/**
 * BPF_MAP_GET_NEXT_KEY: writes the key after `key` (or the first key, when `key` is null) into `nextKey`.
 * Returns false at the end of the map.
 *
 * @example
 * ```ts
 * let k: Uint8Array | null = null;
 * const next = new Uint8Array(4);
 * while (mapGetNextKey(fd, k, next)) { k = next.slice(); }
 * ```
 */
export function mapGetNextKey(fd: Fd | number, key: Uint8Array | null, nextKey: Uint8Array): boolean {
  const r = elemCall(BpfCmd.MAP_GET_NEXT_KEY, fd, key, nextKey, 0, E.next_key, false);
  if (r === -Errno.ENOENT) return false;
  if (r < 0) fail(BpfCmd.MAP_GET_NEXT_KEY, r);
  return true;
}

/** BPF_MAP_LOOKUP_AND_DELETE_ELEM (also pops queues/stacks with `key` null). False when absent/empty. */
export function mapLookupAndDeleteElem(
  fd: Fd | number,
  key: Uint8Array | null,
  value: Uint8Array,
  flags: number | bigint = 0,
): boolean {
  const r = elemCall(BpfCmd.MAP_LOOKUP_AND_DELETE_ELEM, fd, key, value, flags, E.value, false);
  if (r === -Errno.ENOENT) return false;
  if (r < 0) fail(BpfCmd.MAP_LOOKUP_AND_DELETE_ELEM, r);
  return true;
}

/** BPF_MAP_FREEZE: the map becomes read-only for user space. */
export function mapFreeze(fd: Fd | number): void {
  const r = elemCall(BpfCmd.MAP_FREEZE, fd, null, null, 0);
  if (r < 0) fail(BpfCmd.MAP_FREEZE, r);
}

/** Options of the batch operations. */
export interface MapBatchOptions {
  /** Opaque position from the previous call's `outBatch`; null/omitted to start. */
  inBatch?: Uint8Array | null;
  /** Receives the position for the next call (at least the key size; 8 bytes for hash maps is not enough — use key size). */
  outBatch?: Uint8Array;
  keys: Uint8Array;
  /** Values (not used by DELETE_BATCH). */
  values?: Uint8Array;
  /** How many elements `keys`/`values` hold room for (lookups) or contain (update/delete). */
  count: number;
  elemFlags?: number | bigint;
  flags?: number | bigint;
}

/** Result of a batch operation. */
export interface MapBatchResult {
  /** Elements processed by this call. */
  count: number;
  /** For lookups: true when the map was exhausted (ENOENT); the last `count` elements are still valid. */
  done: boolean;
}

function batchCall(cmd: number, fd: Fd | number, o: MapBatchOptions): MapBatchResult {
  const s = fillAttr(MapBatchAttr, {
    in_batch: o.inBatch ? addressOf(o.inBatch) : undefined,
    out_batch: o.outBatch ? addressOf(o.outBatch) : undefined,
    keys: addressOf(o.keys),
    values: o.values ? addressOf(o.values) : undefined,
    count: o.count,
    map_fd: rawFd(fd),
    elem_flags: o.elemFlags,
    flags: o.flags,
  });
  const r = bpfRaw(cmd, s.address, MapBatchAttr.byteSize);
  const count = s.view.getUint32(MapBatchAttr.fields.count.offset, true);
  if (r === -Errno.ENOENT && (cmd === BpfCmd.MAP_LOOKUP_BATCH || cmd === BpfCmd.MAP_LOOKUP_AND_DELETE_BATCH))
    return { count, done: true };
  if (r < 0)
    throw new SyscallError({
      syscall: "bpf",
      command: bpfCmdName(cmd),
      errno: -r,
      context: `after ${count} element(s)`,
    });
  return { count, done: false };
}

/**
 * BPF_MAP_LOOKUP_BATCH: reads up to `count` elements into `keys`/`values`, continuing from `inBatch`.
 *
 * @example
 * ```ts
 * const pos = new Uint8Array(keySize);
 * let r = mapLookupBatch(fd, { keys, values, count: 256, outBatch: pos });
 * while (!r.done) r = mapLookupBatch(fd, { inBatch: pos, outBatch: pos, keys, values, count: 256 });
 * ```
 */
export function mapLookupBatch(fd: Fd | number, options: MapBatchOptions): MapBatchResult {
  if (!options.values || !options.outBatch)
    throw new InvalidArgumentError("lookup batch needs values and outBatch");
  return batchCall(BpfCmd.MAP_LOOKUP_BATCH, fd, options);
}

/** BPF_MAP_LOOKUP_AND_DELETE_BATCH: like {@link mapLookupBatch}, deleting what it returns. */
export function mapLookupAndDeleteBatch(fd: Fd | number, options: MapBatchOptions): MapBatchResult {
  if (!options.values || !options.outBatch)
    throw new InvalidArgumentError("lookup batch needs values and outBatch");
  return batchCall(BpfCmd.MAP_LOOKUP_AND_DELETE_BATCH, fd, options);
}

/** BPF_MAP_UPDATE_BATCH: writes `count` key/value pairs. Returns how many were written. */
export function mapUpdateBatch(fd: Fd | number, options: MapBatchOptions): MapBatchResult {
  if (!options.values) throw new InvalidArgumentError("update batch needs values");
  return batchCall(BpfCmd.MAP_UPDATE_BATCH, fd, { ...options, inBatch: null, outBatch: undefined });
}

/** BPF_MAP_DELETE_BATCH: deletes `count` keys. */
export function mapDeleteBatch(fd: Fd | number, options: MapBatchOptions): MapBatchResult {
  return batchCall(BpfCmd.MAP_DELETE_BATCH, fd, {
    ...options,
    values: undefined,
    inBatch: null,
    outBatch: undefined,
  });
}

/**
 * The hot path for one map's element operations: preallocated `key`, `value` and `nextKey` buffers and
 * preformatted attrs whose addresses were taken once. Write the key into `key`, call an operation, read
 * `value`. No allocation per call.
 *
 * @example
 * ```ts
 * const ops = new MapElemOps(fd, 4, 8);
 * new DataView(ops.key.buffer, ops.key.byteOffset).setUint32(0, 42, true);
 * if (ops.lookup()) console.log(new DataView(ops.value.buffer, ops.value.byteOffset).getBigUint64(0, true));
 * ```
 */
export class MapElemOps {
  /** Key input (and `nextKey` input for {@link MapElemOps.getNextKey}). */
  readonly key: Uint8Array;
  /** Value input for update, output for lookups. */
  readonly value: Uint8Array;
  /** Output of {@link MapElemOps.getNextKey}. */
  readonly nextKey: Uint8Array;
  readonly #fd: Fd;
  readonly #withValue: Scratch;
  readonly #keyOnly: Scratch;
  readonly #next: Scratch;
  readonly #nextFirst: Scratch;

  /** @param valueSize - per-CPU maps: value size rounded up to 8, times the possible CPUs */
  constructor(fd: Fd, keySize: number, valueSize: number) {
    if (keySize < 0 || valueSize < 0) throw new InvalidArgumentError("negative key or value size");
    this.#fd = fd;
    const A = MapElemAttr.byteSize;
    const align = (n: number) => (n + 7) & ~7;
    const data = new Scratch(Math.max(align(keySize) * 2 + align(valueSize), 8));
    this.key = data.bytes.subarray(0, keySize);
    this.value = data.bytes.subarray(align(keySize), align(keySize) + valueSize);
    this.nextKey = data.bytes.subarray(
      align(keySize) + align(valueSize),
      align(keySize) * 2 + align(valueSize),
    );
    const keyAddr = BigInt(data.address);
    const mk = (k: bigint, f: typeof E.value, v: bigint) => {
      const s = new Scratch(A);
      if (k) s.view.setBigUint64(E.key.offset, k, true);
      if (v) s.view.setBigUint64(f.offset, v, true);
      return s;
    };
    const valueAddr = keyAddr + BigInt(align(keySize));
    const nextAddr = valueAddr + BigInt(align(valueSize));
    this.#withValue = mk(keySize ? keyAddr : 0n, E.value, valueSize ? valueAddr : 0n);
    this.#keyOnly = mk(keySize ? keyAddr : 0n, E.value, 0n);
    this.#next = mk(keySize ? keyAddr : 0n, E.next_key, nextAddr);
    this.#nextFirst = mk(0n, E.next_key, nextAddr);
  }

  #call(cmd: number, s: Scratch, flags: number): number {
    const v = s.view;
    v.setUint32(MAP_FD, this.#fd.raw, true);
    v.setUint32(FLAGS, flags >>> 0, true);
    v.setUint32(FLAGS + 4, 0, true);
    return bpfRaw(cmd, s.address, MapElemAttr.byteSize);
  }

  /** Looks up `key` into `value`; false when absent. */
  lookup(flags = 0): boolean {
    const r = this.#call(BpfCmd.MAP_LOOKUP_ELEM, this.#withValue, flags);
    if (r < 0) {
      if (r === -Errno.ENOENT) return false;
      fail(BpfCmd.MAP_LOOKUP_ELEM, r);
    }
    return true;
  }

  /** Writes `value` at `key`. */
  update(flags = 0): void {
    const r = this.#call(BpfCmd.MAP_UPDATE_ELEM, this.#withValue, flags);
    if (r < 0) fail(BpfCmd.MAP_UPDATE_ELEM, r);
  }

  /** Deletes `key`; false when absent. */
  delete(): boolean {
    const r = this.#call(BpfCmd.MAP_DELETE_ELEM, this.#keyOnly, 0);
    if (r < 0) {
      if (r === -Errno.ENOENT) return false;
      fail(BpfCmd.MAP_DELETE_ELEM, r);
    }
    return true;
  }

  /** Looks up and deletes `key` into `value` (pops queues/stacks when the key size is 0). */
  lookupAndDelete(flags = 0): boolean {
    const r = this.#call(BpfCmd.MAP_LOOKUP_AND_DELETE_ELEM, this.#withValue, flags);
    if (r < 0) {
      if (r === -Errno.ENOENT) return false;
      fail(BpfCmd.MAP_LOOKUP_AND_DELETE_ELEM, r);
    }
    return true;
  }

  /** Writes the key after `key` (or the first key when `fromStart`) into `nextKey`; false at the end. */
  getNextKey(fromStart = false): boolean {
    const r = this.#call(BpfCmd.MAP_GET_NEXT_KEY, fromStart ? this.#nextFirst : this.#next, 0);
    if (r < 0) {
      if (r === -Errno.ENOENT) return false;
      fail(BpfCmd.MAP_GET_NEXT_KEY, r);
    }
    return true;
  }

  /** The map fd these operations use. */
  get fd(): Fd {
    return this.#fd;
  }
}
