import { readFileSync } from "node:fs";
import { describeKernel, fdIsOpen, kernelAtLeast } from "@ebpf/testing";
import { afterAll, expect, it } from "vitest";
import { loadProducer } from "../../bench/producers.mjs";
import {
  Arena,
  ArrayMap,
  ArrayOfMaps,
  BloomFilter,
  BpfFlagsForTest as BpfFlags,
  type BpfMap,
  CpuMap,
  codecs,
  createMap,
  DevMap,
  expectNotSupported,
  HashMap,
  LpmTrie,
  LruHashMap,
  MapClosedError,
  MapSizeError,
  MapTypeError,
  mapTypeNumber,
  openMap,
  PerCpuArray,
  PerCpuHashMap,
  ProgramArray,
  probeMapType,
  Queue,
  RingBuf,
  Stack,
  StackTraceMap,
} from "../harness.js";

const tag = `maps_${process.pid}`;
const opened: BpfMap<unknown, unknown>[] = [];
function track<M extends { close(): void }>(m: M): M {
  opened.push(m as unknown as BpfMap<unknown, unknown>);
  return m;
}
afterAll(() => {
  for (const m of opened) m.close();
});

const possibleCpus = (() => {
  const list = readFileSync("/sys/devices/system/cpu/possible", "utf8").trim();
  return Math.max(...list.split(",").map((p) => Number(p.split("-").pop()))) + 1;
})();

