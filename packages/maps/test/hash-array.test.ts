import { BpfMapType } from "@ebpf/sys";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { setMapKernel } from "../src/kernel.js";
import { FakeKernel } from "./fake-kernel.js";
import {
  ArrayMap,
  BpfFlagsForTest,
  codecs,
  HashMap,
  MapClosedError,
  MapSizeError,
  MapTypeError,
  PerCpuArray,
  PerCpuHashMap,
} from "./harness.js";

let k: FakeKernel;
beforeEach(() => {
  k = new FakeKernel();
  setMapKernel(k);
});
afterEach(() => setMapKernel(undefined));

const spec = { keySize: 4, valueSize: 8, maxEntries: 8, name: "t" };

describe("HashMap over the fake kernel", () => {
  it("sets, gets, deletes and reports absence", () => {
    using m = HashMap.create(spec, { keyCodec: codecs.u32, valueCodec: codecs.u64 });
    expect(m.get(1)).toBeUndefined();
    m.set(1, 10n);
    m.set(2, 20n);
    expect(m.get(1)).toBe(10n);
    expect(m.has(2)).toBe(true);
    expect(m.delete(2)).toBe(true);
    expect(m.delete(2)).toBe(false);
    expect(m.has(2)).toBe(false);
  });

  it("honours NOEXIST and EXIST", () => {
    using m = HashMap.create(spec, { keyCodec: codecs.u32, valueCodec: codecs.u64 });
    m.set(1, 1n, { mode: "noexist" });
    expect(() => m.set(1, 2n, { mode: "noexist" })).toThrow(/EEXIST/);
    expect(() => m.set(5, 2n, { mode: "exist" })).toThrow(/ENOENT/);
    m.set(1, 3n, { mode: "exist" });
    expect(m.get(1)).toBe(3n);
  });

  it("iterates keys while the loop deletes them, each key once", () => {
    using m = HashMap.create(spec, { keyCodec: codecs.u32, valueCodec: codecs.u64 });
    for (let i = 0; i < 6; i++) m.set(i, BigInt(i * i));
    const seen: number[] = [];
    for (const key of m.keys()) {
      seen.push(key);
      m.delete(key);
    }
    expect(seen.sort()).toEqual([0, 1, 2, 3, 4, 5]);
    expect([...m.keys()]).toEqual([]);
  });

  it("does not yield a key twice when the walk restarts after a concurrent delete", () => {
    using m = HashMap.create(spec, { keyCodec: codecs.u32, valueCodec: codecs.u64 });
    for (let i = 0; i < 5; i++) m.set(i, 0n);
    const seen: number[] = [];
    for (const key of m.keys()) {
      seen.push(key);
      if (key === 2) m.delete(2); // the kernel then restarts from the first key
    }
    expect(seen).toEqual([0, 1, 2, 3, 4]);
  });

  it("entries() decodes both sides", () => {
    using m = HashMap.create(spec, { keyCodec: codecs.u32, valueCodec: codecs.u64 });
    m.set(7, 49n);
    m.set(8, 64n);
    expect(new Map(m.entries())).toEqual(
      new Map([
        [7, 49n],
        [8, 64n],
      ]),
    );
  });

  it("checks codec sizes against the map when constructed, and closes what it created", () => {
    const before = k.openFds();
    expect(() => HashMap.create(spec, { keyCodec: codecs.u64 })).toThrow(MapSizeError);
    expect(() => HashMap.create(spec, { valueCodec: codecs.u32 })).toThrow(
      /value is 4 bytes, the map's value size is 8/,
    );
    expect(k.openFds()).toBe(before);
  });

  it("rejects raw keys of the wrong size with a typed error", () => {
    using m = HashMap.create(spec);
    expect(() => m.get(new Uint8Array(3))).toThrow(MapSizeError);
    m.set(new Uint8Array([1, 0, 0, 0]), new Uint8Array(8).fill(9));
    expect(m.get(new Uint8Array([1, 0, 0, 0]))).toEqual(new Uint8Array(8).fill(9));
    expect(() => m.set(new Uint8Array(4), new Uint8Array(9))).toThrow(/value is 9 bytes/);
  });

  it("throws MapClosedError after close and closes the fd once", () => {
    const m = HashMap.create(spec, { keyCodec: codecs.u32, valueCodec: codecs.u64 });
    const fd = m.fd;
    m.close();
    expect(k.fds.has(fd)).toBe(false);
    expect(() => m.get(1)).toThrow(MapClosedError);
    expect(() => m.fd).toThrow(MapClosedError);
    m.close();
  });

  it("refuses to wrap a map of another type", () => {
    using a = ArrayMap.create(spec);
    expect(() => HashMap.open(a)).toThrow(MapTypeError);
    expect(() => HashMap.open({ id: a.info().id })).toThrow(
      /HashMap needs a map of type hash or lru_hash, this is array/,
    );
  });

  it("batch update, lookup, delete, lookup-and-delete", () => {
    using m = HashMap.create({ ...spec, maxEntries: 100 }, { keyCodec: codecs.u32, valueCodec: codecs.u64 });
    const entries = Array.from({ length: 50 }, (_, i) => [i, BigInt(i * 3)] as const);
    expect(m.batchUpdate(entries)).toBe(50);
    const got = m.batchLookup({ batchSize: 7 });
    expect(new Map(got)).toEqual(new Map(entries));
    expect(m.batchDelete([0, 1, 2])).toBe(3);
    expect(m.has(1)).toBe(false);
    const raw = m.batchLookupRaw();
    expect(raw.count).toBe(47);
    expect(m.batchLookupAndDelete({ batchSize: 10 }).length).toBe(47);
    expect([...m.keys()]).toEqual([]);
  });

  it("pins, reopens from the pin, unpins; a missing pin is a typed error", () => {
    using m = HashMap.create(spec, { keyCodec: codecs.u32, valueCodec: codecs.u64 });
    m.set(3, 9n);
    m.pin("/sys/fs/bpf/fake");
    using again = HashMap.fromPin("/sys/fs/bpf/fake", { keyCodec: codecs.u32, valueCodec: codecs.u64 });
    expect(again.get(3)).toBe(9n);
    m.unpin();
    expect(() => HashMap.fromPin("/sys/fs/bpf/fake")).toThrow(
      expect.objectContaining({ code: "ERR_EBPF_MAP_PIN_NOT_FOUND" }),
    );
  });

  it("freeze makes user-space writes fail and info reports it", () => {
    using m = HashMap.create(spec, { keyCodec: codecs.u32, valueCodec: codecs.u64 });
    expect(m.info().frozen).toBe(false);
    m.freeze();
    expect(m.info()).toMatchObject({
      frozen: true,
      typeName: "hash",
      keySize: 4,
      valueSize: 8,
      maxEntries: 8,
      name: "t",
    });
    expect(() => m.set(1, 1n)).toThrow(/EPERM/);
  });
});

