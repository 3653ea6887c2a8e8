import { existsSync } from "node:fs";
import { exit, mov64Imm } from "@ebpf/relocate";
import { BpfProgType, kernelSyscalls, XdpAction } from "@ebpf/sys";
import { describeKernel } from "@ebpf/testing";
import { afterEach, expect, it } from "vitest";
import {
  AttachError,
  enableStats,
  FdLink,
  listLinks,
  listMaps,
  listPrograms,
  Program,
  programInfoById,
  RawTracePoint,
  Xdp,
} from "../src/index.js";

const rawTp = (name: string) => ({
  name,
  type: BpfProgType.RAW_TRACEPOINT,
  license: "GPL",
  instructions: [mov64Imm(0, 0), exit()],
});

const pins: string[] = [];
const pinPath = (what: string) => {
  const p = `/sys/fs/bpf/ebpf-programs-${process.pid}-${what}`;
  pins.push(p);
  return p;
};

async function eventually(check: () => boolean, ms = 2000): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return check();
}

describeKernel("links, pins and listing", () => {
  afterEach(() => {
    // Whatever a failed test left: pins keep kernel objects alive.
    for (const p of pins.splice(0)) if (existsSync(p)) kernelSyscalls.objGet(p).close();
  });

  it("a pinned link outlives the program and link objects; fromPin re-opens, unpin + close detaches", async () => {
    using stats = enableStats();
    const path = pinPath("link");
    const prog = RawTracePoint.load(rawTp("pin_link"));
    const progId = prog.info().id;
    const link = prog.attach("sys_enter") as FdLink;
    const linkId = link.info().id;
    link.pin(path);
    prog.close(); // closes the program fd and our link fd; the pin keeps the attachment
    expect(link.closed).toBe(true);
    expect(existsSync(path)).toBe(true);
    expect(listLinks().find((l) => l.id === linkId)?.progId).toBe(progId);
    const before = programInfoById(progId).runCnt;
    process.ppid;
    expect(programInfoById(progId).runCnt).toBeGreaterThan(before);

    const again = FdLink.fromPin(path);
    expect(again.info().id).toBe(linkId);
    expect(again.pinnedAt).toBe(path);
    again.detach(); // removes the pin too
    expect(existsSync(path)).toBe(false);
    // bpffs drops a pin's reference when it frees the inode, after an RCU grace period: on some kernels
    // (5.10) the link is still listed for a moment.
    expect(await eventually(() => !listLinks().some((l) => l.id === linkId))).toBe(true);
    // The kernel frees the program after an RCU grace period: wait for it.
    expect(await eventually(() => !listPrograms().some((p) => p.id === progId))).toBe(true);
    void stats;
  });

  it("closing a program detaches its unpinned links", () => {
    const prog = RawTracePoint.load(rawTp("unpinned"));
    const link = prog.attach("sys_enter") as FdLink;
    const id = link.info().id;
    expect(prog.links).toEqual([link]);
    prog.close();
    expect(listLinks().some((l) => l.id === id)).toBe(false);
  });

  it("programs pin and load from pins with their type; the wrong class is refused", () => {
    const path = pinPath("prog");
    const id = (() => {
      using p = Xdp.load({
        name: "pinned_xdp",
        type: BpfProgType.XDP,
        license: "GPL",
        instructions: [mov64Imm(0, XdpAction.DROP), exit()],
      });
      p.pin(path);
      return p.info().id;
    })();
    expect(listPrograms().some((p) => p.id === id)).toBe(true);
    expect(() => RawTracePoint.fromPin(path)).toThrow(AttachError);
    using again = Xdp.fromPin(path);
    expect(again.info().id).toBe(id);
    expect(again.name).toBe("pinned_xdp");
    expect(again.testRun({ data: new Uint8Array(32) }).retval).toBe(XdpAction.DROP);
    again.unpin();
    expect(existsSync(path)).toBe(false);
    using byId = Program.fromId(id);
    expect(byId.info().typeName).toBe("xdp");
    using byFd = Xdp.fromFd(byId.fd.dup());
    expect(byFd.info().id).toBe(id);
    expect(byFd.name).toBe("pinned_xdp");
  });

  it("lists programs and maps like bpftool, with run statistics", () => {
    using stats = enableStats();
    using p = RawTracePoint.load(rawTp("listed"));
    using l = p.attach("sys_enter");
    process.ppid;
    const me = listPrograms().find((x) => x.id === p.info().id);
    expect(me).toMatchObject({ name: "listed", typeName: "raw_tracepoint" });
    expect(me!.runCnt).toBeGreaterThan(0n);
    expect(me!.runTimeNs).toBeGreaterThan(0n);
    expect(Array.isArray(listMaps())).toBe(true);
    void stats;
    void l;
  });
});
