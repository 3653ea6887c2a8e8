import { objectPath } from "@ebpf/test-programs";
import { describeKernel, fdIsOpen } from "@ebpf/testing";
import { expect, it } from "vitest";
import {
  Ebpf,
  HashMap,
  KProbe,
  KRetProbe,
  NotFoundError,
  Program,
  ProgramNotLoadedError,
  UProbe,
  URetProbe,
} from "../src/index.js";

describeKernel("Ebpf.loadFile", () => {
  it("loads an object, runs its program, and reads its map through BTF codecs", () => {
    const bpf = Ebpf.loadFile(objectPath("minimal"));
    try {
      expect(bpf.programs()).toEqual(["xdp_count"]);
      expect(bpf.maps()).toEqual(["counts"]);
      const prog = bpf.program("xdp_count", Program);
      expect(prog.loaded).toBe(false);
      expect(() => prog.testRun()).toThrow(ProgramNotLoadedError);
      prog.load();
      expect(prog.loaded).toBe(true);
      expect(prog).toBeInstanceOf(Program);
      for (let i = 0; i < 3; i++) expect(prog.testRun({ data: new Uint8Array(64) }).retval).toBe(2); // XDP_PASS
      const counts = bpf.map("counts", HashMap<number, bigint>);
      expect(counts.get(0)).toBe(3n); // the first run inserts 1, the next two add 1 each
      const fd = prog.fd.raw;
      bpf.close();
      expect(fdIsOpen(fd)).toBe(false);
    } finally {
      bpf.close();
    }
  });

  it("names what exists when asked for a missing program or map", () => {
    using bpf = Ebpf.loadFile(objectPath("minimal"));
    expect(() => bpf.program("nope", Program)).toThrow(NotFoundError);
    expect(() => bpf.program("nope", Program)).toThrow(/it has: xdp_count/);
    expect(() => bpf.map("nope")).toThrow(/it has: counts/);
  });
});

describeKernel("Ebpf load options", () => {
  it("skipPrograms leaves a program out of the object", () => {
    using bpf = Ebpf.loadFile(objectPath("minimal"), { skipPrograms: ["xdp_count"] });
    expect(bpf.programs()).toEqual([]);
    expect(() => bpf.program("xdp_count", Program)).toThrow(NotFoundError);
  });
});

describeKernel("Ebpf.program class", () => {
  it("KProbe/UProbe on a kretprobe/uretprobe section is the return-probe class, as the section says", () => {
    using bpf = Ebpf.loadFile(objectPath("elf_sec_names"));
    const uret = bpf.program("p_uretprobe", UProbe);
    expect(uret).toBeInstanceOf(URetProbe);
    expect(bpf.program("p_uretprobe", URetProbe)).toBeInstanceOf(URetProbe);
    expect(bpf.program("p_uprobe", UProbe)).not.toBeInstanceOf(URetProbe);
    expect(bpf.program("p_kretprobe", KProbe)).toBeInstanceOf(KRetProbe);
    expect(bpf.program("p_kprobe", KProbe)).not.toBeInstanceOf(KRetProbe);
  });
});
