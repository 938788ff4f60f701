# hetsurv: hand-written GNU make.  `make help` lists the targets.
.DELETE_ON_ERROR:
.SUFFIXES:
.DEFAULT_GOAL := all

VERSION := 0.1.0
PREFIX ?= /usr/local

# mpicc unless the user chose a compiler (make predefines CC, so ?= would not work).
ifeq ($(origin CC),default)
CC := mpicc
endif

PKGS := gsl cunit hdf5-openmpi openslide libtiff-4 libpng libgcrypt cairo libdeflate
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

OPT ?= -O3
CFLAGS ?= $(OPT) -g
WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
ALL_CFLAGS := -std=c11 -D_GNU_SOURCE -DHS_VERSION='"$(VERSION)"' $(WARN) -I. $(PKG_CFLAGS) $(CFLAGS)
LIBS := $(PKG_LIBS) -lcsv -lm -pthread
SAN := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

ifeq ($(V),1)
Q :=
else
Q := @
endif

B := build
LIB_SRC := $(sort $(wildcard util/*.c cohorts/*.c stats/*.c scoring/*.c mpi/*.c slurm/*.c figures/*.c report/*.c))
CLI_SRC := hetsurv.c $(sort $(wildcard cli/*.c))
UNIT_SRC := $(sort $(wildcard tests/unit/*.c))
TOOL_SRC := $(sort $(wildcard tests/tools/*.c))

LIB_OBJ := $(LIB_SRC:%.c=$(B)/obj/%.o)
CLI_OBJ := $(CLI_SRC:%.c=$(B)/obj/%.o)
UNIT_OBJ := $(UNIT_SRC:%.c=$(B)/obj/%.o)
SAN_LIB_OBJ := $(LIB_SRC:%.c=$(B)/san/%.o)
SAN_UNIT_OBJ := $(UNIT_SRC:%.c=$(B)/san/%.o)
TOOLS := $(TOOL_SRC:tests/tools/%.c=$(B)/%)

.PHONY: all deps check unit unit-asan oracle cli-test demo bench install clean help fuzz-build fuzz

all: $(B)/hetsurv

$(B)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(if $(Q),@echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(B)/san/%.o: %.c
	@mkdir -p $(@D)
	$(if $(Q),@echo "  CC/SAN  $<")
	$(Q)$(CC) $(ALL_CFLAGS) -O1 $(SAN) -MMD -MP -c -o $@ $<

$(B)/libhetsurv.a: $(LIB_OBJ)
	$(if $(Q),@echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

$(B)/libhetsurv-san.a: $(SAN_LIB_OBJ)
	$(Q)rm -f $@ && ar rcs $@ $^

$(B)/hetsurv: $(CLI_OBJ) $(B)/libhetsurv.a
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $(CLI_OBJ) $(B)/libhetsurv.a $(LIBS)

$(B)/test_unit: $(UNIT_OBJ) $(B)/libhetsurv.a
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $(UNIT_OBJ) $(B)/libhetsurv.a $(LIBS)

$(B)/test_unit_san: $(SAN_UNIT_OBJ) $(B)/libhetsurv-san.a
	$(if $(Q),@echo "  LD/SAN  $@")
	$(Q)$(CC) $(ALL_CFLAGS) $(SAN) -o $@ $(SAN_UNIT_OBJ) $(B)/libhetsurv-san.a $(LIBS)

$(B)/%: tests/tools/%.c $(B)/libhetsurv.a
	@mkdir -p $(@D)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(ALL_CFLAGS) -MMD -MP -o $@ $< $(B)/libhetsurv.a $(LIBS)

# libFuzzer harnesses (tests/fuzz/fuzz_*.c): the library built again with clang, ASan and UBSan, in $(B)/fuzz.
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 600
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -DHS_VERSION='"$(VERSION)"' $(WARN) -I. $(PKG_CFLAGS) \
               $(shell pkg-config --cflags ompi 2>/dev/null) -O1 -g $(FUZZ_SAN)
FUZZ_LIBS := $(LIBS) $(shell pkg-config --libs ompi 2>/dev/null)
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_LIB_OBJ := $(LIB_SRC:%.c=$(B)/fuzz/obj/%.o)
FUZZERS := $(FUZZ_SRC:tests/fuzz/%.c=$(B)/fuzz/%)

$(B)/fuzz/obj/%.o: %.c
	@mkdir -p $(@D)
	$(if $(Q),@echo "  CC/FUZZ $<")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c -o $@ $<

$(B)/fuzz/libhetsurv-fuzz.a: $(FUZZ_LIB_OBJ)
	$(Q)rm -f $@ && ar rcs $@ $^

$(B)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_common.h $(B)/fuzz/libhetsurv-fuzz.a
	$(if $(Q),@echo "  LD/FUZZ $@")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -MMD -MP -o $@ $< $(B)/fuzz/libhetsurv-fuzz.a $(FUZZ_LIBS)

fuzz-build: $(FUZZERS)

# Long fuzzing runs: FUZZ_SECONDS per harness (default 600); `make check` runs each for 30 s.
fuzz: deps
	@$(MAKE) --no-print-directory fuzz-build
	@rm -f $(B)/fuzz/tally
	@FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run.sh $(B) $(B)/fuzz/tally
	@tests/summary.sh $(B)/fuzz/tally

# Debian packages the build, the tests and the R oracle need.  Installs only what is missing.
DEB_PKGS := build-essential pkg-config libopenmpi-dev openmpi-bin libhdf5-openmpi-dev libgsl-dev \
            libcsv-dev libcunit1-dev libopenslide-dev libtiff-dev libpng-dev libgcrypt20-dev hdf5-tools libdeflate-dev \
            r-base-core r-cran-survival r-cran-maxstat python3-skimage time \
            libcairo2-dev fonts-dejavu-core poppler-utils libxml2-utils \
            chromium python3-pil valgrind clang libclang-rt-14-dev
deps:
	@missing=$$(for p in $(DEB_PKGS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | \
	  grep -q '^install ok installed$$' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "make deps: installing $$missing"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	else echo "make deps: all packages present"; fi

# Every check prints its own tally; tests/summary.sh adds them into one closing line.
check: deps
	@$(MAKE) --no-print-directory all $(B)/test_unit $(B)/test_unit_san $(TOOLS)
	@rm -f $(B)/tally
	@tests/run_unit.sh $(B)/test_unit unit $(B)/tally
	@ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 tests/run_unit.sh $(B)/test_unit_san unit-asan $(B)/tally
	@tests/oracle/run.sh $(B) $(B)/tally
	@tests/cli/run.sh $(B) $(B)/tally
	@tests/repro/run.sh $(B) $(B)/tally
	@tests/repro/decode.sh $(B) $(B)/tally
	@tests/repro/outputs.sh $(B) $(B)/tally
	@tests/repro/csv.sh $(B) $(B)/tally
	@tests/repro/valgrind.sh $(B) $(B)/tally
	@FAULT_KILLS=$(CHECK_FAULT_KILLS) tests/faults/run.sh $(B) $(B)/tally
	@tests/fuzz/run.sh $(B) $(B)/tally
	@tests/figures/run.sh $(B) $(B)/tally
	@tests/figures/maps.sh $(B) $(B)/tally
	@tests/scoring/run.sh $(B) $(B)/tally
	@tests/run/run.sh $(B) $(B)/tally
	@tests/report/run.sh $(B) $(B)/tally
	@tests/slurm/run.sh $(B) $(B)/tally
	@tests/summary.sh $(B)/tally

# Fault injection (tests/faults/run.sh): `make check` kills the cohort run at CHECK_FAULT_KILLS random points (what
# fits in its time), `make faults` at FAULT_KILLS (default 100) points.
CHECK_FAULT_KILLS ?= 30
.PHONY: faults
faults:
	@$(MAKE) --no-print-directory all
	@rm -f $(B)/tally.faults
	@FAULT_KILLS=$${FAULT_KILLS:-100} tests/faults/run.sh $(B) $(B)/tally.faults
	@tests/summary.sh $(B)/tally.faults

demo: deps
	@$(MAKE) --no-print-directory all
	@./demo.sh $(B)

bench: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory $(B)/slide_decode
	@bench/run.sh $(B)
	@bench/score.sh $(B)
	@bench/cohort.sh $(B)
	@bench/slurm.sh $(B)

install: all
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 755 $(B)/hetsurv $(DESTDIR)$(PREFIX)/bin/hetsurv

clean:
	rm -rf $(B)

help:
	@echo "targets: deps all check fuzz fuzz-build demo bench install clean (V=1 for full commands; FUZZ_SECONDS=N)"

-include $(shell find $(B) -name '*.d' 2>/dev/null)
