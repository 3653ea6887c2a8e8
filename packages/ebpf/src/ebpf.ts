/**
 * The loader: one BPF object file in, kernel maps and loadable programs out.
 *
 * Order (libbpf's): parse the ELF → load the object's BTF (fixed up, sanitized) → create maps and data
 * maps with their initial contents → relocate every program (CO-RE against the target BTF, map fds,
 * globals, externs) → programs wait for `load()` → attach through their typed classes.
 */
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { type Btf, parseBtf } from "@ebpf/btf";
import { loadKernelBtf } from "@ebpf/btf/node";
import {
  type BpfObjectSpec,
  type DataSectionSpec,
  type MapSpec as ElfMapSpec,
  parseBpfObject,
} from "@ebpf/elf";
import {
  type AnyMap,
  ArrayMap,
  type BpfMap,
  createMap,
  type MapCodecs,
  type MappedMapMemory,
  type MapSpec,
  openMap,
} from "@ebpf/maps";
import {
  KProbe,
  KRetProbe,
  loadObjectBtf,
  type Program,
  type ProgramClass,
  type ProgramLoadSpec,
  UProbe,
  URetProbe,
} from "@ebpf/programs";
import {
  encodeKconfig,
  fromBtf,
  kconfigLayout,
  parseBtfExtInfo,
  type RelocatedObject,
  relocateObject,
} from "@ebpf/relocate";
import { BpfAttachType, BpfFlags, BpfProgType, type Fd, kernelAtLeast, mapUpdateElem } from "@ebpf/sys";
import { NotFoundError, ObjectLoadError, ProgramTypeMismatchError } from "./errors.js";
import { GlobalVariables } from "./globals.js";
import { kconfigLookup } from "./kernel-config.js";
import { resolveKsym } from "./ksyms.js";
import type { EbpfLoadOptions } from "./options.js";
import { type ProgramHandle, type ProgramSlot, programHandle } from "./program-handle.js";

/** Which ELF program types map onto which kernel numbers: `"BPF_PROG_TYPE_XDP"` → `BpfProgType.XDP`. */
function progTypeNumber(name: string, program: string): number {
  const n = (BpfProgType as Record<string, number>)[name.replace(/^BPF_PROG_TYPE_/, "")];
  if (n === undefined) {
    throw new ObjectLoadError(
      `program "${program}": unknown program type ${name} (is its SEC() name one libbpf knows?)`,
      { code: "ERR_EBPF_PROGRAM_TYPE" },
    );
  }
  return n;
}

function attachTypeNumber(name: string | undefined): number | undefined {
  if (!name) return undefined;
  return (BpfAttachType as Record<string, number>)[name.replace(/^BPF_/, "")];
}

/** libbpf's kernel name for an internal map: up to 8 characters of the object name, then the section. */
function internalMapName(objectName: string, section: string): string {
  const prefix = objectName.replace(/[^A-Za-z0-9_]/g, "_").slice(0, 8);
  return `${prefix}${section}`.slice(0, 15);
}

/**
 * A BPF object loaded from an ELF file: its maps exist in the kernel, its programs are relocated and
 * wait for `load()`.
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
 */
export class Ebpf implements Disposable {
  /** The parsed object. */
  readonly spec: BpfObjectSpec;
  /** The object's own BTF, when it has one. */
  readonly btf: Btf | undefined;
  /** Typed access to global variables (live after load). */
  readonly globals: GlobalVariables;
  readonly #maps = new Map<string, AnyMap>();
  readonly #dataMaps = new Map<
    string,
    { map: AnyMap; memory: MappedMapMemory | undefined; rodata: boolean }
  >();
  readonly #slots = new Map<string, ProgramSlot>();
  readonly #btfFd: Fd | undefined;
  #closed = false;

