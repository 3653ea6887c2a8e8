/**
 * CO-RE's essential names: a local type `task_struct___v1` stands for the kernel's `task_struct`. libbpf
 * drops the suffix after the last `X___Y` separator (X and Y not underscores).
 */

const UNDERSCORE = 0x5f;

/**
 * Length of a name without its `___flavor` suffix (libbpf's `bpf_core_essential_name_len`).
 *
 * @example
 * ```ts
 * essentialNameLength("task_struct___v1"); // 11
 * ```
 */
export function essentialNameLength(name: string): number {
  for (let i = name.length - 5; i >= 0; i--) {
    if (
      name.charCodeAt(i) !== UNDERSCORE &&
      name.startsWith("___", i + 1) &&
      name.charCodeAt(i + 4) !== UNDERSCORE
    )
      return i + 1;
  }
  return name.length;
}

/**
 * A name without its `___flavor` suffix.
 *
 * @example
 * ```ts
 * essentialName("task_struct___v1"); // "task_struct"
 * ```
 */
export function essentialName(name: string): string {
  return name.slice(0, essentialNameLength(name));
}
