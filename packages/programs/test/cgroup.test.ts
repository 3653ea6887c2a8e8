import { existsSync } from "node:fs";
import { exit, mov64Imm } from "@ebpf/relocate";
import { BpfAttachType, BpfProgType, progQuery } from "@ebpf/sys";
import { describeKernel, expectNotSupported, kernelAtLeast } from "@ebpf/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import {
  CgroupDevice,
  CgroupSkb,
  CgroupSock,
  CgroupSockAddr,
  CgroupSockopt,
  CgroupSysctl,
  enableStats,
  FdLink,
  openCgroup,
  SockOps,
} from "../src/index.js";
import { cgroupRootAvailable, createCgroup, type TestCgroup } from "./cgroup.js";

const allow = (name: string, type: number, expectedAttachType?: number) => ({
  name,
  type,
  expectedAttachType,
  license: "GPL",
  instructions: [mov64Imm(0, 1), exit()],
});

const UDP_SEND = `const s=require("dgram").createSocket("udp4");s.send("x",9,"127.0.0.1",()=>s.close());`;

describeKernel(
  "cgroup programs on a child cgroup with real traffic",
  () => {
    let cg: TestCgroup;
    beforeAll(() => {
      cg = createCgroup();
    });
    afterAll(() => {
      if (cg) {
        cg[Symbol.dispose]();
        expect(existsSync(cg.path)).toBe(false);
      }
    });

    const cases: {
      cls: typeof CgroupSkb;
      type: number;
      attach: number;
      trigger: string;
      /** First kernel with the attach type, when newer than what the suite's oldest kernel has. */
      minKernel?: string;
    }[] = [
      {
        cls: CgroupSkb,
        type: BpfProgType.CGROUP_SKB,
        attach: BpfAttachType.CGROUP_INET_EGRESS,
        trigger: UDP_SEND,
      },
      {
        cls: CgroupSock,
        type: BpfProgType.CGROUP_SOCK,
        attach: BpfAttachType.CGROUP_INET_SOCK_CREATE,
        trigger: UDP_SEND,
      },
      {
        cls: CgroupSockAddr,
        type: BpfProgType.CGROUP_SOCK_ADDR,
        attach: BpfAttachType.CGROUP_UDP4_SENDMSG,
        trigger: UDP_SEND,
      },
      {
        cls: CgroupSockopt,
        type: BpfProgType.CGROUP_SOCKOPT,
        attach: BpfAttachType.CGROUP_SETSOCKOPT,
        trigger: `const s=require("dgram").createSocket("udp4");s.bind(0,()=>{s.setBroadcast(true);s.close()});`,
      },
      {
        cls: CgroupSockAddr,
        type: BpfProgType.CGROUP_SOCK_ADDR,
        attach: BpfAttachType.CGROUP_UNIX_CONNECT,
        minKernel: "6.7",
        trigger: `const net=require("net");const p="/tmp/ebpf-programs-"+process.pid+".sock";const srv=net.createServer(c=>c.end()).listen(p,()=>{const c=net.connect(p,()=>{c.destroy();srv.close()})});`,
      },
      {
        cls: SockOps,
        type: BpfProgType.SOCK_OPS,
        attach: BpfAttachType.CGROUP_SOCK_OPS,
        trigger: `const net=require("net");const srv=net.createServer(c=>c.end()).listen(0,"127.0.0.1",()=>{const c=net.connect(srv.address().port,"127.0.0.1",()=>{c.destroy();srv.close()})});`,
      },
      {
        cls: CgroupSysctl,
        type: BpfProgType.CGROUP_SYSCTL,
        attach: BpfAttachType.CGROUP_SYSCTL,
        trigger: `require("fs").readFileSync("/proc/sys/kernel/ostype");`,
      },
      {
        cls: CgroupDevice,
        type: BpfProgType.CGROUP_DEVICE,
        attach: BpfAttachType.CGROUP_DEVICE,
        trigger: `require("fs").closeSync(require("fs").openSync("/dev/null","r"));`,
      },
    ];
    for (const c of cases) {
      it(`${c.cls.name} (${c.attach}): link fires for a process in the cgroup, and is gone after close`, () => {
        using stats = enableStats();
        const spec = allow(`cg_${c.cls.name}`.slice(0, 15), c.type, c.attach);
        if (c.minKernel && !kernelAtLeast(c.minKernel)) {
          expect(expectNotSupported(() => c.cls.load(spec), c.minKernel).feature).toMatch(/^attach type /);
          return;
        }
        const prog = c.cls.load(spec);
        try {
          const link = prog.attach(cg.path);
          expect(link).toBeInstanceOf(FdLink);
          expect((link as FdLink).info().typeName).toBe("cgroup");
          const before = prog.info().runCnt;
          cg.node(c.trigger);
          expect(prog.info().runCnt).toBeGreaterThan(before);
        } finally {
          prog.close();
        }
        using fd = openCgroup(cg.path);
        expect(progQuery({ targetFd: fd, attachType: c.attach }).progIds).toEqual([]);
        void stats;
      });
    }

    it("multi-attach: two links and a PROG_ATTACH program all run; detach removes each", () => {
      using stats = enableStats();
      const spec = (n: string) => allow(n, BpfProgType.CGROUP_SKB, BpfAttachType.CGROUP_INET_EGRESS);
      using a = CgroupSkb.load(spec("cg_multi_a"));
      using b = CgroupSkb.load(spec("cg_multi_b"));
      using c = CgroupSkb.load(spec("cg_multi_c"));
      a.attach(cg.path);
      b.attach(cg.path);
      const legacy = c.attach(cg.path, { legacy: true });
      expect(legacy.description).toContain("prog_attach multi");
      using fd = openCgroup(cg.path);
      const q = () =>
        progQuery({ targetFd: fd, attachType: BpfAttachType.CGROUP_INET_EGRESS }).progIds.sort();
      expect(q()).toEqual([a.info().id, b.info().id, c.info().id].sort());
      cg.node(UDP_SEND);
      for (const p of [a, b, c]) expect(p.info().runCnt).toBeGreaterThan(0n);
      legacy.detach();
      expect(q()).toEqual([a.info().id, b.info().id].sort());
      b.close();
      expect(q()).toEqual([a.info().id]);
      void stats;
    });

    it("a legacy attachment is detached when its program is closed", () => {
      const p = CgroupSkb.load(allow("cg_legacy", BpfProgType.CGROUP_SKB, BpfAttachType.CGROUP_INET_INGRESS));
      p.attach(cg.path, { legacy: true });
      using fd = openCgroup(cg.path);
      expect(progQuery({ targetFd: fd, attachType: BpfAttachType.CGROUP_INET_INGRESS }).count).toBe(1);
      p.close();
      expect(progQuery({ targetFd: fd, attachType: BpfAttachType.CGROUP_INET_INGRESS }).count).toBe(0);
    });
  },
  cgroupRootAvailable,
);
