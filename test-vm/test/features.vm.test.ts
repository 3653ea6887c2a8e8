// Self-test of the test VM, run in every guest kernel by test-vm/run.sh (never on the host: the root vitest
// config does not include test-vm/). It proves what the kernel tests can rely on in the VM, through raw bpf()
// and perf_event_open() calls (hand-written attr offsets, no library code):
// - the guest kernel's BTF is the cached host-side fixture test-vm/.cache/kernels/<k>/vmlinux.btf, with the BTF
//   kinds each kernel really has (5.10: no VAR/DATASEC/FLOAT/DECL_TAG/TYPE_TAG/ENUM64);
// - what the host refuses runs here for real: fentry, fexit, fmod_ret and LSM programs load, attach and fire,
//   and so do kprobes.
import { closeSync as fsClose, openSync, readFileSync } from "node:fs";
import { release } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import koffi from "koffi";
import { afterEach, describe, expect, it } from "vitest";

const cacheDir = fileURLToPath(new URL("../.cache", import.meta.url));
const series = /^(\d+\.\d+)/.exec(release())?.[1] ?? "?";

const libc = koffi.load("libc.so.6");
const bpfSyscall = libc.func("long syscall(long nr, long cmd, void *attr, uint32 size)");
const perfSyscall = libc.func("syscall", "long", ["long", "void *", "int", "int", "int", "unsigned long"]);
const ioctl = libc.func("int ioctl(int fd, unsigned long req, unsigned long arg)");
const close = libc.func("int close(int fd)");
const getppid = libc.func("int getppid()");
const SYS_bpf = 321;
const SYS_perf_event_open = 298;

// bpf commands, program types and attach types (uapi/linux/bpf.h)
const BPF_MAP_CREATE = 0;
const BPF_MAP_LOOKUP_ELEM = 1;
const BPF_PROG_LOAD = 5;
const BPF_PROG_TEST_RUN = 10;
const BPF_RAW_TRACEPOINT_OPEN = 17;
const BPF_PROG_TYPE_KPROBE = 2;
const BPF_PROG_TYPE_TRACING = 26;
const BPF_PROG_TYPE_LSM = 29;
const BPF_TRACE_FENTRY = 24;
const BPF_TRACE_FEXIT = 25;
const BPF_MODIFY_RETURN = 26;
const BPF_LSM_MAC = 27;

const fds: number[] = [];
afterEach(() => {
  while (fds.length > 0) close(fds.pop()!);
});

function bpf(cmd: number, attr: Buffer): number {
  const ret = Number(bpfSyscall(SYS_bpf, cmd, attr, attr.length));
  if (ret < 0) throw new Error(`bpf(cmd ${cmd}) failed: errno ${koffi.errno()}`);
  return ret;
}

function track(fd: number): number {
  fds.push(fd);
  return fd;
}

/** An array map of one u64 counter. */
function counterMap(): number {
  const attr = Buffer.alloc(128);
  attr.writeUInt32LE(2, 0); // BPF_MAP_TYPE_ARRAY
  attr.writeUInt32LE(4, 4);
  attr.writeUInt32LE(8, 8);
  attr.writeUInt32LE(1, 12);
  return track(bpf(BPF_MAP_CREATE, attr));
}

function readCounter(mapFd: number): bigint {
  const key = Buffer.alloc(4);
  const value = Buffer.alloc(8);
  const attr = Buffer.alloc(128);
  attr.writeUInt32LE(mapFd, 0);
  attr.writeBigUInt64LE(BigInt(koffi.address(key)), 8);
  attr.writeBigUInt64LE(BigInt(koffi.address(value)), 16);
  bpf(BPF_MAP_LOOKUP_ELEM, attr);
  return value.readBigUInt64LE();
}

function insn(code: number, dst: number, src: number, off: number, imm: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt8(code, 0);
  b.writeUInt8((src << 4) | dst, 1);
  b.writeInt16LE(off, 2);
  b.writeInt32LE(imm, 4);
  return b;
}

/** `counter[0] += 1; return 0;` */
function counterProgram(mapFd: number): Buffer {
  return Buffer.concat([
    insn(0x18, 1, 1, 0, mapFd), // r1 = map (ld_imm64, BPF_PSEUDO_MAP_FD)
    insn(0, 0, 0, 0, 0),
    insn(0x62, 10, 0, -4, 0), // *(u32 *)(r10 - 4) = 0
    insn(0xbf, 2, 10, 0, 0), // r2 = r10
    insn(0x07, 2, 0, 0, -4), // r2 += -4
    insn(0x85, 0, 0, 0, 1), // call bpf_map_lookup_elem
    insn(0x15, 0, 0, 2, 0), // if r0 == 0 goto +2
    insn(0xb7, 1, 0, 0, 1), // r1 = 1
    insn(0xdb, 0, 1, 0, 0), // lock *(u64 *)(r0 + 0) += r1
    insn(0xb7, 0, 0, 0, 0), // r0 = 0
    insn(0x95, 0, 0, 0, 0), // exit
  ]);
}

