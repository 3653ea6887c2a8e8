import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describeKernel, needsTool, type Requirement } from "@ebpf/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import {
  BpfDefines,
  BpfProgType,
  decodeAttrs,
  encodeAttrs,
  progInfo,
  progLoad,
  SyscallError,
  tcClsactAdd,
  tcClsactDelete,
  tcFilterAttach,
  tcFilterDetach,
  tcFilterList,
  XdpAction,
  xdpAttach,
  xdpDetach,
  xdpQuery,
} from "../src/index.js";
import { returnImm } from "./asm.js";

/** veth devices can be created (the module may be missing in a minimal VM). */
const needsVeth: Requirement = () => {
  const name = `sysq${process.pid % 100000}`;
  try {
    execFileSync("ip", ["link", "add", name, "type", "veth", "peer", "name", `${name}p`], { stdio: "pipe" });
    execFileSync("ip", ["link", "del", name], { stdio: "pipe" });
    return undefined;
  } catch (e) {
    return `cannot create a veth pair: ${String((e as { stderr?: unknown }).stderr ?? e).trim()}`;
  }
};

describeKernel(
  "rtnetlink XDP and TC attach",
  () => {
    const dev = `sysv${process.pid % 100000}`;
    let ifindex = 0;
    beforeAll(() => {
      execFileSync("ip", ["link", "add", dev, "type", "veth", "peer", "name", `${dev}p`]);
      ifindex = Number(readFileSync(`/sys/class/net/${dev}/ifindex`, "utf8"));
    });
    afterAll(() => {
      execFileSync("ip", ["link", "del", dev]);
    });

    it("encodes and decodes nested attributes", () => {
      const bytes = encodeAttrs([
        [1, 7],
        [2, "bpf"],
        [3, [[4, 9]]],
      ]);
      const a = decodeAttrs(bytes);
      expect(a.get(1)).toEqual(new Uint8Array([7, 0, 0, 0]));
      expect(new TextDecoder().decode(a.get(2))).toBe("bpf\0");
      expect(decodeAttrs(a.get(3)!).get(4)).toEqual(new Uint8Array([9, 0, 0, 0]));
    });

    it("attaches, queries and detaches XDP (generic mode)", () => {
      using prog = progLoad({ type: BpfProgType.XDP, insns: returnImm(XdpAction.PASS), license: "GPL" });
      xdpAttach(ifindex, prog, { flags: BpfDefines.XDP_FLAGS_SKB_MODE });
      const q = xdpQuery(ifindex);
      expect(q.progId).toBe(progInfo(prog).id);
      expect(q.attached).toBe(2); // XDP_ATTACHED_SKB
      prog.close(); // the netlink attachment outlives the fd
      expect(xdpQuery(ifindex).progId).toBe(q.progId);
      xdpDetach(ifindex, BpfDefines.XDP_FLAGS_SKB_MODE);
      expect(xdpQuery(ifindex).progId).toBe(0);
    });

    it("attaches, lists and detaches a TC bpf filter on clsact", () => {
      using prog = progLoad({
        type: BpfProgType.SCHED_CLS,
        insns: returnImm(0),
        license: "GPL",
        name: "sys_tc",
      });
      tcClsactAdd(ifindex);
      tcClsactAdd(ifindex); // idempotent
      try {
        tcFilterAttach(ifindex, { direction: "ingress", progFd: prog, name: "sys_tc", priority: 3 });
        const list = tcFilterList(ifindex, "ingress");
        expect(list).toHaveLength(1);
        expect(list[0]).toMatchObject({ priority: 3, progId: progInfo(prog).id, directAction: true });
        expect(list[0].name).toMatch(/sys_tc/);
        expect(tcFilterList(ifindex, "egress")).toHaveLength(0);
        tcFilterDetach(ifindex, "ingress", 3);
        expect(tcFilterList(ifindex, "ingress")).toHaveLength(0);
      } finally {
        tcClsactDelete(ifindex);
      }
    });

    it("reports netlink errors as SyscallError with the kernel's message", () => {
      using prog = progLoad({ type: BpfProgType.XDP, insns: returnImm(XdpAction.PASS), license: "GPL" });
      try {
        xdpAttach(0x7ffffff0, prog);
        expect.unreachable();
      } catch (e) {
        expect(e).toBeInstanceOf(SyscallError);
        expect((e as SyscallError).errnoName).toBe("ENODEV");
        expect((e as SyscallError).command).toBe("RTM_SETLINK");
      }
      expect(() => tcFilterDetach(ifindex, "ingress", 9)).toThrow(SyscallError);
    });
  },
  needsTool("ip"),
  needsVeth,
);
