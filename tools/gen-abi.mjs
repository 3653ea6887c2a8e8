#!/usr/bin/env node
// Generates packages/sys/src/abi.generated.ts — the kernel ABI used by @ebpf/sys — from kernel BTF.
//
//   pnpm build && node tools/gen-abi.mjs [--btf /sys/kernel/btf/vmlinux] [--out path] [--check] [--fallback]
//
// Plain Node (no TypeScript loader needed, so it runs the same locally and in CI): it reads BTF with
// @ebpf/btf's built dist (packages/btf/dist, from `pnpm build`), or with the dependency-free reader in
// tools/gen-abi-btf.mjs when that is not built or with --fallback, and emits:
//   - enums: bpf_cmd, bpf_map_type, bpf_prog_type, bpf_attach_type, bpf_link_type, bpf_func_id, BPF_F_* flags,
//     perf_type_id, perf_sw_ids, ... (see ENUMS below);
//   - layouts (byte offset and size of every field, bit offset/size of bitfields) of each command's part of
//     `union bpf_attr` and of perf_event_attr, bpf_{prog,map,link,btf}_info, perf_event_mmap_page and the
//     netlink headers (see STRUCTS below);
//   - a small table of `#define` constants that BTF cannot carry (DEFINES below), kept here so that no other
//     file hand-types an ABI number.
// `--check` exits 1 when the committed file differs from what this kernel produces. The vitest suite
// packages/sys/test/abi.test.ts does the same check through `generateAbi()` (and, on another kernel, checks
// that every committed offset agrees with that kernel's BTF).

import { readFileSync, writeFileSync } from "node:fs";
import { release } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { readMiniBtf } from "./gen-abi-btf.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
export const DEFAULT_OUT = join(root, "packages/sys/src/abi.generated.ts");

/** Enums: [exported name, how to find the BTF enum, prefix stripped from member names]. */
export const ENUMS = [
  ["BpfCmd", { name: "bpf_cmd" }, "BPF_"],
  ["BpfMapType", { name: "bpf_map_type" }, "BPF_MAP_TYPE_"],
  ["BpfProgType", { name: "bpf_prog_type" }, "BPF_PROG_TYPE_"],
  ["BpfAttachType", { name: "bpf_attach_type" }, "BPF_"],
  ["BpfLinkType", { name: "bpf_link_type" }, "BPF_LINK_TYPE_"],
  ["BpfFuncId", { name: "bpf_func_id" }, "BPF_FUNC_"],
  ["BpfStatsType", { name: "bpf_stats_type" }, "BPF_STATS_"],
  ["BpfTaskFdType", { name: "bpf_task_fd_type" }, "BPF_FD_TYPE_"],
  ["BpfCoreReloKind", { name: "bpf_core_relo_kind" }, "BPF_CORE_"],
  ["XdpAction", { name: "xdp_action" }, "XDP_"],
  ["BpfRingbuf", { member: "BPF_RINGBUF_BUSY_BIT" }, "BPF_RINGBUF_"],
  ["BpfRbFlags", { member: "BPF_RB_NO_WAKEUP" }, "BPF_RB_"],
  ["BtfKind", { member: "BTF_KIND_INT" }, "BTF_KIND_"],
  ["PerfTypeId", { name: "perf_type_id" }, "PERF_TYPE_"],
  ["PerfHwId", { name: "perf_hw_id" }, "PERF_COUNT_HW_"],
  ["PerfSwIds", { name: "perf_sw_ids" }, "PERF_COUNT_SW_"],
  ["PerfEventSampleFormat", { name: "perf_event_sample_format" }, "PERF_SAMPLE_"],
  ["PerfEventReadFormat", { name: "perf_event_read_format" }, "PERF_FORMAT_"],
  ["PerfEventType", { name: "perf_event_type" }, "PERF_RECORD_"],
  ["Ifla", { member: "IFLA_XDP" }, "IFLA_"],
  ["IflaXdp", { member: "IFLA_XDP_FD" }, "IFLA_XDP_"],
  ["Tca", { member: "TCA_KIND" }, "TCA_"],
  ["TcaBpf", { member: "TCA_BPF_FD" }, "TCA_BPF_"],
  ["Rtm", { member: "RTM_NEWLINK" }, "RTM_"],
];

