/* kvmcheck64: like kvmcheck, but the guest starts directly in 64-bit long
 * mode (identity-mapped 2 MB page): out 'A' to 0x3f8, then a 64-bit-only
 * movabs into %rax, then hlt. Not built by run-in-vm.sh; build it with
 *   gcc -O2 -o build/nested/kvmcheck64 tests/nested/kvmcheck64.c */
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#define MEM_SIZE (2u << 20)
#define die(...) do { fprintf(stderr, "kvmcheck64: " __VA_ARGS__); exit(1); } while (0)

int main(void)
{
	static const unsigned char code[] = {
		0x66, 0xba, 0xf8, 0x03,				/* mov $0x3f8,%dx */
		0xb0, 'A', 0xee,				/* mov $'A',%al; out %al,(%dx) */
		0x48, 0xb8, 0xf0, 0xde, 0xbc, 0x9a, 0x78, 0x56, 0x34, 0x12, /* movabs $0x123456789abcdef0,%rax */
		0xf4,						/* hlt */
	};
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0) die("open /dev/kvm: %m\n");
	int vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0) die("KVM_CREATE_VM: %m\n");
	unsigned char *mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) die("mmap: %m\n");
	unsigned long *pml4 = (void *)(mem + 0x2000), *pdpt = (void *)(mem + 0x3000), *pd = (void *)(mem + 0x4000);
	pml4[0] = 0x3000 | 3;	/* present | writable */
	pdpt[0] = 0x4000 | 3;
	pd[0] = 0 | 0x83;	/* present | writable | 2 MB page */
	memcpy(mem + 0x1000, code, sizeof(code));
	struct kvm_userspace_memory_region region = {
		.slot = 0, .guest_phys_addr = 0, .memory_size = MEM_SIZE, .userspace_addr = (unsigned long)mem,
	};
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0) die("KVM_SET_USER_MEMORY_REGION: %m\n");
	int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (vcpu < 0) die("KVM_CREATE_VCPU: %m\n");
	struct kvm_run *run = mmap(NULL, ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0), PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED) die("mmap vcpu: %m\n");

	/* KVM refuses EFER.LME unless the guest CPUID has long mode. */
	struct { struct kvm_cpuid2 c; struct kvm_cpuid_entry2 e[256]; } cpuid = { .c.nent = 256 };
	if (ioctl(kvm, KVM_GET_SUPPORTED_CPUID, &cpuid) < 0) die("KVM_GET_SUPPORTED_CPUID: %m\n");
	if (ioctl(vcpu, KVM_SET_CPUID2, &cpuid) < 0) die("KVM_SET_CPUID2: %m\n");

	struct kvm_sregs sregs;
	if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0) die("KVM_GET_SREGS: %m\n");
	struct kvm_segment cs = { .base = 0, .limit = 0xffffffff, .selector = 8, .type = 11,
				  .present = 1, .s = 1, .l = 1, .g = 1 };
	struct kvm_segment ds = cs;
	ds.selector = 16, ds.type = 3, ds.l = 0, ds.db = 1;
	sregs.cs = cs, sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = ds;
	sregs.cr3 = 0x2000;
	sregs.cr4 = 1 << 5;			/* PAE */
	sregs.cr0 = 0x80000001 | 0x10;		/* PG | PE | ET */
	sregs.efer = 0x500;			/* LME | LMA */
	if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0) die("KVM_SET_SREGS: %m\n");
	struct kvm_regs regs = { .rip = 0x1000, .rsp = 0x200000, .rflags = 0x2 };
	if (ioctl(vcpu, KVM_SET_REGS, &regs) < 0) die("KVM_SET_REGS: %m\n");

	if (ioctl(vcpu, KVM_RUN, 0) < 0) die("KVM_RUN: %m\n");
	if (run->exit_reason != KVM_EXIT_IO || run->io.port != 0x3f8 ||
	    *((char *)run + run->io.data_offset) != 'A')
		die("expected KVM_EXIT_IO out 0x3f8 'A', got exit_reason %u\n", run->exit_reason);
	if (ioctl(vcpu, KVM_RUN, 0) < 0) die("KVM_RUN: %m\n");
	if (run->exit_reason != KVM_EXIT_HLT) die("expected KVM_EXIT_HLT, got exit_reason %u\n", run->exit_reason);
	if (ioctl(vcpu, KVM_GET_REGS, &regs) < 0) die("KVM_GET_REGS: %m\n");
	if (regs.rax != 0x123456789abcdef0ul) die("rax = %#llx, want 0x123456789abcdef0\n", regs.rax);
	printf("kvmcheck64: OK (long mode, rax = %#llx)\n", regs.rax);
	return 0;
}
