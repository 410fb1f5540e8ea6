# invite - build, test, demo. `make check` and `make demo` install what they need (Debian, as root).
SHELL := /bin/bash
.DEFAULT_GOAL := build

# Debian packages the build, the tests and the demo need.
DEB_PKGS := gcc make pkg-config lua5.1 liblua5.1-0-dev lua5.2 liblua5.2-dev lua5.3 liblua5.3-dev lua5.4 liblua5.4-dev luajit2 libluajit2-5.1-dev \
            libcurl4-openssl-dev libssl-dev lua-cjson lua-busted lua-argparse lua-socket \
            lua-check luarocks valgrind python3-botocore python3-boto3 awscli \
            nginx libnginx-mod-http-lua openssl perl lua-expat \
            lua-sec lua-ldoc lua-markdown cppcheck man-db clang libclang-rt-14-dev time curl \
            systemd python3-yaml

SRCS := src/core.c src/sigv4.c src/sigv4_binding.c src/curl_engine.c src/http_binding.c
HDRS := $(wildcard src/*.h)
WARN := -Wall -Wextra -Werror -Werror=implicit-function-declaration
# The version is written once, in lua/invite/version.lua; the C core gets it from there.
INVITE_VERSION := $(shell sed -n 's/^return "\(.*\)"$$/\1/p' lua/invite/version.lua)
CFLAGS_BASE := -std=c99 -fPIC -fvisibility=hidden -D_POSIX_C_SOURCE=200809L -DINVITE_VERSION='"$(INVITE_VERSION)"' $(WARN)
OPT ?= -O2 -g
LIBS := -lcrypto -lcurl
SANFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all

LUA_INC_5.4 := /usr/include/lua5.4
LUA_INC_5.1 := /usr/include/lua5.1
LUA_INC_5.2 := /usr/include/lua5.2
LUA_INC_5.3 := /usr/include/lua5.3
LUA_INC_luajit := /usr/include/luajit-2.1

.PHONY: deps build build-all check test asan valgrind demo bench clean lint rock docs fuzz bench-quick

deps:
	@missing=""; for p in $(DEB_PKGS) $(EXTRA_PKGS); do \
	  dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "make deps: installing$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

build: build/5.4/invite/core.so

build-all: build/5.1/invite/core.so build/5.2/invite/core.so build/5.3/invite/core.so build/5.4/invite/core.so build/luajit/invite/core.so build/asan/invite/core.so build/test/sigv4_test

build/%/invite/core.so: $(SRCS) $(HDRS) lua/invite/version.lua
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_BASE) $(OPT) -I$(LUA_INC_$*) -shared -o $@ $(SRCS) $(LIBS)

build/asan/invite/core.so: $(SRCS) $(HDRS) lua/invite/version.lua
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_BASE) $(SANFLAGS) -I$(LUA_INC_5.4) -shared -o $@ $(SRCS) $(LIBS)

# C-level unit test of the pure signer, built with the sanitizers.
build/test/sigv4_test: spec/core/sigv4_test.c src/sigv4.c src/sigv4.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_BASE) $(SANFLAGS) -Isrc -o $@ spec/core/sigv4_test.c src/sigv4.c -lcrypto

# Every test, one TAP stream per check/*.t script, summarised by prove; --timer prints each
# script's time. One script at a time by default: spec/project/secrets_spec.lua scans /tmp for
# secrets, and a second script running beside it leaves its own files there (CHECK_JOBS=2 halves
# the time but can fail that scan).
CHECK_JOBS ?= 1
check: deps build-all
	prove -j$(CHECK_JOBS) --timer --exec /bin/bash check/*.t

test: build
	busted

asan: deps build/asan/invite/core.so
	bash check/30-asan.t

# Every spec under valgrind memcheck (slow: CI runs it as a second step after `make check`, which
# runs a fast subset in check/40-valgrind.t).
valgrind: deps build/5.4/invite/core.so
	prove --exec /bin/bash check/valgrind-full

demo: deps build
	bash examples/demo.sh

build/bench/sign_floor: bench/sign_floor.c src/sigv4.c src/sigv4.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_BASE) -O2 -Isrc -o $@ bench/sign_floor.c src/sigv4.c -lcrypto

# libFuzzer harnesses of the signer's canonicalization and the response-header parser (fuzz/run.sh):
# `make fuzz` runs them for FUZZ_SECONDS in all and merges new coverage into fuzz/corpus/.
FUZZ_SECONDS ?= 300
fuzz: deps
	bash fuzz/run.sh $(FUZZ_SECONDS)

# Benchmarks beside the floors and peers: writes bench/RESULTS.md (bench/run.sh); the quick run writes
# build/bench/RESULTS-quick.md.
bench: deps build build/luajit/invite/core.so
	bash bench/run.sh
	lua5.4 bench/sim.lua

bench-quick: deps build build/luajit/invite/core.so
	bash bench/run.sh --quick

lint: deps
	LUAROCKS_CONFIG=luarocks-config.lua luarocks --lua-version 5.4 lint invite-scm-1.rockspec
	LUAROCKS_CONFIG=luarocks-config.lua luarocks --lua-version 5.4 lint invite-0.1.0-1.rockspec
	luacheck .
	bash tools/cppcheck.sh

# API reference (LDoc) under docs/api/ and the CLI manual docs/invite.1, both generated.
docs: deps
	bash tools/docs.sh

rock: deps
	LUAROCKS_CONFIG=luarocks-config.lua luarocks --lua-version 5.4 make --tree=build/rocktree invite-scm-1.rockspec

clean:
	rm -rf build

# invite.core for `luarocks make` (the rockspecs' build.type = "make", build_target = "rock-core"):
# luarocks passes CC, CFLAGS, LIBFLAG, LUA_INCDIR and the OPENSSL_/CURL_ INCDIR/LIBDIR of the Lua it
# builds for; by hand, `make rock-core` builds for 5.4 (LUA_INCDIR=/usr/include/lua5.1 for another).
# The core goes to build/rock/invite/core.so (build.install.lib copies it into the rock), never to the
# checkout root or src/, where package.cpath's ./?.so would find it. Always rebuilt (phony), so a core
# built for one Lua is never installed into another Lua's tree. Not `rock`: that target runs luarocks.
ROCK_CORE := build/rock/invite/core.so
CFLAGS ?= -O2 -fPIC
LIBFLAG ?= -shared
LUA_INCDIR ?= $(LUA_INC_5.4)
ROCK_INCDIRS = $(foreach d,$(LUA_INCDIR) $(OPENSSL_INCDIR) $(CURL_INCDIR),-I$(d))
ROCK_LIBDIRS = $(foreach d,$(OPENSSL_LIBDIR) $(CURL_LIBDIR),-L$(d))

.PHONY: rock-core
rock-core:
	@mkdir -p $(dir $(ROCK_CORE))
	$(CC) $(CFLAGS) $(CFLAGS_BASE) $(ROCK_INCDIRS) \
	  $(LIBFLAG) -o $(ROCK_CORE) src/core.c src/sigv4.c src/sigv4_binding.c src/curl_engine.c src/http_binding.c $(ROCK_LIBDIRS) -lcrypto -lcurl

# The Lua modules of the two rocks, copied by `luarocks make` (the rockspecs' install_target, with
# install_variables LUADIR = the rock's lua/ directory), so that no rockspec lists modules: a new
# module under lua/ is installed by adding its file. rock-install (invite-*.rockspec, the library)
# copies the lua/ tree but the simulator; sim-install (invite-sim-*.rockspec) copies the simulator,
# lua/invite/sim/ and its command's module lua/invite/cli/sim.lua. Each .lua file under lua/ goes to
# exactly one of the two, at LUADIR/<its path under lua/> (spec/project/rockspec_spec.lua checks). By hand:
# `make rock-install LUADIR=/tmp/x`. rock-sim installs invite-sim beside `make rock`'s invite.
# With PREFIX (luarocks passes the rock's own directory, lib/luarocks/rocks-5.x/invite/VERSION/ of
# the tree) rock-install also copies what is no module: the manual page as PREFIX/man/man1/invite.1,
# the example policies (examples/*.lua), the demo fixture (examples/fixtures/org.json) and the
# scheduler examples (examples/deploy/) under PREFIX/examples/, where lua/invite/examples.lua finds
# them (`invite sim --example`). A new example policy needs no line here either.
ROCK_DATA = docs/invite.1 $(sort $(wildcard examples/*.lua)) examples/fixtures/org.json $(sort $(wildcard examples/deploy/*))
SIM_LUA = $(sort $(shell find lua/invite/sim -name '*.lua') lua/invite/cli/sim.lua)
LIB_LUA = $(filter-out $(SIM_LUA),$(sort $(shell find lua -name '*.lua')))

define copy_lua
	@test -n "$(LUADIR)" || { echo "make $@: LUADIR= is required (luarocks passes the rock's lua directory)" >&2; exit 2; }
	@for f in $(patsubst lua/%,%,$(1)); do \
	  mkdir -p "$(LUADIR)/$$(dirname "$$f")" && cp "lua/$$f" "$(LUADIR)/$$f" && chmod 644 "$(LUADIR)/$$f" || exit 1; \
	done
	@echo "make $@: $(words $(1)) Lua modules into $(LUADIR)"
endef

.PHONY: rock-install sim-install rock-sim
rock-install:
	$(call copy_lua,$(LIB_LUA))
	@if [ -n "$(PREFIX)" ]; then \
	  for f in $(ROCK_DATA); do \
	    case "$$f" in docs/invite.1) d="$(PREFIX)/man/man1/invite.1" ;; *) d="$(PREFIX)/$$f" ;; esac; \
	    mkdir -p "$$(dirname "$$d")" && cp "$$f" "$$d" && chmod 644 "$$d" || exit 1; \
	  done; \
	  echo "make $@: the manual page and $(words $(filter examples/%,$(ROCK_DATA))) example files into $(PREFIX)"; \
	fi

sim-install:
	$(call copy_lua,$(SIM_LUA))

rock-sim: rock
	LUAROCKS_CONFIG=luarocks-config.lua luarocks --lua-version 5.4 make --tree=build/rocktree invite-sim-scm-1.rockspec
