/* kvmcheck: smoke test that /dev/kvm can run a guest.
 * Real-mode guest: mov $0x3f8,%dx; mov $'A',%al; out %al,%dx; hlt
 * Expects KVM_EXIT_IO (out, port 0x3f8, 'A') then KVM_EXIT_HLT.
 * Usage: kvmcheck [ITERATIONS]  -- repeats the guest to time exits. */
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>

#define MEM_SIZE (2u << 20)
#define die(...) do { fprintf(stderr, "kvmcheck: " __VA_ARGS__); exit(1); } while (0)

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	static const unsigned char code[] = { 0xba, 0xf8, 0x03, 0xb0, 'A', 0xee, 0xf4 };
	long iters = argc > 1 ? atol(argv[1]) : 1;
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0) die("open /dev/kvm: %m\n");
	int api = ioctl(kvm, KVM_GET_API_VERSION, 0);
	if (api != KVM_API_VERSION) die("KVM_GET_API_VERSION = %d, want %d\n", api, KVM_API_VERSION);
	int vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0) die("KVM_CREATE_VM: %m\n");
	unsigned char *mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) die("mmap: %m\n");
	memcpy(mem + 0x1000, code, sizeof(code));
	struct kvm_userspace_memory_region region = {
		.slot = 0, .guest_phys_addr = 0, .memory_size = MEM_SIZE, .userspace_addr = (unsigned long)mem,
	};
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0) die("KVM_SET_USER_MEMORY_REGION: %m\n");
	int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (vcpu < 0) die("KVM_CREATE_VCPU: %m\n");
	int run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	struct kvm_run *run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED) die("mmap vcpu: %m\n");

	struct kvm_sregs sregs;
	if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0) die("KVM_GET_SREGS: %m\n");
	sregs.cs.base = 0, sregs.cs.selector = 0;
	if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0) die("KVM_SET_SREGS: %m\n");

	double t0 = now();
	for (long i = 0; i < iters; i++) {
		struct kvm_regs regs = { .rip = 0x1000, .rflags = 0x2 };
		if (ioctl(vcpu, KVM_SET_REGS, &regs) < 0) die("KVM_SET_REGS: %m\n");
		if (ioctl(vcpu, KVM_RUN, 0) < 0) die("KVM_RUN: %m\n");
		if (run->exit_reason != KVM_EXIT_IO || run->io.direction != KVM_EXIT_IO_OUT ||
		    run->io.port != 0x3f8 || run->io.size != 1 ||
		    *((char *)run + run->io.data_offset) != 'A')
			die("expected KVM_EXIT_IO out 0x3f8 'A', got exit_reason %u\n", run->exit_reason);
		if (ioctl(vcpu, KVM_RUN, 0) < 0) die("KVM_RUN: %m\n");
		if (run->exit_reason != KVM_EXIT_HLT)
			die("expected KVM_EXIT_HLT, got exit_reason %u\n", run->exit_reason);
	}
	double dt = now() - t0;
	printf("kvmcheck: OK (%ld run(s), %.3f s, %.1f us per KVM_RUN exit)\n", iters, dt, dt / (2.0 * iters) * 1e6);
	return 0;
}
