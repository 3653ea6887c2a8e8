/**
 * Creating and opening maps at the handle level: from a spec, a pin path, an id, or an fd. Turns
 * "the kernel cannot create this type" into `NotSupportedError` by probing the type alone.
 */
import { BtfBuilder } from "@ebpf/btf";
import { NotSupportedError } from "@ebpf/sys";
import { BpfFlags, BpfMapType } from "./abi.js";
import { MapCore } from "./core.js";
import { MapError, MapTypeError } from "./errors.js";
import { type MapCreateRequest, type MapKernel, mapKernel } from "./kernel.js";
import { type MapSpec, type MapTypeName, mapTypeMinKernel, mapTypeName, mapTypeNumber } from "./spec.js";

/** Options of map creation. */
export interface CreateMapOptions {
  /** fd of the inner map template for map-in-map types (default: created from `spec.innerMap`). */
  innerMapFd?: number;
}

const knownTypes = new Set<number>(Object.values(BpfMapType));
const probeCache = new Map<number, boolean>();

/** Smallest spec the kernel accepts for each type, used to tell "unsupported type" from "bad spec". */
function probeRequest(type: number, pageSize: number): MapCreateRequest | undefined {
  const T = BpfMapType;
  const base = { type, keySize: 4, valueSize: 4, maxEntries: 1, flags: 0, name: "" };
  switch (type) {
    case T.RINGBUF:
    case T.USER_RINGBUF:
      return { ...base, keySize: 0, valueSize: 0, maxEntries: pageSize };
    case T.QUEUE:
    case T.STACK:
      return { ...base, keySize: 0 };
    case T.BLOOM_FILTER:
      return { ...base, keySize: 0 };
    case T.LPM_TRIE:
      return { ...base, keySize: 8, flags: BpfFlags.BPF_F_NO_PREALLOC };
    case T.STACK_TRACE:
      return { ...base, valueSize: 8 };
    case T.CGROUP_STORAGE:
    case T.PERCPU_CGROUP_STORAGE:
      return { ...base, keySize: 8, valueSize: 8, maxEntries: 0 };
    case T.ARENA:
      return { ...base, keySize: 0, valueSize: 0, flags: BpfFlags.BPF_F_MMAPABLE };
    default:
      return undefined; // needs BTF, an inner map or a special fd: not probed
  }
}

/**
 * True when the kernel can create maps of `type` (cached), or undefined when it cannot be probed (struct_ops
 * needs a kernel struct type). Local storage and map-in-map types are probed with the BTF / inner map they need.
 */
export function probeMapType(type: number, kernel: MapKernel = mapKernel()): boolean | undefined {
  const cached = probeCache.get(type);
  if (cached !== undefined) return cached;
  const req = probeRequest(type, kernel.pageSize());
  if (!req) {
    const full = kernel.probeMapType?.(type);
    if (full !== undefined) probeCache.set(type, full);
    return full;
  }
  let ok = false;
  try {
    kernel.close(kernel.createMap(req));
    ok = true;
  } catch {
    ok = false;
  }
  probeCache.set(type, ok);
  return ok;
}

function notSupported(type: number, cause: unknown): NotSupportedError {
  const name = mapTypeName(type);
  return new NotSupportedError({
    feature: `map type ${name}`,
    minKernel: mapTypeMinKernel[name as MapTypeName],
    cause,
  });
}

/** Builds the `BPF_MAP_CREATE` request of a spec (validating it). */
export function createRequest(spec: MapSpec, innerMapFd?: number): MapCreateRequest {
  const type = mapTypeNumber(spec.type);
  const name = spec.name ?? "";
  for (const [field, value] of [
    ["keySize", spec.keySize],
    ["valueSize", spec.valueSize],
    ["maxEntries", spec.maxEntries],
  ] as const) {
    if (!Number.isInteger(value) || value < 0 || value > 0xffff_ffff) {
      throw new MapTypeError(`spec.${field} must be an unsigned 32-bit integer, got ${value}`, name);
    }
  }
  return {
    type,
    keySize: spec.keySize,
    valueSize: spec.valueSize,
    maxEntries: spec.maxEntries,
    flags: spec.flags ?? 0,
    name: sanitizeName(name),
    innerMapFd,
    numaNode: spec.numaNode,
    mapExtra: spec.mapExtra === undefined ? undefined : BigInt(spec.mapExtra),
    btfFd: spec.btfFd,
    // Type ids mean nothing to the kernel without the BTF they index.
    btfKeyTypeId: spec.btfFd === undefined ? undefined : (spec.btfKeyTypeId ?? spec.keyTypeId),
    btfValueTypeId: spec.btfFd === undefined ? undefined : (spec.btfValueTypeId ?? spec.valueTypeId),
    btfVmlinuxValueTypeId: spec.btfVmlinuxValueTypeId,
  };
}