describeKernel("maps on the real kernel", () => {
  it("hash map: set/get/delete/has, NOEXIST/EXIST, info, iteration with deletes", () => {
    const m = track(
      HashMap.create(
        { name: "h", keySize: 4, valueSize: 8, maxEntries: 64 },
        { keyCodec: codecs.u32, valueCodec: codecs.u64 },
      ),
    );
    for (let i = 0; i < 10; i++) m.set(i, BigInt(i) * 100n, { mode: "noexist" });
    expect(m.get(3)).toBe(300n);
    expect(m.get(99)).toBeUndefined();
    expect(() => m.set(3, 1n, { mode: "noexist" })).toThrow(/EEXIST/);
    expect(() => m.set(50, 1n, { mode: "exist" })).toThrow(/ENOENT/);
    expect(m.delete(3)).toBe(true);
    expect(m.delete(3)).toBe(false);
    const info = m.info();
    expect(info).toMatchObject({
      typeName: "hash",
      keySize: 4,
      valueSize: 8,
      maxEntries: 64,
      name: "h",
      frozen: false,
    });
    expect(info.id).toBeGreaterThan(0);
    const seen: number[] = [];
    for (const k of m.keys()) {
      seen.push(k);
      m.delete(k);
    }
    expect(seen.sort((a, b) => a - b)).toEqual([0, 1, 2, 4, 5, 6, 7, 8, 9]);
    expect([...m.keys()]).toEqual([]);
  });

  it("batch update / lookup / delete / lookup-and-delete on a hash map", () => {
    const m = track(
      HashMap.create(
        { keySize: 4, valueSize: 8, maxEntries: 1000 },
        { keyCodec: codecs.u32, valueCodec: codecs.u64 },
      ),
    );
    const entries = Array.from({ length: 500 }, (_, i) => [i, BigInt(i * 7)] as const);
    expect(m.batchUpdate(entries)).toBe(500);
    const got = new Map(m.batchLookup({ batchSize: 64 }));
    expect(got.size).toBe(500);
    expect(got.get(123)).toBe(861n);
    expect(m.batchDelete([0, 1, 2, 3])).toBe(4);
    expect(m.has(2)).toBe(false);
    expect(m.batchLookupRaw().count).toBe(496);
    expect(m.batchLookupAndDelete({ batchSize: 100 }).length).toBe(496);
    expect([...m.keys()]).toEqual([]);
  });

  it("per-CPU hash and array: one value per possible CPU, batch too", () => {
    const h = track(
      PerCpuHashMap.create(
        { keySize: 4, valueSize: 4, maxEntries: 8 },
        { keyCodec: codecs.u32, valueCodec: codecs.u32 },
      ),
    );
    const values = Array.from({ length: possibleCpus }, (_, i) => i + 1);
    h.set(1, values);
    expect(h.get(1)).toEqual(values);
    expect(() => h.set(2, [1])).toThrow(/one entry per possible CPU/);
    expect(h.batchLookup()).toEqual([[1, values]]); // per-CPU hash batches since 5.6
    const a = track(PerCpuArray.create({ valueSize: 8, maxEntries: 4 }, { valueCodec: codecs.u64 }));
    a.set(2, values.map(BigInt));
    expect(a.get(2)).toEqual(values.map(BigInt));
    // Per-CPU arrays got BPF_MAP_LOOKUP_BATCH / UPDATE_BATCH in Linux 5.13; entries() works everywhere.
    expect([...a.entries()][2]).toEqual([2, values.map(BigInt)]);
    if (kernelAtLeast("5.13")) {
      const batch = a.batchLookup();
      expect(batch.length).toBe(4);
      expect(batch[2]).toEqual([2, values.map(BigInt)]);
      expect(a.batchUpdate([[3, values.map((v) => BigInt(v * 10))]])).toBe(1);
      expect(a.get(3)).toEqual(values.map((v) => BigInt(v * 10)));
    } else {
      const err = expectNotSupported(() => a.batchLookup(), "5.13");
      expect(err.feature).toBe("BPF_MAP_LOOKUP_BATCH on percpu_array maps");
      expectNotSupported(() => a.batchUpdate([[3, values.map(BigInt)]]), "5.13");
    }
    // Arrays cannot delete elements, so no kernel has the delete batch commands for them.
    const del = expectNotSupported(() => a.batchDelete([0]), undefined);
    expect(del.feature).toBe("BPF_MAP_DELETE_BATCH on percpu_array maps");
  });

  it("LRU hash evicts instead of failing when full", () => {
    const m = track(
      LruHashMap.create(
        { keySize: 4, valueSize: 4, maxEntries: 16, flags: BpfFlags.BPF_F_NO_COMMON_LRU },
        { keyCodec: codecs.u32, valueCodec: codecs.u32 },
      ),
    );
    for (let i = 0; i < 100; i++) m.set(i, i);
    const n = [...m.keys()].length;
    expect(n).toBeGreaterThan(0);
    expect(n).toBeLessThanOrEqual(16);
  });

  it("mmapable array: live typed view, written by user space and read back through the syscall", () => {
    const a = track(
      ArrayMap.create(
        { valueSize: 4, maxEntries: 16, flags: BpfFlags.BPF_F_MMAPABLE },
        { valueCodec: codecs.u32 },
      ),
    );
    const mem = a.mmap();
    mem.view.setUint32(5 * a.elementStride, 0xdead, true);
    expect(a.get(5)).toBe(0xdead);
    a.set(6, 0xbeef);
    expect(mem.view.getUint32(6 * a.elementStride, true)).toBe(0xbeef);
    const stale = mem.bytes;
    a.close();
    expect(mem.closed).toBe(true);
    // The mapping was replaced, not left dangling: reading the stale view does not crash.
    expect(stale[5 * 4]).toBe(0);
  });

  it("freeze: user-space writes fail with EPERM, info says frozen", () => {
    const a = track(ArrayMap.create({ valueSize: 4, maxEntries: 2 }, { valueCodec: codecs.u32 }));
    a.set(0, 1);
    a.freeze();
    expect(a.info().frozen).toBe(true);
    expect(() => a.set(0, 2)).toThrow(/EPERM/);
    expect(a.get(0)).toBe(1);
  });

  it("queue, stack and bloom filter", () => {
    const q = track(Queue.create({ valueSize: 4, maxEntries: 4 }, { valueCodec: codecs.u32 }));
    const s = track(Stack.create({ valueSize: 4, maxEntries: 4 }, { valueCodec: codecs.u32 }));
    for (const v of [1, 2, 3]) {
      q.push(v);
      s.push(v);
    }
    expect(q.peek()).toBe(1);
    expect([q.pop(), q.pop(), q.pop(), q.pop()]).toEqual([1, 2, 3, undefined]);
    expect([s.pop(), s.pop(), s.pop(), s.pop()]).toEqual([3, 2, 1, undefined]);
    for (const v of [1, 2, 3, 4]) q.push(v);
    expect(() => q.push(5)).toThrow(/E2BIG/);
    q.push(5, { overwrite: true });
    expect(q.pop()).toBe(2);
    const bloom = () => BloomFilter.create({ valueSize: 4, maxEntries: 100 }, { valueCodec: codecs.u32 });
    if (!kernelAtLeast("5.16")) {
      expectNotSupported(bloom, "5.16");
      return;
    }
    const b = track(bloom());
    b.add(42);
    expect(b.mayContain(42)).toBe(true);
    let falsePositives = 0;
    for (let i = 1000; i < 1100; i++) if (b.mayContain(i)) falsePositives++;
    expect(falsePositives).toBeLessThan(20);
  });

  it("LPM trie: longest prefix wins", () => {
    const t = track(LpmTrie.create({ keySize: 8, valueSize: 4, maxEntries: 16 }, { valueCodec: codecs.u32 }));
    t.set({ prefixLen: 8, data: Uint8Array.of(10, 0, 0, 0) }, 8);
    t.set({ prefixLen: 16, data: Uint8Array.of(10, 1, 0, 0) }, 16);
    expect(t.lookup(Uint8Array.of(10, 1, 2, 3))).toBe(16);
    expect(t.lookup(Uint8Array.of(10, 2, 2, 3))).toBe(8);
    expect(t.lookup(Uint8Array.of(11, 2, 2, 3))).toBeUndefined();
    expect(() => t.set({ prefixLen: 40, data: Uint8Array.of(1, 2, 3, 4) }, 1)).toThrow(/prefix length 40/);
  });

  it("array of maps: inner maps by fd, get returns their id", () => {
    const outer = track(
      ArrayOfMaps.create({
        keySize: 4,
        valueSize: 4,
        maxEntries: 2,
        innerMap: { type: "array", keySize: 4, valueSize: 4, maxEntries: 1 },
      }),
    );
    const inner = track(ArrayMap.create({ valueSize: 4, maxEntries: 1 }));
    outer.set(1, inner.fd);
    expect(outer.get(1)).toBe(inner.info().id);
  });

  it("fd-valued maps: program array returns the program id, devmap/cpumap take ifindex/queue size", () => {
    const counter = track(ArrayMap.create({ valueSize: 8, maxEntries: 1 }));
    const ring = track(RingBuf.create({ maxEntries: 4096 }));
    const prog = loadProducer("ringbuf", ring.fd, counter.fd);
    try {
      const progs = track(ProgramArray.create({ keySize: 4, valueSize: 4, maxEntries: 4 }));
      progs.set(2, prog.raw);
      const id = progs.get(2);
      expect(id).toBeGreaterThan(0);
      expect(progs.get(1)).toBeUndefined();
      expect(progs.delete(2)).toBe(true);
    } finally {
      prog.close();
    }
    const dev = track(DevMap.create({ keySize: 4, valueSize: 4, maxEntries: 4 }));
    dev.set(0, 1); // ifindex 1: lo
    expect(dev.get(0)).toBe(1);
    const cpus = track(CpuMap.create({ keySize: 4, valueSize: 4, maxEntries: 1 }));
    cpus.set(0, 192); // queue size
    expect(cpus.get(0)).toBe(192);
    const stacks = track(StackTraceMap.create({ keySize: 4, valueSize: 8 * 16, maxEntries: 8 }));
    expect(stacks.get(3)).toBeUndefined();
  });

  it("arena: maps its pages read-write", () => {
    if (!kernelAtLeast("6.9")) {
      expectNotSupported(() => Arena.create({ maxEntries: 4 }), "6.9");
      return;
    }
    const arena = track(Arena.create({ maxEntries: 4 }));
    const mem = arena.mmap();
    expect(mem.bytes.length).toBe(4 * 4096);
    mem.view.setUint32(100, 0xabcd, true);
    expect(mem.view.getUint32(100, true)).toBe(0xabcd);
    arena.close();
    expect(mem.closed).toBe(true);
  });

  it("pin, fromPin, unpin; opening a missing pin is a typed error", () => {
    const path = `/sys/fs/bpf/${tag}_pin`;
    const m = track(
      HashMap.create(
        { keySize: 4, valueSize: 4, maxEntries: 4 },
        { keyCodec: codecs.u32, valueCodec: codecs.u32 },
      ),
    );
    m.set(1, 11);
    m.pin(path);
    try {
      const again = track(HashMap.fromPin(path, { keyCodec: codecs.u32, valueCodec: codecs.u32 }));
      expect(again.get(1)).toBe(11);
      const generic = track(openMap({ pin: path }));
      expect(generic).toBeInstanceOf(HashMap);
      expect(() => ArrayMap.open({ pin: path })).toThrow(MapTypeError);
    } finally {
      m.unpin();
    }
    expect(() => HashMap.fromPin(path)).toThrow(
      expect.objectContaining({ code: "ERR_EBPF_MAP_PIN_NOT_FOUND" }),
    );
  });

  it("open by id and by fd (duplicated: the caller keeps its fd)", () => {
    const m = track(
      HashMap.create(
        { keySize: 4, valueSize: 4, maxEntries: 4 },
        { keyCodec: codecs.u32, valueCodec: codecs.u32 },
      ),
    );
    m.set(2, 22);
    const byId = track(HashMap.open({ id: m.info().id }, { keyCodec: codecs.u32, valueCodec: codecs.u32 }));
    expect(byId.get(2)).toBe(22);
    const byFd = HashMap.open({ fd: m.fd }, { keyCodec: codecs.u32, valueCodec: codecs.u32 });
    const dupFd = byFd.fd;
    expect(dupFd).not.toBe(m.fd);
    byFd.close();
    expect(fdIsOpen(dupFd)).toBe(false);
    expect(m.get(2)).toBe(22);
  });

  it("bad input gives typed errors: key size, value size, unknown type, closed map", () => {
    expect(() =>
      HashMap.create({ keySize: 4, valueSize: 8, maxEntries: 4 }, { keyCodec: codecs.u64 }),
    ).toThrow(MapSizeError);
    expect(() => createMap({ type: 999, keySize: 4, valueSize: 4, maxEntries: 1 })).toThrow(MapTypeError);
    expect(() => createMap({ type: "nope" as "hash", keySize: 4, valueSize: 4, maxEntries: 1 })).toThrow(
      /unknown map type "nope"/,
    );
    const m = HashMap.create({ keySize: 4, valueSize: 4, maxEntries: 4 });
    expect(() => m.set(new Uint8Array(4), new Uint8Array(5))).toThrow(MapSizeError);
    const fd = m.fd;
    m.close();
    expect(fdIsOpen(fd)).toBe(false);
    expect(() => m.get(new Uint8Array(4))).toThrow(MapClosedError);
  });

  it("createMap returns the class of each type the host supports; probes report support", () => {
    const cases: [string, object][] = [
      ["hash", { keySize: 4, valueSize: 4, maxEntries: 4 }],
      ["array", { keySize: 4, valueSize: 4, maxEntries: 4 }],
      ["prog_array", { keySize: 4, valueSize: 4, maxEntries: 4 }],
      ["perf_event_array", { keySize: 4, valueSize: 4, maxEntries: 4 }],
      ["percpu_hash", { keySize: 4, valueSize: 4, maxEntries: 4 }],
      ["percpu_array", { keySize: 4, valueSize: 4, maxEntries: 4 }],
      ["stack_trace", { keySize: 4, valueSize: 64, maxEntries: 4 }],
      ["cgroup_array", { keySize: 4, valueSize: 4, maxEntries: 4 }],
      ["lru_hash", { keySize: 4, valueSize: 4, maxEntries: 4 }],
      ["lru_percpu_hash", { keySize: 4, valueSize: 4, maxEntries: 4 }],
      ["lpm_trie", { keySize: 8, valueSize: 4, maxEntries: 4, flags: BpfFlags.BPF_F_NO_PREALLOC }],
      ["devmap", { keySize: 4, valueSize: 4, maxEntries: 4 }],
      ["sockmap", { keySize: 4, valueSize: 4, maxEntries: 4 }],
      ["cpumap", { keySize: 4, valueSize: 4, maxEntries: 4 }],
      ["xskmap", { keySize: 4, valueSize: 4, maxEntries: 4 }],
      ["sockhash", { keySize: 4, valueSize: 4, maxEntries: 4 }],
      ["cgroup_storage", { keySize: 16, valueSize: 8, maxEntries: 0 }],
      ["reuseport_sockarray", { keySize: 4, valueSize: 4, maxEntries: 4 }],
      ["percpu_cgroup_storage", { keySize: 16, valueSize: 8, maxEntries: 0 }],
      ["queue", { keySize: 0, valueSize: 4, maxEntries: 4 }],
      ["stack", { keySize: 0, valueSize: 4, maxEntries: 4 }],
      ["devmap_hash", { keySize: 4, valueSize: 4, maxEntries: 4 }],
      ["ringbuf", { keySize: 0, valueSize: 0, maxEntries: 4096 }],
      ["bloom_filter", { keySize: 0, valueSize: 4, maxEntries: 4 }],
      ["user_ringbuf", { keySize: 0, valueSize: 0, maxEntries: 4096 }],
      ["arena", { keySize: 0, valueSize: 0, maxEntries: 2, flags: BpfFlags.BPF_F_MMAPABLE }],
    ];
    // Types newer than the oldest kernel test-vm boots (5.10), with the release each landed in.
    const since: Record<string, string> = { bloom_filter: "5.16", user_ringbuf: "6.1", arena: "6.9" };
    for (const [type, spec] of cases) {
      const create = () =>
        createMap({
          type: type as "hash",
          ...(spec as { keySize: number; valueSize: number; maxEntries: number }),
        });
      const minKernel = since[type];
      if (minKernel && !kernelAtLeast(minKernel)) {
        expect(probeMapType(mapTypeNumber(type)), type).toBe(false);
        expectNotSupported(create, minKernel);
        continue;
      }
      expect(probeMapType(mapTypeNumber(type)), type).toBe(true);
      const m = create();
      try {
        expect(m.info().typeName, type).toBe(type);
        expect(m.constructor.name, type).not.toBe("BpfMap");
      } finally {
        m.close();
      }
    }
  });
});
