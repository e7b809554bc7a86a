# bpfiter: BPF programs -> skeletons -> C core -> Lua module.
#
#   make          build build/bpfiter/core.so and build/libbpfiter.a
#   make deps     install the Debian packages everything here needs (root)
#   make demo     build + a report of this machine (needs root)
#   make check    build + the specs (needs root)
#   make asan     the specs against an AddressSanitizer build
#   make fuzz     the stream decoders under libFuzzer (FUZZ_SECONDS, default 300)
#   make bench    benchmarks against /proc parsing, ps, lfs
#   make install  PREFIX (/usr/local), DESTDIR: module, CLI, header,
#                 libbpfiter.a, bpfiter.pc; `make uninstall` removes them
#   make rock     build/bpfiter-VERSION-1.src.rock, installable offline
#   make docs     docs/bpfiter.1, docs/bpfiter.d.lua (LuaCATS) and the LDoc
#                 reference build/docs/html, from the core's declarations

VERSION   := $(shell sed -n 's/^\#define BPFITER_VERSION "\(.*\)"/\1/p' csrc/bpfiter.h)
LUA       ?= lua5.4
BUSTED    ?= busted
BPFTOOL   ?= $(shell command -v bpftool 2>/dev/null || echo /usr/sbin/bpftool)
CLANG     ?= clang
LLVM_STRIP ?= llvm-strip
CC        ?= gcc
B         ?= build
LUA_INCDIR ?= $(shell pkg-config --variable=includedir lua5.4 2>/dev/null || echo /usr/include)/lua5.4
LIBBPF_CFLAGS := $(shell pkg-config --cflags libbpf 2>/dev/null)
LIBBPF_LIBS   := $(shell pkg-config --libs libbpf 2>/dev/null || echo -lbpf)
LUA_LIBS      := $(shell pkg-config --libs lua5.4 2>/dev/null || echo -llua5.4 -lm -ldl)
ARCH      := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/;s/ppc64le/powerpc/;s/s390x/s390/')

CFLAGS    ?= -O2 -g
# Sources by concern: csrc/{core,targets,collectors,util} and
# bpf/{common,targets,collectors}; headers are included by bare name.
CSRC_DIRS := csrc csrc/core csrc/targets csrc/collectors csrc/util
BPF_DIRS  := bpf/common bpf/targets bpf/collectors
BPF_INCS  := $(BPF_DIRS:%=-I%)
MODULE_CFLAGS := -std=gnu11 -fPIC -fvisibility=hidden -Wall -Wextra -Werror -I$(LUA_INCDIR) -I$(B) $(BPF_INCS) $(CSRC_DIRS:%=-I%) $(LIBBPF_CFLAGS)
LIBFLAG   ?= -shared
BPF_CFLAGS := -target bpf -g -O2 -D__TARGET_ARCH_$(ARCH) -Wall -Werror -I$(B) $(BPF_INCS)

