/** CO-RE relocation kinds (`enum bpf_core_relo_kind`, uapi bpf.h). */
export const CoreReloKind = {
  FIELD_BYTE_OFFSET: 0,
  FIELD_BYTE_SIZE: 1,
  FIELD_EXISTS: 2,
  FIELD_SIGNED: 3,
  FIELD_LSHIFT_U64: 4,
  FIELD_RSHIFT_U64: 5,
  TYPE_ID_LOCAL: 6,
  TYPE_ID_TARGET: 7,
  TYPE_EXISTS: 8,
  TYPE_SIZE: 9,
  ENUMVAL_EXISTS: 10,
  ENUMVAL_VALUE: 11,
  TYPE_MATCHES: 12,
} as const;

const NAMES = [
  "byte_off",
  "byte_sz",
  "field_exists",
  "signed",
  "lshift_u64",
  "rshift_u64",
  "local_type_id",
  "target_type_id",
  "type_exists",
  "type_size",
  "enumval_exists",
  "enumval_value",
  "type_matches",
];

/** libbpf's short name of a relocation kind (`byte_off`, `type_exists`, ...). */
export const coreKindName = (kind: number): string => NAMES[kind] ?? `unknown(${kind})`;

export const isFieldBased = (kind: number): boolean => kind >= 0 && kind <= 5;
export const isTypeBased = (kind: number): boolean => (kind >= 6 && kind <= 9) || kind === 12;
export const isEnumvalBased = (kind: number): boolean => kind === 10 || kind === 11;
