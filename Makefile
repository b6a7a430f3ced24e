# khyve build.  `make` builds build/khyve; `make run` boots the demo guest;
# `make test` installs dependencies, builds everything and runs all tests.
# SANITIZE=1 builds the VMM and unit tests with ASan+UBSan (in build/san).

CC      ?= gcc
SANITIZE ?= 0
ifeq ($(SANITIZE),1)
B       := build/san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else
B       := build
SANFLAGS :=
endif

CFLAGS  := -std=gnu11 -O2 -g -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter \
           -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 -Wvla \
           -D_GNU_SOURCE -D_FORTIFY_SOURCE=2 -fstack-protector-strong \
           -Isrc -MMD -MP $(SANFLAGS) $(EXTRA_CFLAGS)
LDFLAGS := $(SANFLAGS) -pthread
# libslirp (user networking) is not linked: src/backend/slirp_dl.c loads
# it (and glib with it) only when a VM has a slirp NIC.
LDLIBS  := -lseccomp

SRCS     := $(sort $(shell find src -name '*.c'))
OBJS     := $(SRCS:%.c=$(B)/%.o)
LIB_OBJS := $(filter-out $(B)/src/main.o,$(OBJS))
UNIT_SRCS := $(sort $(wildcard tests/unit/*.c))
UNIT_OBJS := $(UNIT_SRCS:%.c=$(B)/%.o)

all: $(B)/khyve $(B)/khyve-test $(B)/unit-tests guests tools

$(B)/khyve: $(OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The guest tests' build: the same objects, with the sandbox's test hook
# (a vCPU thread making a denied call on request) compiled in.
$(B)/khyve-test: $(filter-out $(B)/src/sandbox/sandbox.o,$(OBJS)) $(B)/src/sandbox/sandbox-hooks.o
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/src/sandbox/sandbox-hooks.o: src/sandbox/sandbox.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -DKHYVE_TEST_HOOKS -c -o $@ $<

# The unit tests link every object but main.o, so they exercise the real code.
$(B)/unit-tests: $(UNIT_OBJS) $(LIB_OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

# Guest programs (multiboot/PVH/bzImage test kernels), built with the host gcc.
guests:
	@$(MAKE) --no-print-directory -C tests/guests OUT=$(CURDIR)/build/guests

# Host helpers of the guest tests (tests/tools): always plain gcc into
# build/tools (an LD_PRELOAD shim must not be sanitised).
TOOLS_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE
tools: build/tools/faultio.so build/tools/blkcheck
build/tools/faultio.so: tests/tools/faultio.c
	@mkdir -p $(dir $@)
	$(CC) $(TOOLS_CFLAGS) -fPIC -shared -o $@ $< -ldl -pthread
build/tools/blkcheck: tests/tools/blkcheck.c tests/tools/blkpat.h
	@mkdir -p $(dir $@)
	$(CC) $(TOOLS_CFLAGS) -o $@ $<

deps:
	@sh scripts/deps.sh

run: deps
	@$(MAKE) --no-print-directory all
	@# Without /dev/kvm here, run-in-vm.sh boots a nested-KVM test VM first.
	tests/nested/run-in-vm.sh --timeout 300 -- ./build/khyve -c 2 -m 128M -l com1,stdio -l pc-testdev \
	    -o boot.kernel=build/guests/demo.elf \
	    -o boot.cmdline="hello from make run cpus=2" demo; \
	st=$$?; echo "khyve exited with status $$st"; [ $$st -le 3 ]

test: deps
	@$(MAKE) --no-print-directory all
	@B=$(B) bash tests/run

# Fuzz targets (fuzz/*_fuzz.c, see README "Fuzzing"): each links with
# clang's libFuzzer, ASan and UBSan against every src object but main.o
# (built again with coverage in build/fuzz/obj) and the unit-test fixtures
# it uses.  `make fuzz` builds build/fuzz/NAME_fuzz for every target, plus
# the gdb target's plain $(CC) replay build (fuzz/replay.c);
# `make fuzz-smoke` runs each briefly on fuzz/corpus/NAME (scripts/fuzz-smoke.sh).
FUZZ_CC     ?= clang
FUZZ_SAN    := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS := -std=gnu11 -g -O1 -Wall -Wextra -Wno-unused-parameter -Wno-gnu-variable-sized-type-not-at-end -D_GNU_SOURCE \
               -Isrc -Itests/unit -MMD -MP $(FUZZ_SAN) -fsanitize=fuzzer-no-link
FUZZ_TARGETS := $(patsubst fuzz/%_fuzz.c,%,$(sort $(wildcard fuzz/*_fuzz.c)))
FUZZ_BINS   := $(FUZZ_TARGETS:%=build/fuzz/%_fuzz)
FUZZ_OBJS   := $(patsubst %.c,build/fuzz/obj/%.o,$(filter-out src/main.c,$(SRCS)) \
               tests/unit/pci_fixture.c tests/unit/test_net_fixture.c)
FUZZ_SRCS := fuzz/gdb_packet_fuzz.c src/gdb/gdb_packet.c src/gdb/gdb_server.c \
             src/gdb/gdb_regs.c src/log.c

fuzz: $(FUZZ_BINS) build/fuzz/gdb_packet_replay

build/fuzz/gdb_packet_replay: fuzz/replay.c $(FUZZ_SRCS)
	@mkdir -p build/fuzz
	$(CC) $(CFLAGS) -o $@ fuzz/replay.c $(FUZZ_SRCS)

build/fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<

build/fuzz/%_fuzz: build/fuzz/obj/fuzz/%_fuzz.o $(FUZZ_OBJS)
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -pthread -o $@ $^ $(LDLIBS)

.SECONDARY: $(FUZZ_OBJS)

fuzz-smoke: fuzz
	@bash scripts/fuzz-smoke.sh $(FUZZ_TARGETS)

clean:
	rm -rf build

.PHONY: all guests tools deps run test clean fuzz fuzz-smoke
-include $(OBJS:.o=.d) $(UNIT_OBJS:.o=.d) $(B)/src/sandbox/sandbox-hooks.d $(wildcard build/fuzz/obj/*/*.d build/fuzz/obj/*/*/*.d)
