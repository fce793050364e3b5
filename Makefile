# `make run` and `make test` do all set-up on a fresh machine.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
export DJANGO_SETTINGS_MODULE ?= config.settings.local

# Debian packages the platform needs: Pango for WeasyPrint, CJK fonts for the PDFs,
# gettext to compile translations, Chromium for the browser tests, nginx for the
# several-process cluster (make run-cluster and its tests).
SYSTEM_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 fonts-noto-cjk gettext chromium nginx-light

# WebSocket limits set explicitly: a client frame is at most 64 KiB (a message body is
# at most 4,000 characters), and a silent peer is dropped within 35 s, so presence
# shows a frozen client offline soon.
DAPHNE_FLAGS := --websocket-max-message-size 65536 --websocket-max-frame-size 65536 --ping-interval 15 --ping-timeout 20

.PHONY: run test install install-test system-packages messages migrate pki seed run-cluster lint bench-desk bench-rooms bench-documents vendor clean

run: install system-packages messages migrate seed
	@echo ""
	@echo "Serving on http://127.0.0.1:8000  (demo logins above, password mediate-demo-2026)"
	$(BIN)/daphne $(DAPHNE_FLAGS) -b 127.0.0.1 -p 8000 config.asgi:application

test: install-test system-packages messages frontend/node_modules/.installed
	DJANGO_SETTINGS_MODULE=config.settings.test $(BIN)/pytest $(PYTEST_ARGS)

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

$(VENV)/.installed: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed requirements-test.txt
	$(BIN)/pip install --quiet -r requirements-test.txt
	touch $@

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

# Several daphne processes behind nginx, sharing PostgreSQL and Redis (both must run).
CLUSTER_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/mediation_cluster
CLUSTER_REDIS_URL ?= redis://127.0.0.1:6379/1
run-cluster: install messages
	psql "$(subst /mediation_cluster,/postgres,$(CLUSTER_DATABASE_URL))" -tc "SELECT 1 FROM pg_database WHERE datname = 'mediation_cluster'" | grep -q 1 \
		|| psql "$(subst /mediation_cluster,/postgres,$(CLUSTER_DATABASE_URL))" -c "CREATE DATABASE mediation_cluster"
	DATABASE_URL=$(CLUSTER_DATABASE_URL) REDIS_URL=$(CLUSTER_REDIS_URL) $(MANAGE) migrate --noinput --verbosity 0
	DATABASE_URL=$(CLUSTER_DATABASE_URL) REDIS_URL=$(CLUSTER_REDIS_URL) $(MANAGE) init_pki
	DATABASE_URL=$(CLUSTER_DATABASE_URL) REDIS_URL=$(CLUSTER_REDIS_URL) $(MANAGE) seed_demo
	DATABASE_URL=$(CLUSTER_DATABASE_URL) REDIS_URL=$(CLUSTER_REDIS_URL) DJANGO_ALLOWED_HOSTS=127.0.0.1,localhost \
		$(MANAGE) run_cluster --workers 3 --port 8080

bench-desk: install-test
	$(BIN)/python benchmarks/desk.py

bench-rooms: install-test
	$(BIN)/python benchmarks/rooms.py

bench-documents: install-test
	$(BIN)/python benchmarks/documents.py

# The browser tests inject axe-core from here; `npm ci` installs the locked versions.
frontend/node_modules/.installed: frontend/package.json frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Refresh the vendored libraries from the npm registry (then commit static/vendor).
vendor: frontend/node_modules/.installed
	cp frontend/node_modules/chart.js/dist/chart.umd.min.js frontend/static/vendor/chart.js/
	cp frontend/node_modules/chart.js/LICENSE.md frontend/static/vendor/chart.js/
	cp frontend/node_modules/signature_pad/dist/signature_pad.umd.min.js frontend/static/vendor/signature_pad/
	cp frontend/node_modules/signature_pad/LICENSE frontend/static/vendor/signature_pad/
	sed -i '/^\/\/# sourceMappingURL=/d' frontend/static/vendor/*/*.js

clean:
	rm -rf var/db.sqlite3 var/static var/media
