/**
 * The kernel ABI values `@ebpf/maps` uses, all from `@ebpf/sys`'s generated ABI. No other file in this
 * package spells a kernel number.
 *
 * @internal
 */
import {
  BpfFlags,
  BpfMapType,
  BpfRingbuf,
  PerfEventHeader,
  PerfEventMmapPage,
  PerfEventType,
} from "@ebpf/sys";

export { BpfFlags, BpfMapType };

/** Byte offsets in `struct perf_event_mmap_page` of the fields the perf reader touches. */
export const perfPage = {
  dataHead: PerfEventMmapPage.fields.data_head.offset,
  dataTail: PerfEventMmapPage.fields.data_tail.offset,
  dataOffset: PerfEventMmapPage.fields.data_offset.offset,
  dataSize: PerfEventMmapPage.fields.data_size.offset,
} as const;

/** `struct perf_event_header` field offsets and size. */
export const perfHeader = {
  type: PerfEventHeader.fields.type.offset,
  size: PerfEventHeader.fields.size.offset,
  byteSize: PerfEventHeader.byteSize,
} as const;

/** Perf record types the reader handles. */
export const perfRecord = {
  sample: PerfEventType.SAMPLE,
  lost: PerfEventType.LOST,
} as const;

/** BPF ring buffer record header bits and size. */
export const ringbufHeader = {
  busyBit: BpfRingbuf.BUSY_BIT,
  discardBit: BpfRingbuf.DISCARD_BIT,
  byteSize: BpfRingbuf.HDR_SZ,
} as const;
