/**
 * `BpfMap`: the typed key/value API over one map, shared by every map class.
 */
import type { Btf, CodecOptions } from "@ebpf/btf";
import { Errno, NotSupportedError, SyscallError } from "@ebpf/sys";
import { BpfFlags } from "./abi.js";
import {
  type BatchLookupOptions,
  type BatchWriteOptions,
  deleteBatch,
  lookupBatch,
  lookupBatchRaw,
  updateBatch,
} from "./batch.js";
import { btfCodec } from "./btf-codec.js";
import { type Codec, rawCodec } from "./codec.js";
import { MapCore } from "./core.js";
import { KeyNotFoundError, MapError, MapSizeError } from "./errors.js";
import type { ElementPort, KernelMapInfo } from "./kernel.js";
import { mapTypeName } from "./spec.js";

/** How `set` treats an existing key. */
export type UpdateMode = "any" | "noexist" | "exist";

/** Options of {@link BpfMap.set}. A number is passed to the kernel as raw `BPF_*` flags. */
export type UpdateOptions = number | { mode?: UpdateMode; lock?: boolean };

/**
 * Key and value codecs of a map. Missing ones are derived from `btf` when given and the map has BTF
 * key/value type ids, and are raw bytes otherwise.
 */
export interface MapCodecs<K, V> {
  keyCodec?: Codec<K>;
  valueCodec?: Codec<V>;
  /** The BTF the map was created with (e.g. the object file's), for BTF-derived default codecs. */
  btf?: Btf;
  /** Options of the BTF-derived codecs (enum names, 64-bit integers as numbers…). */
  btfOptions?: CodecOptions;
}

/** What the kernel reports about an open map. */
export interface MapInfo {
  type: number;
  typeName: string;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
  name: string;
  id: number;
  frozen: boolean;
  btfId: number;
  btfKeyTypeId: number;
  btfValueTypeId: number;
  mapExtra: bigint;
  /** struct_ops maps: the kernel (vmlinux) BTF id of the value struct; 0 for every other map. */
  btfVmlinuxValueTypeId: number;
}

/**
 * Lookups and key walks the map type does not offer to user space at all (the kernel says ENOTSUPP or
 * EOPNOTSUPP: XSKMAP lookups, local storage key walks...) become {@link NotSupportedError}, as batch
 * commands do. Updates keep the SyscallError: there the same errnos mean an fd of the wrong kind.
 */
function unsupportedOp(e: unknown, op: string, core: MapCore): unknown {
  if (e instanceof SyscallError && (e.errno === Errno.ENOTSUPP || e.errno === Errno.EOPNOTSUPP)) {
    return new NotSupportedError({ feature: `${op} on ${mapTypeName(core.info.type)} maps`, cause: e });
  }
  return e;
}

/** `port.lookup`, with {@link unsupportedOp}'s translation. */
function lookupElem(port: ElementPort, flags: number, core: MapCore): boolean {
  try {
    return port.lookup(flags);
  } catch (e) {
    throw unsupportedOp(e, "BPF_MAP_LOOKUP_ELEM", core);
  }
}

/** Turns {@link UpdateOptions} into `BPF_*` element flags. */
export function updateFlags(options: UpdateOptions | undefined): number {
  if (options === undefined) return BpfFlags.BPF_ANY;
  if (typeof options === "number") return options;
  let flags: number =
    options.mode === "noexist" ? BpfFlags.BPF_NOEXIST : options.mode === "exist" ? BpfFlags.BPF_EXIST : 0;
  if (options.lock) flags |= BpfFlags.BPF_F_LOCK;
  return flags;
}

/**
 * A BPF map with typed keys and values. Obtain one from `createMap`, `openMap*`, a typed class's
 * `create` / `fromPin` / `fromId` / `fromFd`, or a loaded collection.
 *
 * @example
 * ```ts
 * using counts = HashMap.create({ keySize: 4, valueSize: 8, maxEntries: 64 },
 *   { keyCodec: codecs.u32, valueCodec: codecs.u64 });
 * counts.set(1, 10n);
 * counts.get(1); // 10n
 * for (const [k, v] of counts.entries()) console.log(k, v);
 * ```
 */
export class BpfMap<K = Uint8Array, V = Uint8Array> implements Disposable {
  /** @internal */
  readonly core: MapCore;
  readonly keyCodec: Codec<K>;
  readonly valueCodec: Codec<V>;
  /** Bytes the kernel copies for one value (all CPUs for per-CPU maps). */
  readonly valueBufferSize: number;
  private portCache: ElementPort | undefined;
  private keyView: DataView | undefined;
  private valueView: DataView | undefined;
  private nextKeyView: DataView | undefined;

