// Decoding NUL-terminated strings out of the BTF string section.
// Names are almost always ASCII: a byte loop plus String.fromCharCode beats TextDecoder by a wide margin for
// short strings (TextDecoder has a fixed cost per call), and only non-ASCII names go through TextDecoder.

const utf8 = new TextDecoder("utf-8", { fatal: false });

/** Index of the NUL terminating the string at `start` (the section is known to end with NUL). */
export function strEnd(bytes: Uint8Array, start: number): number {
  let end = start;
  while (bytes[end] !== 0) end++;
  return end;
}

/** Decodes the NUL-terminated string at `start`. The caller guarantees a NUL before the end of `bytes`. */
export function decodeCString(bytes: Uint8Array, start: number): string {
  const first = bytes[start];
  if (first === 0) return "";
  let end = start;
  let ascii = true;
  let b = first;
  while (b !== 0) {
    if (b >= 0x80) ascii = false;
    b = bytes[++end];
  }
  const len = end - start;
  if (!ascii || len > 256) return utf8.decode(bytes.subarray(start, end));
  if (len <= 16) {
    let s = "";
    for (let i = start; i < end; i++) s += String.fromCharCode(bytes[i]);
    return s;
  }
  return String.fromCharCode.apply(null, bytes.subarray(start, end) as unknown as number[]);
}

/** UTF-8 encoding of a string. */
export function encodeString(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}
