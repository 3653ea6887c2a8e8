import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { exit, mov64Imm } from "@ebpf/relocate";
import { BpfProgType } from "@ebpf/sys";
import { describeKernel, expectNotSupported, kernelAtLeast } from "@ebpf/testing";
import { expect, it } from "vitest";
import { enableStats, type FdLink, registerStructOps, StructOps, structOpsTarget } from "../src/index.js";

const member = (member: string, ret: number) => ({
  name: `cc_${member}`,
  type: BpfProgType.STRUCT_OPS,
  license: "GPL",
  attachTo: `tcp_congestion_ops.${member}`,
  instructions: [mov64Imm(0, ret), exit()],
});

const available = () => readFileSync("/proc/sys/net/ipv4/tcp_available_congestion_control", "utf8");

describeKernel("struct_ops: a TCP congestion control made of BPF programs", () => {
  it("resolves struct members to the BTF id and member index", () => {
    const t = structOpsTarget("tcp_congestion_ops.cong_avoid");
    expect(t.btfId).toBeGreaterThan(0);
    expect(t.member).toBeGreaterThan(0);
    expect(() => structOpsTarget("tcp_congestion_ops.no_such_member")).toThrow(/no member/);
  });

  for (const viaLink of [false, true]) {
    it(`registers, runs for a TCP connection in a test netns, unregisters (${viaLink ? "link" : "map"})`, () => {
      using stats = enableStats();
      const name = `ebpf${process.pid % 100000}${viaLink ? "l" : "m"}`;
      using ssthresh = StructOps.load(member("ssthresh", 2));
      using undo = StructOps.load(member("undo_cwnd", 10));
      using avoid = StructOps.load(member("cong_avoid", 0));
      using init = StructOps.load(member("init", 0));
      const register = () =>
        registerStructOps(
          "tcp_congestion_ops",
          // flags = TCP_CONG_NON_RESTRICTED: a namespace other than init_net may make it its default.
          { ssthresh, undo_cwnd: undo, cong_avoid: avoid, init, name, flags: 1 },
          { link: viaLink },
        );
      if (viaLink && !kernelAtLeast("6.4")) {
        // struct_ops links are 6.4: refused before anything is registered.
        expect(expectNotSupported(register, "6.4").feature).toContain("struct_ops links");
        expect(available().split(/\s+/)).not.toContain(name);
        return;
      }
      const reg = register();
      const ns = `ebpfso${process.pid}${viaLink ? "l" : "m"}`;
      try {
        if (viaLink) expect((reg as FdLink).info().typeName).toBe("struct_ops");
        expect(available().split(/\s+/)).toContain(name);
        execFileSync("ip", ["netns", "add", ns]);
        execFileSync("ip", ["-n", ns, "link", "set", "lo", "up"]);
        execFileSync("ip", ["netns", "exec", ns, "sysctl", "-qw", `net.ipv4.tcp_congestion_control=${name}`]);
        const script = `const net=require("net");const s=net.createServer(c=>c.end("ok")).listen(0,"127.0.0.1",()=>{const c=net.connect(s.address().port,"127.0.0.1");c.on("data",()=>{});c.on("close",()=>s.close())});`;
        execFileSync("ip", ["netns", "exec", ns, process.execPath, "-e", script]);
        expect(init.info().runCnt).toBeGreaterThanOrEqual(1n);
      } finally {
        try {
          execFileSync("ip", ["netns", "del", ns], { stdio: "pipe" });
        } catch {}
        reg.detach();
      }
      expect(available().split(/\s+/)).not.toContain(name);
      void stats;
    });
  }
});