/**
 * Structs: [exported name, how to find it, description]. `attr` finds a member of `union bpf_attr`: a named
 * member by `name`, an anonymous one by a field only it has (`has`).
 */
export const STRUCTS = [
  [
    "BpfAttr",
    { struct: "bpf_attr", sizeOnly: true },
    "`union bpf_attr` as a whole: only its size (the largest attr).",
  ],
  ["MapCreateAttr", { attr: { has: "map_type" } }, "BPF_MAP_CREATE"],
  [
    "MapElemAttr",
    { attr: { has: "next_key" } },
    "BPF_MAP_LOOKUP_ELEM, _UPDATE_ELEM, _DELETE_ELEM, _GET_NEXT_KEY, _LOOKUP_AND_DELETE_ELEM, _FREEZE",
  ],
  ["MapBatchAttr", { attr: { name: "batch" } }, "BPF_MAP_{LOOKUP,LOOKUP_AND_DELETE,UPDATE,DELETE}_BATCH"],
  ["ProgLoadAttr", { attr: { has: "insns" } }, "BPF_PROG_LOAD"],
  ["ObjAttr", { attr: { has: "pathname" } }, "BPF_OBJ_PIN, BPF_OBJ_GET"],
  ["ProgAttachAttr", { attr: { has: "attach_bpf_fd" } }, "BPF_PROG_ATTACH, BPF_PROG_DETACH"],
  ["TestRunAttr", { attr: { name: "test" } }, "BPF_PROG_TEST_RUN"],
  ["GetIdAttr", { attr: { has: "start_id" } }, "BPF_*_GET_NEXT_ID, BPF_*_GET_FD_BY_ID"],
  ["InfoAttr", { attr: { name: "info" } }, "BPF_OBJ_GET_INFO_BY_FD"],
  ["QueryAttr", { attr: { name: "query" } }, "BPF_PROG_QUERY"],
  ["RawTracepointAttr", { attr: { name: "raw_tracepoint" } }, "BPF_RAW_TRACEPOINT_OPEN"],
  ["BtfLoadAttr", { attr: { has: "btf_log_buf" } }, "BPF_BTF_LOAD"],
  ["TaskFdQueryAttr", { attr: { name: "task_fd_query" } }, "BPF_TASK_FD_QUERY"],
  ["LinkCreateAttr", { attr: { name: "link_create" } }, "BPF_LINK_CREATE"],
  ["LinkUpdateAttr", { attr: { name: "link_update" } }, "BPF_LINK_UPDATE"],
  ["LinkDetachAttr", { attr: { name: "link_detach" } }, "BPF_LINK_DETACH"],
  ["EnableStatsAttr", { attr: { name: "enable_stats" } }, "BPF_ENABLE_STATS"],
  ["IterCreateAttr", { attr: { name: "iter_create" } }, "BPF_ITER_CREATE"],
  ["ProgBindMapAttr", { attr: { name: "prog_bind_map" } }, "BPF_PROG_BIND_MAP"],
  ["PerfEventAttr", { struct: "perf_event_attr" }, "`struct perf_event_attr` (perf_event_open)."],
  [
    "PerfEventMmapPage",
    { struct: "perf_event_mmap_page" },
    "`struct perf_event_mmap_page` (perf ring header page).",
  ],
  [
    "PerfEventHeader",
    { struct: "perf_event_header" },
    "`struct perf_event_header` (perf ring record header).",
  ],
  [
    "BpfProgInfo",
    { struct: "bpf_prog_info" },
    "`struct bpf_prog_info` (BPF_OBJ_GET_INFO_BY_FD on a program).",
  ],
  ["BpfMapInfo", { struct: "bpf_map_info" }, "`struct bpf_map_info` (BPF_OBJ_GET_INFO_BY_FD on a map)."],
  ["BpfLinkInfo", { struct: "bpf_link_info" }, "`struct bpf_link_info` (BPF_OBJ_GET_INFO_BY_FD on a link)."],
  ["BpfBtfInfo", { struct: "bpf_btf_info" }, "`struct bpf_btf_info` (BPF_OBJ_GET_INFO_BY_FD on BTF)."],
  ["BpfInsn", { struct: "bpf_insn" }, "`struct bpf_insn` (8 bytes; regs are 4-bit fields)."],
  ["NlMsgHdr", { struct: "nlmsghdr" }, "`struct nlmsghdr`."],
  ["NlMsgErr", { struct: "nlmsgerr" }, "`struct nlmsgerr`."],
  ["NlAttr", { struct: "nlattr" }, "`struct nlattr`."],
  ["IfInfoMsg", { struct: "ifinfomsg" }, "`struct ifinfomsg`."],
  ["TcMsg", { struct: "tcmsg" }, "`struct tcmsg`."],
  ["SockaddrNl", { struct: "sockaddr_nl" }, "`struct sockaddr_nl`."],
  ["EpollEvent", { struct: "epoll_event" }, "`struct epoll_event` (packed on x86-64)."],
];

