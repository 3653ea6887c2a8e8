/* libbpf's side of the relocation benchmark: bpf_object__open_file + bpf_object__load + close of the
 * anchor CO-RE object, reporting wall time and the *user* CPU time of the process (getrusage), which
 * excludes the kernel's verifier and map creation: libbpf's userspace work (ELF, BTF, vmlinux BTF parse,
 * CO-RE, linking, sanitizing). Build: gcc -O2 -o build/libbpf_userspace libbpf_userspace.c -lbpf */
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static double user_ms(void) {
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec * 1e3 + ru.ru_utime.tv_usec / 1e3;
}

static double now_ms(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int quiet(enum libbpf_print_level level, const char *fmt, va_list args) { return 0; }

int main(int argc, char **argv) {
	const char *dir = getenv("BPF_OBJ_DIR");
	const char *path = argc > 1 ? argv[1] : NULL;
	char buf[512];
	int iters = getenv("ITERS") ? atoi(getenv("ITERS")) : 10;
	if (!path) {
		snprintf(buf, sizeof(buf), "%s/core.bpf.o", dir ? dir : "build");
		path = buf;
	}
	libbpf_set_print(quiet);
	for (int it = -1; it < iters; it++) {
		double u0 = user_ms(), t0 = now_ms();
		struct bpf_object *obj = bpf_object__open_file(path, NULL);
		if (!obj) { fprintf(stderr, "open %s: %s\n", path, strerror(errno)); return 1; }
		int err = bpf_object__load(obj);
		if (err) { fprintf(stderr, "load: %s\n", strerror(-err)); return 1; }
		double u1 = user_ms(), t1 = now_ms();
		bpf_object__close(obj);
		if (it < 0) continue;
		printf("libbpf.core_open_load_user_ms %.3f ms\n", u1 - u0);
		printf("libbpf.core_open_load_ms %.3f ms\n", t1 - t0);
	}
	return 0;
}