  /**
   * Wraps an open map (another map object's handle, which stays shared) with codecs. Typed subclasses
   * check the map type; every class checks the codec sizes against the map's key and value sizes.
   */
  constructor(
    source: MapCore | BpfMap<unknown, unknown>,
    codecs: MapCodecs<K, V> = {},
    valueBufferSize?: number,
  ) {
    const core = source instanceof MapCore ? source : source.core;
    valueBufferSize ??= core.info.valueSize;
    this.core = core;
    this.valueBufferSize = valueBufferSize;
    const fromBtf = <T>(id: number) =>
      codecs.btf ? btfCodec<T>(codecs.btf, id, codecs.btfOptions) : undefined;
    const keyCodec =
      codecs.keyCodec ??
      (core.info.keySize > 0 ? fromBtf<K>(core.btfTypeIds().key) : undefined) ??
      (rawCodec(core.info.keySize, "key") as unknown as Codec<K>);
    const valueCodec =
      codecs.valueCodec ??
      (valueBufferSize === core.info.valueSize ? fromBtf<V>(core.btfTypeIds().value) : undefined) ??
      (rawCodec(valueBufferSize, "value") as unknown as Codec<V>);
    if (keyCodec.size !== core.info.keySize) {
      throw new MapSizeError("key", core.info.keySize, keyCodec.size, core.info.name);
    }
    if (valueCodec.size !== valueBufferSize) {
      throw new MapSizeError("value", valueBufferSize, valueCodec.size, core.info.name);
    }
    this.keyCodec = keyCodec;
    this.valueCodec = valueCodec;
  }

  /** The map's fd (throws `MapClosedError` after close). */
  get fd(): number {
    return this.core.fd();
  }
  get type(): number {
    return this.core.info.type;
  }
  get name(): string {
    return this.core.info.name;
  }
  get keySize(): number {
    return this.core.info.keySize;
  }
  get valueSize(): number {
    return this.core.info.valueSize;
  }
  get maxEntries(): number {
    return this.core.info.maxEntries;
  }
  get flags(): number {
    return this.core.info.flags;
  }
  get closed(): boolean {
    return this.core.closed;
  }

  /** Type, sizes, flags, name, id and whether the map is frozen, as the kernel reports them now. */
  info(): MapInfo {
    const fd = this.core.fd("info()");
    const k: KernelMapInfo = this.core.kernel.info(fd);
    return {
      ...k,
      btfVmlinuxValueTypeId: k.btfVmlinuxValueTypeId ?? 0,
      typeName: mapTypeName(k.type),
      frozen: this.core.kernel.isFrozen(fd),
    };
  }

  /** @internal The reusable key/value buffers of this map. */
  protected port(): ElementPort {
    const fd = this.core.fd();
    if (!this.portCache) {
      const port = this.core.kernel.elementPort(fd, this.core.info.keySize, this.valueBufferSize);
      this.portCache = port;
      this.keyView = new DataView(port.key.buffer, port.key.byteOffset, port.key.byteLength);
      this.valueView = new DataView(port.value.buffer, port.value.byteOffset, port.value.byteLength);
      this.nextKeyView = new DataView(port.nextKey.buffer, port.nextKey.byteOffset, port.nextKey.byteLength);
    }
    return this.portCache;
  }

  /**
   * The value stored under `key`, or `undefined` when there is none.
   *
   * @throws `NotSupportedError` when the map type has no lookup from user space (e.g. XSKMAP).
   */
  get(key: K, flags = 0): V | undefined {
    const port = this.port();
    this.keyCodec.encode(key, this.keyView!, 0);
    if (!lookupElem(port, flags, this.core)) return undefined;
    return this.valueCodec.decode(this.valueView!, 0);
  }

  /** Like {@link get} but throws {@link KeyNotFoundError} when the key is absent. */
  mustGet(key: K, flags = 0): V {
    const v = this.get(key, flags);
    if (v === undefined) throw new KeyNotFoundError(`${this.core.label}: key not found`, this.name);
    return v;
  }

  /** Stores `value` under `key`. `{ mode: "noexist" }` fails if present, `"exist"` if absent; `lock` uses the value's spin lock. */
  set(key: K, value: V, options?: UpdateOptions): void {
    const port = this.port();
    this.keyCodec.encode(key, this.keyView!, 0);
    this.valueCodec.encode(value, this.valueView!, 0);
    port.update(typeof options === "number" ? options : updateFlags(options));
  }

  /** Removes `key`; returns false when it was not there. */
  delete(key: K): boolean {
    const port = this.port();
    this.keyCodec.encode(key, this.keyView!, 0);
    return port.delete();
  }

  /** True when `key` is in the map. */
  has(key: K): boolean {
    const port = this.port();
    this.keyCodec.encode(key, this.keyView!, 0);
    return lookupElem(port, 0, this.core);
  }

  /**
   * Every key, by `BPF_MAP_GET_NEXT_KEY`. Safe against concurrent deletes (including deleting the
   * current key in the loop): when the kernel restarts from the first key, keys already yielded are
   * skipped, so none is yielded twice.
   *
   * @throws `NotSupportedError` when the map type cannot be walked (local storage, keyed by fds).
   */
  *keys(): Generator<K, void, undefined> {
    for (const raw of this.rawKeys()) yield this.keyCodec.decode(new DataView(raw.buffer), 0);
  }

  /** Every `[key, value]`; keys deleted during the walk are skipped. */
  *entries(): Generator<[K, V], void, undefined> {
    for (const raw of this.rawKeys()) {
      const key = this.keyCodec.decode(new DataView(raw.buffer), 0);
      const port = this.port();
      port.key.set(raw);
      if (!lookupElem(port, 0, this.core)) continue;
      yield [key, this.valueCodec.decode(this.valueView!, 0)];
    }
  }

