/**
 * An in-memory kernel for unit tests: hash, array, per-CPU, queue/stack, bloom maps with the kernel's
 * observable semantics (ENOENT, E2BIG when full, EEXIST/ENOENT for NOEXIST/EXIST, restart of
 * get_next_key after a deleted key, batch positions), pins, ids, mmap and readiness callbacks.
 */
import { BpfCmd, BpfFlags, BpfMapType, Errno, SyscallError } from "@ebpf/sys";
import type {
  BatchLookupResult,
  ElementPort,
  KernelMapInfo,
  MapCreateRequest,
  MapKernel,
  MappedMemory,
  PerfOutputOptions,
} from "../src/kernel.js";
import { FakeBpfRing, FakePerfRing } from "./fake-rings.js";

const cmdName = (cmd: number) => Object.entries(BpfCmd).find(([, v]) => v === cmd)?.[0] ?? `${cmd}`;
function fail(cmd: number, errno: number): never {
  throw new SyscallError({ syscall: "bpf", command: `BPF_${cmdName(cmd)}`, errno });
}
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

interface FakeMap {
  req: MapCreateRequest;
  id: number;
  frozen: boolean;
  valueBytes: number; // bytes user space copies per value
  hash: Map<string, Uint8Array>; // key hex -> value (hash-like)
  array?: Uint8Array; // array storage: stride * maxEntries
  list: Uint8Array[]; // queue / stack / bloom
  ring?: FakeBpfRing;
}

export class FakeKernel implements MapKernel {
  readonly maps = new Map<number, FakeMap>();
  readonly fds = new Map<number, FakeMap>();
  readonly pins = new Map<string, FakeMap>();
  readonly watchers = new Map<number, () => void>();
  readonly unmapped: ArrayBuffer[] = [];
  /** Types `createMap` refuses with EINVAL, to simulate an old kernel. */
  readonly unsupported = new Set<number>();
  /** Types whose batch commands fail with ENOTSUPP, like per-CPU arrays before 5.13. */
  readonly batchUnsupported = new Set<number>();
  /** Types with no user-space lookup / key walk / update: errno per type (XSKMAP: EOPNOTSUPP...). */
  readonly lookupErrno = new Map<number, number>();
  readonly nextKeyErrno = new Map<number, number>();
  readonly updateErrno = new Map<number, number>();
  /** fds handed out by loadBtf, and which of them are still open. */
  readonly btfFds = new Set<number>();
  readonly loadedBtf: Uint8Array[] = [];
  private nextFd = 100;
  private nextId = 1;
  cpus = 4;
  calls = 0;

  private get(fd: number, cmd: number): FakeMap {
    const m = this.fds.get(fd);
    if (!m) fail(cmd, Errno.EBADF);
    return m;
  }
  private newFd(m: FakeMap): number {
    const fd = this.nextFd++;
    this.fds.set(fd, m);
    return fd;
  }
  private perCpu(type: number): boolean {
    return [BpfMapType.PERCPU_HASH, BpfMapType.PERCPU_ARRAY, BpfMapType.LRU_PERCPU_HASH].includes(type as 5);
  }

  /** The full probe, for the types a plain request cannot probe (local storage, map-in-map). */
  probeMapType(type: number): boolean {
    this.calls++;
    return !this.unsupported.has(type);
  }

  private batchable(m: FakeMap, cmd: number): void {
    if (this.batchUnsupported.has(m.req.type)) fail(cmd, Errno.ENOTSUPP);
  }

  createMap(req: MapCreateRequest): number {
    this.calls++;
    if (this.unsupported.has(req.type)) fail(BpfCmd.MAP_CREATE, Errno.EINVAL);
    if (req.maxEntries === 0 && req.type !== BpfMapType.CGROUP_STORAGE) fail(BpfCmd.MAP_CREATE, Errno.EINVAL);
    // Like the kernel: a struct_ops value type resolves only with a BTF fd in the request.
    if (req.btfVmlinuxValueTypeId && !(req.btfFd !== undefined && this.btfFds.has(req.btfFd)))
      fail(BpfCmd.MAP_CREATE, Errno.EINVAL);
    const stride = (req.valueSize + 7) & ~7;
    const valueBytes = this.perCpu(req.type) ? stride * this.cpus : req.valueSize;
    const m: FakeMap = {
      req: { ...req },
      id: this.nextId++,
      frozen: false,
      valueBytes,
      hash: new Map(),
      list: [],
    };
    if (req.type === BpfMapType.RINGBUF || req.type === BpfMapType.USER_RINGBUF) {
      m.ring = new FakeBpfRing(req.maxEntries);
    }
    if (req.type === BpfMapType.ARRAY || req.type === BpfMapType.PERCPU_ARRAY) {
      m.array = new Uint8Array((this.perCpu(req.type) ? valueBytes : stride) * req.maxEntries);
    }
    this.maps.set(m.id, m);
    return this.newFd(m);
  }