function loadProgram(type: number, attachType: number, attachBtfId: number, insns: Buffer): number {
  const license = Buffer.from("GPL\0");
  const log = Buffer.alloc(1 << 16);
  const name = Buffer.from("test_vm");
  const attr = Buffer.alloc(128);
  attr.writeUInt32LE(type, 0);
  attr.writeUInt32LE(insns.length / 8, 4);
  attr.writeBigUInt64LE(BigInt(koffi.address(insns)), 8);
  attr.writeBigUInt64LE(BigInt(koffi.address(license)), 16);
  attr.writeUInt32LE(1, 24); // log_level
  attr.writeUInt32LE(log.length, 28);
  attr.writeBigUInt64LE(BigInt(koffi.address(log)), 32);
  name.copy(attr, 48);
  attr.writeUInt32LE(attachType, 68); // expected_attach_type
  attr.writeUInt32LE(attachBtfId, 108); // attach_btf_id
  const ret = Number(bpfSyscall(SYS_bpf, BPF_PROG_LOAD, attr, attr.length));
  if (ret < 0) {
    const errno = koffi.errno();
    const text = log.toString("utf8", 0, Math.max(0, log.indexOf(0)));
    throw new Error(`BPF_PROG_LOAD failed: errno ${errno}\n${text}`);
  }
  return track(ret);
}

/** Attaches a tracing/LSM program to its BTF target (BPF_RAW_TRACEPOINT_OPEN with no name). */
function attachTracing(progFd: number): number {
  const attr = Buffer.alloc(128);
  attr.writeUInt32LE(progFd, 8);
  return track(bpf(BPF_RAW_TRACEPOINT_OPEN, attr));
}

/** BPF_PROG_TEST_RUN of a tracing program: the kernel calls bpf_fentry_test1..8 and bpf_modify_return_test. */
function testRun(progFd: number): void {
  const attr = Buffer.alloc(128);
  attr.writeUInt32LE(progFd, 0);
  bpf(BPF_PROG_TEST_RUN, attr);
}

// ---- kernel BTF: a minimal walk (header, then each type's fixed size by kind) ----

const KIND_NAMES = [
  "UNKN",
  "INT",
  "PTR",
  "ARRAY",
  "STRUCT",
  "UNION",
  "ENUM",
  "FWD",
  "TYPEDEF",
  "VOLATILE",
  "CONST",
  "RESTRICT",
  "FUNC",
  "FUNC_PROTO",
  "VAR",
  "DATASEC",
  "FLOAT",
  "DECL_TAG",
  "TYPE_TAG",
  "ENUM64",
];

function extraBytes(kind: number, vlen: number): number {
  switch (kind) {
    case 1:
    case 14:
    case 17:
      return 4;
    case 3:
      return 12;
    case 4:
    case 5:
    case 15:
    case 19:
      return vlen * 12;
    case 6:
    case 13:
      return vlen * 8;
    default:
      return 0;
  }
}

interface BtfSummary {
  kinds: Map<string, number>;
  funcs: Map<string, number>;
}

function walkBtf(btf: Buffer): BtfSummary {
  expect(btf.readUInt16LE(0)).toBe(0xeb9f);
  const hdrLen = btf.readUInt32LE(4);
  const typeStart = hdrLen + btf.readUInt32LE(8);
  const typeEnd = typeStart + btf.readUInt32LE(12);
  const strStart = hdrLen + btf.readUInt32LE(16);
  const kinds = new Map<string, number>();
  const funcs = new Map<string, number>();
  let p = typeStart;
  let id = 1;
  while (p < typeEnd) {
    const nameOff = btf.readUInt32LE(p);
    const info = btf.readUInt32LE(p + 4);
    const kind = (info >>> 24) & 0x1f;
    const name = KIND_NAMES[kind] ?? `KIND${kind}`;
    kinds.set(name, (kinds.get(name) ?? 0) + 1);
    if (kind === 12) {
      const s = strStart + nameOff;
      funcs.set(btf.toString("latin1", s, btf.indexOf(0, s)), id);
    }
    p += 12 + extraBytes(kind, info & 0xffff);
    id++;
  }
  expect(p).toBe(typeEnd);
  return { kinds, funcs };
}

const liveBtf = readFileSync("/sys/kernel/btf/vmlinux");
const btf = walkBtf(liveBtf);

