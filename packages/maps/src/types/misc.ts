/**
 * `StackTraceMap`, `Arena` and `StructOpsMap`.
 */
import { BpfFlags, BpfMapType } from "../abi.js";
import { btfCodec } from "../btf-codec.js";
import { type Codec, codecs, hostIsLittleEndian } from "../codec.js";
import type { MapCore } from "../core.js";
import { createWith, expectType, type MapSource, openWith, type TypedMapSpec } from "../factory.js";
import { BpfMap, type MapCodecs } from "../map.js";
import { MappedMapMemory } from "../mmap.js";
import type { CreateMapOptions } from "../open.js";

/** Instruction pointers of one stack (`value_size / 8` u64 slots; unused slots are 0n and trimmed). */
function stackCodec(valueSize: number): Codec<bigint[]> {
  const depth = Math.floor(valueSize / 8);
  return {
    size: valueSize,
    encode(ips, view, offset) {
      for (let i = 0; i < depth; i++) view.setBigUint64(offset + i * 8, ips[i] ?? 0n, hostIsLittleEndian);
    },
    decode(view, offset) {
      const out: bigint[] = [];
      for (let i = 0; i < depth; i++) {
        const ip = view.getBigUint64(offset + i * 8, hostIsLittleEndian);
        if (ip === 0n) break;
        out.push(ip);
      }
      return out;
    },
  };
}

/** `BPF_MAP_TYPE_STACK_TRACE`: stack ids (from `bpf_get_stackid`) → instruction pointers. */
export class StackTraceMap extends BpfMap<number, bigint[]> {
  constructor(source: MapCore | BpfMap<unknown, unknown>) {
    const core = "core" in source ? source.core : source;
    super(core, { keyCodec: codecs.u32, valueCodec: stackCodec(core.info.valueSize) });
    expectType(this.core, [BpfMapType.STACK_TRACE], "StackTraceMap");
  }
  /** Creates a map of this type from `spec` (the type may be omitted). */
  static create(spec: TypedMapSpec, o?: CreateMapOptions): StackTraceMap {
    return createWith(spec, BpfMapType.STACK_TRACE, (core) => new StackTraceMap(core), o);
  }
  /** Wraps an existing map of this type: by pin path, id, fd (duplicated) or another map object. */
  static open(source: MapSource): StackTraceMap {
    return openWith(source, (core) => new StackTraceMap(core));
  }
}

/**
 * `BPF_MAP_TYPE_ARENA`: a sparse region of `maxEntries` pages shared between programs and user space.
 * Use {@link ArenaMap.mmap} to reach it.
 */
export class ArenaMap extends BpfMap<Uint8Array, Uint8Array> {
  constructor(source: MapCore | BpfMap<unknown, unknown>) {
    super(source);
    expectType(this.core, [BpfMapType.ARENA], "Arena");
  }
  /** Creates a map of this type from `spec` (the type may be omitted). */
  static create(spec: Omit<TypedMapSpec, "keySize" | "valueSize">, o?: CreateMapOptions): ArenaMap {
    return createWith(
      { ...spec, keySize: 0, valueSize: 0, flags: (spec.flags ?? 0) | BpfFlags.BPF_F_MMAPABLE },
      BpfMapType.ARENA,
      (core) => new ArenaMap(core),
      o,
    );
  }
  /** Wraps an existing map of this type: by pin path, id, fd (duplicated) or another map object. */
  static open(source: MapSource): ArenaMap {
    return openWith(source, (core) => new ArenaMap(core));
  }
  /** Maps the whole arena (`maxEntries` pages), read-write. */
  mmap(): MappedMapMemory {
    return new MappedMapMemory(this.core, this.maxEntries * this.core.kernel.pageSize(), true);
  }
}

/**
 * Value codecs of a {@link StructOpsMap}: an explicit `valueCodec`, or `btf` = the kernel's BTF
 * (`loadKernelBtf()`) to decode the value struct named by the map's `btfVmlinuxValueTypeId`.
 */
export type StructOpsCodecs<V> = Pick<MapCodecs<number, V>, "valueCodec" | "btf" | "btfOptions">;

/**
 * `BPF_MAP_TYPE_STRUCT_OPS`: one element (key 0) whose value is a kernel struct of function pointers
 * (`spec.btfVmlinuxValueTypeId` names it, e.g. `bpf_struct_ops_tcp_congestion_ops`). Usually created
 * and filled by the loader; this class gives access to the value, raw or decoded through kernel BTF.
 *
 * @example
 * ```ts
 * const vmlinux = loadKernelBtf();
 * const id = vmlinux.findIdByName("bpf_struct_ops_tcp_congestion_ops", BtfKind.Struct)!;
 * using ops = StructOpsMap.create(
 *   { keySize: 4, valueSize: vmlinux.sizeOf(id), maxEntries: 1, btfVmlinuxValueTypeId: id },
 *   { btf: vmlinux },
 * );
 * ops.get(0); // { common: { refcnt: ..., state: 0 }, data: { ... } } (the layout of the running kernel)
 * ```
 */
export class StructOpsMap<V = Uint8Array> extends BpfMap<number, V> {
  constructor(source: MapCore | BpfMap<unknown, unknown>, c: StructOpsCodecs<V> = {}) {
    const core = "core" in source ? source.core : source;
    const valueTypeId = core.info.btfVmlinuxValueTypeId ?? 0;
    const fromKernelBtf = c.btf ? btfCodec<V>(c.btf, valueTypeId, c.btfOptions) : undefined;
    super(core, { keyCodec: codecs.u32, valueCodec: c.valueCodec ?? fromKernelBtf });
    expectType(this.core, [BpfMapType.STRUCT_OPS], "StructOpsMap");
  }
  /** Creates a map of this type from `spec` (the type may be omitted). */
  static create<V = Uint8Array>(spec: TypedMapSpec, c?: StructOpsCodecs<V>, o?: CreateMapOptions) {
    return createWith(spec, BpfMapType.STRUCT_OPS, (core) => new StructOpsMap<V>(core, c), o);
  }
  /** Wraps an existing map of this type: by pin path, id, fd (duplicated) or another map object. */
  static open<V = Uint8Array>(source: MapSource, c?: StructOpsCodecs<V>) {
    return openWith(source, (core) => new StructOpsMap<V>(core, c));
  }
}
