# Gatehouse: one non-recursive GNU Makefile.
#   make            build bin/gatehouse, bin/gatehousectl, bin/mock-idp
#   make run        install missing Debian packages (as root), build, start the server
#   make test       the same set-up, then every test (unit, end-to-end, mock IdP)
#   make check-asan every test again against an AddressSanitizer + UBSan build
#   make bench      benchmark figures (prints, asserts nothing)
#   make fuzz       each libFuzzer target for FUZZ_SECONDS (clang 14; build-fuzz/)
#   make check-asan-quick  the unit tests and the fuzz corpora under ASan + UBSan (minutes)
#   make test-postgres  the end-to-end suite with every server on PostgreSQL instead of SQLite
#   make test-store-pg  the store's cmocka programs with GATEHOUSE_TEST_PG (a private PostgreSQL)
#   make deps       only the Debian packages; make lint / format / format-check / clean

CC ?= cc
PYTHON ?= /usr/bin/python3
CONF ?= conf/gatehouse.conf

PKGS = lasso glib-2.0 gobject-2.0 xmlsec1-openssl libxml-2.0 openssl libmicrohttpd liboath libargon2 libqrencode \
       inih jansson libcurl sqlite3 zlib p11-kit-1 gnutls libpq

# Debian packages: what the build needs, and what the tests drive it with.
BUILD_DEBS = build-essential pkg-config liblasso3-dev libxmlsec1-dev libxml2-dev libssl-dev \
             libmicrohttpd-dev liboath-dev libargon2-dev libqrencode-dev libinih-dev \
             libjansson-dev libcurl4-openssl-dev libsqlite3-dev zlib1g-dev libp11-kit-dev libgnutls28-dev
TEST_DEBS = libcmocka-dev python3 python3-pytest python3-requests faketime xmlsec1 oathtool \
            zbar-tools sqlite3 wrk apache2 libapache2-mod-auth-mellon libapache2-mod-shib openssl curl chromium nodejs
# Forward-auth is tested through a real nginx (auth_request) and a real Caddy (forward_auth).
TEST_DEBS += nginx caddy
# The password reset tests receive their e-mail with a real SMTP server.
TEST_DEBS += python3-aiosmtpd clang-format
# Customer-managed keys: a real PKCS#11 token (SoftHSM2) and OpenSC's pkcs11-tool to make its key.
TEST_DEBS += softhsm2 opensc
# The large federation of the IdP scale test and benchmark: thousands of X.509 certificates.
TEST_DEBS += python3-cryptography
# A real SimpleSAMLphp IdP for the interop tests (its DOM extension is in php-xml).
TEST_DEBS += simplesamlphp php libapache2-mod-php php-xml
# make install's test reviews the unit with systemd-analyze and the man pages with groff.
TEST_DEBS += systemd groff-base man-db
# Chromium trusts the TLS tests' private CA through an NSS database (certutil).
TEST_DEBS += libnss3-tools
# make fuzz: libFuzzer with clang 14 (make test replays the corpora with gcc).
TEST_DEBS += clang libfuzzer-14-dev libclang-rt-14-dev
# [store] driver = postgres links libpq; the tests start a private PostgreSQL 15 (tests/e2e/pg.py).
BUILD_DEBS += libpq-dev
TEST_DEBS += postgresql

WARN = -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wpointer-arith \
       -Wcast-qual -Wformat=2 -Wvla -Wwrite-strings -Wimplicit-fallthrough
BASE_CFLAGS = -std=c17 -D_GNU_SOURCE -g $(WARN) -fstack-protector-strong -fPIE -MMD -MP -I.
OPT_CFLAGS = -O2 -D_FORTIFY_SOURCE=2
ASAN_CFLAGS = -O1 -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer \
              -fno-optimize-sibling-calls

PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread

POLICY_SRC = $(wildcard policy/*.c)
# auth/ minus the two programs' main files: shared by the server, the CLI and the unit tests.
AUTH_LIB_SRC = $(filter-out auth/main.c auth/ctl.c,$(wildcard auth/*.c))
SP_SRC = $(wildcard sp/*.c)
MOCKIDP_SRC = $(wildcard sp/mockidp/*.c)
UNIT_SRC = $(wildcard tests/unit/test_*.c)
FUZZ_SRC = $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_HELPER_SRC = $(filter-out $(FUZZ_SRC) tests/fuzz/replay.c,$(wildcard tests/fuzz/*.c))

# $(1) = object dir, $(2) = bin dir, $(3) = extra CFLAGS
define FLAVOUR
$(1)/%.o: %.c
	@mkdir -p $$(dir $$@)
	@echo "  CC    $$@"
	@$$(CC) $$(BASE_CFLAGS) $(3) $$(PKG_CFLAGS) -c $$< -o $$@

$(1)/libgh.a: $$(patsubst %.c,$(1)/%.o,$$(POLICY_SRC) $$(AUTH_LIB_SRC) $$(SP_SRC))
	@mkdir -p $$(dir $$@)
	rm -f $$@ && ar rcs $$@ $$^

$(2)/gatehouse: $(1)/auth/main.o $(1)/libgh.a
	@mkdir -p $$(dir $$@)
	$$(CC) $(3) -pie $$^ $$(PKG_LIBS) -o $$@

$(2)/gatehousectl: $(1)/auth/ctl.o $(1)/libgh.a
	@mkdir -p $$(dir $$@)
	$$(CC) $(3) -pie $$^ $$(PKG_LIBS) -o $$@

$(2)/mock-idp: $$(patsubst %.c,$(1)/%.o,$$(MOCKIDP_SRC)) $(1)/libgh.a
	@mkdir -p $$(dir $$@)
	$$(CC) $(3) -pie $$^ $$(PKG_LIBS) -o $$@

$(1)/unit/%: $(1)/tests/unit/%.o $(1)/libgh.a
	@mkdir -p $$(dir $$@)
	$$(CC) $(3) -pie $$^ $$(PKG_LIBS) -lcmocka -o $$@

# A fuzz target with tests/fuzz/replay.c as its main: replays corpus files, no libFuzzer.
$(1)/fuzz/replay_%: $(1)/tests/fuzz/%.o $(1)/tests/fuzz/replay.o \
                    $$(patsubst %.c,$(1)/%.o,$$(FUZZ_HELPER_SRC)) $(1)/libgh.a
	@mkdir -p $$(dir $$@)
	$$(CC) $(3) -pie $$^ $$(PKG_LIBS) -o $$@

-include $$(shell find $(1) -name '*.d' 2>/dev/null)
endef

$(eval $(call FLAVOUR,build,bin,$(OPT_CFLAGS)))
$(eval $(call FLAVOUR,build-asan,build-asan/bin,$(ASAN_CFLAGS)))

PROGRAMS = gatehouse gatehousectl $(if $(MOCKIDP_SRC),mock-idp)
UNIT_TESTS = $(patsubst tests/unit/%.c,%,$(UNIT_SRC))
FUZZ_TARGETS = $(patsubst tests/fuzz/%.c,%,$(FUZZ_SRC))

.PHONY: all run test check check-asan bench deps test-deps lint format format-check clean \
        unit-bins unit-bins-asan install config man fuzz fuzz-bins fuzz-replay-bins \
        check-asan-quick test-postgres test-store-pg
.DEFAULT_GOAL := all

all: $(addprefix bin/,$(PROGRAMS))

unit-bins: $(addprefix build/unit/,$(UNIT_TESTS))
unit-bins-asan: $(addprefix build-asan/unit/,$(UNIT_TESTS))
fuzz-replay-bins: $(addprefix build-asan/fuzz/replay_,$(FUZZ_TARGETS))

# Installs missing packages when root; otherwise prints the exact command and stops.
deps:
	@sh tests/tools/deps.sh $(BUILD_DEBS)

test-deps:
	@sh tests/tools/deps.sh $(BUILD_DEBS) $(TEST_DEBS)
	@$(MAKE) --no-print-directory tests/browser/node_modules/.package-lock.json

# playwright-core for the browser tests, at the version package-lock.json records.
tests/browser/node_modules/.package-lock.json: tests/browser/package.json tests/browser/package-lock.json
	cd tests/browser && npm ci --no-audit --no-fund --loglevel=error

run: deps
	@$(MAKE) --no-print-directory all
	./bin/gatehouse -c $(CONF)

# The fuzz corpora are replayed by the sanitizer build (build-asan/fuzz/replay_*), once per file.
test: test-deps
	@$(MAKE) --no-print-directory all unit-bins fuzz-replay-bins
	@$(MAKE) --no-print-directory lint format-check
	@$(REPLAY_ENV) PYTHON=$(PYTHON) sh tests/run.sh bin build/unit build-asan/fuzz

check: test

# The end-to-end suite again with every server the harness makes on a fresh database of one
# private PostgreSQL (tests/e2e/pg.py); tests about SQLite itself are skipped with their reason.
test-postgres: test-deps
	@$(MAKE) --no-print-directory all unit-bins
	@mkdir -p test-artifacts
	GATEHOUSE_TEST_STORE=postgres GATEHOUSE_BIN_DIR=$(CURDIR)/bin GATEHOUSE_TOP=$(CURDIR) \
	  $(PYTHON) -m pytest -q -p no:cacheprovider -rs --junitxml=test-artifacts/pytest-postgres.xml \
	  tests/e2e

# The store's cmocka programs (build/unit/test_store_*) with GATEHOUSE_TEST_PG naming a fresh
# database of a private PostgreSQL, so the conformance suite runs against both drivers.
test-store-pg: test-deps
	@$(MAKE) --no-print-directory unit-bins
	@for t in build/unit/test_store_*; do \
	  $(PYTHON) tests/e2e/pg.py run -- $$t || exit 1; done

check-asan: test-deps
	@$(MAKE) --no-print-directory $(addprefix build-asan/bin/,$(PROGRAMS)) unit-bins-asan \
	  fuzz-replay-bins
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:fast_unwind_on_malloc=0 UBSAN_OPTIONS=print_stacktrace=1 \
	  LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0 \
	  PYTHON=$(PYTHON) sh tests/run.sh build-asan/bin build-asan/unit build-asan/fuzz

# CI's sanitizer pass in minutes: the cmocka programs and the fuzz corpora under ASan + UBSan
# (leaks included), not the end-to-end suites (make check-asan runs those too, for ~an hour).
check-asan-quick: test-deps
	@$(MAKE) --no-print-directory unit-bins-asan fuzz-replay-bins
	@$(LEAK_ENV) RUN_E2E=0 PYTHON=$(PYTHON) sh tests/run.sh build-asan/bin build-asan/unit build-asan/fuzz

bench: test-deps
	@$(MAKE) --no-print-directory all build/bench/bench_argon2 build/bench/bench_acs \
	  build/bench/bench_secrets
	@if [ "$$BENCH_ONLY" != idpscale ]; then $(PYTHON) tests/bench/bench.py; fi
	@if [ "$$BENCH_ONLY" != idpscale ]; then $(PYTHON) tests/bench/bench_verify.py; fi
	@if [ -z "$$BENCH_ONLY" ] || [ "$$BENCH_ONLY" = idpscale ]; then $(PYTHON) tests/bench/bench_idpscale.py; fi
	@if [ -z "$$BENCH_ONLY" ] || [ "$$BENCH_ONLY" = nodes ]; then $(PYTHON) tests/bench/bench_nodes.py; fi

build/bench/bench_argon2 build/bench/bench_acs build/bench/bench_secrets: build/bench/%: tests/bench/%.c build/libgh.a
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(OPT_CFLAGS) $(PKG_CFLAGS) $< build/libgh.a $(PKG_LIBS) -o $@

# conf/gatehouse.conf is printed from auth/conf.c's settings table (tests/e2e/test_docs.py checks).
config: bin/gatehouse
	bin/gatehouse -p conf > conf/gatehouse.conf

# ---- fuzzing: libFuzzer (clang 14) over the product built with clang -Werror in build-fuzz/ ----
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_FLAGS ?=
FUZZ_SAN = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
# make test replays with leak checks off: fast (seconds), with fast unwinding. make check-asan-quick
# replays with them on, which needs full unwinding (tests/lsan.supp names lasso's own leaks by our
# wrappers around it, invisible to the fast unwinder) and costs ~20x the CPU.
REPLAY_ENV = ASAN_OPTIONS=detect_leaks=0:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1
LEAK_ENV = ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:fast_unwind_on_malloc=0 \
           UBSAN_OPTIONS=print_stacktrace=1 \
           LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0

build-fuzz/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CLANG $@"
	@$(FUZZ_CC) $(BASE_CFLAGS) -O1 -fsanitize=fuzzer-no-link $(FUZZ_SAN) $(PKG_CFLAGS) -c $< -o $@

build-fuzz/libgh.a: $(patsubst %.c,build-fuzz/%.o,$(POLICY_SRC) $(AUTH_LIB_SRC) $(SP_SRC))
	rm -f $@ && ar rcs $@ $^

build-fuzz/fuzz_%: build-fuzz/tests/fuzz/fuzz_%.o $(patsubst %.c,build-fuzz/%.o,$(FUZZ_HELPER_SRC)) \
                   build-fuzz/libgh.a
	$(FUZZ_CC) -fsanitize=fuzzer $(FUZZ_SAN) $^ $(PKG_LIBS) -o $@

fuzz-bins: $(addprefix build-fuzz/,$(FUZZ_TARGETS))

# Each target for FUZZ_SECONDS from its committed seeds (tests/fuzz/corpus/<target>/); what it
# finds new goes to build-fuzz/corpus/<target>/, a crashing input to build-fuzz/crash-<target>-*.
# One target: make fuzz FUZZ_TARGETS=fuzz_form. More libFuzzer flags: FUZZ_FLAGS=...
fuzz: test-deps
	@$(MAKE) --no-print-directory fuzz-bins
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p build-fuzz/corpus/$$t tests/fuzz/corpus/$$t; \
	  echo "fuzz: $$t for $(FUZZ_SECONDS) s"; \
	  $(REPLAY_ENV) build-fuzz/$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	    -artifact_prefix=build-fuzz/crash-$$t- $(FUZZ_FLAGS) build-fuzz/corpus/$$t \
	    tests/fuzz/corpus/$$t || exit 1; \
	done

-include $(shell find build-fuzz -name '*.d' 2>/dev/null)
.SECONDARY: $(foreach d,build-fuzz build-asan,$(patsubst %.c,$(d)/%.o,$(wildcard tests/fuzz/*.c)))

# curl's banned functions: none of these in product code.
lint:
	@if grep -nE '\<(atoi|atol|strcpy|strcat|sprintf|vsprintf|strtok|sscanf|gets)[[:space:]]*\(' \
	    auth/*.c policy/*.c sp/*.c sp/mockidp/*.c 2>/dev/null; then \
	  echo "lint: banned function above" >&2; exit 1; fi
	@$(MAKE) -s lint-owners

# One owner file per library (STYLE.md, curl's vtls): each check is "what@the files allowed
# (an extended regex on the path)@the library"; a match anywhere else in auth/, policy/ or
# sp/ (the mock IdP is a program of its own) fails.
LINT_OWNERS = \
  '\#include <microhttpd\.h>@auth/http\.c@libmicrohttpd' \
  '\#include <sqlite3\.h>@auth/store_sqlite[a-z_]*\.c@SQLite' \
  '\#include <libpq-fe\.h>@auth/store_pg\.c@libpq' \
  '\#include <liboath/@auth/totp\.c@liboath' \
  '\#include <qrencode\.h>@auth/totp\.c@libqrencode' \
  '\#include <(lasso|xmlsec|libxml)/@sp/[a-z_]+\.[ch]@lasso, xmlsec and libxml2' \
  '\#include <argon2\.h>@auth/pwhash\.c@argon2' \
  '\#include <curl/@auth/(smtp|fetch)\.c@libcurl' \
  '\#include <p11-kit/@auth/pkcs11\.c@PKCS\#11' \
  '\#include <ini\.h>@auth/conf\.c@inih' \
  '\#include <gnutls/@auth/tls\.c@GnuTLS' \
  '\#include <jansson\.h>@[a-z/_]+\.c@jansson (no header exposes it)' \
  '\<(RAND_bytes|RAND_priv_bytes|CRYPTO_memcmp)[[:space:]]*\(@auth/rand\.c|sp/[a-z_]+\.c@OpenSSL random and compare (auth/rand.h)'

.PHONY: lint-owners
lint-owners:
	@fail=0; for rule in $(LINT_OWNERS); do \
	  what=$${rule%%@*}; rest=$${rule#*@}; lib=$${rest#*@}; allowed=$${rest%%@*}; \
	  bad=$$(grep -lE "$$what" auth/*.[ch] policy/*.[ch] sp/*.[ch] 2>/dev/null | grep -vxE "$$allowed"); \
	  if [ -n "$$bad" ]; then echo "lint: $$lib used outside its owner ($$allowed):" $$bad >&2; fail=1; fi; \
	done; exit $$fail

format:
	clang-format -i auth/*.[ch] policy/*.[ch] $(wildcard sp/*.[ch] sp/mockidp/*.[ch]) tests/unit/*.c tests/bench/*.c \
	  tests/fuzz/*.[ch]

format-check:
	@clang-format --dry-run --Werror auth/*.[ch] policy/*.[ch] $(wildcard sp/*.[ch] sp/mockidp/*.[ch]) tests/unit/*.c tests/bench/*.c \
	  tests/fuzz/*.[ch]

# make install [PREFIX=/usr/local] [DESTDIR=staging dir]: programs, templates, man pages, the
# configuration (with the installed paths; an existing one is kept), the systemd unit and the
# sysusers.d entry of the gatehouse system user. tests/e2e/test_install.py installs into a temp dir.
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
DATADIR ?= $(PREFIX)/share
MANDIR ?= $(DATADIR)/man
SYSCONFDIR ?= /etc
STATEDIR ?= /var/lib/gatehouse
# Which build to install (the tests pass the one they test, e.g. build-asan/bin).
INSTALL_BIN ?= bin
UNITDIR ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(if $(filter /usr,$(PREFIX)),/usr/lib/sysusers.d,/etc/sysusers.d)
INSTALL_SUBST = -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
                -e 's|@STATEDIR@|$(STATEDIR)|g'

MAN_PAGES = build/man/gatehouse.8 build/man/gatehousectl.8 build/man/gatehouse.conf.5
man: $(MAN_PAGES)

build/man/gatehouse.8: man/gatehouse.8
	@mkdir -p $(dir $@)
	sed -e 's|/usr/local/share/gatehouse|$(DATADIR)/gatehouse|' $< > $@

# The settings section comes from the table the parser reads (gatehouse -p man).
build/man/gatehouse.conf.5: man/gatehouse.conf.5.in $(INSTALL_BIN)/gatehouse
	@mkdir -p $(dir $@)
	$(INSTALL_BIN)/gatehouse -p man > $@.settings
	sed -e '/^@SETTINGS@$$/{r $@.settings' -e 'd;}' $< > $@
	rm -f $@.settings

# The command list is gatehousectl's own usage text.
build/man/gatehousectl.8: man/gatehousectl.8.in $(INSTALL_BIN)/gatehousectl
	@mkdir -p $(dir $@)
	$(INSTALL_BIN)/gatehousectl 2>&1 | tail -n +2 | sed -e 's/\\/\\e/g' -e 's/-/\\-/g' -e "s/^[.']/\\\\\&&/" \
	  > $@.usage
	sed -e '/^@USAGE@$$/{r $@.usage' -e 'd;}' $< > $@
	rm -f $@.usage

install: $(INSTALL_BIN)/gatehouse $(INSTALL_BIN)/gatehousectl man
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(DATADIR)/gatehouse/templates \
	  $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(SYSCONFDIR)/gatehouse \
	  $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSUSERSDIR)
	install -m 755 $(INSTALL_BIN)/gatehouse $(INSTALL_BIN)/gatehousectl $(DESTDIR)$(BINDIR)/
	install -m 644 templates/*.html templates/*.css $(DESTDIR)$(DATADIR)/gatehouse/templates/
	install -m 644 build/man/gatehouse.8 build/man/gatehousectl.8 $(DESTDIR)$(MANDIR)/man8/
	install -m 644 build/man/gatehouse.conf.5 $(DESTDIR)$(MANDIR)/man5/
	sed $(INSTALL_SUBST) dist/gatehouse.service.in > build/gatehouse.service
	install -m 644 build/gatehouse.service $(DESTDIR)$(UNITDIR)/gatehouse.service
	sed $(INSTALL_SUBST) dist/sysusers.conf > build/gatehouse.sysusers
	install -m 644 build/gatehouse.sysusers $(DESTDIR)$(SYSUSERSDIR)/gatehouse.conf
	$(INSTALL_BIN)/gatehouse -p conf | sed -e 's|^templates = templates$$|templates = $(DATADIR)/gatehouse/templates|' \
	  -e 's|^\([a-z_]*\) = var/|\1 = $(STATEDIR)/|' > build/gatehouse.conf.installed
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/gatehouse/gatehouse.conf ]; then \
	  echo "kept $(DESTDIR)$(SYSCONFDIR)/gatehouse/gatehouse.conf (new defaults: build/gatehouse.conf.installed)"; \
	else install -m 640 build/gatehouse.conf.installed $(DESTDIR)$(SYSCONFDIR)/gatehouse/gatehouse.conf; fi
	@if [ -z "$(DESTDIR)" ]; then echo "next: systemd-sysusers; chgrp gatehouse" \
	  "$(SYSCONFDIR)/gatehouse/gatehouse.conf; systemctl daemon-reload; systemctl enable --now gatehouse"; fi

clean:
	rm -rf build build-asan build-fuzz bin test-artifacts

# Mutation run (issue 19; not part of make test): breaks each security check listed in
# tests/mutate/mutations.py in a scratch copy, rebuilds, runs the tests named for it.
# make mutate [MUTATE_ONLY=id,id]; see the README's "Mutation testing".
.PHONY: mutate
mutate:
	@$(PYTHON) tests/mutate/run.py $(if $(MUTATE_ONLY),--only $(MUTATE_ONLY))