  private arrayIndex(m: FakeMap, key: Uint8Array): number {
    const i = new DataView(key.buffer, key.byteOffset).getUint32(0, true);
    return i < m.req.maxEntries ? i : -1;
  }
  private arrayStride(m: FakeMap): number {
    return this.perCpu(m.req.type) ? m.valueBytes : (m.req.valueSize + 7) & ~7;
  }

  lookup(m: FakeMap, key: Uint8Array, value: Uint8Array): boolean {
    const t = m.req.type;
    if (m.array) {
      const i = this.arrayIndex(m, key);
      if (i < 0) return false;
      const s = this.arrayStride(m);
      value.set(m.array.subarray(i * s, i * s + m.valueBytes));
      return true;
    }
    if (t === BpfMapType.QUEUE || t === BpfMapType.STACK) {
      const v = t === BpfMapType.QUEUE ? m.list[0] : m.list[m.list.length - 1];
      if (!v) return false;
      value.set(v);
      return true;
    }
    if (t === BpfMapType.BLOOM_FILTER) return m.list.some((v) => hex(v) === hex(value));
    const v = m.hash.get(hex(key));
    if (!v) return false;
    value.set(v);
    return true;
  }

  update(m: FakeMap, key: Uint8Array, value: Uint8Array, flags: number, cmd: number): void {
    if (m.frozen) fail(cmd, Errno.EPERM);
    const mode = flags & 3;
    const t = m.req.type;
    if (m.array) {
      if (mode === BpfFlags.BPF_NOEXIST) fail(cmd, Errno.EEXIST);
      const i = this.arrayIndex(m, key);
      if (i < 0) fail(cmd, Errno.E2BIG);
      const s = this.arrayStride(m);
      m.array.set(value.subarray(0, m.valueBytes), i * s);
      return;
    }
    if (t === BpfMapType.QUEUE || t === BpfMapType.STACK || t === BpfMapType.BLOOM_FILTER) {
      if (m.list.length >= m.req.maxEntries) fail(cmd, Errno.E2BIG);
      m.list.push(value.slice());
      return;
    }
    const k = hex(key);
    const exists = m.hash.has(k);
    if (mode === BpfFlags.BPF_NOEXIST && exists) fail(cmd, Errno.EEXIST);
    if (mode === BpfFlags.BPF_EXIST && !exists) fail(cmd, Errno.ENOENT);
    if (!exists && m.hash.size >= m.req.maxEntries) fail(cmd, Errno.E2BIG);
    m.hash.set(k, value.slice(0, m.valueBytes));
  }

  elementPort(fd: number, keySize: number, valueSize: number): ElementPort {
    const key = new Uint8Array(keySize);
    const value = new Uint8Array(valueSize);
    const nextKey = new Uint8Array(keySize);
    return {
      key,
      value,
      nextKey,
      lookup: () => {
        this.calls++;
        const m = this.get(fd, BpfCmd.MAP_LOOKUP_ELEM);
        const e = this.lookupErrno.get(m.req.type);
        if (e) fail(BpfCmd.MAP_LOOKUP_ELEM, e);
        return this.lookup(m, key, value);
      },
      update: (flags) => {
        this.calls++;
        const e = this.updateErrno.get(this.get(fd, BpfCmd.MAP_UPDATE_ELEM).req.type);
        if (e) fail(BpfCmd.MAP_UPDATE_ELEM, e);
        this.update(this.get(fd, BpfCmd.MAP_UPDATE_ELEM), key, value, flags, BpfCmd.MAP_UPDATE_ELEM);
      },
      delete: () => {
        this.calls++;
        const m = this.get(fd, BpfCmd.MAP_DELETE_ELEM);
        if (m.frozen) fail(BpfCmd.MAP_DELETE_ELEM, Errno.EPERM);
        if (m.array) fail(BpfCmd.MAP_DELETE_ELEM, Errno.EINVAL);
        return m.hash.delete(hex(key));
      },
      lookupAndDelete: () => {
        this.calls++;
        const m = this.get(fd, BpfCmd.MAP_LOOKUP_AND_DELETE_ELEM);
        const t = m.req.type;
        if (t === BpfMapType.QUEUE || t === BpfMapType.STACK) {
          const v = t === BpfMapType.QUEUE ? m.list.shift() : m.list.pop();
          if (!v) return false;
          value.set(v);
          return true;
        }
        if (!this.lookup(m, key, value)) return false;
        m.hash.delete(hex(key));
        return true;
      },
      getNextKey: (fromStart) => {
        this.calls++;
        const m = this.get(fd, BpfCmd.MAP_GET_NEXT_KEY);
        const e = this.nextKeyErrno.get(m.req.type);
        if (e) fail(BpfCmd.MAP_GET_NEXT_KEY, e);
        if (m.array) {
          const i = fromStart ? -1 : this.arrayIndex(m, key);
          if (i + 1 >= m.req.maxEntries) return false;
          new DataView(nextKey.buffer).setUint32(0, i + 1, true);
          return true;
        }
        const keys = [...m.hash.keys()];
        let at = 0;
        if (!fromStart) {
          const i = keys.indexOf(hex(key));
          at = i < 0 ? 0 : i + 1; // a deleted key restarts from the first, as the kernel's hash map does
        }
        if (at >= keys.length) return false;
        nextKey.set(Buffer.from(keys[at]!, "hex"));
        return true;
      },
    };
  }

