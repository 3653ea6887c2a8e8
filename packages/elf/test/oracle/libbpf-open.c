// Test oracle: open a BPF object with libbpf (bpf_object__open_file, no kernel involved) and print what
// libbpf sees, one line per program and per non-internal map, tab-separated. Built by the test with the
// host's clang against libbpf-dev; never part of the library.
#include <bpf/libbpf.h>
#include <stdio.h>

int main(int argc, char **argv) {
  if (argc != 2) return 2;
  libbpf_set_print(NULL);
  struct bpf_object *obj = bpf_object__open_file(argv[1], NULL);
  long err = libbpf_get_error(obj);
  if (err) {
    printf("error\t%ld\n", err);
    return 1;
  }
  struct bpf_program *prog;
  bpf_object__for_each_program(prog, obj) {
    const char *type = libbpf_bpf_prog_type_str(bpf_program__type(prog));
    const char *attach = libbpf_bpf_attach_type_str(bpf_program__expected_attach_type(prog));
    printf("prog\t%s\t%s\t%s\t%s\t%d\t%zu\n", bpf_program__name(prog), bpf_program__section_name(prog),
           type ? type : "?", attach ? attach : "?", bpf_program__autoload(prog),
           bpf_program__insn_cnt(prog));
  }
  struct bpf_map *map;
  bpf_object__for_each_map(map, obj) {
    if (bpf_map__is_internal(map)) continue;
    const struct bpf_map *inner = bpf_map__inner_map(map);
    printf("map\t%s\t%d\t%u\t%u\t%u\t%u\t%llu\t%d", bpf_map__name(map), bpf_map__type(map),
           bpf_map__key_size(map), bpf_map__value_size(map), bpf_map__max_entries(map),
           bpf_map__map_flags(map), (unsigned long long)bpf_map__map_extra(map), bpf_map__numa_node(map));
    if (inner)
      printf("\tinner\t%d\t%u\t%u\t%u", bpf_map__type(inner), bpf_map__key_size(inner),
             bpf_map__value_size(inner), bpf_map__max_entries(inner));
    printf("\n");
  }
  bpf_object__close(obj);
  return 0;
}
