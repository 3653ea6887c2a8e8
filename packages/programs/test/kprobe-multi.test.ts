// kprobe.multi / kretprobe.multi links on the running kernel. Where the kernel has them (5.18+ built with
// CONFIG_FPROBE, whose register_fprobe_ips is then in kallsyms) the programs of
// kprobe_multi.bpf.c attach to syscall functions, count this process's hits per cookie and stop on
// detach; elsewhere (5.10; a kernel without kprobes/fprobe such as the host's) attachMulti gives the typed
// NotSupportedError.
import { readFileSync } from "node:fs";
import { type BpfObjectSpec, parseBpfObject } from "@ebpf/elf";
import { exit, mov64Imm, relocateObject } from "@ebpf/relocate";
import {
  BpfAttachType,
  BpfFlags,
  BpfLinkInfo,
  BpfMapType,
  BpfProgType,
  type Fd,
  haveKprobeMultiLink,
  mapCreate,
  mapLookupElem,
  mapUpdateElem,
  SyscallError,
} from "@ebpf/sys";
import { objectPath } from "@ebpf/test-programs";
import { describeKernel, expectNotSupported, kernelAtLeast } from "@ebpf/testing";
import { expect, it } from "vitest";
import { FdLink, KProbe, KRetProbe, kernelFunctionsMatching, type ProgramLoadSpec } from "../src/index.js";

/** Whether kallsyms lists function `name` (a kernel-config oracle independent of the library). */
function kallsymsHas(name: string): boolean {
  const re = new RegExp(`^[0-9a-f]+ [tT] ${name}$`, "m");
  return re.test(readFileSync("/proc/kallsyms", "utf8"));
}

const stub = (name: string): ProgramLoadSpec => ({
  name,
  type: BpfProgType.KPROBE,
  expectedAttachType: BpfAttachType.TRACE_KPROBE_MULTI,
  license: "GPL",
  instructions: [mov64Imm(0, 0), exit()],
});

/** kprobe_multi.bpf.c relocated against fresh maps: the load spec of one program, and its hit counts. */
function setup(progName: "kmulti_entry" | "kmulti_return") {
  const spec: BpfObjectSpec = parseBpfObject(readFileSync(objectPath("kprobe_multi", "el")));
  const tgid = mapCreate({ type: BpfMapType.ARRAY, keySize: 4, valueSize: 4, maxEntries: 1 });
  const hits = mapCreate({ type: BpfMapType.HASH, keySize: 8, valueSize: 8, maxEntries: 64 });
  const maps: Record<string, Fd> = { target_tgid: tgid, hits };
  const out = relocateObject(spec, { mapValue: (n) => maps[n]?.raw });
  const p = out.programs.find((x) => x.name === progName)!;
  const ps = spec.programs.find((x) => x.name === progName)!;
  const value = new Uint8Array(4);
  new DataView(value.buffer).setUint32(0, process.pid, true);
  mapUpdateElem(tgid, new Uint8Array(4), value);
  return {
    section: ps.section,
    load: {
      name: p.name,
      type: BpfProgType.KPROBE,
      expectedAttachType: BpfAttachType[ps.expectedAttachType!.replace(/^BPF_/, "") as "TRACE_KPROBE_MULTI"],
      attachTo: ps.attachTo,
      instructions: p.instructions,
      license: spec.license ?? "GPL",
    } satisfies ProgramLoadSpec,
    hits(cookie: bigint): bigint {
      const key = new Uint8Array(8);
      new DataView(key.buffer).setBigUint64(0, cookie, true);
      const v = new Uint8Array(8);
      return mapLookupElem(hits, key, v) ? new DataView(v.buffer).getBigUint64(0, true) : 0n;
    },
    [Symbol.dispose]() {
      tgid.close();
      hits.close();
    },
  };
}

const getppid = (n: number) => {
  for (let i = 0; i < n; i++) void process.ppid;
};
const kill0 = (n: number) => {
  for (let i = 0; i < n; i++) process.kill(process.pid, 0);
};

