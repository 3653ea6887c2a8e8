/**
 * `.kconfig` externs: the layout of the `.kconfig` map (libbpf's order: by alignment descending, then
 * size ascending, then name) and its contents from the running kernel's config, which the loader reads
 * (`/proc/config.gz`) and passes in as plain `NAME → value` strings.
 */
import type { ExternSpec } from "@ebpf/elf";
import { RelocationError } from "./core/errors.js";
import { BtfKind, type CoreBtf, skipModsAndTypedefs, typeById } from "./core/types.js";

/** Where each `.kconfig` extern lives in the `.kconfig` map value. */
export interface KconfigLayout {
  /** Byte offset by extern name. */
  offsets: Map<string, number>;
  /** Size of the map value. */
  size: number;
}

function alignOf(btf: CoreBtf, id: number, depth = 0): number {
  const r = skipModsAndTypedefs(btf, id);
  if (!r || depth > 32) return 1;
  const t = r.t;
  switch (t.kind) {
    case BtfKind.Int:
    case BtfKind.Enum:
    case BtfKind.Enum64:
    case BtfKind.Float:
      return Math.min(Math.max(t.size, 1), 8);
    case BtfKind.Ptr:
      return btf.pointerSize ?? 8;
    case BtfKind.Array:
      return alignOf(btf, t.array?.type ?? 0, depth + 1);
    case BtfKind.Struct:
    case BtfKind.Union:
      return Math.max(1, ...(t.members ?? []).map((m) => alignOf(btf, m.type, depth + 1)));
    default:
      return 1;
  }
}

/** The value type of an extern (its `VAR`'s type). */
function valueType(btf: CoreBtf, e: ExternSpec): number {
  const v = e.typeId !== undefined ? typeById(btf, e.typeId) : undefined;
  return v?.kind === BtfKind.Var ? v.type : (e.typeId ?? 0);
}

/**
 * libbpf's `.kconfig` layout for an object's kconfig externs.
 *
 * @example
 * ```ts
 * const layout = kconfigLayout(spec.externs, fromBtf(btf));
 * ```
 */
export function kconfigLayout(externs: readonly ExternSpec[], btf: CoreBtf): KconfigLayout {
  const list = externs
    .filter((e) => e.kind === "kconfig")
    .map((e) => ({ e, align: alignOf(btf, valueType(btf, e)), size: e.size ?? 0 }));
  list.sort(
    (a, b) =>
      b.align - a.align || a.size - b.size || (a.e.name < b.e.name ? -1 : a.e.name > b.e.name ? 1 : 0),
  );
  const offsets = new Map<string, number>();
  let off = 0;
  for (const x of list) {
    const at = Math.ceil(off / x.align) * x.align;
    offsets.set(x.e.name, at);
    off = at + x.size;
  }
  return { offsets, size: off };
}

/**
 * The `.kconfig` map value: each extern's value from `config` (`"y"`, `"m"`, `"n"`, numbers, quoted
 * strings, as in the kernel's `.config`), encoded as libbpf does (bool, `enum libbpf_tristate`, char
 * arrays, integers). `LINUX_KERNEL_VERSION` and friends are looked up in `config` too.
 *
 * @throws RelocationError when a non-weak extern has no value, or a value does not fit its type.
 */
export function encodeKconfig(
  externs: readonly ExternSpec[],
  btf: CoreBtf,
  config: (name: string) => string | undefined,
  order: "little" | "big" = "little",
  layout: KconfigLayout = kconfigLayout(externs, btf),
): Uint8Array {
  const out = new Uint8Array(layout.size);
  const dv = new DataView(out.buffer);
  for (const e of externs) {
    if (e.kind !== "kconfig") continue;
    const off = layout.offsets.get(e.name)!;
    const raw = config(e.name);
    const fail = (why: string) =>
      new RelocationError("ERR_EBPF_KCONFIG", `.kconfig extern "${e.name}": ${why}`);
    if (raw === undefined) {
      if (!e.weak) throw fail("no value in the kernel config and the extern is not __weak");
      continue;
    }
    const r = skipModsAndTypedefs(btf, valueType(btf, e));
    const t = r?.t;
    const size = e.size ?? t?.size ?? 0;
    if (t?.kind === BtfKind.Enum && t.name === "libbpf_tristate") {
      const v = raw === "y" ? 1 : raw === "m" ? 2 : raw === "n" ? 0 : undefined;
      if (v === undefined) throw fail(`"${raw}" is not a tristate`);
      dv.setUint32(off, v, order === "little");
    } else if (t?.kind === BtfKind.Int && size === 1 && ((t.intEncoding ?? 0) & 4) !== 0) {
      if (raw !== "y" && raw !== "n") throw fail(`"${raw}" is not a bool`);
      out[off] = raw === "n" ? 0 : 1;
    } else if (t?.kind === BtfKind.Array) {
      if (!/^".*"$/.test(raw)) throw fail(`"${raw}" is not a string`);
      const bytes = new TextEncoder().encode(raw.slice(1, -1));
      out.set(bytes.subarray(0, Math.max(0, size - 1)), off);
    } else if (t?.kind === BtfKind.Int || t?.kind === BtfKind.Enum || t?.kind === BtfKind.Enum64) {
      let v: bigint;
      if (raw === "y" || raw === "m" || raw === "n") v = raw === "n" ? 0n : raw === "y" ? 1n : 2n;
      else {
        try {
          v = BigInt(raw);
        } catch {
          throw fail(`"${raw}" is not a number`);
        }
      }
      const le = order === "little";
      if (size === 1) dv.setUint8(off, Number(BigInt.asUintN(8, v)));
      else if (size === 2) dv.setUint16(off, Number(BigInt.asUintN(16, v)), le);
      else if (size === 4) dv.setUint32(off, Number(BigInt.asUintN(32, v)), le);
      else if (size === 8) dv.setBigUint64(off, BigInt.asUintN(64, v), le);
      else throw fail(`unsupported integer size ${size}`);
    } else {
      throw fail("unsupported type (bool, tristate, char array or integer expected)");
    }
  }
  return out;
}

/**
 * Parse a kernel `.config` text (the content of `/proc/config.gz`, decompressed by the caller) into a
 * lookup. Like libbpf, `# CONFIG_X is not set` lines are ignored (the option has no value).
 */
export function parseKernelConfig(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split("\n")) {
    const m = /^(CONFIG_\w+)=(.*)$/.exec(line);
    if (m) out.set(m[1], m[2]);
  }
  return out;
}
