import { closeSync, mkdirSync, openSync, readFileSync, readSync, rmdirSync } from "node:fs";
import { BtfKind as Kind, parseBtf } from "@ebpf/btf";
import { describeKernel } from "@ebpf/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import {
  BpfAttachType,
  BpfCmd,
  BpfDefines,
  BpfLinkType,
  BpfMapType,
  BpfProgType,
  BpfTaskFdType,
  bpf,
  btfInfo,
  btfLoad,
  ClosedFdError,
  getFdById,
  getNextId,
  InvalidArgumentError,
  iterCreate,
  LinkCreateAttr,
  LoadError,
  linkCreate,
  linkDetach,
  linkInfo,
  linkUpdate,
  MapElemAttr,
  mapCreate,
  progAttach,
  progDetach,
  progInfo,
  progLoad,
  progQuery,
  rawTracepointOpen,
  SyscallError,
  taskFdQuery,
} from "../src/index.js";
import { returnImm } from "./asm.js";
import { cgroup2Root, needsCgroup2 } from "./cgroup.js";

describeKernel(
  "attach, links, iterators, BTF and bad input",
  () => {
    const cgroupPath = `${cgroup2Root()}/sys_test_${process.pid}`;
    let cgroupFd = -1;
    beforeAll(() => {
      mkdirSync(cgroupPath);
      cgroupFd = openSync(cgroupPath, "r");
    });
    afterAll(() => {
      closeSync(cgroupFd);
      rmdirSync(cgroupPath);
    });

    const skb = (name: string) =>
      progLoad({ type: BpfProgType.CGROUP_SKB, insns: returnImm(1), license: "GPL", name });

    it("PROG_ATTACH / PROG_QUERY / PROG_DETACH on a cgroup", () => {
      using a = skb("sys_a");
      using b = skb("sys_b");
      const type = BpfAttachType.CGROUP_INET_INGRESS;
      progAttach({ targetFd: cgroupFd, progFd: a, attachType: type, flags: BpfDefines.BPF_F_ALLOW_MULTI });
      progAttach({ targetFd: cgroupFd, progFd: b, attachType: type, flags: BpfDefines.BPF_F_ALLOW_MULTI });
      const q = progQuery({ targetFd: cgroupFd, attachType: type });
      expect(q.count).toBe(2);
      expect(q.progIds.sort()).toEqual([progInfo(a).id, progInfo(b).id].sort());
      expect(q.attachFlags).toBe(BpfDefines.BPF_F_ALLOW_MULTI);
      progDetach({ targetFd: cgroupFd, progFd: a, attachType: type });
      progDetach({ targetFd: cgroupFd, progFd: b, attachType: type });
      expect(progQuery({ targetFd: cgroupFd, attachType: type }).count).toBe(0);
      expect(() => progDetach({ targetFd: cgroupFd, progFd: a, attachType: type })).toThrow(SyscallError);
    });

    it("LINK_CREATE / LINK_UPDATE / LINK_DETACH on a cgroup; link ids", () => {
      using a = skb("sys_la");
      using b = skb("sys_lb");
      const type = BpfAttachType.CGROUP_INET_EGRESS;
      using link = linkCreate({ progFd: a, targetFd: cgroupFd, attachType: type });
      const info = linkInfo(link);
      expect(info.type).toBe(BpfLinkType.CGROUP);
      expect(info.progId).toBe(progInfo(a).id);
      let seen = false;
      for (let id = getNextId("link", 0); id !== undefined; id = getNextId("link", id))
        seen ||= id === info.id;
      expect(seen).toBe(true);
      using byId = getFdById("link", info.id);
      expect(linkInfo(byId).id).toBe(info.id);
      linkUpdate(link, b);
      expect(progQuery({ targetFd: cgroupFd, attachType: type }).progIds).toEqual([progInfo(b).id]);
      expect(() => linkUpdate(link, a, { oldProgFd: a, flags: BpfDefines.BPF_F_REPLACE })).toThrow(/EPERM/);
      linkDetach(link);
      expect(progQuery({ targetFd: cgroupFd, attachType: type }).count).toBe(0);
      // extra fields by generated name reach the attr
      expect(LinkCreateAttr.fields["perf_event.bpf_cookie"].offset).toBe(16);
    });

    it("RAW_TRACEPOINT_OPEN and TASK_FD_QUERY", () => {
      using prog = progLoad({ type: BpfProgType.RAW_TRACEPOINT, insns: returnImm(0), license: "GPL" });
      using link = rawTracepointOpen("sys_enter", prog);
      expect(linkInfo(link).type).toBe(BpfLinkType.RAW_TRACEPOINT);
      const q = taskFdQuery(process.pid, link.raw);
      expect(q).toMatchObject({
        name: "sys_enter",
        fdType: BpfTaskFdType.RAW_TRACEPOINT,
        progId: progInfo(prog).id,
      });
    });

    it("ITER_CREATE on a task iterator", () => {
      const vmlinux = parseBtf(new Uint8Array(readFileSync("/sys/kernel/btf/vmlinux")));
      const [target] = vmlinux.findIdsByName("bpf_iter_task", Kind.Func);
      expect(target).toBeGreaterThan(0);
      using prog = progLoad({
        type: BpfProgType.TRACING,
        insns: returnImm(0),
        license: "GPL",
        expectedAttachType: BpfAttachType.TRACE_ITER,
        attachBtfId: target,
      });
      using link = linkCreate({ progFd: prog, attachType: BpfAttachType.TRACE_ITER });
      expect(linkInfo(link).type).toBe(BpfLinkType.ITER);
      using it = iterCreate(link);
      expect(readSync(it.raw, Buffer.alloc(64))).toBe(0); // the program prints nothing
    });

    it("BTF_LOAD: loads, reads info, returns the log on rejection", () => {
      // header + [1] int "int" (signed 32) + strings "\0int\0"
      const good = new Uint8Array(24 + 16 + 5);
      const v = new DataView(good.buffer);
      v.setUint16(0, 0xeb9f, true);
      v.setUint8(2, 1);
      v.setUint32(4, 24, true);
      v.setUint32(12, 16, true);
      v.setUint32(16, 16, true);
      v.setUint32(20, 5, true);
      v.setUint32(24, 1, true);
      v.setUint32(28, 1 << 24, true);
      v.setUint32(32, 4, true);
      v.setUint32(36, (1 << 24) | 32, true);
      good.set(new TextEncoder().encode("\0int\0"), 40);
      using fd = btfLoad({ btf: good });
      const info = btfInfo(fd);
      expect(info.btfSize).toBe(good.length);
      expect(info.kernelBtf).toBe(false);
      const bad = good.slice();
      new DataView(bad.buffer).setUint32(36, (1 << 24) | 64, true); // 64 bits in a 4-byte int
      const log = new Uint8Array(4096);
      try {
        btfLoad({ btf: bad, logBuf: log });
        expect.unreachable();
      } catch (e) {
        expect(e).toBeInstanceOf(LoadError);
        expect((e as LoadError).log.length).toBeGreaterThan(0);
      }
    });

    it("bad input: unknown command, wrong sizes, closed fds, non-zero attr tail", () => {
      const attr = new Uint8Array(64);
      expect(() => bpf(999, attr)).toThrow(/EINVAL/);
      expect(() => bpf(BpfCmd.MAP_CREATE, attr, 65)).toThrow(InvalidArgumentError);
      // a non-zero byte past the kernel's union bpf_attr → E2BIG
      const big = new Uint8Array(4096);
      big[4000] = 1;
      try {
        bpf(BpfCmd.MAP_CREATE, big);
        expect.unreachable();
      } catch (e) {
        expect((e as SyscallError).errnoName).toBe("E2BIG");
        expect((e as SyscallError).hint).toMatch(/newer than the running kernel/);
      }
      // DELETE_ELEM with a value pointer set: CHECK_ATTR refuses the non-zero tail
      using map = mapCreate({ type: BpfMapType.HASH, keySize: 4, valueSize: 4, maxEntries: 1 });
      const del = new Uint8Array(MapElemAttr.byteSize);
      const dv = new DataView(del.buffer);
      dv.setUint32(MapElemAttr.fields.map_fd.offset, map.raw, true);
      dv.setBigUint64(MapElemAttr.fields.key.offset, 0x1000n, true);
      dv.setBigUint64(MapElemAttr.fields.flags.offset, 0xffn, true);
      expect(() => bpf(BpfCmd.MAP_DELETE_ELEM, del)).toThrow(/EINVAL/);
      const closed = mapCreate({ type: BpfMapType.HASH, keySize: 4, valueSize: 4, maxEntries: 1 });
      closed.close();
      expect(() => closed.raw).toThrow(ClosedFdError);
      expect(() => progQuery({ targetFd: 0x7fffffff, attachType: 0 })).toThrow(/EBADF/);
      let error: unknown;
      try {
        mapCreate({ type: BpfMapType.HASH, keySize: 4, valueSize: 4, maxEntries: 1, flags: 1 << 30 }).close();
      } catch (e) {
        error = e;
      }
      expect(error).toMatchObject({
        code: "ERR_EBPF_SYSCALL",
        syscall: "bpf",
        command: "BPF_MAP_CREATE",
        errno: 22,
      });
      expect((error as SyscallError).errnoName).toBe("EINVAL");
    });
  },
  needsCgroup2,
);
