# `make run` and `make test` do all set-up on a fresh machine.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
export DJANGO_SETTINGS_MODULE ?= config.settings.local

# Debian packages the platform needs: Pango for WeasyPrint, CJK fonts for the PDFs,
# gettext to compile translations, Chromium for the browser tests, nginx for the
# several-process cluster (make run-cluster and its tests), and for audio and video
# Janus (the media server, with its VideoRoom plugin), janus-tools (janus-pp-rec turns
# its recordings into files) and coturn (the TURN relay).
SYSTEM_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 fonts-noto-cjk gettext chromium nginx-light janus janus-tools coturn

# Served on a listen backlog of 1,024 (Twisted's default of 50 drops connection
# attempts when every client reconnects at once after a restart: docs/performance.md).
# WebSocket limits set explicitly: a client frame is at most 64 KiB (a message body is
# at most 4,000 characters), and a silent peer is dropped within 35 s, so presence
# shows a frozen client offline soon.
DAPHNE_FLAGS := --websocket-max-message-size 65536 --websocket-max-frame-size 65536 --ping-interval 15 --ping-timeout 20

.PHONY: run test check install install-test system-packages messages migrate pki seed run-cluster lint lock bench-desk bench-rooms bench-documents bench-media vendor clean

# run_platform writes Janus's files (var/media, see docs/media.md), starts this machine's
# Janus servers (coturn too where TURN_URLS is set) and daphne, and stops them all on
# Ctrl-C. Without Janus the platform serves text and the rooms say video is unavailable.
run: install system-packages messages migrate seed
	@echo ""
	@echo "Serving on http://127.0.0.1:8000  (demo logins above, password mediate-demo-2026)"
	@$(MANAGE) deliver_sms --where
	$(MANAGE) run_platform -- $(DAPHNE_FLAGS) -e tcp:8000:interface=127.0.0.1:backlog=1024 config.asgi:application

test: install-test system-packages messages frontend/node_modules/.installed
	DJANGO_SETTINGS_MODULE=config.settings.test $(BIN)/pytest $(PYTEST_ARGS)

# The edit-test loop: everything but the browser journeys and the multi-process fault
# clusters (both run in `make test` and CI).
check: install-test messages
	DJANGO_SETTINGS_MODULE=config.settings.test $(BIN)/pytest --ignore=tests/e2e --ignore=tests/faults $(PYTEST_ARGS)

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

# Installs exactly the lock files: every transitive dependency pinned with its hashes.
# requirements*.txt list what we ask for; `make lock` resolves them into requirements*.lock.
$(VENV)/.installed: requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes --no-deps -r requirements.lock
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed requirements-test.lock
	$(BIN)/pip install --quiet --require-hashes --no-deps -r requirements-test.lock
	touch $@

# Refresh the lock files after editing requirements*.txt (or to take patch releases):
# resolves on this machine's Python 3.11 and records every file's hash.
LOCK_VENV := var/lock-venv
PIP_COMPILE := $(LOCK_VENV)/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links
lock:
	test -x $(LOCK_VENV)/bin/pip-compile || ($(PYTHON) -m venv $(LOCK_VENV) && $(LOCK_VENV)/bin/pip install --quiet pip-tools==7.6.2)
	$(PIP_COMPILE) $(LOCK_ARGS) -o requirements.lock requirements.txt
	$(PIP_COMPILE) $(LOCK_ARGS) -o requirements-test.lock requirements-test.txt
	$(PIP_COMPILE) $(LOCK_ARGS) -o requirements-scale.lock requirements-scale.txt