function funcId(name: string): number {
  const id = btf.funcs.get(name);
  if (id === undefined) throw new Error(`no BTF FUNC ${name} in this kernel`);
  return id;
}

/** Byte offset of `struct name`'s member `member` in a raw BTF blob (a direct member, not a bitfield). */
function memberOffset(raw: Buffer, name: string, member: string): number {
  const hdrLen = raw.readUInt32LE(4);
  const typeStart = hdrLen + raw.readUInt32LE(8);
  const typeEnd = typeStart + raw.readUInt32LE(12);
  const strStart = hdrLen + raw.readUInt32LE(16);
  const str = (off: number) => raw.toString("latin1", strStart + off, raw.indexOf(0, strStart + off));
  for (let p = typeStart; p < typeEnd; ) {
    const info = raw.readUInt32LE(p + 4);
    const kind = (info >>> 24) & 0x1f;
    const vlen = info & 0xffff;
    if (kind === 4 && str(raw.readUInt32LE(p)) === name) {
      for (let i = 0; i < vlen; i++) {
        const m = p + 12 + i * 12;
        if (str(raw.readUInt32LE(m)) !== member) continue;
        const bits = raw.readUInt32LE(m + 8) & (info >>> 31 ? 0xffffff : 0xffffffff);
        return bits / 8;
      }
    }
    p += 12 + extraBytes(kind, vlen);
  }
  throw new Error(`no ${name}.${member} in this BTF`);
}

// Measured on Debian's builds: BTF kinds present in each kernel's vmlinux BTF.
const EXPECTED_KINDS: Record<string, Record<string, boolean>> = {
  "5.10": { VAR: false, DATASEC: false, FLOAT: false, DECL_TAG: false, TYPE_TAG: false, ENUM64: false },
  "6.1": { VAR: true, DATASEC: true, FLOAT: true, DECL_TAG: false, TYPE_TAG: false, ENUM64: true },
  "6.12": { VAR: true, DATASEC: true, FLOAT: true, DECL_TAG: false, TYPE_TAG: false, ENUM64: true },
};

