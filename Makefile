# bpfiter: BPF programs -> skeletons -> C core -> Lua module.
#
#   make          build build/bpfiter/core.so and build/libbpfiter.a
#   make deps     install the Debian packages everything here needs
#   make demo     deps + build + a report of this machine (needs root)
#   make check    deps + build + the specs (needs root)
#   make asan     the specs against an AddressSanitizer build
#   make bench    benchmarks against /proc parsing, ps, lfs
#   make install  used by luarocks (INST_LIBDIR, INST_LUADIR, INST_BINDIR)

LUA       ?= lua5.4
BUSTED    ?= busted
BPFTOOL   ?= $(shell command -v bpftool 2>/dev/null || echo /usr/sbin/bpftool)
CLANG     ?= clang
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
MODULE_CFLAGS := -std=gnu11 -fPIC -Wall -Wextra -Werror -I$(LUA_INCDIR) -I$(B) $(BPF_INCS) $(CSRC_DIRS:%=-I%) $(LIBBPF_CFLAGS)
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
	lua-filesystem util-linux procps iproute2 vmtouch libclang-rt-14-dev

.SECONDARY:
.PHONY: all deps demo check asan bench install clean fixtures
all: $(B)/bpfiter/core.so $(B)/libbpfiter.a

$(B) $(B)/bpfiter:
	mkdir -p $@

