// Malformed BTF map definitions, compiled from small C snippets at test time: each gives a ParseError
// naming the map and field, never a crash (a self-referencing inner map must not recurse).
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { vmlinuxHeader } from "@ebpf/test-programs";
import { describe, expect, it } from "vitest";
import { ParseError, parseBpfObject } from "../src/index.js";

const dir = mkdtempSync(join(tmpdir(), "elf-maps-"));

function compile(name: string, body: string, target: "bpfel" | "bpfeb" = "bpfel"): Uint8Array {
  const src = join(dir, `${name}.bpf.c`);
  const out = join(dir, `${name}.${target}.o`);
  writeFileSync(
    src,
    `#include "vmlinux.h"\n#include <bpf/bpf_helpers.h>\n${body}\nchar LICENSE[] SEC("license") = "GPL";\n`,
  );
  execFileSync(
    process.env.CLANG ?? "clang",
    ["-O2", "-g", "-target", target, "-I", join(vmlinuxHeader, ".."), "-c", src, "-o", out],
    {
      stdio: "pipe",
    },
  );
  return readFileSync(out);
}

function parseError(bytes: Uint8Array): ParseError {
  try {
    parseBpfObject(bytes);
  } catch (e) {
    if (e instanceof ParseError) return e;
    throw e;
  }
  throw new Error("expected a ParseError");
}

const CASES: [name: string, body: string, message: RegExp][] = [
  [
    "self_reference",
    `struct self_map {
      __uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
      __uint(max_entries, 1);
      __type(key, int);
      __array(values, struct self_map);
    } loop SEC(".maps");`,
    /map "loop.inner" field "values": no nested map-in-map/,
  ],
  [
    "unknown_field",
    `struct {
      __uint(type, BPF_MAP_TYPE_HASH);
      __uint(max_entries, 1);
      __type(key, int);
      __type(value, int);
      __uint(colour, 3);
    } odd SEC(".maps");`,
    /map "odd" field "colour": a known map field/,
  ],
  [
    "key_size_mismatch",
    `struct {
      __uint(type, BPF_MAP_TYPE_HASH);
      __uint(max_entries, 1);
      __type(key, __u64);
      __uint(key_size, 4);
      __type(value, int);
    } mismatch SEC(".maps");`,
    /map "mismatch" field "key_size": 8 \(the size of the key type\)/,
  ],
  [
    "values_on_hash",
    `struct inner { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 1); __type(key, int); __type(value, int); };
    struct {
      __uint(type, BPF_MAP_TYPE_HASH);
      __uint(max_entries, 1);
      __type(key, int);
      __array(values, struct inner);
    } wrong SEC(".maps");`,
    /map "wrong" field "values": a map-in-map or prog array type/,
  ],
  [
    "type_not_uint",
    `struct {
      int type;
      __uint(max_entries, 1);
    } plain SEC(".maps");`,
    /map "plain" field "type": __uint/,
  ],
];

describe.each(["bpfel", "bpfeb"] as const)("%s", (target) => {
  it.each(CASES)("%s", (name, body, message) => {
    const e = parseError(compile(name, body, target));
    expect(e.code).toBe("ERR_EBPF_PARSE");
    expect(e.message).toMatch(message);
    expect(e.offset).toBeGreaterThan(0);
  });

  it("accepts __ulong map_extra (the enum encoding)", () => {
    const spec = parseBpfObject(
      compile(
        "ulong_extra",
        `struct {
          __uint(type, BPF_MAP_TYPE_BLOOM_FILTER);
          __uint(max_entries, 8);
          __type(value, __u32);
          enum { bloom_extra = 5 } map_extra; /* libbpf's __ulong(map_extra, 5) */
        } bloom SEC(".maps");`,
        target,
      ),
    );
    expect(spec.maps[0]).toMatchObject({ name: "bloom", type: 30, mapExtra: 5n, valueSize: 4 });
  });
});
