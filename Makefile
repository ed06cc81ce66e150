# nsbox: one binary that is unshare, nsenter, lxc-attach and pivot_root.
#
#   make deps     install what the tests and the demo need (Debian, as root)
#   make build    build ./nsbox (static with musl-gcc if present, else static
#                 glibc, else dynamic) and links in ./bin
#   make test     unit tests, root tests and the bats workflows
#   make bench    nsbox against util-linux/LXC/bwrap, alternating runs
#   make demo     a container from scratch out of a busybox rootfs
#   make install  PREFIX=/usr/local: the binary and its links
#   make man      man pages and shell completions into ./doc

GO      ?= go
PREFIX  ?= /usr/local
BENCH_N ?= 200
TAGS    := osusergo,netgo
LINKS   := unshare nsenter lxc-attach pivot_root

SOURCES := $(shell find . -name '*.go' -not -path './test/*') nsexec.c nsexec_errno.h go.mod go.sum

# musl's static start-up is about a millisecond cheaper than glibc's here,
# and start-up is what nsbox is measured on.
MUSL := $(shell command -v musl-gcc 2>/dev/null)

.PHONY: all build deps test test-go test-bats bench demo install man clean fmt vet

all: build

build: nsbox bin/unshare

nsbox: $(SOURCES)
	@if [ -n "$(MUSL)" ] && CC=musl-gcc CGO_ENABLED=1 $(GO) build -tags $(TAGS) -trimpath \
		-ldflags '-s -w -linkmode external -extldflags -static' -o $@.tmp . 2>/dev/null; then \
		echo "built $@ (static, musl)"; \
	elif CGO_ENABLED=1 $(GO) build -tags $(TAGS) -trimpath \
		-ldflags '-s -w -linkmode external -extldflags -static' -o $@.tmp . 2>/dev/null; then \
		echo "built $@ (static, glibc)"; \
	else \
		CGO_ENABLED=1 $(GO) build -tags $(TAGS) -trimpath -ldflags '-s -w' -o $@.tmp . && \
		echo "built $@ (dynamic)"; \
	fi
	@mv $@.tmp $@

bin/unshare: nsbox
	@mkdir -p bin
	@for l in $(LINKS); do ln -sf ../nsbox bin/$$l; done

nsexec_errno.h: nsexec/errno_gen.go
	$(GO) run nsexec/errno_gen.go > $@

# Debian packages the tests, the demo and the benchmark use.
PACKAGES := bats busybox-static util-linux uidmap musl-tools strace procps \
	psmisc iproute2 bubblewrap lxc lxc-templates lxc-tests tmux time
# The unprivileged user the rootless tests run as, with subordinate ids.
TEST_USER := nsbox-test

deps:
	@missing=$$(for p in $(PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing:" $$missing; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends $$missing >/dev/null; \
	fi
	@id $(TEST_USER) >/dev/null 2>&1 || useradd -m -s /bin/sh $(TEST_USER)
	@grep -q '^$(TEST_USER):' /etc/subuid 2>/dev/null || echo '$(TEST_USER):200000:65536' >> /etc/subuid
	@grep -q '^$(TEST_USER):' /etc/subgid 2>/dev/null || echo '$(TEST_USER):200000:65536' >> /etc/subgid

fmt:
	@test -z "$$(gofmt -l .)" || { gofmt -l .; echo "gofmt: files above need formatting"; exit 1; }

vet:
	$(GO) vet ./...

test: deps build fmt vet test-go test-bats

test-go: build
	NSBOX=$(CURDIR)/nsbox $(GO) test -count=1 ./...

test-bats: build
	NSBOX=$(CURDIR)/nsbox bats --print-output-on-failure test/bats

bench: deps build
	$(GO) run ./test/bench -nsbox ./nsbox -n $(BENCH_N)

demo: deps build
	@sh test/demo.sh ./nsbox

install: build
	install -D -m 0755 nsbox $(DESTDIR)$(PREFIX)/bin/nsbox
	@for l in $(LINKS); do ln -sf nsbox $(DESTDIR)$(PREFIX)/bin/$$l; done
	@if [ -d doc/man ]; then for m in doc/man/*.[18]; do \
		install -D -m 0644 $$m $(DESTDIR)$(PREFIX)/share/man/man$${m##*.}/$$(basename $$m); done; fi
	@if [ -d doc/completion ]; then \
		for c in doc/completion/bash/*; do install -D -m 0644 $$c $(DESTDIR)$(PREFIX)/share/bash-completion/completions/$$(basename $$c); done; \
		for c in doc/completion/fish/*; do install -D -m 0644 $$c $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/$$(basename $$c); done; fi

man:
	$(GO) run ./applets/gendocs -out doc

clean:
	rm -rf nsbox nsbox.tmp bin doc
