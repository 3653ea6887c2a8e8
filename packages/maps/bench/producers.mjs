/**
 * Hand-assembled XDP programs that feed event maps from BPF_PROG_TEST_RUN: each run emits one 16-byte
 * record `{ u64 seq; u64 cookie }`, where `seq` comes from a counter in a one-element array, so
 * `repeat: n` produces the sequence 0..n-1. Assembled with @ebpf/relocate's builders and loaded with
 * @ebpf/sys, so these tests depend on no ELF loader. Shared by the kernel tests and the benchmark
 * (plain JS so the benchmark runs on the built packages).
 */

import { BtfBuilder, FuncLinkage, IntEncoding } from "@ebpf/btf";
import {
  AluOp,
  alu64Imm,
  Class,
  callHelper,
  encodeInstructions,
  exit,
  JmpOp,
  ldImm64,
  ldx,
  mov64Imm,
  mov64Reg,
  PseudoLd,
  Size,
  Source,
  stx,
} from "@ebpf/relocate";
import { BpfFlags, BpfFuncId, BpfProgType, btfLoad, progLoad, progTestRun, XdpAction } from "@ebpf/sys";

export const COOKIE = 0x5a5a5a5a5a5a5a5an;

/** `if rDst == imm goto +offset` */
const jeqImm = (dst, imm, offset) => ({
  opcode: Class.JMP | JmpOp.JEQ | Source.K,
  dst,
  src: 0,
  offset,
  imm,
});

/** Emits through `bpf_ringbuf_output` (kind "ringbuf") or `bpf_perf_event_output` (kind "perf"). */
export function loadProducer(kind, eventsFd, counterFd) {
  const tail =
    kind === "ringbuf"
      ? [
          ldImm64(1, BigInt(eventsFd), PseudoLd.MAP_FD),
          mov64Reg(2, 10),
          alu64Imm(AluOp.ADD, 2, -24),
          mov64Imm(3, 16),
          mov64Imm(4, 0),
          callHelper(BpfFuncId.ringbuf_output),
        ]
      : [
          mov64Reg(1, 6),
          ldImm64(2, BigInt(eventsFd), PseudoLd.MAP_FD),
          ldImm64(3, BigInt(BpfFlags.BPF_F_CURRENT_CPU)),
          mov64Reg(4, 10),
          alu64Imm(AluOp.ADD, 4, -24),
          mov64Imm(5, 16),
          callHelper(BpfFuncId.perf_event_output),
        ];
  // seq = counter++ as a plain load/add/store: BPF_PROG_TEST_RUN runs the repeats one after another on
  // one CPU, and atomic fetch-and-add (BPF_ADD | BPF_FETCH) is 5.12+ (5.10 rejects it with EINVAL).
  const afterLookup = [
    ldx(Size.DW, 1, 0, 0),
    stx(Size.DW, 10, 1, -24),
    alu64Imm(AluOp.ADD, 1, 1),
    stx(Size.DW, 0, 1, 0),
    ldImm64(1, COOKIE),
    stx(Size.DW, 10, 1, -16),
    ...tail,
  ];
  const slots = afterLookup.reduce((n, i) => n + (i.opcode === ldImm64(0, 0n).opcode ? 2 : 1), 0);
  const insns = [
    mov64Reg(6, 1),
    mov64Imm(1, 0),
    stx(Size.W, 10, 1, -4),
    mov64Reg(2, 10),
    alu64Imm(AluOp.ADD, 2, -4),
    ldImm64(1, BigInt(counterFd), PseudoLd.MAP_FD),
    callHelper(BpfFuncId.map_lookup_elem),
    jeqImm(0, 0, slots),
    ...afterLookup,
    mov64Imm(0, XdpAction.PASS),
    exit(),
  ];
  const logBuf = new Uint8Array(64 * 1024);
  return progLoad({
    type: BpfProgType.XDP,
    insns: encodeInstructions(insns),
    license: "GPL",
    name: `maps_${kind}`,
    logLevel: 1,
    logBuf,
  });
}

const packet = new Uint8Array(64);

/** Runs the producer `repeat` times (one record per run). */
export function produce(prog, repeat) {
  progTestRun({ progFd: prog, dataIn: packet, repeat });
}

/**
 * An XDP program that drains a user ring buffer with `bpf_user_ringbuf_drain` (a callback that
 * accepts every record) and stores how many records were drained in element 0 of `resultFd` (an array
 * of u64).
 */
export function loadUserRingDrainer(userRingFd, resultFd) {
  const callback = [mov64Imm(0, 0), exit()];
  const main = [
    ldImm64(1, BigInt(userRingFd), PseudoLd.MAP_FD),
    null, // r2 = &callback, patched below once the offset is known
    mov64Imm(3, 0),
    mov64Imm(4, 0),
    callHelper(BpfFuncId.user_ringbuf_drain),
    stx(Size.DW, 10, 0, -8),
    mov64Imm(1, 0),
    stx(Size.W, 10, 1, -12),
    ldImm64(1, BigInt(resultFd), PseudoLd.MAP_FD),
    mov64Reg(2, 10),
    alu64Imm(AluOp.ADD, 2, -12),
    mov64Reg(3, 10),
    alu64Imm(AluOp.ADD, 3, -8),
    mov64Imm(4, 0),
    callHelper(BpfFuncId.map_update_elem),
    mov64Imm(0, XdpAction.PASS),
    exit(),
  ];
  const slotsOf = (list) => list.reduce((n, i) => n + (i && i.opcode === ldImm64(0, 0n).opcode ? 2 : 1), 0);
  // The placeholder counts 1 slot, the ld_imm64 replacing it 2. It sits at slot 2; the kernel finds the
  // callback at slot 2 + imm + 1.
  const mainSlots = slotsOf(main) + 1;
  main[1] = ldImm64(2, BigInt(mainSlots - 3), PseudoLd.FUNC);
  const insns = [...main, ...callback];
  // Callbacks need BTF func_info: one FUNC per subprogram, the callback static.
  const b = new BtfBuilder();
  const int = b.addInt("int", 4, IntEncoding.Signed);
  const long = b.addInt("long", 8, IntEncoding.Signed);
  const voidPtr = b.addPtr(0);
  const mainProto = b.addFuncProto(int, [{ name: "ctx", type: voidPtr }]);
  const cbProto = b.addFuncProto(long, [
    { name: "dynptr", type: voidPtr },
    { name: "ctx", type: voidPtr },
  ]);
  const mainFunc = b.addFunc("drain", mainProto, FuncLinkage.Global);
  const cbFunc = b.addFunc("accept", cbProto, FuncLinkage.Static);
  const btf = btfLoad({ btf: b.marshal() });
  const funcInfo = new Uint8Array(16);
  const fi = new DataView(funcInfo.buffer);
  fi.setUint32(0, 0, true);
  fi.setUint32(4, mainFunc, true);
  fi.setUint32(8, mainSlots, true);
  fi.setUint32(12, cbFunc, true);
  try {
    return progLoad({
      type: BpfProgType.XDP,
      insns: encodeInstructions(insns),
      license: "GPL",
      name: "maps_urb_drain",
      btfFd: btf,
      funcInfoRecSize: 8,
      funcInfo,
      funcInfoCnt: 2,
      logLevel: 1,
      logBuf: new Uint8Array(64 * 1024),
    });
  } finally {
    btf.close();
  }
}