  lookupBatch(
    fd: number,
    andDelete: boolean,
    inBatch: Uint8Array | null,
    outBatch: Uint8Array,
    keys: Uint8Array,
    values: Uint8Array,
    count: number,
  ): BatchLookupResult {
    this.calls++;
    const m = this.get(fd, BpfCmd.MAP_LOOKUP_BATCH);
    this.batchable(m, BpfCmd.MAP_LOOKUP_BATCH);
    const start = inBatch ? new DataView(inBatch.buffer, inBatch.byteOffset).getUint32(0, true) : 0;
    const ks = m.req.keySize;
    const vs = m.valueBytes;
    let all: [Uint8Array, Uint8Array][];
    if (m.array) {
      const s = this.arrayStride(m);
      all = Array.from({ length: m.req.maxEntries }, (_, i) => {
        const k = new Uint8Array(4);
        new DataView(k.buffer).setUint32(0, i, true);
        return [k, m.array!.slice(i * s, i * s + vs)];
      });
    } else {
      all = [...m.hash.entries()].map(([k, v]) => [Buffer.from(k, "hex"), v]);
    }
    // Deleting shifts positions: a lookup-and-delete batch always restarts from what is left.
    const from = andDelete ? 0 : start;
    const slice = all.slice(from, from + count);
    slice.forEach(([k, v], i) => {
      keys.set(k, i * ks);
      values.set(v, i * vs);
      if (andDelete) m.hash.delete(hex(k));
    });
    new DataView(outBatch.buffer, outBatch.byteOffset).setUint32(0, from + slice.length, true);
    return { count: slice.length, done: from + slice.length >= all.length };
  }

  updateBatch(fd: number, keys: Uint8Array, values: Uint8Array, count: number, elemFlags: number): number {
    this.calls++;
    const m = this.get(fd, BpfCmd.MAP_UPDATE_BATCH);
    this.batchable(m, BpfCmd.MAP_UPDATE_BATCH);
    const ks = m.req.keySize;
    const vs = m.valueBytes;
    for (let i = 0; i < count; i++) {
      this.update(
        m,
        keys.subarray(i * ks, (i + 1) * ks),
        values.subarray(i * vs, (i + 1) * vs),
        elemFlags,
        BpfCmd.MAP_UPDATE_BATCH,
      );
    }
    return count;
  }

  deleteBatch(fd: number, keys: Uint8Array, count: number): number {
    this.calls++;
    const m = this.get(fd, BpfCmd.MAP_DELETE_BATCH);
    this.batchable(m, BpfCmd.MAP_DELETE_BATCH);
    const ks = m.req.keySize;
    for (let i = 0; i < count; i++) {
      if (!m.hash.delete(hex(keys.subarray(i * ks, (i + 1) * ks))))
        fail(BpfCmd.MAP_DELETE_BATCH, Errno.ENOENT);
    }
    return count;
  }