const ioc = (dir, type, nr, size) => ((dir << 30) | (size << 16) | (type.charCodeAt(0) << 8) | nr) >>> 0;
const [IOC_NONE, IOC_WRITE, IOC_READ] = [0, 1, 2];

/**
 * `#define`s that BTF cannot carry (values from the kernel's UAPI headers and the generic Linux ABI used by
 * x86-64 and arm64). The only hand-kept ABI numbers in the project.
 */
export const DEFINES = {
  BpfDefines: {
    BPF_F_ALLOW_OVERRIDE: 1,
    BPF_F_ALLOW_MULTI: 2,
    BPF_F_REPLACE: 4,
    BPF_F_BEFORE: 8,
    BPF_F_AFTER: 16,
    BPF_F_ID: 32,
    BPF_F_QUERY_EFFECTIVE: 1,
    BPF_F_STRICT_ALIGNMENT: 1,
    BPF_F_ANY_ALIGNMENT: 2,
    BPF_F_TEST_RND_HI32: 4,
    BPF_F_TEST_STATE_FREQ: 8,
    BPF_F_SLEEPABLE: 16,
    BPF_F_XDP_HAS_FRAGS: 32,
    BPF_F_XDP_DEV_BOUND_ONLY: 64,
    BPF_F_TEST_RUN_ON_CPU: 1,
    BPF_F_TEST_XDP_LIVE_FRAMES: 2,
    BPF_OBJ_NAME_LEN: 16,
    BPF_TAG_SIZE: 8,
    BPF_PSEUDO_MAP_FD: 1,
    BPF_PSEUDO_MAP_VALUE: 2,
    BPF_PSEUDO_BTF_ID: 3,
    BPF_PSEUDO_FUNC: 4,
    BPF_PSEUDO_MAP_IDX: 5,
    BPF_PSEUDO_MAP_IDX_VALUE: 6,
    BPF_PSEUDO_CALL: 1,
    BPF_PSEUDO_KFUNC_CALL: 2,
    XDP_FLAGS_UPDATE_IF_NOEXIST: 1,
    XDP_FLAGS_SKB_MODE: 2,
    XDP_FLAGS_DRV_MODE: 4,
    XDP_FLAGS_HW_MODE: 8,
    XDP_FLAGS_REPLACE: 16,
    TCA_BPF_FLAG_ACT_DIRECT: 1,
    TC_H_ROOT: 0xffffffff,
    TC_H_CLSACT: 0xfffffff1,
    TC_H_MIN_INGRESS: 0xfff2,
    TC_H_MIN_EGRESS: 0xfff3,
  },
  PerfDefines: {
    PERF_FLAG_FD_NO_GROUP: 1,
    PERF_FLAG_FD_OUTPUT: 2,
    PERF_FLAG_PID_CGROUP: 4,
    PERF_FLAG_FD_CLOEXEC: 8,
    PERF_EVENT_IOC_ENABLE: ioc(IOC_NONE, "$", 0, 0),
    PERF_EVENT_IOC_DISABLE: ioc(IOC_NONE, "$", 1, 0),
    PERF_EVENT_IOC_REFRESH: ioc(IOC_NONE, "$", 2, 0),
    PERF_EVENT_IOC_RESET: ioc(IOC_NONE, "$", 3, 0),
    PERF_EVENT_IOC_PERIOD: ioc(IOC_WRITE, "$", 4, 8),
    PERF_EVENT_IOC_SET_OUTPUT: ioc(IOC_NONE, "$", 5, 0),
    PERF_EVENT_IOC_SET_FILTER: ioc(IOC_WRITE, "$", 6, 8),
    PERF_EVENT_IOC_ID: ioc(IOC_READ, "$", 7, 8),
    PERF_EVENT_IOC_SET_BPF: ioc(IOC_WRITE, "$", 8, 4),
    PERF_EVENT_IOC_PAUSE_OUTPUT: ioc(IOC_WRITE, "$", 9, 4),
    PERF_EVENT_IOC_QUERY_BPF: ioc(IOC_READ | IOC_WRITE, "$", 10, 8),
    PERF_EVENT_IOC_MODIFY_ATTRIBUTES: ioc(IOC_WRITE, "$", 11, 8),
  },
  NetlinkDefines: {
    AF_NETLINK: 16,
    NETLINK_ROUTE: 0,
    SOL_NETLINK: 270,
    NETLINK_EXT_ACK: 11,
    NETLINK_GET_STRICT_CHK: 12,
    NLMSG_NOOP: 1,
    NLMSG_ERROR: 2,
    NLMSG_DONE: 3,
    NLM_F_REQUEST: 1,
    NLM_F_MULTI: 2,
    NLM_F_ACK: 4,
    NLM_F_ECHO: 8,
    NLM_F_DUMP: 0x300,
    NLM_F_REPLACE: 0x100,
    NLM_F_EXCL: 0x200,
    NLM_F_CREATE: 0x400,
    NLM_F_CAPPED: 0x100,
    NLM_F_ACK_TLVS: 0x200,
    NLMSGERR_ATTR_MSG: 1,
    NLA_F_NESTED: 0x8000,
    NLA_TYPE_MASK: 0x3fff,
    AF_UNSPEC: 0,
    ETH_P_ALL: 3,
  },
  LinuxDefines: {
    O_RDONLY: 0,
    O_WRONLY: 1,
    O_RDWR: 2,
    O_NONBLOCK: 0o4000,
    O_CLOEXEC: 0o2000000,
    SOCK_RAW: 3,
    SOCK_DGRAM: 2,
    SOCK_CLOEXEC: 0o2000000,
    EFD_CLOEXEC: 0o2000000,
    EFD_NONBLOCK: 0o4000,
    EPOLL_CLOEXEC: 0o2000000,
    EPOLL_CTL_ADD: 1,
    EPOLL_CTL_DEL: 2,
    EPOLL_CTL_MOD: 3,
    EPOLLIN: 0x1,
    EPOLLPRI: 0x2,
    EPOLLOUT: 0x4,
    EPOLLERR: 0x8,
    EPOLLHUP: 0x10,
    EPOLLRDHUP: 0x2000,
    PROT_NONE: 0,
    PROT_READ: 1,
    PROT_WRITE: 2,
    MAP_SHARED: 1,
    MAP_PRIVATE: 2,
    MAP_FIXED: 0x10,
    MAP_ANONYMOUS: 0x20,
    F_DUPFD_CLOEXEC: 1030,
    UTSNAME_FIELD_LEN: 65,
    SC_PAGESIZE: 30,
    // asm-generic/resource.h (x86-64 and arm64); RLIM_INFINITY is ~0UL.
    RLIMIT_MEMLOCK: 8,
  },
};