  /** Every value. */
  *values(): Generator<V, void, undefined> {
    for (const [, v] of this.entries()) yield v;
  }

  [Symbol.iterator](): Generator<[K, V], void, undefined> {
    return this.entries();
  }

  /** Raw key walk with de-duplication; each yielded array is a fresh copy. */
  protected *rawKeys(): Generator<Uint8Array, void, undefined> {
    const seen = new Set<string>();
    const keySize = this.core.info.keySize;
    let fromStart = true;
    let current: Uint8Array | undefined;
    // Each step either yields a new key or re-reads one; bound the re-reads so a map that is being
    // refilled as fast as we walk cannot loop forever.
    let budget = 2 * this.core.info.maxEntries + 64;
    for (;;) {
      const port = this.port();
      if (current) port.key.set(current);
      let more: boolean;
      try {
        more = port.getNextKey(fromStart);
      } catch (e) {
        throw unsupportedOp(e, "BPF_MAP_GET_NEXT_KEY", this.core);
      }
      if (!more) return;
      fromStart = false;
      const next = port.nextKey.slice(0, keySize);
      current = next;
      const id = latin1(next);
      if (seen.has(id)) {
        if (--budget < 0) {
          throw new MapError("ERR_EBPF_MAP_ITERATION_ABORTED", "key iteration kept restarting", {
            mapName: this.name,
          });
        }
        continue;
      }
      seen.add(id);
      yield next;
    }
  }

  /**
   * Every `[key, value]` read with `BPF_MAP_LOOKUP_BATCH`, many elements per syscall.
   *
   * @throws `NotSupportedError` when the kernel has no batch commands for this map type (e.g. per-CPU
   * arrays before Linux 5.13); {@link entries} works on every kernel.
   */
  batchLookup(options?: BatchLookupOptions): [K, V][] {
    return lookupBatch(this.core, this.keyCodec, this.valueCodec, false, options);
  }

  /** Like {@link batchLookup} without decoding: flat key and value arrays (the fastest way to dump a map). */
  batchLookupRaw(options?: BatchLookupOptions): { keys: Uint8Array; values: Uint8Array; count: number } {
    return lookupBatchRaw(this.core, this.valueBufferSize, false, options);
  }

  /**
   * Reads and removes every element with `BPF_MAP_LOOKUP_AND_DELETE_BATCH`.
   *
   * @throws `NotSupportedError` when the map type has no such command (arrays never do).
   */
  batchLookupAndDelete(options?: BatchLookupOptions): [K, V][] {
    return lookupBatch(this.core, this.keyCodec, this.valueCodec, true, options);
  }

  /**
   * Writes many entries with one `BPF_MAP_UPDATE_BATCH`; returns how many were written.
   *
   * @throws `NotSupportedError` when the kernel has no batch update for this map type.
   */
  batchUpdate(entries: Iterable<readonly [K, V]>, options?: BatchWriteOptions): number {
    return updateBatch(this.core, this.keyCodec, this.valueCodec, entries, options);
  }

  /**
   * Deletes many keys with one `BPF_MAP_DELETE_BATCH`; returns how many were deleted.
   *
   * @throws `NotSupportedError` when the map type has no such command (arrays never do).
   */
  batchDelete(keys: Iterable<K>, options?: BatchWriteOptions): number {
    return deleteBatch(this.core, this.keyCodec, keys, options);
  }

  /** Makes the map read-only for user space (`BPF_MAP_FREEZE`); programs can still write. */
  freeze(): void {
    this.core.kernel.freeze(this.core.fd("freeze()"));
  }

  /** Pins the map at `path` under a bpffs mount (e.g. `/sys/fs/bpf/my_map`). */
  pin(path: string): void {
    this.core.kernel.pin(this.core.fd("pin()"), path);
    this.core.pinnedPath = path;
  }

  /** Removes the pin made by {@link pin} (or the one at `path`). The map stays open. */
  unpin(path = this.core.pinnedPath): void {
    if (!path)
      throw new MapError("ERR_EBPF_MAP_NOT_PINNED", "unpin(): the map was not pinned by this handle");
    if (!this.core.kernel.unpin(path)) {
      throw new MapError("ERR_EBPF_MAP_PIN_NOT_FOUND", `nothing is pinned at ${path}`, {
        mapName: this.name,
      });
    }
    if (path === this.core.pinnedPath) this.core.pinnedPath = undefined;
  }

  /** Releases the map's mmaps and readers, then closes its fd. Idempotent. Pins keep the map alive. */
  close(): void {
    this.core.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /** Hands a shared reference to another view of the same map (same fd owner). */
  protected get keyBuffer(): DataView {
    this.port();
    return this.keyView!;
  }
  protected get valueBuffer(): DataView {
    this.port();
    return this.valueView!;
  }
  protected get nextKeyBuffer(): DataView {
    this.port();
    return this.nextKeyView!;
  }
}

function latin1(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]!);
  return s;
}