  private constructor(bytes: Uint8Array, name: string, options: EbpfLoadOptions) {
    const spec = parseBpfObject(bytes);
    if (spec.byteOrder !== "little") {
      throw new ObjectLoadError(
        `object "${name}" is big-endian: build it with -target bpfel (or bpf on x86)`,
        {
          code: "ERR_EBPF_BYTE_ORDER",
        },
      );
    }
    this.spec = spec;
    this.btf = spec.btfBytes ? (spec.btf ?? parseBtf(spec.btfBytes)) : undefined;
    const step = <T>(what: string, fn: () => T): T => {
      try {
        return fn();
      } catch (e) {
        this.close();
        const message = e instanceof Error ? e.message : String(e);
        throw new ObjectLoadError(`object "${name}": ${what}: ${message}`, {
          cause: e,
          code: (e as { code?: string }).code,
        });
      }
    };

    this.#btfFd = this.btf ? step("loading its BTF", () => loadObjectBtf(spec)) : undefined;
    const rodataFrozen: AnyMap[] = [];
    step("creating maps", () => {
      for (const m of spec.maps) this.#maps.set(m.name, this.#createMap(m, options));
      this.#fillMapInMap();
      for (const section of spec.dataSections) {
        const map = this.#createDataMap(name, section, options);
        if (section.kind === "rodata") rodataFrozen.push(map);
      }
      this.#createKconfigMap(name, options);
    });
    step("freezing .rodata", () => {
      for (const map of rodataFrozen) map.freeze();
    });

    const target = step("reading the target BTF", () => this.#targetBtf(options));
    // Skipped programs are not relocated either: a program that cannot be relocated must not fail the rest.
    const skip = new Set(options.skipPrograms ?? []);
    const relocated: RelocatedObject = step("relocating", () =>
      relocateObject(spec, {
        localBtf: this.btf ? fromBtf(this.btf) : undefined,
        ext:
          spec.btfExtBytes && this.btf
            ? parseBtfExtInfo(spec.btfExtBytes, (o) => this.btf!.stringAt(o))
            : undefined,
        target: target ? fromBtf(target) : undefined,
        mapValue: (n) => (this.#maps.get(n) ?? this.#dataMaps.get(n)?.map)?.fd,
        ksym: (ext) => (target ? resolveKsym(ext, target) : undefined),
        programs: spec.programs.map((p) => p.name).filter((n) => !skip.has(n)),
      }),
    );
    this.globals = new GlobalVariables(spec.dataSections, this.btf, (section) =>
      this.#sectionMemory(section),
    );

    for (const p of spec.programs) {
      const r = relocated.programs.find((x) => x.name === p.name);
      if (!r) continue;
      const loadSpec: ProgramLoadSpec = {
        name: p.name,
        type: progTypeNumber(p.type, p.name),
        expectedAttachType: attachTypeNumber(p.expectedAttachType),
        instructions: r.instructions,
        license: spec.license ?? "",
        kernVersion: spec.kernelVersion,
        flags:
          (p.sleepable ? BpfFlags.BPF_F_SLEEPABLE : 0) |
          (p.secDef?.flags.includes("xdp_frags") ? BpfFlags.BPF_F_XDP_HAS_FRAGS : 0),
        btf: this.#btfFd ? { fd: this.#btfFd, funcInfo: r.funcInfo, lineInfo: r.lineInfo } : undefined,
        attachTo: p.attachTo,
      };
      this.#slots.set(p.name, {
        name: p.name,
        spec: loadSpec,
        program: undefined,
        onLoad: () => this.#fillProgramArrays(),
      });
    }
  }