/** Syscall numbers by Node's `process.arch` (they are not in BTF). */
export const SYSCALL_NUMBERS = {
  x64: { bpf: 321, perf_event_open: 298 },
  arm64: { bpf: 280, perf_event_open: 241 },
};

// ----------------------------------------------------------------------------------------------------------
// A tiny normalised view over a BTF implementation: types[id] = { kind, name, size?, type?, nelems?,
// members?: {name, type, bitOffset, bitSize}[], values?: {name, value}[] }.

// @ebpf/btf kind numbers (BTF_KIND_*) → the normalised names.
const KIND_BY_NUMBER = [
  "void",
  "int",
  "ptr",
  "array",
  "struct",
  "union",
  "enum",
  "fwd",
  "typedef",
  "volatile",
  "const",
  "restrict",
  "func",
  "func_proto",
  "var",
  "datasec",
  "float",
  "decl_tag",
  "type_tag",
  "enum64",
];

/**
 * Adapts a parsed @ebpf/btf `Btf` (`parseBtf(bytes)`) to the normalised type array.
 * @param {{ count: number, typeById(id: number): any }} btf
 */
export function fromEbpfBtf(btf) {
  const types = [];
  for (let id = 0; id < btf.count; id++) {
    const t = btf.typeById(id);
    const out = { kind: KIND_BY_NUMBER[t.kind] ?? "unknown", name: t.name ?? "" };
    if (t.size !== undefined) out.size = t.size;
    if (t.type !== undefined) out.type = t.type;
    if (t.elemType !== undefined) {
      out.type = t.elemType;
      out.nelems = t.nelems;
    }
    if (t.members)
      out.members = t.members.map((m) => ({
        name: m.name,
        type: m.type,
        bitOffset: m.bitOffset,
        bitSize: m.bitfieldSize,
      }));
    if (t.values) out.values = t.values.map((v) => ({ name: v.name, value: v.value }));
    types.push(out);
  }
  return types;
}