/** The kernel takes 15 characters of `[A-Za-z0-9_.]`. */
function sanitizeName(name: string): string {
  return name.replace(/[^A-Za-z0-9_.]/g, "_").slice(0, 15);
}

let placeholder: Uint8Array | undefined;
/** One `int`: the smallest BTF the kernel loads. */
function placeholderBtf(): Uint8Array {
  if (!placeholder) {
    const b = new BtfBuilder();
    b.addInt("int", 4, 1);
    placeholder = b.marshal();
  }
  return placeholder;
}

/**
 * A struct_ops map's value type is kernel BTF, yet the kernel also insists on a BTF fd in the request
 * (libbpf passes the object's): lend a placeholder when the spec has none. Returns the fd to close.
 */
function lendStructOpsBtf(spec: MapSpec, type: number, kernel: MapKernel): number | undefined {
  if (type !== BpfMapType.STRUCT_OPS || !spec.btfVmlinuxValueTypeId || spec.btfFd !== undefined)
    return undefined;
  return kernel.loadBtf?.(placeholderBtf());
}

/**
 * Creates a map from a spec. Unknown types give `MapTypeError`; types the host lacks `NotSupportedError`.
 * A struct_ops spec needs only `btfVmlinuxValueTypeId` (a placeholder BTF fd is lent when `btfFd` is absent).
 */
export function createMapCore(spec: MapSpec, options: CreateMapOptions = {}, kernel = mapKernel()): MapCore {
  const type = mapTypeNumber(spec.type);
  if (!knownTypes.has(type)) throw new MapTypeError(`unknown map type ${type}`, spec.name);
  let innerFd = options.innerMapFd;
  let ownInner: number | undefined;
  if (innerFd === undefined && spec.innerMap) {
    ownInner = kernel.createMap(createRequest(spec.innerMap));
    innerFd = ownInner;
  }
  let lentBtf: number | undefined;
  try {
    lentBtf = lendStructOpsBtf(spec, type, kernel);
    const req = createRequest(lentBtf === undefined ? spec : { ...spec, btfFd: lentBtf }, innerFd);
    let fd: number;
    try {
      fd = kernel.createMap(req);
    } catch (e) {
      if (probeMapType(type, kernel) === false) throw notSupported(type, e);
      throw e;
    }
    const core = MapCore.adopt(fd, kernel);
    core.specTypeIds = {
      key: spec.btfKeyTypeId ?? spec.keyTypeId ?? 0,
      value: spec.btfValueTypeId ?? spec.valueTypeId ?? 0,
    };
    return core;
  } finally {
    if (ownInner !== undefined) kernel.close(ownInner);
    if (lentBtf !== undefined) kernel.close(lentBtf);
  }
}

/** Opens the map pinned at `path`. */
export function pinnedMapCore(
  path: string,
  options: { readOnly?: boolean } = {},
  kernel = mapKernel(),
): MapCore {
  const fd = kernel.getPinned(path, options.readOnly ?? false);
  if (fd === undefined) throw new MapError("ERR_EBPF_MAP_PIN_NOT_FOUND", `nothing is pinned at ${path}`);
  return MapCore.adopt(fd, kernel);
}

/** Opens the map with kernel id `id`. */
export function mapCoreById(id: number, kernel = mapKernel()): MapCore {
  return MapCore.adopt(kernel.fdById(id), kernel);
}

/** Wraps a map fd. The fd is duplicated: the caller keeps ownership of `fd`. */
export function mapCoreFromFd(fd: number, kernel = mapKernel()): MapCore {
  return MapCore.adopt(kernel.dup(fd), kernel);
}