describe("per-CPU values", () => {
  it("lays out one 8-byte-rounded slot per possible CPU", () => {
    k.cpus = 3;
    using m = PerCpuHashMap.create(
      { keySize: 4, valueSize: 4, maxEntries: 4 },
      { keyCodec: codecs.u32, valueCodec: codecs.u32 },
    );
    expect(m.valueBufferSize).toBe(24);
    m.set(1, [10, 20, 30]);
    expect(m.get(1)).toEqual([10, 20, 30]);
    const raw = k.fds.get(m.fd)!.hash.values().next().value!;
    expect([...raw]).toEqual([10, 0, 0, 0, 0, 0, 0, 0, 20, 0, 0, 0, 0, 0, 0, 0, 30, 0, 0, 0, 0, 0, 0, 0]);
    expect(() => m.set(1, [1, 2])).toThrow(/one entry per possible CPU \(3\), got 2/);
  });

  it("per-CPU batch lookups decode arrays", () => {
    k.cpus = 2;
    using m = PerCpuArray.create({ keySize: 4, valueSize: 8, maxEntries: 3 }, { valueCodec: codecs.u64 });
    m.set(1, [5n, 6n]);
    expect(m.batchLookup()).toEqual([
      [0, [0n, 0n]],
      [1, [5n, 6n]],
      [2, [0n, 0n]],
    ]);
  });
});