// ----------------------------------------------------------------------------------------------------------

const QUALIFIERS = new Set(["typedef", "const", "volatile", "restrict", "type_tag"]);

function resolve(types, id) {
  let t = types[id];
  while (t && QUALIFIERS.has(t.kind)) t = types[t.type];
  return t;
}

function sizeOf(types, id) {
  const t = resolve(types, id);
  switch (t.kind) {
    case "ptr":
      return 8;
    case "array":
      return t.nelems * sizeOf(types, t.type);
    default:
      if (t.size === undefined) throw new Error(`no size for ${t.kind} ${t.name}`);
      return t.size;
  }
}

/** Flattens a struct/union into [name, layout] pairs; anonymous members inline, named aggregates dotted. */
function flatten(types, t, baseBits, prefix, out) {
  for (const m of t.members) {
    const mt = resolve(types, m.type);
    const bits = baseBits + m.bitOffset;
    const aggregate = mt.kind === "struct" || mt.kind === "union";
    if (!m.name && aggregate) {
      flatten(types, mt, bits, prefix, out);
      continue;
    }
    const name = prefix + m.name;
    const size = sizeOf(types, m.type);
    if (out.some(([n]) => n === name)) continue; // first declaration wins (overlapping union names)
    if (m.bitSize) {
      const offset = Math.floor(bits / (size * 8)) * size;
      out.push([name, { offset, size, bitOffset: bits - offset * 8, bitSize: m.bitSize }]);
    } else {
      if (bits % 8 !== 0) throw new Error(`${name}: unaligned non-bitfield member`);
      out.push([name, { offset: bits / 8, size }]);
      if (aggregate) flatten(types, mt, bits, `${name}.`, out);
    }
  }
  return out;
}

function findStruct(types, name) {
  const t = types.find((x) => (x.kind === "struct" || x.kind === "union") && x.name === name && x.members);
  if (!t) throw new Error(`struct/union ${name} not in BTF`);
  return t;
}

function findAttrMember(types, spec) {
  const attr = findStruct(types, "bpf_attr");
  for (const m of attr.members) {
    const mt = resolve(types, m.type);
    if (spec.name !== undefined && m.name === spec.name) return { t: mt, bitOffset: m.bitOffset };
    if (spec.has !== undefined && !m.name && flatten(types, mt, 0, "", []).some(([n]) => n === spec.has))
      return { t: mt, bitOffset: m.bitOffset };
  }
  throw new Error(`union bpf_attr has no member matching ${JSON.stringify(spec)}`);
}