# The kernel's own BTF when it has one; the checked-in copy otherwise.
$(B)/vmlinux.h: | $(B)
	if [ -r /sys/kernel/btf/vmlinux ] && $(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@.tmp; \
	then mv $@.tmp $@; else echo "using bpf/common/vmlinux.fallback.h"; cp bpf/common/vmlinux.fallback.h $@; fi

$(B)/%.bpf.o: %.bpf.c $(BPF_HEADERS) $(B)/vmlinux.h
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(B)/%.skel.h: $(B)/%.bpf.o
	$(BPFTOOL) gen skeleton $< name $*_bpf > $@.tmp && mv $@.tmp $@

$(B)/obj/%.o: csrc/%.c $(C_HEADERS) $(BPF_HEADERS) $(SKELS) | $(B)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(MODULE_CFLAGS) -c $< -o $@

$(B)/bpfiter/core.so: $(CORE_OBJS) | $(B)/bpfiter
	$(CC) $(LIBFLAG) -o $@ $(CORE_OBJS) $(LIBBPF_LIBS)

# The Lua layer but the CLI, init.lua first (luaopen_bpfiter loads it).
EMBEDDED_LUA := lua/bpfiter/init.lua $(filter-out lua/bpfiter/init.lua lua/bpfiter/cli.lua,$(LUA_FILES))
$(B)/init_lua.c: $(EMBEDDED_LUA) csrc/core/embed.lua | $(B)
	$(LUA) csrc/core/embed.lua $@ $(EMBEDDED_LUA)

$(B)/init_lua.o: $(B)/init_lua.c csrc/core/embedded_lua.h
	$(CC) $(CFLAGS) $(MODULE_CFLAGS) -c $< -o $@

$(B)/libbpfiter.a: $(CORE_OBJS) $(B)/obj/core/embed.o $(B)/init_lua.o
	rm -f $@ && ar rcs $@ $^

# Test programs: every spec/*.c is a fixture specs spawn (ground truth),
# built as $(B)/NAME; and the embedding host.
FIXTURES := $(patsubst spec/%.c,$(B)/%,$(filter-out spec/%.bpf.c,$(wildcard spec/*.c)))
$(B)/%: spec/%.c $(wildcard spec/*.h) | $(B)
	$(CC) -O2 -g -Wall -Wextra -Werror -pthread -o $@ $<

# BPF fixtures: spec/NAME.bpf.c -> $(B)/spec-NAME.bpf.o, objects specs load
# with bpftool (e.g. maps whose values have BTF).
SPEC_BPF := $(patsubst spec/%.bpf.c,$(B)/spec-%.bpf.o,$(wildcard spec/*.bpf.c))
$(B)/spec-%.bpf.o: spec/%.bpf.c $(B)/vmlinux.h
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(B)/host: examples/host.c csrc/bpfiter.h $(B)/libbpfiter.a
	$(CC) $(CFLAGS) $(MODULE_CFLAGS) -o $@ $< $(B)/libbpfiter.a $(LIBBPF_LIBS) $(LUA_LIBS)

fixtures: $(FIXTURES) $(SPEC_BPF) $(B)/host

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

SPEC_ENV = LUA_PATH="$(CURDIR)/lua/?.lua;$(CURDIR)/lua/?/init.lua;$(CURDIR)/spec/?.lua;;" \
	LUA_CPATH="$(CURDIR)/$(B)/?.so;;" BPFITER_BUILD="$(CURDIR)/$(B)"

demo: deps
	$(MAKE) all
	$(SPEC_ENV) $(LUA) bin/bpfiter report

check: deps
	$(MAKE) all fixtures
	$(SPEC_ENV) $(BUSTED) --lua=$(LUA) spec

# The suite against a build with AddressSanitizer (and UBSan); the
# interpreter is not instrumented, so the runtime is preloaded.
asan: deps
	$(MAKE) B=build-asan CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer" \
		LIBFLAG="-shared -fsanitize=address,undefined" all fixtures
	$(MAKE) B=build-asan _asan_run

_asan_run:
	LD_PRELOAD="$$($(CC) -print-file-name=libasan.so) $$($(CC) -print-file-name=libubsan.so)" \
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	$(SPEC_ENV) $(BUSTED) --lua=$(LUA) spec

bench: deps
	$(MAKE) all fixtures
	$(SPEC_ENV) $(LUA) bench/run.lua
	$(SPEC_ENV) $(LUA) bench/epoll.lua
	$(SPEC_ENV) $(LUA) bench/cache_activity.lua
	$(SPEC_ENV) $(LUA) bench/pagecache.lua

# Other kernels: Debian's own kernel packages (tools/kernel-package), the
# programs compiled against their BTF, the specs booted in them (vm/).
#   make check-btf [KERNEL=6.1|6.12]   every BPF program against that
#       kernel's vmlinux.h (both kernels when KERNEL is unset)
#   make vm-check KERNEL=6.1|6.12      the specs inside that kernel (QEMU)
# One build runs on every kernel (CO-RE), so the build compiles against
# the build machine's BTF only; check-btf proves the sources also compile
# against the others' types (no field a flavor struct should name).
KERNELS ?= 6.1 6.12
KERNEL_DEBIAN_PACKAGES := lz4 zstd xz-utils
VM_DEBIAN_PACKAGES := qemu-system-x86 busybox-static cpio
KB := $(B)/kernels
# TCG is slow and the CPUs are shared: the discovery and smoke specs by
# default (every target once); VM_SPECS=spec for the whole suite.
VM_SPECS ?= spec/13-discovery_spec.lua spec/14-kernels_spec.lua
.PHONY: check-btf _check_btf vm-check

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

ifdef KERNEL
_check_btf: $(BPF_PROGS:%=$(KB)/$(KERNEL)/%.bpf.o)
$(KB)/$(KERNEL)/%.bpf.o: %.bpf.c $(BPF_HEADERS) $(KB)/$(KERNEL)/vmlinux.h
	$(CLANG) $(subst -I$(B) ,-I$(KB)/$(KERNEL) ,$(BPF_CFLAGS)) -c $< -o $@
endif

INST_LIBDIR ?= /usr/local/lib/lua/5.4
INST_LUADIR ?= /usr/local/share/lua/5.4
INST_BINDIR ?= /usr/local/bin
# What the rock installs: the core, the Lua layer and the CLI. libbpfiter.a
# is for embedding hosts (examples/host.c) and is not needed here.
install: $(B)/bpfiter/core.so
	install -d $(INST_LIBDIR)/bpfiter $(INST_LUADIR)/bpfiter $(INST_BINDIR)
	install -m 0755 $(B)/bpfiter/core.so $(INST_LIBDIR)/bpfiter/core.so
	install -m 0644 $(LUA_FILES) $(INST_LUADIR)/bpfiter/
	install -m 0755 bin/bpfiter $(INST_BINDIR)/bpfiter

clean:
	rm -rf build build-asan