system-packages:
	@missing=""; for pkg in $(SYSTEM_PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$pkg 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$pkg"; \
	done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = "0" ]; then \
			echo "Installing system packages:$$missing"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
		else \
			echo "Missing system packages:$$missing"; \
			echo "Install them with: sudo apt-get install -y$$missing"; \
			exit 1; \
		fi; \
	fi

messages: install
	$(MANAGE) compilemessages --ignore=.venv --verbosity 0

migrate: install
	@mkdir -p var
	$(MANAGE) migrate --noinput --verbosity 0

pki: install
	$(MANAGE) init_pki

seed: migrate pki
	$(MANAGE) seed_demo

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Several daphne processes behind nginx, sharing PostgreSQL and Redis (both must run),
# with two Janus servers on loopback and coturn (docs/media.md, Beyond one machine):
# rooms/server/cluster.py, through the rooms app's run_cluster command.
CLUSTER_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/mediation_cluster
CLUSTER_REDIS_URL ?= redis://127.0.0.1:6379/1
run-cluster: install messages
	psql "$(subst /mediation_cluster,/postgres,$(CLUSTER_DATABASE_URL))" -tc "SELECT 1 FROM pg_database WHERE datname = 'mediation_cluster'" | grep -q 1 \
		|| psql "$(subst /mediation_cluster,/postgres,$(CLUSTER_DATABASE_URL))" -c "CREATE DATABASE mediation_cluster"
	DATABASE_URL=$(CLUSTER_DATABASE_URL) REDIS_URL=$(CLUSTER_REDIS_URL) $(MANAGE) migrate --noinput --verbosity 0
	DATABASE_URL=$(CLUSTER_DATABASE_URL) REDIS_URL=$(CLUSTER_REDIS_URL) $(MANAGE) init_pki
	DATABASE_URL=$(CLUSTER_DATABASE_URL) REDIS_URL=$(CLUSTER_REDIS_URL) $(MANAGE) seed_demo
	DATABASE_URL=$(CLUSTER_DATABASE_URL) REDIS_URL=$(CLUSTER_REDIS_URL) DJANGO_ALLOWED_HOSTS=127.0.0.1,localhost \
		$(MANAGE) run_cluster --workers 3 --port 8080 --janus 2

bench-desk: install-test
	$(BIN)/python benchmarks/desk.py

bench-rooms: install-test
	$(BIN)/python benchmarks/rooms.py

bench-documents: install-test
	$(BIN)/python benchmarks/documents.py

# Janus (pinned to CPU 0) forwarding Chromium's fake camera to 5, 10, 20 and 40 aiortc
# subscribers (CPU 1): docs/performance.md, "Media server (Janus)".
bench-media: install-test system-packages
	$(BIN)/python benchmarks/media.py

# The browser tests inject axe-core from here; `npm ci` installs the locked versions.
frontend/node_modules/.installed: frontend/package.json frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Refresh the vendored libraries from the npm registry (then commit static/vendor).
# janus.js is the package's global build (npm/src; npm/dist is an ES module); it carries
# its MIT licence in its header (the package's COPYING is the Janus server's GPL).
vendor: frontend/node_modules/.installed
	cp frontend/node_modules/chart.js/dist/chart.umd.min.js frontend/static/vendor/chart.js/
	cp frontend/node_modules/chart.js/LICENSE.md frontend/static/vendor/chart.js/
	cp frontend/node_modules/signature_pad/dist/signature_pad.umd.min.js frontend/static/vendor/signature_pad/
	cp frontend/node_modules/signature_pad/LICENSE frontend/static/vendor/signature_pad/
	mkdir -p frontend/static/vendor/janus-gateway frontend/static/vendor/webrtc-adapter
	cp frontend/node_modules/janus-gateway/npm/src/janus.js frontend/static/vendor/janus-gateway/
	sed -n '/^\/\*/,/^ \*\//{p;/^ \*\//q}' frontend/node_modules/janus-gateway/npm/src/janus.js > frontend/static/vendor/janus-gateway/LICENSE
	cp frontend/node_modules/webrtc-adapter/out/adapter.js frontend/static/vendor/webrtc-adapter/
	cp frontend/node_modules/webrtc-adapter/LICENSE.md frontend/static/vendor/webrtc-adapter/
	sed -i '/^\/\/# sourceMappingURL=/d' frontend/static/vendor/*/*.js

clean:
	rm -rf var/db.sqlite3 var/static var/media