describe("batch commands the kernel lacks for a map type", () => {
  it("give NotSupportedError naming the command, map type and first kernel; entries() still works", async () => {
    const { NotSupportedError } = await import("./harness.js");
    k.cpus = 2;
    k.batchUnsupported.add(BpfMapType.PERCPU_ARRAY);
    using m = PerCpuArray.create({ keySize: 4, valueSize: 8, maxEntries: 2 }, { valueCodec: codecs.u64 });
    m.set(1, [5n, 6n]);
    const cases: [() => unknown, string, string | undefined][] = [
      [() => m.batchLookup(), "BPF_MAP_LOOKUP_BATCH", "5.13"],
      [() => m.batchLookupRaw(), "BPF_MAP_LOOKUP_BATCH", "5.13"],
      [() => m.batchUpdate([[0, [1n, 2n]]]), "BPF_MAP_UPDATE_BATCH", "5.13"],
      [() => m.batchDelete([0]), "BPF_MAP_DELETE_BATCH", undefined], // arrays never delete
    ];
    for (const [call, command, minKernel] of cases) {
      let err: unknown;
      try {
        call();
      } catch (e) {
        err = e;
      }
      expect(err, command).toBeInstanceOf(NotSupportedError);
      expect(err, command).toMatchObject({
        code: "ERR_EBPF_NOT_SUPPORTED",
        feature: `${command} on percpu_array maps`,
        minKernel,
        cause: expect.objectContaining({ errnoName: "ENOTSUPP" }),
      });
    }
    expect([...m.entries()]).toEqual([
      [0, [0n, 0n]],
      [1, [5n, 6n]],
    ]);
  });

  it("other batch errors stay syscall errors", () => {
    using m = HashMap.create(spec, { keyCodec: codecs.u32, valueCodec: codecs.u64 });
    expect(() => m.batchDelete([7])).toThrow(expect.objectContaining({ code: "ERR_EBPF_SYSCALL" }));
  });
});

describe("ArrayMap", () => {
  it("uses numeric indices and exposes BPF_F_MMAPABLE memory live", () => {
    using a = ArrayMap.create(
      { keySize: 4, valueSize: 4, maxEntries: 4, flags: BpfFlagsForTest.BPF_F_MMAPABLE },
      { valueCodec: codecs.u32 },
    );
    a.set(2, 77);
    const mem = a.mmap();
    expect(mem.view.getUint32(2 * a.elementStride, true)).toBe(77);
    mem.view.setUint32(3 * a.elementStride, 5, true);
    expect(a.get(3)).toBe(5);
    a.close();
    expect(mem.closed).toBe(true);
    expect(k.unmapped.length).toBe(1);
    expect(() => mem.view).toThrow(MapClosedError);
  });

  it("refuses mmap without BPF_F_MMAPABLE", () => {
    using a = ArrayMap.create({ keySize: 4, valueSize: 4, maxEntries: 4 });
    expect(() => a.mmap()).toThrow(expect.objectContaining({ code: "ERR_EBPF_MAP_NOT_MMAPABLE" }));
  });
});

describe("type support", () => {
  it("a type the kernel refuses (and the probe confirms missing) gives NotSupportedError with the minimum kernel", async () => {
    const { createMap, NotSupportedError } = await import("./harness.js");
    k.unsupported.add(27); // ringbuf
    let err: unknown;
    try {
      createMap({ type: "ringbuf", keySize: 0, valueSize: 0, maxEntries: 4096 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(NotSupportedError);
    expect((err as InstanceType<typeof NotSupportedError>).message).toMatch(/map type ringbuf.*5\.8/);
    expect(k.openFds()).toBe(0);
  });

  it("a local storage type (probed with BTF by the kernel seam) the kernel refuses gives NotSupportedError", async () => {
    const { CgrpStorage, mapTypeNumber, NotSupportedError } = await import("./harness.js");
    const type = mapTypeNumber("cgrp_storage");
    k.unsupported.add(type);
    let err: unknown;
    try {
      CgrpStorage.create({
        keySize: 4,
        valueSize: 8,
        maxEntries: 0,
        btfFd: 3,
        btfKeyTypeId: 1,
        btfValueTypeId: 2,
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(NotSupportedError);
    expect(err).toMatchObject({ feature: "map type cgrp_storage", minKernel: "6.2" });
    expect(k.openFds()).toBe(0);
  });

  it("a bad spec for a supported type is not reported as unsupported", async () => {
    const { createMap } = await import("./harness.js");
    expect(() => createMap({ type: "hash", keySize: 4, valueSize: 4, maxEntries: 0 })).toThrow(/EINVAL/);
  });

  it("unknown types are MapTypeError before any syscall", async () => {
    const { createMap, MapTypeError } = await import("./harness.js");
    const calls = k.calls;
    expect(() => createMap({ type: 4242, keySize: 4, valueSize: 4, maxEntries: 1 })).toThrow(MapTypeError);
    expect(k.calls).toBe(calls);
  });
});
