// Exercises many BTF kinds for @ebpf/btf tests: bitfields, signed/unsigned and 64-bit enums, float,
// unions, forward declarations, qualifiers, decl_tag/type_tag, func protos, datasec vars.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#define __tag(x) __attribute__((btf_decl_tag(x)))
#define __ttag(x) __attribute__((btf_type_tag(x)))

enum btf_small { SMALL_A = -2, SMALL_B = 3 };
enum btf_big { BIG_A = 1, BIG_B = 0xffffffff00ULL };
enum btf_neg64 { NEG_A = -5000000000LL, NEG_B = 7 };

struct btf_opaque;
union btf_fwd_union;

struct btf_bits {
  unsigned int a : 3;
  unsigned int b : 5;
  int c : 7;
  unsigned long long d : 40;
  char e;
  unsigned short f : 1;
} __tag("bits_tag");

union btf_u {
  int i;
  float f;
  double d;
  unsigned char bytes[8];
};

typedef int __ttag("user") *user_int_ptr;

struct btf_all {
  struct btf_bits bits;
  union btf_u u;
  enum btf_small small;
  enum btf_big big;
  enum btf_neg64 neg;
  const volatile int cv;
  int *restrict rp;
  user_int_ptr up;
  struct btf_opaque *opaque;
  union btf_fwd_union *fu;
  int matrix[2][3];
  int (*fn)(int, struct btf_bits *) __tag("fn_member");
  int flex[];
};

struct btf_all btf_all_global __tag("var_tag");
struct btf_all *btf_all_ptr;
const volatile int btf_ro = 42;
int btf_counter = 0;
static int btf_static_counter;

__attribute__((noinline)) int btf_helper(struct btf_all *p __tag("param_tag"), int x) __tag("func_tag")
{
  return p->bits.a + x + btf_static_counter++;
}

SEC("xdp")
int btf_prog(struct xdp_md *ctx)
{
  btf_counter++;
  return btf_helper(&btf_all_global, btf_ro) > 0 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
