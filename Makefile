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
# libslirp (user networking): its pkg-config file drags in glib's, which
# the headers do not need, so name the library directly.
LDLIBS  := -lslirp

SRCS     := $(sort $(shell find src -name '*.c'))
OBJS     := $(SRCS:%.c=$(B)/%.o)
LIB_OBJS := $(filter-out $(B)/src/main.o,$(OBJS))
UNIT_SRCS := $(sort $(wildcard tests/unit/*.c))
UNIT_OBJS := $(UNIT_SRCS:%.c=$(B)/%.o)

all: $(B)/khyve $(B)/unit-tests guests tools

$(B)/khyve: $(OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

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

# Optional: the gdb stub's packet fuzz target.  Always a replay build with
# $(CC) (fuzz/replay.c runs a corpus); with clang's libFuzzer also a real
# fuzzer: build/fuzz/gdb_packet_fuzz fuzz/corpus/gdb_packet
FUZZ_SRCS := fuzz/gdb_packet_fuzz.c src/gdb/gdb_packet.c src/gdb/gdb_server.c \
             src/gdb/gdb_regs.c src/log.c
fuzz:
	@mkdir -p build/fuzz
	$(CC) $(CFLAGS) -o build/fuzz/gdb_packet_replay fuzz/replay.c $(FUZZ_SRCS)
	@if command -v clang >/dev/null && echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0; }' | \
	    clang -fsanitize=fuzzer -x c -o /dev/null - 2>/dev/null; then \
	  echo "clang -fsanitize=fuzzer,address,undefined ... -o build/fuzz/gdb_packet_fuzz"; \
	  clang -std=gnu11 -g -O1 -Isrc -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined \
	    -o build/fuzz/gdb_packet_fuzz $(FUZZ_SRCS); \
	else echo "fuzz: no clang with libFuzzer; built only the replay driver"; fi

clean:
	rm -rf build

.PHONY: all guests tools deps run test clean fuzz
-include $(OBJS:.o=.d) $(UNIT_OBJS:.o=.d)
