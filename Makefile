# pit-auth: make | make test | make demo | make bench | make fuzz | make deb |
#           make clean
#
# Core (libpit) and pitctl build with -Wall -Wextra -Werror; the nginx
# module builds with nginx's own flags through the top-level `config`.

CC       ?= cc
CFLAGS   ?= -O2 -g
PIT_CFLAGS = -std=gnu11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
             -fPIC -D_FORTIFY_SOURCE=2 -Icore
LDLIBS_CORE = -lhiredis -ljansson -lcrypto
LDLIBS_PITCTL = -lmicrohttpd -lpthread -lm

BUILD    := build
CORE_SRCS := $(sort $(wildcard core/*.c))
CORE_HDRS := $(wildcard core/*.h)
CORE_OBJS := $(patsubst core/%.c,$(BUILD)/core/%.o,$(CORE_SRCS))
PITCTL_SRCS := $(sort $(wildcard scripts/pitctl*.c))
PITCTL_HDRS := $(wildcard scripts/pitctl*.h)
MODULE_SRCS := $(wildcard ngx_module/*.c ngx_module/*.h)
UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/unit/%,$(UNIT_SRCS))

MODULE   := $(BUILD)/ngx_http_pit_auth_module.so
PROVE_ARGS ?= -r tests/t

.PHONY: all deps module test unit unit-valgrind prove demo demo-stop bench \
        clean fuzz bench-smoke soak test-asan test-valgrind deb fleet \
        fleet-diagram test-nginx-matrix test-nginx-suite test-browser

all: $(BUILD)/libpit.a $(BUILD)/pitctl $(MODULE)

deps:
	@sh scripts/install-deps.sh

$(BUILD)/core/%.o: core/%.c $(CORE_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(PIT_CFLAGS) -c -o $@ $<

$(BUILD)/libpit.a: $(CORE_OBJS)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/pitctl: $(PITCTL_SRCS) $(PITCTL_HDRS) $(BUILD)/libpit.a
	$(CC) $(CPPFLAGS) $(CFLAGS) $(PIT_CFLAGS) $(LDFLAGS) -Iscripts -o $@ \
	    $(PITCTL_SRCS) $(BUILD)/libpit.a $(LDLIBS_CORE) $(LDLIBS_PITCTL)

module: $(MODULE)

$(MODULE): config $(CORE_SRCS) $(CORE_HDRS) $(MODULE_SRCS) \
           scripts/build-module.sh
	@mkdir -p $(BUILD)
	bash scripts/build-module.sh

$(BUILD)/unit/%: tests/unit/%.c $(BUILD)/libpit.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PIT_CFLAGS) -Wno-unused-parameter -o $@ $< \
	    $(BUILD)/libpit.a $(LDLIBS_CORE) -lcmocka

unit: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; $$t; done

unit-valgrind: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do \
	    echo "== valgrind $$t"; \
	    valgrind -q --error-exitcode=99 --leak-check=full \
	        --errors-for-leak-kinds=definite,indirect $$t >/dev/null; \
	done; echo "valgrind: unit tests clean"

# PIT_REQUIRE_BUILD=1: a missing build/pitctl or module fails the run
# (tests/t/lib/PitTest.pm) instead of skipping files.
prove: all
	PIT_REQUIRE_BUILD=1 prove $(PROVE_ARGS)

# The admin console (console/) in Debian's chromium, driven by playwright-core
# (tests/browser, `npm ci` by install-deps.sh) under node's test runner,
# against a real pitctl serve, redis-server and nginx on free loopback
# ports; screenshots of every screen at 1440 and 375 px in
# build/screenshots/.
# One test file at a time where node knows how (20.10 and later).
test-browser: deps
	$(MAKE) all
	@conc=; if node --test-concurrency=1 -e '' 2>/dev/null; then \
	    conc=--test-concurrency=1; fi; \
	echo "node --test $$conc tests/browser/"; \
	node --test $$conc tests/browser/

# The Debian packages libnginx-mod-http-pit-auth and pit-auth-tools, built
# by dpkg-buildpackage (debian/, dh_nginx) from a copy of the tree in
# build/deb/src; the .debs land in build/deb/, checked by lintian.
deb: deps
	bash scripts/build-deb.sh

# One command on a fresh machine: install what is missing, build, test.
# As root the packages are built too: tests/t/deb_package.t installs them.
test: deps
	$(MAKE) all
	@if [ "$$(id -u)" -eq 0 ]; then $(MAKE) deb; fi
	$(MAKE) unit
	$(MAKE) unit-valgrind
	$(MAKE) prove
	$(MAKE) test-browser
	$(MAKE) fleet FLEET_SHORT=1
	$(MAKE) fuzz FUZZ_SECONDS=$(TEST_FUZZ_SECONDS)
	$(MAKE) soak SOAK_SECONDS=$(TEST_SOAK_SECONDS)
	$(MAKE) bench-smoke

# libFuzzer (clang, ASan + UBSan) on every parser in core: FUZZ_SECONDS per
# target; `make test` runs each for TEST_FUZZ_SECONDS.  Any crash fails.
FUZZ_SECONDS ?= 60
TEST_FUZZ_SECONDS ?= 10
FUZZ_TARGETS ?=

fuzz: deps
	bash tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# Soak with an oracle (tests/soak/soak.pl): SOAK_SECONDS of load at about
# 70% of peak while pitctl changes integrations every 100 ms; `make test`
# runs TEST_SOAK_SECONDS.
SOAK_SECONDS ?= 300
TEST_SOAK_SECONDS ?= 30

soak: deps
	$(MAKE) all
	perl tests/soak/soak.pl $(SOAK_SECONDS)

# The prove suite against nginx built from Debian's source package with
# ASan + UBSan and -DNGX_DEBUG_PALLOC=1, the module built in; and with the
# stock nginx + module under valgrind.  Any report fails.
test-asan: deps
	$(MAKE) all
	bash scripts/asan-nginx.sh test

test-valgrind: deps
	$(MAKE) all
	bash scripts/asan-nginx.sh valgrind

# The fleet (tests/fleet/fleet.pl): a primary, 2 replicas, 3 Sentinels and
# 3 nginx on loopback; revocation fleet-wide, a partitioned replica, a
# primary failover under load; table in build/fleet.md.  FLEET_SHORT=1 (the
# run inside `make test`) takes under 2 minutes.  Sentinel support in nginx
# and pitctl is required (PIT_REQUIRE_FLEET=1): without it the run still
# measures what it can by address, then fails.
FLEET_SHORT ?=
PIT_REQUIRE_FLEET ?= 1

fleet: all
	FLEET_SHORT=$(FLEET_SHORT) PIT_REQUIRE_FLEET=$(PIT_REQUIRE_FLEET) \
	    perl tests/fleet/fleet.pl

# Redraws docs/fleet.svg (committed) from scripts/fleet-diagram.sh.
fleet-diagram:
	sh scripts/fleet-diagram.sh > docs/fleet.svg

# The module against nginx 1.30.4 and 1.31.4 built from tests/nginx/
# (--with-compat, the module dynamic): builds, then the whole prove suite
# against each (Debian's 1.22.1 is what `make test` runs).
test-nginx-matrix: deps
	$(MAKE) all
	bash scripts/nginx-matrix.sh test

# nginx's own tests (tests/nginx/nginx-tests-*.tar.gz) against Debian's
# 1.22.1 and the matrix's builds, without and with the module loaded (and
# with pit_auth_redis set): any difference between the runs fails.
test-nginx-suite: deps
	$(MAKE) all
	bash scripts/nginx-suite.sh

demo: deps
	$(MAKE) all
	bash scripts/demo.sh start

demo-stop:
	bash scripts/demo.sh stop

bench: deps
	$(MAKE) all
	bash tests/bench/run.sh

# Every bench case for 2 s, status codes only (no timing): part of make test.
bench-smoke: all
	BENCH_SMOKE=1 bash tests/bench/run.sh

clean:
	rm -rf $(BUILD)
