/**
 * {@link FakeSyscalls}: an in-memory kernel for unit tests of map and program logic. Maps hold real data
 * (hash, LRU hash, array, per-CPU variants, queue, stack, map-in-map/prog array as fd slots), programs are
 * recorded, pins live in a private namespace, and every call is logged. Errors are the same typed
 * {@link SyscallError}s the real layer throws, and any call can be made to fail with {@link FakeSyscalls.failNext}.
 */
import { BpfAttachType, BpfCmd, BpfFlags, BpfLinkInfo, BpfLinkType, BpfMapType } from "./abi.generated.js";
import { bpfCmdName } from "./bpf-call.js";
import { Errno } from "./errno.js";
import { InvalidArgumentError, SyscallError } from "./errors.js";
import { Fd } from "./fd.js";
import { viewOf } from "./libc.js";
import type { ProgTestRunOptions, ProgTestRunResult } from "./link.js";
import type { MapBatchOptions, MapBatchResult, MapCreateOptions } from "./map.js";
import type { BtfInfo, LinkInfo, MapInfo, ObjectKind, ProgInfo } from "./obj.js";
import { LoadError, type ProgLoadOptions } from "./prog.js";
import type { ElemOps, MappedRegion, Syscalls } from "./syscalls.js";

/** One kernel object of the fake. */
export interface FakeObject {
  kind: ObjectKind | "perf_event" | "other";
  id: number;
  /** Open fds referring to it. */
  refs: number;
  pinned: number;
  map?: FakeMap;
  prog?: { options: ProgLoadOptions; tag: string };
  detail?: unknown;
}

/** The in-memory state of one fake map. */
export interface FakeMap {
  options: Required<Pick<MapCreateOptions, "type" | "keySize" | "valueSize" | "maxEntries">> &
    MapCreateOptions;
  /** Hex key → value bytes, in insertion (or LRU) order. */
  entries: Map<string, Uint8Array>;
  frozen: boolean;
}

/** A call recorded by the fake. */
export interface FakeCall {
  op: keyof Syscalls;
  args: unknown[];
}

const hex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex");
const unhex = (s: string) => new Uint8Array(Buffer.from(s, "hex"));

const PERCPU = new Set<number>([
  BpfMapType.PERCPU_HASH,
  BpfMapType.PERCPU_ARRAY,
  BpfMapType.LRU_PERCPU_HASH,
  BpfMapType.PERCPU_CGROUP_STORAGE,
]);
const ARRAYS = new Set<number>([
  BpfMapType.ARRAY,
  BpfMapType.PERCPU_ARRAY,
  BpfMapType.PROG_ARRAY,
  BpfMapType.PERF_EVENT_ARRAY,
  BpfMapType.ARRAY_OF_MAPS,
  BpfMapType.CGROUP_ARRAY,
]);
const NO_ELEM_OPS = new Set<number>([BpfMapType.RINGBUF, BpfMapType.USER_RINGBUF]);

/** Options of {@link FakeSyscalls}. */
export interface FakeSyscallsOptions {
  /** Possible CPUs, for per-CPU value sizes (default 2). */
  possibleCpus?: number;
}

/**
 * An in-memory {@link Syscalls}.
 *
 * @example
 * ```ts
 * const sys = new FakeSyscalls();
 * using fd = sys.mapCreate({ type: BpfMapType.HASH, keySize: 4, valueSize: 8, maxEntries: 2 });
 * sys.failNext("mapUpdateElem", "E2BIG");
 * expect(() => sys.mapUpdateElem(fd, key, value)).toThrow(SyscallError);
 * sys.assertNoLeaks();
 * ```
 */
export class FakeSyscalls implements Syscalls {
  /** Every call, in order. */
  readonly calls: FakeCall[] = [];
  /** Open fake fds → object. Fake fd numbers start at 1,000,000 (never a real fd). */
  readonly fds = new Map<number, FakeObject>();
  /** Pinned objects by path. */
  readonly pins = new Map<string, FakeObject>();
  readonly possibleCpus: number;
  /** Decides a program load: return an errno name to fail it (with an optional log). */
  onProgLoad?: (options: ProgLoadOptions) => { errno: keyof typeof Errno; log?: string } | undefined;
  /** Produces a test-run result (default retval 0). */
  onTestRun?: (prog: FakeObject, options: ProgTestRunOptions) => Partial<ProgTestRunResult>;

  #nextFd = 1_000_000;
  #nextId: Record<string, number> = { prog: 1, map: 1, link: 1, btf: 1, perf_event: 1, other: 1 };
  readonly #objects = new Set<FakeObject>();
  readonly #faults: { op: keyof Syscalls; errno: number; times: number }[] = [];