  freeze(fd: number): void {
    this.get(fd, BpfCmd.MAP_FREEZE).frozen = true;
  }
  pin(fd: number, path: string): void {
    if (this.pins.has(path)) fail(BpfCmd.OBJ_PIN, Errno.EEXIST);
    this.pins.set(path, this.get(fd, BpfCmd.OBJ_PIN));
  }
  getPinned(path: string): number | undefined {
    const m = this.pins.get(path);
    return m ? this.newFd(m) : undefined;
  }
  unpin(path: string): boolean {
    return this.pins.delete(path);
  }
  fdById(id: number): number {
    const m = this.maps.get(id);
    if (!m) throw new SyscallError({ syscall: "bpf", command: "BPF_MAP_GET_FD_BY_ID", errno: Errno.ENOENT });
    return this.newFd(m);
  }
  info(fd: number): KernelMapInfo {
    const m = this.get(fd, BpfCmd.OBJ_GET_INFO_BY_FD);
    const r = m.req;
    return {
      type: r.type,
      id: m.id,
      keySize: r.keySize,
      valueSize: r.valueSize,
      maxEntries: r.maxEntries,
      flags: r.flags,
      name: r.name,
      btfId: 0,
      btfKeyTypeId: r.btfKeyTypeId ?? 0,
      btfValueTypeId: r.btfValueTypeId ?? 0,
      mapExtra: r.mapExtra ?? 0n,
      btfVmlinuxValueTypeId: r.btfVmlinuxValueTypeId ?? 0,
    };
  }
  loadBtf(btf: Uint8Array): number {
    this.loadedBtf.push(btf);
    const fd = this.nextFd++;
    this.btfFds.add(fd);
    return fd;
  }
  isFrozen(fd: number): boolean {
    return this.get(fd, BpfCmd.OBJ_GET_INFO_BY_FD).frozen;
  }
  dup(fd: number): number {
    return this.newFd(this.get(fd, BpfCmd.OBJ_GET_INFO_BY_FD));
  }
  close(fd: number): void {
    if (this.perf.delete(fd) || this.btfFds.delete(fd)) return;
    if (!this.fds.delete(fd)) throw new SyscallError({ syscall: "close", errno: Errno.EBADF });
  }
  openFds(): number {
    return this.fds.size + this.perf.size;
  }
  /** Perf event fds opened by readers, with their rings. */
  readonly perf = new Map<number, { cpu: number; ring: FakePerfRing; enabled: boolean }>();
  /** Every mapping handed out and whether it was unmapped. */
  readonly mappings: { buffer: ArrayBuffer; unmapped: boolean }[] = [];

  mmap(fd: number, length: number, _writable: boolean, offset: number): MappedMemory {
    const perf = this.perf.get(fd);
    if (perf) return this.track(perf.ring.meta);
    const m = this.get(fd, BpfCmd.MAP_CREATE);
    if (m.ring) {
      if (offset === 0 && length === 4096) return this.track(m.ring.consumer);
      if (offset === 4096 && length === 4096 + 2 * m.ring.size) return this.track(m.ring.producerArea);
      throw new SyscallError({ syscall: "mmap", errno: Errno.EINVAL });
    }
    if (!m.array) throw new SyscallError({ syscall: "mmap", errno: Errno.EINVAL });
    const buffer = m.array.buffer as ArrayBuffer;
    if (length < m.array.byteLength) throw new SyscallError({ syscall: "mmap", errno: Errno.EINVAL });
    return { buffer, unmap: () => void this.unmapped.push(buffer) };
  }
  private track(buffer: ArrayBuffer): MappedMemory {
    const rec = { buffer, unmapped: false };
    this.mappings.push(rec);
    return {
      buffer,
      unmap: () => {
        rec.unmapped = true;
        this.unmapped.push(buffer);
      },
    };
  }
  ringOf(fd: number): FakeBpfRing {
    return this.get(fd, 0).ring!;
  }
  onlineCpus(): number[] {
    return Array.from({ length: this.cpus }, (_, i) => i);
  }
  /** Simulates epoll readiness of `fd`. */
  fire(fd: number): void {
    this.watchers.get(fd)?.();
  }
  possibleCpus(): number {
    return this.cpus;
  }
  pageSize(): number {
    return 4096;
  }
  watch(fd: number, onReadable: () => void): () => void {
    this.watchers.set(fd, onReadable);
    return () => this.watchers.delete(fd);
  }
  perfPages = 4;
  openPerfOutput(options: PerfOutputOptions): number {
    const fd = this.nextFd++;
    this.perf.set(fd, { cpu: options.cpu, ring: new FakePerfRing(4096 * this.perfPages), enabled: false });
    return fd;
  }
  enablePerf(fd: number): void {
    this.perf.get(fd)!.enabled = true;
  }
}
