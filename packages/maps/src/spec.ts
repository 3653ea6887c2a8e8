/**
 * The map description accepted by `createMap`: a structural match for `@ebpf/elf`'s `MapSpec`, or
 * written by hand.
 */
import { BpfMapType } from "./abi.js";
import { MapTypeError } from "./errors.js";

/** Map type names as in `enum bpf_map_type`, lower case without the prefix (`"hash"`, `"ringbuf"`…). */
export type MapTypeName = Lowercase<Exclude<keyof typeof BpfMapType, `${string}_DEPRECATED` | "UNSPEC">>;

/** How a map is pinned when created from an object file (libbpf's `LIBBPF_PIN_*`). */
export type MapPinning = "none" | "byName";

/**
 * Everything needed to create a map. Field names follow `@ebpf/elf`'s `MapSpec`.
 *
 * @example
 * ```ts
 * const spec: MapSpec = { name: "counts", type: "hash", keySize: 4, valueSize: 8, maxEntries: 1024 };
 * ```
 */
export interface MapSpec {
  /** Name (the kernel keeps the first 15 characters). */
  name?: string;
  /** `enum bpf_map_type` value or its name. */
  type: number | MapTypeName;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  /** `BPF_F_*` map flags. */
  flags?: number;
  /** The inner map's spec, for `array_of_maps` / `hash_of_maps`. */
  innerMap?: MapSpec | undefined;
  /** Pinning requested by the object file; honoured by the loader together with a pin path. */
  pinning?: MapPinning | number;
  numaNode?: number | undefined;
  /** `map_extra` (bloom filter hash count, arena address…). */
  mapExtra?: number | bigint;
  /** fd of loaded BTF describing key and value, with their type ids (sent to the kernel only with `btfFd`). */
  btfFd?: number;
  btfKeyTypeId?: number;
  btfValueTypeId?: number;
  /** `@ebpf/elf`'s names for the key/value BTF type ids (used when `btfKeyTypeId`/`btfValueTypeId` are absent). */
  keyTypeId?: number;
  valueTypeId?: number;
  /** For struct_ops maps: the kernel (vmlinux) BTF id of the value type. */
  btfVmlinuxValueTypeId?: number;
}

const nameByType = new Map<number, MapTypeName>();
for (const [name, value] of Object.entries(BpfMapType)) {
  if (name === "UNSPEC" || name.endsWith("_DEPRECATED")) continue;
  nameByType.set(value, name.toLowerCase() as MapTypeName);
}

/** The numeric map type of a spec's `type`, checking names and numbers. */
export function mapTypeNumber(type: number | string): number {
  if (typeof type === "number") {
    if (!Number.isInteger(type) || type <= 0) throw new MapTypeError(`unknown map type ${type}`);
    return type;
  }
  const value = (BpfMapType as Record<string, number>)[type.toUpperCase()];
  if (value === undefined || type.toUpperCase() === "UNSPEC") {
    throw new MapTypeError(`unknown map type "${type}"`);
  }
  return value;
}

/** The name of a numeric map type, or `type <n>` when this library does not know it. */
export function mapTypeName(type: number): string {
  return nameByType.get(type) ?? `type ${type}`;
}

/** The first mainline kernel with each map type, for `NotSupportedError`. */
export const mapTypeMinKernel: Readonly<Partial<Record<MapTypeName, string>>> = {
  hash: "3.19",
  array: "3.19",
  prog_array: "4.2",
  perf_event_array: "4.3",
  percpu_hash: "4.6",
  percpu_array: "4.6",
  stack_trace: "4.6",
  cgroup_array: "4.8",
  lru_hash: "4.10",
  lru_percpu_hash: "4.10",
  lpm_trie: "4.11",
  array_of_maps: "4.12",
  hash_of_maps: "4.12",
  devmap: "4.14",
  sockmap: "4.14",
  cpumap: "4.15",
  xskmap: "4.18",
  sockhash: "4.18",
  cgroup_storage: "4.19",
  reuseport_sockarray: "4.19",
  percpu_cgroup_storage: "4.20",
  queue: "4.20",
  stack: "4.20",
  sk_storage: "5.2",
  devmap_hash: "5.4",
  struct_ops: "5.6",
  ringbuf: "5.8",
  inode_storage: "5.10",
  task_storage: "5.11",
  bloom_filter: "5.16",
  user_ringbuf: "6.1",
  cgrp_storage: "6.2",
  arena: "6.9",
};
