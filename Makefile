# scorch - a sampling CPU profiler for Linux
#
#   make            build build/scorch
#   make demo       install what is missing, build, profile the bundled demo workload, print a report
#   make test       install what is missing, build, run every test (unit, cli, fuzz smoke, end to end)
#   make install    install into $(DESTDIR)$(prefix)
#   make V=1        show full command lines
#   make SANITIZE=address,undefined test   the same with sanitizers (separate build directory)

VERSION    := 0.1.0
prefix     ?= /usr/local
bindir     ?= $(prefix)/bin
mandir     ?= $(prefix)/share/man
DESTDIR    ?=

CC         ?= cc
CLANG      ?= clang
BPFTOOL    ?= bpftool
ARCH       := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')

OUT        := build$(if $(SANITIZE),-san)
OBJDIR     := $(OUT)/obj

CFLAGS     ?= -O2 -g
WARNFLAGS  := -Wall -Wextra -Werror -Wshadow -Wmissing-prototypes -Wstrict-prototypes \
              -Wno-missing-field-initializers
# src/ has one directory (room) per pipeline stage; src/README.md says which room may include which,
# and scripts/check-layers.sh holds every build to it. Every room is on the include path.
ROOMS      := $(patsubst src/%/,%,$(sort $(dir $(wildcard src/*/*.[ch]))))
ROOM_INCS  := $(ROOMS:%=-Isrc/%)
ALL_CFLAGS := $(CFLAGS) $(WARNFLAGS) -std=gnu11 -D_GNU_SOURCE -Iinclude $(ROOM_INCS) -I$(OUT) \
              -DSCORCH_VERSION='"$(VERSION)"' -MMD -MP
LDLIBS     := -lbpf -ldw -lelf -lunwind-$(shell uname -m) -lunwind -lzstd -lz -lm -liberty -lstdc++
ifneq ($(SANITIZE),)
ALL_CFLAGS += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS    += -fsanitize=$(SANITIZE)
endif

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

SRCS       := $(wildcard src/*/*.c)
HDRS       := $(wildcard src/*/*.h)
OBJS       := $(SRCS:src/%.c=$(OBJDIR)/%.o)
# Everything but the commands is one library, linked by the program, the unit tests and the tools;
# the fuzzers link the same sources built again with coverage and sanitizers.
LIB_SRCS   := $(filter-out src/cmd/%,$(SRCS))
LIB_OBJS   := $(LIB_SRCS:src/%.c=$(OBJDIR)/%.o)
CMD_OBJS   := $(filter $(OBJDIR)/cmd/%,$(OBJS))
LIB        := $(OUT)/libscorch.a
FUZZ_LIB   := $(OUT)/fuzz/libscorch-fuzz.a
FUZZ_OBJS  := $(LIB_SRCS:src/%.c=$(OUT)/fuzz/obj/%.o)
BPF_SRCS   := $(wildcard bpf/*.bpf.c)
BPF_OBJS   := $(BPF_SRCS:bpf/%.bpf.c=$(OUT)/%.bpf.o)
SKELS      := $(BPF_SRCS:bpf/%.bpf.c=$(OUT)/%.skel.h)

UNIT_SRCS  := $(wildcard tests/unit/test_*.c)
UNIT_BINS  := $(UNIT_SRCS:tests/unit/%.c=$(OUT)/tests/%)
WORKLOADS  := $(wildcard tests/workloads/*.c)
WL_BINS    := $(WORKLOADS:tests/workloads/%.c=$(OUT)/workloads/%)
FUZZ_SRCS  := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS  := $(FUZZ_SRCS:tests/fuzz/%.c=$(OUT)/fuzz/%)

.DELETE_ON_ERROR:
.SUFFIXES:
.SECONDARY:
.PHONY: all deps deps-test demo test test-unit test-cli test-e2e test-fuzz test-valgrind fuzz install uninstall clean \
        unit workloads fuzzers bench bench-report

all: $(OUT)/scorch $(OUT)/layers.ok

deps:
	$(Q)scripts/install-deps.sh build

deps-test:
	$(Q)scripts/install-deps.sh test

# --- the program ---------------------------------------------------------------------------------

$(OUT)/scorch: $(CMD_OBJS) $(LIB)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $(CMD_OBJS) $(LIB) $(LDLIBS)

$(LIB): $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(OBJDIR)/%.o: src/%.c | $(OBJDIR)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

# The layering rule of src/README.md: an #include pointing back up the pipeline fails the build.
$(OUT)/layers.ok: $(SRCS) $(HDRS) src/README.md scripts/check-layers.sh | $(OUT)
	$(call msg,LAYERS,src/README.md)
	$(Q)scripts/check-layers.sh src
	$(Q)touch $@

# The sampler is the only object that includes a BPF skeleton.
$(OBJDIR)/capture/sampler.o: $(SKELS)

$(OUT)/vmlinux.h: | $(OUT)
	$(call msg,BTF,$@)
	$(Q)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@

$(OUT)/%.bpf.o: bpf/%.bpf.c $(OUT)/vmlinux.h | $(OUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Werror -Iinclude -I$(OUT) \
		-MMD -MP -c $< -o $@

$(OUT)/%.skel.h: $(OUT)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

$(OUT) $(OBJDIR) $(OUT)/tests $(OUT)/workloads $(OUT)/fuzz:
	$(Q)mkdir -p $@

# --- tests -----------------------------------------------------------------------------------------

TOOL_SRCS  := $(wildcard tests/tools/*.c)
TOOL_BINS  := $(TOOL_SRCS:tests/tools/%.c=$(OUT)/tests/%)

unit: $(UNIT_BINS) $(TOOL_BINS)
workloads: $(WL_BINS)
fuzzers: $(FUZZ_BINS)

$(OUT)/tests/%: tests/unit/%.c $(LIB) | $(OUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(LIB) -lcmocka $(LDLIBS)

# The options module lives with the commands, outside the library.
$(OUT)/tests/test_options: tests/unit/test_options.c $(OBJDIR)/cmd/options.o $(OBJDIR)/cmd/cli.o $(LIB) | $(OUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(OBJDIR)/cmd/options.o $(OBJDIR)/cmd/cli.o $(LIB) -lcmocka $(LDLIBS)

$(OUT)/tests/%: tests/tools/%.c $(LIB) | $(OUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

# Workloads have known call chains: frame pointers on, no inlining, no sibling calls. -O0 because
# GCC 12 leaves leaf functions without a frame even with -mno-omit-leaf-frame-pointer.
WL_CFLAGS := -O0 -g -fno-omit-frame-pointer -mno-omit-leaf-frame-pointer -fno-inline \
             -fno-optimize-sibling-calls -pthread
# py_hostile exports its fake interpreter's symbols, as an interpreter does.
$(OUT)/workloads/py_hostile: WL_LDFLAGS := -rdynamic
# The off-CPU workload is built as distributions build: optimised, without frame pointers.
$(OUT)/workloads/offcpu: WL_CFLAGS := -O2 -g -fomit-frame-pointer -fno-inline -fno-optimize-sibling-calls -pthread
$(OUT)/workloads/%: tests/workloads/%.c Makefile | $(OUT)/workloads
	$(call msg,CC,$@)
	$(Q)$(CC) $(WL_CFLAGS) $(WL_LDFLAGS) -o $@ $< -lm -ldl

# libFuzzer harnesses link the library built again with coverage instrumentation and sanitizers.
FUZZ_CFLAGS := -g -O1 -std=gnu11 -D_GNU_SOURCE -Iinclude $(ROOM_INCS) -I$(OUT) -fsanitize=fuzzer,address,undefined \
               -DSCORCH_VERSION='"$(VERSION)"' -MMD -MP
$(OUT)/fuzz/obj/%.o: src/%.c
	$(call msg,FUZZ-CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(FUZZ_CFLAGS:-fsanitize=fuzzer,%=-fsanitize=fuzzer-no-link,%) -c $< -o $@
$(OUT)/fuzz/obj/capture/sampler.o: $(SKELS)
$(FUZZ_LIB): $(FUZZ_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^
$(OUT)/fuzz/%: tests/fuzz/%.c $(FUZZ_LIB) | $(OUT)/fuzz
	$(call msg,FUZZ-CC,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_LIB) $(LDLIBS)

test: deps-test
	$(Q)$(MAKE) --no-print-directory all unit workloads fuzzers
	$(Q)OUT=$(OUT) tests/run.sh

test-unit: all unit
	$(Q)OUT=$(OUT) tests/run.sh unit
test-cli: all unit workloads
	$(Q)OUT=$(OUT) tests/run.sh cli
test-e2e: all workloads
	$(Q)OUT=$(OUT) tests/run.sh e2e
test-fuzz: fuzzers
	$(Q)OUT=$(OUT) tests/run.sh fuzz

# The unit tests under valgrind's memcheck: any error or leak fails. Tests that start the sandbox's
# seccomp-filtered child skip themselves there (tests/unit/under_valgrind.h); the ASan build runs them.
test-valgrind:
	$(Q)scripts/install-deps.sh valgrind
	$(Q)$(MAKE) --no-print-directory unit
	$(Q)OUT=$(OUT) VALGRIND=1 tests/run.sh unit

# Longer fuzzing runs: FUZZ_SECONDS per harness.
FUZZ_SECONDS ?= 60
fuzz: fuzzers
	$(Q)for f in $(FUZZ_BINS); do \
		n=$$(basename $$f); mkdir -p tests/fuzz/corpus-$$n; \
		echo "fuzz: $$n for $(FUZZ_SECONDS)s"; \
		$$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 tests/fuzz/corpus-$$n tests/fuzz/seeds/$${n#fuzz_} || exit 1; \
	done

# --- demo --------------------------------------------------------------------------------------------

demo: deps
	$(Q)$(MAKE) --no-print-directory all $(OUT)/workloads/demo
	$(Q)scripts/demo.sh $(OUT)

bench: all workloads
	$(Q)scripts/bench/overhead.sh

# Time and memory of report, folded, flamegraph and export on a large synthetic profile.
bench-report: all unit
	$(Q)OUT=$(OUT) scripts/bench/report.sh

# --- install -----------------------------------------------------------------------------------------

bashcompdir ?= $(prefix)/share/bash-completion/completions

install: all
	install -d $(DESTDIR)$(bindir) $(DESTDIR)$(mandir)/man1 $(DESTDIR)$(mandir)/man5 $(DESTDIR)$(bashcompdir)
	install -m 0755 $(OUT)/scorch $(DESTDIR)$(bindir)/scorch
	install -m 0644 scripts/scorch-completion.bash $(DESTDIR)$(bashcompdir)/scorch
	install -m 0644 man/*.1 $(DESTDIR)$(mandir)/man1/
	install -m 0644 man/*.5 $(DESTDIR)$(mandir)/man5/

uninstall:
	rm -f $(DESTDIR)$(bindir)/scorch $(DESTDIR)$(bashcompdir)/scorch
	cd man && for f in *.1; do rm -f $(DESTDIR)$(mandir)/man1/$$f; done
	cd man && for f in *.5; do rm -f $(DESTDIR)$(mandir)/man5/$$f; done

clean:
	rm -rf build build-san

-include $(wildcard $(OBJS:.o=.d) $(FUZZ_OBJS:.o=.d) $(OUT)/*.d $(OUT)/tests/*.d)