BPF_SRCS  := $(foreach d,bpf/targets bpf/collectors,$(wildcard $(d)/*.bpf.c))
BPF_PROGS := $(notdir $(BPF_SRCS:.bpf.c=))
SKELS     := $(BPF_PROGS:%=$(B)/%.skel.h)
C_HEADERS := $(foreach d,$(CSRC_DIRS),$(wildcard $(d)/*.h))
BPF_HEADERS := $(foreach d,$(BPF_DIRS),$(wildcard $(d)/*.h))
CORE_SRCS := $(filter-out csrc/core/embed.c,$(foreach d,$(CSRC_DIRS),$(wildcard $(d)/*.c)))
CORE_OBJS := $(CORE_SRCS:csrc/%.c=$(B)/obj/%.o)
vpath %.bpf.c bpf/targets bpf/collectors
LUA_FILES := $(wildcard lua/bpfiter/*.lua)

DEBIAN_PACKAGES := lua5.4 liblua5.4-dev libbpf-dev bpftool clang llvm lua-busted \
	luarocks libelf-dev zlib1g-dev pkg-config make gcc libc6-dev lua-cjson \
	lua-filesystem util-linux procps iproute2 vmtouch libclang-rt-14-dev zip unzip \
	lua-luv prometheus curl python3 lua-ldoc man-db groff-base

.SECONDARY:
.PHONY: all deps demo check asan bench install install-lua install-man uninstall rock clean fixtures docs fuzz fuzz-build fuzz-smoke
all: $(B)/bpfiter/core.so $(B)/libbpfiter.a

$(B) $(B)/bpfiter:
	mkdir -p $@

# The kernel's own BTF when it has one; the checked-in copy otherwise.
$(B)/vmlinux.h: | $(B)
	if [ -r /sys/kernel/btf/vmlinux ] && $(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@.tmp; \
	then mv $@.tmp $@; else echo "using bpf/common/vmlinux.fallback.h"; cp bpf/common/vmlinux.fallback.h $@; fi

# Embedded objects keep BTF (CO-RE needs it) but lose DWARF: a tenth the size.
$(B)/%.bpf.o: %.bpf.c $(BPF_HEADERS) $(B)/vmlinux.h Makefile
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@.tmp
	$(LLVM_STRIP) -g $@.tmp && mv $@.tmp $@

# task_nosleep.bpf.c is task.bpf.c built for older kernels.
$(B)/task_nosleep.bpf.o: bpf/targets/task.bpf.c
# cgroup_ and vma_nokfunc.bpf.c: the same without kfunc externs (< 6.7).
$(B)/cgroup_nokfunc.bpf.o: bpf/targets/cgroup.bpf.c
$(B)/vma_nokfunc.bpf.o: bpf/targets/vma.bpf.c bpf/targets/vma_fill.bpf.h

$(B)/%.skel.h: $(B)/%.bpf.o
	$(BPFTOOL) gen skeleton $< name $*_bpf > $@.tmp && mv $@.tmp $@

$(B)/obj/%.o: csrc/%.c $(C_HEADERS) $(BPF_HEADERS) $(SKELS) Makefile | $(B)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(MODULE_CFLAGS) -c $< -o $@

$(B)/bpfiter/core.so: $(CORE_OBJS) | $(B)/bpfiter
	$(CC) $(LIBFLAG) -o $@ $(CORE_OBJS) $(LIBBPF_LIBS)

# The Lua layer but the CLI (lua/bpfiter/cli/ and export.lua, its fleet
# commands), init.lua first (luaopen_bpfiter loads it).
EMBEDDED_LUA := lua/bpfiter/init.lua $(filter-out lua/bpfiter/init.lua lua/bpfiter/export.lua,$(LUA_FILES))
$(B)/init_lua.c: $(EMBEDDED_LUA) csrc/core/embed.lua | $(B)
	$(LUA) csrc/core/embed.lua $@ $(EMBEDDED_LUA)

$(B)/init_lua.o: $(B)/init_lua.c csrc/core/embedded_lua.h Makefile
	$(CC) $(CFLAGS) $(MODULE_CFLAGS) -c $< -o $@

# One relocatable object whose internal names are local: a host linking the
# archive meets only the API csrc/bpfiter.h declares (BPFITER_API).
# The core with the experiments bench/ measures (csrc: #ifdef
# BPFITER_EXPERIMENTS, in the files named here), for bench/vmas_open.lua
# and the spec that checks its walk (a fixture: tests load it in a child).
EXP_SRCS := csrc/targets/registry.c csrc/targets/vmas.c
EXP_OBJS := $(filter-out $(EXP_SRCS:csrc/%.c=$(B)/obj/%.o),$(CORE_OBJS)) $(EXP_SRCS:csrc/%.c=$(B)/exp/obj/%.o)
$(B)/exp/obj/%.o: csrc/%.c $(C_HEADERS) $(BPF_HEADERS) $(SKELS) Makefile | $(B)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(MODULE_CFLAGS) -DBPFITER_EXPERIMENTS -c $< -o $@

$(B)/exp/bpfiter/core.so: $(EXP_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(LIBFLAG) -o $@ $(EXP_OBJS) $(LIBBPF_LIBS)

$(B)/libbpfiter.a: $(CORE_OBJS) $(B)/obj/core/embed.o $(B)/init_lua.o
	$(LD) -r -o $(B)/bpfiter-all.o $^
	objcopy --localize-hidden $(B)/bpfiter-all.o
	rm -f $@ && ar rcs $@ $(B)/bpfiter-all.o

# Test programs: every spec/*.c is a fixture specs spawn (ground truth),
# built as $(B)/NAME; and the embedding host.
FIXTURES := $(patsubst spec/%.c,$(B)/%,$(filter-out spec/%.bpf.c spec/%.so.c,$(wildcard spec/*.c)))
$(B)/%: spec/%.c $(wildcard spec/*.h) | $(B)
	$(CC) -O2 -g -Wall -Wextra -Werror -pthread -o $@ $<

# LD_PRELOAD shims: spec/NAME.so.c -> $(B)/NAME.so
SHIMS := $(patsubst spec/%.so.c,$(B)/%.so,$(wildcard spec/*.so.c))
$(B)/%.so: spec/%.so.c | $(B)
	$(CC) -O2 -g -Wall -Wextra -Werror -shared -fPIC -o $@ $< -ldl

# BPF fixtures: spec/NAME.bpf.c -> $(B)/spec-NAME.bpf.o, objects specs load
# with bpftool (e.g. maps whose values have BTF).
SPEC_BPF := $(patsubst spec/%.bpf.c,$(B)/spec-%.bpf.o,$(wildcard spec/*.bpf.c))
$(B)/spec-%.bpf.o: spec/%.bpf.c $(wildcard spec/*.bpf.h) $(BPF_HEADERS) $(B)/vmlinux.h
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(B)/host: examples/host.c csrc/bpfiter.h $(B)/libbpfiter.a
	$(CC) $(CFLAGS) $(MODULE_CFLAGS) -o $@ $< $(B)/libbpfiter.a $(LIBBPF_LIBS) $(LUA_LIBS)

fixtures: $(FIXTURES) $(SHIMS) $(SPEC_BPF) $(B)/host $(B)/exp/bpfiter/core.so

# Installs missing Debian packages only; quiet when everything is present.
deps:
	@missing=""; for p in $(DEBIAN_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get install -y -q --no-install-recommends $$missing || \
	  { apt-get update -q && apt-get install -y -q --no-install-recommends $$missing; }; \
	fi

# The specs leave no programs pinned behind: the program cache is off for
# them but for the spec that tests it (in a private bpffs).
SPEC_ENV = BPFITER_PROGRAM_CACHE= LUA_PATH="$(CURDIR)/lua/?.lua;$(CURDIR)/lua/?/init.lua;$(CURDIR)/spec/?.lua;;" \
	LUA_CPATH="$(CURDIR)/$(B)/?.so;;" BPFITER_BUILD="$(CURDIR)/$(B)"

demo: all
	$(SPEC_ENV) $(LUA) bin/bpfiter report

check: all fixtures
	$(SPEC_ENV) $(BUSTED) --lua=$(LUA) spec
	$(MAKE) fuzz-smoke

# The suite against a build with AddressSanitizer (and UBSan); the
# interpreter is not instrumented, so the runtime is preloaded.
asan:
	$(MAKE) B=build-asan CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer" \
		LIBFLAG="-shared -fsanitize=address,undefined" all fixtures
	$(MAKE) B=build-asan _asan_run

_asan_run:
	LD_PRELOAD="$$($(CC) -print-file-name=libasan.so) $$($(CC) -print-file-name=libubsan.so)" \
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	$(SPEC_ENV) $(BUSTED) --lua=$(LUA) spec

# The stream decoders of every target under libFuzzer, ASan and UBSan
# (fuzz/stream_fuzz.c): the core is rebuilt with clang in build-fuzz.
# fuzz/corpus holds captured streams (fuzz/capture.lua) and every input
# that once crashed (fuzz/corpus/regressions); new finds go to
# build-fuzz/corpus and crashes to build-fuzz/crash-*.
FUZZ_SECONDS ?= 300
FUZZ_B := build-fuzz
FUZZ_FLAGS = -max_total_time=$(FUZZ_SECONDS) -timeout=10 -max_len=70000 -len_control=20 -rss_limit_mb=2048 -print_final_stats=1 \
	-artifact_prefix=$(FUZZ_B)/
FUZZ_CORPUS := $(sort $(wildcard fuzz/corpus/*))
FUZZ_ENV := ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1

fuzz-build:
	$(MAKE) B=$(FUZZ_B) CC=clang \
		CFLAGS="-O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer" \
		$(FUZZ_B)/stream_fuzz

fuzz: fuzz-build
	mkdir -p $(FUZZ_B)/corpus
	$(FUZZ_ENV) $(FUZZ_B)/stream_fuzz $(FUZZ_FLAGS) $(FUZZ_B)/corpus $(FUZZ_CORPUS)

# What make check runs: every committed input once, then a short search
# (FUZZ_SMOKE_SECONDS, default 20).
fuzz-smoke: fuzz-build
	$(FUZZ_ENV) $(FUZZ_B)/stream_fuzz -runs=0 $(FUZZ_CORPUS)
	$(MAKE) fuzz FUZZ_SECONDS=$(or $(FUZZ_SMOKE_SECONDS),20)

$(B)/stream_fuzz: fuzz/stream_fuzz.c $(CORE_OBJS)
	$(CC) $(CFLAGS) -fsanitize=fuzzer,address,undefined $(MODULE_CFLAGS) -o $@ $< $(CORE_OBJS) \
		$(LIBBPF_LIBS) $(LUA_LIBS)

bench: all fixtures
	$(SPEC_ENV) $(LUA) bench/run.lua
	$(SPEC_ENV) $(LUA) bench/epoll.lua
	$(SPEC_ENV) $(LUA) bench/cache_activity.lua
	$(SPEC_ENV) $(LUA) bench/pagecache.lua
	$(SPEC_ENV) $(LUA) bench/metrics.lua
	$(SPEC_ENV) $(LUA) bench/scale.lua
	$(SPEC_ENV) $(LUA) bench/speed.lua
	$(SPEC_ENV) LUA_CPATH="$(CURDIR)/$(B)/exp/?.so;;" $(LUA) bench/vmas_open.lua

# Other kernels: Debian's own kernel packages (tools/kernel-package), the
# programs compiled against their BTF, the specs booted in them (vm/).
#   make check-btf [KERNEL=6.1|6.12]   every BPF program against that
#       kernel's vmlinux.h (both kernels when KERNEL is unset)
#   make vm-check KERNEL=6.1|6.12      the specs inside that kernel (QEMU)
#   make vm-smoke [KERNEL=6.1|6.12]    every target once in each kernel
# One build runs on every kernel (CO-RE), so the build compiles against
# the build machine's BTF only; check-btf proves the sources also compile
# against the others' types (no field a flavor struct should name).
KERNELS ?= 6.1 6.12
KERNEL_DEBIAN_PACKAGES := lz4 zstd xz-utils
VM_DEBIAN_PACKAGES := qemu-system-x86 busybox-static cpio kmod
KB := $(B)/kernels
# vm-check runs the whole suite (about 55 min per kernel under TCG);
# vm-smoke, what CI runs in both kernels, every target once and the
# README's support table (a few minutes). VM_SPECS picks other spec files.
VM_SMOKE := spec/13-discovery_spec.lua spec/14-kernels_spec.lua
VM_SPECS ?= spec
.PHONY: check-btf _check_btf vm-check vm-smoke

$(KB)/%/vmlinux:
	tools/kernel-package $* $(KB)/$*

$(KB)/%/vmlinux.h: $(KB)/%/vmlinux
	$(BPFTOOL) btf dump file $< format c > $@.tmp && mv $@.tmp $@

check-btf:
	@$(MAKE) --no-print-directory deps DEBIAN_PACKAGES="$(KERNEL_DEBIAN_PACKAGES)"
	@for k in $(or $(KERNEL),$(KERNELS)); do \
	  $(MAKE) --no-print-directory -k _check_btf KERNEL=$$k || exit 1; \
	  echo "check-btf: $(words $(BPF_PROGS)) BPF programs compile against $$(cat $(KB)/$$k/release)"; \
	done

# The suite as `make check` runs it, inside the kernel, against this
# machine's build (vm/run: QEMU, KVM if it boots, TCG otherwise).
vm-check:
	@$(MAKE) --no-print-directory deps DEBIAN_PACKAGES="$(KERNEL_DEBIAN_PACKAGES) $(VM_DEBIAN_PACKAGES)"
	@$(MAKE) --no-print-directory deps
	@$(MAKE) --no-print-directory all fixtures
	@for k in $(or $(KERNEL),$(KERNELS)); do \
	  $(MAKE) --no-print-directory $(KB)/$$k/vmlinux && \
	  vm/run $(KB)/$$k env $(SPEC_ENV) $(BUSTED) --lua=$(LUA) $(VM_SPECS) || exit 1; \
	done

vm-smoke:
	@$(MAKE) --no-print-directory vm-check VM_SPECS="$(VM_SMOKE)"

ifdef KERNEL
_check_btf: $(BPF_PROGS:%=$(KB)/$(KERNEL)/%.bpf.o)
$(KB)/$(KERNEL)/%.bpf.o: %.bpf.c $(BPF_HEADERS) $(KB)/$(KERNEL)/vmlinux.h
	$(CLANG) $(subst -I$(B) ,-I$(KB)/$(KERNEL) ,$(BPF_CFLAGS)) -c $< -o $@
endif

PREFIX      ?= /usr/local
DESTDIR     ?=
INST_LIBDIR ?= $(PREFIX)/lib/lua/5.4
INST_LUADIR ?= $(PREFIX)/share/lua/5.4
INST_BINDIR ?= $(PREFIX)/bin
INST_INCDIR ?= $(PREFIX)/include
INST_ARDIR  ?= $(PREFIX)/lib
INST_PCDIR  ?= $(INST_ARDIR)/pkgconfig
LUA_TREE    := $(shell cd lua && find bpfiter -name '*.lua' | sort)

# The rock installs install-lua: the core, the Lua layer and the CLI (which
# finds its modules relative to itself); `make install` adds what embedding
# hosts need.
install-lua: $(B)/bpfiter/core.so
	install -d $(DESTDIR)$(INST_LIBDIR)/bpfiter $(DESTDIR)$(INST_BINDIR)
	install -m 0755 $(B)/bpfiter/core.so $(DESTDIR)$(INST_LIBDIR)/bpfiter/core.so
	for f in $(LUA_TREE); do install -D -m 0644 lua/$$f $(DESTDIR)$(INST_LUADIR)/$$f || exit 1; done
	install -m 0755 bin/bpfiter $(DESTDIR)$(INST_BINDIR)/bpfiter

install: install-lua install-man $(B)/libbpfiter.a $(B)/bpfiter.pc
	install -D -m 0644 csrc/bpfiter.h $(DESTDIR)$(INST_INCDIR)/bpfiter.h
	install -D -m 0644 $(B)/libbpfiter.a $(DESTDIR)$(INST_ARDIR)/libbpfiter.a
	install -D -m 0644 $(B)/bpfiter.pc $(DESTDIR)$(INST_PCDIR)/bpfiter.pc

uninstall:
	rm -f $(DESTDIR)$(INST_LIBDIR)/bpfiter/core.so $(DESTDIR)$(INST_BINDIR)/bpfiter \
		$(DESTDIR)$(INST_INCDIR)/bpfiter.h $(DESTDIR)$(INST_ARDIR)/libbpfiter.a \
		$(DESTDIR)$(INST_PCDIR)/bpfiter.pc $(DESTDIR)$(INST_MANDIR)/man1/bpfiter.1
	rm -f $(LUA_TREE:%=$(DESTDIR)$(INST_LUADIR)/%)
	-rmdir -p $(DESTDIR)$(INST_LIBDIR)/bpfiter $(DESTDIR)$(INST_PCDIR) $(DESTDIR)$(INST_MANDIR)/man1 $(DESTDIR)$(INST_BINDIR) $(DESTDIR)$(INST_INCDIR) $(sort $(dir $(LUA_TREE:%=$(DESTDIR)$(INST_LUADIR)/%))) 2>/dev/null

# Made at every install: PREFIX may differ from the last one.
$(B)/bpfiter.pc: rockspec/bpfiter.pc.in csrc/bpfiter.h FORCE | $(B)
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@INCDIR@|$(INST_INCDIR:$(PREFIX)/%=$${prefix}/%)|' \
		-e 's|@LIBDIR@|$(INST_ARDIR:$(PREFIX)/%=$${prefix}/%)|' \
		-e 's|@VERSION@|$(VERSION)|' $< > $@

# A source rock: the versioned rockspec and the tree's archive under the
# name its source.url ends with, so luarocks installs it offline. The
# archive is of the working tree as it is (git stash create), committed or not.
ROCKSPEC := rockspec/bpfiter-$(VERSION)-1.rockspec
rock: | $(B)
	rm -rf $(B)/rock-pack && mkdir -p $(B)/rock-pack
	tree=$$(git stash create); git archive --format=tar.gz --prefix=bpfiter-$(VERSION)/ \
		-o $(B)/rock-pack/v$(VERSION).tar.gz $${tree:-HEAD}
	cp $(ROCKSPEC) $(B)/rock-pack/
	rm -f $(B)/bpfiter-$(VERSION)-1.src.rock
	cd $(B)/rock-pack && zip -q -r ../bpfiter-$(VERSION)-1.src.rock .
	@echo "$(B)/bpfiter-$(VERSION)-1.src.rock"

# Docs, made by tools/gendocs.lua from the core's target, option and field
# declarations, the CLI's commands and init.lua's doc comments. The man page
# and the LuaCATS file are committed (a rock's users get them without the
# generator; spec 17 checks they are current); the LDoc HTML is built.
INST_MANDIR ?= $(PREFIX)/share/man
DOCS_OUT    := $(B)/docs
docs: all
	mkdir -p $(DOCS_OUT)
	$(SPEC_ENV) $(LUA) tools/gendocs.lua $(DOCS_OUT)
	cp $(DOCS_OUT)/bpfiter.1 $(DOCS_OUT)/bpfiter.d.lua docs/
	cd $(DOCS_OUT) && ldoc -c config.ld -d html . >/dev/null
	@echo "$(DOCS_OUT)/html/index.html, docs/bpfiter.1, docs/bpfiter.d.lua"

install-man:
	install -D -m 0644 docs/bpfiter.1 $(DESTDIR)$(INST_MANDIR)/man1/bpfiter.1

FORCE:

clean:
	rm -rf build build-asan build-fuzz
