/**
 * Kernel constants `@ebpf/maps` needs that `@ebpf/sys`'s generated ABI (`abi.generated.ts`) does not
 * carry yet. They are in kernel BTF as an anonymous `enum` of uapi `linux/bpf.h`; once the generator
 * emits them, import them from `@ebpf/sys` and delete this file. Kept in one place on purpose.
 *
 * @internal
 */

/** `BPF_RINGBUF_BUSY_BIT`: the record is reserved but not yet committed. */
export const BPF_RINGBUF_BUSY_BIT = 0x8000_0000;
/** `BPF_RINGBUF_DISCARD_BIT`: the record was discarded by the producer; skip it. */
export const BPF_RINGBUF_DISCARD_BIT = 0x4000_0000;
/** `BPF_RINGBUF_HDR_SZ`: bytes of the record header (u32 len + u32 page offset). */
export const BPF_RINGBUF_HDR_SZ = 8;
