/** perf_event_open(2) and the perf event ioctls. */
import { type FieldLayout, PerfDefines, PerfEventAttr } from "./abi.generated.js";
import { put, Scratch } from "./attr.js";
import { InvalidArgumentError, SyscallError } from "./errors.js";
import { Fd, rawFd } from "./fd.js";
import { errno, libc } from "./libc.js";

/** Values of `struct perf_event_attr` fields by generated name (bitfields take booleans or numbers). */
export type PerfEventAttrValues = Partial<
  Record<keyof typeof PerfEventAttr.fields, number | bigint | boolean>
>;

/** Options of {@link perfEventOpen}. */
export interface PerfEventOpenOptions {
  /**
   * The attr fields, e.g. `{ type: PerfTypeId.SOFTWARE, config: PerfSwIds.BPF_OUTPUT, sample_type:
   * PerfEventSampleFormat.RAW, sample_period: 1, wakeup_events: 1 }`. `size` is filled in.
   */
  attr: PerfEventAttrValues;
  /** -1 for any process (with a cpu), 0 for this one. Default -1. */
  pid?: number;
  /** -1 for any cpu (with a pid). Default 0. */
  cpu?: number;
  /** Group leader fd, or -1. */
  groupFd?: Fd | number;
  /** PERF_FLAG_*; PERF_FLAG_FD_CLOEXEC is always added. */
  flags?: number;
}

let scratch: Scratch | undefined;

function writeBits(view: DataView, f: FieldLayout, value: number | bigint | boolean): void {
  const bitOffset = BigInt(f.bitOffset ?? 0);
  const width = BigInt(f.bitSize ?? 0);
  const mask = ((1n << width) - 1n) << bitOffset;
  const v = (BigInt(typeof value === "boolean" ? Number(value) : value) << bitOffset) & mask;
  if (f.size === 8) {
    const cur = view.getBigUint64(f.offset, true);
    view.setBigUint64(f.offset, (cur & ~mask) | v, true);
  } else if (f.size === 4) {
    const cur = BigInt(view.getUint32(f.offset, true));
    view.setUint32(f.offset, Number((cur & ~mask) | v), true);
  } else {
    throw new RangeError(`unsupported bitfield unit size ${f.size}`);
  }
}

/** Encodes a perf_event_attr (for tests and callers that keep their own copy). */
export function encodePerfEventAttr(values: PerfEventAttrValues, into?: Scratch): Uint8Array {
  const s = into ?? new Scratch(PerfEventAttr.byteSize);
  s.bytes.fill(0, 0, PerfEventAttr.byteSize);
  const fields = PerfEventAttr.fields as Record<string, FieldLayout>;
  for (const [name, v] of Object.entries(values)) {
    if (v === undefined) continue;
    const f = fields[name];
    if (!f) throw new InvalidArgumentError(`perf_event_attr has no field "${name}"`);
    if (f.bitSize) writeBits(s.view, f, v);
    else put(s.view, f, typeof v === "boolean" ? Number(v) : v);
  }
  put(s.view, PerfEventAttr.fields.size, PerfEventAttr.byteSize);
  return s.bytes.subarray(0, PerfEventAttr.byteSize);
}

/**
 * perf_event_open(2), always close-on-exec. Returns the owned event fd.
 *
 * @example
 * ```ts
 * using ev = perfEventOpen({
 *   attr: { type: PerfTypeId.SOFTWARE, config: PerfSwIds.BPF_OUTPUT, sample_type: PerfEventSampleFormat.RAW,
 *           sample_period: 1, wakeup_events: 1 },
 *   cpu: 0,
 * });
 * ```
 */
export function perfEventOpen(options: PerfEventOpenOptions): Fd {
  scratch ??= new Scratch(Math.max(PerfEventAttr.byteSize, 256));
  encodePerfEventAttr(options.attr, scratch);
  const l = libc();
  const r = l.syscall5(
    l.nr.perf_event_open,
    scratch.address,
    options.pid ?? -1,
    options.cpu ?? 0,
    options.groupFd === undefined
      ? -1
      : typeof options.groupFd === "number"
        ? options.groupFd
        : rawFd(options.groupFd),
    (options.flags ?? 0) | PerfDefines.PERF_FLAG_FD_CLOEXEC,
  );
  if (r < 0) throw new SyscallError({ syscall: "perf_event_open", errno: errno() });
  return new Fd(r, "perf_event");
}

const requestNames = new Map<number, string>(Object.entries(PerfDefines).map(([k, v]) => [v, k]));

/** ioctl(2) on an fd with an integer argument; throws {@link SyscallError} naming the request. */
export function ioctl(fd: Fd | number, request: number, arg: number = 0): number {
  const r = libc().ioctl(rawFd(fd), request, arg);
  if (r < 0)
    throw new SyscallError({
      syscall: "ioctl",
      command: requestNames.get(request) ?? `0x${request.toString(16)}`,
      errno: errno(),
    });
  return r;
}

/** PERF_EVENT_IOC_ENABLE. */
export function perfEventEnable(fd: Fd | number): void {
  ioctl(fd, PerfDefines.PERF_EVENT_IOC_ENABLE, 0);
}

/** PERF_EVENT_IOC_DISABLE. */
export function perfEventDisable(fd: Fd | number): void {
  ioctl(fd, PerfDefines.PERF_EVENT_IOC_DISABLE, 0);
}

/** PERF_EVENT_IOC_SET_BPF: attach a tracepoint/kprobe/perf_event program (the legacy, non-link way). */
export function perfEventSetBpf(fd: Fd | number, progFd: Fd | number): void {
  ioctl(fd, PerfDefines.PERF_EVENT_IOC_SET_BPF, rawFd(progFd));
}

/** PERF_EVENT_IOC_PAUSE_OUTPUT (1 pauses, 0 resumes the ring output). */
export function perfEventPauseOutput(fd: Fd | number, pause: boolean): void {
  ioctl(fd, PerfDefines.PERF_EVENT_IOC_PAUSE_OUTPUT, pause ? 1 : 0);
}
