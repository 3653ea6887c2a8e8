/**
 * An object file's BTF made loadable: DATASEC sizes and variable offsets filled in from the ELF (clang
 * leaves them 0 for the loader), then sanitized for the BTF kinds the running kernel knows.
 */
import { type Btf, BtfBuilder, BtfKind, btfFeaturesOfKernel, parseBtf, sanitizeBtf } from "@ebpf/btf";
import type { BpfObjectSpec } from "@ebpf/elf";
import { type Fd, kernelSyscalls, kernelVersion, LoadError, type Syscalls } from "@ebpf/sys";
import { AttachError } from "./errors.js";
import { fixupExternTypes, hasExterns } from "./object-btf-externs.js";

const BTF_MAGIC = 0xeb9f;
const HDR_LEN = 24;

/**
 * Returns the object's BTF bytes with every DATASEC's size and variable offsets taken from the ELF
 * section and symbols. String offsets are unchanged, so the object's line_info stays valid.
 */
export function fixupObjectBtf(spec: BpfObjectSpec): Uint8Array {
  if (!spec.btfBytes) throw new AttachError("the object has no BTF", { code: "ERR_EBPF_NO_BTF" });
  const btf = spec.btf ?? parseBtf(spec.btfBytes);
  const words = btf.data.words.slice();
  const offs = btf.data.offs;
  let changed = false;
  for (let i = 0; i < offs.length; i++) {
    const id = btf.startId + i;
    if (btf.kind(id) !== BtfKind.Datasec) continue;
    const name = btf.name(id);
    const section = spec.sections.find((s) => s.name === name);
    if (!section) continue; // .kconfig/.ksyms: no ELF section, sized by the loader's own maps
    const o = offs[i];
    if (words[o + 2] !== section.size) {
      words[o + 2] = section.size;
      changed = true;
    }
    const vlen = words[o + 1] & 0xffff;
    for (let j = 0; j < vlen; j++) {
      const at = o + 3 + j * 3;
      const varName = btf.name(words[at]);
      const sym = spec.symbols.find((s) => s.sectionIndex === section.index && s.name === varName);
      if (sym && words[at + 1] !== sym.value) {
        words[at + 1] = sym.value;
        changed = true;
      }
    }
  }
  if (!changed) return spec.btfBytes;
  return assemble(words, btf);
}

function assemble(words: Uint32Array, btf: Btf): Uint8Array {
  const strings = btf.stringBytes();
  const typeLen = words.byteLength;
  const out = new Uint8Array(HDR_LEN + typeLen + strings.byteLength);
  const v = new DataView(out.buffer);
  const le = btf.littleEndian;
  v.setUint16(0, BTF_MAGIC, le);
  v.setUint8(2, 1);
  v.setUint8(3, 0);
  v.setUint32(4, HDR_LEN, le);
  v.setUint32(8, 0, le);
  v.setUint32(12, typeLen, le);
  v.setUint32(16, typeLen, le);
  v.setUint32(20, strings.byteLength, le);
  for (let k = 0; k < words.length; k++) v.setUint32(HDR_LEN + k * 4, words[k], le);
  out.set(strings, HDR_LEN + typeLen);
  return out;
}

/**
 * Re-encodes `types` on top of `original`'s string section, so every string offset of the object (func and
 * line info name source files and lines by offset) still points at the same text; new names are appended.
 */
export function withStringsOf(original: Btf, types: Btf): Uint8Array {
  const b = new BtfBuilder(
    { littleEndian: original.littleEndian },
    { strings: original.stringBytes(), hdrLen: original.data.hdrLen },
  );
  for (let id = types.startId; id < types.count; id++) b.add(types.typeById(id));
  return b.marshal();
}

/**
 * Loads an object's BTF into the kernel (BPF_BTF_LOAD): fixed up ({@link fixupObjectBtf}) and sanitized
 * for the running kernel. Throws the kernel's LoadError with the BTF log when it is refused.
 *
 * @example
 * ```ts
 * using btfFd = loadObjectBtf(parseBpfObject(bytes));
 * ```
 */
export function loadObjectBtf(spec: BpfObjectSpec, sys: Syscalls = kernelSyscalls): Fd {
  let bytes = fixupObjectBtf(spec);
  const k = kernelVersion();
  let parsed = parseBtf(bytes);
  if (hasExterns(parsed)) {
    const b = new BtfBuilder(
      { littleEndian: parsed.littleEndian },
      { strings: parsed.stringBytes(), hdrLen: parsed.data.hdrLen },
    );
    for (const t of fixupExternTypes(parsed, spec)) b.add(t);
    bytes = b.marshal();
    parsed = parseBtf(bytes);
  }
  const sanitized = sanitizeBtf(parsed, btfFeaturesOfKernel(k.major, k.minor));
  if (sanitized !== parsed) bytes = withStringsOf(parsed, sanitized);
  try {
    return sys.btfLoad({ btf: bytes });
  } catch (e) {
    if (!(e instanceof LoadError)) throw e;
    const log = new Uint8Array(1 << 20);
    try {
      return sys.btfLoad({ btf: bytes, logBuf: log, logLevel: 1 });
    } catch (e2) {
      if (!(e2 instanceof LoadError)) throw e;
      const last = e2.log.trim().split("\n").pop() ?? "";
      throw new LoadError({
        syscall: "bpf",
        command: "BPF_BTF_LOAD",
        errno: e2.errno,
        log: e2.log,
        logTrueSize: e2.logTrueSize,
        context: `the object's BTF was rejected${last ? ` (${last.trim()})` : ""}`,
      });
    }
  }
}
