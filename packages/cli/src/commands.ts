/**
 * The subcommands of `ebpf`. Each takes its arguments and returns the text to print, so tests can run
 * them without spawning a process.
 */
import { readFileSync } from "node:fs";
import { type Btf, formatC, formatRaw, parseBtf } from "@ebpf/btf";
import { loadKernelBtf, loadModuleBtf } from "@ebpf/btf/node";
import { parseBpfObject } from "@ebpf/elf";
import { EbpfError } from "@ebpf/errors";
import { listLinks, listMaps, listPrograms, mapTypeName, relocate, sys } from "ebpf";

/** A CLI usage problem: printed with the usage text, exit code 2. */
export class UsageError extends EbpfError {
  constructor(message: string) {
    super("ERR_EBPF_USAGE", message);
  }
}

function readBytes(path: string): Uint8Array {
  const b = readFileSync(path);
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** BTF from a raw BTF file, a BPF object's `.BTF`, a module name (`module:<name>`), or vmlinux. */
function loadBtfArg(arg: string | undefined): Btf {
  if (!arg || arg === "vmlinux") return loadKernelBtf();
  if (arg.startsWith("module:")) return loadModuleBtf(arg.slice(7));
  const bytes = readBytes(arg);
  if (bytes[0] === 0x7f && bytes[1] === 0x45) {
    const spec = parseBpfObject(bytes);
    if (!spec.btfBytes) throw new UsageError(`${arg} has no .BTF section`);
    return parseBtf(spec.btfBytes);
  }
  return parseBtf(bytes);
}

/** `ebpf btf dump [FILE|vmlinux|module:NAME] [--format c|raw]`: like `bpftool btf dump file X format …`. */
export function btfDump(args: string[]): string {
  const i = args.indexOf("--format");
  const format = i >= 0 ? args[i + 1] : "raw";
  const rest = i >= 0 ? args.filter((_, j) => j !== i && j !== i + 1) : args;
  const btf = loadBtfArg(rest[0]);
  if (format === "c") return formatC(btf);
  if (format === "raw") return formatRaw(btf);
  throw new UsageError(`--format must be c or raw, not "${format}"`);
}

function table(rows: (string | number | bigint | undefined)[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => String(r[c] ?? "").length)));
  return rows
    .map((r) =>
      r
        .map((v, c) => String(v ?? "").padEnd(widths[c]))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

/** `ebpf object FILE`: what a BPF object holds (programs, maps, data sections, externs). */
export function objectInfo(args: string[]): string {
  if (!args[0]) throw new UsageError("ebpf object FILE");
  const spec = parseBpfObject(readBytes(args[0]));
  const out: string[] = [
    `${args[0]}: ${spec.byteOrder}-endian, license ${JSON.stringify(spec.license ?? "")}`,
  ];
  out.push(
    "",
    "programs:",
    table([
      ["NAME", "SECTION", "TYPE", "ATTACH TYPE", "TARGET", "INSNS", "SUBPROGRAMS"],
      ...spec.programs.map((p) => [
        p.autoload ? p.name : `${p.name} (not autoloaded)`,
        p.sectionName,
        p.type.replace(/^BPF_PROG_TYPE_/, "").toLowerCase(),
        p.expectedAttachType?.replace(/^BPF_/, "").toLowerCase() ?? "-",
        p.attachTo ?? "-",
        p.size / 8,
        p.subprograms.join(",") || "-",
      ]),
    ]),
  );
  out.push(
    "",
    "maps:",
    table([
      ["NAME", "TYPE", "KEY", "VALUE", "MAX ENTRIES", "FLAGS", "SOURCE"],
      ...spec.maps.map((m) => [
        m.name,
        mapTypeName(m.type),
        m.keySize,
        m.valueSize,
        m.maxEntries,
        `0x${m.flags.toString(16)}`,
        m.source,
      ]),
    ]),
  );
  if (spec.dataSections.length) {
    out.push("", "global data:");
    for (const d of spec.dataSections) {
      out.push(
        `  ${d.name} (${d.kind}, ${d.size} bytes): ${d.variables.map((v) => v.name).join(", ") || "-"}`,
      );
    }
  }
  if (spec.externs.length) {
    out.push("", "externs:");
    for (const e of spec.externs) out.push(`  ${e.name} (${e.kind}${e.weak ? ", weak" : ""})`);
  }
  return out.join("\n");
}

/** `ebpf disasm FILE [PROGRAM]`: programs relocated against the running kernel's BTF, disassembled. */
export function disasm(args: string[]): string {
  if (!args[0]) throw new UsageError("ebpf disasm FILE [PROGRAM]");
  const spec = parseBpfObject(readBytes(args[0]));
  const local = spec.btfBytes ? parseBtf(spec.btfBytes) : undefined;
  const result = relocate.relocateObject(spec, {
    localBtf: local ? relocate.fromBtf(local) : undefined,
    ext:
      spec.btfExtBytes && local
        ? relocate.parseBtfExtInfo(spec.btfExtBytes, (o) => local.stringAt(o))
        : undefined,
    target: local ? relocate.fromBtf(loadKernelBtf()) : undefined,
    programs: args[1] ? [args[1]] : undefined,
  });
  if (args[1] && result.programs.length === 0) throw new UsageError(`no program "${args[1]}" in ${args[0]}`);
  return result.programs
    .map((p) => `${p.name} (${p.section}):\n${relocate.disassemble(p.instructions)}`)
    .join("\n\n");
}

/** `ebpf prog list`, `ebpf map list`, `ebpf link list`: what is loaded in the kernel. */
export function list(kind: string): string {
  if (kind === "prog") {
    return table([
      ["ID", "TYPE", "NAME", "TAG", "INSNS", "RUNS", "RUN TIME"],
      ...listPrograms().map((p) => [
        p.id,
        p.typeName,
        p.name,
        p.tag,
        p.xlatedProgLen / 8,
        p.runCnt,
        p.runCnt ? `${p.runTimeNs}ns` : "-",
      ]),
    ]);
  }
  if (kind === "map") {
    return table([
      ["ID", "TYPE", "NAME", "KEY", "VALUE", "MAX ENTRIES"],
      ...listMaps().map((m) => [m.id, mapTypeName(m.type), m.name, m.keySize, m.valueSize, m.maxEntries]),
    ]);
  }
  if (kind === "link") {
    return table([["ID", "TYPE", "PROG ID"], ...listLinks().map((l) => [l.id, l.typeName, l.progId])]);
  }
  throw new UsageError(`list what? prog, map or link (not "${kind}")`);
}

/** `ebpf features`: what the running kernel supports, from the cached probes of @ebpf/sys. */
export function features(): string {
  const v = sys.kernelVersion();
  const rows: [string, string][] = [
    ["kernel", `${v.major}.${v.minor}.${v.patch} (${v.source})`],
    ["BTF", String(sys.haveBtf())],
    ["bpf_link", String(sys.haveBpfLinks())],
    ["bounded loops", String(sys.haveBoundedLoops())],
    ["large programs (1M insns)", String(sys.haveLargePrograms())],
  ];
  // A probe that cannot decide (a type that needs a kernel struct, say) shows as "?", not as an error.
  const mark = (probe: () => boolean) => {
    try {
      return probe() ? "" : " (no)";
    } catch {
      return " (?)";
    }
  };
  const maps = Object.entries(sys.BpfMapType)
    .filter(([n]) => n !== "UNSPEC" && !n.endsWith("DEPRECATED"))
    .map(([n, t]) => `${n.toLowerCase()}${mark(() => sys.haveMapType(t))}`);
  const progs = Object.entries(sys.BpfProgType)
    .filter(([n]) => n !== "UNSPEC")
    .map(([n, t]) => `${n.toLowerCase()}${mark(() => sys.haveProgType(t))}`);
  return [
    ...rows.map(([k, val]) => `${k.padEnd(28)}${val}`),
    "",
    `map types: ${maps.join(", ")}`,
    "",
    `program types: ${progs.join(", ")}`,
  ].join("\n");
}

/** The usage text. */
export const usage = `ebpf — inspect BPF objects, BTF and what is loaded in the kernel

  ebpf object FILE                          programs, maps, global data and externs of a BPF object
  ebpf disasm FILE [PROGRAM]                relocated (CO-RE against this kernel) and disassembled
  ebpf btf dump [FILE|vmlinux|module:NAME] [--format raw|c]
                                            BTF as bpftool's raw text, or as C (vmlinux.h)
  ebpf prog list | map list | link list     what is loaded in the kernel
  ebpf features                             what this kernel supports
`;

/** Runs one command line; returns the text to print. */
export function run(argv: string[]): string {
  const [cmd, ...args] = argv;
  switch (cmd) {
    case "object":
      return objectInfo(args);
    case "disasm":
      return disasm(args);
    case "btf":
      if (args[0] !== "dump") throw new UsageError("ebpf btf dump ...");
      return btfDump(args.slice(1));
    case "prog":
    case "map":
    case "link":
      if (args[0] !== "list" && args[0] !== undefined) throw new UsageError(`ebpf ${cmd} list`);
      return list(cmd);
    case "features":
      return features();
    case undefined:
    case "help":
    case "--help":
    case "-h":
      return usage;
    default:
      throw new UsageError(`unknown command "${cmd}"`);
  }
}