describe(`test VM on ${release()}`, () => {
  it("runs the kernel it claims to", () => {
    expect(Object.keys(EXPECTED_KINDS)).toContain(series);
    const env: Record<string, string | undefined> = process.env; // set by the guest /init
    expect(env.TEST_VM_KERNEL).toBe(release());
  });

  it("has the cached host-side BTF fixture byte for byte", () => {
    const fixture = readFileSync(join(cacheDir, "kernels", series, "vmlinux.btf"));
    expect(fixture.equals(liveBtf)).toBe(true);
  });

  it("has exactly the BTF kinds this kernel is known for", () => {
    const present = Object.fromEntries(
      Object.keys(EXPECTED_KINDS[series] ?? {}).map((k) => [k, (btf.kinds.get(k) ?? 0) > 0]),
    );
    expect(present).toEqual(EXPECTED_KINDS[series]);
    process.stdout.write(
      `[test-vm] ${release()} BTF kinds: ${JSON.stringify(Object.fromEntries(btf.kinds))}\n`,
    );
  });

  it("the kernel's BTF gives its real task_struct.pid offset (a CO-RE oracle), different in each kernel", () => {
    // Offsets from the three cached BTF fixtures (the ones fetched so far)...
    const offsets: Record<string, number> = {};
    for (const k of Object.keys(EXPECTED_KINDS)) {
      try {
        offsets[k] = memberOffset(
          readFileSync(join(cacheDir, "kernels", k, "vmlinux.btf")),
          "task_struct",
          "pid",
        );
      } catch {}
    }
    process.stdout.write(`[test-vm] task_struct.pid offset by kernel: ${JSON.stringify(offsets)}\n`);
    const off = memberOffset(liveBtf, "task_struct", "pid");
    expect(offsets[series]).toBe(off);
    // ...and this kernel reads our pid at its own offset: fentry on bpf_fentry_test1, fired by our test run,
    // so the current task is this process's main thread.
    const map = counterMap();
    const prog = loadProgram(
      BPF_PROG_TYPE_TRACING,
      BPF_TRACE_FENTRY,
      funcId("bpf_fentry_test1"),
      Buffer.concat([
        insn(0x85, 0, 0, 0, 35), // call bpf_get_current_task
        insn(0xbf, 3, 0, 0, 0), // r3 = r0
        insn(0x07, 3, 0, 0, off), // r3 += offsetof(struct task_struct, pid)
        insn(0xbf, 1, 10, 0, 0), // r1 = r10
        insn(0x07, 1, 0, 0, -8), // r1 += -8
        insn(0xb7, 2, 0, 0, 4), // r2 = 4
        insn(0x85, 0, 0, 0, 113), // call bpf_probe_read_kernel
        insn(0x18, 1, 1, 0, map), // r1 = map
        insn(0, 0, 0, 0, 0),
        insn(0x62, 10, 0, -12, 0), // *(u32 *)(r10 - 12) = 0
        insn(0xbf, 2, 10, 0, 0), // r2 = r10
        insn(0x07, 2, 0, 0, -12), // r2 += -12
        insn(0x85, 0, 0, 0, 1), // call bpf_map_lookup_elem
        insn(0x15, 0, 0, 2, 0), // if r0 == 0 goto +2
        insn(0x61, 1, 10, -8, 0), // r1 = *(u32 *)(r10 - 8)
        insn(0x7b, 0, 1, 0, 0), // *(u64 *)(r0 + 0) = r1
        insn(0xb7, 0, 0, 0, 0), // r0 = 0
        insn(0x95, 0, 0, 0, 0), // exit
      ]),
    );
    attachTracing(prog);
    testRun(prog);
    expect(readCounter(map)).toBe(BigInt(process.pid));
  });

  it("fentry fires (refused on the host)", () => {
    const map = counterMap();
    const prog = loadProgram(
      BPF_PROG_TYPE_TRACING,
      BPF_TRACE_FENTRY,
      funcId("bpf_fentry_test1"),
      counterProgram(map),
    );
    attachTracing(prog);
    testRun(prog);
    expect(readCounter(map)).toBeGreaterThanOrEqual(1n);
  });

  it("fexit fires", () => {
    const map = counterMap();
    const prog = loadProgram(
      BPF_PROG_TYPE_TRACING,
      BPF_TRACE_FEXIT,
      funcId("bpf_fentry_test1"),
      counterProgram(map),
    );
    attachTracing(prog);
    testRun(prog);
    expect(readCounter(map)).toBeGreaterThanOrEqual(1n);
  });

  it("fmod_ret fires (on security_file_open: Debian builds no error injection)", () => {
    // bpf_modify_return_test is modifiable only with CONFIG_FUNCTION_ERROR_INJECTION, off in all three
    // Debian kernels; security_* functions always are. Returning 0 lets the original function run.
    const map = counterMap();
    const prog = loadProgram(
      BPF_PROG_TYPE_TRACING,
      BPF_MODIFY_RETURN,
      funcId("security_file_open"),
      counterProgram(map),
    );
    attachTracing(prog);
    for (let i = 0; i < 3; i++) fsClose(openSync("/proc/self/status", "r"));
    expect(readCounter(map)).toBeGreaterThanOrEqual(3n);
  });

  it("LSM (file_open) fires: the guest boots with lsm=...,bpf", () => {
    expect(readFileSync("/sys/kernel/security/lsm", "utf8")).toMatch(/\bbpf\b/);
    const map = counterMap();
    const prog = loadProgram(
      BPF_PROG_TYPE_LSM,
      BPF_LSM_MAC,
      funcId("bpf_lsm_file_open"),
      counterProgram(map),
    );
    attachTracing(prog);
    for (let i = 0; i < 3; i++) fsClose(openSync("/proc/self/status", "r"));
    expect(readCounter(map)).toBeGreaterThanOrEqual(3n);
  });

  it("kprobe fires (the host has no kprobes)", () => {
    const pmuType = Number(readFileSync("/sys/bus/event_source/devices/kprobe/type", "utf8"));
    const map = counterMap();
    const prog = loadProgram(BPF_PROG_TYPE_KPROBE, 0, 0, counterProgram(map));
    const func = Buffer.from("__x64_sys_getppid\0");
    const attr = Buffer.alloc(128);
    attr.writeUInt32LE(pmuType, 0);
    attr.writeUInt32LE(attr.length, 4);
    attr.writeBigUInt64LE(BigInt(koffi.address(func)), 56); // config1: kprobe_func
    // this process on any CPU, no group, PERF_FLAG_FD_CLOEXEC
    const pfd = Number(perfSyscall(SYS_perf_event_open, attr, 0, -1, -1, 8));
    if (pfd < 0) throw new Error(`perf_event_open(kprobe) failed: errno ${koffi.errno()}`);
    track(pfd);
    expect(ioctl(pfd, 0x40042408, prog)).toBe(0); // PERF_EVENT_IOC_SET_BPF
    expect(ioctl(pfd, 0x2400, 0)).toBe(0); // PERF_EVENT_IOC_ENABLE
    for (let i = 0; i < 10; i++) getppid();
    expect(readCounter(map)).toBeGreaterThanOrEqual(10n);
  });
});
