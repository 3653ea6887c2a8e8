/**
 * `ebpf` — eBPF for Node.js. Load a BPF object built by clang, relocate it (maps, global data, CO-RE),
 * load and attach its programs, and use its maps and event streams.
 *
 * Everything the layers below offer is re-exported: programs and maps at the top level (`Xdp`,
 * `CgroupSkb`, `HashMap`, `RingBuf`…), and each lower layer as a namespace (`btf`, `elf`, `relocate`,
 * `sys`) for tools that need them.
 *
 * @example
 * ```ts
 * import { openSync } from "node:fs";
 * import { Ebpf, CgroupSkb } from "ebpf";
 *
 * const bpf = Ebpf.loadFile("bpf.o");
 * const ingress = bpf.program("ingress_filter", CgroupSkb);
 * ingress.load();
 * ingress.attach(openSync("/sys/fs/cgroup/unified", "r"), "ingress");
 * ```
 *
 * @packageDocumentation
 */
export * as btf from "@ebpf/btf";
export * as elf from "@ebpf/elf";
export { EbpfError, ParseError } from "@ebpf/errors";
// Both layers name something PerfEvent: the program class wins the plain name, the reader's event is renamed.
export type { PerfEvent as PerfReaderEvent } from "@ebpf/maps";
export * from "@ebpf/maps";
export * from "@ebpf/programs";
export { PerfEvent } from "@ebpf/programs";
export * as relocate from "@ebpf/relocate";
export * as sys from "@ebpf/sys";
export { Ebpf } from "./ebpf.js";
export {
  GlobalVariableError,
  NotFoundError,
  ObjectLoadError,
  ProgramNotLoadedError,
  ProgramTypeMismatchError,
} from "./errors.js";
export { GlobalVariables } from "./globals.js";
export { kconfigLookup, runningKernelConfig } from "./kernel-config.js";
export type { EbpfLoadOptions, GlobalValue } from "./options.js";
export type { ProgramHandle, ProgramHandleMethods } from "./program-handle.js";