  constructor(options: FakeSyscallsOptions = {}) {
    this.possibleCpus = options.possibleCpus ?? 2;
  }

  /** Makes the next `times` calls of `op` fail with `errno` (a name like "EPERM" or a number). */
  failNext(op: keyof Syscalls, errno: keyof typeof Errno | number, times = 1): void {
    this.#faults.push({ op, errno: typeof errno === "number" ? errno : Errno[errno], times });
  }

  /** Throws if any fake fd is still open (call at the end of a test). */
  assertNoLeaks(): void {
    if (this.fds.size > 0) {
      const list = [...this.fds].map(([fd, o]) => `${o.kind} fd ${fd}`).join(", ");
      throw new Error(`FakeSyscalls: ${this.fds.size} fd(s) left open: ${list}`);
    }
  }

  /** The object behind a fake fd (for assertions). */
  object(fd: Fd | number): FakeObject {
    const raw = typeof fd === "number" ? fd : fd.raw;
    const o = this.fds.get(raw);
    if (!o) throw this.#err("fake", Errno.EBADF);
    return o;
  }

  // ---------------------------------------------------------------------------------------------------

  #err(command: string, errno: number): SyscallError {
    return new SyscallError({ syscall: "bpf", command, errno });
  }

  #enter(op: keyof Syscalls, cmd: number | string, args: unknown[]): void {
    this.calls.push({ op, args });
    const i = this.#faults.findIndex((f) => f.op === op);
    if (i >= 0) {
      const f = this.#faults[i];
      if (--f.times <= 0) this.#faults.splice(i, 1);
      throw this.#err(typeof cmd === "number" ? bpfCmdName(cmd) : cmd, f.errno);
    }
  }

  #open(o: FakeObject, kind: string = o.kind): Fd {
    const raw = this.#nextFd++;
    o.refs++;
    this.fds.set(raw, o);
    return new Fd(raw, kind, (n) => {
      const obj = this.fds.get(n);
      if (!obj) return;
      this.fds.delete(n);
      obj.refs--;
      if (obj.refs === 0 && obj.pinned === 0) this.#objects.delete(obj);
    });
  }

  #new(kind: FakeObject["kind"], extra: Partial<FakeObject>): FakeObject {
    const o: FakeObject = { kind, id: this.#nextId[kind]++, refs: 0, pinned: 0, ...extra };
    this.#objects.add(o);
    return o;
  }

  #get(fd: Fd | number, cmd: number, kind?: FakeObject["kind"]): FakeObject {
    const raw = typeof fd === "number" ? fd : fd.raw;
    const o = this.fds.get(raw);
    if (!o) throw this.#err(bpfCmdName(cmd), Errno.EBADF);
    if (kind && o.kind !== kind) throw this.#err(bpfCmdName(cmd), Errno.EINVAL);
    return o;
  }

  #map(fd: Fd | number, cmd: number): FakeMap {
    const m = this.#get(fd, cmd, "map").map!;
    if (NO_ELEM_OPS.has(m.options.type)) throw this.#err(bpfCmdName(cmd), Errno.EINVAL);
    return m;
  }

  /** Value bytes as user space sees them (per-CPU: rounded to 8, times possible CPUs). */
  userValueSize(m: FakeMap): number {
    const v = m.options.valueSize;
    return PERCPU.has(m.options.type) ? ((v + 7) & ~7) * this.possibleCpus : v;
  }

  // ------------------------------------------------------------------------------------------ maps

  mapCreate(options: MapCreateOptions): Fd {
    this.#enter("mapCreate", BpfCmd.MAP_CREATE, [options]);
    const { type, keySize, valueSize, maxEntries } = options;
    const isQueue = type === BpfMapType.QUEUE || type === BpfMapType.STACK;
    if (!Object.values(BpfMapType).includes(type as BpfMapType) || type === BpfMapType.UNSPEC)
      throw this.#err("BPF_MAP_CREATE", Errno.EINVAL);
    if (maxEntries <= 0 || (!isQueue && !NO_ELEM_OPS.has(type) && (keySize <= 0 || valueSize <= 0)))
      throw this.#err("BPF_MAP_CREATE", Errno.EINVAL);
    if (ARRAYS.has(type) && keySize !== 4) throw this.#err("BPF_MAP_CREATE", Errno.EINVAL);
    const map: FakeMap = { options: { ...options }, entries: new Map(), frozen: false };
    if (ARRAYS.has(type)) {
      const size = this.userValueSize(map);
      for (let i = 0; i < maxEntries; i++) map.entries.set(hex(u32(i)), new Uint8Array(size));
    }
    return this.#open(this.#new("map", { map }), "map");
  }

  #lookup(m: FakeMap, key: Uint8Array | null): Uint8Array | undefined {
    const t = m.options.type;
    if (t === BpfMapType.QUEUE) return m.entries.values().next().value;
    if (t === BpfMapType.STACK) return [...m.entries.values()].at(-1);
    if (!key) return undefined;
    return m.entries.get(hex(key.subarray(0, m.options.keySize)));
  }

  mapLookupElem(fd: Fd | number, key: Uint8Array, value: Uint8Array, flags: number | bigint = 0): boolean {
    this.#enter("mapLookupElem", BpfCmd.MAP_LOOKUP_ELEM, [fd, key, value, flags]);
    const m = this.#map(fd, BpfCmd.MAP_LOOKUP_ELEM);
    const v = this.#lookup(m, key);
    if (!v) return false;
    value.set(v.subarray(0, Math.min(v.length, value.length)));
    if (m.options.type === BpfMapType.LRU_HASH || m.options.type === BpfMapType.LRU_PERCPU_HASH) {
      const k = hex(key.subarray(0, m.options.keySize));
      m.entries.delete(k);
      m.entries.set(k, v);
    }
    return true;
  }

  mapUpdateElem(fd: Fd | number, key: Uint8Array, value: Uint8Array, flags: number | bigint = 0): void {
    this.#enter("mapUpdateElem", BpfCmd.MAP_UPDATE_ELEM, [fd, key, value, flags]);
    const cmd = "BPF_MAP_UPDATE_ELEM";
    const m = this.#map(fd, BpfCmd.MAP_UPDATE_ELEM);
    if (m.frozen) throw this.#err(cmd, Errno.EPERM);
    const f = Number(BigInt(flags) & 0xffn) & ~BpfFlags.BPF_F_LOCK;
    if (f > BpfFlags.BPF_EXIST) throw this.#err(cmd, Errno.EINVAL);
    const size = this.userValueSize(m);
    if (value.byteLength < size) throw this.#err(cmd, Errno.EFAULT);
    const v = value.slice(0, size);
    const t = m.options.type;
    if (t === BpfMapType.QUEUE || t === BpfMapType.STACK) {
      if (m.entries.size >= m.options.maxEntries) {
        if (f !== BpfFlags.BPF_EXIST) throw this.#err(cmd, Errno.E2BIG);
        m.entries.delete(m.entries.keys().next().value!);
      }
      m.entries.set(`${this.#nextFd}:${m.entries.size}:${Math.random()}`, v);
      return;
    }
    const k = hex(key.subarray(0, m.options.keySize));
    const exists = m.entries.has(k);
    if (ARRAYS.has(t)) {
      if (!exists) throw this.#err(cmd, Errno.E2BIG);
      if (f === BpfFlags.BPF_NOEXIST) throw this.#err(cmd, Errno.EEXIST);
      m.entries.set(k, v);
      return;
    }
    if (f === BpfFlags.BPF_NOEXIST && exists) throw this.#err(cmd, Errno.EEXIST);
    if (f === BpfFlags.BPF_EXIST && !exists) throw this.#err(cmd, Errno.ENOENT);
    if (!exists && m.entries.size >= m.options.maxEntries) {
      if (t === BpfMapType.LRU_HASH || t === BpfMapType.LRU_PERCPU_HASH)
        m.entries.delete(m.entries.keys().next().value!);
      else throw this.#err(cmd, Errno.E2BIG);
    }
    m.entries.delete(k);
    m.entries.set(k, v);
  }

  mapDeleteElem(fd: Fd | number, key: Uint8Array, flags: number | bigint = 0): boolean {
    this.#enter("mapDeleteElem", BpfCmd.MAP_DELETE_ELEM, [fd, key, flags]);
    const m = this.#map(fd, BpfCmd.MAP_DELETE_ELEM);
    if (m.frozen) throw this.#err("BPF_MAP_DELETE_ELEM", Errno.EPERM);
    if (ARRAYS.has(m.options.type)) throw this.#err("BPF_MAP_DELETE_ELEM", Errno.EINVAL);
    return m.entries.delete(hex(key.subarray(0, m.options.keySize)));
  }

  mapGetNextKey(fd: Fd | number, key: Uint8Array | null, nextKey: Uint8Array): boolean {
    this.#enter("mapGetNextKey", BpfCmd.MAP_GET_NEXT_KEY, [fd, key, nextKey]);
    const m = this.#map(fd, BpfCmd.MAP_GET_NEXT_KEY);
    const keys = [...m.entries.keys()];
    let i = 0;
    if (key) {
      const at = keys.indexOf(hex(key.subarray(0, m.options.keySize)));
      i = at < 0 ? 0 : at + 1; // like the kernel's hash map: an unknown key restarts from the first
    }
    if (i >= keys.length) return false;
    nextKey.set(unhex(keys[i]));
    return true;
  }

  mapLookupAndDeleteElem(
    fd: Fd | number,
    key: Uint8Array | null,
    value: Uint8Array,
    flags: number | bigint = 0,
  ): boolean {
    this.#enter("mapLookupAndDeleteElem", BpfCmd.MAP_LOOKUP_AND_DELETE_ELEM, [fd, key, value, flags]);
    const m = this.#map(fd, BpfCmd.MAP_LOOKUP_AND_DELETE_ELEM);
    if (ARRAYS.has(m.options.type)) throw this.#err("BPF_MAP_LOOKUP_AND_DELETE_ELEM", Errno.EINVAL);
    const t = m.options.type;
    let k: string | undefined;
    if (t === BpfMapType.QUEUE) k = m.entries.keys().next().value;
    else if (t === BpfMapType.STACK) k = [...m.entries.keys()].at(-1);
    else if (key) k = hex(key.subarray(0, m.options.keySize));
    const v = k === undefined ? undefined : m.entries.get(k);
    if (!v || k === undefined) return false;
    value.set(v.subarray(0, Math.min(v.length, value.length)));
    m.entries.delete(k);
    return true;
  }

  mapFreeze(fd: Fd | number): void {
    this.#enter("mapFreeze", BpfCmd.MAP_FREEZE, [fd]);
    const m = this.#get(fd, BpfCmd.MAP_FREEZE, "map").map!;
    if (m.frozen) throw this.#err("BPF_MAP_FREEZE", Errno.EBUSY);
    m.frozen = true;
  }

  #batchLookup(
    op: "mapLookupBatch" | "mapLookupAndDeleteBatch",
    fd: Fd | number,
    o: MapBatchOptions,
  ): MapBatchResult {
    const cmd = op === "mapLookupBatch" ? BpfCmd.MAP_LOOKUP_BATCH : BpfCmd.MAP_LOOKUP_AND_DELETE_BATCH;
    this.#enter(op, cmd, [fd, o]);
    const m = this.#map(fd, cmd);
    const ks = m.options.keySize;
    const vs = this.userValueSize(m);
    const start = o.inBatch ? new DataView(o.inBatch.buffer, o.inBatch.byteOffset).getUint32(0, true) : 0;
    const keys = [...m.entries.keys()];
    let n = 0;
    let i = start;
    for (; i < keys.length && n < o.count; i++, n++) {
      o.keys.set(unhex(keys[i]), n * ks);
      o.values!.set(m.entries.get(keys[i])!, n * vs);
    }
    if (op === "mapLookupAndDeleteBatch") {
      for (const k of keys.slice(start, i)) m.entries.delete(k);
      i = start;
    }
    if (o.outBatch) new DataView(o.outBatch.buffer, o.outBatch.byteOffset).setUint32(0, i, true);
    const done = op === "mapLookupBatch" ? i >= keys.length : m.entries.size === start;
    return { count: n, done };
  }

  mapLookupBatch(fd: Fd | number, options: MapBatchOptions): MapBatchResult {
    return this.#batchLookup("mapLookupBatch", fd, options);
  }

  mapLookupAndDeleteBatch(fd: Fd | number, options: MapBatchOptions): MapBatchResult {
    return this.#batchLookup("mapLookupAndDeleteBatch", fd, options);
  }

  mapUpdateBatch(fd: Fd | number, o: MapBatchOptions): MapBatchResult {
    this.#enter("mapUpdateBatch", BpfCmd.MAP_UPDATE_BATCH, [fd, o]);
    const m = this.#map(fd, BpfCmd.MAP_UPDATE_BATCH);
    const ks = m.options.keySize;
    const vs = this.userValueSize(m);
    const calls = this.calls.length;
    for (let i = 0; i < o.count; i++) {
      try {
        this.mapUpdateElem(
          fd,
          o.keys.subarray(i * ks, (i + 1) * ks),
          o.values!.subarray(i * vs, (i + 1) * vs),
          o.elemFlags,
        );
      } catch (e) {
        this.calls.length = calls;
        throw new SyscallError({
          syscall: "bpf",
          command: "BPF_MAP_UPDATE_BATCH",
          errno: (e as SyscallError).errno,
          context: `after ${i} element(s)`,
        });
      }
    }
    this.calls.length = calls;
    return { count: o.count, done: false };
  }

  mapDeleteBatch(fd: Fd | number, o: MapBatchOptions): MapBatchResult {
    this.#enter("mapDeleteBatch", BpfCmd.MAP_DELETE_BATCH, [fd, o]);
    const m = this.#map(fd, BpfCmd.MAP_DELETE_BATCH);
    const ks = m.options.keySize;
    for (let i = 0; i < o.count; i++) {
      if (!m.entries.delete(hex(o.keys.subarray(i * ks, (i + 1) * ks))))
        throw new SyscallError({
          syscall: "bpf",
          command: "BPF_MAP_DELETE_BATCH",
          errno: Errno.ENOENT,
          context: `after ${i} element(s)`,
        });
    }
    return { count: o.count, done: false };
  }

  mapElemOps(fd: Fd, keySize: number, valueSize: number): ElemOps {
    const key = new Uint8Array(keySize);
    const value = new Uint8Array(valueSize);
    const nextKey = new Uint8Array(keySize);
    const isQueue = () => {
      const t = this.object(fd).map?.options.type;
      return t === BpfMapType.QUEUE || t === BpfMapType.STACK;
    };
    return {
      key,
      value,
      nextKey,
      lookup: (flags = 0) => this.mapLookupElem(fd, key, value, flags),
      update: (flags = 0) => this.mapUpdateElem(fd, key, value, flags),
      delete: () => this.mapDeleteElem(fd, key),
      lookupAndDelete: (flags = 0) => this.mapLookupAndDeleteElem(fd, isQueue() ? null : key, value, flags),
      getNextKey: (fromStart = false) => this.mapGetNextKey(fd, fromStart ? null : key, nextKey),
    };
  }

  // -------------------------------------------------------------------------------------- programs

  progLoad(options: ProgLoadOptions): Fd {
    this.#enter("progLoad", BpfCmd.PROG_LOAD, [options]);
    if (options.insns.byteLength === 0 || options.insns.byteLength % 8 !== 0)
      throw this.#err("BPF_PROG_LOAD", Errno.EINVAL);
    const verdict = this.onProgLoad?.(options);
    if (verdict) {
      const log = verdict.log ?? "";
      if (options.logBuf && options.logBuf.byteLength > 0) {
        const enc = new TextEncoder().encode(log).subarray(0, options.logBuf.byteLength - 1);
        options.logBuf.set(enc);
        options.logBuf[enc.length] = 0;
      }
      throw new LoadError({
        syscall: "bpf",
        command: "BPF_PROG_LOAD",
        errno: Errno[verdict.errno],
        log,
        logTrueSize: log.length + 1,
      });
    }
    const tag = hex(new Uint8Array(options.insns.slice(0, 8))).padEnd(16, "0");
    return this.#open(this.#new("prog", { prog: { options, tag } }), "prog");
  }

  btfLoad(options: { btf: Uint8Array }): Fd {
    this.#enter("btfLoad", BpfCmd.BTF_LOAD, [options]);
    if (options.btf.byteLength < 24) throw this.#err("BPF_BTF_LOAD", Errno.EINVAL);
    return this.#open(this.#new("btf", { detail: options.btf.slice() }), "btf");
  }

  progTestRun(options: ProgTestRunOptions): ProgTestRunResult {
    this.#enter("progTestRun", BpfCmd.PROG_TEST_RUN, [options]);
    const p = this.#get(options.progFd, BpfCmd.PROG_TEST_RUN, "prog");
    const r = this.onTestRun?.(p, options) ?? {};
    if (options.dataIn && options.dataOut)
      options.dataOut.set(options.dataIn.subarray(0, options.dataOut.length));
    return { retval: 0, duration: 1, dataSizeOut: options.dataIn?.byteLength ?? 0, ctxSizeOut: 0, ...r };
  }

  // --------------------------------------------------------------------------------- objects / ids

  objPin(fd: Fd | number, path: string): void {
    this.#enter("objPin", BpfCmd.OBJ_PIN, [fd, path]);
    const o = this.#get(fd, BpfCmd.OBJ_PIN);
    if (this.pins.has(path)) throw this.#err("BPF_OBJ_PIN", Errno.EEXIST);
    this.pins.set(path, o);
    o.pinned++;
  }

  /** Removes a pin (the fake's `unlink`). */
  unpin(path: string): void {
    const o = this.pins.get(path);
    if (!o) throw new InvalidArgumentError(`no fake pin at ${path}`);
    this.pins.delete(path);
    o.pinned--;
    if (o.refs === 0 && o.pinned === 0) this.#objects.delete(o);
  }

  objGet(path: string): Fd {
    this.#enter("objGet", BpfCmd.OBJ_GET, [path]);
    const o = this.pins.get(path);
    if (!o) throw this.#err("BPF_OBJ_GET", Errno.ENOENT);
    return this.#open(o);
  }

  getNextId(kind: ObjectKind, startId: number): number | undefined {
    this.#enter("getNextId", bpfCmdName(BpfCmd.MAP_GET_NEXT_ID), [kind, startId]);
    const ids = [...this.#objects].filter((o) => o.kind === kind && o.id > startId).map((o) => o.id);
    return ids.length ? Math.min(...ids) : undefined;
  }

  getFdById(kind: ObjectKind, id: number): Fd {
    this.#enter("getFdById", `BPF_${kind.toUpperCase()}_GET_FD_BY_ID`, [kind, id]);
    const o = [...this.#objects].find((x) => x.kind === kind && x.id === id);
    if (!o) throw this.#err(`BPF_${kind.toUpperCase()}_GET_FD_BY_ID`, Errno.ENOENT);
    return this.#open(o);
  }

  objGetInfoByFd(fd: Fd | number, info: Uint8Array): number {
    this.#enter("objGetInfoByFd", BpfCmd.OBJ_GET_INFO_BY_FD, [fd, info]);
    this.#get(fd, BpfCmd.OBJ_GET_INFO_BY_FD);
    return 0;
  }

  mapInfo(fd: Fd | number): MapInfo {
    this.#enter("mapInfo", BpfCmd.OBJ_GET_INFO_BY_FD, [fd]);
    const o = this.#get(fd, BpfCmd.OBJ_GET_INFO_BY_FD, "map");
    const m = o.map!.options;
    return {
      type: m.type,
      id: o.id,
      keySize: m.keySize,
      valueSize: m.valueSize,
      maxEntries: m.maxEntries,
      flags: m.flags ?? 0,
      name: (m.name ?? "").slice(0, 15),
      btfId: 0,
      btfKeyTypeId: m.btfKeyTypeId ?? 0,
      btfValueTypeId: m.btfValueTypeId ?? 0,
      mapExtra: BigInt(m.mapExtra ?? 0),
      raw: new Uint8Array(0),
    };
  }

  progInfo(fd: Fd | number): ProgInfo {
    this.#enter("progInfo", BpfCmd.OBJ_GET_INFO_BY_FD, [fd]);
    const o = this.#get(fd, BpfCmd.OBJ_GET_INFO_BY_FD, "prog");
    const p = o.prog!;
    return {
      type: p.options.type,
      id: o.id,
      tag: p.tag,
      name: (p.options.name ?? "").slice(0, 15),
      jitedProgLen: p.options.insns.byteLength,
      xlatedProgLen: p.options.insns.byteLength,
      loadTime: 0n,
      createdByUid: 0,
      nrMapIds: 0,
      btfId: 0,
      runTimeNs: 0n,
      runCnt: 0n,
      verifiedInsns: p.options.insns.byteLength / 8,
      attachBtfId: p.options.attachBtfId ?? 0,
      raw: new Uint8Array(0),
    };
  }

  linkInfo(fd: Fd | number): LinkInfo {
    this.#enter("linkInfo", BpfCmd.OBJ_GET_INFO_BY_FD, [fd]);
    const o = this.#get(fd, BpfCmd.OBJ_GET_INFO_BY_FD, "link");
    const d = o.detail as {
      type: number;
      progId: number;
      kprobeMulti?: { flags: number; symbols?: string[]; addresses?: bigint[] };
    };
    const raw = new Uint8Array(d.kprobeMulti ? BpfLinkInfo.byteSize : 0);
    if (d.kprobeMulti) {
      const v = new DataView(raw.buffer);
      const f = BpfLinkInfo.fields;
      v.setUint32(f.type.offset, d.type, true);
      v.setUint32(
        f["kprobe_multi.count"].offset,
        d.kprobeMulti.symbols?.length ?? d.kprobeMulti.addresses?.length ?? 0,
        true,
      );
      v.setUint32(f["kprobe_multi.flags"].offset, d.kprobeMulti.flags, true);
    }
    return { type: d.type, id: o.id, progId: d.progId, raw };
  }

  btfInfo(fd: Fd | number): BtfInfo {
    this.#enter("btfInfo", BpfCmd.OBJ_GET_INFO_BY_FD, [fd]);
    const o = this.#get(fd, BpfCmd.OBJ_GET_INFO_BY_FD, "btf");
    return {
      id: o.id,
      btfSize: (o.detail as Uint8Array).byteLength,
      name: "",
      kernelBtf: false,
      raw: new Uint8Array(0),
    };
  }

  // ----------------------------------------------------------------------------------- attach/links

  /** Attachments made with progAttach: "targetFd:attachType" → program ids. */
  readonly attachments = new Map<string, number[]>();

  #target(o: { targetFd?: Fd | number; targetIfindex?: number }): string {
    const t =
      o.targetFd !== undefined
        ? typeof o.targetFd === "number"
          ? o.targetFd
          : o.targetFd.raw
        : `if${o.targetIfindex}`;
    return String(t);
  }

  progAttach(o: Parameters<Syscalls["progAttach"]>[0]): void {
    this.#enter("progAttach", BpfCmd.PROG_ATTACH, [o]);
    const p = this.#get(o.progFd!, BpfCmd.PROG_ATTACH, "prog");
    const key = `${this.#target(o)}:${o.attachType}`;
    const list = this.attachments.get(key) ?? [];
    if (list.length && !((o.flags ?? 0) & BpfFlags.BPF_F_ALLOW_MULTI)) list.length = 0;
    list.push(p.id);
    this.attachments.set(key, list);
  }

  progDetach(o: Parameters<Syscalls["progDetach"]>[0]): void {
    this.#enter("progDetach", BpfCmd.PROG_DETACH, [o]);
    const key = `${this.#target(o)}:${o.attachType}`;
    const list = this.attachments.get(key);
    if (!list?.length) throw this.#err("BPF_PROG_DETACH", Errno.ENOENT);
    const id = o.progFd !== undefined ? this.#get(o.progFd, BpfCmd.PROG_DETACH, "prog").id : list[0];
    const i = list.indexOf(id);
    if (i < 0) throw this.#err("BPF_PROG_DETACH", Errno.ENOENT);
    list.splice(i, 1);
  }

  progQuery(o: Parameters<Syscalls["progQuery"]>[0]): ReturnType<Syscalls["progQuery"]> {
    this.#enter("progQuery", BpfCmd.PROG_QUERY, [o]);
    const ids = this.attachments.get(`${this.#target(o)}:${o.attachType}`) ?? [];
    return { attachFlags: 0, progIds: ids.slice(0, o.maxPrograms ?? 64), count: ids.length, revision: 0n };
  }

  #link(
    op: keyof Syscalls,
    cmd: number,
    progFd: Fd | number,
    type: number,
    args: unknown[],
    check?: (prog: FakeObject) => Record<string, unknown>,
  ): Fd {
    this.#enter(op, cmd, args);
    const p = this.#get(progFd, cmd, "prog");
    const more = check?.(p);
    return this.#open(this.#new("link", { detail: { type, progId: p.id, args, ...more } }), "link");
  }

  /**
   * What a kernel reads of a kprobe_multi LINK_CREATE (while the caller's buffers are alive), with its
   * EINVAL checks: the program loaded for TRACE_KPROBE_MULTI, only the RETURN flag, symbols or addresses
   * (one of them), a non-zero count. The link then reports type KPROBE_MULTI and `detail.kprobeMulti`.
   */
  #kprobeMulti(o: Parameters<Syscalls["linkCreate"]>[0], prog: FakeObject): Record<string, unknown> {
    const x = o.extra ?? {};
    const num = (k: string) => Number(x[k] ?? 0);
    const flags = num("kprobe_multi.flags");
    const cnt = num("kprobe_multi.cnt");
    const syms = num("kprobe_multi.syms");
    const addrs = num("kprobe_multi.addrs");
    const cookies = num("kprobe_multi.cookies");
    const einval = () => this.#err("BPF_LINK_CREATE", Errno.EINVAL);
    if (prog.prog?.options.expectedAttachType !== BpfAttachType.TRACE_KPROBE_MULTI) throw einval();
    if (flags & ~BpfFlags.BPF_F_KPROBE_MULTI_RETURN) throw einval();
    if (!syms === !addrs || cnt === 0) throw einval();
    const u64s = (addr: number) => [...new BigUint64Array(viewOf(addr, cnt * 8).slice(0))];
    const cstr = (addr: number) => {
      const bytes = new Uint8Array(viewOf(addr, 4096));
      return Buffer.from(bytes.subarray(0, bytes.indexOf(0))).toString("latin1");
    };
    return {
      type: BpfLinkType.KPROBE_MULTI,
      kprobeMulti: {
        flags,
        symbols: syms ? u64s(syms).map((p) => cstr(Number(p))) : undefined,
        addresses: addrs ? u64s(addrs) : undefined,
        cookies: cookies ? u64s(cookies) : undefined,
      },
    };
  }

  rawTracepointOpen(name: string | null, progFd: Fd | number, cookie?: number | bigint): Fd {
    return this.#link("rawTracepointOpen", BpfCmd.RAW_TRACEPOINT_OPEN, progFd, 0, [name, progFd, cookie]);
  }

  linkCreate(o: Parameters<Syscalls["linkCreate"]>[0]): Fd {
    if (o.progFd === undefined) throw new InvalidArgumentError("fake linkCreate needs progFd");
    const check =
      o.attachType === BpfAttachType.TRACE_KPROBE_MULTI
        ? (p: FakeObject) => this.#kprobeMulti(o, p)
        : undefined;
    return this.#link("linkCreate", BpfCmd.LINK_CREATE, o.progFd, o.attachType, [o], check);
  }

  linkUpdate(
    linkFd: Fd | number,
    newProgFd: Fd | number,
    options: { flags?: number; oldProgFd?: Fd | number } = {},
  ): void {
    this.#enter("linkUpdate", BpfCmd.LINK_UPDATE, [linkFd, newProgFd, options]);
    const l = this.#get(linkFd, BpfCmd.LINK_UPDATE, "link");
    const d = l.detail as { progId: number };
    if (
      options.oldProgFd !== undefined &&
      this.#get(options.oldProgFd, BpfCmd.LINK_UPDATE, "prog").id !== d.progId
    )
      throw this.#err("BPF_LINK_UPDATE", Errno.EPERM);
    d.progId = this.#get(newProgFd, BpfCmd.LINK_UPDATE, "prog").id;
  }

  linkDetach(linkFd: Fd | number): void {
    this.#enter("linkDetach", BpfCmd.LINK_DETACH, [linkFd]);
    (this.#get(linkFd, BpfCmd.LINK_DETACH, "link").detail as { progId: number }).progId = 0;
  }

  iterCreate(linkFd: Fd | number): Fd {
    this.#enter("iterCreate", BpfCmd.ITER_CREATE, [linkFd]);
    this.#get(linkFd, BpfCmd.ITER_CREATE, "link");
    return this.#open(this.#new("other", {}), "iter");
  }

  enableStats(type: number): Fd {
    this.#enter("enableStats", BpfCmd.ENABLE_STATS, [type]);
    return this.#open(this.#new("other", {}), "stats");
  }

  progBindMap(progFd: Fd | number, mapFd: Fd | number): void {
    this.#enter("progBindMap", BpfCmd.PROG_BIND_MAP, [progFd, mapFd]);
    this.#get(progFd, BpfCmd.PROG_BIND_MAP, "prog");
    this.#get(mapFd, BpfCmd.PROG_BIND_MAP, "map");
  }

  taskFdQuery(pid: number, fd: number): ReturnType<Syscalls["taskFdQuery"]> {
    this.#enter("taskFdQuery", BpfCmd.TASK_FD_QUERY, [pid, fd]);
    throw this.#err("BPF_TASK_FD_QUERY", Errno.ENOENT);
  }

  // ------------------------------------------------------------------------------------------ perf

  perfEventOpen(options: Parameters<Syscalls["perfEventOpen"]>[0]): Fd {
    this.#enter("perfEventOpen", "perf_event_open", [options]);
    return this.#open(
      this.#new("perf_event", { detail: { options, enabled: !options.attr.disabled, prog: 0 } }),
      "perf_event",
    );
  }

  perfEventEnable(fd: Fd | number): void {
    this.#enter("perfEventEnable", "PERF_EVENT_IOC_ENABLE", [fd]);
    (this.#get(fd, 0, "perf_event").detail as { enabled: boolean }).enabled = true;
  }

  perfEventDisable(fd: Fd | number): void {
    this.#enter("perfEventDisable", "PERF_EVENT_IOC_DISABLE", [fd]);
    (this.#get(fd, 0, "perf_event").detail as { enabled: boolean }).enabled = false;
  }

  perfEventSetBpf(fd: Fd | number, progFd: Fd | number): void {
    this.#enter("perfEventSetBpf", "PERF_EVENT_IOC_SET_BPF", [fd, progFd]);
    const d = this.#get(fd, 0, "perf_event").detail as { prog: number };
    if (d.prog) throw this.#err("PERF_EVENT_IOC_SET_BPF", Errno.EEXIST);
    d.prog = this.#get(progFd, 0, "prog").id;
  }

  /** mmap: plain memory (zeroed) of the requested length, so readers can be driven by tests. */
  mmap(fd: Fd | number, length: number): MappedRegion {
    this.#enter("mmap", "mmap", [fd, length]);
    this.#get(fd, 0);
    let buffer: ArrayBuffer | undefined = new ArrayBuffer(length);
    return {
      length,
      get buffer() {
        if (!buffer) throw new InvalidArgumentError("mapping is closed");
        return buffer;
      },
      get closed() {
        return buffer === undefined;
      },
      close() {
        buffer = undefined;
      },
      [Symbol.dispose]() {
        buffer = undefined;
      },
    };
  }
}

function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, true);
  return b;
}