describeKernel("kprobe.multi links", () => {
  const supported = kernelAtLeast("5.18") && kallsymsHas("register_fprobe_ips");

  it("haveKprobeMultiLink: 5.18+ built with fprobe", () => {
    expect(haveKprobeMultiLink()).toBe(supported);
  });

  it("without kprobe_multi links: NotSupportedError (5.18), naming CONFIG_FPROBE on a new kernel", () => {
    using prog = KProbe.load(stub("kpm_stub"));
    const attach = () => prog.attachMulti(["vfs_read"]);
    if (supported) {
      using link = attach();
      expect((link as FdLink).info().typeName).toBe("kprobe_multi");
      return;
    }
    const e = expectNotSupported(attach, "5.18");
    expect(e.feature).toContain("kprobe_multi");
    if (kernelAtLeast("5.18")) expect(e.feature).toContain("CONFIG_FPROBE");
    expect(prog.links).toHaveLength(0);
  });

  it("a program not loaded for kprobe.multi: AttachError ERR_EBPF_ATTACH_TYPE", () => {
    using prog = KProbe.load({ ...stub("kpm_plain"), expectedAttachType: undefined });
    expect(() => prog.attachMulti(["vfs_read"])).toThrow(
      expect.objectContaining({ code: "ERR_EBPF_ATTACH_TYPE" }),
    );
  });

  it("symbols with cookies: counts hits per function, then none after detach", () => {
    using obj = setup("kmulti_entry");
    if (!kernelAtLeast("5.15")) {
      // bpf_get_attach_cookie is 5.15: the object cannot load; the stub test covers attachMulti here.
      expect(() => KProbe.load(obj.load)).toThrow();
      return;
    }
    using prog = KProbe.load(obj.load);
    const attach = () => prog.attachMulti(["__x64_sys_getppid", "__x64_sys_kill"], { cookies: [1n, 2n] });
    if (!supported) {
      expectNotSupported(attach, "5.18");
      return;
    }
    const link = attach();
    expect(link).toBeInstanceOf(FdLink);
    expect(link.description).toContain(
      'kprobe.multi [__x64_sys_getppid, __x64_sys_kill] (2 functions) "kmulti_entry"',
    );
    const info = (link as FdLink).info();
    expect(info.typeName).toBe("kprobe_multi");
    if (kernelAtLeast("6.6")) {
      // kprobe_multi link info (count, flags) is 6.6+
      const v = new DataView(info.raw.buffer, info.raw.byteOffset);
      expect(v.getUint32(BpfLinkInfo.fields["kprobe_multi.count"].offset, true)).toBe(2);
      expect(v.getUint32(BpfLinkInfo.fields["kprobe_multi.flags"].offset, true)).toBe(0);
    }
    getppid(3);
    kill0(2);
    expect(obj.hits(1n)).toBe(3n);
    expect(obj.hits(2n)).toBe(2n);
    expect(obj.hits(0n)).toBe(0n);
    link.detach();
    expect(prog.links).toHaveLength(0);
    getppid(2);
    kill0(2);
    expect(obj.hits(1n)).toBe(3n);
    expect(obj.hits(2n)).toBe(2n);
  });

  it("the section's pattern (no functions given) is expanded like libbpf; kretprobe.multi from the class", () => {
    using obj = setup("kmulti_return");
    expect(obj.section).toBe("kretprobe.multi/__*_sys_getppid");
    if (!kernelAtLeast("5.15")) return void expect(() => KRetProbe.load(obj.load)).toThrow();
    using prog = KRetProbe.load(obj.load);
    expect(prog.attachTo).toBe("__*_sys_getppid");
    if (!supported) {
      const e = expectNotSupported(() => prog.attachMulti(), "5.18");
      if (kernelAtLeast("5.18")) expect(e.feature).toContain("CONFIG_FPROBE");
      return;
    }
    const traceable = readFileSync("/sys/kernel/tracing/available_filter_functions", "utf8")
      .split("\n")
      .map((l) => l.split(/\s/, 1)[0]);
    const matched = kernelFunctionsMatching("__*_sys_getppid");
    expect(matched.length).toBeGreaterThan(0);
    expect(matched.every((n) => /^__.*_sys_getppid$/.test(n) && traceable.includes(n))).toBe(true);
    expect(new Set(matched).size).toBe(matched.length);
    // The functions one getppid() runs through: __x64_sys_getppid, or (6.9+, where that is an alias of it
    // and only the __do_ name is traceable) __do_sys_getppid.
    const perCall = matched.filter((n) => /^__(x64|do|se)_sys_getppid$/.test(n)).length;
    expect(perCall).toBeGreaterThan(0);
    const link = prog.attachMulti();
    expect(link.description).toBe(
      `kretprobe.multi __*_sys_getppid (${matched.length} functions) "kmulti_return"`,
    );
    if (kernelAtLeast("6.6")) {
      const info = (link as FdLink).info();
      const v = new DataView(info.raw.buffer, info.raw.byteOffset);
      expect(v.getUint32(BpfLinkInfo.fields["kprobe_multi.count"].offset, true)).toBe(matched.length);
      expect(v.getUint32(BpfLinkInfo.fields["kprobe_multi.flags"].offset, true)).toBe(
        BpfFlags.BPF_F_KPROBE_MULTI_RETURN,
      );
    }
    getppid(4);
    expect(obj.hits(0n)).toBe(BigInt(4 * perCall));
    link.detach();
    getppid(2);
    expect(obj.hits(0n)).toBe(BigInt(4 * perCall));
  });

  it("a pattern that matches nothing, an unknown function, cookies with a pattern: AttachError", () => {
    using prog = KProbe.load(stub("kpm_errors"));
    if (!supported) {
      expectNotSupported(() => prog.attachMulti("ebpf_no_such_function_*"), "5.18");
      return;
    }
    const code = { code: "ERR_EBPF_ATTACH_TARGET" };
    expect(() => prog.attachMulti("ebpf_no_such_function_*")).toThrow(expect.objectContaining(code));
    expect(() => prog.attachMulti("vfs_rea?", { cookies: [1n] })).toThrow(expect.objectContaining(code));
    const unknown = () => prog.attachMulti(["vfs_read", "ebpf_no_such_function"]);
    if (kernelAtLeast("5.19")) {
      // ESRCH from ftrace_lookup_symbols
      expect(unknown).toThrow(expect.objectContaining(code));
      expect(unknown).toThrow(/not in kallsyms or cannot be traced/);
    } else {
      expect(unknown).toThrow(SyscallError);
    }
    expect(prog.links).toHaveLength(0);
  });
});
