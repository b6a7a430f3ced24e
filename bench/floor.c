/*
 * floor - the least a VMM can do: one KVM vCPU running a 32-bit multiboot
 * ELF (the bench guests) in flat protected mode, and a loop that serves
 * its exits with no device model at all.  It is the bench's lower bound
 * for start-up, memory and exit cost.
 *
 *   floor [-m MiB] KERNEL.elf [CMDLINE]
 *
 * Port 0x3f8 writes go to stdout; 0x3fd (UART LSR) reads "transmitter
 * empty"; other port reads all ones; a write v to 0xf4 ends the run with
 * status (v << 1) | 1 (pc-testdev / isa-debug-exit); MMIO reads return
 * zero; HLT ends with status 2, or with interrupts enabled (an idle
 * guest) sleeps until the process is killed.  The exit count goes to stderr.
 */
#include <elf.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define MBI_ADDR 0x9000u
#define CMDLINE_ADDR 0x9100u

static void die(const char *what)
{
	perror(what);
	exit(125);
}

/* Copy the ELF's PT_LOAD segments into guest memory; returns the entry. */
static uint32_t load_elf(const char *path, uint8_t *mem, uint64_t size)
{
	int fd = open(path, O_RDONLY);
	struct stat st;
	uint8_t *f;
	Elf32_Ehdr *eh;

	if (fd < 0 || fstat(fd, &st) < 0)
		die(path);
	f = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (f == MAP_FAILED)
		die("mmap kernel");
	eh = (Elf32_Ehdr *)f;
	if ((size_t)st.st_size < sizeof(*eh) ||
	    memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 ||
	    eh->e_ident[EI_CLASS] != ELFCLASS32) {
		fprintf(stderr, "floor: %s: not a 32-bit ELF\n", path);
		exit(125);
	}
	for (int i = 0; i < eh->e_phnum; i++) {
		Elf32_Phdr *ph = (Elf32_Phdr *)(f + eh->e_phoff +
		    (size_t)i * eh->e_phentsize);

		if (ph->p_type != PT_LOAD)
			continue;
		if ((uint64_t)ph->p_paddr + ph->p_memsz > size ||
		    (uint64_t)ph->p_offset + ph->p_filesz >
			(uint64_t)st.st_size) {
			fprintf(stderr, "floor: segment out of bounds\n");
			exit(125);
		}
		memcpy(mem + ph->p_paddr, f + ph->p_offset, ph->p_filesz);
		memset(mem + ph->p_paddr + ph->p_filesz, 0,
		    ph->p_memsz - ph->p_filesz);
	}
	return eh->e_entry;
}

int main(int argc, char **argv)
{
	uint64_t memsz = 128ull << 20, exits = 0;
	int opt, kvm, vm, vcpu, status = -1;
	uint8_t *mem;
	struct kvm_run *run;
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	struct kvm_segment seg = { .base = 0, .limit = 0xffffffff,
		.present = 1, .s = 1, .g = 1, .db = 1 };
	uint32_t *mbi;

	while ((opt = getopt(argc, argv, "m:")) != -1) {
		if (opt != 'm')
			return 2;
		memsz = strtoull(optarg, NULL, 0) << 20;
	}
	if (optind >= argc || memsz < (2u << 20) || memsz > (3ull << 30)) {
		fprintf(stderr, "usage: floor [-m MiB] KERNEL.elf [CMDLINE]\n");
		return 2;
	}
	if ((kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC)) < 0)
		die("/dev/kvm");
	if ((vm = ioctl(kvm, KVM_CREATE_VM, 0)) < 0)
		die("KVM_CREATE_VM");
	/* Intel needs a TSS area below 4 GiB, outside RAM; AMD ignores it. */
	(void)ioctl(vm, KVM_SET_TSS_ADDR, 0xfffbd000ul);
	mem = mmap(NULL, memsz, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (mem == MAP_FAILED)
		die("mmap guest memory");
	struct kvm_userspace_memory_region r = { .slot = 0,
		.guest_phys_addr = 0, .memory_size = memsz,
		.userspace_addr = (uintptr_t)mem };
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &r) < 0)
		die("KVM_SET_USER_MEMORY_REGION");
	if ((vcpu = ioctl(vm, KVM_CREATE_VCPU, 0)) < 0)
		die("KVM_CREATE_VCPU");
	run = mmap(NULL, (size_t)ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0),
	    PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED)
		die("mmap kvm_run");

	/* Multiboot v1 info: memory sizes and the command line. */
	mbi = (uint32_t *)(mem + MBI_ADDR);
	mbi[0] = 1u << 0 | 1u << 2;
	mbi[1] = 640;
	mbi[2] = (uint32_t)(memsz >> 10) - 1024;
	mbi[4] = CMDLINE_ADDR;
	snprintf((char *)mem + CMDLINE_ADDR, 256, "%s",
	    optind + 1 < argc ? argv[optind + 1] : "");

	if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0)
		die("KVM_GET_SREGS");
	seg.type = 11; /* code: execute/read, accessed */
	seg.selector = 0x08;
	sregs.cs = seg;
	seg.type = 3; /* data: read/write, accessed */
	seg.selector = 0x10;
	sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = seg;
	sregs.cr0 = 0x11; /* PE, ET; paging off */
	if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0)
		die("KVM_SET_SREGS");
	memset(&regs, 0, sizeof(regs));
	regs.rflags = 2;
	regs.rip = load_elf(argv[optind], mem, memsz);
	regs.rax = 0x2BADB002;
	regs.rbx = MBI_ADDR;
	if (ioctl(vcpu, KVM_SET_REGS, &regs) < 0)
		die("KVM_SET_REGS");

	while (status < 0) {
		if (ioctl(vcpu, KVM_RUN, 0) < 0)
			die("KVM_RUN");
		exits++;
		switch (run->exit_reason) {
		case KVM_EXIT_IO: {
			uint8_t *d = (uint8_t *)run + run->io.data_offset;
			size_t n = (size_t)run->io.size * run->io.count;

			if (run->io.direction == KVM_EXIT_IO_OUT) {
				if (run->io.port == 0x3f8)
					fwrite(d, 1, n, stdout), fflush(stdout);
				else if (run->io.port == 0xf4)
					status = d[0] << 1 | 1;
			} else {
				memset(d, run->io.port == 0x3fd ? 0x60 : 0xff,
				    n);
			}
			break;
		}
		case KVM_EXIT_MMIO:
			if (!run->mmio.is_write)
				memset(run->mmio.data, 0, sizeof(run->mmio.data));
			break;
		case KVM_EXIT_HLT:
			/* Interrupts on: the guest idles (nothing will
			 * ever wake it here); sleep until killed. */
			if (run->if_flag)
				pause();
			status = 2;
			break;
		default:
			fprintf(stderr, "floor: exit reason %u\n",
			    run->exit_reason);
			status = 125;
		}
	}
	fprintf(stderr, "floor: %llu exits\n", (unsigned long long)exits);
	return status;
}