  /**
   * Loads a BPF object file (an ELF built by clang `-target bpf`).
   *
   * @example
   * ```ts
   * using bpf = Ebpf.loadFile("tracer.bpf.o", { globals: { min_duration_ns: 1_000_000n } });
   * ```
   * @throws ObjectLoadError naming the step that failed; ParseError for a malformed file.
   */
  static loadFile(path: string, options: EbpfLoadOptions = {}): Ebpf {
    const bytes = readFileSync(path);
    return new Ebpf(
      new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength),
      basename(path),
      options,
    );
  }

  /** Loads a BPF object from its bytes. `name` names it in errors and internal map names. */
  static load(bytes: Uint8Array, options: EbpfLoadOptions & { name?: string } = {}): Ebpf {
    return new Ebpf(bytes, options.name ?? "object", options);
  }

  /**
   * A program of the object, narrowed to its class. Throws {@link NotFoundError} for an unknown name and
   * {@link ProgramTypeMismatchError} naming the real type when `Type` does not fit. A `kretprobe/` or
   * `uretprobe/` program asked for as `KProbe`/`UProbe` is a `KRetProbe`/`URetProbe`: it attaches at return.
   */
  program<T extends Program>(name: string, Type: ProgramClass<T>): ProgramHandle<T> {
    const slot = this.#slots.get(name);
    if (!slot) throw new NotFoundError("program", name, [...this.#slots.keys()]);
    const accepted = Type.programTypes;
    const real = this.spec.programs.find((p) => p.name === name)!;
    if (accepted && !accepted.includes(slot.spec.type)) {
      throw new ProgramTypeMismatchError(name, `${real.type} (SEC "${real.section}")`, Type.name);
    }
    return programHandle(slot, returnProbeClass(Type, real.secDef?.flags));
  }

  /** Names of the object's programs. */
  programs(): string[] {
    return [...this.#slots.keys()];
  }

  /**
   * A map of the object, wrapped in a typed class with BTF codecs by default (plain JS keys and values).
   *
   * @example
   * ```ts
   * const counts = bpf.map("counts", HashMap<number, bigint>);
   * ```
   */
  map<M extends BpfMap<unknown, unknown>>(
    name: string,
    Type?: new (source: BpfMap<unknown, unknown>, codecs?: MapCodecs<never, never>) => M,
    codecs?: MapCodecs<never, never>,
  ): M {
    const map = this.#maps.get(name) ?? this.#dataMaps.get(name)?.map;
    if (!map) throw new NotFoundError("map", name, [...this.#maps.keys(), ...this.#dataMaps.keys()]);
    if (!Type) return map as unknown as M;
    return new Type(map, { btf: this.btf, ...codecs } as MapCodecs<never, never>);
  }

  /** Names of the object's maps, data sections (`.rodata`, `.bss`…) included. */
  maps(): string[] {
    return [...this.#maps.keys(), ...this.#dataMaps.keys()];
  }

  /** True once {@link Ebpf.close} has run. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Releases everything this object holds that is not pinned: programs (and their unpinned links), maps,
   * mmapped data sections, the BTF fd. Pinned maps, programs and links stay in the kernel.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const slot of this.#slots.values()) slot.program?.close();
    for (const d of this.#dataMaps.values()) {
      d.memory?.close();
      d.map.close();
    }
    for (const m of this.#maps.values()) m.close();
    this.#btfFd?.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  #targetBtf(options: EbpfLoadOptions): Btf | undefined {
    if (typeof options.btf === "string") {
      const b = readFileSync(options.btf);
      return parseBtf(new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
    }
    if (options.btf) return options.btf;
    const needsTarget = this.spec.programs.some((p) => p.attachTo !== undefined) || this.btf !== undefined;
    return needsTarget ? loadKernelBtf() : undefined;
  }

  #toMapSpec(m: ElfMapSpec, options: EbpfLoadOptions, withBtf: boolean): MapSpec {
    return {
      name: m.name.slice(0, 15),
      type: m.type,
      keySize: m.keySize,
      valueSize: m.valueSize,
      maxEntries: options.maxEntries?.[m.name] ?? m.maxEntries,
      flags: m.flags,
      numaNode: m.numaNode,
      mapExtra: m.mapExtra,
      innerMap: m.innerMap ? this.#toMapSpec(m.innerMap, {}, false) : undefined,
      ...(withBtf && this.#btfFd && m.valueTypeId !== undefined
        ? { btfFd: this.#btfFd.raw, btfKeyTypeId: m.keyTypeId ?? 0, btfValueTypeId: m.valueTypeId }
        : {}),
    };
  }

  #createMap(m: ElfMapSpec, options: EbpfLoadOptions): AnyMap {
    const pinDir = options.mapPinPath ?? "/sys/fs/bpf";
    const pinPath = m.pinning === 1 ? `${pinDir}/${m.name}` : undefined;
    if (pinPath) {
      const existing = this.#openPinned(pinPath, m, options);
      if (existing) return existing;
    }
    let inner: AnyMap | undefined;
    try {
      if (m.innerMap) inner = createMap(this.#toMapSpec(m.innerMap, {}, false));
      const innerMapFd = inner?.fd;
      let map: AnyMap;
      try {
        map = createMap(this.#toMapSpec(m, options, true), { innerMapFd });
      } catch (e) {
        // Old kernels refuse BTF on some map types: libbpf retries without it.
        if (!this.#btfFd || m.valueTypeId === undefined) throw e;
        map = createMap(this.#toMapSpec(m, options, false), { innerMapFd });
      }
      if (pinPath) map.pin(pinPath);
      return map;
    } finally {
      inner?.close();
    }
  }

  #openPinned(path: string, m: ElfMapSpec, options: EbpfLoadOptions): AnyMap | undefined {
    let map: AnyMap;
    try {
      map = openMap({ pin: path });
    } catch {
      return undefined;
    }
    const want = { type: m.type, keySize: m.keySize, valueSize: m.valueSize, flags: m.flags };
    const maxEntries = options.maxEntries?.[m.name] ?? m.maxEntries;
    const diffs = Object.entries(want)
      .filter(([k, v]) => (map as unknown as Record<string, number>)[k] !== v)
      .map(([k, v]) => `${k} ${(map as unknown as Record<string, number>)[k]} (object wants ${v})`);
    if (map.maxEntries !== maxEntries)
      diffs.push(`maxEntries ${map.maxEntries} (object wants ${maxEntries})`);
    if (diffs.length) {
      map.close();
      throw new ObjectLoadError(
        `map "${m.name}" is pinned at ${path} but incompatible: ${diffs.join(", ")}; remove the pin or rename the map`,
        { code: "ERR_EBPF_PIN_MISMATCH" },
      );
    }
    return map;
  }

  /** Map-in-map `.values = { [i] = &inner }` slots. */
  #fillMapInMap(): void {
    for (const m of this.spec.maps) {
      if (!m.innerMap || m.initialValues.length === 0) continue;
      const outer = this.#maps.get(m.name)!;
      for (const v of m.initialValues) {
        const inner = this.#maps.get(v.name);
        if (!inner) throw new ObjectLoadError(`map "${m.name}" slot ${v.index}: no map named "${v.name}"`);
        this.#setFdSlot(outer, v.index, inner.fd);
      }
    }
  }

  /** Prog-array `.values = { [i] = &prog }` slots, filled as their programs get loaded. */
  #fillProgramArrays(): void {
    for (const m of this.spec.maps) {
      if (m.innerMap || m.initialValues.length === 0) continue;
      const array = this.#maps.get(m.name)!;
      for (const v of m.initialValues) {
        const program = this.#slots.get(v.name)?.program;
        if (program) this.#setFdSlot(array, v.index, program.fd.raw);
      }
    }
  }

  #setFdSlot(map: AnyMap, index: number, fd: number): void {
    const key = new Uint8Array(4);
    new DataView(key.buffer).setUint32(0, index, true);
    const value = new Uint8Array(4);
    new DataView(value.buffer).setUint32(0, fd, true);
    mapUpdateElem(map.fd, key, value);
  }

  #createDataMap(objectName: string, section: DataSectionSpec, options: EbpfLoadOptions): AnyMap {
    const contents = section.contents.slice();
    const mmapable = kernelAtLeast(5, 5);
    const rodata = section.kind === "rodata";
    const map = new ArrayMap(
      createMap({
        name: internalMapName(objectName.replace(/\.bpf\.o$|\.o$/, ""), section.name),
        type: "array",
        keySize: 4,
        valueSize: section.size,
        maxEntries: 1,
        flags: (mmapable ? BpfFlags.BPF_F_MMAPABLE : 0) | (rodata ? BpfFlags.BPF_F_RDONLY_PROG : 0),
        ...(this.#btfFd && section.btfTypeId !== undefined
          ? { btfFd: this.#btfFd.raw, btfKeyTypeId: 0, btfValueTypeId: section.btfTypeId }
          : {}),
      }),
    );
    this.#dataMaps.set(section.name, { map, memory: undefined, rodata });
    // Initial values: the ELF contents, then the `globals` option.
    const staging = new GlobalVariables([section], this.btf, () => ({ bytes: contents, writable: true }));
    for (const [name, value] of Object.entries(options.globals ?? {})) {
      if (section.variables.some((v) => v.name === name)) staging.set(name, value);
    }
    map.set(0, contents);
    if (mmapable) {
      const entry = this.#dataMaps.get(section.name)!;
      entry.memory = map.mmap({ writable: !rodata });
    }
    return map;
  }

  #createKconfigMap(objectName: string, options: EbpfLoadOptions): void {
    const externs = this.spec.externs.filter((e) => e.kind === "kconfig");
    if (externs.length === 0 || !this.btf) return;
    const local = fromBtf(this.btf);
    const layout = kconfigLayout(this.spec.externs, local);
    const value = encodeKconfig(this.spec.externs, local, kconfigLookup(options.kconfig), "little", layout);
    const map = new ArrayMap(
      createMap({
        name: internalMapName(objectName.replace(/\.bpf\.o$|\.o$/, ""), ".kconfig"),
        type: "array",
        keySize: 4,
        valueSize: Math.max(layout.size, 1),
        maxEntries: 1,
        flags: BpfFlags.BPF_F_RDONLY_PROG,
      }),
    );
    const padded = new Uint8Array(Math.max(layout.size, 1));
    padded.set(value);
    map.set(0, padded);
    map.freeze();
    this.#dataMaps.set(".kconfig", { map, memory: undefined, rodata: true });
  }

  #sectionMemory(section: DataSectionSpec): { bytes: Uint8Array; writable: boolean } | undefined {
    if (this.#closed) return undefined;
    const d = this.#dataMaps.get(section.name);
    if (!d?.memory) return undefined;
    return { bytes: d.memory.bytes.subarray(0, section.size), writable: !d.rodata };
  }
}

/**
 * A `kretprobe/` or `uretprobe/` section attaches at return: asked for as `KProbe`/`UProbe` (their base
 * classes), such a program is a `KRetProbe`/`URetProbe`, so that `attach()` does what the section says.
 */
function returnProbeClass<T extends Program>(
  Type: ProgramClass<T>,
  flags: readonly string[] | undefined,
): ProgramClass<T> {
  if (!flags?.includes("return")) return Type;
  if ((Type as unknown) === KProbe) return KRetProbe as unknown as ProgramClass<T>;
  if ((Type as unknown) === UProbe) return URetProbe as unknown as ProgramClass<T>;
  return Type;
}