function findEnum(types, spec) {
  const isEnum = (t) => t.kind === "enum" || t.kind === "enum64";
  const t = spec.name
    ? types.find((x) => isEnum(x) && x.name === spec.name && x.values?.length)
    : types.find((x) => isEnum(x) && x.values?.some((v) => v.name === spec.member));
  if (!t) throw new Error(`enum ${JSON.stringify(spec)} not in BTF`);
  return t;
}

const ident = (s) => (/^[A-Za-z_$][\w$]*$/.test(s) ? s : JSON.stringify(s));
const num = (v) => {
  if (typeof v === "bigint") {
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER)) return `${v}n`;
    return String(Number(v));
  }
  return String(v);
};

/**
 * Produces the text of abi.generated.ts from normalised BTF types.
 * @param {ReturnType<typeof readMiniBtf>} types
 * @param {{ kernelRelease?: string, source?: string, lenient?: boolean }} [options] `lenient` skips enums and
 *   structs this BTF lacks (an older kernel) instead of failing; used to compare against other kernels.
 */
export function generateAbi(types, options = {}) {
  const tolerate = (f) => {
    try {
      return f();
    } catch (e) {
      if (options.lenient) return undefined;
      throw e;
    }
  };
  const src = options.source ?? "/sys/kernel/btf/vmlinux";
  const lines = [
    "// DO NOT EDIT: generated by tools/gen-abi.mjs from kernel BTF",
    `// (${src}, Linux ${options.kernelRelease ?? "unknown"}). Regenerate: pnpm build && node tools/gen-abi.mjs`,
    "/* biome-ignore-all format: generated */",
    "",
    "/** Where one field of a kernel struct sits: byte offset and size; bitfields add bit offset and width within",
    " * the `size`-byte unit at `offset` (little-endian bit numbering). */",
    "export interface FieldLayout {",
    "  readonly offset: number;",
    "  readonly size: number;",
    "  readonly bitOffset?: number;",
    "  readonly bitSize?: number;",
    "}",
    "",
    "/** The layout of a kernel struct: total size and every field (anonymous members inlined, named nested",
    " * aggregates as `outer.inner`). */",
    "export interface StructLayout {",
    "  readonly byteSize: number;",
    "  readonly fields: Readonly<Record<string, FieldLayout>>;",
    "}",
    "",
    `/** The kernel release this file was generated from. */`,
    `export const ABI_KERNEL_RELEASE = ${JSON.stringify(options.kernelRelease ?? "unknown")};`,
    "",
  ];
  for (const [exported, spec, prefix] of ENUMS) {
    const e = tolerate(() => findEnum(types, spec));
    if (!e) continue;
    lines.push(
      `/** \`${e.name ? `enum ${e.name}` : `anonymous enum with ${spec.member}`}\`, prefix \`${prefix}\` removed. */`,
    );
    lines.push(`export const ${exported} = {`);
    const seen = new Set();
    for (const v of e.values) {
      // Skip out-of-prefix members and the `__MAX`/`MAX` sentinels, which change with every kernel.
      if (!v.name.startsWith(prefix) || v.name.startsWith("__")) continue;
      const key = v.name.slice(prefix.length);
      if (key === "MAX" || key.startsWith("MAX_")) continue;
      if (seen.has(key) || key === "") continue;
      seen.add(key);
      lines.push(`  ${ident(key)}: ${num(v.value)},`);
    }
    lines.push("} as const;");
    lines.push(`export type ${exported} = (typeof ${exported})[keyof typeof ${exported}];`, "");
  }
  // BPF_F_* and map-update flags live in many anonymous enums.
  const flags = new Map();
  for (const t of types) {
    if ((t.kind !== "enum" && t.kind !== "enum64") || !t.values) continue;
    for (const v of t.values) {
      if (/^BPF_F_/.test(v.name) || /^BPF_(ANY|NOEXIST|EXIST)$/.test(v.name))
        if (!flags.has(v.name)) flags.set(v.name, v.value);
    }
  }
  for (const [name, value] of Object.entries(DEFINES.BpfDefines))
    if (!flags.has(name)) flags.set(name, value);
  lines.push(
    "/** Every `BPF_F_*` flag and `BPF_ANY`/`BPF_NOEXIST`/`BPF_EXIST`, from BTF enums plus the `#define`s",
  );
  lines.push(
    " * BTF cannot carry (tools/gen-abi.mjs DEFINES). Several share a value in different contexts. */",
  );
  lines.push("export const BpfFlags = {");
  for (const [k, v] of [...flags].sort(([a], [b]) => (a < b ? -1 : 1))) lines.push(`  ${k}: ${num(v)},`);
  lines.push("} as const;", "");
  for (const [group, values] of Object.entries(DEFINES)) {
    if (group === "BpfDefines") {
      lines.push("/** Other BPF `#define`s (pseudo-instruction sources, XDP and TC flags). */");
    } else {
      lines.push(`/** \`#define\` constants (not in BTF): ${group.replace("Defines", "")}. */`);
    }
    lines.push(`export const ${group} = {`);
    for (const [k, v] of Object.entries(values)) lines.push(`  ${k}: ${num(v)},`);
    lines.push("} as const;", "");
  }
  lines.push("/** Syscall numbers by `process.arch` (not in BTF). */");
  lines.push(
    "export const SyscallNumbers: Readonly<Record<string, { readonly bpf: number; readonly perf_event_open: number }>> = {",
  );
  for (const [arch, nrs] of Object.entries(SYSCALL_NUMBERS))
    lines.push(`  ${arch}: { bpf: ${nrs.bpf}, perf_event_open: ${nrs.perf_event_open} },`);
  lines.push("};", "");
  for (const [exported, spec, description] of STRUCTS) {
    let t;
    let where;
    if (spec.attr) {
      t = tolerate(() => findAttrMember(types, spec.attr).t);
      if (!t) continue;
      where = spec.attr.name
        ? `\`union bpf_attr\` member \`${spec.attr.name}\`, used by ${description}.`
        : `\`union bpf_attr\`: the anonymous struct used by ${description}.`;
    } else {
      t = tolerate(() => findStruct(types, spec.struct));
      if (!t) continue;
      where = description;
    }
    const fields = spec.sizeOnly ? [] : flatten(types, t, 0, "", []);
    lines.push(`/** ${where} */`);
    lines.push(`export const ${exported} = {`);
    lines.push(`  byteSize: ${t.size},`);
    lines.push("  fields: {");
    for (const [name, f] of fields) {
      const bits = f.bitSize ? `, bitOffset: ${f.bitOffset}, bitSize: ${f.bitSize}` : "";
      lines.push(`    ${ident(name)}: { offset: ${f.offset}, size: ${f.size}${bits} },`);
    }
    lines.push("  },");
    lines.push("} as const satisfies StructLayout;", "");
  }
  return `${lines.join("\n")}`;
}

