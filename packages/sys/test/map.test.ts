import { describeKernel, fdIsOpen } from "@ebpf/testing";
import { expect, it } from "vitest";
import {
  BpfFlags,
  BpfMapType,
  kernelAtLeast,
  MapElemOps,
  mapCreate,
  mapDeleteBatch,
  mapDeleteElem,
  mapFreeze,
  mapGetNextKey,
  mapInfo,
  mapLookupAndDeleteBatch,
  mapLookupAndDeleteElem,
  mapLookupBatch,
  mapLookupElem,
  mapUpdateBatch,
  mapUpdateElem,
  SyscallError,
} from "../src/index.js";

const u32 = (n: number) => new Uint8Array(new Uint32Array([n]).buffer);
const u64 = (n: bigint) => new Uint8Array(new BigUint64Array([n]).buffer);
const readU64 = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset).getBigUint64(0, true);

describeKernel("bpf map commands", () => {
  it("creates a named hash map and reads it back with OBJ_GET_INFO_BY_FD", () => {
    using fd = mapCreate({
      type: BpfMapType.HASH,
      keySize: 4,
      valueSize: 8,
      maxEntries: 16,
      name: "sys_test_hash",
    });
    expect(fdIsOpen(fd.raw)).toBe(true);
    const info = mapInfo(fd);
    expect(info).toMatchObject({
      type: BpfMapType.HASH,
      keySize: 4,
      valueSize: 8,
      maxEntries: 16,
      name: "sys_test_hash",
    });
    expect(info.id).toBeGreaterThan(0);
  });

  it("updates, looks up, iterates, deletes", () => {
    using fd = mapCreate({ type: BpfMapType.HASH, keySize: 4, valueSize: 8, maxEntries: 4 });
    for (let k = 1; k <= 3; k++) mapUpdateElem(fd, u32(k), u64(BigInt(k * 100)));
    const v = new Uint8Array(8);
    expect(mapLookupElem(fd, u32(2), v)).toBe(true);
    expect(readU64(v)).toBe(200n);
    expect(mapLookupElem(fd, u32(9), v)).toBe(false);
    const keys: number[] = [];
    let k: Uint8Array | null = null;
    const next = new Uint8Array(4);
    while (mapGetNextKey(fd, k, next)) {
      keys.push(new DataView(next.buffer).getUint32(0, true));
      k = next.slice();
    }
    expect(keys.sort()).toEqual([1, 2, 3]);
    expect(mapDeleteElem(fd, u32(2))).toBe(true);
    expect(mapDeleteElem(fd, u32(2))).toBe(false);
    expect(() => mapUpdateElem(fd, u32(1), u64(1n), BpfFlags.BPF_NOEXIST)).toThrow(/EEXIST/);
    if (kernelAtLeast(5, 14)) {
      // LOOKUP_AND_DELETE on hash maps: 5.14
      expect(mapLookupAndDeleteElem(fd, u32(1), v)).toBe(true);
      expect(readU64(v)).toBe(100n);
    } else {
      expect(() => mapLookupAndDeleteElem(fd, u32(1), v)).toThrow(/ENOTSUPP|EINVAL/);
    }
  });

  it("reports a full map as E2BIG with a hint", () => {
    using fd = mapCreate({ type: BpfMapType.HASH, keySize: 4, valueSize: 8, maxEntries: 1 });
    mapUpdateElem(fd, u32(1), u64(1n));
    try {
      mapUpdateElem(fd, u32(2), u64(2n));
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(SyscallError);
      const err = e as SyscallError;
      expect(err.code).toBe("ERR_EBPF_SYSCALL");
      expect(err.errnoName).toBe("E2BIG");
      expect(err.command).toBe("BPF_MAP_UPDATE_ELEM");
      expect(err.hint).toMatch(/full/);
    }
  });

  it("pops a queue with LOOKUP_AND_DELETE and refuses writes after FREEZE", () => {
    using q = mapCreate({ type: BpfMapType.QUEUE, keySize: 0, valueSize: 8, maxEntries: 4 });
    mapUpdateElem(q, new Uint8Array(0), u64(7n));
    const v = new Uint8Array(8);
    expect(mapLookupAndDeleteElem(q, null, v)).toBe(true);
    expect(readU64(v)).toBe(7n);
    expect(mapLookupAndDeleteElem(q, null, v)).toBe(false);
    using a = mapCreate({ type: BpfMapType.ARRAY, keySize: 4, valueSize: 8, maxEntries: 2 });
    mapFreeze(a);
    expect(() => mapUpdateElem(a, u32(0), u64(1n))).toThrow(/EPERM/);
  });

  it("batch update, lookup, lookup-and-delete, delete", () => {
    const n = 100;
    using fd = mapCreate({ type: BpfMapType.HASH, keySize: 4, valueSize: 8, maxEntries: n });
    const keys = new Uint32Array(n).map((_, i) => i);
    const values = new BigUint64Array(n).map((_, i) => BigInt(i * 3));
    const K = new Uint8Array(keys.buffer);
    const V = new Uint8Array(values.buffer);
    expect(mapUpdateBatch(fd, { keys: K, values: V, count: n }).count).toBe(n);
    const outK = new Uint8Array(4 * n);
    const outV = new Uint8Array(8 * n);
    const pos = new Uint8Array(4);
    let total = 0;
    let r = mapLookupBatch(fd, { keys: outK, values: outV, count: 30, outBatch: pos });
    total += r.count;
    while (!r.done) {
      r = mapLookupBatch(fd, { inBatch: pos, outBatch: pos, keys: outK, values: outV, count: 30 });
      total += r.count;
    }
    expect(total).toBe(n);
    expect(mapDeleteBatch(fd, { keys: K.subarray(0, 40), count: 10 }).count).toBe(10);
    const r2 = mapLookupAndDeleteBatch(fd, { keys: outK, values: outV, count: n, outBatch: pos });
    expect(r2.count).toBe(n - 10);
    expect(r2.done).toBe(true);
    expect(mapLookupElem(fd, u32(50), new Uint8Array(8))).toBe(false);
  });

  it("MapElemOps: the preallocated hot path", () => {
    using fd = mapCreate({ type: BpfMapType.HASH, keySize: 4, valueSize: 8, maxEntries: 8 });
    const ops = new MapElemOps(fd, 4, 8);
    const kv = new DataView(ops.key.buffer, ops.key.byteOffset, 4);
    const vv = new DataView(ops.value.buffer, ops.value.byteOffset, 8);
    for (let i = 0; i < 5; i++) {
      kv.setUint32(0, i, true);
      vv.setBigUint64(0, BigInt(i) << 32n, true);
      ops.update();
    }
    kv.setUint32(0, 3, true);
    vv.setBigUint64(0, 0n, true);
    expect(ops.lookup()).toBe(true);
    expect(vv.getBigUint64(0, true)).toBe(3n << 32n);
    expect(ops.delete()).toBe(true);
    expect(ops.lookup()).toBe(false);
    const seen: number[] = [];
    let more = ops.getNextKey(true);
    while (more) {
      const k = new DataView(ops.nextKey.buffer, ops.nextKey.byteOffset, 4).getUint32(0, true);
      seen.push(k);
      kv.setUint32(0, k, true);
      more = ops.getNextKey();
    }
    expect(seen.sort()).toEqual([0, 1, 2, 4]);
    expect(() => ops.update(BpfFlags.BPF_NOEXIST)).toThrow(SyscallError);
    fd.close();
    expect(() => ops.lookup()).toThrow(/closed/);
  });
});
