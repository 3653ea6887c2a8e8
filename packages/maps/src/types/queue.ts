/**
 * Keyless maps: `Queue` (FIFO), `Stack` (LIFO) and `BloomFilter`.
 */
import type { Btf, CodecOptions } from "@ebpf/btf";
import { BpfFlags, BpfMapType } from "../abi.js";
import type { Codec } from "../codec.js";
import type { MapCore } from "../core.js";
import { MapSizeError } from "../errors.js";
import { createWith, expectType, type MapSource, openWith, type TypedMapSpec } from "../factory.js";
import { BpfMap } from "../map.js";
import type { CreateMapOptions } from "../open.js";

/** A spec for keyless maps: no key size. */
export type KeylessMapSpec = Omit<TypedMapSpec, "keySize">;

/** The value codec of a map whose key is fixed by its type; `btf` derives it from the map's BTF. */
export interface ValueCodec<V> {
  valueCodec?: Codec<V>;
  btf?: Btf;
  btfOptions?: CodecOptions;
}

const noKey: Codec<undefined> = { size: 0, encode() {}, decode: () => undefined };

/** Shared push/pop/peek of queues and stacks. */
abstract class KeylessMap<V> extends BpfMap<undefined, V> {
  constructor(source: MapCore | BpfMap<unknown, unknown>, c: ValueCodec<V> = {}) {
    const core = "core" in source ? source.core : source;
    super(core, { ...c, keyCodec: noKey });
  }

  /** Adds `value`. When full, fails with E2BIG unless `overwrite` (BPF_EXIST) drops the oldest element. */
  push(value: V, options: { overwrite?: boolean } = {}): void {
    this.set(undefined, value, options.overwrite ? BpfFlags.BPF_EXIST : BpfFlags.BPF_ANY);
  }

  /** Removes and returns the next element, or `undefined` when empty. */
  pop(): V | undefined {
    const port = this.port();
    if (!port.lookupAndDelete(0)) return undefined;
    return this.valueCodec.decode(this.valueBuffer, 0);
  }

  /** Returns the next element without removing it, or `undefined` when empty. */
  peek(): V | undefined {
    return this.get(undefined);
  }
}

/** `BPF_MAP_TYPE_QUEUE`: first in, first out. */
export class Queue<V = Uint8Array> extends KeylessMap<V> {
  constructor(source: MapCore | BpfMap<unknown, unknown>, c?: ValueCodec<V>) {
    super(source, c);
    expectType(this.core, [BpfMapType.QUEUE], "Queue");
  }
  /** Creates a map of this type from `spec` (the type may be omitted). */
  static create<V = Uint8Array>(spec: KeylessMapSpec, c?: ValueCodec<V>, o?: CreateMapOptions): Queue<V> {
    return createWith({ ...spec, keySize: 0 }, BpfMapType.QUEUE, (core) => new Queue(core, c), o);
  }
  /** Wraps an existing map of this type: by pin path, id, fd (duplicated) or another map object. */
  static open<V = Uint8Array>(source: MapSource, c?: ValueCodec<V>): Queue<V> {
    return openWith(source, (core) => new Queue(core, c));
  }
}

/** `BPF_MAP_TYPE_STACK`: last in, first out. */
export class Stack<V = Uint8Array> extends KeylessMap<V> {
  constructor(source: MapCore | BpfMap<unknown, unknown>, c?: ValueCodec<V>) {
    super(source, c);
    expectType(this.core, [BpfMapType.STACK], "Stack");
  }
  /** Creates a map of this type from `spec` (the type may be omitted). */
  static create<V = Uint8Array>(spec: KeylessMapSpec, c?: ValueCodec<V>, o?: CreateMapOptions): Stack<V> {
    return createWith({ ...spec, keySize: 0 }, BpfMapType.STACK, (core) => new Stack(core, c), o);
  }
  /** Wraps an existing map of this type: by pin path, id, fd (duplicated) or another map object. */
  static open<V = Uint8Array>(source: MapSource, c?: ValueCodec<V>): Stack<V> {
    return openWith(source, (core) => new Stack(core, c));
  }
}

/**
 * `BPF_MAP_TYPE_BLOOM_FILTER`: `add` values, then `has` answers "maybe" (true) or "definitely not"
 * (false). `spec.mapExtra` sets the number of hash functions (default 5).
 */
export class BloomFilter<V = Uint8Array> extends BpfMap<undefined, V> {
  constructor(source: MapCore | BpfMap<unknown, unknown>, c: ValueCodec<V> = {}) {
    const core = "core" in source ? source.core : source;
    super(core, { ...c, keyCodec: noKey });
    expectType(this.core, [BpfMapType.BLOOM_FILTER], "BloomFilter");
  }
  /** Creates a map of this type from `spec` (the type may be omitted). */
  static create<V = Uint8Array>(
    spec: KeylessMapSpec,
    c?: ValueCodec<V>,
    o?: CreateMapOptions,
  ): BloomFilter<V> {
    return createWith(
      { ...spec, keySize: 0 },
      BpfMapType.BLOOM_FILTER,
      (core) => new BloomFilter(core, c),
      o,
    );
  }
  /** Wraps an existing map of this type: by pin path, id, fd (duplicated) or another map object. */
  static open<V = Uint8Array>(source: MapSource, c?: ValueCodec<V>): BloomFilter<V> {
    return openWith(source, (core) => new BloomFilter(core, c));
  }
  /** Adds `value` to the set. */
  add(value: V): void {
    this.set(undefined, value);
  }
  /** False when `value` was certainly never added; true when it probably was. */
  mayContain(value: V): boolean {
    const port = this.port();
    this.valueCodec.encode(value, this.valueBuffer, 0);
    return port.lookup(0);
  }
  /** Alias of {@link mayContain} (a bloom filter has no keys). */
  override has(value: V | undefined): boolean {
    if (value === undefined) throw new MapSizeError("value", this.valueSize, 0, this.name);
    return this.mayContain(value);
  }
}