async function loadTypes(path, fallback) {
  const bytes = readFileSync(path);
  if (fallback)
    return { types: readMiniBtf(new Uint8Array(bytes)), via: "tools/gen-abi-btf.mjs (--fallback)" };
  try {
    const btf = await import(join(root, "packages/btf/dist/index.js"));
    return { types: fromEbpfBtf(btf.parseBtf(new Uint8Array(bytes))), via: "@ebpf/btf" };
  } catch (e) {
    console.error(`@ebpf/btf not usable (${e.message.split("\n")[0]}); using the fallback reader`);
  }
  return { types: readMiniBtf(new Uint8Array(bytes)), via: "tools/gen-abi-btf.mjs (fallback)" };
}

async function main(argv) {
  const arg = (name, dflt) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : dflt;
  };
  const btfPath = arg("--btf", "/sys/kernel/btf/vmlinux");
  const out = arg("--out", DEFAULT_OUT);
  const { types, via } = await loadTypes(btfPath, argv.includes("--fallback"));
  const text = generateAbi(types, { kernelRelease: release(), source: btfPath });
  if (argv.includes("--check")) {
    const current = readFileSync(out, "utf8");
    if (current !== text) {
      console.error(`${out} is out of date with ${btfPath} (read via ${via}): run node tools/gen-abi.mjs`);
      process.exit(1);
    }
    console.log(`${out} is up to date (read via ${via})`);
    return;
  }
  writeFileSync(out, text);
  console.log(`wrote ${out} from ${btfPath} via ${via}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await main(process.argv.slice(2));
}
